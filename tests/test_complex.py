"""complex64/complex128 (Note [Complex dtypes]): conversions, kernels against numpy, gradients
against TF's convention (checked by finite differences on real and imaginary parts, and against
TF itself when installed), the FFT family, and TF's errors for complex inputs to real-only ops."""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _fft

rng = np.random.default_rng(7)


def crand(*shape, dtype=np.complex128):
    return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)


# ---- conversions ------------------------------------------------------------------------------


def test_python_complex_is_complex128_and_numpy_keeps_its_dtype():
    assert tg.constant(1 + 2j).dtype == tg.complex128
    assert tg.constant([1 + 2j, 3j]).dtype == tg.complex128
    assert tg.constant(np.array([1j], np.complex64)).dtype == tg.complex64
    assert tg.constant(1.5, dtype=tg.complex64).numpy() == np.complex64(1.5)
    z = tg.constant(2 - 3j, dtype=tg.complex64)
    assert z.dtype == tg.complex64 and complex(z.numpy()) == 2 - 3j


def test_round_trip_and_dtype_objects():
    a = crand(3, 4, dtype=np.complex64)
    t = tg.constant(a)
    np.testing.assert_array_equal(t.numpy(), a)
    assert tg.complex64.is_complex and not tg.complex64.is_floating
    assert tg.complex128.real_dtype == tg.float64 and tg.float32.real_dtype == tg.float32
    assert tg.as_dtype(complex) == tg.complex128 and tg.as_dtype(np.complex64) == tg.complex64


def test_complex_does_not_convert_to_a_real_dtype():
    with pytest.raises(TypeError, match=r"Cannot convert \(1\+2j\) to EagerTensor of dtype float32"):
        tg.constant(1 + 2j, dtype=tg.float32)
    with pytest.raises(TypeError, match="Cannot convert"):
        tg.constant([1 + 2j], dtype=tg.float64)


def test_casts_follow_tf():
    z = tg.constant([1.5 + 2j, -3 - 1j])
    np.testing.assert_array_equal(tg.cast(z, tg.float32).numpy(), np.array([1.5, -3], np.float32))
    np.testing.assert_array_equal(tg.cast(tg.constant([1.0, 2.0]), tg.complex64).numpy(), [1 + 0j, 2 + 0j])
    np.testing.assert_array_equal(tg.cast(z, tg.complex64).numpy(), z.numpy().astype(np.complex64))


# ---- kernels vs numpy ---------------------------------------------------------------------------

BINARY = [
    (tg.add, np.add),
    (tg.subtract, np.subtract),
    (tg.multiply, np.multiply),
    (tg.divide, np.divide),
    (tg.pow, np.power),
]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("f,g", BINARY, ids=[b[0].__name__ for b in BINARY])
def test_binary_with_broadcasting(f, g, dtype):
    a, b = crand(2, 3, dtype=dtype), crand(3, dtype=dtype)
    tol = 1e-5 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(f(a, b).numpy(), g(a, b), rtol=tol, atol=tol)


UNARY = [
    ("negative", np.negative),
    ("square", np.square),
    ("sqrt", np.sqrt),
    ("exp", np.exp),
    ("log", np.log),
    ("sin", np.sin),
    ("cos", np.cos),
    ("tan", np.tan),
    ("tanh", np.tanh),
    ("sinh", np.sinh),
    ("cosh", np.cosh),
    ("reciprocal", np.reciprocal),
]


@pytest.mark.parametrize("name,g", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, g):
    a = crand(5)
    np.testing.assert_allclose(getattr(tg.math, name)(a).numpy(), g(a), rtol=1e-12, atol=1e-12)


def test_parts_abs_angle_conj():
    a = crand(4)
    t = tg.constant(a)
    np.testing.assert_array_equal(tg.math.real(t).numpy(), a.real)
    np.testing.assert_array_equal(tg.math.imag(t).numpy(), a.imag)
    np.testing.assert_array_equal(tg.math.conj(t).numpy(), np.conj(a))
    np.testing.assert_allclose(tg.math.angle(t).numpy(), np.angle(a), rtol=1e-15)
    np.testing.assert_allclose(tg.abs(t).numpy(), np.abs(a), rtol=1e-15)
    assert tg.abs(t).dtype == tg.float64
    np.testing.assert_array_equal(tg.math.angle(tg.constant([-2.0, 3.0])).numpy(), np.float32([np.pi, 0.0]))
    np.testing.assert_array_equal(tg.complex(tg.constant([1.0]), tg.constant([2.0, 3.0])).numpy(), [1 + 2j, 1 + 3j])


def test_reductions_and_matmul():
    a = crand(3, 4)
    np.testing.assert_allclose(tg.reduce_sum(a, axis=1).numpy(), a.sum(1), rtol=1e-12)
    np.testing.assert_allclose(tg.reduce_mean(a).numpy(), a.mean(), rtol=1e-12)
    np.testing.assert_allclose(tg.reduce_prod(a, axis=0, keepdims=True).numpy(), a.prod(0, keepdims=True), rtol=1e-12)
    b = crand(4, 2)
    np.testing.assert_allclose(tg.matmul(a, b).numpy(), a @ b, rtol=1e-12)
    np.testing.assert_allclose(tg.matmul(a, a, transpose_b=True).numpy(), a @ a.T, rtol=1e-12)
    c, d = crand(2, 3, 4, dtype=np.complex64), crand(2, 4, 5, dtype=np.complex64)
    np.testing.assert_allclose(tg.matmul(c, d).numpy(), c @ d, rtol=1e-5)


# ---- gradients: TF's convention --------------------------------------------------------------------
# TF returns dL/dRe(z) + i dL/dIm(z) for a real loss L (the conjugate Wirtinger derivative, times 2).


def fd_grad(f, z, eps=1e-6):
    """dL/dRe + i dL/dIm by central differences, for a real-valued f of one complex array."""
    z = np.asarray(z, np.complex128)
    g = np.zeros_like(z)
    for idx in np.ndindex(z.shape):
        for unit in (1.0, 1j):
            zp, zm = z.copy(), z.copy()
            zp[idx] += eps * unit
            zm[idx] -= eps * unit
            d = (f(zp) - f(zm)) / (2 * eps)
            g[idx] += d * unit
    return g


def loss_of(op, w):
    """A real loss of a complex output: sum(Re(op(z) * w)) for a fixed complex w."""

    def tg_loss(z):
        return tg.reduce_sum(tg.math.real(tg.multiply(op(z), w)))

    def np_loss(z):
        return float(tg_loss(tg.constant(z)).numpy())

    return tg_loss, np_loss


C3, C3B, C32 = crand(3), crand(3), crand(3, 2)  # fixed operands (a loss must be one function)
HOLOMORPHIC = {
    "mul": lambda z: z * tg.constant(C3),
    "div": lambda z: tg.constant(C3) / z,
    "exp": tg.exp,
    "log": tg.math.log,
    "sqrt": tg.sqrt,
    "sin": tg.sin,
    "cos": tg.cos,
    "tanh": tg.tanh,
    "square": tg.square,
    "reciprocal": tg.math.reciprocal,
    "pow": lambda z: tg.pow(z, tg.constant(C3B)),
    "sum": lambda z: tg.reduce_sum(z * z),
    "matmul": lambda z: tg.matmul(tg.reshape(z, [1, 3]), tg.constant(C32)),
    "fft": _fft.fft,
    "ifft": _fft.ifft,
}
NON_HOLOMORPHIC = {
    "abs": tg.abs,
    "angle": tg.math.angle,
    "conj": tg.math.conj,
    "real": tg.math.real,
    "imag": tg.math.imag,
}


@pytest.mark.parametrize("name", sorted({**HOLOMORPHIC, **NON_HOLOMORPHIC}))
def test_gradient_matches_finite_differences(name):
    op = {**HOLOMORPHIC, **NON_HOLOMORPHIC}[name]
    z0 = crand(3) + 0.5  # away from branch cuts and zero
    probe = op(tg.constant(z0))
    w = tg.constant(crand(*probe.shape)) if probe.dtype.is_complex else tg.constant(rng.standard_normal(probe.shape))
    tg_loss, np_loss = loss_of(op, w)
    z = tg.constant(z0)
    with tg.GradientTape() as tape:
        tape.watch(z)
        L = tg_loss(z)
    g = tape.gradient(L, z)
    assert g.dtype == tg.complex128
    np.testing.assert_allclose(g.numpy(), fd_grad(np_loss, z0), rtol=1e-6, atol=1e-6)


def test_complex_from_parts_gradient():
    re, im = tg.constant([1.0, 2.0], tg.float64), tg.constant([3.0, -1.0], tg.float64)
    w = tg.constant([1 - 2j, 0.5 + 1j])
    with tg.GradientTape() as tape:
        tape.watch([re, im])
        L = tg.reduce_sum(tg.math.real(tg.complex(re, im) * w))
    gr, gi = tape.gradient(L, [re, im])
    np.testing.assert_allclose(gr.numpy(), [1, 0.5])  # d/dre Re((re + i im) w) = Re(w)
    np.testing.assert_allclose(gi.numpy(), [2, -1])  # d/dim = -Im(w)


@pytest.mark.parametrize(
    "name,f,shape",
    [
        ("rfft", lambda x: _fft.rfft(x), (2, 6)),
        ("rfft_odd", lambda x: _fft.rfft(x), (5,)),
        ("rfft_len", lambda x: _fft.rfft(x, fft_length=[8]), (6,)),
        ("rfft2d", lambda x: _fft.rfft2d(x), (3, 4)),
        ("rfftnd", lambda x: tg.rfftnd(x, axes=[0, 1]), (3, 5)),
    ],
)
def test_rfft_gradient_matches_finite_differences(name, f, shape):
    x0 = rng.standard_normal(shape)
    w = tg.constant(crand(*f(tg.constant(x0)).shape))

    def loss(x):
        return tg.reduce_sum(tg.math.real(f(x) * w))

    x = tg.constant(x0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        L = loss(x)
    g = tape.gradient(L, x).numpy()
    eps = 1e-6
    fd = np.zeros_like(x0)
    for idx in np.ndindex(shape):
        xp, xm = x0.copy(), x0.copy()
        xp[idx] += eps
        xm[idx] -= eps
        fd[idx] = (float(loss(tg.constant(xp))) - float(loss(tg.constant(xm)))) / (2 * eps)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("n", [6, 7])
def test_irfft_gradient_matches_finite_differences(n):
    z0 = crand(n // 2 + 1)
    w = tg.constant(rng.standard_normal(n))

    def f(z):
        return tg.reduce_sum(_fft.irfft(z, fft_length=[n]) * w)

    z = tg.constant(z0)
    with tg.GradientTape() as tape:
        tape.watch(z)
        L = f(z)
    g = tape.gradient(L, z).numpy()
    np.testing.assert_allclose(g, fd_grad(lambda v: float(f(tg.constant(v))), z0), rtol=1e-6, atol=1e-6)


def test_second_order_through_fft():
    z0 = crand(4)
    z = tg.constant(z0)
    with tg.GradientTape() as outer:
        outer.watch(z)
        with tg.GradientTape() as inner:
            inner.watch(z)
            L = tg.reduce_sum(tg.math.real(_fft.fft(z * z)))
        g = inner.gradient(L, z)
        L2 = tg.reduce_sum(tg.math.real(g * tg.math.conj(g)))
    h = outer.gradient(L2, z)

    def np_l2(v):  # the same first gradient, differenced
        vt = tg.constant(v)
        with tg.GradientTape() as t:
            t.watch(vt)
            LL = tg.reduce_sum(tg.math.real(_fft.fft(vt * vt)))
        gg = t.gradient(LL, vt).numpy()
        return float(np.sum(np.abs(gg) ** 2))

    np.testing.assert_allclose(h.numpy(), fd_grad(np_l2, z0), rtol=1e-5, atol=1e-5)


# ---- the FFT family vs numpy ----------------------------------------------------------------------


def test_fft_family_values():
    a = crand(2, 4, 6, dtype=np.complex64)
    r = rng.standard_normal((2, 4, 6)).astype(np.float32)
    tol = dict(rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(_fft.fft(a).numpy(), np.fft.fft(a), **tol)
    np.testing.assert_allclose(_fft.ifft2d(a).numpy(), np.fft.ifft2(a), **tol)
    np.testing.assert_allclose(_fft.fft3d(a).numpy(), np.fft.fftn(a, axes=(0, 1, 2)), **tol)
    np.testing.assert_allclose(_fft.rfft(r).numpy(), np.fft.rfft(r), **tol)
    np.testing.assert_allclose(_fft.rfft(r, fft_length=[4]).numpy(), np.fft.rfft(r, n=4), **tol)
    np.testing.assert_allclose(_fft.rfft2d(r, fft_length=[3, 8]).numpy(), np.fft.rfft2(r, s=(3, 8)), **tol)
    spec = np.fft.rfft(r)
    np.testing.assert_allclose(_fft.irfft(spec.astype(np.complex64)).numpy(), np.fft.irfft(spec), **tol)
    np.testing.assert_allclose(
        _fft.irfft(spec.astype(np.complex64), fft_length=[7]).numpy(), np.fft.irfft(spec, n=7), **tol
    )
    assert _fft.rfft(r).dtype == tg.complex64 and _fft.rfft(r.astype(np.float64)).dtype == tg.complex128
    np.testing.assert_allclose(tg.fftnd(a, axes=[1]).numpy(), np.fft.fft(a, axis=1), **tol)
    np.testing.assert_allclose(tg.fftnd(a, norm="ortho").numpy(), np.fft.fftn(a, norm="ortho"), **tol)


# ---- errors -----------------------------------------------------------------------------------------


def test_real_only_ops_refuse_complex():
    z = tg.constant([1 + 1j])
    with pytest.raises(tg.errors.InvalidArgumentError, match="Value for attr 'T' of complex128 is not in the list"):
        tg.nn.relu(z)
    with pytest.raises(tg.errors.InvalidArgumentError, match="complex128"):
        tg.maximum(z, z)
    with pytest.raises(tg.errors.InvalidArgumentError, match="complex"):
        tg.reduce_max(z)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Value for attr 'Tcomplex' of float is not"):
        _fft.fft(tg.constant([1.0]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Value for attr 'Treal' of complex128 is not"):
        _fft.rfft(z)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Complex"):
        tg.complex(tg.constant([1.0]), tg.constant([1.0], tg.float64))


# ---- against TF itself ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize(
    "name",
    ["mul", "exp", "log", "tanh", "matmul", "abs", "angle", "fft", "ifft", "rfft", "irfft", "rfft2d", "irfft2d"],
)
def test_gradients_match_tf(tf_ref, name):
    tf = tf_ref
    w_c = crand(6).astype(np.complex64)
    fns = {
        "mul": (lambda m, z: z * m.constant(w_c[:4]), "c", 4),
        "exp": (lambda m, z: m.exp(z), "c", 4),
        "log": (lambda m, z: m.math.log(z), "c", 4),
        "tanh": (lambda m, z: m.tanh(z), "c", 4),
        "matmul": (lambda m, z: m.matmul(m.reshape(z, [2, 2]), m.reshape(z, [2, 2]), transpose_b=True), "c", 4),
        "abs": (lambda m, z: m.complex(m.abs(z), m.abs(z) * 0), "c", 4),
        "angle": (lambda m, z: m.complex(m.math.angle(z), m.math.angle(z) * 0), "c", 4),
        "fft": (lambda m, z: (m.signal if m is tf else _fft).fft(z), "c", 4),
        "ifft": (lambda m, z: (m.signal if m is tf else _fft).ifft(z), "c", 4),
        "rfft": (lambda m, x: (m.signal if m is tf else _fft).rfft(x), "r", 6),
        "irfft": (
            lambda m, z: m.complex(
                (m.signal if m is tf else _fft).irfft(z), 0.0 * (m.signal if m is tf else _fft).irfft(z)
            ),
            "c",
            4,
        ),
        "rfft2d": (lambda m, x: (m.signal if m is tf else _fft).rfft2d(m.reshape(x, [2, 3])), "r", 6),
        "irfft2d": (
            lambda m, z: m.complex(
                (m.signal if m is tf else _fft).irfft2d(m.reshape(z, [2, 2])),
                0.0 * (m.signal if m is tf else _fft).irfft2d(m.reshape(z, [2, 2])),
            ),
            "c",
            4,
        ),
    }
    f, kind, n = fns[name]
    x0 = (crand(n) + 0.5).astype(np.complex64) if kind == "c" else rng.standard_normal(n).astype(np.float32)

    def grad(m):
        x = m.constant(x0)
        with m.GradientTape() as tape:
            tape.watch(x)
            y = f(m, x)
            w = m.constant(np.resize(w_c, y.shape).astype(np.complex64))
            L = m.reduce_sum(m.math.real(y * w))
        return tape.gradient(L, x).numpy()

    np.testing.assert_allclose(grad(tg), grad(tf), rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize(
    "frame_length,frame_step,fft_length,pad_end", [(16, 4, None, False), (10, 3, 16, True), (8, 4, 12, False)]
)
def test_stft_and_inverse_match_tf(tf_ref, frame_length, frame_step, fft_length, pad_end):
    tf = tf_ref
    x = rng.standard_normal((2, 64)).astype(np.float32)
    ours = tg.signal.stft(x, frame_length, frame_step, fft_length, pad_end=pad_end)
    ref = tf.signal.stft(x, frame_length, frame_step, fft_length, pad_end=pad_end)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-4, atol=1e-4)
    back = tg.signal.inverse_stft(ours, frame_length, frame_step, fft_length)
    back_ref = tf.signal.inverse_stft(ref, frame_length, frame_step, fft_length)
    np.testing.assert_allclose(back.numpy(), back_ref.numpy(), rtol=1e-4, atol=1e-4)
    xt = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(xt)
        L = tg.reduce_sum(tg.abs(tg.signal.stft(xt, frame_length, frame_step, fft_length, pad_end=pad_end)))
    xr = tf.constant(x)
    with tf.GradientTape() as tape_ref:
        tape_ref.watch(xr)
        L_ref = tf.reduce_sum(tf.abs(tf.signal.stft(xr, frame_length, frame_step, fft_length, pad_end=pad_end)))
    np.testing.assert_allclose(tape.gradient(L, xt).numpy(), tape_ref.gradient(L_ref, xr).numpy(), rtol=1e-3, atol=1e-3)


def test_signal_namespace_has_the_ffts():
    assert tg.signal.fft is _fft.fft and tg.signal.irfftnd is _fft.irfftnd


@pytest.mark.parametrize("ord_,axis", [("euclidean", None), ("fro", [0, 1]), (1, 1), (3, 0), (np.inf, None)])
def test_norm_of_complex_matches_tf(tf_ref, ord_, axis):
    z = crand(3, 4)
    ours = tg.norm(tg.constant(z), ord=ord_, axis=axis)
    ref = tf_ref.norm(tf_ref.constant(z), ord=ord_, axis=axis)
    assert ours.dtype.name == ref.dtype.name
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12)


def test_norm_of_complex_is_the_modulus_norm():
    z = crand(5)
    np.testing.assert_allclose(tg.norm(tg.constant(z)).numpy(), np.linalg.norm(z), rtol=1e-12)


@pytest.mark.parametrize(
    "name",
    ["matmul_adjoint", "adjoint", "transpose_conj", "matvec_adjoint", "euclidean_norm", "variance", "std"],
)
def test_adjoints_and_moduli_match_tf(tf_ref, name):
    z = crand(3, 3)
    fns = {
        "matmul_adjoint": lambda m, x: m.linalg.matmul(x, x, adjoint_a=True) + m.matmul(x, x, adjoint_b=True),
        "adjoint": lambda m, x: m.linalg.adjoint(x),
        "transpose_conj": lambda m, x: m.transpose(x, conjugate=True),
        "matvec_adjoint": lambda m, x: m.linalg.matvec(x, x[0], adjoint_a=True),
        "euclidean_norm": lambda m, x: m.math.reduce_euclidean_norm(x, axis=1),
        "variance": lambda m, x: m.math.reduce_variance(x, axis=0),
        "std": lambda m, x: m.math.reduce_std(x),
    }
    ours, ref = fns[name](tg, tg.constant(z)), fns[name](tf_ref, tf_ref.constant(z))
    assert ours.dtype.name == ref.dtype.name
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-12, atol=1e-12)


def test_matmul_adjoint_gradient_matches_tf(tf_ref):
    z0, w0 = crand(2, 3), crand(3, 3)

    def grad(m):
        z, w = m.constant(z0), m.constant(w0)
        with m.GradientTape() as tape:
            tape.watch(z)
            L = m.reduce_sum(m.math.real(m.matmul(z, z, adjoint_b=True) * m.matmul(z, w)[:, :2]))
        return tape.gradient(L, z).numpy()

    np.testing.assert_allclose(grad(tg), grad(tf_ref), rtol=1e-10, atol=1e-12)
