"""conv2d / conv1d / conv2d_transpose / max_pool2d / avg_pool2d: forward values against direct
numpy loops, gradients against finite differences (order 2 for conv, 1 and 2 for pools)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg


def same_pads(n, k, s, d=1):
    eff = (k - 1) * d + 1
    o = -(-n // s)
    total = max((o - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def np_conv2d(x, w, strides, padding, dilations=(1, 1)):
    """Direct loop over output positions (cross-correlation, NHWC, HWIO)."""
    N, H, W, C = x.shape
    KH, KW, _, O = w.shape  # noqa: E741  (HWIO's O)
    sh, sw = strides
    dh, dw = dilations
    if padding == "SAME":
        pt, pb = same_pads(H, KH, sh, dh)
        pl, pr = same_pads(W, KW, sw, dw)
    elif padding == "VALID":
        pt = pb = pl = pr = 0
    else:
        (pt, pb), (pl, pr) = padding[1], padding[2]
    xp = np.zeros((N, H + pt + pb, W + pl + pr, C), x.dtype)
    xp[:, pt : pt + H, pl : pl + W] = x
    OH = (H + pt + pb - (KH - 1) * dh - 1) // sh + 1
    OW = (W + pl + pr - (KW - 1) * dw - 1) // sw + 1
    out = np.zeros((N, OH, OW, O), np.float64)
    for i in range(OH):
        for j in range(OW):
            patch = xp[:, i * sh : i * sh + (KH - 1) * dh + 1 : dh, j * sw : j * sw + (KW - 1) * dw + 1 : dw, :]
            out[:, i, j, :] = np.einsum("nhwc,hwco->no", patch.astype(np.float64), w.astype(np.float64))
    return out


def np_pool(x, k, s, padding, kind):
    N, H, W, C = x.shape
    if padding == "SAME":
        pt, pb = same_pads(H, k[0], s[0])
        pl, pr = same_pads(W, k[1], s[1])
    else:
        pt = pb = pl = pr = 0
    OH = (H + pt + pb - k[0]) // s[0] + 1
    OW = (W + pl + pr - k[1]) // s[1] + 1
    out = np.zeros((N, OH, OW, C))
    for i in range(OH):
        for j in range(OW):
            h0, w0 = i * s[0] - pt, j * s[1] - pl
            win = x[:, max(h0, 0) : min(h0 + k[0], H), max(w0, 0) : min(w0 + k[1], W), :]
            out[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return out


CASES = [
    # x shape, w shape, strides, padding, dilations
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "SAME", (1, 1)),
    ((2, 5, 6, 3), (3, 3, 3, 4), (1, 1), "VALID", (1, 1)),
    ((1, 7, 7, 2), (3, 2, 2, 3), (2, 2), "SAME", (1, 1)),
    ((1, 8, 7, 2), (2, 3, 2, 3), (3, 2), "VALID", (1, 1)),
    ((2, 7, 7, 2), (3, 3, 2, 2), (1, 1), "SAME", (2, 2)),
    ((1, 9, 8, 1), (2, 3, 1, 2), (1, 1), "VALID", (2, 1)),
    ((3, 4, 4, 5), (1, 1, 5, 2), (1, 1), "VALID", (1, 1)),  # pointwise gemm path
    ((1, 6, 5, 2), (3, 3, 2, 2), (1, 1), [[0, 0], [1, 2], [0, 1], [0, 0]], (1, 1)),
    # KH*KW*C > 32: the im2col + gemm path (the cases above take the direct small-K loops)
    ((2, 5, 6, 8), (3, 3, 8, 3), (1, 1), "SAME", (1, 1)),
    ((1, 7, 7, 6), (3, 2, 6, 3), (2, 2), "SAME", (1, 1)),
    ((1, 8, 7, 5), (3, 3, 5, 2), (2, 3), "VALID", (1, 1)),
    ((2, 7, 7, 5), (3, 3, 5, 2), (1, 1), "SAME", (2, 2)),
    ((2, 3, 3, 40), (1, 1, 40, 3), (1, 1), "VALID", (1, 1)),
    ((1, 6, 5, 4), (3, 3, 4, 2), (1, 1), [[0, 0], [2, 0], [1, 1], [0, 0]], (1, 1)),
]


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_forward_matches_numpy(xs, ws, strides, padding, dil, dtype, rng):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    y = tg.nn.conv2d(x, w, strides=list(strides), padding=padding, dilations=list(dil))
    ref = np_conv2d(x, w, strides, padding, dil)
    assert y.dtype.name == dtype and tuple(y.shape) == ref.shape
    tol = 2e-5 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(y.numpy(), ref, rtol=tol, atol=tol)


def test_conv2d_large_batch_uses_chunks(rng):
    # more images than one im2col chunk holds
    x = rng.standard_normal((70, 12, 12, 16))
    w = rng.standard_normal((3, 3, 16, 4))
    y = tg.nn.conv2d(x, w, 1, "SAME")
    np.testing.assert_allclose(y.numpy(), np_conv2d(x, w, (1, 1), "SAME"), rtol=1e-10, atol=1e-10)
    with tg.GradientTape() as tape:
        xt = tg.constant(x)
        tape.watch(xt)
        wt = tg.constant(w)
        tape.watch(wt)
        s = tg.reduce_sum(tg.nn.conv2d(xt, wt, 1, "SAME") ** 2)
    gx, gw = tape.gradient(s, [xt, wt])
    # <grad, direction> against a central difference along a random direction
    u = rng.standard_normal(w.shape)
    eps = 1e-6
    fd = (
        np.sum(np_conv2d(x, w + eps * u, (1, 1), "SAME") ** 2) - np.sum(np_conv2d(x, w - eps * u, (1, 1), "SAME") ** 2)
    ) / (2 * eps)
    np.testing.assert_allclose(np.sum(gw.numpy() * u), fd, rtol=1e-6)


@pytest.mark.parametrize("xs,ws,strides,padding,dil", CASES)
def test_conv2d_gradients_order2(xs, ws, strides, padding, dil, rng):
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    tg.testing.check_gradients(
        lambda a, b: tg.nn.conv2d(a, b, list(strides), padding, dilations=list(dil)), [x, w], order=2
    )


def test_conv2d_third_order(rng):
    x = rng.standard_normal((1, 4, 4, 2))
    w = rng.standard_normal((2, 2, 2, 2))
    tg.testing.check_gradients(
        lambda a, b: tg.nn.conv2d(a, b, 1, "SAME") * tg.nn.conv2d(a, b, 1, "SAME"), [x, w], order=3
    )


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(1, 6),
    w=st.integers(1, 6),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    s=st.integers(1, 3),
    same=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_conv2d_random_shapes(h, w, kh, kw, s, same, seed):
    rng = np.random.default_rng(seed)
    padding = "SAME" if same else "VALID"
    x = rng.standard_normal((2, h, w, 2))
    f = rng.standard_normal((kh, kw, 2, 3))
    if not same and (h < kh or w < kw):
        # TF's GetWindowedOutputSize: (in - k + s) / s, truncated; negative is an error
        if int((h - kh + s) / s) < 0 or int((w - kw + s) / s) < 0:
            with pytest.raises(tg.errors.InvalidArgumentError, match="Computed output size would be negative"):
                tg.nn.conv2d(x, f, s, padding)
        else:
            assert tg.nn.conv2d(x, f, s, padding).numpy().size == 0
        return
    y = tg.nn.conv2d(x, f, s, padding)
    np.testing.assert_allclose(y.numpy(), np_conv2d(x, f, (s, s), padding), rtol=1e-10, atol=1e-10)
    tg.testing.check_gradients(lambda a, b: tg.nn.conv2d(a, b, s, padding), [x, f], order=1)


def test_grouped_conv2d(rng):
    x = rng.standard_normal((2, 5, 5, 6))
    w = rng.standard_normal((3, 3, 2, 6))  # 3 groups of 2 input and 2 output channels
    y = tg.nn.conv2d(x, w, 1, "SAME")
    ref = np.concatenate(
        [np_conv2d(x[..., 2 * g : 2 * g + 2], w[..., 2 * g : 2 * g + 2], (1, 1), "SAME") for g in range(3)], axis=-1
    )
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda a, b: tg.nn.conv2d(a, b, 1, "SAME"), [x[:1, :4, :4], w], order=2)


def test_depthwise_and_separable_conv2d(rng):
    x = rng.standard_normal((2, 6, 5, 3))
    w = rng.standard_normal((3, 2, 3, 2))
    pw = rng.standard_normal((1, 1, 6, 4))
    y = tg.nn.depthwise_conv2d(x, w, [1, 2, 1, 1], "SAME")
    ref = np.stack(
        [
            np_conv2d(x[..., c : c + 1], w[:, :, c : c + 1, m : m + 1], (2, 1), "SAME")[..., 0]
            for c in range(3)
            for m in range(2)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    s = tg.nn.separable_conv2d(x, w, pw, [1, 2, 1, 1], "SAME")
    np.testing.assert_allclose(s.numpy(), np.einsum("nhwc,co->nhwo", ref, pw[0, 0]), rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda a, b: tg.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "VALID"), [x[:1], w], order=2)


def test_conv2d_nchw_matches_nhwc(rng):
    x = rng.standard_normal((2, 3, 5, 5))
    w = rng.standard_normal((3, 3, 3, 2))
    y = tg.nn.conv2d(x, w, [1, 1, 2, 2], "SAME", data_format="NCHW")
    ref = np_conv2d(x.transpose(0, 2, 3, 1), w, (2, 2), "SAME").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)


def test_conv1d_forward_and_gradients(rng):
    x = rng.standard_normal((2, 9, 3))
    w = rng.standard_normal((3, 3, 4))
    for stride, padding in [(1, "SAME"), (2, "VALID"), (2, "SAME")]:
        y = tg.nn.conv1d(x, w, stride, padding)
        ref = np_conv2d(x[:, None], w[None], (1, stride), padding)[:, 0]
        np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda a, b: tg.nn.conv1d(a, b, 2, "SAME"), [x, w], order=2)


def test_conv2d_transpose_is_input_gradient(rng):
    x = rng.standard_normal((2, 5, 5, 3))
    w = rng.standard_normal((3, 3, 3, 4))
    g = rng.standard_normal((2, 3, 3, 4))
    xt = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(xt)
        y = tg.nn.conv2d(xt, w, 2, "SAME")
    dx = tape.gradient(y, xt, output_gradients=tg.constant(g))
    t = tg.nn.conv2d_transpose(g, w, [2, 5, 5, 3], 2, "SAME")
    np.testing.assert_allclose(t.numpy(), dx.numpy(), rtol=1e-12, atol=1e-12)
    # adjoint identity: <conv(x), g> == <x, conv_transpose(g)>
    np.testing.assert_allclose(np.sum(np_conv2d(x, w, (2, 2), "SAME") * g), np.sum(x * t.numpy()), rtol=1e-10)
    tg.testing.check_gradients(lambda a, b: tg.nn.conv2d_transpose(a, b, [2, 5, 5, 3], 2, "SAME"), [g, w], order=2)


POOLS = [
    ((2, 5, 6, 3), (2, 2), (2, 2), "VALID"),
    ((2, 5, 6, 3), (3, 3), (2, 2), "SAME"),
    ((1, 7, 5, 2), (3, 2), (1, 1), "SAME"),
    ((1, 7, 5, 2), (2, 3), (3, 1), "VALID"),
    ((1, 4, 4, 1), (1, 1), (2, 2), "SAME"),
]


@pytest.mark.parametrize("xs,k,s,padding", POOLS)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pool_forward_and_gradients(xs, k, s, padding, kind, rng):
    x = rng.permutation(np.prod(xs)).reshape(xs).astype(np.float64) * 0.1 + rng.uniform(0, 0.01, xs)  # no ties
    fn = tg.nn.max_pool2d if kind == "max" else tg.nn.avg_pool2d
    y = fn(x, list(k), list(s), padding)
    np.testing.assert_allclose(y.numpy(), np_pool(x, k, s, padding, kind), rtol=1e-12)
    y32 = fn(x.astype(np.float32), list(k), list(s), padding)
    np.testing.assert_allclose(y32.numpy(), np_pool(x, k, s, padding, kind), rtol=2e-6)
    tg.testing.check_gradients(lambda a: fn(a, list(k), list(s), padding), [x], order=1)
    # second order: the gradient is linear in the upstream gradient, through MaxPoolGrad(Grad) / AvgPoolGrad
    tg.testing.check_gradients(lambda a: fn(a, list(k), list(s), padding) ** 2, [x], order=2)


@settings(max_examples=20, deadline=None)
@given(
    h=st.integers(1, 7),
    w=st.integers(1, 7),
    kh=st.integers(1, 3),
    kw=st.integers(1, 3),
    sh=st.integers(1, 3),
    sw=st.integers(1, 3),
    same=st.booleans(),
    kind=st.sampled_from(["max", "avg"]),
    seed=st.integers(0, 1000),
)
def test_pool_random_shapes(h, w, kh, kw, sh, sw, same, kind, seed):
    rng = np.random.default_rng(seed)
    padding = "SAME" if same else "VALID"
    x = rng.permutation(2 * h * w * 2).reshape(2, h, w, 2) * 0.1 + rng.uniform(0, 0.01, (2, h, w, 2))
    fn = tg.nn.max_pool2d if kind == "max" else tg.nn.avg_pool2d
    if not same and (h < kh or w < kw):
        if int((h - kh + sh) / sh) < 0 or int((w - kw + sw) / sw) < 0:
            with pytest.raises(tg.errors.InvalidArgumentError, match="Computed output size would be negative"):
                fn(x, [kh, kw], [sh, sw], padding)
        else:
            assert fn(x, [kh, kw], [sh, sw], padding).numpy().size == 0
        return
    np.testing.assert_allclose(
        fn(x, [kh, kw], [sh, sw], padding).numpy(), np_pool(x, (kh, kw), (sh, sw), padding, kind), rtol=1e-12
    )
    tg.testing.check_gradients(lambda a: fn(a, [kh, kw], [sh, sw], padding), [x], order=1)


def test_max_pool_gradient_goes_to_first_maximum():
    x = tg.constant(np.ones((1, 2, 2, 1)))
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.nn.max_pool2d(x, 2, 2, "VALID")
    g = tape.gradient(y, x).numpy().ravel()
    np.testing.assert_array_equal(g, [1.0, 0.0, 0.0, 0.0])


def test_pool_1d_and_generic(rng):
    x = rng.standard_normal((2, 7, 3))
    y = tg.nn.max_pool1d(x, 3, 2, "SAME")
    np.testing.assert_allclose(y.numpy(), np_pool(x[:, None], (1, 3), (1, 2), "SAME", "max")[:, 0])
    np.testing.assert_allclose(
        tg.nn.avg_pool(x, 2, 2, "VALID").numpy(), np_pool(x[:, None], (1, 2), (1, 2), "VALID", "avg")[:, 0]
    )
    x4 = rng.standard_normal((1, 4, 4, 2))
    np.testing.assert_allclose(
        tg.nn.max_pool(x4, [1, 2, 2, 1], [1, 2, 2, 1], "VALID").numpy(), np_pool(x4, (2, 2), (2, 2), "VALID", "max")
    )
    with pytest.raises(ValueError, match="`input.shape.rank` must be 3, 4 or 5"):
        tg.nn.max_pool(rng.standard_normal((1, 1, 2, 2, 2, 1)), 2, 2, "VALID")


def test_conv_errors(rng):
    x = rng.standard_normal((1, 5, 5, 3)).astype("float32")
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"Depth of input \(3\) is not a multiple of input depth of filter \(4\)"
    ):
        tg.nn.conv2d(x, np.ones((3, 3, 4, 2), "float32"), 1, "SAME")
    with pytest.raises(
        tg.errors.InvalidArgumentError, match="output depth must be evenly divisible by number of groups: 3 vs 2"
    ):
        tg.nn.conv2d(np.ones((1, 5, 5, 4), "float32"), np.ones((3, 3, 2, 3), "float32"), 1, "SAME")
    with pytest.raises(
        tg.errors.InvalidArgumentError, match="input depth must be evenly divisible by filter depth: 4 vs 3"
    ):
        tg.nn.depthwise_conv2d(np.ones((1, 5, 5, 4), "float32"), np.ones((3, 3, 3, 2), "float32"), [1, 1, 1, 1], "SAME")
    with pytest.raises(TypeError, match="Expected list of 4 ints for 'strides'"):
        tg.nn.depthwise_conv2d(np.ones((1, 5, 5, 4), "float32"), np.ones((3, 3, 4, 2), "float32"), 1, "SAME")
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"input must be 4-dimensional\[5,5,3\]"):
        tg.nn.conv2d(x[0], np.ones((3, 3, 3, 2), "float32"), 1, "SAME")
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"filter must be 4-dimensional"):
        tg.nn.conv2d(x, np.ones((3, 3, 3), "float32"), 1, "SAME")
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected to be a float tensor but is a double tensor"):
        tg.nn.conv2d(x, np.ones((3, 3, 3, 2)), 1, "SAME")
    with pytest.raises(tg.errors.InvalidArgumentError, match="int32"):
        tg.nn.conv2d(np.ones((1, 5, 5, 3), "int32"), np.ones((3, 3, 3, 2), "int32"), 1, "SAME")
    with pytest.raises(
        tg.errors.InvalidArgumentError,
        match=r"Computed output size would be negative: -1 \[input_size: 2, effective_filter_size: 4",
    ):
        tg.nn.conv2d(np.ones((1, 2, 2, 1), "float32"), np.ones((4, 4, 1, 1), "float32"), 1, "VALID")
    with pytest.raises(tg.errors.InvalidArgumentError, match="Value for attr 'padding' of \"same\" is not in the list"):
        tg.nn.conv2d(x, np.ones((3, 3, 3, 2), "float32"), 1, "same")
    with pytest.raises(tg.errors.InvalidArgumentError, match="batch and depth"):
        tg.nn.conv2d(x, np.ones((3, 3, 3, 2), "float32"), [2, 1, 1, 1], "SAME")
    with pytest.raises(tg.errors.InvalidArgumentError, match="Stride must be > 0, but got 0"):
        tg.nn.conv2d(x, np.ones((3, 3, 3, 2), "float32"), 0, "VALID")
    with pytest.raises(
        tg.errors.InvalidArgumentError,
        match="Sliding window ksize must be positive. The specified or inferred ksize is: 1,0,0,1",
    ):
        tg.nn.max_pool2d(x, 0, 1, "VALID")
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"input must be 4-dimensional\[5,5,3\]"):
        tg.nn.avg_pool2d(x[0], 2, 2, "VALID")


def test_conv_empty_inputs():
    y = tg.nn.conv2d(np.ones((0, 4, 4, 2), "float32"), np.ones((3, 3, 2, 5), "float32"), 1, "SAME")
    assert tuple(y.shape) == (0, 4, 4, 5)
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Depth of input \(0\)"):
        tg.nn.conv2d(np.ones((1, 4, 4, 0), "float32"), np.ones((3, 3, 0, 5), "float32"), 1, "SAME")
    y = tg.nn.max_pool2d(np.ones((0, 4, 4, 2), "float32"), 2, 2, "VALID")
    assert tuple(y.shape) == (0, 2, 2, 2)


def test_cnn_training_step_reduces_loss(rng):
    x = tg.constant(rng.standard_normal((8, 10, 10, 1)).astype("float32"))
    w_true = rng.standard_normal((3, 3, 1, 4)).astype("float32")
    target = tg.nn.avg_pool2d(tg.nn.relu(tg.nn.conv2d(x, w_true, 1, "SAME")), 2, 2, "VALID")
    w = tg.Variable(np.full((3, 3, 1, 4), 0.1, "float32"))
    losses = []
    for _ in range(30):
        with tg.GradientTape() as tape:
            h = tg.nn.relu(tg.nn.conv2d(x, w, 1, "SAME"))
            y = tg.nn.avg_pool2d(h, 2, 2, "VALID")
            loss = tg.reduce_mean((y - target) ** 2)
        g = tape.gradient(loss, w)
        w.assign_sub(1.0 * g)
        losses.append(float(loss.numpy()))
    assert losses[-1] < 0.1 * losses[0]


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def test_generic_wrappers_errors():
    with pytest.raises(ValueError, match="`num_spatial_dims` must be 1, 2, or 3"):
        tg.nn.convolution(np.ones((1, 2, 2, 2, 2, 1), "float32"), np.ones((1, 1, 1, 1, 1, 1), "float32"))
    with pytest.raises(ValueError, match="pooling_type must be 'MAX' or 'AVG'"):
        tg.nn.pool(np.ones((1, 4, 4, 1), "float32"), [2, 2], "MIN")
    with pytest.raises(NotImplementedError, match="dilated pooling"):
        tg.nn.pool(np.ones((1, 4, 4, 1), "float32"), [2, 2], "MAX", dilations=[2, 2])
    with pytest.raises(TypeError, match="Expected string for argument 'padding'"):  # max pools take explicit pairs
        tg.nn.avg_pool2d(np.ones((1, 4, 4, 1), "float32"), 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])


def test_conv1d_transpose_is_conv1d_input_gradient(rng):
    x = tg.constant(rng.standard_normal((2, 8, 2)))
    w = rng.standard_normal((3, 2, 4))
    g = rng.standard_normal((2, 4, 4))
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.nn.conv1d(x, w, 2, "SAME")
    dx = tape.gradient(y, x, output_gradients=tg.constant(g))
    np.testing.assert_allclose(tg.nn.conv1d_transpose(g, w, [2, 8, 2], 2, "SAME").numpy(), dx.numpy(), rtol=1e-12)


@pytest.mark.parametrize(
    "mult,strides,padding,dil",
    [
        (1, [1, 1, 1, 1], "SAME", None),
        (2, [1, 2, 1, 1], "VALID", None),
        (3, [1, 1, 1, 1], "SAME", [2, 2]),
        (1, [1, 2, 2, 1], [[0, 0], [1, 0], [0, 2], [0, 0]], None),
    ],
)
def test_depthwise_direct_kernel(mult, strides, padding, dil, rng):
    x = rng.standard_normal((2, 7, 6, 3))
    w = rng.standard_normal((3, 2, 3, mult))
    y = tg.nn.depthwise_conv2d(x, w, strides, padding, dilations=dil)
    d = dil or [1, 1]
    ref = np.stack(
        [
            np_conv2d(x[..., c : c + 1], w[:, :, c : c + 1, m : m + 1], tuple(strides[1:3]), padding, tuple(d))[..., 0]
            for c in range(3)
            for m in range(mult)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(
        lambda a, b: tg.nn.depthwise_conv2d(a, b, strides, padding, dilations=dil), [x[:1, :5, :5], w], order=2
    )
    nchw = tg.nn.depthwise_conv2d(
        x.transpose(0, 3, 1, 2),
        w,
        [1, 1] + strides[1:3],
        padding if isinstance(padding, str) else [padding[0], padding[3], padding[1], padding[2]],
        data_format="NCHW",
        dilations=dil,
    )
    np.testing.assert_allclose(nchw.numpy(), ref.transpose(0, 3, 1, 2), rtol=1e-12, atol=1e-12)
