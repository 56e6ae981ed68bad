"""The composite ops (tapegrad/_ops_composite.py) without TensorFlow: numpy transcriptions and
closed forms for values, central finite differences (float64) for gradients."""

import logging

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_gradients

RNG = np.random.default_rng(1)
X = RNG.standard_normal((3, 5))


def _np_segment(data, ids, n, fn, empty):
    out = np.full((n,) + data.shape[ids.ndim :], empty, dtype=data.dtype)
    flat_ids = ids.reshape(-1)
    rows = data.reshape((flat_ids.size,) + data.shape[ids.ndim :])
    for s in range(n):
        sel = rows[flat_ids == s]
        if len(sel):
            out[s] = fn(sel, axis=0)
    return out


# ---- values against numpy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,fn,empty_f",
    [("max", np.max, np.finfo(np.float64).min), ("min", np.min, np.finfo(np.float64).max), ("prod", np.prod, 1.0)],
)
def test_unsorted_segment_reductions_match_numpy(kind, fn, empty_f):
    ids = np.array([[0, 3, 0, -1, 1], [3, 3, 0, 1, 1], [0, -1, 3, 3, 0]])
    got = getattr(tg.math, f"unsorted_segment_{kind}")(X, ids, 5)
    np.testing.assert_allclose(got.numpy(), _np_segment(X, ids, 5, fn, empty_f))
    ints = RNG.integers(-50, 50, (6, 2)).astype(np.int32)
    got = getattr(tg.math, f"unsorted_segment_{kind}")(ints, [0, 2, 2, 0, 2, 2], 3)
    empty_i = {"max": np.iinfo(np.int32).min, "min": np.iinfo(np.int32).max, "prod": 1}[kind]
    assert got.dtype == tg.int32
    np.testing.assert_array_equal(got.numpy(), _np_segment(ints, np.array([0, 2, 2, 0, 2, 2]), 3, fn, empty_i))


@pytest.mark.parametrize("kind,fn,empty", [("max", np.max, 0.0), ("min", np.min, 0.0), ("prod", np.prod, 1.0)])
def test_sorted_segment_reductions_give_tf_empty_values(kind, fn, empty):
    ids = np.array([0, 0, 3])
    got = getattr(tg.math, f"segment_{kind}")(X, ids)
    np.testing.assert_allclose(got.numpy(), _np_segment(X, ids, 4, fn, empty))


def test_unsorted_segment_sqrt_n_matches_closed_form():
    ids = np.array([2, 0, 2])
    got = tg.math.unsorted_segment_sqrt_n(X, ids, 4).numpy()
    want = np.stack([X[1], np.zeros(5), (X[0] + X[2]) / np.sqrt(2), np.zeros(5)])
    np.testing.assert_allclose(got, want)


def test_cumulative_logsumexp_matches_logaddexp_accumulate():
    x = RNG.standard_normal((4, 9)) * 400  # spreads far beyond exp's range
    got = tg.math.cumulative_logsumexp(x, axis=1).numpy()
    np.testing.assert_allclose(got, np.logaddexp.accumulate(x, axis=1), rtol=1e-12)
    got = tg.math.cumulative_logsumexp(x, axis=0, exclusive=True, reverse=True).numpy()
    want = np.concatenate([np.flip(np.logaddexp.accumulate(np.flip(x[1:], 0), axis=0), 0), np.full((1, 9), -np.inf)], 0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert tg.math.cumulative_logsumexp(tg.constant([1.0, 2.0], tg.float16)).dtype == tg.float16


def test_sort_argsort_searchsorted_match_numpy():
    x = RNG.integers(0, 4, (3, 7, 2)).astype(np.float32)
    for axis in (0, 1, -1):
        np.testing.assert_array_equal(tg.argsort(x, axis=axis).numpy(), np.argsort(x, axis=axis, kind="stable"))
        np.testing.assert_array_equal(tg.sort(x, axis=axis).numpy(), np.sort(x, axis=axis))
        np.testing.assert_array_equal(tg.sort(x, axis=axis, direction="DESCENDING").numpy(), -np.sort(-x, axis=axis))
    # descending keeps ties in index order
    assert tg.argsort([1, 3, 1, 3], direction="DESCENDING").numpy().tolist() == [1, 3, 0, 2]
    assert tg.argsort([1.0]).dtype == tg.int32
    seq = np.sort(RNG.integers(0, 10, (2, 6)), axis=1)
    vals = RNG.integers(-1, 11, (2, 4))
    for side in ("left", "right"):
        got = tg.searchsorted(seq, vals, side=side)
        assert got.dtype == tg.int32
        np.testing.assert_array_equal(got.numpy(), [np.searchsorted(s, v, side=side) for s, v in zip(seq, vals)])


def test_depth_to_space_inverts_space_to_depth_and_matches_formula():
    x = RNG.standard_normal((2, 4, 6, 3))
    d = tg.nn.space_to_depth(x, 2).numpy()
    assert d.shape == (2, 2, 3, 12)
    # output[b, i, j, (di * bs + dj) * c + k] = input[b, i*bs + di, j*bs + dj, k]
    assert d[1, 1, 2, (1 * 2 + 0) * 3 + 2] == x[1, 3, 4, 2]
    np.testing.assert_array_equal(tg.nn.depth_to_space(d, 2).numpy(), x)
    nchw = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_array_equal(
        tg.nn.space_to_depth(nchw, 2, data_format="NCHW").numpy(), np.transpose(d, (0, 3, 1, 2))
    )


def test_lrn_matches_numpy_loop():
    x = RNG.standard_normal((1, 2, 3, 7)).astype(np.float32)
    r, bias, alpha, beta = 2, 1.5, 0.3, 0.75
    want = np.empty_like(x)
    for c in range(7):
        s = np.sum(x[..., max(0, c - r) : c + r + 1] ** 2, axis=-1)
        want[..., c] = x[..., c] / (bias + alpha * s) ** beta
    np.testing.assert_allclose(tg.nn.lrn(x, r, bias, alpha, beta).numpy(), want, rtol=1e-5)


def test_losses_and_moments_closed_forms():
    z, x = (RNG.random(6) > 0.5).astype(np.float64), RNG.standard_normal(6) * 3
    q = 2.5
    want = -(q * z * np.log(1 / (1 + np.exp(-x))) + (1 - z) * np.log(1 - 1 / (1 + np.exp(-x))))
    np.testing.assert_allclose(tg.nn.weighted_cross_entropy_with_logits(z, x, q).numpy(), want, rtol=1e-10)
    t = np.array([0.0, 0.5, 1.0, 2.0, 7.0])
    li = RNG.standard_normal(5)
    with np.errstate(divide="ignore", invalid="ignore"):
        stirling = t * np.log(t) - t + 0.5 * np.log(2 * np.pi * t)
    full = np.exp(li) - li * t + np.where(t > 1, stirling, 0)
    np.testing.assert_allclose(tg.nn.log_poisson_loss(t, li, compute_full_loss=True).numpy(), full, rtol=1e-10)
    w = RNG.random((3, 5))
    mean, var = tg.nn.weighted_moments(X, [1], w)
    m = np.sum(w * X, 1) / np.sum(w, 1)
    np.testing.assert_allclose(mean.numpy(), m)
    np.testing.assert_allclose(var.numpy(), np.sum(w * (X - m[:, None]) ** 2, 1) / np.sum(w, 1))
    counts, m_ss, v_ss, shift = tg.nn.sufficient_statistics(X, [0, 1], shift=0.25)
    mean, var = tg.nn.normalize_moments(counts, m_ss, v_ss, shift)
    np.testing.assert_allclose([float(mean), float(var)], [X.mean(), X.var()])
    assert float(counts) == 15.0
    weighted = tg.nn.compute_average_loss([[1.0, 2.0], [3.0, 4.0]], sample_weight=[[1.0], [0.5]])
    assert float(weighted) == (3 + 7 * 0.5) / 2
    assert tg.nn.crelu(X).shape == (3, 10)


def test_small_ops_closed_forms():
    assert tg.realdiv(7.0, 2.0).numpy() == 3.5
    assert tg.truncatediv([-7, 7], [2, -2]).numpy().tolist() == [-3, -3]
    assert tg.truncatemod([-7.5, 7.5], [2.0, -2.0]).numpy().tolist() == [-1.5, 1.5]
    assert (
        tg.unravel_index([0, 7, 23], [2, 3, 4]).numpy().tolist()
        == np.stack(np.unravel_index([0, 7, 23], (2, 3, 4))).tolist()
    )
    assert tg.math.invert_permutation([3, 0, 2, 1]).numpy().tolist() == np.argsort([3, 0, 2, 1]).tolist()
    assert float(tg.math.zero_fraction(np.eye(4))) == 0.75
    assert float(tg.math.polyval([2.0, -1.0, 3.0], 1.5)) == np.polyval([2.0, -1.0, 3.0], 1.5)
    assert [s.numpy().tolist() for s in tg.shape_n([X, 1.0])] == [[3, 5], []]
    assert tg.broadcast_static_shape(tg.TensorShape([None, 1]), tg.TensorShape([4])).as_list() == [None, 4]
    assert tg.broadcast_dynamic_shape([5, 1, 3], [4, 1]).numpy().tolist() == [5, 4, 3]
    assert tg.get_logger() is logging.getLogger("tensorflow")
    assert tg.executing_eagerly() and not tg.function(lambda: tg.executing_eagerly())()  # False while tracing, as TF
    assert tg.is_tensor(tg.Variable(1.0)) and not tg.is_tensor(np.ones(1)) and not tg.is_tensor(1.0)
    assert tg.no_op() is None
    assert tg.get_static_value(tg.Variable(1.0)) is None and tg.get_static_value([1]) == [1]


def test_assertions_raise_or_return_none():
    assert tg.assert_less([1, 2], [2, 3]) is None and tg.assert_greater(3.0, 2.0) is None
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Condition x == y did not hold"):
        tg.assert_equal([[1, 2], [3, 4]], [[1, 2], [3, 5]])
    with pytest.raises(ValueError, match=r"Tensor  must have rank 1\.  Received rank 2"):
        tg.assert_rank([[1]], 1)
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Shape of tensor input \[2\] is not compatible"):
        tg.ensure_shape([1.0, 2.0], [3])


def test_initializers():
    assert tg.zeros_initializer()([2, 2]).dtype == tg.float32
    assert tg.ones_initializer()([3], tg.int64).numpy().tolist() == [1, 1, 1]
    assert tg.constant_initializer([[1, 2], [3, 4]])([2, 2], tg.float64).numpy().tolist() == [[1, 2], [3, 4]]
    seeded = tg.random_normal_initializer(seed=7)
    np.testing.assert_array_equal(seeded([5]).numpy(), seeded([5]).numpy())  # stateless: same every call
    unseeded = tg.random_uniform_initializer(-1.0, 1.0)
    a = unseeded([2000]).numpy()
    assert a.min() >= -1.0 and a.max() < 1.0 and abs(a.mean()) < 0.1
    assert tg.zeros_initializer()([4], partition_shape=[2]).shape == (2,)
    for init in (tg.zeros_initializer(), tg.constant_initializer(0.5), tg.random_normal_initializer(seed=1)):
        dense = tg.keras.layers.Dense(2, kernel_initializer=init, bias_initializer=init)
        assert dense(tg.ones([1, 3])).shape == (1, 2)  # usable as Keras initializers, as in TF
    assert tg.constant_initializer(0.5).get_config() == {"value": 0.5}
    with pytest.raises(TypeError, match="Keyword argument should be one of"):
        tg.ones_initializer()([2], bad=1)
    with pytest.raises(ValueError, match="initializer doesn't support partition-related arguments"):
        tg.constant_initializer(1.0)([2], partition_shape=[1])


# ---- gradients by finite differences (float64) -----------------------------------------------------

GRADIENTS = {
    "unsorted_segment_max": (
        lambda x: tg.math.unsorted_segment_max(x, [[0, 1, 0, 1, 2], [2, 2, 0, -1, 1], [0, 0, 1, 1, 3]], 4),
        2,
    ),
    "unsorted_segment_min": (lambda x: tg.math.unsorted_segment_min(x, [2, 0, 1], 3), 2),
    "unsorted_segment_prod": (lambda x: tg.math.unsorted_segment_prod(x, [1, 0, 1], 2), 1),
    "segment_prod": (lambda x: tg.math.segment_prod(x, [0, 0, 0]), 1),
    "segment_max": (lambda x: tg.math.segment_max(x, [0, 2, 2]), 2),
    "unsorted_segment_sqrt_n": (lambda x: tg.math.unsorted_segment_sqrt_n(x, [1, 1, 3], 4), 2),
    "cumulative_logsumexp": (lambda x: tg.math.cumulative_logsumexp(x, axis=1, reverse=True), 2),
    "cumulative_logsumexp_exclusive": (lambda x: tg.math.cumulative_logsumexp(x, exclusive=True)[1:], 2),
    "sort": (lambda x: tg.sort(x, axis=0, direction="DESCENDING"), 2),
    "polyval": (lambda x: tg.math.polyval([x[0], x[1], x[2]], x), 2),
    "crelu": (lambda x: tg.nn.crelu(x), 2),
    "reciprocal_no_nan": (lambda x: tg.math.reciprocal_no_nan(x + 5.0), 2),
    "realdiv": (lambda x: tg.realdiv(x, x * x + 1.0), 2),
    "log_poisson_loss_full": (lambda x: tg.nn.log_poisson_loss(x * x + 2.0, x, compute_full_loss=True), 2),
    "weighted_cross_entropy": (lambda x: tg.nn.weighted_cross_entropy_with_logits(tg.sigmoid(x), x * 3, 1.7), 2),
    "weighted_moments": (lambda x: tg.stack(tg.nn.weighted_moments(x, [1], tg.exp(x))), 1),
    "normalize_moments": (
        lambda x: tg.stack(
            tg.nn.normalize_moments(*tg.nn.sufficient_statistics(x, [1], shift=x[:, :1], keepdims=True)[:3], x[:, :1])
        ),
        2,
    ),
    # (sample_weight casts to float32, as TF, which finite differences cannot resolve: see the TF comparison)
    "compute_average_loss": (lambda x: tg.nn.compute_average_loss(x * x, global_batch_size=4), 2),
    "depth_to_space": (lambda x: tg.nn.depth_to_space(tg.reshape(x[:, :4], [1, 1, 3, 4]), 2), 2),
    "space_to_depth": (lambda x: tg.nn.space_to_depth(tg.reshape(x[:2, :4], [1, 2, 4, 1]), 2), 2),
    "identity_n": (lambda x: tg.identity_n([x, x * 2])[1], 2),
    "ensure_shape": (lambda x: tg.ensure_shape(x * x, [3, None]), 2),
}


@pytest.mark.parametrize("name", sorted(GRADIENTS))
def test_gradients_by_finite_differences(name):
    # (no empty segments here: their identity values, e.g. float64's lowest, swamp the differences)
    f, order = GRADIENTS[name]
    check_gradients(f, [X], order=order)


@pytest.mark.parametrize("kind", ["max", "min", "prod"])
@pytest.mark.parametrize("dense", [True, False])
def test_segment_reduction_paths_agree_and_differentiate(kind, dense, monkeypatch):
    """Both paths (dense block; O(N) custom gradient for uneven segments) give numpy's values and
    finite-difference gradients to third order, with zeros in the product."""
    from tapegrad import _ops_composite

    monkeypatch.setattr(_ops_composite, "_DENSE_BLOCK_LIMIT", 4 if dense else -(10**9))
    f = getattr(tg.math, f"unsorted_segment_{kind}")
    ids = np.array([[0, 1, 0, 1, 2], [2, 2, 0, -1, 1], [0, 0, 1, 1, 2]])
    fn = {"max": np.max, "min": np.min, "prod": np.prod}[kind]
    np.testing.assert_allclose(f(X, ids, 4).numpy()[:3], _np_segment(X, ids, 3, fn, 0.0))
    zeros = np.ones((3, 5))
    zeros[0, 1] = zeros[2, 1] = zeros[2, 2] = 0

    def g(x):
        return tg.concat([tg.reshape(f(x * zeros, [0, 1, 1], 2), [-1]), f(x, ids, 3)], 0)

    check_gradients(g, [X], order=3)


def test_segment_max_uneven_segments_use_little_memory():
    # one segment of 200000 rows and 100000 of one row: a dense block would hold 2e10 entries
    ids = np.concatenate([np.zeros(200_000, np.int64), np.arange(1, 100_001)])
    data = np.arange(ids.size, dtype=np.float32)
    out = tg.math.unsorted_segment_max(data, ids, 100_001).numpy()
    assert out[0] == 199_999 and out[1] == 200_000 and out[-1] == ids.size - 1
