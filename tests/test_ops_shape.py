"""Shape ops: forward values against numpy, gradients against finite differences (order 2,
float64), TF's errors."""

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


# ---- expand_dims / squeeze ---------------------------------------------------------------------


@SET
@given(shapes, st.data())
def test_expand_dims_squeeze(shape, data):
    x = arr(shape)
    r = len(shape)
    a = data.draw(st.integers(-r - 1, r))
    np.testing.assert_array_equal(tg.expand_dims(x, a).numpy(), np.expand_dims(x, a))
    y = np.expand_dims(x, a)
    np.testing.assert_array_equal(tg.squeeze(y).numpy(), np.squeeze(y))
    np.testing.assert_array_equal(tg.squeeze(y, a).numpy(), np.squeeze(y, a))


def test_expand_dims_squeeze_errors():
    x = tg.zeros([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="Tried to expand dim index 4 for tensor with 3 dimensions"):
        tg.expand_dims(x, 4)
    with pytest.raises(InvalidArgumentError, match=r"Can not squeeze dim\[1\], expected a dimension of 1, got 3"):
        tg.squeeze(x, 1)
    with pytest.raises(InvalidArgumentError, match="Tried to squeeze dim index 5"):
        tg.squeeze(x, 5)


def test_expand_squeeze_gradients():
    check_gradients(lambda x: tg.expand_dims(x, 1) * tg.expand_dims(x, 1), [arr([2, 3])])
    check_gradients(lambda x: tg.squeeze(x, [0, 2]) ** 2, [arr([1, 3, 1])])


# ---- concat / stack / unstack / split ----------------------------------------------------------


@SET
@given(shapes, st.data())
def test_concat_stack(shape, data):
    r = len(shape)
    a = data.draw(st.integers(-r, r - 1))
    k = data.draw(st.integers(1, 3))
    xs = []
    for i in range(k):
        s = list(shape)
        s[a] = data.draw(st.integers(0, 3))
        xs.append(arr(s, seed=i))
    np.testing.assert_array_equal(tg.concat(xs, a).numpy(), np.concatenate(xs, a))
    ys = [arr(shape, seed=i) for i in range(k)]
    b = data.draw(st.integers(-r - 1, r))
    np.testing.assert_array_equal(tg.stack(ys, b).numpy(), np.stack(ys, b))
    out = tg.unstack(np.stack(ys, b), axis=b)
    assert len(out) == k
    for o, y in zip(out, ys):
        np.testing.assert_array_equal(o.numpy(), y)


def test_concat_dtypes_and_python_values():
    out = tg.concat([tg.constant([1, 2]), [3]], 0)
    assert out.dtype == tg.int32 and out.numpy().tolist() == [1, 2, 3]
    assert tg.concat([tg.constant([True]), tg.constant([False])], 0).numpy().tolist() == [True, False]


def test_concat_stack_errors():
    x = tg.zeros([2, 3, 4])
    with pytest.raises(
        InvalidArgumentError,
        match=r"ConcatOp : Dimension 2 in both shapes must be equal: "
        r"shape\[0\] = \[2,3,4\] vs. shape\[1\] = \[2,2,3\]",
    ):
        tg.concat([x, tg.zeros([2, 2, 3])], 1)
    with pytest.raises(InvalidArgumentError, match="was expected to be a float tensor but is a double tensor"):
        tg.concat([x, tg.zeros([2, 3, 4], tg.float64)], 1)
    with pytest.raises(
        InvalidArgumentError, match=r"Expected concatenating dimensions in the range \[-3, 3\), but got 3"
    ):
        tg.concat([x, x], 3)
    with pytest.raises(InvalidArgumentError, match="Ranks of all input tensors should match"):
        tg.concat([x, tg.zeros([2, 3])], 0)
    with pytest.raises(
        InvalidArgumentError,
        match=r"Shapes of all inputs must match: values\[0\].shape = \[2,3,4\] "
        r"!= values\[1\].shape = \[3,4\]",
    ):
        tg.stack([x, tg.zeros([3, 4])])
    with pytest.raises(ValueError, match=r"Argument `axis` = 5 not in range \[-4, 4\)"):
        tg.stack([x, x], 5)
    with pytest.raises(ValueError, match=r"Argument `axis` = 3 not in range \[-3, 3\)"):
        tg.unstack(x, axis=3)
    with pytest.raises(InvalidArgumentError, match=r"Input shape axis 0 must equal 3"):
        tg.unstack(x, num=3)


def test_split_forward_and_errors():
    x = arr([2, 6, 3])
    for got, want in zip(tg.split(x, 3, axis=1), np.split(x, 3, axis=1)):
        np.testing.assert_array_equal(got.numpy(), want)
    got = tg.split(x, [1, -1, 2], axis=-2)
    want = [x[:, :1], x[:, 1:4], x[:, 4:]]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g.numpy(), w)
    assert [t.shape[1] for t in tg.split(x, tg.constant([0, 6]), 1)] == [0, 6]
    with pytest.raises(
        InvalidArgumentError,
        match=r"evenly divide the split dimension, but got split_dim 1 "
        r"\(size = 6\) and num_split 4",
    ):
        tg.split(x, 4, axis=1)
    with pytest.raises(InvalidArgumentError, match="Determined shape must either match"):
        tg.split(x, [1, 1], axis=1)
    with pytest.raises(InvalidArgumentError, match="There can only be one -1 in the input"):
        tg.split(x, [-1, -1, 2], axis=1)


def test_concat_stack_split_gradients():
    check_gradients(lambda a, b: tg.concat([a * a, b], -1) ** 2, [arr([2, 3]), arr([2, 1], 1)])
    check_gradients(lambda a, b: tg.stack([a, a * b], 1) ** 2, [arr([2, 3]), arr([2, 3], 1)])
    check_gradients(lambda a: tg.stack([u * u for u in tg.unstack(a, axis=1)], 0), [arr([2, 3])])
    check_gradients(lambda a: tg.split(a, [1, 2], 1)[1] ** 3, [arr([2, 3])])


def test_unstack_is_linear_time_and_iter():
    x = tg.constant(np.arange(12.0).reshape(4, 3))
    rows = list(x)
    assert len(rows) == 4 and rows[2].numpy().tolist() == [6.0, 7.0, 8.0]
    with pytest.raises(TypeError):
        iter(tg.constant(1.0))
    with tg.GradientTape() as t:
        t.watch(x)
        s = sum(r[0] * r[1] for r in x)
    np.testing.assert_array_equal(
        t.gradient(s, x).numpy(), np.stack([x.numpy()[:, 1], x.numpy()[:, 0], np.zeros(4)], 1)
    )


# ---- tile / pad / reverse / slice --------------------------------------------------------------


@SET
@given(shapes, st.data())
def test_tile(shape, data):
    x = arr(shape)
    m = data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape)))
    np.testing.assert_array_equal(tg.tile(x, m).numpy(), np.tile(x, m))


def test_tile_high_rank_and_int_and_errors():
    x = np.arange(2**6).reshape([2] * 6).astype(np.int32)
    m = [2, 1, 3, 2, 1, 2]
    np.testing.assert_array_equal(tg.tile(x, m).numpy(), np.tile(x, m))
    with pytest.raises(
        InvalidArgumentError, match="Expected multiples argument to be a vector of length 6 but got length 2"
    ):
        tg.tile(x, [1, 2])
    check_gradients(lambda a: tg.tile(a, [2, 3]) ** 2, [arr([2, 2])])


@SET
@given(shapes, st.data(), st.sampled_from(["CONSTANT", "REFLECT", "SYMMETRIC"]))
def test_pad(shape, data, mode):
    x = arr(shape)
    off = {"CONSTANT": None, "REFLECT": 1, "SYMMETRIC": 0}[mode]
    p = [[data.draw(st.integers(0, 3 if off is None else d - off)) for _ in range(2)] for d in shape]
    if mode == "CONSTANT":
        c = data.draw(st.sampled_from([0.0, 1.5]))
        got, want = tg.pad(x, p, constant_values=c), np.pad(x, p, constant_values=c)
    else:
        got, want = tg.pad(x, p, mode.lower()), np.pad(x, p, mode.lower())
    np.testing.assert_array_equal(got.numpy(), want)


def test_pad_gradients_and_errors():
    p = [[1, 2], [2, 1]]
    check_gradients(lambda a: tg.pad(a * a, p, constant_values=3.0), [arr([3, 4])])
    check_gradients(lambda a: tg.pad(a, p, "REFLECT") ** 2, [arr([3, 4])])
    check_gradients(lambda a: tg.pad(a, p, "SYMMETRIC") ** 2, [arr([3, 4])])
    x = tg.zeros([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="Paddings must be non-negative: 0 -1 \\[Op:Pad\\]"):
        tg.pad(x, [[0, -1], [0, 0], [0, 0]])
    with pytest.raises(
        InvalidArgumentError,
        match=r"The first dimension of paddings must be the rank of "
        r"inputs\[2,2\] \[2,3,4\]",
    ):
        tg.pad(x, [[0, 1], [0, 0]])
    with pytest.raises(
        InvalidArgumentError, match="paddings must be less than the dimension size: 0, 2 not less than 2"
    ):
        tg.pad(x, [[0, 2], [0, 0], [0, 0]], "REFLECT")
    with pytest.raises(
        InvalidArgumentError, match="paddings must be no greater than the dimension size: 0, 3 greater than 2"
    ):
        tg.pad(x, [[0, 3], [0, 0], [0, 0]], "SYMMETRIC")
    with pytest.raises(ValueError, match="Received `mode` = FOO"):
        tg.pad(x, [[0, 1], [0, 0], [0, 0]], "FOO")
    assert tg.pad(tg.constant([1, 2]), [[1, 1]], constant_values=-1).numpy().tolist() == [-1, 1, 2, -1]


@SET
@given(shapes, st.data())
def test_reverse(shape, data):
    x = arr(shape)
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True))
    np.testing.assert_array_equal(tg.reverse(x, axes).numpy(), np.flip(x, axes) if axes else x)


def test_reverse_slice_gradients_and_errors():
    check_gradients(lambda a: tg.reverse(a, [0, -1]) * a, [arr([3, 4])])
    check_gradients(lambda a: tg.slice(a, [1, 0], [-1, 2]) ** 2, [arr([3, 4])])
    x = tg.zeros([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="axis 0 specified more than once"):
        tg.reverse(x, [0, 0])
    with pytest.raises(InvalidArgumentError, match=r"'axis'\[0\] = 3 is out of valid range"):
        tg.reverse(x, [3])
    with pytest.raises(InvalidArgumentError, match=r"Expected size\[1\] in \[0, 3\], but got 4"):
        tg.slice(x, [0, 0, 0], [1, 4, 1])
    np.testing.assert_array_equal(
        tg.slice(np.arange(12).reshape(3, 4), [1, 1], [2, -1]).numpy(), np.arange(12).reshape(3, 4)[1:3, 1:]
    )


def test_strided_slice_masks():
    x = np.arange(60.0).reshape(3, 4, 5)
    got = tg.strided_slice(x, [1, 0, 4], [3, 4, 0], [1, 2, -2], begin_mask=2, shrink_axis_mask=1)
    np.testing.assert_array_equal(got.numpy(), x[1, ::2, 4:0:-2])
    got = tg.strided_slice(x, [0, 1], [0, 2], [1, 1], ellipsis_mask=1)
    np.testing.assert_array_equal(got.numpy(), x[..., 1:2])


# ---- repeat / roll / sequence_mask / segment sums ----------------------------------------------


@SET
@given(shapes, st.data())
def test_repeat_roll(shape, data):
    x = arr(shape)
    a = data.draw(st.integers(-len(shape), len(shape) - 1))
    reps = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=shape[a], max_size=shape[a])))
    np.testing.assert_array_equal(tg.repeat(x, reps, axis=a).numpy(), np.repeat(x, reps, axis=a))
    np.testing.assert_array_equal(tg.repeat(x, 2).numpy(), np.repeat(x, 2))
    sh = data.draw(st.integers(-7, 7))
    np.testing.assert_array_equal(tg.roll(x, sh, a).numpy(), np.roll(x, sh, a))
    np.testing.assert_array_equal(tg.roll(x, [sh, 1], [a, a]).numpy(), np.roll(x, sh + 1, a))


def test_sequence_mask_and_segment_sums():
    np.testing.assert_array_equal(tg.sequence_mask([1, 3, 2], 5).numpy(), np.arange(5) < np.array([[1], [3], [2]]))
    m = tg.sequence_mask(tg.constant([[1], [0]]), dtype=tg.float32)
    assert m.dtype == tg.float32 and m.numpy().tolist() == [[[1.0]], [[0.0]]]
    data = arr([5, 2])
    ids = np.array([2, 0, -1, 2, 1])
    want = np.zeros((4, 2))
    for i, s in enumerate(ids):
        if s >= 0:
            want[s] += data[i]
    np.testing.assert_allclose(tg.math.unsorted_segment_sum(data, ids, 4).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(
        tg.math.segment_sum(data, [0, 0, 1, 3, 3]).numpy(),
        np.stack([data[0] + data[1], data[2], 0 * data[0], data[3] + data[4]]),
        rtol=1e-12,
    )
    with pytest.raises(InvalidArgumentError, match=r"segment_ids\[1\] = 5 is out of range \[0, 3\)"):
        tg.math.unsorted_segment_sum(data, [0, 5, 1, 1, 1], 3)
    with pytest.raises(InvalidArgumentError, match="does not start with segment_ids.shape"):
        tg.math.unsorted_segment_sum(data, [0, 1], 3)
    with pytest.raises(InvalidArgumentError, match="segment ids are not increasing"):
        tg.math.segment_sum(data, [1, 0, 1, 1, 1])
    with pytest.raises(InvalidArgumentError, match="repeats must have 1 or 2 elements"):
        tg.repeat(tg.zeros([2]), [1, 2, 3])


def test_repeat_roll_segment_gradients():
    check_gradients(lambda a: tg.repeat(a, [2, 0, 1], axis=1) ** 2, [arr([2, 3])])
    check_gradients(lambda a: tg.roll(a, [1, -1], [0, 1]) * a, [arr([3, 4])])
    check_gradients(lambda a: tg.math.unsorted_segment_sum(a * a, np.array([1, -1, 1]), 2), [arr([3, 2])])


def test_stack_python_values_share_one_dtype():
    out = tg.stack([[1, 2.5], [3, 4]], axis=1)
    assert out.dtype == tg.float32 and out.numpy().tolist() == [[1.0, 3.0], [2.5, 4.0]]
    assert tg.stack([tg.constant(1), 2]).dtype == tg.int32
