"""The porting claim for the math ops: small TF-2 eager programs, each a function of the module `m`,
run once with tensorflow and once with tapegrad; every value and gradient they return must agree
(float32 within 2e-4 relative, float64 within 1e-9, integers and bools exactly, None as None)."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
import tapegrad as tg  # noqa: E402

RNG = np.random.default_rng(42)
X32 = RNG.standard_normal((4, 5)).astype(np.float32)
X64 = RNG.standard_normal((3, 4))
POS32 = RNG.uniform(0.2, 2.0, (4, 5)).astype(np.float32)
UNIT32 = RNG.uniform(-0.9, 0.9, (4, 5)).astype(np.float32)
KINKS32 = np.array([-2.0, -1.0, 0.0, 0.5, 3.0, 6.0, 7.0], np.float32)


def _flatten(r, path="out"):
    if isinstance(r, dict):
        for k in sorted(r):
            yield from _flatten(r[k], f"{path}[{k!r}]")
    elif isinstance(r, (list, tuple)):
        for i, v in enumerate(r):
            yield from _flatten(v, f"{path}[{i}]")
    else:
        yield path, r


def _compare(a, b):
    fa, fb = list(_flatten(a)), list(_flatten(b))
    assert [p for p, _ in fa] == [p for p, _ in fb]
    for (path, va), (_, vb) in zip(fa, fb):
        if va is None or vb is None:
            assert va is None and vb is None, f"{path}: tf gives {va!r}, tapegrad {vb!r}"
            continue
        na, nb = np.asarray(va), np.asarray(vb)
        assert na.dtype == nb.dtype, f"{path}: dtype {na.dtype} (tf) vs {nb.dtype} (tapegrad)"
        assert na.shape == nb.shape, f"{path}: shape {na.shape} (tf) vs {nb.shape} (tapegrad)"
        if na.dtype.kind == "f":
            rtol = 2e-4 if na.dtype == np.float32 else 1e-9
            atol = 1e-6 if na.dtype == np.float32 else 1e-12
            np.testing.assert_allclose(nb, na, rtol=rtol, atol=atol, equal_nan=True, err_msg=path)
        else:
            np.testing.assert_array_equal(nb, na, err_msg=path)


def run_both(program):
    _compare(program(tf), program(tg))


# ---- programs ------------------------------------------------------------------------------------


def elementwise(m):
    x = m.constant(POS32)
    u = m.constant(UNIT32)
    s = m.constant(X32)
    fns = {
        "reciprocal": lambda: m.math.reciprocal(x),
        "rsqrt": lambda: m.math.rsqrt(x),
        "log1p": lambda: m.math.log1p(s * 0.5),
        "expm1": lambda: m.math.expm1(s),
        "sinh": lambda: m.math.sinh(s),
        "cosh": lambda: m.math.cosh(s),
        "tan": lambda: m.math.tan(u),
        "asin": lambda: m.math.asin(u),
        "acos": lambda: m.math.acos(u),
        "atan": lambda: m.math.atan(s),
        "atan2": lambda: m.math.atan2(s, x),
        "erf": lambda: m.math.erf(s),
        "erfc": lambda: m.math.erfc(s),
        "softplus": lambda: m.math.softplus(s * 10),
        "log_sigmoid": lambda: m.math.log_sigmoid(s * 10),
        "sqdiff": lambda: m.math.squared_difference(s, u),
        "xlogy": lambda: m.math.xlogy(s, x),
        "dnn": lambda: m.math.divide_no_nan(s, m.floor(u)),
        "sign": lambda: m.sign(s),
        "floor": lambda: m.floor(s * 3),
        "ceil": lambda: m.math.ceil(s * 3),
        "round": lambda: m.round(s * 3),
        "floordiv": lambda: s // u,
        "floormod": lambda: s % x,
        "fd": lambda: m.math.floordiv(s, x),
        "fm": lambda: m.math.floormod(s, -x),
        "pow": lambda: m.pow(x, u),
        "asinh": lambda: m.math.asinh(s),
        "acosh": lambda: m.math.acosh(x + 1.0),
        "atanh": lambda: m.math.atanh(u),
        "mnn": lambda: m.math.multiply_no_nan(s, m.floor(u)),
        "add_n": lambda: m.add_n([s, u * x, x]),
        "xdivy": lambda: m.math.xdivy(s, x),
        "xlog1py": lambda: m.math.xlog1py(s, x),
    }
    out = {}
    for name, f in fns.items():
        with m.GradientTape() as t:
            t.watch([x, u, s])
            y = f()
        out[name] = (y, t.gradient(m.reduce_sum(y * y), [x, u, s]))
    return out


def integer_and_special_values(m):
    a = m.constant([7, -7, 7, -7, 0])
    b = m.constant([2, 2, -2, -2, 3])
    f = m.constant([0.5, 1.5, 2.5, -0.5, -2.5, np.nan, np.inf, -np.inf, 0.0])
    return [
        a // b,
        a % b,
        m.math.floordiv(a, b),
        m.math.floormod(a, b),
        m.sign(a),
        m.round(a),
        m.round(f),
        m.sign(f),
        m.math.is_nan(f),
        m.math.is_finite(f),
        m.math.is_inf(f),
        m.math.xlogy(m.constant([0.0, 0.0, 1.0]), m.constant([0.0, np.nan, 2.0])),
        m.math.divide_no_nan(m.constant([1.0, np.inf, 2.0]), m.constant([0.0, 0.0, 4.0])),
        m.math.softplus(m.constant([-100.0, 0.0, 100.0])),
        m.math.log_sigmoid(m.constant([-100.0, 100.0])),
        m.nn.relu6(f),
        m.nn.relu6(a),
        m.argmax(m.constant([1.0, np.nan, 3.0])),
        m.argmin(m.constant([np.nan, -1.0, 3.0])),
        m.argmax(m.constant([False, True, True])),
        m.reduce_min(f),
        m.reduce_max(m.constant([[1.0, np.nan], [2.0, 3.0]]), axis=1),
        m.math.divide_no_nan(a, b),
        m.clip_by_global_norm([], 1.0),
    ]


def comparisons(m):
    a = m.constant(X32)
    b = m.constant(np.round(X32))
    c = a > 0
    d = b <= 0
    return [
        m.equal(a, b),
        m.not_equal(a, b),
        m.less(a, b),
        m.less_equal(a, 0.5),
        m.greater(a, b),
        m.greater_equal(b, a),
        m.math.equal(b, 0.0),
        m.logical_and(c, d),
        m.logical_or(c, d),
        m.logical_not(c),
        m.math.logical_and(c, True),
        m.math.logical_xor(c, d),
        m.where(m.logical_or(c, d), a, b),
        m.reduce_any(c, axis=0),
        m.reduce_all(c, axis=-1),
        m.reduce_any(d),
        m.reduce_all(c | d, keepdims=True),
        m.equal(m.constant([1, 2]), 2),
        m.math.count_nonzero(c, axis=1),
        m.math.count_nonzero(b),
    ]


def activations(m, dtype=np.float32):
    # second derivatives compare in float64 only: TF's float32 tanh is a fast approximation whose
    # error shows in TanhGrad's gradient (3e-4 relative at x = 3.5 for gelu(approximate=True))
    x = m.constant(np.concatenate([KINKS32, X32.ravel() * 4]).astype(dtype))
    b = m.constant(X32[0, :4].astype(dtype))
    v = m.constant(X32.reshape(5, 4).astype(dtype))
    fns = {
        "relu6": m.nn.relu6,
        "leaky": m.nn.leaky_relu,
        "leaky.1": lambda t: m.nn.leaky_relu(t, alpha=0.1),
        "elu": m.nn.elu,
        "selu": m.nn.selu,
        "gelu": m.nn.gelu,
        "gelu_tanh": lambda t: m.nn.gelu(t, approximate=True),
        "silu": m.nn.silu,
        "swish": m.nn.swish,
        "softsign": m.nn.softsign,
        "softplus": m.nn.softplus,
        "relu": m.nn.relu,
        "sigmoid": m.nn.sigmoid,
        "abs": m.abs,
        "clip": lambda t: m.clip_by_value(t, -1.0, 6.0),
        "max": lambda t: m.maximum(t, 0.0),
        "min": lambda t: m.minimum(t, 6.0),
    }
    out = {}
    for name, f in fns.items():
        with m.GradientTape() as t2:
            t2.watch(x)
            with m.GradientTape() as t1:
                t1.watch(x)
                y = f(x)
            g = t1.gradient(y, x)
        # TF has no gradient for SoftsignGrad: no second derivative there
        second = dtype == np.float64 and name != "softsign"
        out[name] = (y, g, t2.gradient(g, x) if second else None)
    with m.GradientTape() as t:
        t.watch([v, b])
        y = m.nn.bias_add(v, b)
        z = m.nn.bias_add(m.reshape(v, [5, 4, 1]), b, data_format="NCW")
    out["bias_add"] = (y, z, t.gradient([y, z], [v, b]))
    return out


def activations64(m):
    return activations(m, np.float64)


def reductions(m):
    x = m.constant(X32)
    z = m.constant(np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, 2.0, 4.0]], np.float32))
    d = m.constant(X64)
    fns = {
        "min": lambda: m.reduce_min(x, axis=1),
        "min_all": lambda: m.math.reduce_min(x),
        "prod": lambda: m.reduce_prod(x, axis=-1),
        "prod0": lambda: m.reduce_prod(z, axis=0, keepdims=True),
        "prod1": lambda: m.reduce_prod(z, axis=1),
        "lse": lambda: m.reduce_logsumexp(x * 50, axis=1),
        "lse_all": lambda: m.math.reduce_logsumexp(x, keepdims=True),
        "var": lambda: m.math.reduce_variance(x, 0),
        "std": lambda: m.math.reduce_std(x, axis=[0, 1]),
        "var64": lambda: m.math.reduce_variance(d, -1, True),
        "euclid": lambda: m.math.reduce_euclidean_norm(x, 1),
        "cumsum": lambda: m.math.cumsum(x, axis=1),
        "cumsum_ex": lambda: m.cumsum(x, axis=0, exclusive=True),
        "cumsum_rev": lambda: m.math.cumsum(x, axis=-1, reverse=True),
        "cumsum_both": lambda: m.math.cumsum(d, 1, exclusive=True, reverse=True),
        "cumprod": lambda: m.math.cumprod(x, axis=1),
        "cumprod_ex": lambda: m.math.cumprod(d, 0, True, True),
        "mean_m": lambda: m.nn.moments(x, axes=[0])[0],
        "var_m": lambda: m.nn.moments(x, axes=[0, 1])[1],
        "var_m_keep": lambda: m.nn.moments(d, axes=[1], keepdims=True)[1],
    }
    out = {}
    for name, f in fns.items():
        with m.GradientTape(persistent=True) as t2:
            t2.watch([x, z, d])
            with m.GradientTape() as t1:
                t1.watch([x, z, d])
                y = f()
            g = t1.gradient(m.reduce_sum(y * y), [x, z, d])
            gs = m.reduce_sum(g[0]) if g[0] is not None else None
            gz = m.reduce_sum(g[1]) if g[1] is not None else None
            gd = m.reduce_sum(g[2]) if g[2] is not None else None
        second = [None if s is None else t2.gradient(s, w) for s, w in ((gs, x), (gz, z), (gd, d))]
        out[name] = (y, g, second)
    with m.GradientTape() as t:
        t.watch(x)
        top = m.math.top_k(x, k=3)
        loss = m.reduce_sum(top.values**2)
    out["top_k"] = (top.values, top.indices, t.gradient(loss, x), m.nn.top_k(m.constant([[3, 1, 3, 2]]), 2))
    out["argmax"] = [
        m.argmax(x),
        m.argmax(x, axis=1),
        m.math.argmin(x, axis=-1),
        m.argmin(x, 0, output_type=m.int32),
        m.argmax(m.constant([[3, 3, 1], [0, 2, 2]]), 1),
    ]
    return out


def clipping_and_norms(m):
    x = m.constant(X32)
    y = m.constant(X32[:2] * 0.1)
    out = {}
    fns = {
        "cbv": lambda: m.clip_by_value(x, -0.5, m.constant([0.5, 1.0, 1.5, 0.2, 2.0])),
        "cbn": lambda: m.clip_by_norm(x, 1.5),
        "cbn_ax": lambda: m.clip_by_norm(x, 1.0, axes=[1]),
        "cbn_small": lambda: m.clip_by_norm(y, 10.0),
        "norm": lambda: m.norm(x),
        "norm1": lambda: m.norm(x, ord=1, axis=1),
        "norm_inf": lambda: m.norm(x, ord=np.inf, axis=0),
        "norm3": lambda: m.norm(x, ord=3, axis=-1),
        "norm_fro": lambda: m.linalg.norm(x, ord="fro", axis=[0, 1]),
        "norm_m1": lambda: m.norm(x, 1, (0, 1)),
        "norm_minf": lambda: m.norm(x, np.inf, (1, 0), keepdims=True),
        "norm_keep": lambda: m.norm(x, 2, 1, True),
        "l2n": lambda: m.math.l2_normalize(x, axis=1),
        "l2n_all": lambda: m.nn.l2_normalize(x),
        "l2loss": lambda: m.nn.l2_loss(x),
    }
    for name, f in fns.items():
        with m.GradientTape() as t:
            t.watch([x, y])
            r = f()
        out[name] = (
            r,
            t.gradient(m.reduce_sum(r * m.cast(m.range(m.size(r)), r.dtype) if r.shape.rank == 0 else r * r), [x, y]),
        )
    with m.GradientTape() as t:
        t.watch([x, y])
        clipped, gn = m.clip_by_global_norm([x, None, y], 2.0)
        loss = m.reduce_sum(clipped[0]) * m.reduce_sum(clipped[2]) + m.reduce_sum(clipped[2] ** 2)
    out["cbgn"] = (clipped, gn, t.gradient(loss, [x, y]), m.linalg.global_norm([x, y]))
    out["cbgn_big"] = m.clip_by_global_norm([x, y], 100.0)
    return out


def training_loop(m):
    """A small MLP with gelu / leaky_relu / bias_add, clipped by global norm, trained by hand."""
    rng = np.random.default_rng(0)
    xs = rng.standard_normal((16, 3)).astype(np.float32)
    ys = (np.sin(xs[:, :1]) + 0.5 * xs[:, 1:2] ** 2).astype(np.float32)
    w1 = m.Variable(rng.standard_normal((3, 8)).astype(np.float32) * 0.5)
    b1 = m.Variable(np.zeros(8, np.float32))
    w2 = m.Variable(rng.standard_normal((8, 1)).astype(np.float32) * 0.5)
    b2 = m.Variable(np.zeros(1, np.float32))
    params = [w1, b1, w2, b2]
    losses, norms = [], []
    for _step in range(5):
        with m.GradientTape() as tape:
            h = m.nn.gelu(m.nn.bias_add(m.matmul(xs, w1), b1))
            h = m.nn.leaky_relu(h) + 0.1 * m.nn.selu(h) + 0.05 * m.nn.softsign(h)
            pred = m.nn.bias_add(m.matmul(h, w2), b2)
            loss = m.reduce_mean(m.math.squared_difference(pred, ys))
            loss = loss + 1e-3 * (m.nn.l2_loss(w1) + m.nn.l2_loss(w2))
        grads = tape.gradient(loss, params)
        grads, gn = m.clip_by_global_norm(grads, 1.0)
        for p, g in zip(params, grads):
            p.assign_sub(0.1 * g)
        losses.append(loss)
        norms.append(gn)
    return losses, norms, [p.numpy() for p in params]


def batch_norm_layer(m):
    """A hand-written batch-norm layer (moments + batch_normalization), second order included."""
    rng = np.random.default_rng(3)
    x = m.constant(rng.standard_normal((8, 4)).astype(np.float32) * 3 + 1)
    gamma = m.Variable(rng.uniform(0.5, 1.5, 4).astype(np.float32))
    beta = m.Variable(np.zeros(4, np.float32))
    with m.GradientTape() as t2:
        t2.watch(x)
        with m.GradientTape() as t1:
            t1.watch(x)
            mean, var = m.nn.moments(x, axes=[0])
            y = m.nn.batch_normalization(x, mean, var, beta, gamma, 1e-3)
            loss = m.reduce_sum(m.nn.gelu(y) * m.range(4.0))
        gx, gg, gb = t1.gradient(loss, [x, gamma, beta])
        gsum = m.reduce_sum(gx * gx)
    return y, gx, gg, gb, t2.gradient(gsum, x), m.nn.batch_normalization(x, mean, var, None, None, 1e-3)


def logsumexp_classifier(m):
    """Softmax cross-entropy written by hand with reduce_logsumexp, argmax accuracy, float64."""
    rng = np.random.default_rng(1)
    logits = m.constant(rng.standard_normal((6, 4)) * 30)
    labels = m.constant(rng.integers(0, 4, 6))
    classes = m.reshape(m.cast(m.range(4), m.int64), [1, 4])
    onehot = m.cast(m.equal(classes, m.reshape(labels, [6, 1])), m.float64)
    with m.GradientTape() as t:
        t.watch(logits)
        lse = m.reduce_logsumexp(logits, axis=-1, keepdims=True)
        loss = m.reduce_mean(m.reduce_sum(onehot * (lse - logits), axis=-1))
    acc = m.reduce_mean(m.cast(m.equal(m.argmax(logits, axis=-1), labels), m.float64))
    return loss, t.gradient(loss, logits), acc, m.math.reduce_std(logits, axis=0)


def segments_and_metrics(m):
    rng = np.random.default_rng(7)
    data = m.constant(rng.standard_normal((8, 3)).astype(np.float32))
    ids = m.constant([0, 2, 2, 1, 0, 3, 3, 3])
    with m.GradientTape() as t:
        t.watch(data)
        s = m.math.unsorted_segment_sum(data * data, ids, 5)
        mu = m.math.unsorted_segment_mean(data, ids, 4)
        ss = m.math.segment_sum(data, m.constant([0, 0, 1, 1, 1, 2, 4, 4]))
        loss = m.reduce_sum(s) * m.reduce_sum(mu) + m.reduce_sum(ss**2)
    labels = m.constant([0, 1, 2, 2, 1])
    preds = m.constant([0, 2, 2, 1, 1])
    logits = m.constant(rng.standard_normal((5, 4)).astype(np.float32))
    return (
        s,
        mu,
        ss,
        t.gradient(loss, data),
        m.math.confusion_matrix(labels, preds),
        m.math.confusion_matrix(labels, preds, num_classes=4, weights=m.constant([1.0, 2, 3, 4, 5]), dtype=m.float32),
        m.math.bincount(m.constant([3, 1, 1, 0])),
        m.math.bincount(m.constant([3, 1, 1]), minlength=6),
        m.math.bincount(m.constant([3, 1, 1]), weights=m.constant([0.5, 1.0, 2.0])),
        m.math.in_top_k(m.constant([0, 1, 3, 2, 0]), logits, 2),
        m.math.count_nonzero(logits > 0),
    )


PROGRAMS = [
    segments_and_metrics,
    batch_norm_layer,
    elementwise,
    integer_and_special_values,
    comparisons,
    activations,
    activations64,
    reductions,
    clipping_and_norms,
    training_loop,
    logsumexp_classifier,
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_program_runs_the_same(program):
    run_both(program)
