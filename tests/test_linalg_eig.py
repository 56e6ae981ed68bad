"""tf.linalg.eig / eigvals / logm, and complex inv / solve: values against numpy (and scipy for
logm), gradients against finite differences of eigenvector-phase-invariant functions, batching,
bad input; the same against real TF when it is installed (one module-scoped import)."""

import numpy as np
import pytest

import tapegrad as tg
from tests.tf_errors import assert_raises_like_tf

RNG = np.random.default_rng(7)


def rand(*shape, dtype=np.float64):
    a = RNG.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * RNG.standard_normal(shape)
    return a.astype(dtype)


def _tol(dtype):
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-11


def _assert_same_multiset(e, ref, atol):
    """Each matrix's eigenvalues equal ref's, in some order (greedy nearest matching)."""
    e, ref = e.reshape(-1, e.shape[-1]), ref.reshape(-1, ref.shape[-1])
    for row, want in zip(e, ref):
        left = list(want)
        for x in row:
            k = int(np.argmin(np.abs(np.asarray(left) - x)))
            assert abs(left.pop(k) - x) <= atol, (row, want)


def _assert_vectors_match(e, v, ref_e, ref_v, atol):
    """Each eigenvector equals ref's for the nearest eigenvalue, up to a phase (distinct eigenvalues)."""
    n = e.shape[-1]
    e, ref_e = e.reshape(-1, n), ref_e.reshape(-1, n)
    v, ref_v = v.reshape(-1, n, n), ref_v.reshape(-1, n, n)
    for b in range(e.shape[0]):
        for j in range(n):
            k = int(np.argmin(np.abs(ref_e[b] - e[b, j])))
            x, y = v[b, :, j], ref_v[b, :, k]
            ph = np.vdot(x, y)
            np.testing.assert_allclose(x * ph / abs(ph), y, atol=atol)


def _match_phase(v, ref):
    """v's columns times the unit phases that bring them onto ref's columns."""
    ph = np.sum(np.conj(v) * ref, axis=-2, keepdims=True)
    return v * ph / np.abs(ph)


# ---- values ------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (2, 3, 5, 5)])
def test_eig_against_numpy(dtype, shape):
    a = rand(*shape, dtype=dtype)
    e, v = tg.linalg.eig(a)
    cdt = np.complex64 if np.dtype(dtype) in (np.float32, np.complex64) else np.complex128
    assert e.dtype == tg.as_dtype(cdt) and v.dtype == tg.as_dtype(cdt)
    assert e.shape.as_list() == list(shape[:-1]) and v.shape.as_list() == list(shape)
    e, v = e.numpy(), v.numpy()
    tol = _tol(dtype)
    a64 = a.astype(np.complex128)
    scale = np.abs(a64).max()
    np.testing.assert_allclose(a64 @ v, v * e[..., None, :], atol=tol * 10 * scale)  # A v = v e
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0, rtol=tol)  # unit columns
    ne, nv = np.linalg.eig(a64)
    _assert_same_multiset(e, ne, tol * 10 * scale)
    np.testing.assert_array_equal(tg.linalg.eigvals(a).numpy(), e)
    if np.dtype(dtype).kind == "c":  # TF's (Eigen's) order: ascending modulus
        assert np.all(np.diff(np.abs(e), axis=-1) >= 0)
    _assert_vectors_match(e, v, ne, nv, tol * 1e3)


def test_eig_real_input_pairs_and_real_vectors():
    a = np.array([[1.0, -2.0, 0.1], [2.0, 1.0, 0.3], [0.2, 0.1, 3.0]])
    e, v = (t.numpy() for t in tg.linalg.eig(a))
    assert e[0].imag > 0 and e[1] == np.conj(e[0]) and e[2].imag == 0  # a pair, +imag first
    np.testing.assert_array_equal(v[:, 1], np.conj(v[:, 0]))
    assert np.all(v[:, 2].imag == 0)
    np.testing.assert_allclose(tg.linalg.eigvals(np.diag([3.0, 1.0, 2.0])).numpy(), [3, 1, 2])


def test_eig_empty_and_zero_size_batches():
    e, v = tg.linalg.eig(np.zeros((2, 0, 0)))
    assert e.shape.as_list() == [2, 0] and v.shape.as_list() == [2, 0, 0] and e.dtype == tg.complex128
    assert tg.linalg.eigvals(np.zeros((0, 3, 3), np.float32)).shape.as_list() == [0, 3]
    assert tg.linalg.logm(np.zeros((0, 2, 2), np.complex64)).shape.as_list() == [0, 2, 2]


def test_bad_input():
    err = tg.errors.InvalidArgumentError
    with pytest.raises(err, match=r"^Input matrix must be square. \[Op:Eig\]$"):
        tg.linalg.eig(np.ones((3, 4)))
    with pytest.raises(err, match=r"^Input tensor 0 must have rank >= 2, got 1 \[Op:Eig\]$"):
        tg.linalg.eigvals(np.ones(3))
    with pytest.raises(err, match=r"Eigen decomposition was not successful. The input might not be valid. \[Op:Eig\]"):
        tg.linalg.eig(np.array([[np.nan, 1.0], [0.0, 1.0]]))
    with pytest.raises(err, match="Eigen decomposition was not successful"):
        tg.linalg.eigvals(np.array([[np.inf, 1.0], [0.0, 1.0]], np.complex64))
    with pytest.raises(UnboundLocalError, match="out_dtype"):  # TF 2.21's Python raises this
        tg.linalg.eig(np.eye(2, dtype=np.int32))
    with pytest.raises(err, match=r"of double is not in the list of allowed values: complex64, complex128"):
        tg.linalg.logm(np.eye(2))
    with pytest.raises(err, match=r"^Input matrix must be square. \[Op:MatrixLogarithm\]$"):
        tg.linalg.logm(np.ones((2, 3), np.complex64))
    with pytest.raises(err, match=r"of int32 is not in the list of allowed values: double, float, half, complex64"):
        tg.linalg.inv(np.eye(2, dtype=np.int32))


# ---- gradients against finite differences ------------------------------------------------------
# Eigenvectors are unique up to a phase: the functions below do not depend on it (TF's
# linalg_grad_test checks the same kind of function).

A3 = np.array([[1.0, -2.0, 0.1], [2.0, 1.0, 0.3], [0.2, 0.1, 3.0]])  # eigenvalues 1 +- 2i, ~3
W3 = RNG.uniform(0.5, 1.5, (3, 3))


def _phase_free(e, v):
    return tg.concat(
        [tg.math.real(e), tg.math.imag(e), tg.reshape(tg.abs(e) ** 2, [-1]), tg.reshape(tg.abs(v) * W3, [-1])],
        axis=0,
    )


def test_eig_gradients_real_input():
    tg.testing.check_gradients(lambda a: _phase_free(*tg.linalg.eig(a)), [A3], order=2, rtol=1e-5, atol=1e-7)
    tg.testing.check_gradients(lambda a: tg.math.real(tg.linalg.eigvals(a) ** 2), [A3], order=2, atol=1e-7)


def test_eig_gradients_complex_input():
    x, y = rand(3, 3), rand(3, 3)
    tg.testing.check_gradients(
        lambda x, y: _phase_free(*tg.linalg.eig(tg.complex(x, y))), [x, y], order=2, rtol=1e-5, atol=1e-7
    )
    tg.testing.check_gradients(
        lambda x, y: tg.math.imag(tg.linalg.eigvals(tg.complex(x, y)) ** 3), [x, y], order=1, atol=1e-7
    )


def test_eig_gradient_complex_convention_and_batch():
    """d L / d A for complex A is dL/dRe + i dL/dIm (TF's convention), batched."""
    a = rand(2, 3, 3, dtype=np.complex128)
    at = tg.constant(a)
    with tg.GradientTape() as tape:
        tape.watch(at)
        e, v = tg.linalg.eig(at)
        loss = tg.reduce_sum(tg.abs(e) ** 2) + tg.reduce_sum(tg.abs(v[..., 0, :]) ** 2 * 0.7)
    g = tape.gradient(loss, at).numpy()

    def f(m):
        ee, vv = np.linalg.eig(m)
        return np.sum(np.abs(ee) ** 2) + np.sum(np.abs(vv[..., 0, :]) ** 2 * 0.7)

    num = np.zeros_like(a)
    h = 1e-6
    for idx in np.ndindex(a.shape):
        for unit in (1.0, 1j):
            d = np.zeros_like(a)
            d[idx] = h * unit
            num[idx] += unit * (f(a + d) - f(a - d)) / (2 * h)
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-7)


def test_logm_has_no_gradient():
    x = tg.constant(np.eye(2) * 2 + 0j)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.linalg.logm(x)
    with pytest.raises(LookupError, match="gradient registry has no entry for: MatrixLogarithm"):
        tape.gradient(y, x)


# ---- complex inverse and solve -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("adjoint", [False, True])
def test_complex_inv_solve_values(dtype, adjoint):
    a, b = rand(2, 4, 4, dtype=dtype), rand(2, 4, 3, dtype=dtype)
    op = np.conj(np.swapaxes(a, -1, -2)) if adjoint else a
    tol = 1e-4 if dtype == np.complex64 else 1e-12
    np.testing.assert_allclose(tg.linalg.inv(a, adjoint=adjoint).numpy(), np.linalg.inv(op), rtol=tol, atol=tol)
    np.testing.assert_allclose(
        tg.linalg.solve(a, b, adjoint=adjoint).numpy(), np.linalg.solve(op, b), rtol=tol, atol=tol
    )
    assert tg.linalg.solve(a, b).dtype == tg.as_dtype(dtype)
    with pytest.raises(tg.errors.InvalidArgumentError, match="not invertible"):
        tg.linalg.inv(np.zeros((2, 2), dtype))


@pytest.mark.parametrize("adjoint", [False, True])
def test_complex_inv_solve_gradients(adjoint):
    ar, ai, br, bi = rand(3, 3) + 3 * np.eye(3), rand(3, 3), rand(3, 2), rand(3, 2)

    def inv(ar, ai):
        m = tg.linalg.inv(tg.complex(ar, ai), adjoint=adjoint)
        return tg.concat([tg.math.real(m), tg.math.imag(m)], 0)

    def solve(ar, ai, br, bi):
        m = tg.linalg.solve(tg.complex(ar, ai), tg.complex(br, bi), adjoint=adjoint)
        return tg.concat([tg.math.real(m), tg.math.imag(m)], 0)

    tg.testing.check_gradients(inv, [ar, ai], order=2, modes=("rev", "fwd"), atol=1e-7)
    tg.testing.check_gradients(solve, [ar, ai, br, bi], order=2, modes=("rev", "fwd"), atol=1e-7)


# ---- logm --------------------------------------------------------------------------------------


def _logm_cases():
    jordan = np.array([[2.0, 1.0, 0.0], [0.0, 2.0, 1.0], [0.0, 0.0, 2.0]]) + 0j  # defective
    far = rand(6, 6, dtype=np.complex128) * 3.0  # norm far from the identity: many square roots
    near = np.eye(4) + 1e-3 * rand(4, 4, dtype=np.complex128)
    rot = np.array([[0.0, -1.0], [1.0, 0.0]]) + 0j  # eigenvalues +-i
    nonnormal = np.array([[1.0, 1e3], [0.0, 2.0]]) + 0j
    return {"jordan": jordan, "far": far, "near": near, "rot": rot, "nonnormal": nonnormal}


@pytest.mark.parametrize("name", sorted(_logm_cases()))
def test_logm_against_scipy(name):
    sl = pytest.importorskip("scipy.linalg")
    a = _logm_cases()[name]
    got = tg.linalg.logm(a).numpy()
    ref = sl.logm(a)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * max(1.0, np.abs(ref).max()))
    np.testing.assert_allclose(sl.expm(got), a, rtol=0, atol=1e-11 * max(1.0, np.abs(a).max()))


def test_logm_closed_forms_batch_and_complex64():
    rot = np.array([[0.0, -1.0], [1.0, 0.0]])  # exp(theta J) with theta = pi/2
    d = np.diag([np.e, 1.0, np.exp(2j)])
    batch = np.stack([np.pad(rot, ((0, 1), (0, 1))) + np.diag([0, 0, 1.0]), d]).astype(np.complex128)
    got = tg.linalg.logm(batch).numpy()
    np.testing.assert_allclose(got[0], np.pad(rot * np.pi / 2, ((0, 1), (0, 1))), atol=1e-14)
    np.testing.assert_allclose(got[1], np.diag([1.0, 0.0, 2j]), atol=1e-14)
    got32 = tg.linalg.logm(batch.astype(np.complex64))
    assert got32.dtype == tg.complex64
    np.testing.assert_allclose(got32.numpy(), got, atol=1e-6)
    minus_eye = np.diag([-1.0, -1.0]).astype(np.complex128)  # eigenvalue -1 + 0j: the principal log is i pi
    np.testing.assert_allclose(tg.linalg.logm(minus_eye).numpy(), np.pi * 1j * np.eye(2), atol=1e-15)


# ---- against TF --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
def test_eig_against_tf(tf, dtype):
    a = rand(3, 5, 5, dtype=dtype)
    e, v = (t.numpy() for t in tg.linalg.eig(a))
    te, tv = (t.numpy() for t in tf.linalg.eig(a))
    assert e.dtype == te.dtype and v.dtype == tv.dtype
    tol = _tol(dtype) * 100
    if np.dtype(dtype).kind == "c":  # the same order (ascending modulus); vectors up to a phase
        np.testing.assert_allclose(e, te, atol=tol)
        np.testing.assert_allclose(_match_phase(v, tv), tv, atol=tol)
    else:
        _assert_same_multiset(e, te, tol)
    ev, tev = tg.linalg.eigvals(a).numpy(), tf.linalg.eigvals(a).numpy()
    np.testing.assert_array_equal(ev, e)
    _assert_same_multiset(ev, tev, tol)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_eig_gradients_against_tf(tf, dtype):
    a = rand(2, 4, 4, dtype=dtype)
    w = RNG.uniform(0.5, 1.5, (4, 1))  # one weight per row: independent of the eigenvalues' order

    def loss(m, t):
        e, v = m.linalg.eig(t)
        ev = m.linalg.eigvals(t)
        return (
            m.reduce_sum(m.abs(e) ** 2)
            + m.reduce_sum(m.math.real(ev) * 0.3)
            + m.reduce_sum(m.abs(v) ** 2 * w)
            + m.reduce_sum(m.math.imag(e) ** 2)
        )

    grads = []
    for m in (tg, tf):
        t = m.constant(a)
        with m.GradientTape() as tape:
            tape.watch(t)
            out = loss(m, t)
        grads.append(tape.gradient(out, t).numpy())
    assert grads[0].dtype == grads[1].dtype
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-8, atol=1e-9)


def test_complex_inv_solve_against_tf(tf):
    a, b = rand(3, 3, dtype=np.complex128) + 2 * np.eye(3), rand(3, 2, dtype=np.complex128)
    for adjoint in (False, True):
        grads = []
        for m in (tg, tf):
            ta, tb = m.constant(a), m.constant(b)
            with m.GradientTape() as tape:
                tape.watch([ta, tb])
                y = m.reduce_sum(m.abs(m.linalg.solve(ta, tb, adjoint=adjoint)) ** 2)
                y += m.reduce_sum(m.math.real(m.linalg.inv(ta, adjoint=adjoint)) * 0.5)
            grads.append([g.numpy() for g in tape.gradient(y, [ta, tb])])
        for ours, theirs in zip(*grads):
            np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_logm_against_tf(tf):
    cases = _logm_cases()
    for name in ("far", "near", "rot", "jordan"):
        a = cases[name]
        np.testing.assert_allclose(tg.linalg.logm(a).numpy(), tf.linalg.logm(a).numpy(), atol=1e-10, err_msg=name)
    a = rand(2, 3, 3, dtype=np.complex64)
    np.testing.assert_allclose(tg.linalg.logm(a).numpy(), tf.linalg.logm(a).numpy(), atol=1e-4)
    bad = np.array([[np.nan, 0.0], [0.0, 1.0]], np.complex128)
    assert np.isnan(tf.linalg.logm(bad).numpy()).all() and np.isnan(tg.linalg.logm(bad).numpy()).all()


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.linalg.eig(np.ones((3, 4))),
        lambda m: m.linalg.eigvals(np.ones((3, 4), np.complex64)),
        lambda m: m.linalg.eig(np.ones(3)),
        lambda m: m.linalg.eig(np.array([[np.nan, 1.0], [0.0, 1.0]])),
        lambda m: m.linalg.eigvals(np.eye(2, dtype=np.int32)),
        lambda m: m.linalg.logm(np.eye(2)),
        lambda m: m.linalg.logm(np.eye(2, dtype=np.float32)),
        lambda m: m.linalg.logm(np.ones((2, 3), np.complex64)),
        lambda m: m.linalg.logm(np.ones(3, np.complex128)),
        lambda m: m.linalg.inv(np.eye(2, dtype=np.int32)),
        lambda m: m.linalg.solve(np.eye(2, dtype=np.int64), np.ones((2, 1), np.int64)),
    ],
)
def test_bad_input_like_tf(tf, call):
    assert_raises_like_tf(call, tg, tf)


def test_inverse_of_half_like_tf():
    a = np.array([[2.0, 1.0], [1.0, 3.0]], np.float16)
    got = tg.linalg.inv(a)
    assert got.dtype == tg.float16
    np.testing.assert_allclose(got.numpy().astype(np.float64), np.linalg.inv(a.astype(np.float64)), rtol=1e-3)


def test_logm_of_a_non_finite_matrix_is_nan_as_tf():
    a = np.stack([np.array([[np.nan, 0.0], [0.0, 1.0]]), np.eye(2) * np.e]).astype(np.complex128)
    got = tg.linalg.logm(a).numpy()
    assert np.isnan(got[0]).all()  # TF's Eigen gives NaN for the whole matrix, no error
    np.testing.assert_allclose(got[1], np.eye(2), atol=1e-15)
