"""Reductions, scans, clipping and norms: numpy values, finite-difference gradients (order 2,
float64) over random shapes and axes (negative included), TF's conventions and error paths."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
from tapegrad.testing import check_gradients

FEW = settings(max_examples=8, deadline=None)


@st.composite
def array_and_axis(draw, lo=-2.0, hi=2.0, min_dims=1):
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4))
    x = draw(hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False)))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "list"]))
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axis = draw(st.lists(st.integers(-nd, nd - 1), min_size=1, max_size=nd, unique_by=lambda a: a % nd))
    keepdims = draw(st.booleans())
    return x, axis, keepdims


def np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def grad(f, *xs):
    xs = [tg.constant(np.asarray(x, np.float64)) for x in xs]
    with tg.GradientTape() as t:
        for x in xs:
            t.watch(x)
        y = f(*xs)
    return [None if g is None else g.numpy() for g in t.gradient(y, xs)]


REDUCTIONS = {
    "reduce_min": (tg.reduce_min, np.min, True),
    "reduce_max": (tg.math.reduce_max, np.max, True),
    "reduce_prod": (tg.reduce_prod, np.prod, True),
    "reduce_logsumexp": (tg.reduce_logsumexp, None, True),
    "reduce_variance": (tg.math.reduce_variance, np.var, True),
    "reduce_std": (tg.math.reduce_std, np.std, True),
    "reduce_euclidean_norm": (
        tg.math.reduce_euclidean_norm,
        lambda x, axis, keepdims: np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims)),
        True,
    ),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@FEW
@given(case=array_and_axis())
def test_reductions(name, case):
    f, ref, _ = REDUCTIONS[name]
    x, axis, keepdims = case
    if name == "reduce_logsumexp":
        m = np.max(x, axis=np_axis(axis), keepdims=True)
        want = np.log(np.sum(np.exp(x - m), axis=np_axis(axis), keepdims=True)) + m
        if not keepdims:
            want = want.reshape(np.max(x, axis=np_axis(axis)).shape)
    else:
        want = ref(x, axis=np_axis(axis), keepdims=keepdims)
    got = f(tg.constant(x), axis=axis, keepdims=keepdims)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-14)
    if name in ("reduce_min", "reduce_max"):  # ties make finite differences meaningless: make all distinct
        x = np.round(x, 1) + np.arange(x.size).reshape(x.shape) * 1e-3
    if name == "reduce_prod":  # ans / x_i loses all precision at second order for tiny x_i
        x = np.where(np.abs(x) < 0.1, 0.5, x)
    if name == "reduce_euclidean_norm":  # keep away from sqrt(0)
        x = x + np.where(x >= 0, 0.1, -0.1)
    if name == "reduce_std" and np.min(np.var(x, axis=np_axis(axis))) < 1e-3:
        return  # sqrt(0): the gradient is NaN, as in TF
    check_gradients(lambda t: f(t, axis=axis, keepdims=keepdims), [x], order=2)


def test_reduce_prod_gradient_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [1.5, 2.0, 4.0]])
    g = grad(lambda t: tg.reduce_prod(t, axis=1), x)[0]
    np.testing.assert_allclose(g, [[0, 6, 0], [0, 0, 0], [8, 6, 3]])
    g = grad(lambda t: tg.reduce_prod(t), [0.0, 2.0, 3.0])[0]
    np.testing.assert_allclose(g, [6, 0, 0])
    g = grad(lambda t: tg.reduce_prod(t, axis=0), x)[0]
    np.testing.assert_allclose(g, [[0, 0, 20], [3, 0, 12], [0, 0, 15]])
    # integers and keepdims
    assert tg.reduce_prod(tg.constant([[2, 3], [4, 5]]), axis=-1, keepdims=True).numpy().tolist() == [[6], [20]]

    # second derivatives (the Hessian of x0*x1*x2*x3) at points with one, two and three zeros
    def hessian(v):
        x0 = tg.constant(v, tg.float64)
        rows = []
        for i in range(4):
            with tg.GradientTape() as t2:
                t2.watch(x0)
                with tg.GradientTape() as t1:
                    t1.watch(x0)
                    y = tg.reduce_prod(x0)
                gi = tg.reduce_sum(t1.gradient(y, x0) * tg.constant(np.eye(4)[i]))
            rows.append(t2.gradient(gi, x0).numpy())
        return np.array(rows)

    def hessian_ref(v):
        h = np.zeros((4, 4))
        for i in range(4):
            for j in range(4):
                if i != j:
                    h[i, j] = np.prod([v[k] for k in range(4) if k not in (i, j)])
        return h

    for v in ([0.0, 2.0, 3.0, 1.5], [0.0, 2.0, 0.0, 1.5], [0.0, 0.0, 0.0, 1.5], [1.0, 2.0, 3.0, 1.5]):
        np.testing.assert_allclose(hessian(v), hessian_ref(v), err_msg=str(v))


def test_empty_reductions_follow_tf():
    e = tg.zeros([0, 3])
    np.testing.assert_array_equal(tg.reduce_min(e, axis=0).numpy(), [np.inf] * 3)
    np.testing.assert_array_equal(tg.reduce_max(e, axis=0).numpy(), [-np.inf] * 3)
    np.testing.assert_array_equal(tg.reduce_prod(e, axis=0).numpy(), [1] * 3)
    np.testing.assert_array_equal(tg.reduce_logsumexp(e, axis=0).numpy(), [-np.inf] * 3)


def test_reduce_logsumexp_is_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1001.0], [-np.inf, -np.inf]], np.float32)
    np.testing.assert_allclose(
        tg.reduce_logsumexp(x, axis=1).numpy(), [1000 + np.log(2), -1000 + np.log1p(np.exp(-1)), -np.inf], rtol=1e-6
    )
    g = grad(lambda t: tg.reduce_logsumexp(t, axis=1), x[:2])[0]
    np.testing.assert_allclose(g, [[0.5, 0.5], [1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))]])


def test_reduce_any_all():
    a = np.array([[True, False], [True, True]])
    for axis in (None, 0, 1, -1, [0, 1]):
        np.testing.assert_array_equal(tg.reduce_any(a, axis=axis).numpy(), np.any(a, axis=np_axis(axis)))
        np.testing.assert_array_equal(tg.reduce_all(a, axis=axis).numpy(), np.all(a, axis=np_axis(axis)))
    assert tg.reduce_all(a, keepdims=True).shape == (1, 1)
    with pytest.raises((TypeError, ValueError)):
        tg.reduce_any(tg.constant([1.0]))


def test_reduce_variance_needs_floats():
    with pytest.raises(TypeError, match="integer"):
        tg.math.reduce_variance(tg.constant([1, 2]))


@FEW
@given(case=array_and_axis(min_dims=1))
def test_argmax_argmin(case):
    x, axis, _ = case
    x = np.round(x)  # ties: the first index wins, as numpy and TF
    ax = axis[0] if isinstance(axis, list) else axis
    for f, ref in ((tg.argmax, np.argmax), (tg.math.argmin, np.argmin)):
        got = f(tg.constant(x), axis=ax)
        assert got.dtype == tg.int64
        np.testing.assert_array_equal(got.numpy(), ref(x, axis=0 if ax is None else ax))
    got = tg.argmax(tg.constant(x.astype(np.int32)), axis=ax, output_type=tg.int32)
    assert got.dtype == tg.int32
    np.testing.assert_array_equal(got.numpy(), np.argmax(x, axis=0 if ax is None else ax))


def test_arg_reduce_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="range"):
        tg.argmax(tg.zeros([2, 3]), axis=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="empty"):
        tg.argmin(tg.zeros([0, 3]), axis=0)
    with pytest.raises(tg.errors.InvalidArgumentError, match="output_type"):
        tg.argmax(tg.zeros([3]), output_type=tg.float32)
    assert tg.argmax(tg.constant([[1, 9], [8, 2]]), axis=tg.constant(1)).numpy().tolist() == [1, 0]


def np_cumsum(x, axis, exclusive, reverse):
    if reverse:
        x = np.flip(x, axis)
    c = np.cumsum(x, axis=axis)
    if exclusive:
        c = c - x
    return np.flip(c, axis) if reverse else c


@FEW
@given(case=array_and_axis(), exclusive=st.booleans(), reverse=st.booleans())
def test_cumsum(case, exclusive, reverse):
    x, axis, _ = case
    ax = 0 if axis is None else (axis[0] if isinstance(axis, list) else axis)
    got = tg.math.cumsum(tg.constant(x), axis=ax, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(got.numpy(), np_cumsum(x, ax, exclusive, reverse), rtol=1e-12, atol=1e-12)
    check_gradients(lambda t: tg.cumsum(t, ax, exclusive, reverse) ** 2, [x], order=2)
    xi = np.round(x * 3).astype(np.int32)
    np.testing.assert_array_equal(tg.cumsum(xi, ax, exclusive, reverse).numpy(), np_cumsum(xi, ax, exclusive, reverse))


@FEW
@given(case=array_and_axis(0.5, 1.5), exclusive=st.booleans(), reverse=st.booleans())
def test_cumprod(case, exclusive, reverse):
    x, axis, _ = case
    ax = 0 if axis is None else (axis[0] if isinstance(axis, list) else axis)
    xs = np.flip(x, ax) if reverse else x
    want = np.cumprod(xs, axis=ax)
    if exclusive:
        want = want / xs
    want = np.flip(want, ax) if reverse else want
    got = tg.math.cumprod(tg.constant(x), axis=ax, exclusive=exclusive, reverse=reverse)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    check_gradients(lambda t: tg.math.cumprod(t, ax, exclusive, reverse), [x], order=2)


def test_scan_large_inner_and_outer():
    x = np.random.default_rng(0).standard_normal((3, 5, 700))
    for ax in (0, 1, 2):
        np.testing.assert_allclose(tg.cumsum(x, axis=ax).numpy(), np.cumsum(x, axis=ax), rtol=1e-10, atol=1e-12)


def test_cumsum_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="range"):
        tg.cumsum(tg.zeros([2, 3]), axis=-3)
    with pytest.raises(tg.errors.InvalidArgumentError, match="scalar"):
        tg.cumsum(tg.constant(1.0))
    with pytest.raises(tg.errors.InvalidArgumentError, match="bool"):
        tg.cumsum(tg.constant([True]))


@FEW
@given(case=array_and_axis())
def test_moments(case):
    x, axis, keepdims = case
    axes = list(range(x.ndim)) if axis is None else ([axis] if isinstance(axis, int) else axis)
    mean, var = tg.nn.moments(tg.constant(x), axes=axes, keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), np.mean(x, axis=tuple(axes), keepdims=keepdims), atol=1e-14)
    np.testing.assert_allclose(var.numpy(), np.var(x, axis=tuple(axes), keepdims=keepdims), atol=1e-13)
    # TF stops the gradient through the mean inside the variance: the first derivative is exact,
    # the second is TF's, not the true one (compared with TF in test_tf_programs_math.py)
    check_gradients(lambda t: tg.nn.moments(t, axes, keepdims=keepdims)[1], [x], order=1)
    check_gradients(lambda t: tg.nn.moments(t, axes, keepdims=keepdims)[0], [x], order=2)


def test_batch_normalization():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 3))
    mean, var = x.mean(0), x.var(0)
    offset, scale = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    want = (x - mean) / np.sqrt(var + 1e-3) * scale + offset
    np.testing.assert_allclose(tg.nn.batch_normalization(x, mean, var, offset, scale, 1e-3).numpy(), want)
    np.testing.assert_allclose(
        tg.nn.batch_normalization(x, mean, var, None, None, 1e-3).numpy(), (x - mean) / np.sqrt(var + 1e-3)
    )

    def f(t, o, s):
        m, v = tg.nn.moments(t, axes=[0])
        return tg.nn.batch_normalization(t, m, v, o, s, 1e-3)

    check_gradients(f, [x, offset, scale], order=1)  # moments stops the gradient inside the variance


# ---- clipping and norms --------------------------------------------------------------------------


@FEW
@given(case=array_and_axis(-3, 3))
def test_clip_by_value(case):
    x, _, _ = case
    x = np.where(np.abs(np.abs(x) - 1) < 1e-3, 0.0, x)
    got = tg.clip_by_value(tg.constant(x), -1.0, 1.0)
    np.testing.assert_array_equal(got.numpy(), np.clip(x, -1, 1))
    lo = np.full(x.shape[-1:], -0.5)
    np.testing.assert_array_equal(tg.clip_by_value(x, lo, 1.0).numpy(), np.clip(x, lo, 1))
    check_gradients(lambda t: tg.clip_by_value(t, -1.0, 1.0) * t, [x], order=2)


def test_clip_by_value_errors():
    with pytest.raises(ValueError, match="incompatible"):
        tg.clip_by_value(tg.zeros([3]), tg.zeros([2, 3]), 1.0)
    with pytest.raises((TypeError, ValueError)):
        tg.clip_by_value(tg.constant([1, 2]), 0.5, 1.5)


def np_clip_by_norm(x, c, axes):
    n = np.sqrt(np.sum(x * x, axis=axes, keepdims=True))
    return x * c / np.maximum(n, c)


@FEW
@given(case=array_and_axis(), clip=st.floats(0.1, 3))
def test_clip_by_norm(case, clip):
    x, axis, _ = case
    got = tg.clip_by_norm(tg.constant(x), clip, axes=axis)
    np.testing.assert_allclose(got.numpy(), np_clip_by_norm(x, clip, np_axis(axis)), rtol=1e-12, atol=1e-14)
    x = x + 0.05 * np.arange(x.size).reshape(x.shape)
    n = np.sqrt(np.sum(x * x, axis=np_axis(axis)))
    if np.any(np.abs(n - clip) < 1e-3):
        return
    check_gradients(lambda t: tg.clip_by_norm(t, clip, axes=axis), [x], order=2)


def test_clip_by_norm_of_zero_has_finite_gradient():
    g = grad(lambda t: tg.reduce_sum(tg.clip_by_norm(t, 1.0)), [0.0, 0.0])[0]
    np.testing.assert_array_equal(g, [1.0, 1.0])


def test_clip_by_global_norm():
    a = np.array([3.0, 4.0])
    b = np.array([[12.0]])
    (ca, cb), norm = tg.clip_by_global_norm([tg.constant(a), tg.constant(b)], 6.5)
    assert float(norm) == pytest.approx(13.0)
    np.testing.assert_allclose(ca.numpy(), a * 0.5)
    np.testing.assert_allclose(cb.numpy(), b * 0.5)
    (ca, none, cb), norm = tg.clip_by_global_norm((a, None, b), 100.0)
    assert none is None
    np.testing.assert_allclose(ca.numpy(), a)
    assert float(tg.linalg.global_norm([a, b])) == pytest.approx(13.0)
    (ca,), norm = tg.clip_by_global_norm([a], 1.0, use_norm=tg.constant(np.inf, tg.float64))
    assert np.isnan(ca.numpy()).all()
    check_gradients(lambda u, v: tg.clip_by_global_norm([u, v], 2.0)[0][1], [a, b], order=2)
    with pytest.raises(TypeError, match="sequence"):
        tg.clip_by_global_norm(tg.constant(a), 1.0)


NORMS = [
    ("euclidean", None),
    (2, 0),
    (1, -1),
    (np.inf, None),
    (np.inf, 1),
    (3, -1),
    (0.5, 0),
    ("fro", (0, 1)),
    ("euclidean", (-1, -2)),
    (1, (0, 1)),
    (np.inf, (1, 0)),
]


def np_norm(x, ord, axis):
    if axis is None:
        x, axis = x.reshape(-1), 0
    if isinstance(axis, tuple):
        return np.linalg.norm(x, ord="fro" if ord == "euclidean" else ord, axis=axis)
    return np.linalg.norm(x, ord=2 if ord == "euclidean" else ord, axis=axis)


@pytest.mark.parametrize("ord,axis", NORMS)
def test_norm(ord, axis):
    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 2, size=(3, 4)) * rng.choice([-1, 1], size=(3, 4))
    x = x + np.arange(12).reshape(3, 4) * 0.01  # no ties for max norms
    want = np_norm(x, ord, axis)
    for f in (tg.norm, tg.linalg.norm):
        got = f(tg.constant(x), ord=ord, axis=axis)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)
    kept = tg.norm(tg.constant(x), ord=ord, axis=axis, keepdims=True)
    assert kept.ndim == 2
    check_gradients(lambda t: tg.norm(t, ord=ord, axis=axis), [x], order=2)


def test_norm_errors():
    x = tg.zeros([2, 2])
    with pytest.raises(ValueError, match="vector norm"):
        tg.norm(x, ord="fro", axis=0)
    with pytest.raises(ValueError, match="vector norm"):
        tg.norm(x, ord=-1)
    with pytest.raises(ValueError, match="matrix norm"):
        tg.norm(x, ord=3, axis=(0, 1))
    with pytest.raises(ValueError, match="axis"):
        tg.norm(x, axis=(0, 0))
    assert float(tg.norm(tg.constant([[3.0, 0.0], [0.0, -4.0]]), ord=2, axis=(0, 1))) == 4.0  # largest singular value


@FEW
@given(case=array_and_axis())
def test_l2_normalize_and_l2_loss(case):
    x, axis, _ = case
    want = x / np.sqrt(np.maximum(np.sum(x * x, axis=np_axis(axis), keepdims=True), 1e-12))
    np.testing.assert_allclose(tg.math.l2_normalize(tg.constant(x), axis=axis).numpy(), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(tg.nn.l2_loss(tg.constant(x)).numpy(), np.sum(x * x) / 2)
    x = x + np.where(x >= 0, 0.1, -0.1)  # away from the epsilon kink at 0
    check_gradients(lambda t: tg.nn.l2_normalize(t, axis=axis), [x], order=2)
    check_gradients(tg.nn.l2_loss, [x], order=2)


def test_bias_add():
    rng = np.random.default_rng(0)
    v, b = rng.standard_normal((2, 3, 4)), rng.standard_normal(4)
    np.testing.assert_allclose(tg.nn.bias_add(v, b).numpy(), v + b)
    np.testing.assert_allclose(tg.nn.bias_add(v, b[:3], data_format="NCW").numpy(), v + b[:3, None])
    check_gradients(tg.nn.bias_add, [v, b], order=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="1D"):
        tg.nn.bias_add(v, v)
    with pytest.raises(tg.errors.InvalidArgumentError, match="as many biases"):
        tg.nn.bias_add(v, b[:3])
    with pytest.raises(tg.errors.InvalidArgumentError, match="2D"):
        tg.nn.bias_add(b, b)
    with pytest.raises(tg.errors.InvalidArgumentError):
        tg.nn.bias_add(v.astype(np.float32), b)


def test_bad_axes_raise():
    x = tg.zeros([2, 3])
    for f in (tg.reduce_min, tg.reduce_prod, tg.reduce_logsumexp, tg.math.reduce_variance, tg.math.reduce_std):
        with pytest.raises(tg.errors.InvalidArgumentError, match="dimension"):
            f(x, axis=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="duplicate"):
        tg.reduce_prod(x, axis=[1, -1])
    with pytest.raises(tg.errors.InvalidArgumentError, match="dimension"):
        tg.nn.moments(x, axes=[3])


def test_count_nonzero():
    x = np.array([[0, 1, 2], [0, 0, 3]], np.int32)
    assert tg.math.count_nonzero(x).numpy() == 3
    np.testing.assert_array_equal(tg.math.count_nonzero(x.astype(np.float32), axis=1).numpy(), [2, 1])


@FEW
@given(case=array_and_axis(), k=st.integers(0, 4))
def test_top_k(case, k):
    x, _, _ = case
    x = np.round(x * 2) / 2  # ties: the lower index comes first, as TF
    k = min(k, x.shape[-1])
    values, indices = tg.math.top_k(tg.constant(x), k=k)
    want_idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    assert indices.dtype == tg.int32
    np.testing.assert_array_equal(indices.numpy(), want_idx)
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, want_idx, axis=-1))
    r = tg.nn.top_k(tg.constant(x.astype(np.int64)), k=k)
    np.testing.assert_array_equal(r.values.numpy(), np.take_along_axis(x, want_idx, axis=-1).astype(np.int64))
    if k:
        x = x + 1e-3 * np.arange(x.size).reshape(x.shape)  # distinct values: selection fixed near x
        check_gradients(lambda t: tg.math.top_k(t, k=k).values ** 2, [x], order=2)


def test_top_k_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="at least k columns"):
        tg.math.top_k(tg.zeros([2, 3]), k=4)
    with pytest.raises(tg.errors.InvalidArgumentError, match="k >= 0"):
        tg.math.top_k(tg.zeros([3]), k=-1)
    with pytest.raises(tg.errors.InvalidArgumentError, match="1-dimensional"):
        tg.math.top_k(tg.constant(1.0))


def test_segments_and_counting():
    rng = np.random.default_rng(5)
    data = rng.standard_normal((6, 2))
    ids = np.array([0, 0, 2, 1, 2, -1])
    want = np.zeros((3, 2))
    for i, s in enumerate(ids):
        if s >= 0:
            want[s] += data[i]
    np.testing.assert_allclose(tg.math.unsorted_segment_sum(data, ids, 3).numpy(), want)
    counts = np.array([2, 1, 2])[:, None]
    np.testing.assert_allclose(tg.math.unsorted_segment_mean(data, ids, 3).numpy(), want / counts)
    check_gradients(lambda d: tg.math.unsorted_segment_sum(d * d, ids, 3), [data], order=2)
    sorted_ids = np.array([0, 0, 1, 3, 3, 3])
    np.testing.assert_allclose(tg.math.segment_sum(data, sorted_ids).numpy()[3], data[3:].sum(0))
    assert tg.math.segment_mean(data, sorted_ids).shape == (4, 2)
    assert tg.math.unsorted_segment_sum(np.array([1, 2, 3]), np.array([1, 0, 1]), 2).numpy().tolist() == [2, 4]
    with pytest.raises(tg.errors.InvalidArgumentError, match="out of range"):
        tg.math.unsorted_segment_sum(data, ids, 2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="increasing"):
        tg.math.segment_sum(data, ids[::-1])
    assert tg.math.bincount(np.array([1, 1, 3], np.int32)).numpy().tolist() == [0, 2, 0, 1]
    assert tg.math.bincount(np.array([1, 1, 3], np.int32), minlength=6).shape == (6,)
    cm = tg.math.confusion_matrix([0, 1, 2, 2], [0, 2, 2, 1], num_classes=3)
    assert cm.numpy().tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 1]]
    pred = np.array([[0.1, 0.5, 0.5], [0.9, 0.05, 0.05]], np.float32)
    assert tg.math.in_top_k(np.array([2, 1]), pred, 1).numpy().tolist() == [True, False]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [7, 15, 16, 31, 32, 33, 100, 1000, 200001])
def test_reduce_max_min_every_vector_chain_sees_nan_and_extremes(n, dtype):
    # lengths that end in each of the SIMD paths (four chains, one chain, scalar tail) and the
    # blockwise parallel path
    x = np.random.default_rng(n).standard_normal(n).astype(dtype)
    assert tg.reduce_max(x).numpy() == x.max() and tg.reduce_min(x).numpy() == x.min()
    for pos in sorted({0, 9 % n, 17 % n, 26 % n, n // 2, n - 1}):
        y = x.copy()
        y[pos] = 1e30
        assert tg.reduce_max(y).numpy() == dtype(1e30)
        y[pos] = -1e30
        assert tg.reduce_min(y).numpy() == dtype(-1e30)
        y[pos] = np.nan
        assert np.isnan(tg.reduce_max(y).numpy()) and np.isnan(tg.reduce_min(y).numpy()), pos
