"""Issue 10's behaviour gaps: conversions of numpy values, printing, devices and config, linspace,
TensorSpec/TensorShape, gradient(x, x), and the engine's extra dtypes. Expected values are TF 2.21's
(checked by hand and, where TensorFlow is installed, by tests/test_tf_programs_gaps.py)."""

import pickle

import numpy as np
import pytest

import tapegrad as tg

# -- conversions --------------------------------------------------------------------------------


def test_convert_to_tensor_casts_numpy_arrays_to_the_requested_dtype():
    t = tg.convert_to_tensor(np.array([1.5, 2.0]), dtype=tg.float32)
    assert t.dtype == tg.float32 and t.numpy().tolist() == [1.5, 2.0]
    assert tg.convert_to_tensor(np.array([1.5, -1.5]), dtype=tg.int32).numpy().tolist() == [1, -1]
    assert tg.convert_to_tensor(np.array([True]), dtype=tg.float32).numpy().tolist() == [1.0]
    assert tg.convert_to_tensor(np.float64(1.5), dtype=tg.int32).numpy() == 1
    assert tg.convert_to_tensor(np.array([1.5]), dtype_hint=tg.float32).dtype == tg.float32


def test_convert_to_tensor_refuses_tensors_and_variables_of_another_dtype():
    with pytest.raises(ValueError, match="Tensor conversion requested dtype float64 for Tensor with dtype float32"):
        tg.convert_to_tensor(tg.constant([1.0]), dtype=tg.float64)
    with pytest.raises(ValueError, match="Incompatible type conversion requested to type float64"):
        tg.convert_to_tensor(tg.Variable(1.0), dtype=tg.float64)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!="])
def test_binary_operators_convert_numpy_operands_to_the_tensor_dtype(op):
    f = eval(f"lambda x, y: x {op} y")  # noqa: S307  (the operator under test)
    t, t32 = tg.constant([1.0, 2.0, 4.0]), np.float32([1.0, 2.0, 4.0])
    a = np.array([0.5, 2.0, 3.0])  # float64
    for got, want in ((f(t, a), f(t32, a.astype(np.float32))), (f(a, t), f(a.astype(np.float32), t32))):
        assert got.dtype == (tg.bool if want.dtype == bool else tg.float32)
        np.testing.assert_array_equal(got.numpy(), want)


def test_integer_tensor_with_float_array_truncates_as_tf():
    got = tg.constant([1, 2]) + np.array([1.5, 2.0])
    assert got.dtype == tg.int32 and got.numpy().tolist() == [2, 4]
    assert (tg.constant([1, 2]) + np.float64(0.5)).numpy().tolist() == [1, 2]
    assert tg.maximum(np.array([1.5]), tg.constant([1.0])).dtype == tg.float32


def test_a_tensor_of_another_dtype_still_raises():
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected to be a float tensor but is a double"):
        tg.constant([1.0]) + tg.constant([1.0], dtype=tg.float64)


def test_variable_assign_casts_numpy_arrays():
    v = tg.Variable([1.0, 2.0])
    v.assign(np.array([3.5, 4.0]))
    assert v.dtype == tg.float32 and v.numpy().tolist() == [3.5, 4.0]
    v.assign_add(np.array([1.0, 1.0]))
    assert v.numpy().tolist() == [4.5, 5.0]


# -- printing -----------------------------------------------------------------------------------


def test_format_applies_to_the_numpy_value():
    assert f"{tg.constant(3.14159):.4f}" == "3.1416"
    assert f"{tg.constant(3):5d}" == "    3"
    assert f"{tg.constant([3.14159])}" == "[3.14159]"
    assert f"{tg.constant(1.5)}" == "1.5" and f"{tg.constant(True)}" == "True"
    with pytest.raises(TypeError, match="unsupported format string passed to numpy.ndarray.__format__"):
        f"{tg.constant([3.14159]):.4f}"
    with pytest.raises(ValueError, match="Unknown format code 'd'"):
        f"{tg.constant(1.5):d}"
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{tg.Variable(1.5):.2f}"  # as TF: a Variable has no numeric __format__


def test_scalar_and_array_printing_as_tf():
    assert repr(tg.constant(1.5)) == "<tf.Tensor: shape=(), dtype=float32, numpy=1.5>"
    assert str(tg.constant(1.5)) == "tf.Tensor(1.5, shape=(), dtype=float32)"
    assert repr(tg.constant(0.1)) == "<tf.Tensor: shape=(), dtype=float32, numpy=0.10000000149011612>"
    assert str(tg.constant(0.1)) == "tf.Tensor(0.1, shape=(), dtype=float32)"
    assert repr(tg.constant(3)) == "<tf.Tensor: shape=(), dtype=int32, numpy=3>"
    assert str(tg.constant(True)) == "tf.Tensor(True, shape=(), dtype=bool)"
    assert repr(tg.constant([[1.5, 2.0], [3.0, 4.0]])) == (
        "<tf.Tensor: shape=(2, 2), dtype=float32, numpy=\narray([[1.5, 2. ],\n       [3. , 4. ]], dtype=float32)>"
    )
    assert str(tg.constant([[1.5, 2.0], [3.0, 4.0]])) == (
        "tf.Tensor(\n[[1.5 2. ]\n [3.  4. ]], shape=(2, 2), dtype=float32)"
    )
    assert str(tg.zeros([2000])) == "tf.Tensor([0. 0. 0. ... 0. 0. 0.], shape=(2000,), dtype=float32)"


def test_variable_name_and_repr_as_tf():
    assert tg.Variable(1.0, name="w").name == "w:0"
    assert tg.Variable(1.0).name == "Variable:0"
    assert tg.Variable(1.0, name="a/b").name == "a/b:0"
    v = tg.Variable([1.0, 2.0], name="w")
    assert v._shared_name == "w" and v.path == "w"
    assert repr(v) == "<tf.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>"
    assert repr(tg.Variable(1.5)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=1.5>"


def test_keras_state_keeps_keras_names():
    v = tg.Variable([1.0, 2.0], name="w")
    opt = tg.keras.optimizers.Adam(0.1)
    opt.apply_gradients([(tg.constant([1.0, 1.0]), v)])
    names = [s.name for s in opt.variables]
    assert not any(":" in n for n in names), names  # keras.Variable names, not tf.Variable's
    assert "iteration" in names and any(n.endswith("/w") for n in names), names
    assert v.name == "w:0"


def test_dtype_str_and_repr():
    assert str(tg.int32) == "<dtype: 'int32'>" and repr(tg.int32) == "tf.int32"
    assert str(tg.float32) == "<dtype: 'float32'>"


def test_eager_tensor_has_no_name():
    with pytest.raises(AttributeError, match="Tensor.name is undefined when eager execution is enabled"):
        tg.constant(1.0).name


# -- devices and config -------------------------------------------------------------------------

_CPU = "/job:localhost/replica:0/task:0/device:CPU:0"


def test_device_properties():
    assert tg.constant(1.0).device == _CPU and tg.Variable(1.0).device == _CPU


@pytest.mark.parametrize(
    "name", ["/GPU:0", "/cpu:0", "GPU:0", "/device:GPU:0", "cpu", _CPU, None, "", "/gpu:1", "/device:XLA_CPU:0"]
)
def test_device_scope_is_a_noop_placement(name):
    with tg.device(name):
        x = tg.constant(1.0) + 1.0
    assert x.device == _CPU and float(x) == 2.0


def test_device_scope_bad_input():
    with pytest.raises(ValueError, match="Unknown attribute 'foo' is encountered while parsing the device spec"):
        with tg.device("foo"):
            pass
    with pytest.raises(ValueError, match="Expecting a string device name"):
        with tg.device(3):
            pass
    with pytest.raises(RuntimeError, match="tf.device does not support functions"):
        tg.device(lambda op: "/cpu:0")


def test_list_devices():
    cpu = tg.config.list_physical_devices()
    assert cpu == [tg.config.PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")]
    assert repr(cpu[0]) == "PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')"
    assert cpu[0].name == "/physical_device:CPU:0" and isinstance(cpu[0], tuple)
    assert tg.config.list_physical_devices("GPU") == [] and tg.config.list_physical_devices("cpu") == []
    assert tg.config.list_physical_devices("CPU") == cpu
    assert tg.config.experimental.list_physical_devices("CPU") == cpu
    assert repr(tg.config.list_logical_devices()) == "[LogicalDevice(name='/device:CPU:0', device_type='CPU')]"
    assert tg.config.get_visible_devices() == cpu


def test_memory_growth_as_tf():
    for gpu in tg.config.list_physical_devices("GPU"):  # the usual program: nothing to do here
        tg.config.experimental.set_memory_growth(gpu, True)
    with pytest.raises(ValueError, match="Cannot set memory growth on non-GPU and non-Pluggable devices"):
        tg.config.experimental.set_memory_growth(tg.config.list_physical_devices("CPU")[0], True)
    with pytest.raises(ValueError, match="Unrecognized device"):
        tg.config.experimental.set_memory_growth(tg.config.PhysicalDevice("/physical_device:GPU:0", "GPU"), True)


def test_threading_settings_drive_the_pool():
    th = tg.config.threading
    before = tg.config.get_num_threads()
    assert th.get_intra_op_parallelism_threads() == 0 and th.get_inter_op_parallelism_threads() == 0
    try:
        th.set_intra_op_parallelism_threads(1)
        assert th.get_intra_op_parallelism_threads() == 1 and tg.config.get_num_threads() == 1
        assert float(tg.reduce_sum(tg.ones([100000]))) == 100000.0
        th.set_inter_op_parallelism_threads(2)
        assert th.get_inter_op_parallelism_threads() == 2
        with pytest.raises(ValueError, match="must be >= 0"):
            th.set_intra_op_parallelism_threads(-1)
    finally:
        th.set_intra_op_parallelism_threads(0)
        th.set_inter_op_parallelism_threads(0)
    assert tg.config.get_num_threads() == before and th.get_intra_op_parallelism_threads() == 0


# -- linspace -----------------------------------------------------------------------------------


def test_linspace_values_and_dtypes():
    np.testing.assert_array_equal(tg.linspace(0.0, 1.0, 5).numpy(), np.float32([0, 0.25, 0.5, 0.75, 1]))
    t = tg.linspace(0, 1, 5)
    assert t.dtype == tg.float64 and t.numpy().tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert tg.linspace(2.0, 5.0, 1).numpy().tolist() == [2.0]
    assert tg.linspace(2.0, 5.0, 0).shape == (0,)
    assert tg.linspace(0.0, 1.0, tg.constant(3)).numpy().tolist() == [0, 0.5, 1]
    got = tg.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1)
    assert got.numpy().tolist() == [[0, 0.5, 1], [1, 2, 3]]
    assert tg.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=-1).numpy().tolist() == [[0, 0.5, 1], [1, 2, 3]]
    assert tg.linspace([0.0, 1.0], [1.0, 3.0], 3).numpy().tolist() == [[0, 1], [0.5, 2], [1, 3]]
    got = tg.linspace([[0.0], [1.0]], [1.0, 3.0], 2)  # start and stop broadcast
    np.testing.assert_array_equal(got.numpy(), [[[0, 0], [1, 1]], [[1, 3], [1, 3]]])
    x = np.linspace(-3.0, 7.0, 11)
    np.testing.assert_allclose(tg.linspace(tg.constant(-3.0, tg.float64), 7.0, 11).numpy(), x, rtol=0, atol=1e-15)


def test_linspace_gradients():
    x, y = tg.constant(0.0), tg.constant(1.0)
    with tg.GradientTape() as tape:
        tape.watch([x, y])
        s = tg.reduce_sum(tg.linspace(x, y, 5) * tg.range(5.0))
    gx, gy = tape.gradient(s, [x, y])
    # d/dstart sum_i i*(1 - i/4) = 10 - 30/4; d/dstop sum_i i*i/4 = 30/4
    assert float(gx) == 2.5 and float(gy) == 7.5
    a = tg.constant([0.5, -1.0], tg.float64)
    b = tg.constant([2.0, 3.0], tg.float64)
    tg.testing.check_gradients(lambda a, b: tg.linspace(a, b, 4, axis=1) ** 2, [a, b], order=2)


def test_linspace_bad_input():
    with pytest.raises(TypeError, match=r"\(name: num\) must be of type integer"):
        tg.linspace(0.0, 1.0, 3.0)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Requires start <= limit"):
        tg.linspace(0.0, 1.0, -1)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Incompatible shapes"):
        tg.linspace([0.0, 1.0], [1.0, 2.0, 3.0], 3)


# -- TensorSpec and TensorShape -----------------------------------------------------------------


def test_tensor_spec():
    spec = tg.TensorSpec((None, 3))
    assert repr(spec) == "TensorSpec(shape=(None, 3), dtype=tf.float32, name=None)"
    assert str(tg.TensorSpec((None, 3), tg.int32, name="x")) == "TensorSpec(shape=(None, 3), dtype=tf.int32, name='x')"
    assert spec.shape == tg.TensorShape([None, 3]) and spec.dtype == tg.float32 and spec.name is None
    assert repr(spec.shape) == "TensorShape([None, 3])"
    assert spec.is_compatible_with(tg.zeros([2, 3]))
    assert not spec.is_compatible_with(tg.zeros([2, 4]))
    assert not spec.is_compatible_with(tg.zeros([2, 3], tg.int32))
    assert not spec.is_compatible_with(np.zeros((2, 3), np.float32))  # as TF: only specs and tensors
    assert tg.TensorSpec([2]).is_compatible_with(tg.TensorSpec([None]))
    assert tg.TensorSpec(None).is_compatible_with(tg.zeros([2, 3]))
    assert repr(tg.TensorSpec(None)) == "TensorSpec(shape=<unknown>, dtype=tf.float32, name=None)"
    assert repr(tg.TensorSpec.from_tensor(tg.zeros([2, 3]))) == "TensorSpec(shape=(2, 3), dtype=tf.float32, name=None)"
    assert tg.TensorSpec.from_tensor(tg.zeros(2), name="a").name == "a"
    assert tg.TensorSpec.from_spec(tg.TensorSpec([5]), name="z") == tg.TensorSpec([5], name="z")
    assert spec == tg.TensorSpec([None, 3], tg.float32) and hash(spec) == hash(tg.TensorSpec([None, 3]))
    assert tg.TensorSpec([2], name="a") != tg.TensorSpec([2])
    assert repr(tg.TensorSpec(3)) == "TensorSpec(shape=(3,), dtype=tf.float32, name=None)"
    assert repr(tg.TensorSpec([])) == "TensorSpec(shape=(), dtype=tf.float32, name=None)"
    assert pickle.loads(pickle.dumps(spec)) == spec
    with pytest.raises(ValueError, match="`tensor` should be a tf.Tensor"):
        tg.TensorSpec.from_tensor(tg.Variable([1.0]))
    with pytest.raises(TypeError, match="Cannot convert the argument `type_value`: 'foo' to a TensorFlow DType"):
        tg.TensorSpec([2], "foo")


def test_tensor_shape_unknown_dims():
    s = tg.TensorShape([None, 3])
    assert s.rank == 2 and s[0] is None and s.num_elements() is None and not s.is_fully_defined()
    assert str(s) == "(None, 3)" and s == [None, 3] and s == tg.TensorShape([None, 3])
    assert s.is_compatible_with([2, 3]) and not s.is_compatible_with([2, 4])
    assert s.merge_with([2, None]) == [2, 3]
    with pytest.raises(ValueError, match=r"Shapes \(None, 3\) and \(2, 4\) are not compatible"):
        s.merge_with([2, 4])
    assert s.concatenate([4]) == [None, 3, 4]
    u = tg.TensorShape(None)
    assert repr(u) == "TensorShape(None)" and str(u) == "<unknown>" and u.rank is None and u == tg.TensorShape(None)
    assert u.is_compatible_with(s) and u != s
    with pytest.raises(ValueError, match="as_list\\(\\) is not defined on an unknown TensorShape"):
        u.as_list()
    with pytest.raises(ValueError, match="Cannot take the length of shape with unknown rank"):
        len(u)
    assert pickle.loads(pickle.dumps(u)) == u and pickle.loads(pickle.dumps(s)) == s
    assert tg.TensorShape(3) == [3] and tg.zeros([2, 3]).shape.num_elements() == 6


# -- gradient(x, x) -----------------------------------------------------------------------------


def test_gradient_of_a_source_with_respect_to_itself_is_ones():
    x = tg.constant(2.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
    assert float(tape.gradient(x, x)) == 1.0
    with tg.GradientTape() as tape:  # TF: 1.0 even when x was never watched
        pass
    assert float(tape.gradient(x, x)) == 1.0
    v = tg.Variable([1.0, 2.0])
    with tg.GradientTape() as tape:
        pass
    assert tape.gradient(v, v).numpy().tolist() == [1.0, 1.0]
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    assert float(tape.gradient([x, y], x)) == 5.0
    with tg.GradientTape() as tape:
        tape.watch(x)
    assert float(tape.gradient(x, x, output_gradients=tg.constant(3.0))) == 3.0
    other = tg.constant(1.0)
    with tg.GradientTape() as tape:
        pass
    assert tape.gradient(x, other) is None


# -- the narrow dtypes --------------------------------------------------------------------------

NARROW_INTS = ["uint8", "int8", "int16", "uint16", "uint32", "uint64"]


@pytest.mark.parametrize("name", NARROW_INTS + ["float16"])
def test_numpy_interop_both_ways(name):
    a = np.array([[0, 1, 2], [3, 4, 100]], dtype=name)
    t = tg.constant(a)
    assert t.dtype == getattr(tg, name) and t.dtype.as_numpy_dtype == np.dtype(name).type
    back = np.asarray(t)
    assert back.dtype == np.dtype(name) and back.tolist() == a.tolist()
    assert t.numpy().dtype == np.dtype(name)
    assert tg.convert_to_tensor(a).dtype == getattr(tg, name)
    assert tg.cast(t, tg.float32).numpy().tolist() == a.astype(np.float32).tolist()


def test_dtype_objects():
    assert (
        tg.uint8.is_integer,
        tg.uint8.is_unsigned,
        tg.uint8.is_floating,
        tg.uint8.min,
        tg.uint8.max,
        tg.uint8.size,
    ) == (True, True, False, 0, 255, 1)
    assert (tg.int8.min, tg.int8.max, tg.int16.min, tg.uint16.max) == (-128, 127, -32768, 65535)
    assert (tg.uint32.max, tg.uint64.max) == (2**32 - 1, 2**64 - 1)
    assert tg.float16.is_floating and not tg.float16.is_unsigned and tg.float16.max == np.float16(65504)
    assert tg.bfloat16.is_floating and tg.bfloat16.size == 2 and tg.bfloat16.max == float.fromhex("0x1.fep127")
    assert tg.half is tg.float16 and tg.as_dtype("half") == tg.float16 and tg.as_dtype(np.uint8) == tg.uint8
    assert str(tg.uint8) == "<dtype: 'uint8'>" and repr(tg.bfloat16) == "tf.bfloat16"
    assert not tg.float32.is_unsigned and not tg.bool.is_unsigned
    with pytest.raises(TypeError, match="Cannot find minimum value of <dtype: 'bool'>"):
        tg.bool.min
    assert pickle.loads(pickle.dumps(tg.uint16)) == tg.uint16


def test_mnist_style_uint8_data():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(8, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=(8,), dtype=np.uint8)
    x = tg.cast(images, tg.float32) / 255.0
    np.testing.assert_array_equal(x.numpy(), images.astype(np.float32) / np.float32(255.0))
    w = tg.Variable(np.zeros((784, 10), np.float32))
    with tg.GradientTape() as tape:
        logits = tg.matmul(tg.reshape(x, [8, 784]), w)
        loss = tg.reduce_mean(tg.nn.sparse_softmax_cross_entropy_with_logits(tg.cast(labels, tg.int32), logits))
    g = tape.gradient(loss, w)
    assert g.shape == (784, 10) and abs(float(loss) - np.log(10.0)) < 1e-6
    batch = tg.constant(images)[2:5]
    assert batch.dtype == tg.uint8 and batch.numpy().tolist() == images[2:5].tolist()
    assert tg.one_hot(tg.constant(labels), 10).numpy().argmax(axis=1).tolist() == labels.tolist()


def test_casts_follow_tf_rules():
    f = tg.constant([-1.5, 3.7, 300.0, 255.9, float("nan"), float("inf")])
    assert tg.cast(f, tg.uint8).numpy().tolist() == [255, 3, 44, 255, 0, 0]  # via int32, wrapping
    assert tg.cast(tg.constant([-1.5, -200.0]), tg.int8).numpy().tolist() == [-1, 56]
    assert tg.cast(tg.constant([3e9, -3e9, float("nan")]), tg.int32).numpy().tolist() == [-(2**31)] * 3
    assert tg.cast(tg.constant([-1.0, 5e9]), tg.uint32).numpy().tolist() == [2**32 - 1, 705032704]
    assert tg.cast(tg.constant([-1.0, 5e9, 1e19]), tg.uint64).numpy().tolist() == [
        2**64 - 1,
        5000000000,
        int(np.float32(1e19)),
    ]
    assert tg.cast(tg.constant([-1, 256, 300]), tg.uint8).numpy().tolist() == [255, 0, 44]
    assert tg.cast(tg.constant([3, 0], tg.uint8), tg.bool).numpy().tolist() == [True, False]
    assert tg.cast(tg.constant([1.0001, 70000.0]), tg.float16).numpy().tolist() == [1.0, float("inf")]
    h = tg.cast(tg.constant([3.7, -2.5], tg.float16), tg.int32)
    assert h.numpy().tolist() == [3, -2]
    b = tg.cast(tg.constant([1.0001, 3.14159]), tg.bfloat16)
    assert tg.cast(b, tg.float32).numpy().tolist() == [1.0, 3.140625]  # round to nearest even
    for src in NARROW_INTS + ["float16", "bfloat16", "bool", "int32", "int64", "float32", "float64"]:
        for dst in NARROW_INTS + ["float16", "bfloat16", "bool", "int32", "int64", "float32", "float64"]:
            t = tg.cast(tg.cast(tg.constant([0, 1, 1]), getattr(tg, src)), getattr(tg, dst))  # TF: no int list -> bool
            assert t.dtype == getattr(tg, dst)
            assert tg.cast(t, tg.float32).numpy().tolist() == [0.0, 1.0, 1.0], (src, dst)


def test_python_values_wrap_as_tf():
    assert int(tg.constant(300, tg.uint8)) == 44 and int(tg.constant(-1, tg.uint8)) == 255
    assert tg.constant([1, 256], tg.uint8).numpy().tolist() == [1, 0]
    assert int(tg.constant(2**64 - 1, tg.uint64)) == 2**64 - 1
    assert tg.constant([2**64 - 1, 5], tg.uint64).numpy().tolist() == [2**64 - 1, 5]
    assert int(tg.convert_to_tensor(2**40, tg.uint32)) == 0
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype uint8"):
        tg.constant(1.5, tg.uint8)
    assert tg.constant([1.5, 70000], tg.float16).numpy().tolist() == [1.5, float("inf")]
    assert tg.zeros([2], tg.uint8).numpy().tolist() == [0, 0] and tg.ones([2], tg.int16).numpy().tolist() == [1, 1]


def test_integer_arithmetic_wraps_and_divides_as_tf():
    u = lambda v: tg.constant(v, tg.uint8)  # noqa: E731
    assert (u([250]) + u([10])).numpy().tolist() == [4]
    assert (u([5]) - u([10])).numpy().tolist() == [251]
    assert (u([20]) * u([20])).numpy().tolist() == [144]
    assert (u([2]) + 300).numpy().tolist() == [46]
    q = u([20]) / u([3])
    assert q.dtype == tg.float32 and abs(float(q) - 20 / 3) < 1e-6
    assert (tg.constant([7], tg.uint32) / tg.constant([2], tg.uint32)).dtype == tg.float64
    assert tg.divide(tg.constant([7], tg.int16), tg.constant([2], tg.int16)).dtype == tg.float32
    assert (u([20]) // u([3])).numpy().tolist() == [6] and (u([20]) % u([3])).numpy().tolist() == [2]
    i8 = lambda v: tg.constant(v, tg.int8)  # noqa: E731
    assert (i8([7, -7]) // i8([-2, 2])).numpy().tolist() == [-4, -4]
    assert (i8([7, -7]) % i8([-2, 2])).numpy().tolist() == [-1, 1]
    assert (-i8([-128, 3])).numpy().tolist() == [-128, -3]
    with pytest.raises(tg.errors.InvalidArgumentError, match="Integer division by zero"):
        u([7]) // u([0])
    big = tg.constant([2**63 + 5, 1], tg.uint64)
    assert (big // tg.constant([2, 1], tg.uint64)).numpy().tolist() == [2**62 + 2, 1]
    assert (big > tg.constant([1, 2], tg.uint64)).numpy().tolist() == [True, False]
    assert int(tg.reduce_max(big)) == 2**63 + 5 and int(tg.reduce_min(big)) == 1
    assert int(tg.argmax(big)) == 0


def test_integer_reductions():
    x = tg.constant([[200, 100], [3, 4]], tg.uint8)
    assert tg.reduce_sum(x).numpy() == np.uint8(51) and tg.reduce_sum(x).dtype == tg.uint8  # 307 wraps
    assert tg.reduce_mean(x, axis=1).numpy().tolist() == [150, 3]  # accumulates wide, as TF
    assert int(tg.reduce_max(x)) == 200 and int(tg.reduce_min(x)) == 3
    assert int(tg.reduce_mean(tg.constant([-100, -100, 100], tg.int8))) == -33
    assert int(tg.reduce_sum(tg.constant([30000, 30000], tg.int16))) == -5536
    assert tg.cumsum(tg.constant([200, 100], tg.uint8)).numpy().tolist() == [200, 44]


def test_float16_and_bfloat16_compute_in_float32_and_round():
    h = tg.constant([1.0, 2.0, 3.0], tg.float16)
    got = tg.exp(h) * h + 1.0
    want = np.exp(np.float32([1, 2, 3])).astype(np.float16).astype(np.float32) * np.float32([1, 2, 3])
    want = (want.astype(np.float16).astype(np.float32) + 1).astype(np.float16)
    assert got.dtype == tg.float16
    np.testing.assert_array_equal(got.numpy(), want)
    assert float(tg.reduce_sum(tg.constant([60000.0, 60000.0], tg.float16))) == float("inf")
    m = tg.matmul(tg.constant([[1.5, 2.0]], tg.float16), tg.constant([[2.0], [0.25]], tg.float16))
    assert m.dtype == tg.float16 and m.numpy().tolist() == [[3.5]]
    b = tg.constant([1.0], tg.bfloat16) + tg.constant([1e-3], tg.bfloat16)
    assert b.dtype == tg.bfloat16 and float(tg.cast(b, tg.float32)) == 1.0


@pytest.mark.parametrize(
    "op, name",
    [
        (lambda x: tg.exp(x), "Exp"),
        (lambda x: -x, "Neg"),
        (lambda x: tg.abs(x), "Abs"),
        (lambda x: tg.sign(x), "Sign"),
        (lambda x: x**x, "Pow"),
        (lambda x: tg.sqrt(x), "Sqrt"),
        (lambda x: tg.math.squared_difference(x, x), "SquaredDifference"),
        (lambda x: tg.matmul(x, x), "MatMul"),
    ],
)
def test_ops_tf_does_not_define_on_uint8_raise(op, name):
    x = tg.constant([[2]], tg.uint8)
    with pytest.raises(tg.errors.InvalidArgumentError, match=f"uint8.*{name}|{name}.*uint8"):
        op(x)


def test_mixed_narrow_dtypes_raise():
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected to be a uint8 tensor but is a int32 tensor"):
        tg.constant([2], tg.uint8) + tg.constant([1])
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected to be a uint8 tensor but is a float tensor"):
        tg.constant([2], tg.uint8) + 1.5


def test_bfloat16_to_numpy_needs_ml_dtypes(monkeypatch):
    b = tg.cast(tg.constant([1.5, 2.0]), tg.bfloat16)
    pytest.importorskip("ml_dtypes")
    assert b.numpy().dtype.name == "bfloat16" and b.numpy().astype(np.float32).tolist() == [1.5, 2.0]
    monkeypatch.setitem(__import__("sys").modules, "ml_dtypes", None)
    with pytest.raises(TypeError, match="needs the ml_dtypes package"):
        b.numpy()
    assert repr(b) == "<tf.Tensor: shape=(2,), dtype=bfloat16, numpy=<unprintable>>"
    assert tg.cast(b, tg.float32).numpy().tolist() == [1.5, 2.0]


def test_float16_and_bfloat16_are_differentiable_integers_are_not():
    x16 = tg.constant([1.0, 2.5], tg.float16)
    xb = tg.Variable(tg.cast(tg.constant([0.5, -3.0]), tg.bfloat16))
    u8 = tg.constant([1, 2], tg.uint8)
    with tg.GradientTape() as tape:
        tape.watch(x16)
        with pytest.warns(UserWarning, match="The dtype of the watched tensor must be floating"):
            tape.watch(u8)  # as TF
        y = (
            tg.reduce_sum(tg.cast(x16, tg.float32) ** 2)
            + tg.reduce_sum(tg.cast(xb * xb * xb, tg.float32))
            + tg.reduce_sum(tg.cast(u8, tg.float32))
        )
    with pytest.warns(UserWarning, match="source tensor must be floating.*uint8"):
        g16, gb, gu8 = tape.gradient(y, [x16, xb, u8])
    assert g16.dtype == tg.float16 and g16.numpy().tolist() == [2.0, 5.0]
    assert gb.dtype == tg.bfloat16 and tg.cast(gb, tg.float32).numpy().tolist() == [0.75, 27.0]
    assert gu8 is None


def test_variables_of_narrow_dtypes():
    v = tg.Variable(np.array([250, 3], np.uint8))
    v.assign_add(np.array([10, 1], np.uint8))
    assert v.dtype == tg.uint8 and v.numpy().tolist() == [4, 4]
    assert repr(v) == "<tf.Variable 'Variable:0' shape=(2,) dtype=uint8, numpy=array([4, 4], dtype=uint8)>"
