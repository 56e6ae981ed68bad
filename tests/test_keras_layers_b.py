"""Conv, pooling and normalization layers (keras/layers/conv.py, pooling.py, normalization.py)
against numpy transcriptions and closed forms; tape gradients w.r.t. the input and every weight
against finite differences (tg.testing.check_gradients, float64); argument and input errors with
Keras's messages; get_config/from_config round trips. Needs neither TF nor Keras."""

import itertools

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras import layers as L

RNG = np.random.default_rng(0)


def _x(*shape):
    return RNG.normal(size=shape)


def _built(layer, shape, rng=RNG, positive=()):
    """Build `layer` for `shape` and give every weight random values (positive ones where named)."""
    layer.build(tg.TensorShape(shape))
    layer.built = True
    ws = []
    for w in layer.weights:
        v = rng.normal(size=tuple(w.shape))
        ws.append(np.abs(v) + 0.5 if any(w.name.endswith(p) for p in positive) else v)
    layer.set_weights(ws)
    return layer


def _call_with(layer, names, **call_kwargs):
    """f(x, *weights) that runs layer.call with the given tensors in place of its weights, so that
    check_gradients can differentiate w.r.t. the weights."""

    def f(x, *ws):
        saved = {n: getattr(layer, n) for n in names}
        try:
            for n, w in zip(names, ws):
                object.__setattr__(layer, n, w)
            return layer.call(x, **call_kwargs)
        finally:
            for n, v in saved.items():
                object.__setattr__(layer, n, v)

    return f


def _grad_check(layer, x, names, order=1, **call_kwargs):
    ws = [np.asarray(getattr(layer, n)) for n in names]
    tg.testing.check_gradients(_call_with(layer, names, **call_kwargs), [x] + ws, order=order)


# ---- numpy references (channels_last) -------------------------------------------------------------


def _same(n, k, s, d):
    eff = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def np_conv(x, w, strides, padding, dilation, groups=1):
    """Cross-correlation of [N, *S, C] with [*K, C/groups, F], TF's SAME/VALID/causal padding."""
    rank = x.ndim - 2
    ks = w.shape[:rank]
    pads = [(0, 0)]
    for n, k, s, d in zip(x.shape[1:-1], ks, strides, dilation):
        pads.append(_same(n, k, s, d) if padding == "same" else ((k - 1) * d, 0) if padding == "causal" else (0, 0))
    xp = np.pad(x, pads + [(0, 0)])
    out = [(n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(xp.shape[1:-1], ks, strides, dilation)]
    c, f = x.shape[-1], w.shape[-1]
    y = np.zeros((x.shape[0], *out, f))
    for off in itertools.product(*[range(k) for k in ks]):
        sl = tuple(slice(o * d, o * d + (m - 1) * s + 1, s) for o, d, m, s in zip(off, dilation, out, strides))
        patch = xp[(slice(None),) + sl].reshape(x.shape[0], *out, groups, c // groups)
        wk = w[off].reshape(c // groups, groups, f // groups)
        y += np.einsum("...gc,cgf->...gf", patch, wk).reshape(y.shape)
    return y


def np_conv_transpose(x, w, strides, padding, output_padding, dilation):
    """Scatter form of a transposed conv: x[i] * w[k] lands on i * s + k * d, then TF's crop."""
    rank = x.ndim - 2
    ks = w.shape[:rank]
    outs, fronts = [], []
    for j, (n, k, s, d) in enumerate(zip(x.shape[1:-1], ks, strides, dilation)):
        eff = (k - 1) * d + 1
        op = None if output_padding is None else output_padding[j]
        if padding == "valid":
            o = (n - 1) * s + eff + (max(eff, s) - eff if op is None else op)
        else:
            o = n * s if op is None else (n - 1) * s + eff % 2 + op
        outs.append(o)
        fronts.append(_same(o, k, s, d)[0] if padding == "same" else 0)
    full = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(x.shape[1:-1], ks, strides, dilation)]
    big = np.zeros((x.shape[0], *[max(a, b + c) for a, b, c in zip(full, outs, fronts)], w.shape[-2]))
    for off in itertools.product(*[range(k) for k in ks]):
        sl = tuple(
            slice(o * d, o * d + (n - 1) * s + 1, s) for o, d, n, s in zip(off, dilation, x.shape[1:-1], strides)
        )
        big[(slice(None),) + sl] += np.einsum("...c,fc->...f", x, w[off])
    return big[(slice(None),) + tuple(slice(f, f + o) for f, o in zip(fronts, outs))]


def np_depthwise(x, w, strides, padding, dilation):
    c, m = w.shape[-2:]
    ys = [np_conv(x[..., i : i + 1], w[..., i : i + 1, :], strides, padding, dilation) for i in range(c)]
    return np.concatenate(ys, axis=-1)  # channel i * m + j


def np_pool(x, mode, pool, strides, padding):
    rank = x.ndim - 2
    pads = [_same(n, k, s, 1) if padding == "same" else (0, 0) for n, k, s in zip(x.shape[1:-1], pool, strides)]
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    ones = np.pad(np.ones(x.shape[1:-1]), pads)
    out = [(n - k) // s + 1 for n, k, s in zip(xp.shape[1:-1], pool, strides)]
    y = np.empty((x.shape[0], *out, x.shape[-1]))
    for idx in itertools.product(*[range(o) for o in out]):
        win = tuple(slice(i * s, i * s + k) for i, s, k in zip(idx, strides, pool))
        block = xp[(slice(None),) + win].reshape(x.shape[0], -1, x.shape[-1])
        if mode == "max":
            y[(slice(None),) + idx] = block.max(axis=1)
        else:
            y[(slice(None),) + idx] = block.sum(axis=1) / ones[win].sum()
    assert rank == len(pool)
    return y


def _first(y, rank):
    return np.moveaxis(y, -1, 1)


def _last(x, rank):
    return np.moveaxis(x, 1, -1)


# ---- convolutions -------------------------------------------------------------------------------

CONV = [
    (L.Conv1D, dict(filters=3, kernel_size=3), (2, 7, 2)),
    (L.Conv1D, dict(filters=2, kernel_size=3, strides=2, padding="same"), (1, 8, 3)),
    (L.Conv1D, dict(filters=2, kernel_size=2, padding="causal", dilation_rate=3), (2, 7, 2)),
    (L.Conv1D, dict(filters=2, kernel_size=3, padding="causal", strides=2, data_format="channels_first"), (1, 2, 6)),
    (L.Conv1D, dict(filters=4, kernel_size=2, groups=2, data_format="channels_first"), (1, 4, 5)),
    (L.Conv2D, dict(filters=3, kernel_size=(2, 3), strides=(1, 2)), (2, 4, 7, 2)),
    (L.Conv2D, dict(filters=2, kernel_size=3, dilation_rate=(2, 1), padding="same"), (1, 5, 4, 3)),
    (L.Conv2D, dict(filters=6, kernel_size=2, groups=3, padding="same", data_format="channels_first"), (1, 3, 4, 3)),
    (L.Conv3D, dict(filters=2, kernel_size=(3, 2, 2)), (1, 4, 3, 4, 2)),
    (L.Conv3D, dict(filters=2, kernel_size=2, strides=(2, 1, 2), padding="same", use_bias=False), (2, 5, 3, 4, 1)),
    (L.Conv3D, dict(filters=4, kernel_size=(2, 1, 2), groups=2, dilation_rate=(2, 1, 1)), (1, 5, 2, 3, 2)),
    (L.Conv3D, dict(filters=2, kernel_size=2, data_format="channels_first", padding="same"), (1, 2, 3, 3, 2)),
]


@pytest.mark.parametrize("cls,kwargs,shape", CONV, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CONV)])
def test_conv_matches_numpy(cls, kwargs, shape):
    layer = _built(cls(dtype="float64", **kwargs), shape)
    x = _x(*shape)
    rank = len(shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    xl = _last(x, rank) if first else x
    want = np_conv(
        xl, np.asarray(layer.kernel), layer.strides, layer.padding, layer.dilation_rate, kwargs.get("groups", 1)
    )
    if layer.use_bias:
        want = want + np.asarray(layer.bias)
    if first:
        want = _first(want, rank)
    got = layer(tg.constant(x))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)
    assert tuple(got.shape) == layer.compute_output_shape(shape)


CONV_T = [
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3, strides=2), (2, 3, 2)),
    (L.Conv1DTranspose, dict(filters=2, kernel_size=4, strides=3, padding="same", output_padding=2), (1, 3, 2)),
    (L.Conv1DTranspose, dict(filters=1, kernel_size=3, dilation_rate=2, padding="same"), (1, 4, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=(3, 2), strides=(2, 1)), (1, 3, 3, 2)),
    (L.Conv2DTranspose, dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=(1, 0)), (2, 2, 3, 1)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=2, dilation_rate=2, data_format="channels_first"), (1, 2, 3, 3)),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=(2, 3, 2), strides=(1, 2, 2)), (1, 2, 2, 3, 2)),
    (
        L.Conv3DTranspose,
        dict(filters=1, kernel_size=3, strides=2, padding="same", output_padding=(1, 0, 1)),
        (1, 2, 2, 2, 2),
    ),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=2, padding="same"), (1, 2, 1, 3, 1)),
    (L.Conv3DTranspose, dict(filters=1, kernel_size=(2, 3, 2), dilation_rate=2, padding="same"), (1, 3, 2, 3, 1)),
    (
        L.Conv3DTranspose,
        dict(filters=2, kernel_size=2, strides=(2, 1, 3), data_format="channels_first", output_padding=(0, 0, 2)),
        (1, 1, 2, 2, 2),
    ),
]


@pytest.mark.parametrize("cls,kwargs,shape", CONV_T, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(CONV_T)])
def test_conv_transpose_matches_numpy(cls, kwargs, shape):
    layer = _built(cls(dtype="float64", **kwargs), shape)
    x = _x(*shape)
    rank = len(shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    want = np_conv_transpose(
        _last(x, rank) if first else x,
        np.asarray(layer.kernel),
        layer.strides,
        layer.padding,
        layer.output_padding,
        layer.dilation_rate,
    ) + np.asarray(layer.bias)
    if first:
        want = _first(want, rank)
    got = layer(tg.constant(x))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-10, atol=1e-12)
    assert tuple(got.shape) == layer.compute_output_shape(shape)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_conv_transpose_is_adjoint_of_conv(rank):
    """<convT(x), y> == <x, conv(y)> for the same kernel (the defining property), valid and same."""
    for padding in ("valid", "same"):
        kernel_size, strides = (3,) * rank, (2,) * rank
        tr = [L.Conv1DTranspose, L.Conv2DTranspose, L.Conv3DTranspose][rank - 1](
            2, kernel_size, strides=strides, padding=padding, use_bias=False, dtype="float64"
        )
        x_shape = (1,) + (3,) * rank + (3,)
        _built(tr, x_shape)
        y = tr(tg.constant(_x(*x_shape)))
        fwd = [L.Conv1D, L.Conv2D, L.Conv3D][rank - 1](
            3, kernel_size, strides=strides, padding=padding, use_bias=False, dtype="float64"
        )
        fwd.build(tg.TensorShape(y.shape))
        fwd.kernel.assign(np.asarray(tr.kernel))  # [*k, filters, in] is conv's [*k, in', out'] of the adjoint
        x, u = _x(*x_shape), _x(*y.shape)
        lhs = float(np.sum(np.asarray(tr(tg.constant(x))) * u))
        rhs = float(np.sum(x * np.asarray(fwd(tg.constant(u)))))
        np.testing.assert_allclose(lhs, rhs, rtol=1e-10)


DEPTHWISE = [
    (L.DepthwiseConv1D, dict(kernel_size=3, depth_multiplier=2), (2, 6, 2)),
    (L.DepthwiseConv1D, dict(kernel_size=2, strides=2, dilation_rate=2, padding="same"), (1, 7, 3)),
    (L.DepthwiseConv2D, dict(kernel_size=(2, 3), depth_multiplier=3, padding="same"), (1, 4, 5, 2)),
    (L.DepthwiseConv2D, dict(kernel_size=2, strides=2, dilation_rate=2, data_format="channels_first"), (1, 2, 6, 5)),
]


@pytest.mark.parametrize(
    "cls,kwargs,shape", DEPTHWISE, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(DEPTHWISE)]
)
def test_depthwise_matches_numpy(cls, kwargs, shape):
    layer = _built(cls(dtype="float64", **kwargs), shape)
    x = _x(*shape)
    rank = len(shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    want = np_depthwise(
        _last(x, rank) if first else x, np.asarray(layer.kernel), layer.strides, layer.padding, layer.dilation_rate
    ) + np.asarray(layer.bias)
    if first:
        want = _first(want, rank)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("rank", [1, 2])
def test_separable_is_depthwise_then_pointwise(rank):
    shape = (2,) + (5,) * rank + (2,)
    cls = L.SeparableConv1D if rank == 1 else L.SeparableConv2D
    layer = _built(cls(3, 3, depth_multiplier=2, strides=2, padding="same", dtype="float64"), shape)
    x = _x(*shape)
    mid = np_depthwise(x, np.asarray(layer.depthwise_kernel), layer.strides, "same", (1,) * rank)
    want = np_conv(mid, np.asarray(layer.pointwise_kernel), (1,) * rank, "valid", (1,) * rank)
    want = want + np.asarray(layer.bias)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-10, atol=1e-12)
    assert [w.name for w in layer.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert tuple(layer.pointwise_kernel.shape) == (1,) * rank + (4, 3)


GRAD = [
    (L.Conv1D, dict(filters=2, kernel_size=2, padding="causal", dilation_rate=2), (1, 5, 2), ["kernel", "bias"]),
    (L.Conv2D, dict(filters=2, kernel_size=2, strides=2, padding="same", groups=2), (1, 3, 3, 2), ["kernel", "bias"]),
    (
        L.Conv3D,
        dict(filters=2, kernel_size=2, padding="same", data_format="channels_first"),
        (1, 1, 2, 3, 2),
        ["kernel", "bias"],
    ),
    (L.Conv3D, dict(filters=2, kernel_size=2, groups=2), (1, 2, 2, 3, 2), ["kernel"]),
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same"), (1, 3, 2), ["kernel", "bias"]),
    (L.Conv2DTranspose, dict(filters=1, kernel_size=2, strides=2, output_padding=1), (1, 2, 2, 2), ["kernel"]),
    (L.Conv3DTranspose, dict(filters=1, kernel_size=2, strides=2, padding="same"), (1, 1, 2, 2, 2), ["kernel", "bias"]),
    (L.DepthwiseConv1D, dict(kernel_size=2, depth_multiplier=2), (1, 4, 2), ["kernel", "bias"]),
    (L.DepthwiseConv2D, dict(kernel_size=2, strides=2, padding="same"), (1, 3, 3, 2), ["kernel", "bias"]),
    (
        L.SeparableConv2D,
        dict(filters=2, kernel_size=2, data_format="channels_first"),
        (1, 2, 3, 3),
        ["depthwise_kernel", "pointwise_kernel", "bias"],
    ),
]


@pytest.mark.parametrize("cls,kwargs,shape,names", GRAD, ids=[f"{c.__name__}-{i}" for i, (c, *_) in enumerate(GRAD)])
def test_conv_gradients(cls, kwargs, shape, names):
    layer = _built(cls(dtype="float64", activation="tanh", **kwargs), shape)
    _grad_check(layer, _x(*shape), names)


def test_conv_second_order_gradients():
    layer = _built(L.Conv2D(2, 2, padding="same", activation="tanh", dtype="float64"), (1, 3, 3, 1))
    _grad_check(layer, _x(1, 3, 3, 1), ["kernel", "bias"], order=2)
    layer = _built(L.Conv3DTranspose(1, 2, strides=2, activation="tanh", dtype="float64"), (1, 1, 2, 1, 1))
    _grad_check(layer, _x(1, 1, 2, 1, 1), ["kernel"], order=2)


def test_conv_weights_and_training_step():
    layer = L.Conv2D(4, 3, padding="same", activation="relu", name="c")
    y = layer(tg.ones([2, 6, 6, 3]))
    assert tuple(y.shape) == (2, 6, 6, 4)
    assert [w.path for w in layer.weights] == ["c/kernel", "c/bias"]
    assert layer.count_params() == 3 * 3 * 3 * 4 + 4
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(layer(tg.ones([2, 6, 6, 3])))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert [tuple(g.shape) for g in grads] == [(3, 3, 3, 4), (4,)]


def test_conv_argument_errors():
    with pytest.raises(ValueError, match="Received filters=0"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="evenly divisible by the number of groups. Received: groups=2, filters=3"):
        L.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction with `dilation_rate > 1`"):
        L.Conv1D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="The `padding` argument must be a list/tuple or one of"):
        L.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="The `kernel_size` argument must be a tuple of 2 integers"):
        L.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="that do not satisfy `value > 0`"):
        L.Conv2D(2, (3, 0))
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        L.Conv2D(2, 3, data_format="NHWC")
    with pytest.raises(ValueError, match="`output_padding` must be strictly less than `strides`"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="Received depth_multiplier=0"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(NotImplementedError, match="LoRA"):
        L.Conv2D(2, 3, lora_rank=2)
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        L.Conv2D(2, 3, activation="nope")


def test_conv_input_errors_name_the_layer_and_shapes():
    layer = L.Conv2D(2, 3, name="cv")
    with pytest.raises(
        ValueError,
        match=r'["\']cv["\'].*expected min_ndim=4, found ndim=3. Full shape received: '
        r"\(5, 5, 3\)",
    ):
        layer(tg.ones([5, 5, 3]))
    layer(tg.ones([1, 5, 5, 3]))
    with pytest.raises(
        ValueError,
        match=r'["\']cv["\'].*expected axis -1 of input shape to have value 3, but received '
        r"input with shape \(1, 5, 5, 4\)",
    ):
        layer(tg.ones([1, 5, 5, 4]))
    with pytest.raises(
        ValueError,
        match=r"Computed output size would be zero or negative. Received `inputs "
        r"shape=\(1, 2, 2, 3\)`",
    ):
        L.Conv2D(2, 3)(tg.ones([1, 2, 2, 3]))
    with pytest.raises(
        ValueError,
        match=r"The number of input channels must be evenly divisible by the number of "
        r"groups. Received groups=2, but the input has 3 channels",
    ):
        L.Conv1D(2, 3, groups=2)(tg.ones([1, 5, 3]))
    with pytest.raises(ValueError, match="Kernel shape must have the same length as input"):
        L.Conv2D(2, 3)(tg.ones([1, 5, 5, 5, 3]))


# ---- pooling ------------------------------------------------------------------------------------

POOL = [
    (L.MaxPooling1D, dict(), (2, 5, 2)),
    (L.MaxPooling1D, dict(pool_size=3, strides=2, padding="same"), (1, 6, 2)),
    (L.MaxPooling2D, dict(pool_size=(2, 3), strides=(1, 2)), (1, 4, 7, 2)),
    (L.MaxPooling2D, dict(pool_size=3, strides=2, padding="same", data_format="channels_first"), (1, 2, 5, 4)),
    (L.MaxPooling3D, dict(), (1, 4, 4, 5, 2)),
    (L.MaxPooling3D, dict(pool_size=(3, 2, 2), strides=(2, 1, 2), padding="same"), (1, 5, 3, 4, 2)),
    (L.AveragePooling1D, dict(pool_size=2, padding="same", data_format="channels_first"), (2, 3, 5)),
    (L.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (1, 5, 4, 2)),
    (L.AveragePooling3D, dict(pool_size=2), (1, 4, 3, 5, 1)),
    (L.AveragePooling3D, dict(pool_size=(2, 3, 2), strides=(2, 2, 1), padding="same"), (1, 3, 4, 3, 2)),
    (L.AveragePooling3D, dict(pool_size=2, data_format="channels_first", padding="same"), (1, 2, 3, 3, 3)),
]


@pytest.mark.parametrize("cls,kwargs,shape", POOL, ids=[f"{c.__name__}-{i}" for i, (c, _, _) in enumerate(POOL)])
def test_pooling_matches_numpy_and_gradients(cls, kwargs, shape):
    layer = cls(dtype="float64", **kwargs)
    x = _x(*shape)
    rank = len(shape) - 2
    first = kwargs.get("data_format") == "channels_first"
    mode = "max" if cls.__name__.startswith("Max") else "average"
    want = np_pool(_last(x, rank) if first else x, mode, layer.pool_size, layer.strides, layer.padding)
    if first:
        want = _first(want, rank)
    got = layer(tg.constant(x))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)
    assert tuple(got.shape) == layer.compute_output_shape(shape)
    tg.testing.check_gradients(layer.call, [x], order=1)


@pytest.mark.parametrize(
    "cls,axes",
    [
        (L.GlobalMaxPooling1D, (1,)),
        (L.GlobalMaxPooling2D, (1, 2)),
        (L.GlobalMaxPooling3D, (1, 2, 3)),
        (L.GlobalAveragePooling1D, (1,)),
        (L.GlobalAveragePooling2D, (1, 2)),
        (L.GlobalAveragePooling3D, (1, 2, 3)),
    ],
)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pooling(cls, axes, keepdims, data_format):
    shape = (2,) + (3, 2, 4)[: len(axes)] + (3,)
    x = _x(*shape)
    if data_format == "channels_first":
        x = _first(x, len(axes))
        axes = tuple(a + 1 for a in axes)
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    fn = np.max if "Max" in cls.__name__ else np.mean
    got = layer(tg.constant(x))
    np.testing.assert_allclose(np.asarray(got), fn(x, axis=axes, keepdims=keepdims), rtol=1e-12)
    assert tuple(got.shape) == layer.compute_output_shape(x.shape)
    assert layer.built


def test_global_average_pooling_1d_mask():
    x = _x(3, 4, 2)
    mask = np.array([[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 1, 1]], dtype=bool)
    layer = L.GlobalAveragePooling1D(dtype="float64")
    want = (x * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x), mask=tg.constant(mask))), want, rtol=1e-12)
    first = L.GlobalAveragePooling1D(data_format="channels_first", keepdims=True, dtype="float64")
    got = first(tg.constant(np.swapaxes(x, 1, 2)), mask=tg.constant(mask.astype("float32")))
    np.testing.assert_allclose(np.asarray(got)[..., 0], want, rtol=1e-12)
    # a masked input (as from Embedding(mask_zero=True)) is consumed: the output carries no mask
    t = tg.constant(x)
    t._keras_mask = tg.constant(mask)
    out = layer(t)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-12)
    assert getattr(out, "_keras_mask", None) is None
    tg.testing.check_gradients(lambda v: layer.call(v, mask=tg.constant(mask)), [x])


def test_pooling_errors():
    with pytest.raises(ValueError, match=r'["\']mp["\'].*expected ndim=4, found ndim=3'):
        L.MaxPooling2D(name="mp")(tg.ones([4, 4, 3]))
    with pytest.raises(ValueError, match="The `pool_size` argument must be a tuple of 3 integers"):
        L.AveragePooling3D((2, 2))
    with pytest.raises(TypeError):
        L.AveragePooling2D()  # pool_size has no default, as in Keras
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        L.MaxPooling1D(4).compute_output_shape((1, 3, 2))


# ---- normalization ------------------------------------------------------------------------------


def np_bn(x, mean, var, gamma, beta, eps, axis):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    r = lambda v: 1.0 if v is None else np.reshape(v, shape)  # noqa: E731
    out = (x - np.reshape(mean, shape)) / np.sqrt(np.reshape(var, shape) + eps) * r(gamma)
    return out + (0.0 if beta is None else np.reshape(beta, shape))


@pytest.mark.parametrize("axis,shape", [(-1, (5, 3)), (1, (2, 3, 2, 2))])
def test_batch_normalization_training_inference_and_moving_statistics(axis, shape):
    layer = _built(
        L.BatchNormalization(axis=axis, momentum=0.8, epsilon=0.01, dtype="float64"), shape, positive=("variance",)
    )
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    red = tuple(i for i in range(len(shape)) if i != axis % len(shape))
    gamma, beta = np.asarray(layer.gamma), np.asarray(layer.beta)
    mm, mv = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
    for step in range(3):
        x = _x(*shape) * (step + 1) + step
        mean, var = x.mean(red), x.var(red)
        got = layer(tg.constant(x), training=True)
        np.testing.assert_allclose(np.asarray(got), np_bn(x, mean, var, gamma, beta, 0.01, axis), rtol=1e-10)
        mm, mv = mm * 0.8 + mean * 0.2, mv * 0.8 + var * 0.2
        np.testing.assert_allclose(np.asarray(layer.moving_mean), mm, rtol=1e-12)
        np.testing.assert_allclose(np.asarray(layer.moving_variance), mv, rtol=1e-12)
    x = _x(*shape)
    for kwargs in ({}, {"training": False}):
        np.testing.assert_allclose(
            np.asarray(layer(tg.constant(x), **kwargs)), np_bn(x, mm, mv, gamma, beta, 0.01, axis), rtol=1e-10
        )
    np.testing.assert_allclose(np.asarray(layer.moving_mean), mm, rtol=1e-12)
    layer.trainable = False
    np.testing.assert_allclose(
        np.asarray(layer(tg.constant(x), training=True)), np_bn(x, mm, mv, gamma, beta, 0.01, axis), rtol=1e-10
    )
    np.testing.assert_allclose(np.asarray(layer.moving_mean), mm, rtol=1e-12)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_batch_normalization_training_flag_propagates_from_outer_layer():
    class Block(tg.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.bn = L.BatchNormalization(momentum=0.0)

        def call(self, x, training=None):
            return self.bn(x)

    block = Block()
    x = tg.constant([[1.0], [3.0]])
    block(x, training=True)
    np.testing.assert_allclose(np.asarray(block.bn.moving_mean), [2.0])
    np.testing.assert_allclose(np.asarray(block.bn.moving_variance), [1.0])


@pytest.mark.parametrize("kwargs", [{}, {"center": False}, {"scale": False, "axis": 1}])
def test_batch_normalization_gradients(kwargs):
    shape = (4, 3, 2)
    layer = _built(L.BatchNormalization(dtype="float64", **kwargs), shape, positive=("variance",))
    names = [n for n in ("gamma", "beta") if getattr(layer, n) is not None]
    _grad_check(layer, _x(*shape), names, order=2, training=True)
    _grad_check(layer, _x(*shape), names, order=1, training=False)


def test_batch_normalization_mask_and_renorm():
    x = _x(2, 4, 3)
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype=bool)
    layer = _built(L.BatchNormalization(momentum=0.0, dtype="float64"), x.shape, positive=("variance",))
    layer(tg.constant(x), training=True, mask=tg.constant(mask))
    kept = x[mask]
    count = mask.sum() + 1e-7
    np.testing.assert_allclose(np.asarray(layer.moving_mean), kept.sum(0) / count, rtol=1e-10)
    np.testing.assert_allclose(
        np.asarray(layer.moving_variance), ((kept - kept.sum(0) / count) ** 2).sum(0) / count, rtol=1e-10
    )
    with pytest.raises(ValueError, match="The mask provided should be one dimension less than the inputs"):
        layer(tg.constant(x), training=True, mask=tg.constant(mask[:, :, None]))
    # renorm: r = stddev / renorm_stddev, d = (mean - renorm_mean) / renorm_stddev, clipped
    rn = L.BatchNormalization(
        renorm=True, renorm_clipping={"rmax": 1.2, "rmin": 0.9, "dmax": 0.1}, dtype="float64", epsilon=0.0
    )
    rn.build(tg.TensorShape((6, 2)))
    assert [w.name for w in rn.weights] == [
        "gamma",
        "beta",
        "moving_mean",
        "moving_variance",
        "moving_stddev",
        "renorm_mean",
        "renorm_stddev",
    ]
    x = _x(6, 2) * 3 + 1
    mean, std = x.mean(0), x.std(0)
    r, d = np.clip(std / 1.0, 0.9, 1.2), np.clip(mean / 1.0, -0.1, 0.1)
    np.testing.assert_allclose(np.asarray(rn(tg.constant(x), training=True)), (x - mean) / std * r + d, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(rn.renorm_mean), 0.01 * mean, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(rn.moving_variance), (0.99 + 0.01 * std) ** 2, rtol=1e-10)
    with pytest.raises(ValueError, match="Received invalid keys for `renorm_clipping` argument"):
        L.BatchNormalization(renorm=True, renorm_clipping={"max": 1})


def test_batch_normalization_errors():
    layer = L.BatchNormalization(name="bn")
    layer(tg.ones([2, 3]))
    with pytest.raises(
        ValueError,
        match=r'["\']bn["\'].*expected axis -1 of input shape to have value 3, but received '
        r"input with shape \(2, 4\)",
    ):
        layer(tg.ones([2, 4]))
    with pytest.raises(ValueError, match=r'["\']bn["\'].*expected ndim=2, found ndim=3'):
        layer(tg.ones([2, 1, 3]))
    with pytest.raises(ValueError, match=r"Axis 2 is out of bounds for input shape \(2, 3\)"):
        L.BatchNormalization(axis=2)(tg.ones([2, 3]))


def np_ln(x, axes, gamma, beta, eps):
    mean = x.mean(axes, keepdims=True)
    var = x.var(axes, keepdims=True)
    out = (x - mean) / np.sqrt(var + eps)
    return out * (1.0 if gamma is None else gamma) + (0.0 if beta is None else beta)


@pytest.mark.parametrize(
    "kwargs,shape,axes",
    [
        ({}, (3, 4), (1,)),
        ({"axis": [1, 2]}, (2, 3, 2), (1, 2)),
        ({"axis": -2, "center": False}, (2, 3, 2), (1,)),
        ({"scale": False, "epsilon": 0.5}, (2, 5), (1,)),
    ],
)
def test_layer_normalization(kwargs, shape, axes):
    layer = _built(L.LayerNormalization(dtype="float64", **kwargs), shape)
    x = _x(*shape) * 3 + 2
    bshape = [shape[a] if a in axes else 1 for a in range(len(shape))]
    g = None if layer.gamma is None else np.asarray(layer.gamma).reshape(bshape)
    b = None if layer.beta is None else np.asarray(layer.beta).reshape(bshape)
    want = np_ln(x, axes, g, b, layer.epsilon)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-10, atol=1e-12)
    names = [n for n in ("gamma", "beta") if getattr(layer, n) is not None]
    _grad_check(layer, x, names, order=2)


def test_layer_normalization_rms_scaling_and_axis_errors():
    with pytest.warns(UserWarning, match="rms_scaling=True"):
        layer = L.LayerNormalization(rms_scaling=True, dtype="float64")
    layer = _built(layer, (2, 4))
    assert [w.name for w in layer.weights] == ["gamma"]
    x = _x(2, 4) + 1
    want = x / np.sqrt(x.var(1, keepdims=True) + 1e-3) * np.asarray(layer.gamma)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-10)
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints for the argument 'axis'"):
        L.LayerNormalization(axis="x")
    assert L.LayerNormalization().get_config()["axis"] == -1
    built = L.LayerNormalization()
    built(tg.ones([2, 3]))
    assert built.get_config()["axis"] == [-1]


@pytest.mark.parametrize(
    "groups,axis,shape", [(2, -1, (2, 3, 4)), (3, 1, (2, 6, 2, 2)), (-1, -1, (2, 3, 2)), (1, -2, (2, 4, 3))]
)
def test_group_normalization(groups, axis, shape):
    layer = _built(L.GroupNormalization(groups=groups, axis=axis, dtype="float64"), shape)
    x = _x(*shape) * 2 - 1
    a = axis % len(shape)
    c = shape[a]
    g = c if groups == -1 else groups
    assert layer.groups == g
    xm = np.moveaxis(x, a, -1).reshape(shape[0], -1, g, c // g)
    mean = xm.mean(axis=(1, 3), keepdims=True)
    var = xm.var(axis=(1, 3), keepdims=True)
    norm = ((xm - mean) / np.sqrt(var + 1e-3)).reshape(np.moveaxis(x, a, -1).shape)
    want = np.moveaxis(norm * np.asarray(layer.gamma) + np.asarray(layer.beta), -1, a)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-10, atol=1e-12)
    _grad_check(layer, x, ["gamma", "beta"])


def test_group_normalization_errors():
    with pytest.raises(ValueError, match="Received an invalid value for argument `groups`"):
        L.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"Number of groups \(4\) cannot be more than the number of channels \(3\)"):
        L.GroupNormalization(groups=4)(tg.ones([2, 3]))
    with pytest.raises(ValueError, match=r"Number of groups \(2\) must be a multiple of the number of channels"):
        L.GroupNormalization(groups=2)(tg.ones([2, 3]))
    layer = L.GroupNormalization(groups=1, name="gn")
    layer(tg.ones([2, 3]))
    with pytest.raises(ValueError, match=r'["\']gn["\'].*expected axis -1 of input shape to have value 3'):
        layer(tg.ones([2, 4]))


@pytest.mark.parametrize("axis,shape", [(-1, (3, 4)), ([1, 2], (2, 3, 2)), (1, (2, 3, 2))])
def test_rms_normalization(axis, shape):
    layer = _built(L.RMSNormalization(axis=axis, epsilon=0.01, dtype="float64"), shape)
    assert [w.name for w in layer.weights] == ["scale"]
    x = _x(*shape)
    ax = tuple(axis) if isinstance(axis, list) else (axis,)
    bshape = [shape[a] if a in [v % len(shape) for v in ax] else 1 for a in range(len(shape))]
    want = x / np.sqrt((x**2).mean(ax, keepdims=True) + 0.01) * np.asarray(layer.scale).reshape(bshape)
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-12)
    _grad_check(layer, x, ["scale"], order=2)


@pytest.mark.parametrize("axis,shape", [(-1, (3, 4)), ([1, 2], (2, 3, 2)), (1, (2, 3, 2))])
def test_unit_normalization(axis, shape):
    layer = L.UnitNormalization(axis=axis, dtype="float64")
    assert layer.built and layer.weights == []
    x = _x(*shape)
    ax = tuple(axis) if isinstance(axis, list) else axis
    want = x / np.sqrt((x**2).sum(ax, keepdims=True))
    np.testing.assert_allclose(np.asarray(layer(tg.constant(x))), want, rtol=1e-12)
    tg.testing.check_gradients(layer.call, [x], order=2)
    np.testing.assert_array_equal(np.asarray(layer(tg.zeros(shape, "float64"))), np.zeros(shape))
    with pytest.raises(TypeError, match="Invalid value for `axis` argument"):
        L.UnitNormalization(axis=1.5)


# ---- configs ------------------------------------------------------------------------------------

ALL = [
    (L.Conv1D, dict(filters=2, kernel_size=3, padding="causal", activation="relu"), (1, 5, 2)),
    (L.Conv2D, dict(filters=2, kernel_size=(2, 3), groups=2, kernel_regularizer="l2"), (1, 4, 4, 2)),
    (L.Conv3D, dict(filters=2, kernel_size=2, data_format="channels_first"), (1, 2, 3, 3, 3)),
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3, output_padding=1, strides=2), (1, 3, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, padding="same"), (1, 3, 3, 2)),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=(1, 2, 1)), (1, 2, 2, 2, 1)),
    (L.DepthwiseConv1D, dict(kernel_size=3, depth_multiplier=2), (1, 5, 2)),
    (L.DepthwiseConv2D, dict(kernel_size=2, use_bias=False), (1, 3, 3, 2)),
    (L.SeparableConv1D, dict(filters=3, kernel_size=2), (1, 4, 2)),
    (L.SeparableConv2D, dict(filters=3, kernel_size=2, depth_multiplier=2), (1, 3, 3, 2)),
    (L.MaxPooling1D, dict(pool_size=2, strides=1), (1, 4, 2)),
    (L.MaxPooling2D, dict(padding="same"), (1, 3, 3, 2)),
    (L.MaxPooling3D, dict(pool_size=1), (1, 2, 2, 2, 1)),
    (L.AveragePooling1D, dict(pool_size=2), (1, 4, 2)),
    (L.AveragePooling2D, dict(pool_size=2, data_format="channels_first"), (1, 2, 4, 4)),
    (L.AveragePooling3D, dict(pool_size=2, padding="same"), (1, 2, 3, 2, 1)),
    (L.GlobalMaxPooling1D, dict(keepdims=True), (2, 3, 2)),
    (L.GlobalMaxPooling2D, dict(), (2, 3, 2, 2)),
    (L.GlobalMaxPooling3D, dict(data_format="channels_first"), (1, 2, 2, 2, 2)),
    (L.GlobalAveragePooling1D, dict(), (2, 3, 2)),
    (L.GlobalAveragePooling2D, dict(keepdims=True), (2, 3, 2, 2)),
    (L.GlobalAveragePooling3D, dict(), (1, 2, 2, 2, 2)),
    (L.BatchNormalization, dict(axis=1, momentum=0.9, renorm=True), (2, 3, 2)),
    (L.LayerNormalization, dict(axis=[1, 2], center=False), (2, 3, 2)),
    (L.GroupNormalization, dict(groups=3, axis=1), (2, 3, 2)),
    (L.RMSNormalization, dict(axis=[1], epsilon=0.5), (2, 3)),
    (L.UnitNormalization, dict(axis=[1]), (2, 3)),
]


@pytest.mark.parametrize("cls,kwargs,shape", ALL, ids=[c.__name__ for c, _, _ in ALL])
def test_from_config_round_trip_and_output_shape(cls, kwargs, shape):
    layer = cls(**kwargs)
    x = tg.constant(_x(*shape).astype("float32"))
    y = layer(x)
    assert tuple(y.shape) == tuple(layer.compute_output_shape(shape))
    config = layer.get_config()
    assert set(config) >= {"name", "trainable", "dtype"}
    clone = cls.from_config(config)
    assert clone.get_config() == config
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(clone(x)), np.asarray(y), rtol=1e-6)


def test_aliases_and_all():
    from tapegrad.keras.layers import conv, normalization, pooling

    assert L.Convolution2D is L.Conv2D and L.SeparableConvolution1D is L.SeparableConv1D
    assert L.MaxPool2D is L.MaxPooling2D and L.GlobalAvgPool1D is L.GlobalAveragePooling1D
    for mod in (conv, pooling, normalization):
        for name in mod.__all__:
            assert getattr(L, name) is getattr(mod, name)
            assert getattr(mod, name).__doc__
