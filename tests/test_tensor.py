"""Tensors, dtypes, conversions, operators and Variables."""

import time

import numpy as np
import pytest

import tapegrad as tg


def test_constant_defaults_follow_tf():
    assert tg.constant(1.0).dtype == tg.float32
    assert tg.constant([1, 2]).dtype == tg.int32
    assert tg.constant(2**40).dtype == tg.int64
    assert tg.constant(True).dtype == tg.bool
    assert tg.constant(np.array([1.0])).dtype == tg.float64  # numpy keeps its dtype
    assert tg.constant(np.array([1], np.int64)).dtype == tg.int64
    assert tg.constant([1.0, 2.0], dtype=tg.float64).dtype == tg.float64
    assert tg.constant(3, dtype="float32").numpy() == np.float32(3.0)
    assert tg.constant(np.float64(1.5)).dtype == tg.float64  # numpy scalars keep their dtype
    assert tg.Variable(np.float64(1.5)).dtype == tg.float64
    assert (tg.constant([1.0]) * np.float64(2.0)).dtype == tg.float32  # ...but take an operand's


def test_constant_shape_and_fill():
    t = tg.constant(7.0, shape=[2, 3])
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), 7.0, np.float32))
    assert t.shape == (2, 3) and t.shape.as_list() == [2, 3]
    assert t.shape == [2, 3] and t.shape != [3, 2]  # as TF's TensorShape
    with pytest.raises(TypeError, match="shape"):
        tg.constant([1.0, 2.0], shape=[3])


def test_numpy_roundtrip_and_no_copy_view():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = tg.constant(a)
    a[0, 0] = 100  # constant copies its input
    assert t.numpy()[0, 0] == 0
    view = np.asarray(t)
    assert view.base is not None and not view.flags.writeable  # a read-only view, no copy
    np.testing.assert_array_equal(view, np.arange(6).reshape(2, 3))
    copy = t.numpy()
    copy[0, 0] = 5  # numpy() is an independent array
    assert t.numpy()[0, 0] == 0


def test_view_keeps_buffer_alive():
    view = np.asarray(tg.constant([1.0, 2.0, 3.0]) * 2.0)
    np.testing.assert_array_equal(view, [2.0, 4.0, 6.0])


def test_repr_and_scalars():
    t = tg.constant([1.0, 2.0])
    assert repr(t).startswith("<tf.Tensor: shape=(2,), dtype=float32, numpy=array([1., 2.]")
    assert str(t) == "tf.Tensor([1. 2.], shape=(2,), dtype=float32)"
    assert float(tg.constant(2.5)) == 2.5
    assert int(tg.constant(3)) == 3
    assert len(t) == 2
    with pytest.raises(TypeError):
        len(tg.constant(1.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    assert bool(tg.constant(1.0))


def test_operators_match_numpy(rng):
    a = rng.standard_normal((3, 4)).astype(np.float32)
    b = rng.standard_normal((4,)).astype(np.float32) + 3
    x, y = tg.constant(a), tg.constant(b)
    np.testing.assert_allclose((x + y).numpy(), a + b, rtol=1e-6)
    np.testing.assert_allclose((x - y).numpy(), a - b, rtol=1e-6)
    np.testing.assert_allclose((x * y).numpy(), a * b, rtol=1e-6)
    np.testing.assert_allclose((x / y).numpy(), a / b, rtol=1e-6)
    np.testing.assert_allclose((-x).numpy(), -a)
    np.testing.assert_allclose((abs(x) ** 1.5).numpy(), np.abs(a) ** 1.5, rtol=1e-5)
    np.testing.assert_allclose((x @ tg.constant(a.T)).numpy(), a @ a.T, rtol=1e-5)
    np.testing.assert_array_equal((x < y).numpy(), a < b)
    np.testing.assert_array_equal((x >= 0.0).numpy(), a >= 0)
    np.testing.assert_allclose((2.0 - x).numpy(), 2.0 - a, rtol=1e-6)
    np.testing.assert_allclose((1.0 / y).numpy(), 1.0 / b, rtol=1e-6)


def test_python_scalars_take_the_tensor_dtype():
    x = tg.constant([1.0, 2.0], dtype=tg.float64)
    assert (x * 2).dtype == tg.float64
    assert (2.5 + x).dtype == tg.float64
    i = tg.constant([1, 2])
    assert (i + 1).dtype == tg.int32
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected to be a int32 tensor but is a float"):
        i + 1.5  # as TF: 1.5 does not convert to int32, so it stays float32 and the op refuses it


def test_integer_division_semantics():
    i, j = tg.constant([7, -7]), tg.constant([2, 2])
    assert (i / j).dtype == tg.float64  # truediv, as TF
    np.testing.assert_array_equal((i / j).numpy(), [3.5, -3.5])
    np.testing.assert_array_equal((i // j).numpy(), [3, -4])
    np.testing.assert_array_equal((i % j).numpy(), [1, 1])


def test_mismatched_dtypes_raise_like_tf():
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"expected to be a float tensor but is a double"):
        tg.constant([1.0]) + tg.constant([1.0], dtype=tg.float64)
    # a numpy array is not a Tensor: it converts to the tensor operand's dtype, as TF
    assert (tg.constant([1.0]) + np.array([1.5])).dtype == tg.float32


def test_mismatched_shapes_raise_with_shapes():
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Incompatible shapes: \[2,3\] vs. \[4\]"):
        tg.zeros([2, 3]) + tg.zeros([4])
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[4,5\]"
    ):
        tg.matmul(tg.zeros([2, 3]), tg.zeros([4, 5]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="rank"):
        tg.matmul(tg.zeros([3]), tg.zeros([3, 2]))


def test_invalid_argument_is_also_value_error():
    assert issubclass(tg.errors.InvalidArgumentError, ValueError)


def test_unsupported_values():
    with pytest.raises(TypeError, match="does not support numpy dtype datetime64"):
        tg.constant(np.zeros(2, "datetime64[s]"))
    with pytest.raises(ValueError, match="unsupported type"):
        tg.constant(["a", "b"])


def test_empty_tensors():
    e = tg.zeros([0, 3])
    assert (e + 1.0).shape == (0, 3)
    assert float(tg.reduce_sum(e)) == 0.0
    assert tg.reduce_sum(e, axis=0).shape == (3,)
    assert np.isnan(float(tg.reduce_mean(e)))  # as TF: 0/0
    assert tg.matmul(tg.zeros([2, 0]), tg.zeros([0, 3])).numpy().tolist() == [[0.0] * 3] * 2


def test_nan_propagates():
    x = tg.constant([np.nan, 1.0])
    assert np.isnan(tg.reduce_max(x).numpy())
    assert np.isnan(tg.maximum(x, 0.0).numpy()[0])
    assert np.isnan(tg.reduce_sum(x).numpy())


def test_creation_ops():
    np.testing.assert_array_equal(tg.zeros([2, 2]).numpy(), np.zeros((2, 2), np.float32))
    np.testing.assert_array_equal(tg.ones([3], dtype=tg.int64).numpy(), np.ones(3, np.int64))
    np.testing.assert_array_equal(tg.fill([2], 9).numpy(), [9, 9])
    np.testing.assert_array_equal(tg.range(5).numpy(), np.arange(5))
    np.testing.assert_allclose(tg.range(1.0, 2.0, 0.25).numpy(), [1.0, 1.25, 1.5, 1.75])
    x = tg.zeros([2, 5])
    np.testing.assert_array_equal(tg.shape(x).numpy(), [2, 5])
    assert int(tg.size(x)) == 10
    assert tg.zeros_like(tg.constant([1, 2])).dtype == tg.int32
    np.testing.assert_array_equal(tg.ones_like(x).numpy(), np.ones((2, 5)))


def test_reshape_transpose_cast(rng):
    a = rng.standard_normal((2, 3, 4))
    x = tg.constant(a)
    np.testing.assert_array_equal(tg.reshape(x, [4, -1]).numpy(), a.reshape(4, -1))
    np.testing.assert_array_equal(tg.transpose(x).numpy(), a.transpose())
    np.testing.assert_array_equal(tg.transpose(x, [1, 0, 2]).numpy(), a.transpose(1, 0, 2))
    np.testing.assert_array_equal(tg.cast(tg.constant([1.7, -1.7]), tg.int32).numpy(), [1, -1])
    with pytest.raises(tg.errors.InvalidArgumentError, match="6 values"):
        tg.reshape(tg.zeros([2, 3]), [4])
    with pytest.raises(tg.errors.InvalidArgumentError, match="permutation"):
        tg.transpose(x, [0, 0, 1])


def test_reductions_axes(rng):
    a = rng.standard_normal((2, 3, 4))
    x = tg.constant(a)
    for axis in (None, 0, 1, -1, [0, 2], (1, 2), [0, 1, 2]):
        np_axis = tuple(axis) if isinstance(axis, list) else axis
        for keepdims in (False, True):
            np.testing.assert_allclose(tg.reduce_sum(x, axis, keepdims).numpy(), a.sum(np_axis, keepdims=keepdims))
            np.testing.assert_allclose(tg.reduce_mean(x, axis, keepdims).numpy(), a.mean(np_axis, keepdims=keepdims))
            np.testing.assert_allclose(tg.reduce_max(x, axis, keepdims).numpy(), a.max(np_axis, keepdims=keepdims))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Invalid reduction dimension"):
        tg.reduce_sum(x, axis=3)


def test_variable_basics():
    v = tg.Variable([1.0, 2.0], name="v")
    assert v.name == "v:0" and v.trainable and v.dtype == tg.float32 and v.shape == (2,)
    assert repr(v).startswith("<tf.Variable 'v:0' shape=(2,) dtype=float32")
    v.assign([3.0, 4.0])
    v.assign_add(tg.constant([1.0, 1.0]))
    v.assign_sub([0.5, 0.5])
    np.testing.assert_array_equal(v.numpy(), [3.5, 4.5])
    np.testing.assert_array_equal((v * 2).numpy(), [7.0, 9.0])
    with pytest.raises(ValueError, match="Shape mismatch"):  # TF raises ValueError here
        v.assign([1.0, 2.0, 3.0])
    v.assign(np.array([3.5, 4.5]))  # arrays are cast to the variable's dtype, as TF
    with pytest.raises(ValueError, match="requested dtype float32 for Tensor with dtype float64"):
        v.assign(tg.constant([1.0, 2.0], tg.float64))
    assert not tg.Variable(1.0, trainable=False).trainable
    assert tg.Variable(1, dtype=tg.float64).dtype == tg.float64


def test_variable_write_does_not_change_earlier_reads():
    v = tg.Variable([1.0, 2.0])
    snapshot = v.read_value()
    view = np.asarray(v)
    v.assign([5.0, 6.0])
    np.testing.assert_array_equal(snapshot.numpy(), [1.0, 2.0])
    np.testing.assert_array_equal(view, [1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [5.0, 6.0])


def test_dtype_objects():
    assert tg.as_dtype("float64") is tg.float64
    assert tg.as_dtype(np.int64) is tg.int64
    assert tg.float32 == "float32" and tg.float32 != tg.float64
    assert repr(tg.float32) == "tf.float32"
    assert tg.float32.is_floating and not tg.int32.is_floating
    assert tg.as_dtype("complex64") is tg.complex64
    with pytest.raises(TypeError):
        tg.as_dtype("qint8")


def test_large_elementwise_uses_threads_correctly(rng):
    a = rng.standard_normal(300_000).astype(np.float32)
    b = rng.standard_normal(300_000).astype(np.float32)
    np.testing.assert_allclose((tg.constant(a) * tg.constant(b)).numpy(), a * b)
    np.testing.assert_allclose(tg.reduce_sum(tg.constant(a)).numpy(), a.sum(dtype=np.float64), rtol=1e-4)
    m = rng.standard_normal((300, 1000))
    np.testing.assert_allclose(tg.reduce_sum(tg.constant(m), axis=0).numpy(), m.sum(0), rtol=1e-10)
    np.testing.assert_allclose((tg.constant(m) + tg.constant(m[:1])).numpy(), m + m[:1])


def test_num_threads_roundtrip():
    big = tg.ones([400_000])
    n = tg.config.get_num_threads()
    for threads in (1, 2, 3, n):
        float(tg.reduce_sum(big * 2.0))  # a parallel job before the resize
        tg.config.set_num_threads(threads)
        assert tg.config.get_num_threads() == threads
        time.sleep(0.01)  # fresh workers start; they must wait for a new job (regression: segfault)
        assert float(tg.reduce_sum(big * 2.0)) == 800_000.0


def test_long_row_reductions_blockwise(rng):
    a = rng.standard_normal(1_000_003).astype(np.float32)
    x = tg.constant(a)
    assert float(tg.reduce_max(x)) == a.max() and float(tg.reduce_min(x)) == a.min()
    np.testing.assert_allclose(float(tg.reduce_sum(x)), a.sum(dtype=np.float64), rtol=1e-5)
    m = a[:1_000_002].reshape(2, -1)
    np.testing.assert_allclose(tg.reduce_max(tg.constant(m), axis=1).numpy(), m.max(1))
    b = a.copy()
    b[777_777] = np.nan
    assert np.isnan(float(tg.reduce_max(tg.constant(b)))) and np.isnan(float(tg.reduce_min(tg.constant(b))))
    flags = np.zeros(300_000, bool)
    assert not bool(tg.reduce_any(tg.constant(flags)))
    flags[299_999] = True
    assert bool(tg.reduce_any(tg.constant(flags))) and not bool(tg.reduce_all(tg.constant(flags)))
    ints = rng.integers(-5, 5, 500_000).astype(np.int64)
    assert int(tg.reduce_sum(tg.constant(ints))) == ints.sum()


def test_sum_does_not_depend_on_thread_count(rng):
    x = tg.constant(rng.standard_normal(1_000_000).astype(np.float32))
    n = tg.config.get_num_threads()
    try:
        results = set()
        for threads in (1, 2, 3):
            tg.config.set_num_threads(threads)
            results.add(float(tg.reduce_sum(x)))
    finally:
        tg.config.set_num_threads(n)
    assert len(results) == 1


def test_pool_from_several_python_threads_at_once(rng):
    # Note [Threads]: one caller at a time gets the pool, the others run inline; chunks are claimed
    # by whichever thread is free. Every result must still be exact, with back-to-back jobs that
    # find workers spinning, parked (by a matmul) or asleep.
    import threading

    a = rng.standard_normal(300_001).astype(np.float32)
    m = rng.standard_normal((64, 64)).astype(np.float32)
    want_tanh, want_sum = tg.tanh(a).numpy(), float(tg.reduce_sum(tg.constant(a)))
    errors = []

    def worker(k):
        try:
            for i in range(40):
                assert np.array_equal(tg.tanh(a).numpy(), want_tanh)
                assert float(tg.reduce_sum(tg.constant(a))) == want_sum
                if (i + k) % 5 == 0:
                    tg.matmul(m, m)  # parks spinning workers
                if (i + k) % 7 == 0:
                    time.sleep(0.0003)  # workers go to sleep between jobs
        except Exception as e:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    worker(3)
    for t in threads:
        t.join()
    assert not errors, errors[0]


def test_pool_without_spinning(tmp_path):
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np, tapegrad as tg; x = np.ones(1_000_000, np.float32); "
        "assert float(tg.reduce_sum(tg.constant(x) * 2.0)) == 2e6; "
        "open(__import__('sys').argv[1], 'w').write('ok')"
    )
    env = dict(os.environ, TAPEGRAD_POOL_SPIN_US="0")
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], env=env, check=True, capture_output=True)
    assert (tmp_path / "out").read_text() == "ok"


def test_numpy_of_a_scalar_is_a_numpy_scalar():
    # as TF: tf.constant(2.5).numpy() is np.float32(2.5), not a 0-d array
    x = tg.constant(2.5).numpy()
    assert isinstance(x, np.float32) and x == 2.5
    assert isinstance(tg.Variable(3).numpy(), np.int32)
    assert isinstance(tg.constant([1.0]).numpy(), np.ndarray)
