"""Python side of tf.nn's convolution, pooling and dropout: TF's argument handling (strides,
dilations, padding, data formats) around the engine's conv/pool primitives, and dropout's mask
drawn from tg.random's seeds. ``tg.nn`` (nn.py) imports its names from here."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from . import _core, random
from ._core import InvalidArgumentError
from ._ops import constant, multiply, reshape, transpose
from ._ops_linalg import _shape_str, _t, einsum
from ._tensor import Tensor
from ._typing import TensorLike

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
    raise ValueError(f"{what} should be of length 1, {n} or {n + 2} but was {len(v)}")


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
    """N-d convolution dispatching on rank: 3-D input -> conv1d, 4-D -> conv2d (``tf.nn.convolution``)."""
    x = _t(input)
    r = len(x.shape)
    if r == 3:
        return conv1d(x, filters, 1 if strides is None else strides, padding, data_format or "NWC", dilations)
    if r == 4:
        return conv2d(x, filters, 1 if strides is None else strides, padding, data_format or "NHWC", dilations)
    raise NotImplementedError(
        f"tg.nn.convolution: only 1-D and 2-D convolutions (3-D and 4-D inputs) are "
        f"supported, got shape {_shape_str(x)}"
    )


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
    """Max or average pooling dispatching on rank (``tf.nn.pool``); dilations must be 1."""
    if dilations is not None and any(int(v) != 1 for v in np.atleast_1d(dilations)):
        raise NotImplementedError("tg.nn.pool: dilated pooling is not supported")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"pooling_type must be 'MAX' or 'AVG', got {pooling_type!r}")
    fn = max_pool if pooling_type == "MAX" else avg_pool
    return fn(input, list(window_shape), [1] * len(window_shape) if strides is None else strides, padding, data_format)


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


def _pool_nd(pool1, pool2, input, ksize, strides, padding, data_format, what):
    x = _t(input)
    r = len(x.shape)
    if r == 3:
        return pool1(x, ksize, strides, padding, data_format or "NWC")
    if r == 4:
        return pool2(x, ksize, strides, padding, data_format or "NHWC")
    raise NotImplementedError(f"tg.nn.{what}: only 3-D and 4-D inputs are supported, got shape {list(x.shape)}")


def max_pool(
    input: TensorLike,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    name: str | None = None,
) -> Tensor:
    """Max pooling for 3-D or 4-D inputs (``tf.nn.max_pool``)."""
    return _pool_nd(max_pool1d, max_pool2d, input, ksize, strides, padding, data_format, "max_pool")


def avg_pool(
    input: TensorLike,
    ksize: Any,
    strides: Any,
    padding: str,
    data_format: str | None = None,
    name: str | None = None,
) -> Tensor:
    """Average pooling for 3-D or 4-D inputs (``tf.nn.avg_pool``)."""
    return _pool_nd(avg_pool1d, avg_pool2d, input, ksize, strides, padding, data_format, "avg_pool")


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
    u = random._uniform_np(shape, np_dtype, seed)
    scale = np_dtype(1.0) / (np_dtype(1.0) - np_dtype(r))
    mask = np.where(u >= np_dtype(r), scale, np_dtype(0)).astype(np_dtype)
    return multiply(x, constant(mask))
