"""Math ops: forward values against numpy (and math.erf), gradients against finite differences (order 2,
float64), TF's conventions at kinks, and error paths."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tg
from tapegrad.testing import check_gradients

FEW = settings(max_examples=6, deadline=None)
SOME = settings(max_examples=12, deadline=None)

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def arrays(lo, hi, shape=shapes, dtype=np.float64):
    return hnp.arrays(
        dtype, shape, elements=st.floats(lo, hi, allow_nan=False, width=64 if dtype == np.float64 else 32)
    )


def grad(f, *xs):
    xs = [tg.constant(np.asarray(x, np.float64)) for x in xs]
    with tg.GradientTape() as t:
        for x in xs:
            t.watch(x)
        y = f(*xs)
    g = t.gradient(y, xs)
    return [None if v is None else v.numpy() for v in g]


class sp:  # the few special functions the references need, in float64 without scipy
    erf = staticmethod(np.vectorize(math.erf, otypes=[np.float64]))
    erfc = staticmethod(np.vectorize(math.erfc, otypes=[np.float64]))

    @staticmethod
    def expit(x):
        x = np.asarray(x, np.float64)
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))

    @staticmethod
    def xlogy(x, y):
        return np.where(x == 0, 0.0, x * np.log(np.where(x == 0, 1.0, y)))

    @staticmethod
    def xlog1py(x, y):
        return np.where(x == 0, 0.0, x * np.log1p(np.where(x == 0, 0.0, y)))


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

# name -> (tg function, numpy reference, value domain (lo, hi), differentiable)
UNARY = {
    "reciprocal": (tg.math.reciprocal, lambda x: 1 / x, (0.3, 3), True),
    "rsqrt": (tg.math.rsqrt, lambda x: 1 / np.sqrt(x), (0.3, 3), True),
    "log1p": (tg.math.log1p, np.log1p, (-0.7, 3), True),
    "expm1": (tg.math.expm1, np.expm1, (-3, 3), True),
    "sinh": (tg.math.sinh, np.sinh, (-3, 3), True),
    "cosh": (tg.math.cosh, np.cosh, (-3, 3), True),
    "tan": (tg.math.tan, np.tan, (-1.2, 1.2), True),
    "asin": (tg.math.asin, np.arcsin, (-0.9, 0.9), True),
    "acos": (tg.math.acos, np.arccos, (-0.9, 0.9), True),
    "atan": (tg.math.atan, np.arctan, (-4, 4), True),
    "erf": (tg.math.erf, sp.erf, (-3, 3), True),
    "asinh": (tg.math.asinh, np.arcsinh, (-4, 4), True),
    "acosh": (tg.math.acosh, np.arccosh, (1.2, 4), True),
    "atanh": (tg.math.atanh, np.arctanh, (-0.9, 0.9), True),
    "erfc": (tg.math.erfc, sp.erfc, (-3, 3), True),
    "softplus": (tg.math.softplus, lambda x: np.logaddexp(0, x), (-30, 30), True),
    "log_sigmoid": (tg.math.log_sigmoid, lambda x: -np.logaddexp(0, -x), (-30, 30), True),
    "sign": (tg.math.sign, np.sign, (-3, 3), False),
    "floor": (tg.math.floor, np.floor, (-5, 5), False),
    "ceil": (tg.math.ceil, np.ceil, (-5, 5), False),
    "round": (tg.math.round, np.round, (-5, 5), False),
    "relu6": (tg.nn.relu6, lambda x: np.clip(x, 0, 6), (-3, 9), True),
    "leaky_relu": (tg.nn.leaky_relu, lambda x: np.where(x > 0, x, float(np.float32(0.2)) * x), (-3, 3), True),
    "elu": (tg.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), (-4, 4), True),
    "selu": (tg.nn.selu, lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))), (-4, 4), True),
    # TF's constants are rounded to float32 (cast(python_float, dtype)), also for float64 inputs
    "gelu": (tg.nn.gelu, lambda x: x * 0.5 * sp.erfc(-x * float(np.float32(np.sqrt(0.5)))), (-6, 6), True),
    "gelu_tanh": (
        lambda x: tg.nn.gelu(x, approximate=True),
        lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + float(np.float32(0.044715)) * x**3))),
        (-6, 6),
        True,
    ),
    "silu": (tg.nn.silu, lambda x: x * sp.expit(x), (-8, 8), True),
    "swish": (tg.nn.swish, lambda x: x * sp.expit(x), (-8, 8), True),
    "softsign": (tg.nn.softsign, lambda x: x / (1 + np.abs(x)), (-5, 5), True),
}
DIFF = [k for k, v in UNARY.items() if v[3]]


@pytest.mark.parametrize("name", list(UNARY))
@FEW
@given(data=st.data())
def test_unary_forward(name, data):
    f, ref, (lo, hi), _ = UNARY[name]
    x = data.draw(arrays(lo, hi))
    np.testing.assert_allclose(f(tg.constant(x)).numpy(), ref(x), rtol=1e-12, atol=1e-14)
    x32 = x.astype(np.float32)
    y32 = f(tg.constant(x32))
    assert y32.dtype == tg.float32
    np.testing.assert_allclose(y32.numpy(), ref(x32.astype(np.float64)), rtol=2e-6, atol=1e-6)


def _away_from_kinks(name, x):
    # finite differences straddling a kink are meaningless: keep inputs 1e-3 away from them
    kinks = {"relu6": (0.0, 6.0), "leaky_relu": (0.0,), "elu": (0.0,), "selu": (0.0,), "softsign": (0.0,)}
    for k in kinks.get(name, ()):
        x = np.where(np.abs(x - k) < 1e-3, k + 0.5, x)
    return x


@pytest.mark.parametrize("name", DIFF)
@FEW
@given(data=st.data())
def test_unary_gradients(name, data):
    f, _, (lo, hi), _ = UNARY[name]
    x = _away_from_kinks(name, data.draw(arrays(lo, hi)))
    check_gradients(f, [x], order=2)


def test_piecewise_constant_ops_have_tf_gradients():
    x = np.array([-1.5, 0.0, 2.5])
    # floor, ceil, round, floordiv: TF's gradient is None; sign: zeros
    for f in (tg.floor, tg.math.ceil, tg.round):
        assert grad(f, x) == [None]
    assert grad(lambda a: tg.math.floordiv(a, tg.constant(2.0, tg.float64)), x) == [None]
    np.testing.assert_array_equal(grad(tg.sign, x)[0], np.zeros(3))


def test_gradients_at_kinks_follow_tf():
    x = np.array([-1.0, 0.0, 3.0, 6.0, 7.0])
    np.testing.assert_array_equal(grad(tg.nn.relu6, x)[0], [0, 0, 1, 0, 0])
    np.testing.assert_allclose(grad(tg.nn.leaky_relu, x)[0], [0.2, 0.2, 1, 1, 1], rtol=1e-7)
    np.testing.assert_allclose(grad(tg.nn.elu, x)[0][1:], [1, 1, 1, 1])
    np.testing.assert_allclose(grad(tg.nn.selu, x)[0][1:], [SELU_S] * 4)
    np.testing.assert_array_equal(grad(tg.abs, x)[0], [-1, 0, 1, 1, 1])
    # clip_by_value passes the gradient at the bounds (TF: minimum/maximum send ties to x)
    np.testing.assert_array_equal(grad(lambda a: tg.clip_by_value(a, 0.0, 6.0), x)[0], [0, 1, 1, 1, 0])
    gx, gy = grad(tg.maximum, [1.0, 2.0], [1.0, 1.0])
    np.testing.assert_array_equal(gx, [1, 1])
    np.testing.assert_array_equal(gy, [0, 0])


def test_activations_are_stable_at_large_inputs():
    x = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], np.float32)
    for f in (tg.nn.elu, tg.nn.selu, tg.nn.gelu, tg.nn.silu, tg.math.log_sigmoid, tg.nn.softplus):
        xt = tg.constant(x)
        with tg.GradientTape() as t:
            t.watch(xt)
            y = f(xt)
        g = t.gradient(y, xt)
        assert not np.isnan(y.numpy()).any(), f
        assert np.isfinite(g.numpy()).all(), f
    np.testing.assert_allclose(tg.math.log_sigmoid(x).numpy(), [-1000, -100, -np.log(2), 0, 0], atol=1e-6)


# ---- binary --------------------------------------------------------------------------------------

pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)

BINARY = {
    "atan2": (tg.math.atan2, np.arctan2, (-3, 3), (-3, 3)),
    "squared_difference": (tg.math.squared_difference, lambda a, b: (a - b) ** 2, (-3, 3), (-3, 3)),
    "floormod": (tg.math.floormod, np.mod, (-5, 5), (0.5, 3)),
    "xlogy": (tg.math.xlogy, sp.xlogy, (-3, 3), (0.2, 3)),
    "xlog1py": (tg.math.xlog1py, sp.xlog1py, (-3, 3), (-0.5, 3)),
    "xdivy": (tg.math.xdivy, lambda a, b: a / b, (-3, 3), (0.5, 3)),
    "divide_no_nan": (tg.math.divide_no_nan, lambda a, b: a / b, (-3, 3), (0.5, 3)),
    "multiply_no_nan": (tg.math.multiply_no_nan, lambda a, b: a * b, (-3, 3), (-3, 3)),
}


@pytest.mark.parametrize("name", list(BINARY))
@SOME
@given(data=st.data(), shp=pairs)
def test_binary_forward_and_gradients(name, data, shp):
    f, ref, dx, dy = BINARY[name]
    (sa, sb), _ = shp
    a = data.draw(arrays(*dx, shape=st.just(sa)))
    b = data.draw(arrays(*dy, shape=st.just(sb)))
    if name == "atan2":  # away from the origin and the branch cut (y = 0, x < 0)
        a = np.where(np.abs(a) < 0.2, 0.5, a)
    np.testing.assert_allclose(f(tg.constant(a), tg.constant(b)).numpy(), ref(a, b), rtol=1e-12, atol=1e-14)
    if name == "floormod":  # keep a / b away from integers, where floormod jumps
        q = a / np.broadcast_to(b, np.broadcast_shapes(a.shape, b.shape))
        if np.any(np.abs(q - np.round(q)) < 1e-3):
            return
    if name in ("xlogy", "xlog1py", "xdivy"):  # at x == 0 TF's gradient is 0 by convention (tested below)
        a = np.where(np.abs(a) < 1e-3, 0.5, a)
    check_gradients(f, [a, b], order=2)


def test_floordiv_floormod_operators_match_python():
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([2, 2, -2, -2], np.int32)
    np.testing.assert_array_equal((tg.constant(a) // tg.constant(b)).numpy(), a // b)
    np.testing.assert_array_equal((tg.constant(a) % tg.constant(b)).numpy(), a % b)
    af, bf = a.astype(np.float64) + 0.5, b.astype(np.float64)
    np.testing.assert_array_equal((tg.constant(af) // bf).numpy(), af // bf)
    np.testing.assert_array_equal((tg.constant(af) % bf).numpy(), af % bf)
    np.testing.assert_array_equal(tg.math.floordiv(af, bf).numpy(), np.floor_divide(af, bf))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Integer division by zero"):
        tg.math.floordiv(tg.constant([1, 2]), tg.constant([1, 0]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Integer division by zero"):
        tg.constant([1, 2]) % 0


def test_add_n():
    rng = np.random.default_rng(3)
    xs = [rng.standard_normal((2, 3)) for _ in range(3)]
    np.testing.assert_allclose(tg.add_n(xs).numpy(), xs[0] + xs[1] + xs[2])
    np.testing.assert_allclose(tg.math.add_n(xs[:1]).numpy(), xs[0])
    check_gradients(lambda a, b, c: tg.add_n([a, b * b, c]), xs, order=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Shapes of all inputs must match"):
        tg.add_n([xs[0], xs[0][0]])
    with pytest.raises(ValueError, match="at least one"):
        tg.add_n([])


def test_zero_conventions_of_xlogy_and_divide_no_nan():
    x = np.array([0.0, 0.0, 2.0, 1.0])
    y = np.array([0.0, np.nan, 0.0, 3.0])
    np.testing.assert_array_equal(tg.math.xlogy(x, y).numpy()[:2], [0, 0])
    np.testing.assert_array_equal(tg.math.divide_no_nan(y, x).numpy()[:3], [0, 0, 0])
    gx, gy = grad(tg.math.xlogy, [0.0, 2.0], [0.0, 4.0])
    np.testing.assert_allclose(gx, [0, np.log(4)])
    np.testing.assert_allclose(gy, [0, 0.5])
    np.testing.assert_array_equal(tg.math.multiply_no_nan([np.inf, np.nan, 2.0], [0.0, 0.0, 3.0]).numpy(), [0, 0, 6])
    gx, gy = grad(tg.math.multiply_no_nan, [3.0, 2.0], [0.0, 4.0])
    np.testing.assert_allclose(gx, [0, 4])
    np.testing.assert_allclose(gy, [3, 2])
    gx, gy = grad(tg.math.divide_no_nan, [3.0, 2.0], [0.0, 4.0])
    np.testing.assert_allclose(gx, [0, 0.25])
    np.testing.assert_allclose(gy, [0, -2 / 16])


# ---- comparison and logic ------------------------------------------------------------------------

CMP = {
    "equal": np.equal,
    "not_equal": np.not_equal,
    "less": np.less,
    "less_equal": np.less_equal,
    "greater": np.greater,
    "greater_equal": np.greater_equal,
}


@pytest.mark.parametrize("name", list(CMP))
@FEW
@given(shp=pairs, data=st.data())
def test_comparisons(name, shp, data):
    (sa, sb), _ = shp
    ints = st.integers(-2, 2)
    a = data.draw(hnp.arrays(np.int32, sa, elements=ints))
    b = data.draw(hnp.arrays(np.int32, sb, elements=ints))
    for ta, tb in ((a, b), (a.astype(np.float32), b.astype(np.float32))):
        for f in (getattr(tg, name), getattr(tg.math, name)):
            r = f(tg.constant(ta), tg.constant(tb))
            assert r.dtype == tg.bool
            np.testing.assert_array_equal(r.numpy(), CMP[name](ta, tb))


def test_logic_and_predicates():
    a = np.array([True, True, False, False])
    b = np.array([True, False, True, False])
    np.testing.assert_array_equal(tg.logical_and(a, b).numpy(), a & b)
    np.testing.assert_array_equal(tg.math.logical_or(a, b).numpy(), a | b)
    np.testing.assert_array_equal(tg.logical_not(a).numpy(), ~a)
    np.testing.assert_array_equal(tg.math.logical_xor(a, b).numpy(), a ^ b)
    x = np.array([1.0, np.nan, np.inf, -np.inf], np.float32)
    np.testing.assert_array_equal(tg.math.is_nan(x).numpy(), np.isnan(x))
    np.testing.assert_array_equal(tg.math.is_finite(x).numpy(), np.isfinite(x))
    np.testing.assert_array_equal(tg.math.is_inf(x).numpy(), np.isinf(x))
    with pytest.raises(tg.errors.InvalidArgumentError, match="LogicalAnd"):
        tg.logical_and(tg.constant([1.0]), tg.constant([1.0]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="IsNan"):
        tg.math.is_nan(tg.constant([1]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Equal"):
        tg.equal(tg.constant([1.0]), tg.constant([1]))
    # comparisons never record and give no gradient
    xt = tg.constant([1.0, 2.0])
    with tg.GradientTape() as t:
        t.watch(xt)
        y = tg.cast(tg.greater(xt, 1.5), tg.float32)
    assert t.gradient(y, xt) is None


def test_non_float_inputs_raise_like_tf():
    i = tg.constant([1, 2])
    for f in (
        tg.nn.elu,
        tg.nn.selu,
        tg.nn.softsign,
        tg.nn.silu,
        tg.math.log_sigmoid,
        tg.nn.l2_loss,
        tg.math.erf,
        tg.math.erfc,
        tg.math.tan,
        tg.math.is_finite,
    ):
        with pytest.raises(tg.errors.InvalidArgumentError, match="int32"):
            f(i)
    with pytest.raises(ValueError, match="floating point"):
        tg.nn.gelu(i)
    with pytest.raises(tg.errors.InvalidArgumentError, match="bool"):
        tg.reduce_prod(tg.constant([True]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="dtype|expected"):
        tg.math.squared_difference(tg.constant([1.0]), tg.constant([1.0], tg.float64))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Incompatible shapes"):
        tg.math.atan2(tg.zeros([2]), tg.zeros([3]))
    # integers where TF allows them
    assert tg.math.divide_no_nan(i, tg.constant([2, 0])).numpy().tolist() == [0.5, 0.0]
    assert tg.nn.relu6(tg.constant([-1, 3, 9])).numpy().tolist() == [0, 3, 6]
    assert tg.nn.leaky_relu(i).dtype == tg.float32
    assert tg.sign(tg.constant([-3, 0, 4])).numpy().tolist() == [-1, 0, 1]


EMPTY_OK = [
    "reciprocal",
    "rsqrt",
    "log1p",
    "expm1",
    "sinh",
    "tan",
    "asinh",
    "erfc",
    "softplus",
    "log_sigmoid",
    "sign",
    "round",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "gelu_tanh",
    "silu",
    "softsign",
]


def test_empty_tensors_and_variables():
    e = tg.zeros([0, 3], tg.float64)
    for name in EMPTY_OK:
        f = UNARY[name][0]
        with tg.GradientTape() as t:
            t.watch(e)
            y = f(e)
        assert y.shape == (0, 3), name
        g = t.gradient(tg.reduce_sum(y), e)
        assert g is None or g.shape == (0, 3), name
    assert tg.cumsum(e, axis=1).shape == (0, 3)
    assert tg.argmax(e, axis=1).shape == (0,)
    assert tg.clip_by_norm(e, 1.0).shape == (0, 3)
    assert float(tg.norm(e)) == 0.0
    assert np.isnan(tg.math.reduce_std(e, axis=0).numpy()).all()  # mean of nothing: nan, as TF
    # ops read Variables and record the read
    v = tg.Variable([[-1.0, 2.0, 7.0]])
    with tg.GradientTape() as t:
        y = tg.reduce_sum(tg.nn.relu6(v) + tg.nn.gelu(v) + tg.clip_by_value(v, 0.0, 5.0))
    g = t.gradient(y, v)
    assert g.shape == (1, 3)


SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-30, -1e-30, 1e30, -1e30, 88.7, 89.0, -104.0, 710.0, -1.0, 1.0, 20.0]
REFS = {
    tg.exp: np.exp,
    tg.math.expm1: np.expm1,
    tg.math.log: np.log,
    tg.math.log1p: np.log1p,
    tg.sin: np.sin,
    tg.cos: np.cos,
    tg.math.tan: np.tan,
    tg.tanh: np.tanh,
    tg.math.sinh: np.sinh,
    tg.math.cosh: np.cosh,
    tg.math.asin: np.arcsin,
    tg.math.acos: np.arccos,
    tg.math.atan: np.arctan,
    tg.math.erf: sp.erf,
    tg.math.erfc: sp.erfc,
    tg.math.asinh: np.arcsinh,
    tg.math.acosh: np.arccosh,
    tg.math.atanh: np.arctanh,
    tg.sigmoid: sp.expit,
}


@pytest.mark.parametrize("dtype,rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
def test_vectorised_kernels_on_long_inputs_and_special_values(dtype, rtol):
    # long enough for the SIMD main loop and a scalar tail (See Note [Vector math])
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-5, 5, 1001), np.array(SPECIALS * 3)]).astype(dtype)
    with np.errstate(all="ignore"):
        for f, ref in REFS.items():
            want = ref(x.astype(np.float64)).astype(dtype)
            np.testing.assert_allclose(f(tg.constant(x)).numpy(), want, rtol=rtol, atol=0, err_msg=f.__name__)
        y = rng.uniform(-5, 5, x.size).astype(dtype)
        np.testing.assert_allclose(tg.math.atan2(x, y).numpy(), np.arctan2(x, y), rtol=rtol)
        want = np.power(np.abs(x).astype(np.float64), y).astype(dtype)
        np.testing.assert_allclose(tg.pow(np.abs(x), y).numpy(), want, rtol=rtol * 4)


def test_multiply_no_nan_gradient_passes_nan_and_inf_in_x_to_y_as_tf():
    # TF's MulNoNan gradient: dx = mul_no_nan(dy, y), dy = mul_no_nan(x, dy)
    x = tg.constant([np.nan, np.inf, 2.0, 5.0])
    y = tg.Variable([0.0, 0.0, 3.0, 0.0])
    xv = tg.Variable([1.0, 2.0, 3.0, 4.0])
    with tg.GradientTape(persistent=True) as tape:
        z = tg.math.multiply_no_nan(x, y)
        z2 = tg.math.multiply_no_nan(xv, y)
    np.testing.assert_array_equal(z.numpy(), [0.0, 0.0, 6.0, 0.0])
    np.testing.assert_array_equal(tape.gradient(z, y).numpy(), [np.nan, np.inf, 2.0, 5.0])
    np.testing.assert_array_equal(tape.gradient(z2, xv).numpy(), [0.0, 0.0, 3.0, 0.0])


def test_keras_optimizers_get_none_is_none():
    assert tg.keras.optimizers.get(None) is None
