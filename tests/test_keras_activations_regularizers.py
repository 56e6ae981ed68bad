"""tg.keras.activations, initializers, regularizers, constraints: values against numpy closed forms,
gradients against finite differences (float64), Keras's string/config rules and errors; the same
values through real Keras 3 when it is installed."""

import math

import numpy as np
import pytest

import tapegrad as tg

A = tg.keras.activations
I = tg.keras.initializers  # noqa: E741
R = tg.keras.regularizers
C = tg.keras.constraints

# points away from every kink (0, ±0.5, ±1, ±3, 6)
X = np.array([[-4.2, -2.7, -1.3, -0.8, -0.3, -0.1], [0.2, 0.4, 0.7, 1.6, 2.4, 6.6]])


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_ERF = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805

CLOSED_FORMS = {
    "relu": lambda x: np.maximum(x, 0),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "softmax": _softmax,
    "log_softmax": lambda x: np.log(_softmax(x)),
    "celu": lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
    "silu": lambda x: x * _sig(x),
    "swish": lambda x: x * _sig(x),
    "gelu": lambda x: 0.5 * x * (1 + _ERF(x / np.sqrt(2))),
    "tanh": np.tanh,
    "tanh_shrink": lambda x: x - np.tanh(x),
    "sigmoid": _sig,
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "exponential": np.exp,
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "linear": lambda x: x,
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
}


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_activation_values_and_gradients(name):
    fn = A.get(name)
    got = fn(tg.constant(X, dtype="float64")).numpy()
    # TF rounds gelu's constants and leaky_relu's alpha to float32 also for float64 inputs
    rtol = 1e-6 if name in ("gelu", "leaky_relu") else 1e-10
    np.testing.assert_allclose(got, CLOSED_FORMS[name](X), rtol=rtol, atol=1e-12)
    got32 = fn(tg.constant(X, dtype="float32")).numpy()
    assert got32.dtype == np.float32
    np.testing.assert_allclose(got32, CLOSED_FORMS[name](X), rtol=2e-6, atol=1e-6)
    if name != "linear":
        tg.testing.check_gradients(fn, [X], order=2)


def test_activation_options():
    x = tg.constant(X, dtype="float64")
    relu = A.relu
    np.testing.assert_allclose(relu(x, max_value=2.0).numpy(), np.clip(X, 0, 2))
    np.testing.assert_allclose(relu(x, threshold=0.5).numpy(), np.where(X > 0.5, X, 0))
    np.testing.assert_allclose(relu(x, negative_slope=0.1).numpy(), np.where(X > 0, X, 0.1 * X))
    np.testing.assert_allclose(
        relu(x, negative_slope=0.1, max_value=3.0, threshold=0.5).numpy(),
        np.where(X > 0.5, np.minimum(X, 3.0), 0) - 0.1 * np.maximum(0.5 - X, 0),
    )
    np.testing.assert_allclose(relu(x, max_value=6).numpy(), np.clip(X, 0, 6))
    for kw in ({"max_value": 2.0}, {"threshold": 0.5}, {"negative_slope": 0.1, "max_value": 3.0, "threshold": 0.5}):
        tg.testing.check_gradients(lambda t, kw=kw: relu(t, **kw), [X])
    np.testing.assert_allclose(A.leaky_relu(x, negative_slope=0.3).numpy(), np.where(X > 0, X, 0.3 * X))
    np.testing.assert_allclose(A.elu(x, alpha=0.5).numpy(), np.where(X > 0, X, 0.5 * np.expm1(X)))
    np.testing.assert_allclose(A.celu(x, alpha=2.0).numpy(), np.maximum(X, 0) + 2 * np.expm1(np.minimum(X, 0) / 2))
    np.testing.assert_allclose(A.softmax(x, axis=0).numpy(), _softmax(X, axis=0))
    np.testing.assert_allclose(A.softmax(x, axis=None).numpy(), _softmax(X.reshape(-1)).reshape(X.shape))
    np.testing.assert_allclose(A.log_softmax(x, axis=None).numpy(), np.log(_softmax(X.reshape(-1))).reshape(X.shape))
    t = np.tanh(np.sqrt(2 / np.pi) * (X + 0.044715 * X**3))
    np.testing.assert_allclose(A.gelu(x, approximate=True).numpy(), 0.5 * X * (1 + t), rtol=1e-6)
    np.testing.assert_allclose(A.glu(x).numpy(), X[:, :3] * _sig(X[:, 3:]))
    np.testing.assert_allclose(A.glu(x, axis=0).numpy(), X[:1] * _sig(X[1:]))
    tg.testing.check_gradients(A.glu, [X])
    np.testing.assert_allclose(A.threshold(x, 0.3, -2.0).numpy(), np.where(X > 0.3, X, -2.0))
    np.testing.assert_allclose(
        A.soft_shrink(x, threshold=1.0).numpy(), np.where(X > 1, X - 1, np.where(X < -1, X + 1, 0))
    )
    np.testing.assert_allclose(A.squareplus(x, b=1).numpy(), (X + np.sqrt(X * X + 1)) / 2)
    with pytest.raises(ValueError, match="axis size must be divisible by 2"):
        A.glu(tg.ones([2, 3]))
    assert A.linear(x) is x
    assert A.get(None) is A.linear


def _numpy_sparsemax(z):
    """Keras 3.15.1's formula (all backends): tau = (sum of the cumulative sums over the support
    - 1) / k. The textbook threshold uses only the last cumulative sum; the two agree when the
    support has one element."""
    zs = -np.sort(-z, axis=-1)
    k = np.arange(1, z.shape[-1] + 1)
    cs = np.cumsum(zs, axis=-1)
    support = zs - (cs - 1) / k > 0
    kz = support.sum(-1, keepdims=True)
    tau = (np.where(support, cs, 0).sum(-1, keepdims=True) - 1) / kz
    return np.maximum(z - tau, 0)


def test_sparsemax():
    z = np.array([[0.13, 0.52, 0.21, 0.94], [2.0, -1.0, 1.8, 0.3], [0.3, 0.31, 0.29, 0.1]])
    out = A.sparsemax(tg.constant(z, dtype="float64")).numpy()
    np.testing.assert_allclose(out, _numpy_sparsemax(z))
    np.testing.assert_allclose(
        A.sparsemax(tg.constant([[1.0, 2.0, 5.0], [0.0, 3.0, 0.5]])).numpy(), [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    )
    np.testing.assert_allclose(A.sparsemax(tg.constant(z.T, dtype="float64"), axis=0).numpy(), _numpy_sparsemax(z).T)
    tg.testing.check_gradients(A.sparsemax, [z], order=1)


def test_activation_get_serialize_errors():
    assert A.get("swish") is A.silu and A.get("hard_swish") is A.hard_silu
    assert A.get(A.tanh) is A.tanh

    def custom(x):
        return x

    assert A.get(custom) is custom
    for bad in ("nope", 3):
        with pytest.raises(ValueError, match=f"Could not interpret activation function identifier: {bad}"):
            A.get(bad)
    assert A.serialize(A.relu) == "relu" and A.serialize(A.swish) == "silu"
    assert A.deserialize("relu") is A.relu
    with pytest.raises(ValueError, match="Unknown activation function"):
        A.serialize(custom)


# ---- initializers -----------------------------------------------------------------------------


def test_constant_initializers():
    np.testing.assert_array_equal(I.Zeros()((2, 3)).numpy(), np.zeros((2, 3), "float32"))
    np.testing.assert_array_equal(I.get("ones")((2,), dtype="float64").numpy(), np.ones(2))
    assert I.get("one")((1,)).dtype == tg.float32
    np.testing.assert_array_equal(I.Constant(2.5)((2, 2)).numpy(), np.full((2, 2), 2.5, "float32"))
    np.testing.assert_array_equal(I.Constant([1.0, 2.0])((3, 2)).numpy(), np.tile([1.0, 2.0], (3, 1)))
    np.testing.assert_array_equal(I.Identity(gain=3.0)((2, 4)).numpy(), 3 * np.eye(2, 4))
    assert I.get("zeros")((2,), dtype="int32").dtype == tg.int32
    with pytest.raises(ValueError, match="Identity matrix initializer can only be used for 2D matrices"):
        I.Identity()((2, 2, 2))
    value = np.arange(6.0).reshape(2, 3)
    fn = I.get(value)
    np.testing.assert_array_equal(fn((2, 3)).numpy(), value.astype("float32"))
    with pytest.raises(ValueError, match="Expected `shape` to be"):
        fn((3, 2))


def test_compute_fans():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((5,)) == (5, 5)
    assert I.compute_fans((3, 7)) == (3, 7)
    assert I.compute_fans((3, 3, 4, 8)) == (36, 72)
    assert I.compute_fans((2, 3, 4), input_axes=(0, 1), output_axes=(2,)) == (6, 4)


@pytest.mark.parametrize(
    "name,kind,scale,mode",
    [
        ("glorot_uniform", "uniform", 1.0, "fan_avg"),
        ("glorot_normal", "truncated", 1.0, "fan_avg"),
        ("he_uniform", "uniform", 2.0, "fan_in"),
        ("he_normal", "truncated", 2.0, "fan_in"),
        ("lecun_uniform", "uniform", 1.0, "fan_in"),
        ("lecun_normal", "truncated", 1.0, "fan_in"),
    ],
)
def test_variance_scaling_family_statistics(name, kind, scale, mode):
    shape = (200, 300)
    w = I.get(name)(shape).numpy()
    assert w.shape == shape and w.dtype == np.float32
    n = {"fan_in": 200, "fan_avg": 250}[mode]
    var = scale / n
    if kind == "uniform":
        limit = math.sqrt(3 * var)
        assert np.abs(w).max() <= limit and np.abs(w).max() > 0.99 * limit
    else:
        stddev = math.sqrt(var) / 0.87962566103423978
        assert np.abs(w).max() <= 2 * stddev * (1 + 1e-6)
    # both are built to have variance scale / n
    assert abs(w.var() / var - 1) < 0.02
    assert abs(w.mean()) < 0.02 * math.sqrt(var)


def test_random_initializers_statistics_and_seeds():
    w = I.RandomNormal(mean=1.0, stddev=2.0, seed=5)((400, 250)).numpy()
    assert abs(w.mean() - 1.0) < 0.02 and abs(w.std() - 2.0) < 0.02
    w = I.TruncatedNormal(mean=0.5, stddev=0.1, seed=5)((400, 250)).numpy()
    assert np.abs(w - 0.5).max() <= 0.2 + 1e-6 and abs(w.std() - 0.1 * 0.87962566) < 0.002
    w = I.RandomUniform(-1.0, 3.0, seed=5)((400, 250)).numpy()
    assert w.min() >= -1.0 and w.max() < 3.0 and abs(w.mean() - 1.0) < 0.02
    w = I.VarianceScaling(scale=2.0, mode="fan_out", distribution="untruncated_normal", seed=1)((100, 400)).numpy()
    assert abs(w.std() - math.sqrt(2.0 / 400)) < 0.002 and np.abs(w).max() > 2 * math.sqrt(2.0 / 400)
    # seeds: same object -> same values, every call (Keras 3); other seed -> other values
    for cls in (I.RandomNormal, I.RandomUniform, I.TruncatedNormal, I.GlorotUniform, I.HeNormal, I.Orthogonal):
        a = cls(seed=7)
        np.testing.assert_array_equal(a((4, 5)).numpy(), a((4, 5)).numpy())
        np.testing.assert_array_equal(a((4, 5)).numpy(), cls(seed=7)((4, 5)).numpy())
        assert not np.array_equal(a((4, 5)).numpy(), cls(seed=8)((4, 5)).numpy())
        u = cls()  # seed drawn once, at construction
        np.testing.assert_array_equal(u((4, 5)).numpy(), u((4, 5)).numpy())
        assert not np.array_equal(u((4, 5)).numpy(), cls()((4, 5)).numpy())
    assert I.RandomNormal(seed=3)((2,), dtype="float64").dtype == tg.float64


def test_orthogonal_structure():
    for shape in [(5, 5), (6, 3), (3, 6), (2, 3, 4)]:
        q = I.Orthogonal(gain=2.0, seed=2)(shape).numpy().astype(np.float64)
        assert q.shape == shape
        m = q.reshape(-1, shape[-1])
        if m.shape[0] >= m.shape[1]:
            np.testing.assert_allclose(m.T @ m, 4 * np.eye(m.shape[1]), atol=1e-5)
        else:
            np.testing.assert_allclose(m @ m.T, 4 * np.eye(m.shape[0]), atol=1e-5)
    with pytest.raises(ValueError, match="must be at least two-dimensional"):
        I.Orthogonal()((4,))


def test_initializer_errors_get_and_configs():
    with pytest.raises(ValueError, match="Argument `scale` must be positive float. Received: scale=0"):
        I.VarianceScaling(scale=0)
    with pytest.raises(ValueError, match="Invalid `mode` argument: fan_x"):
        I.VarianceScaling(mode="fan_x")
    with pytest.raises(ValueError, match="Invalid `distribution` argument: poisson"):
        I.VarianceScaling(distribution="poisson")
    assert I.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    with pytest.raises(ValueError, match="`seed` argument should be an instance of"):
        I.RandomNormal(seed="x")
    for bad in ("nope", 3):
        with pytest.raises(ValueError, match=f"Could not interpret initializer identifier: {bad}"):
            I.get(bad)
    assert I.get(None) is None
    for ident, cls in [
        ("GlorotUniform", I.GlorotUniform),
        ("glorot_uniform", I.GlorotUniform),
        ("normal", I.RandomNormal),
        ("uniform", I.RandomUniform),
        ("zero", I.Zeros),
        ("IdentityInitializer", I.Identity),
        ("orthogonal", I.Orthogonal),
        (I.HeNormal, I.HeNormal),
    ]:
        assert type(I.get(ident)) is cls
    init = I.HeUniform(seed=3)
    assert I.get(init) is init
    assert init.get_config() == {"seed": 3, "input_axes": None, "output_axes": None}
    assert I.RandomNormal(seed=1).get_config() == {"seed": 1, "mean": 0.0, "stddev": 0.05}
    cfg = I.serialize(I.VarianceScaling(scale=2.0, mode="fan_out", seed=4))
    assert cfg["class_name"] == "VarianceScaling" and cfg["module"] == "keras.initializers"
    back = I.deserialize(cfg)
    np.testing.assert_array_equal(
        back((3, 4)).numpy(), I.VarianceScaling(scale=2.0, mode="fan_out", seed=4)((3, 4)).numpy()
    )
    c = I.Constant(np.array([1.0, 2.0]))
    assert c.get_config() == {"value": {"class_name": "__numpy__", "config": {"value": [1.0, 2.0], "dtype": "float64"}}}
    np.testing.assert_array_equal(I.Constant.from_config(c.get_config())((2,)).numpy(), [1.0, 2.0])
    assert I.GlorotNormal(seed=2).clone()((2, 2)).numpy().tolist() == I.GlorotNormal(seed=2)((2, 2)).numpy().tolist()


# ---- regularizers and constraints -------------------------------------------------------------

W = np.array([[0.5, -1.5, 2.0], [-0.25, 1.0, 2.5]])  # no zero column products (abs kinks)


def test_regularizer_values_and_gradients():
    w = tg.constant(W, dtype="float64")
    assert float(R.L1()(w)) == pytest.approx(0.01 * np.abs(W).sum())
    assert float(R.L2()(w)) == pytest.approx(0.01 * (W**2).sum())
    assert float(R.L1L2(l1=0.1, l2=0.2)(w)) == pytest.approx(0.1 * np.abs(W).sum() + 0.2 * (W**2).sum())
    assert float(R.L1L2()(w)) == 0.0
    assert R.L2(0.1)(tg.constant(W, dtype="float32")).dtype == tg.float32
    for reg in (R.L2(0.3), R.L1L2(0.1, 0.2), R.OrthogonalRegularizer(0.5), R.OrthogonalRegularizer(0.5, "columns")):
        tg.testing.check_gradients(reg, [W])
    for mode in ("rows", "columns"):
        m = W if mode == "rows" else W.T
        n = m / np.linalg.norm(m, axis=1, keepdims=True)
        prod = n @ n.T
        size = m.shape[0]
        want = 0.5 * 0.5 * np.abs(prod * (1 - np.eye(size))).sum() / (size * (size - 1) / 2)
        assert float(R.OrthogonalRegularizer(0.5, mode)(w)) == pytest.approx(want)
    with pytest.raises(ValueError, match="Inputs to OrthogonalRegularizer must have rank 2"):
        R.OrthogonalRegularizer()(tg.ones([3]))


def test_regularizer_rules():
    assert R.L2().get_config() == {"l2": 0.01} and R.L1().get_config() == {"l1": float(np.float32(0.01))}
    assert R.L1L2(l1=None, l2=0.5).get_config() == {"l1": 0.0, "l2": 0.5}
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert type(R.get("l2")) is R.L2 and type(R.get("L1L2")) is R.L1L2 and type(R.get("l1l2")) is R.L1L2
    assert type(R.get("orthogonal_regularizer")) is R.OrthogonalRegularizer
    assert R.get(None) is None
    for bad in ("l1_l2", "nope", 3):  # Keras's snake_case of L1L2 is "l1l2"
        with pytest.raises(ValueError, match=f"Could not interpret regularizer identifier: {bad}"):
            R.get(bad)
    with pytest.raises(ValueError, match="Invalid value for argument l2: expected a non-negative float"):
        R.L2(-1.0)
    with pytest.raises(ValueError, match="Invalid value for argument `mode`"):
        R.OrthogonalRegularizer(mode="diag")
    cfg = R.serialize(R.L1L2(0.1, 0.2))
    assert cfg == {
        "module": "keras.regularizers",
        "class_name": "L1L2",
        "config": {"l1": 0.1, "l2": 0.2},
        "registered_name": None,
    }
    assert R.deserialize(cfg).get_config() == {"l1": 0.1, "l2": 0.2}
    with pytest.raises(NotImplementedError, match="does not implement get_config"):
        R.Regularizer().get_config()
    assert R.Regularizer()(tg.ones([2])) == 0.0


def test_constraints():
    w = tg.constant(W, dtype="float64")
    norms0 = np.linalg.norm(W, axis=0, keepdims=True)
    np.testing.assert_allclose(C.MaxNorm(2.0)(w).numpy(), W * np.clip(norms0, 0, 2) / (1e-7 + norms0))
    norms1 = np.linalg.norm(W, axis=1, keepdims=True)
    np.testing.assert_allclose(C.UnitNorm(axis=1)(w).numpy(), W / (1e-7 + norms1))
    np.testing.assert_allclose(C.NonNeg()(w).numpy(), np.maximum(W, 0))
    desired = 0.7 * np.clip(norms0, 1.0, 2.0) + 0.3 * norms0
    np.testing.assert_allclose(C.MinMaxNorm(1.0, 2.0, rate=0.7)(w).numpy(), W * desired / (1e-7 + norms0))
    assert C.Constraint()(w) is w
    assert C.MaxNorm().get_config() == {"max_value": 2, "axis": 0}
    assert C.MinMaxNorm().get_config() == {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0}
    assert type(C.get("max_norm")) is C.MaxNorm and type(C.get("NonNeg")) is C.NonNeg
    assert type(C.get("unit_norm")) is C.UnitNorm and C.non_neg is C.NonNeg
    assert C.get(None) is None
    with pytest.raises(ValueError, match="Could not interpret constraint identifier: nope"):
        C.get("nope")
    cfg = C.serialize(C.UnitNorm(axis=1))
    assert cfg["class_name"] == "UnitNorm" and C.deserialize(cfg).axis == 1


# ---- against real Keras 3 ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def test_activations_against_keras(keras):
    xs = np.concatenate([X.reshape(-1), np.linspace(-5, 5, 40)]).reshape(-1, 4).astype("float32")
    names = sorted(
        n
        for n in dir(keras.activations)
        if not n.startswith("_") and n not in ("get", "serialize", "deserialize", "threshold")
    )
    assert names == sorted(n for n in A.__all__ if n not in ("get", "serialize", "deserialize", "threshold"))
    for name in names:
        np.testing.assert_allclose(
            A.get(name)(tg.constant(xs)).numpy(),
            np.asarray(keras.activations.get(name)(xs)),
            rtol=2e-6,
            atol=2e-6,
            err_msg=name,
        )
    for kw in (
        {"negative_slope": 0.1},
        {"max_value": 2.5},
        {"threshold": 0.5},
        {"max_value": 6.0},
        {"negative_slope": 0.2, "max_value": 3.0, "threshold": 0.7},
    ):
        np.testing.assert_allclose(
            A.relu(tg.constant(xs), **kw).numpy(),
            np.asarray(keras.activations.relu(xs, **kw)),
            rtol=1e-6,
            err_msg=str(kw),
        )
    np.testing.assert_allclose(
        A.gelu(tg.constant(xs), approximate=True).numpy(),
        np.asarray(keras.activations.gelu(xs, approximate=True)),
        rtol=2e-6,
        atol=2e-6,
    )
    np.testing.assert_allclose(
        A.threshold(tg.constant(xs), 0.2, -1.0).numpy(), np.asarray(keras.activations.threshold(xs, 0.2, -1.0))
    )


def test_initializer_shapes_configs_against_keras(keras):
    for shape in [(3, 4), (2, 3, 5)]:
        for name in ("zeros", "ones"):
            np.testing.assert_array_equal(I.get(name)(shape).numpy(), np.asarray(keras.initializers.get(name)(shape)))
        np.testing.assert_array_equal(
            I.Constant(1.5)(shape).numpy(), np.asarray(keras.initializers.Constant(1.5)(shape))
        )
    np.testing.assert_array_equal(I.Identity(2.0)((3, 5)).numpy(), np.asarray(keras.initializers.Identity(2.0)((3, 5))))
    names = sorted(n for n in dir(keras.initializers) if not n.startswith("_"))
    assert [n for n in names if not hasattr(I, n)] == []
    for kw in (
        {},
        {"side": "imag"},
        {"window": "hamming", "scaling": "spectrum", "periodic": True},
        {"window": None, "scaling": None},
        {"window": np.linspace(0.1, 1.0, 16)},
    ):
        np.testing.assert_allclose(
            I.STFT(**kw)((16, 1, 9)).numpy(),
            np.asarray(keras.initializers.STFT(**kw)((16, 1, 9))),
            rtol=1e-5,
            atol=1e-6,
            err_msg=str(kw),
        )
        if not isinstance(kw.get("window"), np.ndarray):
            assert I.STFT(**kw).get_config() == keras.initializers.STFT(**kw).get_config()
    for cls in (
        "RandomNormal",
        "RandomUniform",
        "TruncatedNormal",
        "VarianceScaling",
        "GlorotUniform",
        "GlorotNormal",
        "HeUniform",
        "HeNormal",
        "LecunUniform",
        "LecunNormal",
        "Orthogonal",
        "Constant",
        "Identity",
        "Zeros",
    ):
        kw = {"seed": 3} if cls not in ("Constant", "Identity", "Zeros") else {}
        ours, theirs = getattr(I, cls)(**kw), getattr(keras.initializers, cls)(**kw)
        assert ours.get_config() == theirs.get_config(), cls
        assert I.serialize(ours) == keras.initializers.serialize(theirs), cls
    # same statistics for the fixed variance-scaling variants (values differ: other random streams)
    for name in ("glorot_uniform", "he_normal", "lecun_uniform"):
        ours = I.get(name)((300, 200)).numpy()
        theirs = np.asarray(keras.initializers.get(name)((300, 200)))
        assert abs(ours.std() / theirs.std() - 1) < 0.03


def test_regularizers_constraints_against_keras(keras):
    w = W.astype("float32")
    for ours, theirs in [
        (R.L1(0.3), keras.regularizers.L1(0.3)),
        (R.L2(), keras.regularizers.L2()),
        (R.L1L2(0.1, 0.2), keras.regularizers.L1L2(0.1, 0.2)),
        (R.OrthogonalRegularizer(0.2), keras.regularizers.OrthogonalRegularizer(0.2)),
        (R.OrthogonalRegularizer(0.2, "columns"), keras.regularizers.OrthogonalRegularizer(0.2, "columns")),
    ]:
        assert float(ours(tg.constant(w))) == pytest.approx(float(theirs(keras.ops.convert_to_tensor(w))), rel=1e-6)
        assert R.serialize(ours) == keras.regularizers.serialize(theirs)
    for ours, theirs in [
        (C.MaxNorm(1.5, axis=1), keras.constraints.MaxNorm(1.5, axis=1)),
        (C.UnitNorm(), keras.constraints.UnitNorm()),
        (C.NonNeg(), keras.constraints.NonNeg()),
        (C.MinMaxNorm(1.0, 2.0, 0.5), keras.constraints.MinMaxNorm(1.0, 2.0, 0.5)),
    ]:
        np.testing.assert_allclose(ours(tg.constant(w)).numpy(), np.asarray(theirs(w)), rtol=1e-6)
        assert C.serialize(ours) == keras.constraints.serialize(theirs)
    for mod, ours in (("regularizers", R), ("constraints", C)):
        names = sorted(n for n in dir(getattr(keras, mod)) if not n.startswith("_"))
        assert [n for n in names if not hasattr(ours, n)] == []


def test_stft_cosine_windows_need_no_scipy(monkeypatch):
    # regression: CI's venv has no scipy; the common windows are computed here (scipy's definitions)
    import sys

    from tapegrad.keras.initializers import _get_window

    want = {
        ("hann", 5, True): [0.0, 0.3454915, 0.9045085, 0.9045085, 0.3454915],
        ("hann", 4, False): [0.0, 0.75, 0.75, 0.0],
        ("hamming", 3, False): [0.08, 1.0, 0.08],
    }
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.signal", None)
    for (name, n, periodic), values in want.items():
        np.testing.assert_allclose(_get_window(name, n, periodic), values, rtol=1e-6, atol=1e-7)
