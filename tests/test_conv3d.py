"""tf.nn.conv3d / conv3d_transpose / max_pool3d / avg_pool3d (built from the 2-D primitives) and the
rank dispatchers that reach them (convolution, conv_transpose, pool, max_pool, avg_pool).

Forward values against direct numpy loops; conv3d_transpose as the adjoint of conv3d; gradients
against float64 finite differences (tg.testing.check_gradients, order 2); TF's exception types
and messages; then, when TensorFlow is installed, forward values and the gradients w.r.t. input
and filters against TF 2 on several shapes, and ConvLSTM3D against Keras 3 with the same weights."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.errors import InvalidArgumentError, UnimplementedError

RNG = np.random.default_rng(33)


def same_pads(n, k, s, d=1):
    eff = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def np_conv3d(x, w, strides, padding, dilations=(1, 1, 1)):
    """Direct loop over output positions (cross-correlation, NDHWC, DHWIO; groups when the input has
    a multiple of the filter's channels)."""
    n, *size, c = x.shape
    *k, cin, o = w.shape
    groups = c // cin
    pads = [same_pads(size[i], k[i], strides[i], dilations[i]) if padding == "SAME" else (0, 0) for i in range(3)]
    xp = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)])
    out = [(xp.shape[1 + i] - (k[i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(3)]
    y = np.zeros([n] + out + [o])
    og = o // groups
    for a in range(out[0]):
        for b in range(out[1]):
            for e in range(out[2]):
                win = xp[
                    :,
                    a * strides[0] : a * strides[0] + (k[0] - 1) * dilations[0] + 1 : dilations[0],
                    b * strides[1] : b * strides[1] + (k[1] - 1) * dilations[1] + 1 : dilations[1],
                    e * strides[2] : e * strides[2] + (k[2] - 1) * dilations[2] + 1 : dilations[2],
                ]
                for g in range(groups):
                    y[:, a, b, e, g * og : (g + 1) * og] = np.einsum(
                        "ndhwc,dhwco->no", win[..., g * cin : (g + 1) * cin], w[..., g * og : (g + 1) * og]
                    )
    return y


def np_pool3d(x, k, s, padding, kind):
    n, *size, c = x.shape
    pads = [same_pads(size[i], k[i], s[i]) if padding == "SAME" else (0, 0) for i in range(3)]
    out = [(size[i] + sum(pads[i]) - k[i]) // s[i] + 1 for i in range(3)]
    y = np.zeros([n] + out + [c])
    for a in range(out[0]):
        for b in range(out[1]):
            for e in range(out[2]):
                lo = [(a, b, e)[i] * s[i] - pads[i][0] for i in range(3)]
                win = x[
                    :,
                    max(lo[0], 0) : lo[0] + k[0],
                    max(lo[1], 0) : lo[1] + k[1],
                    max(lo[2], 0) : lo[2] + k[2],
                ]
                y[:, a, b, e] = win.max(axis=(1, 2, 3)) if kind == "max" else win.mean(axis=(1, 2, 3))
    return y


# x shape, w shape, strides (spatial), padding, dilations (spatial)
CONV_CASES = [
    ((1, 3, 4, 5, 2), (2, 2, 3, 2, 3), (1, 1, 1), "VALID", (1, 1, 1)),
    ((2, 5, 4, 3, 3), (3, 3, 2, 3, 2), (1, 1, 1), "SAME", (1, 1, 1)),
    ((1, 7, 5, 6, 2), (3, 2, 2, 2, 3), (2, 1, 2), "VALID", (1, 1, 1)),
    ((2, 6, 7, 5, 2), (2, 3, 2, 2, 2), (3, 2, 1), "SAME", (1, 1, 1)),
    ((1, 7, 6, 5, 2), (2, 2, 2, 2, 2), (1, 1, 1), "SAME", (2, 1, 3)),
    ((1, 8, 6, 5, 1), (3, 2, 2, 1, 2), (1, 1, 1), "VALID", (3, 2, 1)),
    ((3, 1, 4, 4, 3), (1, 3, 3, 3, 4), (1, 2, 2), "SAME", (1, 1, 1)),  # depth 1, a 1-deep kernel
    ((1, 5, 4, 4, 4), (3, 2, 2, 2, 4), (2, 1, 1), "SAME", (1, 1, 1)),  # 2 groups
]


def _ids(cases):
    return [f"{c[0]}-{c[1]}-{c[2]}-{c[3]}-{c[4]}".replace(" ", "") for c in cases]


@pytest.mark.parametrize("xs,ws,st,pad,dl", CONV_CASES, ids=_ids(CONV_CASES))
def test_conv3d_forward_matches_loops(xs, ws, st, pad, dl):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    y = tg.nn.conv3d(x, w, [1, *st, 1], pad, dilations=[1, *dl, 1])
    ref = np_conv3d(x, w, st, pad, dl)
    assert y.dtype == tg.float64
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-10)
    # the same in float32, and with channels first
    y32 = tg.nn.conv3d(x.astype(np.float32), w.astype(np.float32), [1, *st, 1], pad, dilations=[1, *dl, 1])
    np.testing.assert_allclose(y32.numpy(), ref, rtol=1e-4, atol=1e-4)
    yf = tg.nn.conv3d(x.transpose(0, 4, 1, 2, 3), w, [1, 1, *st], pad, "NCDHW", [1, 1, *dl])
    np.testing.assert_allclose(yf.numpy(), ref.transpose(0, 4, 1, 2, 3), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("xs,ws,st,pad,dl", CONV_CASES[:-1], ids=_ids(CONV_CASES[:-1]))
def test_conv3d_transpose_is_the_adjoint(xs, ws, st, pad, dl):
    """<conv3d(x, w), g> == <x, conv3d_transpose(g, w)> for every x, g: checked on random pairs."""
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    y = tg.nn.conv3d(x, w, [1, *st, 1], pad, dilations=[1, *dl, 1])
    g = RNG.standard_normal(tuple(y.shape))
    # strides and dilations as TF's conv3d_transpose takes them: an int, 3 or 5 values
    xt = tg.nn.conv3d_transpose(g, w, list(xs), list(st), pad, dilations=dl[0] if len(set(dl)) == 1 else list(dl))
    assert tuple(xt.shape) == xs
    np.testing.assert_allclose(np.vdot(y.numpy(), g), np.vdot(x, xt.numpy()), rtol=1e-10)
    xf = tg.nn.conv3d_transpose(
        g.transpose(0, 4, 1, 2, 3), w, [xs[0], xs[4], *xs[1:4]], [1, 1, *st], pad, "NCDHW", [1, 1, *dl]
    )
    np.testing.assert_allclose(xf.numpy(), xt.numpy().transpose(0, 4, 1, 2, 3), rtol=1e-10, atol=1e-12)


POOL_CASES = [
    ((1, 4, 4, 4, 2), (2, 2, 2), (2, 2, 2), "VALID"),
    ((2, 5, 6, 7, 3), (2, 2, 2), (2, 2, 2), "SAME"),
    ((1, 5, 6, 7, 2), (3, 2, 3), (2, 1, 2), "SAME"),
    ((1, 5, 6, 7, 2), (3, 2, 3), (1, 2, 2), "VALID"),
    ((2, 3, 5, 4, 1), (3, 3, 1), (1, 1, 1), "SAME"),
]


@pytest.mark.parametrize("xs,k,s,pad", POOL_CASES)
def test_pool3d_forward_matches_loops(xs, k, s, pad):
    x = RNG.standard_normal(xs)
    for kind, fn in (("max", tg.nn.max_pool3d), ("avg", tg.nn.avg_pool3d)):
        ref = np_pool3d(x, k, s, pad, kind)
        np.testing.assert_allclose(fn(x, list(k), list(s), pad).numpy(), ref, rtol=1e-12, atol=1e-12)
        yf = fn(x.transpose(0, 4, 1, 2, 3), [1, 1, *k], [1, 1, *s], pad, "NCDHW")
        np.testing.assert_allclose(yf.numpy(), ref.transpose(0, 4, 1, 2, 3), rtol=1e-12, atol=1e-12)


def np_max_pool3d_grad(x, g, k, s, padding):
    """TF's MaxPool3DGrad rule: every element equal to its window's maximum gets the window's gradient."""
    n, *size, c = x.shape
    pads = [same_pads(size[i], k[i], s[i]) if padding == "SAME" else (0, 0) for i in range(3)]
    gx = np.zeros_like(x, dtype=np.float64)
    for a, b, e in np.ndindex(*g.shape[1:4]):
        lo = [(a, b, e)[i] * s[i] - pads[i][0] for i in range(3)]
        sl = tuple(slice(max(lo[i], 0), lo[i] + k[i]) for i in range(3))
        win = x[(slice(None),) + sl]
        hit = win == win.max(axis=(1, 2, 3), keepdims=True)
        gx[(slice(None),) + sl] += hit * g[:, a, b, e][:, None, None, None, :]
    return gx


@pytest.mark.parametrize("xs,k,s,pad", POOL_CASES)
def test_max_pool3d_gradient_feeds_every_tied_maximum(xs, k, s, pad):
    x = RNG.integers(0, 3, size=xs).astype(np.float64)  # many ties
    v = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(v)
        y = tg.nn.max_pool3d(v, list(k), list(s), pad)
    g = RNG.standard_normal(tuple(y.shape))
    gx = tape.gradient(y, v, output_gradients=tg.constant(g))
    np.testing.assert_allclose(gx.numpy(), np_max_pool3d_grad(x, g, k, s, pad), rtol=1e-12, atol=1e-12)


def test_gradients_by_finite_differences():
    x, w = RNG.standard_normal((2, 4, 3, 3, 2)), RNG.standard_normal((2, 2, 2, 2, 2))
    check = tg.testing.check_gradients
    check(lambda a, b: tg.nn.conv3d(a, b, [1, 2, 1, 1, 1], "SAME"), [x, w])
    check(lambda a, b: tg.nn.conv3d(a, b, [1, 1, 1, 1, 1], "VALID", dilations=[1, 2, 1, 2, 1]), [x, w])
    g = RNG.standard_normal((2, 2, 3, 2, 2))
    check(lambda a, b: tg.nn.conv3d_transpose(a, b, [2, 4, 3, 3, 2], [2, 1, 2], "SAME"), [g, w])
    x = RNG.standard_normal((1, 3, 4, 3, 2))
    for fn in (tg.nn.max_pool3d, tg.nn.avg_pool3d):
        check(lambda a: fn(a, [2, 2, 2], [1, 2, 1], "SAME"), [x])  # noqa: B023  (called at once)


def test_conv3d_gradient_shapes_and_groups():
    x = tg.Variable(RNG.standard_normal((1, 4, 3, 3, 4)).astype(np.float32))
    w = tg.Variable(RNG.standard_normal((2, 2, 2, 2, 6)).astype(np.float32))
    with tg.GradientTape() as tape:
        y = tg.nn.conv3d(x, w, [1, 1, 1, 1, 1], "SAME")
    gx, gw = tape.gradient(y, [x, w])
    assert gx.shape == x.shape and gw.shape == w.shape
    # a grouped conv is two ordinary convs on the channel halves
    xa, xb = x.numpy()[..., :2], x.numpy()[..., 2:]
    ref = np.concatenate(
        [np_conv3d(xa, w.numpy()[..., :3], (1, 1, 1), "SAME"), np_conv3d(xb, w.numpy()[..., 3:], (1, 1, 1), "SAME")], -1
    )
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-4, atol=1e-4)


def test_empty_outputs_and_dispatchers():
    x, w = RNG.standard_normal((2, 2, 5, 6, 3)), RNG.standard_normal((3, 2, 2, 3, 4))
    assert tuple(tg.nn.conv3d(x, w, [1, 1, 1, 1, 1], "VALID").shape) == (2, 0, 4, 5, 4)  # as TF
    assert tuple(tg.nn.max_pool3d(x, 3, 1, "VALID").shape) == (2, 0, 3, 4, 3)
    ref = tg.nn.conv3d(x, w, [1, 1, 2, 2, 1], "SAME").numpy()
    ref2 = tg.nn.conv3d(x, w, [1, 2, 2, 2, 1], "SAME").numpy()
    np.testing.assert_allclose(tg.nn.convolution(x, w, strides=2, padding="SAME").numpy(), ref2)
    np.testing.assert_allclose(tg.nn.convolution(x, w, strides=[1, 2, 2], padding="SAME").numpy(), ref)
    y = RNG.standard_normal((2, 2, 3, 3, 4))
    np.testing.assert_allclose(
        tg.nn.conv_transpose(y, w, [2, 2, 5, 6, 3], [1, 2, 2]).numpy(),
        tg.nn.conv3d_transpose(y, w, [2, 2, 5, 6, 3], [1, 2, 2]).numpy(),
    )
    x = RNG.standard_normal((1, 4, 5, 3, 2))
    for kind, fn in (("MAX", tg.nn.max_pool3d), ("AVG", tg.nn.avg_pool3d)):
        ref = fn(x, [2, 3, 2], [2, 1, 1], "SAME").numpy()
        np.testing.assert_allclose(tg.nn.pool(x, [2, 3, 2], kind, [2, 1, 1], "SAME").numpy(), ref)
        np.testing.assert_allclose(
            (tg.nn.max_pool if kind == "MAX" else tg.nn.avg_pool)(x, [2, 3, 2], [2, 1, 1], "SAME").numpy(), ref
        )


X5, W5 = np.ones((1, 3, 3, 3, 2), np.float32), np.ones((2, 2, 2, 2, 3), np.float32)
Y5 = np.ones((1, 2, 2, 2, 3), np.float32)

ERRORS = [
    # conv3d: the op builder's attr checks, then the kernel's
    (lambda: tg.nn.conv3d(X5, W5, 1, "SAME"), TypeError, "Expected list for 'strides' argument to 'conv3d' Op, not 1."),
    (
        lambda: tg.nn.conv3d(X5, W5, [1, 1, 1], "SAME"),
        InvalidArgumentError,
        "Length for attr 'strides' of 3 must be at least minimum 5",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 6, "SAME"),
        InvalidArgumentError,
        r"Sliding window strides field must specify 5 dimensions \[Op:Conv3D\]",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [2, 1, 1, 1, 1], "SAME"),
        InvalidArgumentError,
        "does not yet support strides in the batch and depth dimensions",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1, 0, 1, 1, 1], "SAME"),
        InvalidArgumentError,
        "Spatial strides should be larger than 0",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 5, "SAME", dilations=2),
        TypeError,
        "Expected list for 'dilations' argument to 'conv3d' Op, not 2.",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 5, "SAME", dilations=[1, 1, 1, 1, 2]),
        InvalidArgumentError,
        "dilation rates in the batch and depth",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 5, "SAME", dilations=[1, 0, 1, 1, 1]),
        InvalidArgumentError,
        "Dilated rates should be larger than 0",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 5, "FOO"),
        InvalidArgumentError,
        'Value for attr \'padding\' of "FOO" is not in the list of allowed values: "SAME", "VALID"',
    ),
    (lambda: tg.nn.conv3d(X5, W5, [1] * 5, [[0, 0]] * 5), TypeError, "Expected string for argument 'padding' not"),
    (
        lambda: tg.nn.conv3d(X5, W5, [1] * 5, "SAME", "NHWC"),
        InvalidArgumentError,
        'Value for attr \'data_format\' of "NHWC" is not in the list of allowed values: "NDHWC", "NCDHW"',
    ),
    (
        lambda: tg.nn.conv3d(X5[0], W5, [1] * 5, "SAME"),
        InvalidArgumentError,
        r"^input must be 5-dimensional \[Op:Conv3D\]",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5[0], [1] * 5, "SAME"),
        InvalidArgumentError,
        r"^filter must be 5-dimensional \[Op:Conv3D\]",
    ),
    (
        lambda: tg.nn.conv3d(X5, np.ones((2, 2, 2, 3, 3), np.float32), [1] * 5, "SAME"),
        InvalidArgumentError,
        "Input depth must be evenly divisible by filter depth: 2 vs 3",
    ),
    (
        lambda: tg.nn.conv3d(X5.astype(np.int32), W5.astype(np.int32), [1] * 5, "SAME"),
        InvalidArgumentError,
        r"Value for attr 'T' of int32 is not in the list of allowed values: half, bfloat16, float, double \[Op:Conv3D\]",
    ),
    (
        lambda: tg.nn.conv3d(X5, W5.astype(np.float64), [1] * 5, "SAME"),
        InvalidArgumentError,
        r"cannot compute Conv3D as input #1\(zero-based\) was expected to be a float tensor but is a double tensor",
    ),
    # conv3d_transpose
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [1, 3, 3, 3, 2], [1, 2, 2, 1]),
        ValueError,
        r"strides should be of length 1, 3 or 5. Received: strides=\[1, 2, 2, 1\] of length 4",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [1, 3, 3, 3, 2], [1, 1, 1, 1, 2]),
        InvalidArgumentError,
        r"strides in the batch and depth dimensions. \[Op:Conv3DBackpropInputV2\]",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [1, 3, 3, 3], 1),
        InvalidArgumentError,
        "input tensor must have 5 dimensions",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5[0], [1, 3, 3, 3, 2], 1),
        InvalidArgumentError,
        "filter_sizes tensor must have 5 dimensions",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5[0], W5, [1, 3, 3, 3, 2], 1),
        InvalidArgumentError,
        "out_backprop tensor must have 5 dimensions",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [1, 3, 3, 3, 5], 1),
        InvalidArgumentError,
        "input and filter_sizes must have the same number of channels. Got 5 for input and 2 for filter_sizes",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5[..., :2], W5, [1, 3, 3, 3, 2], 1),
        InvalidArgumentError,
        "out_backprop and filter_sizes must have the same number of channels. Got 2 for out_backprop and 3 for filter_sizes",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [2, 3, 3, 3, 2], 1, "VALID"),
        InvalidArgumentError,
        "input and out_backprop must have the same batch size. Input batch: 2, outbackprop batch: 1, batch_dim: 0",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5, [1, 5, 3, 3, 2], 2),
        InvalidArgumentError,
        "Size of out_backprop doesn't match computed: actual = 2, computed = 3 spatial_dim: 1 input: 5 filter: 2 output: 2 stride: 2 dilation: 1",
    ),
    (
        lambda: tg.nn.conv3d_transpose(Y5, W5.astype(np.float64), [1, 3, 3, 3, 2], 1),
        InvalidArgumentError,
        r"input #2\(zero-based\) was expected to be a double tensor but is a float tensor",
    ),
    # pools
    (
        lambda: tg.nn.max_pool3d(X5, [1, 2, 2, 2], 1, "SAME"),
        ValueError,
        r"ksize should be of length 1, 3 or 5. Received: ksize=\[1, 2, 2, 2\] of length 4",
    ),
    (
        lambda: tg.nn.max_pool3d(X5, [2, 2, 2, 2, 1], 1, "SAME"),
        UnimplementedError,
        r"Pooling is not yet supported on the batch dimension. \[Op:MaxPool3D\]",
    ),
    (
        lambda: tg.nn.avg_pool3d(X5, 2, [1, 1, 1, 1, 2], "SAME"),
        UnimplementedError,
        r"Pooling is not yet supported on the depth dimension. \[Op:AvgPool3D\]",
    ),
    (
        lambda: tg.nn.avg_pool3d(X5[0], 2, 1, "SAME"),
        InvalidArgumentError,
        r"tensor_in must be 5-dimensional \[Op:AvgPool3D\]",
    ),
    (
        lambda: tg.nn.max_pool3d(X5, [1, 0, 2, 2, 1], 1, "SAME"),
        InvalidArgumentError,
        "Sliding window ksize field must have non-negative dimensions",
    ),
    (lambda: tg.nn.max_pool3d(X5, 2, 0, "SAME"), InvalidArgumentError, "Stride must be > 0, but got 0"),
    (
        lambda: tg.nn.max_pool3d(X5.astype(np.int32), 2, 1, "SAME"),
        InvalidArgumentError,
        "Value for attr 'T' of int32 is not in the list of allowed values",
    ),
    (
        lambda: tg.nn.avg_pool3d(X5, 2, 1, "SAME", "NCHW"),
        InvalidArgumentError,
        "Value for attr 'data_format' of \"NCHW\"",
    ),
    # dispatchers
    (
        lambda: tg.nn.max_pool(X5[None], 2, 1, "SAME"),
        ValueError,
        r"`input.shape.rank` must be 3, 4 or 5. Received: input.shape=\(1, 1, 3, 3, 3, 2\) of rank 6.",
    ),
    (lambda: tg.nn.pool(X5, [2, 2], "MAX"), ValueError, r"Shape \(1, 3, 3, 3, 2\) must have rank 4"),
    (
        lambda: tg.nn.convolution(X5, W5, strides=2, dilations=2),
        ValueError,
        r"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: strides=\[2 2 2\] and dilation_rate=\[2 2 2\]",
    ),
    (
        lambda: tg.nn.convolution(X5, W5[None]),
        ValueError,
        r"`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims=4.",
    ),
    (
        lambda: tg.nn.conv_transpose(Y5, W5, [1, 3, 3, 3, 2, 1], 1),
        ValueError,
        r"`output_shape` must be of length 3, 4 or 5. Received: output_shape=\[1, 3, 3, 3, 2, 1\] of length 6.",
    ),
]


@pytest.mark.parametrize("fn,exc,msg", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_conv_lstm3d_runs_and_trains():
    layer = tg.keras.layers.ConvLSTM3D(2, (2, 3, 3), padding="same", return_sequences=True)
    x = RNG.standard_normal((2, 3, 3, 4, 4, 1)).astype(np.float32)
    with tg.GradientTape() as tape:
        y = layer(x)
        loss = tg.reduce_sum(y * y)
    assert tuple(y.shape) == (2, 3, 3, 4, 4, 2)
    assert [tuple(w.shape) for w in layer.weights] == [(2, 3, 3, 1, 8), (2, 3, 3, 2, 8), (8,)]
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and np.all(np.isfinite(g.numpy())) for g in grads)


# ---- against TensorFlow / Keras -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


def _tf_grads(tf_ref, fn, args, g):
    vs = [tf_ref.constant(a) for a in args]
    with tf_ref.GradientTape() as tape:
        for v in vs:
            tape.watch(v)
        y = fn(*vs)
    return y.numpy(), [d.numpy() for d in tape.gradient(y, vs, output_gradients=tf_ref.constant(g))]


def _tg_grads(fn, args, g):
    vs = [tg.constant(a) for a in args]
    with tg.GradientTape() as tape:
        for v in vs:
            tape.watch(v)
        y = fn(*vs)
    return y.numpy(), [d.numpy() for d in tape.gradient(y, vs, output_gradients=tg.constant(g))]


def _compare(tf_ref, tg_fn, tf_fn, args, out_shape, tol=2e-4):
    g = RNG.standard_normal(out_shape).astype(np.float32)
    y, gs = _tg_grads(tg_fn, args, g)
    y_ref, gs_ref = _tf_grads(tf_ref, tf_fn, args, g)
    np.testing.assert_allclose(y, y_ref, rtol=tol, atol=tol)
    for a, b in zip(gs, gs_ref):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@pytest.mark.parametrize("xs,ws,st,pad,dl", CONV_CASES[:-1], ids=_ids(CONV_CASES[:-1]))
def test_conv3d_and_transpose_match_tf(tf_ref, xs, ws, st, pad, dl):
    x, w = RNG.standard_normal(xs).astype(np.float32), RNG.standard_normal(ws).astype(np.float32)
    # tf.nn.convolution: TF's CPU Conv3D kernel without oneDNN has no dilations; this path has
    y_ref = tf_ref.nn.convolution(x, w, list(st), pad, "NDHWC", list(dl))
    _compare(
        tf_ref,
        lambda a, b: tg.nn.conv3d(a, b, [1, *st, 1], pad, dilations=[1, *dl, 1]),
        lambda a, b: tf_ref.nn.convolution(a, b, list(st), pad, "NDHWC", list(dl)),
        [x, w],
        tuple(y_ref.shape),
    )
    if dl != (1, 1, 1):
        return
    y = RNG.standard_normal(tuple(y_ref.shape)).astype(np.float32)
    _compare(
        tf_ref,
        lambda a, b: tg.nn.conv3d_transpose(a, b, list(xs), list(st), pad),
        lambda a, b: tf_ref.nn.conv3d_transpose(a, b, list(xs), list(st), pad),
        [y, w],
        xs,
    )


@pytest.mark.parametrize("xs,k,s,pad", POOL_CASES)
def test_pool3d_matches_tf(tf_ref, xs, k, s, pad):
    x = RNG.standard_normal(xs).astype(np.float32)
    out = tuple(tf_ref.nn.max_pool3d(x, list(k), list(s), pad).shape)
    for name in ("max_pool3d", "avg_pool3d"):
        _compare(
            tf_ref,
            lambda a: getattr(tg.nn, name)(a, list(k), list(s), pad),  # noqa: B023  (called at once)
            lambda a: getattr(tf_ref.nn, name)(a, list(k), list(s), pad),  # noqa: B023
            [x],
            out,
            tol=1e-5,
        )


def test_max_pool3d_ties_match_tf(tf_ref):
    x = RNG.integers(0, 3, size=(2, 5, 4, 5, 3)).astype(np.float32)
    for k, s, pad in (((2, 2, 2), (2, 2, 2), "VALID"), ((3, 2, 3), (1, 2, 1), "SAME"), ((2, 3, 2), (2, 1, 2), "SAME")):
        out = tuple(tf_ref.nn.max_pool3d(x, list(k), list(s), pad).shape)
        _compare(
            tf_ref,
            lambda a: tg.nn.max_pool3d(a, list(k), list(s), pad),  # noqa: B023  (called at once)
            lambda a: tf_ref.nn.max_pool3d(a, list(k), list(s), pad),  # noqa: B023
            [x],
            out,
            tol=1e-5,
        )


def test_conv_lstm3d_matches_keras(tf_ref):
    keras = pytest.importorskip("keras")
    kwargs = dict(filters=2, kernel_size=(2, 2, 3), padding="same", return_sequences=True, return_state=True)
    x = RNG.standard_normal((2, 3, 3, 3, 4, 2)).astype(np.float32)
    k_layer, t_layer = keras.layers.ConvLSTM3D(**kwargs), tg.keras.layers.ConvLSTM3D(**kwargs)
    k_layer(x)
    t_layer(x)
    assert [tuple(w.shape) for w in t_layer.weights] == [tuple(w.shape) for w in k_layer.weights]
    weights = [RNG.standard_normal(tuple(w.shape)).astype(np.float32) * 0.3 for w in k_layer.weights]
    k_layer.set_weights(weights)
    t_layer.set_weights(weights)
    k_x = tf_ref.constant(x)
    with tf_ref.GradientTape() as tape:
        tape.watch(k_x)
        k_out = k_layer(k_x)
        k_loss = sum(tf_ref.reduce_sum(o * o) for o in k_out)
    k_grads = tape.gradient(k_loss, [k_x] + list(k_layer.trainable_weights))
    t_x = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(t_x)
        t_out = t_layer(t_x)
        t_loss = sum(tg.reduce_sum(o * o) for o in t_out)
    t_grads = tape.gradient(t_loss, [t_x] + list(t_layer.trainable_weights))
    for a, b in zip(t_out, k_out):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    for a, b in zip(t_grads, k_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-4)
    assert t_layer.get_config().keys() == k_layer.get_config().keys()


def test_keras_ops_5d_match_keras(tf_ref):
    keras = pytest.importorskip("keras")
    x = RNG.standard_normal((2, 4, 5, 3, 2)).astype(np.float32)
    k = RNG.standard_normal((2, 3, 2, 2, 3)).astype(np.float32)
    kt = RNG.standard_normal((3, 2, 2, 4, 2)).astype(np.float32)  # spatial + (out, in)
    for name, args, kwargs in [
        ("conv", (x, k), {"strides": (2, 1, 1), "padding": "same"}),
        ("conv", (x, k), {"dilation_rate": 2, "padding": "same"}),
        ("conv_transpose", (x, kt), {"strides": 2, "padding": "same"}),
        ("conv_transpose", (x, kt), {"strides": (2, 1, 2), "output_padding": (1, 0, 1)}),
        ("max_pool", (x,), {"pool_size": 2, "padding": "same"}),
        ("average_pool", (x,), {"pool_size": (3, 2, 2), "strides": 1, "padding": "same"}),
    ]:
        ours = getattr(tg.keras.ops, name)(*args, **kwargs)
        ref = getattr(keras.ops, name)(*args, **kwargs)
        np.testing.assert_allclose(ours.numpy(), np.asarray(ref), rtol=1e-4, atol=1e-4, err_msg=f"{name} {kwargs}")
