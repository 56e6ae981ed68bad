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
    "scalar_i64": lambda m: m.constant(2 ** 40),
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
        return [m.Variable(1.0, name="w").name, m.Variable(1.0).name, m.Variable(1.0, name="a/b").name,
                str(m.int32), repr(m.int32), str(m.float64), f"{m.constant(3.14159):.4f}", f"{m.constant(7):03d}",
                f"{m.constant(2.5, m.float64):e}", m.constant(1.0).device, m.Variable(1.0).device]
    _same(*_run(prog))
    for spec in (".4f", "d"):
        _same(*_run(lambda m: f"{m.constant([1.5]):{spec}}"))
        _same(*_run(lambda m: f"{m.Variable(1.5):{spec}}"))


def test_devices_match_tf():
    def prog(m):
        out = [repr(m.config.list_physical_devices()), m.config.list_physical_devices("GPU"),
               repr(m.config.list_logical_devices("CPU")), m.config.list_physical_devices("cpu")]
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
        return [repr(spec), str(m.TensorSpec((None, 3), m.int32, name="x")), repr(spec.shape),
                spec.is_compatible_with(m.zeros([2, 3])), spec.is_compatible_with(m.zeros([2, 4])),
                spec.is_compatible_with(m.zeros([2, 3], m.int32)), spec.is_compatible_with(np.zeros((2, 3), "float32")),
                repr(m.TensorSpec(None)), repr(m.TensorSpec.from_tensor(m.zeros([2, 3]))), repr(m.TensorSpec([])),
                spec == m.TensorSpec([None, 3], m.float32), m.TensorSpec([2], name="a") == m.TensorSpec([2]),
                repr(m.TensorShape(None)), str(m.TensorShape([None])), m.TensorShape([None, 3]).num_elements(),
                repr(m.TensorShape([None, 3]).merge_with([2, None]))]
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
        out += [tape.gradient(x, x), tape.gradient(v, v), tape.gradient([x, y], x),
                tape.gradient(x, x, output_gradients=m.constant(3.0))]
        with m.GradientTape() as tape2:
            pass
        out.append(tape2.gradient(x, x))
        return out
    _same(*_run(prog))
