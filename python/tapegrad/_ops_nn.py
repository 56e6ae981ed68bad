"""Python side of tf.nn's convolution, pooling and dropout: TF's argument handling (strides,
dilations, padding, data formats) around the engine's conv/pool primitives, and dropout's mask
drawn from tg.random's seeds. ``tg.nn`` (nn.py) imports its names from here."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np

from . import _core, random
from ._core import InvalidArgumentError
from ._custom_gradient import custom_gradient
from ._ops import cast, constant, multiply, reshape, transpose
from ._ops_linalg import _shape_str, _t, einsum
from ._ops_math import _attr_t_error, _kernel_name, add_n
from ._ops_shape import concat, expand_dims, gather, pad, unsorted_segment_sum
from ._tensor import Tensor
from ._typing import TensorLike
from .errors import UnimplementedError

# ---- convolution and pooling -------------------------------------------------------------------


def _int_list(v, n, what, data_format=None):
    """TF's _get_sequence: an int or a list of 1, n or n+2 ints -> n ints (spatial)."""
    if v is None:
        return [1] * n
    if isinstance(v, (numbers.Integral, np.integer)):
        return [int(v)] * n
    v = [int(i) for i in v]
    if len(v) == 1:
        return v * n
    if len(v) == n:
        return v
    if len(v) == n + 2:
        channels_last = data_format is None or not data_format.startswith("NC")
        outer = [v[0], v[-1]] if channels_last else [v[0], v[1]]
        if outer != [1, 1]:
            raise InvalidArgumentError(
                f"Current implementation does not yet support {what} in the batch and depth dimensions."
            )
        return v[1:-1] if channels_last else v[2:]
    raise ValueError(f"{what} should be of length 1, {n} or {n + 2}. Received: {what}={v} of length {len(v)}")


def _get_sequence(value, n, channel_index, name):
    """TF's _get_sequence: None, an int or a list of 1, n or n + 2 ints -> n + 2 ints (a list of
    n + 2 is returned as given; the op's kernel checks its batch and channel entries)."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, Tensor):
        value = np.asarray(value).reshape(-1).tolist()
    elif isinstance(value, (list, tuple)):
        value = list(value)
    elif isinstance(value, (numbers.Integral, np.integer)) or not hasattr(value, "__len__"):
        value = [value]
    else:
        value = list(value)
    if len(value) == n + 2:
        return [int(v) for v in value]
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(
            f"{name} should be of length 1, {n} or {n + 2}. Received: {name}={value} of length {len(value)}"
        )
    value = [int(v) for v in value]
    return [1, 1] + value if channel_index == 1 else [1] + value + [1]


def _pads(padding, in_sizes, k_sizes, strides, dilations, data_format, n):
    """[pt, pb, pl, pr] from TF's padding argument (SAME, VALID or explicit pairs)."""
    if isinstance(padding, str):
        if padding == "VALID":
            return [0] * (2 * n)
        if padding == "SAME":
            out = []
            for i, k, s, d in zip(in_sizes, k_sizes, strides, dilations):
                eff = (k - 1) * d + 1
                o = -(-i // s)
                total = max((o - 1) * s + eff - i, 0)
                out += [total // 2, total - total // 2]
            return out
        raise InvalidArgumentError(
            f"Value for attr 'padding' of \"{padding}\" is not in the list of allowed values: "
            f'"SAME", "VALID", "EXPLICIT"'
        )
    pairs = [list(p) for p in padding]
    if len(pairs) != n + 2 or any(len(p) != 2 for p in pairs):
        raise ValueError(f"padding should be SAME, VALID or a list of {n + 2} pairs, got {padding}")
    channels_last = data_format is None or not data_format.startswith("NC")
    outer = [pairs[0], pairs[-1]] if channels_last else [pairs[0], pairs[1]]
    if any(v != 0 for p in outer for v in p):
        raise ValueError(f"padding in the batch and depth dimensions must be 0, got {padding}")
    spatial = pairs[1:-1] if channels_last else pairs[2:]
    return [int(v) for p in spatial for v in p]


def _check_format(data_format, allowed):
    if data_format not in allowed:
        raise ValueError(f"data_format must be one of {allowed}, got {data_format!r}")


def conv2d(
    input: TensorLike,
    filters: TensorLike,
    strides: Any,
    padding: str,
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """2-D convolution (cross-correlation, as TF) of ``[N, H, W, C]`` input with ``[KH, KW, C, O]``
    filters. `padding`: "SAME", "VALID" or explicit ``[[0, 0], [t, b], [l, r], [0, 0]]``.

    >>> import tapegrad as tg
    >>> tg.nn.conv2d(tg.ones([1, 4, 4, 1]), tg.ones([3, 3, 1, 2]), 1, "SAME").shape
    TensorShape([1, 4, 4, 2])
    """
    _check_format(data_format, ("NHWC", "NCHW"))
    x, w = _t(input), _t(filters)
    st = _int_list(strides, 2, "strides", data_format)
    dl = _int_list(dilations, 2, "dilations", data_format)
    if data_format == "NCHW" and len(x.shape) == 4:
        y = conv2d(
            transpose(x, [0, 2, 3, 1]),
            w,
            st,
            padding if isinstance(padding, str) else [padding[0], padding[2], padding[3], padding[1]],
            "NHWC",
            dl,
        )
        return transpose(y, [0, 3, 1, 2])
    if len(x.shape) == 4 and len(w.shape) == 4:
        c, cin = int(x.shape[3]), int(w.shape[2])
        if cin > 0 and c % cin == 0 and c != cin:
            w = _grouped_filter(w, c)
        pads = _pads(
            padding, [int(x.shape[1]), int(x.shape[2])], [int(w.shape[0]), int(w.shape[1])], st, dl, data_format, 2
        )
    else:
        pads = [0, 0, 0, 0]  # the engine reports the rank error
    return _core._conv2d(x, w, st, dl, pads)


def _grouped_filter(w, c):
    """A grouped conv's filter [KH, KW, C/G, O] as the block-diagonal [KH, KW, C, O] filter of an
    ordinary conv (differentiable; costs G times the FLOPs of a grouped kernel)."""
    cin, o = int(w.shape[2]), int(w.shape[3])
    groups = c // cin
    if o % groups != 0:
        raise InvalidArgumentError(
            f"output depth must be evenly divisible by number of groups: {o} vs {groups} [Op:Conv2D]"
        )
    sel = np.zeros((c, cin))
    sel[np.arange(c), np.arange(c) % cin] = 1.0
    mask = (np.arange(c)[:, None] // cin) == (np.arange(o)[None, :] // (o // groups))
    full = einsum("hwio,ci->hwco", w, constant(sel, dtype=w.dtype))
    return multiply(full, constant(mask.astype(np.float64), dtype=w.dtype))


def depthwise_conv2d(
    input: TensorLike,
    filter: TensorLike,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Depthwise 2-D convolution (``tf.nn.depthwise_conv2d``): input channel c is convolved with
    ``filter[:, :, c, :]``, giving ``C * M`` output channels (channel ``c * M + m``). `strides` is a
    list of 4. Direct loops (DepthwiseConv2dNative and its two backward primitives)."""
    data_format = data_format or "NHWC"
    _check_format(data_format, ("NHWC", "NCHW"))
    x, w = _t(input), _t(filter)
    if isinstance(strides, (numbers.Integral, np.integer)) or len(list(strides)) != 4:
        raise TypeError(
            f"Expected list of 4 ints for 'strides' argument to 'depthwise_conv2d_native' Op, not {strides}."
        )
    if len(w.shape) != 4:
        raise InvalidArgumentError(f"filter must be 4-dimensional: {_shape_str(w)} [Op:DepthwiseConv2dNative]")
    if len(x.shape) != 4:
        raise InvalidArgumentError(f"input must be 4-dimensional{_shape_str(x)} [Op:DepthwiseConv2dNative]")
    c = int(x.shape[3] if data_format == "NHWC" else x.shape[1])
    kh, kw, cf, mult = (int(d) for d in w.shape)
    if cf != c:
        raise InvalidArgumentError(
            f"input depth must be evenly divisible by filter depth: {c} vs {cf} [Op:DepthwiseConv2dNative]"
        )
    st = _int_list(list(strides), 2, "strides", data_format)
    dl = _int_list(dilations, 2, "dilations", data_format)
    if data_format == "NCHW":
        pad = padding if isinstance(padding, str) else [padding[0], padding[2], padding[3], padding[1]]
        y = depthwise_conv2d(transpose(x, [0, 2, 3, 1]), w, [1] + st + [1], pad, "NHWC", dl)
        return transpose(y, [0, 3, 1, 2])
    pads = _pads(padding, [int(x.shape[1]), int(x.shape[2])], [kh, kw], st, dl, data_format, 2)
    return _core._depthwise_conv2d(x, w, st, dl, pads)


def separable_conv2d(
    input: TensorLike,
    depthwise_filter: TensorLike,
    pointwise_filter: TensorLike,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Depthwise conv followed by a 1x1 conv (``tf.nn.separable_conv2d``)."""
    data_format = data_format or "NHWC"
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv2d(y, pointwise_filter, 1, "VALID", data_format)


def conv2d_transpose(
    input: TensorLike,
    filters: TensorLike,
    output_shape: Any,
    strides: Any,
    padding: str = "SAME",
    data_format: str = "NHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The gradient of conv2d with respect to its input (``tf.nn.conv2d_transpose``); filters are
    ``[KH, KW, out_channels, in_channels]``."""
    _check_format(data_format, ("NHWC",))
    x, w = _t(input), _t(filters)
    out_shape = [
        int(v) for v in (np.asarray(output_shape).tolist() if isinstance(output_shape, Tensor) else output_shape)
    ]
    if len(out_shape) != 4:
        raise ValueError(f"output_shape must have length 4, got {out_shape}")
    st = _int_list(strides, 2, "strides", data_format)
    dl = _int_list(dilations, 2, "dilations", data_format)
    if len(w.shape) != 4:
        raise InvalidArgumentError(f"filter must be 4-dimensional{list(w.shape)} [Op:Conv2DBackpropInput]")
    pads = _pads(padding, out_shape[1:3], [int(w.shape[0]), int(w.shape[1])], st, dl, data_format, 2)
    return _core._conv2d_backprop_input(out_shape, w, x, st, dl, pads)


def conv1d(
    input: TensorLike,
    filters: TensorLike,
    stride: Any,
    padding: str,
    data_format: str = "NWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """1-D convolution of ``[N, W, C]`` input with ``[K, C, O]`` filters (``tf.nn.conv1d``)."""
    _check_format(data_format, ("NWC", "NCW"))
    x, w = _t(input), _t(filters)
    if len(x.shape) != 3:
        raise ValueError(f"conv1d: input must be 3-dimensional [batch, width, channels], got shape {list(x.shape)}")
    if len(w.shape) != 3:
        raise ValueError(
            f"conv1d: filters must be 3-dimensional [width, in_channels, out_channels], got shape {list(w.shape)}"
        )
    if data_format == "NCW":
        x = transpose(x, [0, 2, 1])
    s = _int_list(stride, 1, "stride", data_format)
    d = _int_list(dilations, 1, "dilations", data_format)
    if not isinstance(padding, str):
        pairs = [list(p) for p in padding]
        padding = [[0, 0], [0, 0]] + ([pairs[1], [0, 0]] if data_format == "NWC" else [pairs[2], [0, 0]])
        padding = [padding[0], padding[1], padding[2], padding[3]]
    x4 = reshape(x, [int(x.shape[0]), 1, int(x.shape[1]), int(x.shape[2])])
    w4 = reshape(w, [1] + [int(v) for v in w.shape])
    y = conv2d(x4, w4, [1, s[0]], padding, "NHWC", [1, d[0]])
    y = reshape(y, [int(y.shape[0]), int(y.shape[2]), int(y.shape[3])])
    return transpose(y, [0, 2, 1]) if data_format == "NCW" else y


def conv1d_transpose(
    input: TensorLike,
    filters: TensorLike,
    output_shape: Any,
    strides: Any,
    padding: str = "SAME",
    data_format: str = "NWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The gradient of conv1d with respect to its input (``tf.nn.conv1d_transpose``); filters are
    ``[K, out_channels, in_channels]``."""
    _check_format(data_format, ("NWC",))
    x, w = _t(input), _t(filters)
    out_shape = [
        int(v) for v in (np.asarray(output_shape).tolist() if isinstance(output_shape, Tensor) else output_shape)
    ]
    if len(x.shape) != 3 or len(w.shape) != 3 or len(out_shape) != 3:
        raise ValueError(
            f"conv1d_transpose: input, filters and output_shape must be 3-dimensional, got "
            f"{_shape_str(x)}, {_shape_str(w)} and {out_shape}"
        )
    s = _int_list(strides, 1, "strides", data_format)
    d = _int_list(dilations, 1, "dilations", data_format)
    x4 = reshape(x, [int(x.shape[0]), 1, int(x.shape[1]), int(x.shape[2])])
    w4 = reshape(w, [1] + [int(v) for v in w.shape])
    y = conv2d_transpose(x4, w4, [out_shape[0], 1, out_shape[1], out_shape[2]], [1, s[0]], padding, "NHWC", [1, d[0]])
    return reshape(y, out_shape)


def convolution(
    input: TensorLike,
    filters: TensorLike,
    strides: Any = None,
    padding: str = "VALID",
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """N-d convolution dispatching on the filters' rank (``tf.nn.convolution``): 3-D filters ->
    conv1d, 4-D -> conv2d, 5-D -> conv3d. `strides` and `dilations`: an int or a list of 1, N or N + 2.

    >>> import tapegrad as tg
    >>> tg.nn.convolution(tg.ones([1, 4, 4, 4, 2]), tg.ones([3, 3, 3, 2, 5]), padding="SAME").shape
    TensorShape([1, 4, 4, 4, 5])
    """
    x, w = _t(input), _t(filters)
    n = len(w.shape) - 2
    if n not in (1, 2, 3):
        raise ValueError(f"`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims={n}.")
    channels_last = data_format is None or not data_format.startswith("NC")
    channel_index = n + 1 if channels_last else 1
    dl = _get_sequence(dilations, n, channel_index, "dilations")
    st = _get_sequence(strides, n, channel_index, "strides")
    spatial = slice(1, -1) if channels_last else slice(2, None)
    if any(d != 1 for d in dl):  # TF's dilated path (tf.nn.Convolution) takes spatial values only
        s_sp, d_sp = np.array(st[spatial], np.int32), np.array(dl[spatial], np.int32)
        if np.any(s_sp < 1):
            raise ValueError(f"all values of `strides` must be positive. Received: strides={s_sp}")
        if np.any(d_sp < 1):
            raise ValueError(f"all values of `dilation_rate` must be positive. Received: dilation_rate={d_sp}")
        if np.any(s_sp > 1) and np.any(d_sp > 1):
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={s_sp} and dilation_rate={d_sp}"
            )
    if n == 1:
        return conv1d(x, w, st, padding, data_format or "NWC", dl)
    if n == 2:
        return conv2d(x, w, st, padding, data_format or "NHWC", dl)
    return conv3d(x, w, st, padding, data_format or "NDHWC", dl)


def conv_transpose(
    input: TensorLike,
    filters: TensorLike,
    output_shape: Any,
    strides: Any,
    padding: str = "SAME",
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Transposed convolution dispatching on the length of `output_shape` (``tf.nn.conv_transpose``):
    3 -> conv1d_transpose, 4 -> conv2d_transpose, 5 -> conv3d_transpose."""
    if isinstance(output_shape, Tensor):
        n = int(output_shape.shape[0]) - 2 if len(output_shape.shape) == 1 else -1
    elif hasattr(output_shape, "__len__"):
        n = len(output_shape) - 2
    else:
        raise ValueError(f"`output_shape` must be a tensor or sized collection. Received: output_shape={output_shape}")
    if not 1 <= n <= 3:
        raise ValueError(
            f"`output_shape` must be of length 3, 4 or 5. Received: output_shape={output_shape} of length {n + 2}."
        )
    op = (conv1d_transpose, conv2d_transpose, conv3d_transpose)[n - 1]
    default_format = ("NWC", "NHWC", "NDHWC")[n - 1]
    return op(input, filters, output_shape, strides, padding, data_format or default_format, dilations)


def atrous_conv2d(value: TensorLike, filters: TensorLike, rate: Any, padding: str, name: str | None = None) -> Tensor:
    """Dilated 2-D convolution with stride 1 (``tf.nn.atrous_conv2d``)."""
    return conv2d(value, filters, 1, padding, "NHWC", [int(rate), int(rate)])


def pool(
    input: TensorLike,
    window_shape: Any,
    pooling_type: str,
    strides: Any = None,
    padding: str = "VALID",
    data_format: str | None = None,
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """Max or average pooling dispatching on rank (``tf.nn.pool``: 1-D, 2-D or 3-D windows); dilations
    must be 1."""
    if dilations is not None and any(int(v) != 1 for v in np.atleast_1d(dilations)):
        raise NotImplementedError("tg.nn.pool: dilated pooling is not supported")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    x = _t(input)
    window_shape = [int(v) for v in window_shape]
    if len(x.shape) != len(window_shape) + 2:
        raise ValueError(f"Shape {x.shape} must have rank {len(window_shape) + 2}")
    fn = max_pool if pooling_type == "MAX" else avg_pool
    return fn(x, window_shape, [1] * len(window_shape) if strides is None else strides, padding, data_format)


def _pool2d(fn, input, ksize, strides, padding, data_format):
    _check_format(data_format, ("NHWC", "NCHW"))
    x = _t(input)
    ks = _int_list(ksize, 2, "ksize", data_format)
    st = _int_list(strides, 2, "strides", data_format)
    if not isinstance(padding, str):
        if fn is not _core._max_pool2d:  # TF's AvgPool takes no explicit padding
            raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
        return _max_pool2d_explicit(x, ks, st, padding, data_format)
    if data_format == "NCHW" and len(x.shape) == 4:
        return transpose(_pool2d(fn, transpose(x, [0, 2, 3, 1]), ks, st, padding, "NHWC"), [0, 3, 1, 2])
    if len(x.shape) == 4:
        pads = _pads(padding, [int(x.shape[1]), int(x.shape[2])], ks, st, [1, 1], data_format, 2)
    else:
        pads = [0, 0, 0, 0]  # the engine reports the rank error
    return fn(x, ks, st, pads)


def _max_pool2d_explicit(x, ks, st, padding, data_format):
    """Max pooling with TF's explicit padding ``[[0, 0], [top, bottom], [left, right], [0, 0]]``
    (NHWC order; NCHW: the pairs in NCHW order): the input padded with -inf, then VALID windows,
    so padding never wins a window and gets no gradient (TF's MaxPool EXPLICIT)."""
    pairs = [[int(v) for v in p] for p in padding]
    if len(pairs) != 4:
        raise ValueError(
            f"When padding is a list, it must be of size 4. Received: padding={padding} of size {len(pairs)}"
        )
    if any(v < 0 for p in pairs for v in p):
        raise InvalidArgumentError("All elements of explicit_paddings must be nonnegative [Op:MaxPool]")
    outer, spatial = ([pairs[0], pairs[3]], pairs[1:3]) if data_format == "NHWC" else ([pairs[0], pairs[1]], pairs[2:])
    if any(v for p in outer for v in p):
        raise InvalidArgumentError(
            "Nonzero explicit padding in the batch or depth dimensions is not supported [Op:MaxPool]"
        )
    for (lo, hi), k, (first, second) in zip(spatial, ks, (("Top", "Bottom"), ("Left", "Right"))):
        for side, v in ((first, lo), (second, hi)):
            if v >= k:
                raise InvalidArgumentError(
                    f"{side} padding {v} needs to be smaller than the window size {k} [Op:MaxPool]"
                )
    from ._ops_shape import pad

    if data_format == "NCHW":
        x = transpose(x, [0, 2, 3, 1])
    dt = x.dtype.as_numpy_dtype
    lowest = -np.inf if np.issubdtype(dt, np.floating) else np.iinfo(dt).min
    xp = pad(x, [[0, 0], spatial[0], spatial[1], [0, 0]], constant_values=lowest)
    y = _core._max_pool2d(xp, ks, st, [0, 0, 0, 0])
    return transpose(y, [0, 3, 1, 2]) if data_format == "NCHW" else y


def max_pool2d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    """Max pooling over ``[N, H, W, C]`` (``tf.nn.max_pool2d``); the gradient goes to the first
    maximum of each window. `padding` is "SAME", "VALID" or TF's explicit list of 4 pairs."""
    return _pool2d(_core._max_pool2d, input, ksize, strides, padding, data_format)


def avg_pool2d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NHWC", name: str | None = None
) -> Tensor:
    """Average pooling over ``[N, H, W, C]`` (``tf.nn.avg_pool2d``); SAME windows average only the
    in-image elements, as TF."""
    return _pool2d(_core._avg_pool2d, input, ksize, strides, padding, data_format)


def _pool1d(fn2d, input, ksize, strides, padding, data_format):
    _check_format(data_format, ("NWC", "NCW"))
    x = _t(input)
    if len(x.shape) != 3:
        raise ValueError(f"pool1d: input must be 3-dimensional, got shape {list(x.shape)}")
    if data_format == "NCW":
        x = transpose(x, [0, 2, 1])
    k = _int_list(ksize, 1, "ksize", data_format)
    s = _int_list(strides, 1, "strides", data_format)
    if not isinstance(padding, str) and fn2d is max_pool2d:  # explicit pairs: [N, W, C] order -> NHWC
        pairs = [list(p) for p in padding]
        if len(pairs) != 3:
            raise ValueError(
                f"When padding is a list, it must be of size 3. Received: padding={padding} of size {len(pairs)}"
            )
        n_, c_, w_ = (pairs[0], pairs[2], pairs[1]) if data_format == "NWC" else (pairs[0], pairs[1], pairs[2])
        padding = [n_, [0, 0], w_, c_]
    y = fn2d(reshape(x, [int(x.shape[0]), 1, int(x.shape[1]), int(x.shape[2])]), [1, k[0]], [1, s[0]], padding)
    y = reshape(y, [int(y.shape[0]), int(y.shape[2]), int(y.shape[3])])
    return transpose(y, [0, 2, 1]) if data_format == "NCW" else y


def max_pool1d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NWC", name: str | None = None
) -> Tensor:
    """Max pooling over ``[N, W, C]`` (``tf.nn.max_pool1d``)."""
    return _pool1d(max_pool2d, input, ksize, strides, padding, data_format)


def avg_pool1d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NWC", name: str | None = None
) -> Tensor:
    """Average pooling over ``[N, W, C]`` (``tf.nn.avg_pool1d``)."""
    return _pool1d(avg_pool2d, input, ksize, strides, padding, data_format)


def _pool_nd(pool1, pool2, pool3, input, ksize, strides, padding, data_format):
    x = _t(input)
    n = len(x.shape) - 2
    if not 1 <= n <= 3:
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: input.shape={x.shape} of rank {n + 2}.")
    if n == 3:
        return pool3(x, ksize, strides, padding, data_format)
    if n == 1:
        return pool1(x, ksize, strides, padding, data_format or "NWC")
    return pool2(x, ksize, strides, padding, data_format or "NHWC")


def max_pool(
    input: TensorLike,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    name: str | None = None,
) -> Tensor:
    """Max pooling for 3-D, 4-D or 5-D inputs (``tf.nn.max_pool``)."""
    return _pool_nd(max_pool1d, max_pool2d, max_pool3d, input, ksize, strides, padding, data_format)


def avg_pool(
    input: TensorLike,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    name: str | None = None,
) -> Tensor:
    """Average pooling for 3-D, 4-D or 5-D inputs (``tf.nn.avg_pool``)."""
    return _pool_nd(avg_pool1d, avg_pool2d, avg_pool3d, input, ksize, strides, padding, data_format)


# ---- 3-D convolution and pooling ----------------------------------------------------------------
# See Note [3-D from 2-D]: the engine has 2-D conv and pool primitives only. A 3-D op is written
# with them and differentiable shape ops, so its gradients (of every order) come from the tape:
#   conv3d: the kd depth taps are strided depth slices of the (depth-padded) input; concatenated on
#     the channel axis, with the output depth folded into the batch, they meet the kernel reshaped
#     to [kh, kw, kd * C, O] in ONE conv2d (the im2col a native 3-D kernel would build, one GEMM).
#   conv3d_transpose: the adjoint, in the same order: one conv2d_transpose to [kd * C] channels,
#     then each tap's slab is spread back onto its depth positions (stride zeros, offset i * dd).
#   pools: a 2-D pool over (H, W) with the depth folded into the batch, then a 2-D pool with a
#     [kd, 1] window over (D, H * W). Max and the padding-excluding mean are separable over a box.
#     max_pool3d's gradient is its own (TF's rule for ties: _max_pool3d_grad).

_FORMATS_3D = '"NDHWC", "NCDHW"'


def _list_attr(value, name, op):
    """A ``list(int)`` attr of a 3-D op (min length 5), as TF's op builder checks it."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"Expected list for '{name}' argument to '{op}' Op, not {value!r}.")
    if len(value) < 5:
        raise InvalidArgumentError(f"Length for attr '{name}' of {len(value)} must be at least minimum 5")
    return [int(v) for v in value]


def _string_attrs_3d(padding, data_format):
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    if padding not in ("SAME", "VALID"):
        raise InvalidArgumentError(
            f'Value for attr \'padding\' of "{padding}" is not in the list of allowed values: "SAME", "VALID"'
        )
    if data_format not in ("NDHWC", "NCDHW"):
        raise InvalidArgumentError(
            f"Value for attr 'data_format' of \"{data_format}\" is not in the list of allowed values: {_FORMATS_3D}"
        )


def _float_pair(a, b, op, index):
    """TF's dtype checks for an op whose `T` comes from input `a` and is shared with input #index `b`."""
    if not a.dtype.is_floating:
        raise _attr_t_error(a.dtype, "half, bfloat16, float, double", op)
    if b.dtype != a.dtype:
        raise InvalidArgumentError(
            f"cannot compute {op} as input #{index}(zero-based) was expected to be a "
            f"{_kernel_name(a.dtype)} tensor but is a {_kernel_name(b.dtype)} tensor [Op:{op}]"
        )


def _spatial_3d(values, data_format, what, op, positive):
    """The three spatial entries of a 5-list (TF's kernel checks on the batch and channel entries)."""
    if len(values) != 5:
        field = {"strides": "Sliding window strides", "dilations": "Dilation rates"}[what]
        raise InvalidArgumentError(f"{field} field must specify 5 dimensions [Op:{op}]")
    outer = [values[0], values[1]] if data_format == "NCDHW" else [values[0], values[4]]
    if outer != [1, 1]:
        kind = "strides" if what == "strides" else "dilation rates"
        raise InvalidArgumentError(
            f"Current implementation does not yet support {kind} in the batch and depth dimensions. [Op:{op}]"
        )
    spatial = values[2:] if data_format == "NCDHW" else values[1:4]
    if any(v <= 0 for v in spatial):
        raise InvalidArgumentError(positive + f" [Op:{op}]")
    return spatial


def _dims(x):
    return [int(v) for v in x.shape]


def _to_ndhwc(x):
    return transpose(x, [0, 2, 3, 4, 1])


def _to_ncdhw(x):
    return transpose(x, [0, 4, 1, 2, 3])


def _tap_filter(w, c):
    """[kd, kh, kw, C/G, O] -> [kh, kw, kd * C, O]: the taps on the channel axis (tap-major), a
    grouped filter first made block-diagonal (as conv2d's)."""
    kd, kh, kw, cin, o = _dims(w)
    if cin != c:
        w = reshape(_grouped_filter(reshape(w, [kd * kh, kw, cin, o]), c), [kd, kh, kw, c, o])
    return reshape(transpose(w, [1, 2, 0, 3, 4]), [kh, kw, kd * c, o])


def conv3d(
    input: TensorLike,
    filters: TensorLike,
    strides: Any,
    padding: str,
    data_format: str = "NDHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """3-D convolution (cross-correlation, as TF) of ``[N, D, H, W, C]`` input with ``[KD, KH, KW,
    C, O]`` filters (``tf.nn.conv3d``). `strides` and `dilations` are lists of 5 (batch and channel
    entries 1); `padding` is "SAME" or "VALID". Built from one 2-D convolution (See Note [3-D from
    2-D]); "NCDHW" transposes around it, and input channels a multiple of the filters' make a
    grouped convolution (as TF on GPU).

    >>> import tapegrad as tg
    >>> y = tg.nn.conv3d(tg.ones([1, 3, 4, 4, 2]), tg.ones([2, 2, 2, 2, 1]), [1, 1, 1, 1, 1], "VALID")
    >>> y.shape, float(y[0, 0, 0, 0, 0])
    (TensorShape([1, 2, 3, 3, 1]), 16.0)
    """
    op = "Conv3D"
    data_format = "NDHWC" if data_format is None else data_format
    st = _list_attr(strides, "strides", "conv3d")
    _string_attrs_3d(padding, data_format)
    dl = [1] * 5 if dilations is None else _list_attr(dilations, "dilations", "conv3d")
    x, w = _t(input), _t(filters)
    _float_pair(x, w, op, 1)
    st = _spatial_3d(st, data_format, "strides", op, "Spatial strides should be larger than 0.")
    dl = _spatial_3d(dl, data_format, "dilations", op, "Dilated rates should be larger than 0.")
    if len(x.shape) != 5:
        raise InvalidArgumentError(f"input must be 5-dimensional [Op:{op}]")
    if len(w.shape) != 5:
        raise InvalidArgumentError(f"filter must be 5-dimensional [Op:{op}]")
    if data_format == "NCDHW":
        x = _to_ndhwc(x)
    c, cin, o = int(x.shape[4]), int(w.shape[3]), int(w.shape[4])
    if cin == 0 or c % cin != 0:
        raise InvalidArgumentError(f"Input depth must be evenly divisible by filter depth: {c} vs {cin} [Op:{op}]")
    if o % (c // cin) != 0:
        raise InvalidArgumentError(
            f"output depth must be evenly divisible by number of groups: {o} vs {c // cin} [Op:{op}]"
        )
    y = _conv3d_ndhwc(x, w, st, dl, padding)
    return _to_ncdhw(y) if data_format == "NCDHW" else y


def _conv3d_ndhwc(x, w, st, dl, padding):
    n, d, h, wd, c = _dims(x)
    kd, kh, kw, _, o = _dims(w)
    pf, pb, pt, pbt, pl, pr = _pads(padding, [d, h, wd], [kd, kh, kw], st, dl, None, 3)
    if pf or pb:
        x = pad(x, [[0, 0], [pf, pb], [0, 0], [0, 0], [0, 0]])
        d += pf + pb
    out_d = max((d - (kd - 1) * dl[0] - 1) // st[0] + 1, 0)
    span = (out_d - 1) * st[0] + 1 if out_d else 0
    taps = [x[:, i * dl[0] : i * dl[0] + span : st[0]] for i in range(kd)]
    xs = concat(taps, axis=4) if kd > 1 else taps[0]
    y = _core._conv2d(reshape(xs, [n * out_d, h, wd, kd * c]), _tap_filter(w, c), st[1:], dl[1:], [pt, pbt, pl, pr])
    return reshape(y, [n, out_d] + _dims(y)[1:])


def _spread(z, stride, front, total):
    """[N, M, ...] -> [N, total, ...] with z[:, j] at depth front + j * stride, zeros elsewhere."""
    shape = _dims(z)
    m = shape[1]
    if stride > 1 and m > 1:  # zero insertion: [N, M, 1, ...] -> [N, M, stride, ...] -> [N, M * stride, ...]
        z = pad(expand_dims(z, 2), [[0, 0], [0, 0], [0, stride - 1]] + [[0, 0]] * (len(shape) - 2))
        z = reshape(z, [shape[0], m * stride] + shape[2:])
        length = (m - 1) * stride + 1
        z = z[:, :length]
    else:
        length = m
    return pad(z, [[0, 0], [front, total - front - length]] + [[0, 0]] * (len(shape) - 2))


def conv3d_transpose(
    input: TensorLike,
    filters: TensorLike,
    output_shape: Any,
    strides: Any,
    padding: str = "SAME",
    data_format: str = "NDHWC",
    dilations: Any = None,
    name: str | None = None,
) -> Tensor:
    """The gradient of conv3d with respect to its input (``tf.nn.conv3d_transpose``): `input` is
    ``[N, D, H, W, C_in]``, `filters` ``[KD, KH, KW, C_out, C_in]``, `output_shape` the 5 ints of the
    result. `strides` and `dilations`: an int or a list of 1, 3 or 5. Built from one 2-D transposed
    convolution (See Note [3-D from 2-D]).

    >>> import tapegrad as tg
    >>> tg.nn.conv3d_transpose(tg.ones([1, 2, 2, 2, 3]), tg.ones([3, 3, 3, 4, 3]), [1, 4, 4, 4, 4], 2).shape
    TensorShape([1, 4, 4, 4, 4])
    """
    op = "Conv3DBackpropInputV2"
    data_format = "NDHWC" if data_format is None else data_format
    channel_index = 1 if data_format.startswith("NC") else 4
    st = _get_sequence(strides, 3, channel_index, "strides")
    dl = _get_sequence(dilations, 3, channel_index, "dilations")
    _string_attrs_3d(padding, data_format)
    y, w = _t(input), _t(filters)
    _float_pair(w, y, op, 2)
    out_shape = [
        int(v) for v in (np.asarray(output_shape).tolist() if isinstance(output_shape, Tensor) else output_shape)
    ]
    st = _spatial_3d(st, data_format, "strides", op, "Stride must be > 0, but got 0")
    dl = _spatial_3d(dl, data_format, "dilations", op, "Dilated rates should be larger than 0.")
    if len(out_shape) != 5:
        raise InvalidArgumentError(f"input tensor must have 5 dimensions [Op:{op}]")
    if len(w.shape) != 5:
        raise InvalidArgumentError(f"filter_sizes tensor must have 5 dimensions [Op:{op}]")
    if len(y.shape) != 5:
        raise InvalidArgumentError(f"out_backprop tensor must have 5 dimensions [Op:{op}]")
    first = data_format == "NCDHW"
    if first:
        y = _to_ndhwc(y)
        out_shape = [out_shape[0]] + out_shape[2:] + [out_shape[1]]
    kd, kh, kw, c, o = _dims(w)
    if out_shape[4] != c:
        raise InvalidArgumentError(
            f"input and filter_sizes must have the same number of channels. Got {out_shape[4]} for input and "
            f"{c} for filter_sizes [Op:{op}]"
        )
    if int(y.shape[4]) != o:
        raise InvalidArgumentError(
            f"out_backprop and filter_sizes must have the same number of channels. Got {int(y.shape[4])} for "
            f"out_backprop and {o} for filter_sizes [Op:{op}]"
        )
    if out_shape[0] != int(y.shape[0]):
        raise InvalidArgumentError(
            f"Conv3DBackpropInputOp: input and out_backprop must have the same batch size. Input batch: "
            f"{out_shape[0]}, outbackprop batch: {int(y.shape[0])}, batch_dim: 0 [Op:{op}]"
        )
    pads = _pads(padding, out_shape[1:4], [kd, kh, kw], st, dl, None, 3)
    for i in range(3):
        size, k, s, dil = out_shape[1 + i], (kd, kh, kw)[i], st[i], dl[i]
        computed = -(-size // s) if padding == "SAME" else max((size - (k - 1) * dil - 1) // s + 1, 0)
        if computed != int(y.shape[1 + i]):
            raise InvalidArgumentError(
                f"Conv3DBackpropInputOp: Size of out_backprop doesn't match computed: actual = "
                f"{int(y.shape[1 + i])}, computed = {computed} spatial_dim: {i + 2 if first else i + 1} input: "
                f"{size} filter: {k} output: {int(y.shape[1 + i])} stride: {s} dilation: {dil} [Op:{op}]"
            )
    x = _conv3d_transpose_ndhwc(y, w, out_shape, st, dl, pads)
    return _to_ncdhw(x) if first else x


def _conv3d_transpose_ndhwc(y, w, out_shape, st, dl, pads):
    n, d, h, wd, c = out_shape
    kd = int(w.shape[0])
    out_d = int(y.shape[1])
    pf, pb, pt, pbt, pl, pr = pads
    z = _core._conv2d_backprop_input(
        [n * out_d, h, wd, kd * c],
        _tap_filter(w, c),
        reshape(y, [n * out_d] + _dims(y)[2:]),
        st[1:],
        dl[1:],
        [pt, pbt, pl, pr],
    )
    z = reshape(z, [n, out_d, h, wd, kd, c])
    total = d + pf + pb
    x = add_n([_spread(z[:, :, :, :, i], st[0], i * dl[0], total) for i in range(kd)]) if kd > 1 else None
    if x is None:
        x = _spread(z[:, :, :, :, 0], st[0], 0, total)
    return x[:, pf : pf + d] if pf or pb else x


def _pool3d(fn2d, op, input, ksize, strides, padding, data_format):
    data_format = "NDHWC" if data_format is None else data_format
    channel_index = 1 if data_format.startswith("NC") else 4
    ks = _get_sequence(ksize, 3, channel_index, "ksize")
    st = _get_sequence(strides, 3, channel_index, "strides")
    x = _t(input)
    if not x.dtype.is_floating:
        raise _attr_t_error(x.dtype, "half, bfloat16, float, double", op)
    _string_attrs_3d(padding, data_format)
    first = data_format == "NCDHW"
    for i, what in ((0, "batch"), (1 if first else 4, "depth")):
        if ks[i] != 1 or st[i] != 1:
            raise UnimplementedError(None, None, f"Pooling is not yet supported on the {what} dimension. [Op:{op}]")
    if len(x.shape) != 5:
        raise InvalidArgumentError(f"tensor_in must be 5-dimensional [Op:{op}]")
    ks, st = (ks[2:], st[2:]) if first else (ks[1:4], st[1:4])
    if any(k <= 0 for k in ks):
        raise InvalidArgumentError(f"Sliding window ksize field must have non-negative dimensions [Op:{op}]")
    for s in st:
        if s <= 0:
            raise InvalidArgumentError(f"Stride must be > 0, but got {s} [Op:{op}]")
    if first:
        x = _to_ndhwc(x)
    pads = _pads(padding, _dims(x)[1:4], ks, st, [1, 1, 1], None, 3)
    y = _max_pool3d_ndhwc(x, ks, st, pads) if op == "MaxPool3D" else _separable_pool(fn2d, x, ks, st, pads)
    return _to_ncdhw(y) if first else y


def _separable_pool(fn2d, x, ks, st, pads):
    n, d, h, w, c = _dims(x)
    pf, pb, pt, pbt, pl, pr = pads
    y = fn2d(reshape(x, [n * d, h, w, c]), ks[1:], st[1:], [pt, pbt, pl, pr])
    ho, wo = int(y.shape[1]), int(y.shape[2])
    y = fn2d(reshape(y, [n, d, ho * wo, c]), [ks[0], 1], [st[0], 1], [pf, pb, 0, 0])
    return reshape(y, [n, int(y.shape[1]), ho, wo, c])


def _max_pool3d_ndhwc(x, ks, st, pads):
    """The separable max (two engine max pools); the gradient by TF's MaxPool3DGrad rule, in which
    every element equal to its window's maximum gets that window's gradient (the 2-D pools' own
    gradient would give it to one maximum only)."""

    @custom_gradient
    def pool(x):
        y = _separable_pool(_core._max_pool2d, x, ks, st, pads)
        return y, lambda dy: _max_pool3d_grad(x, y, dy, ks, st, pads)

    return pool(x)


@functools.lru_cache(maxsize=64)
def _window_rows(padded, out, ks, st):
    """For every output position (row-major) and window offset: the flat index of the input element
    in the padded volume ([O * K] int32)."""
    grids = [np.arange(o)[:, None] * s + np.arange(k)[None, :] for o, k, s in zip(out, ks, st)]  # [o, k] each
    dd, hh, ww = grids
    flat = (dd[:, None, None, :, None, None] * padded[1] + hh[None, :, None, None, :, None]) * padded[2] + ww[
        None, None, :, None, None, :
    ]
    return flat.reshape(-1).astype(np.int32)


def _max_pool3d_grad(x, y, dy, ks, st, pads):
    """MaxPool3DGrad from gather/compare/segment-sum: the windows' elements are gathered from the
    (-inf padded) input laid out as [D * H * W, N * C] rows, each one equal to its window's max
    takes the window's gradient, and the rows are summed back per input element. Differentiable
    in `dy` (the mask is constant), so higher derivatives work."""
    n, d, h, w, c = _dims(x)
    out = _dims(y)[1:4]
    o, k = int(np.prod(out)), int(np.prod(ks))
    if o == 0 or n * c == 0:
        return multiply(x, constant(0, dtype=x.dtype))
    pf, pb, pt, pbt, pl, pr = pads
    padded = (d + pf + pb, h + pt + pbt, w + pl + pr)
    rows = _window_rows(padded, tuple(out), tuple(ks), tuple(st))
    xt = transpose(x, [1, 2, 3, 0, 4])
    if any(pads):
        xt = pad(xt, [[pf, pb], [pt, pbt], [pl, pr], [0, 0], [0, 0]], constant_values=float("-inf"))
    xt = reshape(xt, [int(np.prod(padded)), n * c])
    windows = reshape(gather(xt, constant(rows), axis=0), [o, k, n * c])
    yt = reshape(transpose(y, [1, 2, 3, 0, 4]), [o, 1, n * c])
    gt = reshape(transpose(dy, [1, 2, 3, 0, 4]), [o, 1, n * c])
    hits = multiply(gt, cast(_core.equal(windows, yt), x.dtype))
    gx = unsorted_segment_sum(reshape(hits, [o * k, n * c]), constant(rows), int(np.prod(padded)))
    gx = reshape(gx, list(padded) + [n, c])
    if any(pads):
        gx = gx[pf : pf + d, pt : pt + h, pl : pl + w]
    return transpose(gx, [3, 0, 1, 2, 4])


def max_pool3d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NDHWC", name: str | None = None
) -> Tensor:
    """Max pooling over ``[N, D, H, W, C]`` (``tf.nn.max_pool3d``); `ksize` and `strides`: an int or
    a list of 1, 3 or 5. SAME windows take the maximum over the in-volume elements. As TF's
    MaxPool3DGrad, a window's gradient goes to every element equal to its maximum (2-D max pooling
    gives it to the first one only). float64 is accepted (TF's CPU kernel: float32 only).

    >>> import tapegrad as tg
    >>> tg.nn.max_pool3d(tg.reshape(tg.range(8.0), [1, 2, 2, 2, 1]), 2, 2, "VALID").numpy().ravel()
    array([7.], dtype=float32)
    """
    return _pool3d(_core._max_pool2d, "MaxPool3D", input, ksize, strides, padding, data_format)


def avg_pool3d(
    input: TensorLike, ksize: Any, strides: Any, padding: str, data_format: str = "NDHWC", name: str | None = None
) -> Tensor:
    """Average pooling over ``[N, D, H, W, C]`` (``tf.nn.avg_pool3d``); SAME windows average only the
    in-volume elements, as TF.

    >>> import tapegrad as tg
    >>> tg.nn.avg_pool3d(tg.reshape(tg.range(8.0), [1, 2, 2, 2, 1]), 2, 2, "VALID").numpy().ravel()
    array([3.5], dtype=float32)
    """
    return _pool3d(_core._avg_pool2d, "AvgPool3D", input, ksize, strides, padding, data_format)


# ---- dropout -----------------------------------------------------------------------------------


def dropout(x: TensorLike, rate: Any, noise_shape: Any = None, seed: Any = None, name: str | None = None) -> Tensor:
    """Zeroes elements with probability `rate` and scales the rest by ``1 / (1 - rate)``
    (``tf.nn.dropout``). The mask follows tg.random's seeds (See tg.random); the gradient flows
    through the kept elements, scaled the same way.

    >>> import tapegrad as tg
    >>> tg.nn.dropout(tg.ones([4]), rate=0.0).numpy()
    array([1., 1., 1., 1.], dtype=float32)
    """
    x = _t(x)
    if not x.dtype.is_floating:
        raise ValueError(
            f"`x.dtype` must be a floating point tensor as `x` will be scaled. Received: "
            f"x_dtype=<dtype: '{x.dtype.name}'>"
        )
    r = float(np.asarray(rate)) if isinstance(rate, Tensor) else rate
    if not isinstance(r, (numbers.Real, np.floating)) or not 0 <= float(r) < 1:
        raise ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). Received: rate={rate}")
    if r == 0 and not isinstance(rate, Tensor):
        return x
    shape = (
        [int(d) for d in x.shape]
        if noise_shape is None
        else [
            int(d) if d is not None else int(x.shape[i])
            for i, d in enumerate(np.asarray(noise_shape).tolist() if isinstance(noise_shape, Tensor) else noise_shape)
        ]
    )
    try:
        np.broadcast_shapes(tuple(shape), tuple(int(d) for d in x.shape))
    except ValueError:
        raise InvalidArgumentError(
            f"noise_shape {shape} is not broadcastable to the shape of x {list(x.shape)}"
        ) from None
    np_dtype = np.float32 if x.dtype.name == "float32" else np.float64
    scale = np_dtype(1.0) / (np_dtype(1.0) - np_dtype(r))

    def mask():  # drawn again at every call of a traced function
        u = random._uniform_np(shape, np_dtype, seed)
        return constant(np.where(u >= np_dtype(r), scale, np_dtype(0)).astype(np_dtype))

    return multiply(x, random._drawn(lambda rate: mask(), rate))
