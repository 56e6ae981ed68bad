"""Indexing ops and Tensor.__getitem__: forward values against numpy, gradients against finite
differences (order 2, float64), out-of-range indices raise naming the index."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad.errors import InvalidArgumentError
from tapegrad.testing import check_gradients

SET = settings(max_examples=25, deadline=None, derandomize=True)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4)


def arr(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def np_gather(x, idx, axis, bd):
    """numpy reference for tf.gather with batch_dims."""
    if bd == 0:
        return np.take(x, idx, axis=axis)
    return np.stack([np_gather(x[i], idx[i], axis - 1, bd - 1) for i in range(x.shape[0])])


# ---- gather ------------------------------------------------------------------------------------


@SET
@given(shapes, st.data())
def test_gather(shape, data):
    x = arr(shape)
    r = len(shape)
    bd = data.draw(st.integers(0, r - 1))
    axis = data.draw(st.integers(bd, r - 1))
    extra = data.draw(st.lists(st.integers(0, 3), max_size=2))
    idx = np.asarray(
        data.draw(
            st.lists(
                st.integers(0, shape[axis] - 1),
                min_size=int(np.prod(shape[:bd] + extra)),
                max_size=int(np.prod(shape[:bd] + extra)),
            )
        ),
        dtype=np.int64,
    )
    idx = idx.reshape(shape[:bd] + extra)
    dtype = data.draw(st.sampled_from([np.int32, np.int64]))
    got = tg.gather(x, idx.astype(dtype), axis=axis, batch_dims=bd)
    np.testing.assert_array_equal(got.numpy(), np_gather(x, idx, axis, bd))
    # negative axis / batch_dims as TF
    got = tg.gather(x, tg.constant(idx), axis=axis - r, batch_dims=bd - idx.ndim if 0 < bd < idx.ndim else bd)
    np.testing.assert_array_equal(got.numpy(), np_gather(x, idx, axis, bd))


def test_gather_gradients_dense_and_second_order():
    idx = np.array([[1, 0], [2, 1]])
    check_gradients(lambda x: tg.gather(x, [2, 0, 2]) ** 2, [arr([3, 2])])
    check_gradients(lambda x: tg.gather(x, idx, axis=1) * tg.gather(x, [0], axis=1), [arr([2, 3])])
    check_gradients(lambda x: tg.gather(x, idx, axis=1, batch_dims=1) ** 3, [arr([2, 3, 2])])
    v = tg.Variable(np.ones((4, 3), np.float32))
    with tg.GradientTape() as t:
        y = tg.gather(v, [1, 3])
    g = t.gradient(y, v)
    # as TF: IndexedSlices(indices=[1,3], values=ones(2,3)), whose dense value is:
    assert isinstance(g, tg.IndexedSlices) and g.indices.numpy().tolist() == [1, 3]
    want = np.zeros((4, 3), np.float32)
    want[[1, 3]] = 1
    np.testing.assert_array_equal(tg.convert_to_tensor(g).numpy(), want)
    with tg.GradientTape() as t:
        y = tg.reduce_sum(tg.gather(v, [1, 1, 1]))
    assert tg.convert_to_tensor(t.gradient(y, v)).numpy()[1].tolist() == [3.0, 3.0, 3.0]


def test_gather_errors():
    x = tg.zeros([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match=r"indices\[0,1\] = 5 is not in \[0, 3\) \[Op:GatherV2\]"):
        tg.gather(x, [[0, 5]], axis=1)
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = -1 is not in \[0, 3\)"):
        tg.gather(x, [-1], axis=1)
    with pytest.raises(InvalidArgumentError, match="Shape must be at least rank 4 but is rank 3"):
        tg.gather(x, [0], axis=3)
    with pytest.raises(InvalidArgumentError, match="Value for attr 'Tindices' of float is not in the list"):
        tg.gather(x, [0.0], axis=1)
    with pytest.raises(InvalidArgumentError, match=r"batch_dims \(2\) must be less than or equal to axis \(1\)"):
        tg.gather(x, [[[0]], [[1]]], axis=1, batch_dims=2)
    with pytest.raises(InvalidArgumentError, match="should be equal to indices.shape"):
        tg.gather(x, [[0], [1], [1]], axis=1, batch_dims=1)
    # the gradient (a scatter-add) is checked as well
    with pytest.raises(InvalidArgumentError, match="is not in"):
        tg.gather(tg.zeros([3]), tg.constant([7], tg.int64))


# ---- gather_nd / scatter_nd / tensor_scatter ---------------------------------------------------


@SET
@given(shapes, st.data())
def test_gather_nd_scatter_nd(shape, data):
    x = arr(shape)
    K = data.draw(st.integers(1, len(shape)))
    n = data.draw(st.integers(0, 5))
    idx = np.array(
        [[data.draw(st.integers(0, shape[k] - 1)) for k in range(K)] for _ in range(n)], dtype=np.int64
    ).reshape(n, K)
    got = tg.gather_nd(x, idx)
    want = x[tuple(idx.T)] if n else np.zeros((0,) + tuple(shape[K:]))
    np.testing.assert_array_equal(got.numpy(), want)
    upd = arr((n,) + tuple(shape[K:]), seed=1)
    ref = np.zeros(shape)
    np.add.at(ref, tuple(idx.T), upd)
    np.testing.assert_allclose(tg.scatter_nd(idx, upd, shape).numpy(), ref, rtol=1e-12)
    np.testing.assert_allclose(tg.tensor_scatter_nd_add(x, idx, upd).numpy(), x + ref, rtol=1e-12)
    # update: unique indices (TF leaves the winner of duplicates unspecified)
    _, first = np.unique(idx, axis=0, return_index=True)
    ui, uu = idx[np.sort(first)], upd[np.sort(first)]
    ref = x.copy()
    ref[tuple(ui.T)] = uu
    np.testing.assert_array_equal(tg.tensor_scatter_nd_update(x, ui, uu).numpy(), ref)


def test_gather_nd_batch_dims():
    x = arr([2, 3, 4])
    idx = np.array([[[1], [0]], [[2], [2]]])
    got = tg.gather_nd(x, idx, batch_dims=1)
    want = np.stack([x[b][idx[b][:, 0]] for b in range(2)])
    np.testing.assert_array_equal(got.numpy(), want)
    check_gradients(lambda a: tg.gather_nd(a, idx, batch_dims=1) ** 2, [x])


def test_nd_gradients():
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    check_gradients(lambda x: tg.gather_nd(x, idx) ** 2, [arr([3, 2])])
    check_gradients(lambda u: tg.scatter_nd(idx, u * u, [3, 2]), [arr([3])])
    check_gradients(lambda t, u: tg.tensor_scatter_nd_add(t * t, idx, u * t[0, 0]), [arr([3, 2]), arr([3], 1)])
    ui = np.array([[1], [0]])
    check_gradients(lambda t, u: tg.tensor_scatter_nd_update(t * t, ui, u * u), [arr([3, 2]), arr([2, 2], 1)])


def test_nd_errors():
    with pytest.raises(
        InvalidArgumentError, match=r"indices\[1\] = \[5, 0\] does not index into param shape \[2,3,4\]"
    ):
        tg.gather_nd(tg.zeros([2, 3, 4]), [[0, 1], [5, 0]])
    with pytest.raises(
        InvalidArgumentError, match=r"indices\[1\] = \[5\] does not index into shape \[4\] \[Op:ScatterNd\]"
    ):
        tg.scatter_nd([[1], [5]], [1.0, 2.0], [4])
    with pytest.raises(
        InvalidArgumentError,
        match=r"Dimensions \[0,1\) of indices\[shape=\[2,1\]\] must match "
        r"dimensions \[0,1\) of updates\[shape=\[3\]\]",
    ):
        tg.scatter_nd([[1], [2]], [1.0, 2.0, 3.0], [4])
    with pytest.raises(
        InvalidArgumentError,
        match=r"indices\[1\] = \[5\] does not index into shape \[4\] "
        r"\[Op:TensorScatterUpdate\]",
    ):
        tg.tensor_scatter_nd_update(tg.zeros([4]), [[1], [5]], [1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match=r"\[Op:TensorScatterAdd\]"):
        tg.tensor_scatter_nd_add(tg.zeros([4]), [[1], [-1]], [1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="index innermost dimension length must be <= params rank"):
        tg.gather_nd(tg.zeros([2]), [[0, 1]])


# ---- boolean_mask / where / one_hot ------------------------------------------------------------


@SET
@given(shapes, st.data())
def test_boolean_mask_and_where(shape, data):
    x = arr(shape)
    a = data.draw(st.integers(0, len(shape) - 1))
    k = data.draw(st.integers(1, len(shape) - a))
    mask = np.asarray(
        data.draw(
            st.lists(st.booleans(), min_size=int(np.prod(shape[a : a + k])), max_size=int(np.prod(shape[a : a + k])))
        )
    ).reshape(shape[a : a + k])
    got = tg.boolean_mask(x, mask, axis=a)
    moved = x.reshape(shape[:a] + [-1] + shape[a + k :])
    want = np.take(moved, np.flatnonzero(mask.reshape(-1)), axis=a)
    np.testing.assert_array_equal(got.numpy(), want)
    w = tg.where(x > 0)
    assert w.dtype == tg.int64
    np.testing.assert_array_equal(w.numpy(), np.argwhere(x > 0))
    np.testing.assert_array_equal(tg.where(x.astype(np.int32)).numpy(), np.argwhere(x.astype(np.int32)))


def test_boolean_mask_gradient_and_errors():
    mask = np.array([True, False, True])
    check_gradients(lambda x: tg.boolean_mask(x * x, mask), [arr([3, 2])])
    check_gradients(lambda x: tg.boolean_mask(x, mask, axis=1) ** 3, [arr([2, 3])])
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(3,\) are incompatible"):
        tg.boolean_mask(tg.zeros([2, 3]), mask)
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tg.boolean_mask(tg.zeros([2, 3]), True)
    with pytest.raises(ValueError, match="x and y must both be non-None or both be None"):
        tg.where([True], [1.0])


def test_where_three_args_still_works():
    np.testing.assert_array_equal(tg.where([True, False], [1.0, 2.0], [3.0, 4.0]).numpy(), [1.0, 4.0])
    assert tg.where(tg.zeros([0, 2]) > 0).shape == (0, 2)


@SET
@given(st.lists(st.integers(-2, 5), min_size=0, max_size=6), st.integers(0, 5), st.data())
def test_one_hot(indices, depth, data):
    idx = (
        np.asarray(indices, dtype=np.int64).reshape(-1, 1)
        if data.draw(st.booleans())
        else np.asarray(indices, np.int32)
    )
    r = idx.ndim
    axis = data.draw(st.integers(-1, r))
    eye = (idx[..., None] == np.arange(depth)).astype(np.float32)
    want = np.moveaxis(eye, -1, axis if axis != -1 else -1)
    got = tg.one_hot(idx, depth, axis=axis)
    assert got.dtype == tg.float32
    np.testing.assert_array_equal(got.numpy(), want)
    got = tg.one_hot(idx, depth, on_value=5, off_value=-1, axis=axis)
    assert got.dtype == tg.int32
    np.testing.assert_array_equal(got.numpy(), np.where(want > 0, 5, -1))


def test_one_hot_dtypes_and_errors():
    assert tg.one_hot([1], 2, dtype=tg.float64).dtype == tg.float64
    assert tg.one_hot([1], 2, on_value=tg.constant(2.0, tg.float64)).numpy().tolist() == [[0.0, 2.0]]
    with pytest.raises(TypeError, match="of on_value does not match dtype"):
        tg.one_hot([1, 2], 3, on_value=tg.constant(1.0), off_value=tg.constant(0.0, tg.float64))
    with pytest.raises(InvalidArgumentError, match=r"Expected axis to be -1 or between \[0, 2\)"):
        tg.one_hot([1, 2], 3, axis=3)
    with pytest.raises(InvalidArgumentError, match="Value for attr 'TI' of float"):
        tg.one_hot([1.0, 2.0], 3)


# ---- __getitem__ -------------------------------------------------------------------------------


def slices(n):
    b = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    return st.builds(slice, b, b, st.one_of(st.none(), st.sampled_from([-3, -2, -1, 1, 2, 3])))


@SET
@given(shapes, st.data())
def test_getitem_matches_numpy(shape, data):
    x = arr(shape)
    t = tg.constant(x)
    spec = []
    d = 0
    ell = False
    while d < len(shape):
        kind = data.draw(st.sampled_from(["int", "slice", "none", "ell", "stop"]))
        if kind == "int":
            spec.append(data.draw(st.integers(-shape[d], shape[d] - 1)))
            d += 1
        elif kind == "slice":
            spec.append(data.draw(slices(shape[d])))
            d += 1
        elif kind == "none":
            spec.append(None)
        elif kind == "ell" and not ell:
            ell = True
            spec.append(Ellipsis)
            break
        else:
            break
    spec = tuple(spec)
    np.testing.assert_array_equal(t[spec].numpy(), x[spec])
    v = tg.Variable(x)
    np.testing.assert_array_equal(v[spec].numpy(), x[spec])


def test_getitem_forms():
    x = np.arange(24.0).reshape(2, 3, 4)
    t = tg.constant(x)
    assert t[tg.constant(1)].shape == (3, 4)
    assert t[np.int64(-1), tg.constant(2, tg.int64)].numpy().tolist() == x[-1, 2].tolist()
    assert t[1, tg.newaxis, ::-1].shape == (1, 3, 4)
    assert t[[0, 1]].numpy().tolist() == x[0, 1].tolist()  # TF: a list is a tuple of indices
    np.testing.assert_array_equal(t[tg.constant([True, False])].numpy(), x[[True, False]])
    np.testing.assert_array_equal(
        t[np.array([[True, False, True], [False, False, True]])].numpy(),
        x[np.array([[True, False, True], [False, False, True]])],
    )
    np.testing.assert_array_equal(t[:, tg.constant(1) : tg.constant(-1)].numpy(), x[:, 1:-1])
    assert t[5:, 1].shape == (0, 4)
    assert tg.constant([1, 2, 3])[::-2].numpy().tolist() == [3, 1]
    assert not bool(tg.constant([[True, False]])[0, 1])


def test_getitem_errors():
    t = tg.zeros([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="slice index 5 of dimension 0 out of bounds"):
        t[5]
    with pytest.raises(InvalidArgumentError, match="slice index -4 of dimension 1 out of bounds"):
        t[0, -4]
    with pytest.raises(TypeError, match="Only integers, slices"):
        t[tg.constant([0, 1])]
    with pytest.raises(TypeError, match="Only integers, slices"):
        t[1.0]
    with pytest.raises(InvalidArgumentError, match="Index out of range using input dim 3; input has only 3 dims"):
        t[0, 0, 0, 0]
    with pytest.raises(InvalidArgumentError, match=r"strides\[0\] must be non-zero"):
        t[::0]
    with pytest.raises(InvalidArgumentError, match="Multiple ellipses in slice spec not allowed"):
        t[..., ...]
    with pytest.raises(TypeError):
        t["a"]


def test_getitem_gradients():
    check_gradients(lambda x: x[1:, ::-2] ** 2, [arr([3, 5])])
    check_gradients(lambda x: x[..., 1, None] * x[0], [arr([4, 3])])
    check_gradients(lambda x: x[np.array([True, False, True])] ** 3, [arr([3, 2])])
    v = tg.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape() as t:
        y = v[0, 1] * v[1, 0] + tg.reduce_sum(v[:, 1] ** 2)
    np.testing.assert_array_equal(t.gradient(y, v).numpy(), [[0.0, 7.0], [2.0, 8.0]])


def test_large_inputs_take_the_parallel_paths():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((300, 700))
    idx = rng.integers(0, 300, size=500)
    np.testing.assert_array_equal(tg.gather(x, idx).numpy(), x[idx])
    np.testing.assert_array_equal(tg.constant(x)[::-3, 5:-7:2].numpy(), x[::-3, 5:-7:2])
    np.testing.assert_array_equal(tg.concat([x, x[:, :5]], 1).numpy(), np.concatenate([x, x[:, :5]], 1))
    np.testing.assert_array_equal(tg.pad(x, [[2, 1], [0, 3]]).numpy(), np.pad(x, [[2, 1], [0, 3]]))
    v = tg.Variable(x)
    with tg.GradientTape() as t:
        y = tg.reduce_sum(tg.gather(v, idx) * 2.0) + tg.reduce_sum(v[1::2, :300])
    want = np.zeros_like(x)
    np.add.at(want, idx, 2.0)
    want[1::2, :300] += 1.0
    np.testing.assert_array_equal(t.gradient(y, v).numpy(), want)


def test_empty_edge_cases():
    e = tg.zeros([0, 3])
    assert tg.concat([e, e], 0).shape == (0, 3)
    assert tg.gather(tg.zeros([4, 3]), np.zeros([0], np.int32)).shape == (0, 3)
    assert tg.gather(e, np.zeros([2], np.int32), axis=1).shape == (0, 2)
    assert e[1:, ::-1].shape == (0, 3)
    assert tg.pad(e, [[1, 1], [0, 0]]).numpy().tolist() == [[0.0] * 3] * 2
    assert tg.where(e).shape == (0, 2)
    assert tg.scatter_nd(np.zeros([0, 1], np.int32), np.zeros([0, 3]), [2, 3]).numpy().tolist() == [[0.0] * 3] * 2
    assert tg.tile(e, [3, 2]).shape == (0, 6)
    assert tg.unstack(e, axis=1)[2].shape == (0,)
    assert tg.one_hot(np.zeros([0], np.int32), 3).shape == (0, 3)
    with pytest.raises(InvalidArgumentError, match="is not in"):
        tg.gather(e, [0])


def test_scatter_sub_meshgrid_unique_segment_mean():
    x = arr([4, 2])
    idx = np.array([[1], [3], [1]])
    upd = arr([3, 2], 1)
    ref = x.copy()
    np.subtract.at(ref, idx[:, 0], upd)
    np.testing.assert_allclose(tg.tensor_scatter_nd_sub(x, idx, upd).numpy(), ref, rtol=1e-12)
    a, b, c = np.arange(3.0), np.arange(4.0), np.arange(2.0)
    for indexing in ("xy", "ij"):
        for got, want in zip(tg.meshgrid(a, b, c, indexing=indexing), np.meshgrid(a, b, c, indexing=indexing)):
            np.testing.assert_array_equal(got.numpy(), want)
    y, i = tg.unique(tg.constant([4, 1, 4, 7, 1, 2]))
    assert y.numpy().tolist() == [4, 1, 7, 2] and i.numpy().tolist() == [0, 1, 0, 2, 1, 3] and i.dtype == tg.int32
    ids = np.array([0, 2, 2, -1])
    got = tg.math.unsorted_segment_mean(x, ids, 4).numpy()
    np.testing.assert_allclose(got, np.stack([x[0], 0 * x[0], (x[1] + x[2]) / 2, 0 * x[0]]), rtol=1e-12)
    np.testing.assert_allclose(
        tg.math.segment_mean(x, [0, 0, 0, 1]).numpy(), np.stack([x[:3].mean(0), x[3]]), rtol=1e-12
    )
    check_gradients(lambda t, u: tg.tensor_scatter_nd_sub(t, idx, u * u), [x, upd])
    check_gradients(lambda t: tg.math.unsorted_segment_mean(t * t, ids, 3), [x])
    check_gradients(lambda p, q: tg.meshgrid(p, q)[1] * tg.meshgrid(p, q)[0] ** 2, [a, b])


def test_variable_sliced_assign_and_scatter_methods():
    v = tg.Variable(np.arange(12.0).reshape(3, 4))
    ref = np.arange(12.0).reshape(3, 4)
    assert v[1:, ::2].assign([[-1.0, -2.0], [-3.0, -4.0]]) is v
    ref[1:, ::2] = [[-1.0, -2.0], [-3.0, -4.0]]
    np.testing.assert_array_equal(v.numpy(), ref)
    v[0].assign(v[0] + 10.0)
    v[..., -1].assign(tg.constant([1.0, 2.0, 3.0], tg.float64))
    ref[0] += 10.0
    ref[..., -1] = [1.0, 2.0, 3.0]
    assert not hasattr(v[0], "assign_add")  # as TF
    np.testing.assert_array_equal(v.numpy(), ref)
    v.scatter_nd_update([[0, 0], [2, 3]], [7.0, 8.0])
    v.scatter_nd_add([[1, 1]], [0.5])
    v.scatter_nd_sub([[1, 1]], [2.0])
    ref[0, 0], ref[2, 3] = 7.0, 8.0
    ref[1, 1] += 0.5 - 2.0
    np.testing.assert_array_equal(v.numpy(), ref)
    with pytest.raises(InvalidArgumentError):
        v[0].assign([1.0, 2.0, 3.0])


GRAD = settings(max_examples=10, deadline=None, derandomize=True)


@GRAD
@given(shapes, st.data())
def test_random_gradients_getitem_gather(shape, data):
    x = arr(shape, seed=5)
    d = data.draw(st.integers(0, len(shape) - 1))
    spec = tuple([slice(None)] * d + [data.draw(slices(shape[d]))]) + (None,) * data.draw(st.integers(0, 1))
    check_gradients(lambda a: a[spec] ** 2, [x])
    r = len(shape)
    bd = data.draw(st.integers(0, r - 1))
    axis = data.draw(st.integers(bd, r - 1))
    idx = np.asarray(
        data.draw(
            st.lists(
                st.integers(0, shape[axis] - 1),
                min_size=int(np.prod(shape[:bd])) * 2,
                max_size=int(np.prod(shape[:bd])) * 2,
            )
        )
    ).reshape(shape[:bd] + [2])
    check_gradients(lambda a: tg.gather(a * a, idx, axis=axis - r, batch_dims=bd), [x])


@GRAD
@given(shapes, st.data())
def test_random_gradients_concat_pad_tile(shape, data):
    x = arr(shape, seed=6)
    r = len(shape)
    a = data.draw(st.integers(-r, r - 1))
    check_gradients(lambda u: tg.concat([u, u * u], a), [x])
    b = data.draw(st.integers(-r - 1, r))
    check_gradients(lambda u: tg.stack([u, tg.sin(u)], b), [x])
    p = [[data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2))] for _ in shape]
    check_gradients(lambda u: tg.pad(u * u, p, constant_values=1.0), [x])
    m = [data.draw(st.integers(1, 2)) for _ in shape]
    check_gradients(lambda u: tg.tile(u, m) ** 2, [x])
