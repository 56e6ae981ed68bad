"""Issue 10's gaps, run with `tensorflow` and with `tapegrad` as the module: the same program must
give the same values, dtypes, printed text and errors. Skips cleanly without TensorFlow."""

import numpy as np
import pytest

import tapegrad

tf = pytest.importorskip("tensorflow")


def _run(prog):
    """(tf result, tapegrad result): values, or ('raises', exception type name)."""
    out = []
    for m in (tf, tapegrad):
        try:
            out.append(prog(m))
        except Exception as e:  # noqa: BLE001  (the error's type is compared)
            out.append(("raises", _error_kind(e)))
    return out


def _error_kind(e):
    name = type(e).__name__
    return "InvalidArgumentError" if name.endswith("InvalidArgumentError") else name


def _same(a, b):
    if isinstance(a, (list, tuple)) and not (len(a) == 2 and isinstance(a[0], str) and a[0] == "raises"):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    if hasattr(a, "numpy") and hasattr(a, "dtype"):
        assert hasattr(b, "numpy") and a.dtype.name == b.dtype.name, (a, b)
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
        return
    assert a == b, (a, b)


CONVERSIONS = {
    "ctt_f64_to_f32": lambda m: m.convert_to_tensor(np.array([1.5, 2.0]), dtype=m.float32),
    "ctt_f64_to_i32": lambda m: m.convert_to_tensor(np.array([1.5, -2.5]), dtype=m.int32),
    "ctt_i64_to_f32": lambda m: m.convert_to_tensor(np.array([1, 2]), dtype=m.float32),
    "ctt_bool_to_f32": lambda m: m.convert_to_tensor(np.array([True, False]), dtype=m.float32),
    "ctt_npscalar": lambda m: m.convert_to_tensor(np.float64(1.5), dtype=m.float32),
    "ctt_hint": lambda m: m.convert_to_tensor(np.array([1.5]), dtype_hint=m.float32),
    "ctt_tensor_mismatch": lambda m: m.convert_to_tensor(m.constant([1.0]), dtype=m.float64),
    "ctt_variable_mismatch": lambda m: m.convert_to_tensor(m.Variable(1.0), dtype=m.float64),
    "f32_plus_f64_array": lambda m: m.constant([1.0, 2.0]) + np.array([0.5, 1.0]),
    "f64_array_plus_f32": lambda m: np.array([0.5, 1.0]) + m.constant([1.0, 2.0]),
    "f32_minus_int_array": lambda m: m.constant([1.0, 2.0]) - np.array([1, 2]),
    "array_div_f32": lambda m: np.array([1.0, 3.0]) / m.constant([2.0, 4.0]),
    "f32_mul_bool_array": lambda m: m.constant([1.0, 2.0]) * np.array([True, False]),
    "i32_plus_f64_array": lambda m: m.constant([1, 2]) + np.array([1.5, 2.0]),
    "i32_plus_np_f64_scalar": lambda m: m.constant([1, 2]) + np.float64(0.5),
    "f32_less_f64_array": lambda m: m.constant([1.0, 2.0]) < np.array([1.5, 1.0]),
    "f64_array_ge_f32": lambda m: np.array([1.5, 1.0]) >= m.constant([1.0, 2.0]),
    "f32_eq_f64_array": lambda m: m.constant([1.0, 2.0]) == np.array([1.0, 1.0]),
    "maximum_array_first": lambda m: m.maximum(np.array([1.5]), m.constant([1.0])),
    "f32_plus_f64_tensor": lambda m: m.constant([1.0]) + m.constant([1.0], m.float64),
    "i32_plus_float": lambda m: m.constant([1]) + 1.5,
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_conversions_match_tf(name):
    _same(*_run(CONVERSIONS[name]))


PRINTED = {
    "scalar_f32": lambda m: m.constant(1.5),
    "scalar_f32_inexact": lambda m: m.constant(0.1),
    "scalar_f64": lambda m: m.constant(0.1, m.float64),
    "scalar_nan": lambda m: m.constant(float("nan")),
    "scalar_i32": lambda m: m.constant(3),
    "scalar_i64": lambda m: m.constant(2**40),
    "scalar_bool": lambda m: m.constant(True),
    "vector": lambda m: m.constant([1.5, 2.0, -3.25]),
    "matrix": lambda m: m.constant([[1.5, 2.0], [3.0, 4.0]]),
    "cube": lambda m: m.ones([2, 2, 2]),
    "empty": lambda m: m.zeros([0]),
    "long": lambda m: m.zeros([2000]),
    "int_matrix": lambda m: m.constant([[1, 2], [3, 40]]),
    "variable": lambda m: m.Variable([1.0, 2.0], name="w"),
    "variable_scalar": lambda m: m.Variable(1.5),
}


@pytest.mark.parametrize("name", sorted(PRINTED))
def test_printing_matches_tf(name):
    a, b = (PRINTED[name](m) for m in (tf, tapegrad))
    assert repr(b) == repr(a)
    assert str(b) == str(a)
    assert f"{b}" == f"{a}"


def test_names_formats_and_dtypes_match_tf():
    def prog(m):
        return [
            m.Variable(1.0, name="w").name,
            m.Variable(1.0).name,
            m.Variable(1.0, name="a/b").name,
            str(m.int32),
            repr(m.int32),
            str(m.float64),
            f"{m.constant(3.14159):.4f}",
            f"{m.constant(7):03d}",
            f"{m.constant(2.5, m.float64):e}",
            m.constant(1.0).device,
            m.Variable(1.0).device,
        ]

    _same(*_run(prog))
    for spec in (".4f", "d"):
        _same(*_run(lambda m: f"{m.constant([1.5]):{spec}}"))
        _same(*_run(lambda m: f"{m.Variable(1.5):{spec}}"))


def test_devices_match_tf():
    def prog(m):
        out = [
            repr(m.config.list_physical_devices()),
            m.config.list_physical_devices("GPU"),
            repr(m.config.list_logical_devices("CPU")),
            m.config.list_physical_devices("cpu"),
        ]
        for name in ("/GPU:0", "/cpu:0", "GPU:0", "/device:GPU:0", None, ""):
            with m.device(name):
                out.append((m.constant(1.0) * 2.0).device)
        return out

    _same(*_run(prog))

    def bad_device(m):
        with m.device("foo"):
            return m.constant(1.0)

    _same(*_run(bad_device))
    _same(*_run(lambda m: m.config.experimental.set_memory_growth(m.config.list_physical_devices("CPU")[0], True)))


LINSPACE = {
    "basic": lambda m: m.linspace(0.0, 1.0, 5),
    "ints": lambda m: m.linspace(0, 1, 5),
    "axis1": lambda m: m.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1),
    "axis_neg": lambda m: m.linspace([[0.0, 1.0]], [[1.0, 3.0]], 4, axis=-2),
    "broadcast": lambda m: m.linspace([[0.0], [1.0]], [1.0, 3.0], 2),
    "one": lambda m: m.linspace(2.0, 5.0, 1),
    "zero": lambda m: m.linspace(2.0, 5.0, 0),
    "num_tensor": lambda m: m.linspace(0.0, 1.0, m.constant(3)),
    "f64_long": lambda m: m.linspace(m.constant(-3.0, m.float64), 7.0, 11),
    "f32_long": lambda m: m.linspace(-1.3, 2.9, 17),
    "num_float": lambda m: m.linspace(0.0, 1.0, 3.0),
    "num_negative": lambda m: m.linspace(0.0, 1.0, -1),
}


@pytest.mark.parametrize("name", sorted(LINSPACE))
def test_linspace_matches_tf(name):
    a, b = _run(LINSPACE[name])
    if isinstance(a, tuple):
        assert a == b
        return
    assert a.dtype.name == b.dtype.name and tuple(a.shape) == tuple(b.shape)
    np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-6, atol=1e-6)


def test_linspace_gradients_match_tf():
    def prog(m):
        x = m.constant([0.5, -1.0])
        y = m.constant([[2.0], [3.0]])
        with m.GradientTape() as tape:
            tape.watch([x, y])
            s = m.reduce_sum(m.sin(m.linspace(x, y, 6, axis=-1)))
        return tape.gradient(s, [x, y])

    a, b = _run(prog)
    for u, v in zip(a, b):
        np.testing.assert_allclose(v.numpy(), u.numpy(), rtol=1e-5, atol=1e-6)


def test_tensor_spec_matches_tf():
    def prog(m):
        spec = m.TensorSpec((None, 3))
        return [
            repr(spec),
            str(m.TensorSpec((None, 3), m.int32, name="x")),
            repr(spec.shape),
            spec.is_compatible_with(m.zeros([2, 3])),
            spec.is_compatible_with(m.zeros([2, 4])),
            spec.is_compatible_with(m.zeros([2, 3], m.int32)),
            spec.is_compatible_with(np.zeros((2, 3), "float32")),
            repr(m.TensorSpec(None)),
            repr(m.TensorSpec.from_tensor(m.zeros([2, 3]))),
            repr(m.TensorSpec([])),
            spec == m.TensorSpec([None, 3], m.float32),
            m.TensorSpec([2], name="a") == m.TensorSpec([2]),
            repr(m.TensorShape(None)),
            str(m.TensorShape([None])),
            m.TensorShape([None, 3]).num_elements(),
            repr(m.TensorShape([None, 3]).merge_with([2, None])),
        ]

    _same(*_run(prog))
    _same(*_run(lambda m: m.TensorSpec.from_tensor(m.Variable([1.0]))))


def test_gradient_of_target_that_is_a_source_matches_tf():
    def prog(m):
        x = m.constant(2.0)
        v = m.Variable([1.0, 2.0])
        out = []
        with m.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x * x
        out += [
            tape.gradient(x, x),
            tape.gradient(v, v),
            tape.gradient([x, y], x),
            tape.gradient(x, x, output_gradients=m.constant(3.0)),
        ]
        with m.GradientTape() as tape2:
            pass
        out.append(tape2.gradient(x, x))
        return out

    _same(*_run(prog))


NARROW = ["uint8", "int8", "int16", "uint16", "uint32", "uint64"]
HALVES = ["float16", "bfloat16"]


def _c(m, values, dtype):
    return m.constant(values, getattr(m, dtype))


DTYPE_PROGRAMS = {
    "cast_float_to_uint8": lambda m: m.cast(m.constant([-1.5, 3.7, 300.0, 255.9, float("nan"), float("inf")]), m.uint8),
    "cast_float_to_int8": lambda m: m.cast(m.constant([-1.5, 3.7, 300.0, -200.0, -float("inf")]), m.int8),
    "cast_float_to_int16": lambda m: m.cast(m.constant([-1.5, 70000.0, -40000.0]), m.int16),
    "cast_float_to_uint16": lambda m: m.cast(m.constant([-1.0, 70000.0, 65535.9]), m.uint16),
    "cast_float_to_uint32": lambda m: m.cast(m.constant([-1.0, 5e9, 4e9]), m.uint32),
    "cast_float_to_uint64": lambda m: m.cast(m.constant([-1.0, 5e9, 1e19]), m.uint64),
    "cast_float_to_int32_out_of_range": lambda m: m.cast(m.constant([3e9, -3e9, float("nan")]), m.int32),
    "cast_double_to_int64_out_of_range": lambda m: m.cast(m.constant([1e20, -1e20], m.float64), m.int64),
    "cast_int32_to_uint8": lambda m: m.cast(m.constant([-1, 256, 300]), m.uint8),
    "cast_int64_to_uint32": lambda m: m.cast(m.constant([-1, 2**33 + 5], m.int64), m.uint32),
    "cast_uint8_to_int8": lambda m: m.cast(_c(m, [3, 200], "uint8"), m.int8),
    "cast_uint64_to_float32": lambda m: m.cast(_c(m, [2**64 - 1, 12345], "uint64"), m.float32),
    "cast_uint64_to_int64": lambda m: m.cast(_c(m, [2**64 - 1], "uint64"), m.int64),
    "cast_bool_to_uint8": lambda m: m.cast(m.constant([True, False]), m.uint8),
    "cast_uint8_to_bool": lambda m: m.cast(_c(m, [3, 0], "uint8"), m.bool),
    "cast_float_to_float16": lambda m: m.cast(m.constant([1.0001, 70000.0, 1e-8, -2.5, 65519.0, 65520.0]), m.float16),
    "cast_double_to_float16": lambda m: m.cast(m.constant([0.1, 1.0 + 2**-11 + 2**-40], m.float64), m.float16),
    "cast_float_to_bfloat16": lambda m: m.cast(m.constant([1.0001, 3.14159, -1e38, 3.4e38]), m.bfloat16),
    "cast_float16_to_int32": lambda m: m.cast(_c(m, [3.7, -2.5, 60000.0], "float16"), m.int32),
    "cast_bfloat16_to_float16": lambda m: m.cast(_c(m, [3.14159, 1e5], "bfloat16"), m.float16),
    "cast_float16_to_uint8": lambda m: m.cast(_c(m, [300.0, -1.0], "float16"), m.uint8),
    "mnist_scaling": lambda m: (
        m.cast(m.constant(np.arange(0, 256, 17, dtype=np.uint8).reshape(4, 4)), m.float32) / 255.0
    ),
    "numpy_uint8_roundtrip": lambda m: m.convert_to_tensor(np.array([[0, 7], [128, 255]], np.uint8)),
    "numpy_uint16": lambda m: m.convert_to_tensor(np.array([0, 65535], np.uint16)),
    "numpy_int8": lambda m: m.constant(np.array([-128, 127], np.int8)),
    "numpy_float16": lambda m: m.constant(np.array([1.5, -0.25], np.float16)),
    "constant_wraps_uint8": lambda m: [
        m.constant(300, m.uint8),
        m.constant(-1, m.uint8),
        m.constant([1, 256], m.uint8),
    ],
    "constant_uint64_max": lambda m: m.constant(2**64 - 1, m.uint64),
    "constant_uint32_wraps": lambda m: m.convert_to_tensor(2**40, m.uint32),
    "constant_uint8_fraction": lambda m: m.constant(1.5, m.uint8),
    "constant_float16_list": lambda m: m.constant([1.5, 70000], m.float16),
    "constant_array_to_uint8": lambda m: m.constant(np.array([1, 256]), m.uint8),
    "uint8_add_wraps": lambda m: _c(m, [250], "uint8") + _c(m, [10], "uint8"),
    "uint8_sub_wraps": lambda m: _c(m, [5], "uint8") - _c(m, [10], "uint8"),
    "uint8_mul_wraps": lambda m: _c(m, [20], "uint8") * _c(m, [20], "uint8"),
    "uint8_truediv": lambda m: _c(m, [20], "uint8") / _c(m, [3], "uint8"),
    "int16_truediv": lambda m: _c(m, [7], "int16") / _c(m, [2], "int16"),
    "uint32_truediv": lambda m: _c(m, [7], "uint32") / _c(m, [2], "uint32"),
    "uint8_floordiv_mod": lambda m: [
        _c(m, [20], "uint8") // _c(m, [3], "uint8"),
        _c(m, [20], "uint8") % _c(m, [3], "uint8"),
    ],
    "int8_floordiv_mod": lambda m: [
        _c(m, [7, -7], "int8") // _c(m, [-2, 2], "int8"),
        _c(m, [7, -7], "int8") % _c(m, [-2, 2], "int8"),
    ],
    "uint64_big": lambda m: [
        _c(m, [2**63 + 5, 1], "uint64") // _c(m, [2, 3], "uint64"),
        _c(m, [2**63 + 5, 1], "uint64") % _c(m, [7, 3], "uint64"),
        _c(m, [2**63 + 5, 1], "uint64") < _c(m, [1, 2**63 + 5], "uint64"),
        m.maximum(_c(m, [2**63 + 5, 1], "uint64"), _c(m, [1, 2**63 + 5], "uint64")),
        m.reduce_max(_c(m, [2**63 + 5, 1], "uint64")),
        m.reduce_min(_c(m, [2**63 + 5, 1], "uint64")),
        m.argmax(_c(m, [1, 2**63 + 5, 7], "uint64")),
    ],
    "uint8_division_by_zero": lambda m: _c(m, [7], "uint8") // _c(m, [0], "uint8"),
    "uint8_plus_python_int": lambda m: [_c(m, [2], "uint8") + 1, _c(m, [2], "uint8") + 300, _c(m, [2], "uint8") + (-1)],
    "uint8_plus_python_float": lambda m: _c(m, [2], "uint8") + 1.5,
    "uint8_plus_numpy_uint8": lambda m: _c(m, [1], "uint8") + np.array([255], np.uint8),
    "uint8_plus_list": lambda m: _c(m, [1], "uint8") + [300],
    "uint8_broadcast": lambda m: _c(m, [[1], [2]], "uint8") * _c(m, [3, 200], "uint8"),
    "uint8_comparisons": lambda m: [
        _c(m, [20, 3], "uint8") < _c(m, [3, 3], "uint8"),
        m.equal(_c(m, [20, 3], "uint8"), _c(m, [3, 3], "uint8")),
        _c(m, [20, 3], "uint8") >= _c(m, [3, 3], "uint8"),
    ],
    "uint8_min_max": lambda m: [
        m.maximum(_c(m, [20, 1], "uint8"), _c(m, [3, 3], "uint8")),
        m.minimum(_c(m, [20, 1], "uint8"), _c(m, [3, 3], "uint8")),
    ],
    "uint8_reductions": lambda m: [
        m.reduce_sum(_c(m, [200, 100], "uint8")),
        m.reduce_max(_c(m, [200, 100], "uint8")),
        m.reduce_min(_c(m, [200, 100], "uint8")),
        m.reduce_mean(_c(m, [200, 100], "uint8")),
        m.reduce_prod(_c(m, [200, 100], "uint8")),
        m.reduce_mean(_c(m, [[3, 5], [250, 251]], "uint8"), axis=1),
    ],
    "int8_int16_reductions": lambda m: [
        m.reduce_mean(_c(m, [-100, -100, 100], "int8")),
        m.reduce_sum(_c(m, [30000, 30000], "int16")),
        m.reduce_max(_c(m, [[-5, 7], [3, -9]], "int8"), axis=0),
    ],
    "uint8_square_relu": lambda m: [
        m.square(_c(m, [1, 30], "uint8")),
        m.nn.relu(_c(m, [1, 30], "uint8")),
        m.square(_c(m, [300, 7], "uint16")),
    ],
    "int8_neg_abs_sign": lambda m: [
        -_c(m, [-1, 3, -128], "int8"),
        m.abs(_c(m, [-1, 3], "int8")),
        m.sign(_c(m, [-1, 0, 3], "int16")),
    ],
    "uint8_cumsum_argmax": lambda m: [
        m.cumsum(_c(m, [200, 100], "uint8")),
        m.argmax(_c(m, [3, 200], "uint8")),
        m.argmin(_c(m, [3, 200, 1], "int16")),
    ],
    "uint8_data_movement": lambda m: [
        m.reshape(_c(m, [7, 8], "uint8"), [2, 1]),
        m.transpose(_c(m, [[7, 8]], "uint8")),
        m.concat([_c(m, [7, 8], "uint8")] * 2, 0),
        m.gather(_c(m, [7, 8], "uint8"), [1]),
        _c(m, [7, 8, 9], "uint8")[1:],
        m.stack([_c(m, [1], "int16")] * 2),
        m.where(m.constant([True, False]), _c(m, [1, 3], "uint8"), _c(m, [5, 6], "uint8")),
        m.broadcast_to(_c(m, [1, 2], "uint16"), [2, 2]),
        m.tile(_c(m, [1, 2], "int8"), [2]),
        m.zeros([2], m.uint8),
        m.ones([2], m.uint32),
        m.fill([2], np.uint8(3)),
        m.one_hot(_c(m, [1, 0], "uint8"), 3),
    ],
    "float16_arithmetic": lambda m: [
        _c(m, [1.0], "float16") + _c(m, [1e-3], "float16"),
        _c(m, [1.0], "float16") / _c(m, [3.0], "float16"),
        _c(m, [1.0], "float16") + 1.0,
        m.exp(_c(m, [1.0], "float16")),
        m.sigmoid(_c(m, [0.3], "float16")),
        _c(m, [3.0], "float16") ** 2,
        _c(m, [7.0], "float16") // _c(m, [2.0], "float16"),
        m.reduce_sum(_c(m, [1.0, 2.0], "float16")),
        m.reduce_sum(_c(m, [60000.0, 60000.0], "float16")),
        m.reduce_mean(_c(m, [60000.0, 60000.0], "float16")),
        m.matmul(_c(m, [[300.0]], "float16"), _c(m, [[300.0]], "float16")),
        m.matmul(_c(m, [[1.5, 2.0]], "float16"), _c(m, [[2.0], [0.25]], "float16")),
    ],
    "range_16_bit_floats": lambda m: [m.range(1, 7, 2, dtype=m.float16), m.range(0.5, 3.0, 0.7, dtype=m.bfloat16)],
    "where_uint8": lambda m: m.where(_c(m, [[0, 3], [5, 0]], "uint8")),
    "where_int16": lambda m: m.where(_c(m, [0, -3, 0, 7], "int16")),
    "bfloat16_arithmetic": lambda m: [
        _c(m, [1.0], "bfloat16") + _c(m, [1e-3], "bfloat16"),
        m.exp(_c(m, [1.0], "bfloat16")),
        m.matmul(_c(m, [[1.0, 2.0]], "bfloat16"), _c(m, [[3.0], [4.0]], "bfloat16")),
        m.reduce_sum(_c(m, [1.0, 1e-3], "bfloat16")),
        _c(m, [7.0], "bfloat16") < _c(m, [2.0], "bfloat16"),
        m.reduce_max(_c(m, [7.0, 9.0], "bfloat16")),
    ],
}
for _d in NARROW:
    DTYPE_PROGRAMS[f"{_d}_add_mul_less"] = (
        lambda d: (
            lambda m: [
                _c(m, [1, 7], d) + _c(m, [2, 1], d),
                _c(m, [3, 7], d) * _c(m, [2, 2], d),
                _c(m, [1, 7], d) < _c(m, [2, 1], d),
                _c(m, [9, 7], d) // _c(m, [2, 3], d),
                _c(m, [9, 7], d) % _c(m, [2, 3], d),
                m.reduce_sum(_c(m, [[1, 2], [3, 4]], d), axis=0),
                m.cast(_c(m, [1, 7], d), m.float32),
                _c(m, [9, 7], d) - _c(m, [2, 3], d),
            ]
        )
    )(_d)

UNSUPPORTED = {
    "uint8_exp": lambda m: m.exp(_c(m, [2], "uint8")),
    "uint8_neg": lambda m: -_c(m, [2], "uint8"),
    "uint32_neg": lambda m: -_c(m, [2], "uint32"),
    "uint8_abs": lambda m: m.abs(_c(m, [2], "uint8")),
    "uint8_sign": lambda m: m.sign(_c(m, [2], "uint8")),
    "uint8_pow": lambda m: _c(m, [2], "uint8") ** _c(m, [2], "uint8"),
    "uint8_squared_difference": lambda m: m.math.squared_difference(_c(m, [3], "uint8"), _c(m, [5], "uint8")),
    "uint8_matmul": lambda m: m.matmul(_c(m, [[2]], "uint8"), _c(m, [[2]], "uint8")),
    "int8_sqrt": lambda m: m.sqrt(_c(m, [4], "int8")),
    "uint8_plus_int32": lambda m: _c(m, [2], "uint8") + m.constant([1]),
    "uint8_range": lambda m: m.range(3, dtype=m.uint8),
}


def _same_dtype_result(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same_dtype_result(x, y)
        return
    if isinstance(a, tuple):
        assert a == b
        return
    assert a.dtype.name == b.dtype.name and tuple(a.shape) == tuple(b.shape), (a, b)
    if a.dtype.name == "bfloat16":
        assert repr(b) == repr(a)
        return
    np.testing.assert_array_equal(b.numpy(), a.numpy())


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("name", sorted(DTYPE_PROGRAMS))
def test_dtypes_match_tf(name):
    _same_dtype_result(*_run(DTYPE_PROGRAMS[name]))


@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_ops_tf_does_not_define_raise_as_tf(name):
    a, b = _run(UNSUPPORTED[name])
    assert a[0] == "raises" and b[0] == "raises"
    if a[1] == "NotFoundError":  # TF: no kernel registered; tapegrad: InvalidArgumentError
        assert b[1] == "InvalidArgumentError"
    else:
        assert a == b


def test_dtype_objects_match_tf():
    for name in NARROW + HALVES + ["float32", "int32", "bool"]:
        a, b = getattr(tf, name), getattr(tapegrad, name)
        assert (str(b), repr(b), b.name, b.is_integer, b.is_floating, b.is_unsigned, b.is_bool, b.size) == (
            str(a),
            repr(a),
            a.name,
            a.is_integer,
            a.is_floating,
            a.is_unsigned,
            a.is_bool,
            a.size,
        )
        assert b.as_numpy_dtype == a.as_numpy_dtype
        if name != "bool":
            assert (b.min, b.max) == (a.min, a.max), name
        assert tapegrad.as_dtype(a.as_numpy_dtype) == b
    assert tapegrad.half == tapegrad.float16 and tapegrad.as_dtype("half") == tapegrad.float16


PRINTED_NARROW = {
    "uint8": lambda m: _c(m, [0, 255], "uint8"),
    "uint8_scalar": lambda m: _c(m, 7, "uint8"),
    "float16": lambda m: _c(m, [1.5, 0.1], "float16"),
    "float16_scalar": lambda m: _c(m, 0.1, "float16"),
    "bfloat16": lambda m: _c(m, [1.5, 3.14159], "bfloat16"),
    "uint64": lambda m: _c(m, [2**64 - 1], "uint64"),
}


@pytest.mark.parametrize("name", sorted(PRINTED_NARROW))
def test_narrow_printing_matches_tf(name):
    a, b = (PRINTED_NARROW[name](m) for m in (tf, tapegrad))
    assert repr(b) == repr(a) and str(b) == str(a)


@pytest.mark.parametrize("dtype, tol", [("float16", 2e-3), ("bfloat16", 1.6e-2)])
def test_16_bit_float_gradients_match_tf(dtype, tol):
    def prog(m):
        dt = getattr(m, dtype)
        rng = np.random.default_rng(0)
        w = m.Variable(m.cast(rng.standard_normal((4, 3)).astype("float32"), dt))
        b = m.Variable(m.zeros([3], dt))
        x = m.cast(m.constant(rng.standard_normal((5, 4)).astype("float32")), dt)
        with m.GradientTape() as tape:
            h = m.matmul(x, w) + b
            y = m.nn.relu(h) * m.sigmoid(h) + m.tanh(h) * 0.5 - m.exp(h * 0.1) + m.nn.relu6(h * 4.0)
            z = m.concat([y[:, :2], m.gather(y, [0, 2], axis=1)], axis=1)
            loss = m.cast(m.reduce_mean(z * z), m.float32) + m.reduce_sum(m.cast(w, m.float32)) * 0.01
        return [loss, *tape.gradient(loss, [w, b])]

    a, b = _run(prog)
    for u, v in zip(a, b):
        assert u.dtype.name == v.dtype.name
        uf, vf = (np.asarray(t.numpy(), np.float32) for t in (u, v))
        np.testing.assert_allclose(vf, uf, rtol=tol, atol=tol * np.abs(uf).max())
