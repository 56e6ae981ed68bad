"""tf.linalg's LU family, matrix_rank and expm (_ops_linalg.py): values against numpy/scipy and TF
2.21, gradients against finite differences (float64) and TF, bad input with TF's exception types
and messages."""

import re

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_gradients


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


RNG = np.random.default_rng(11)
A3 = RNG.normal(size=(3, 4, 4))


def _lu_parts(lu):
    n = lu.shape[-1]
    return np.tril(lu, -1) + np.eye(n), np.triu(lu)


# ---- lu ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lu_factors_reconstruct_the_rows(dtype):
    a = A3.astype(dtype)
    lu, p = tg.linalg.lu(a)
    assert lu.dtype.name == dtype and p.dtype == tg.int32 and p.shape == [3, 4]
    lower, upper = _lu_parts(lu.numpy())
    rows = np.take_along_axis(a, p.numpy()[..., None], axis=-2)
    np.testing.assert_allclose(lower @ upper, rows, atol=10 * np.finfo(dtype).eps)
    assert np.all(np.abs(np.tril(lu.numpy(), -1)) <= 1)  # partial pivoting: |L| <= 1
    assert tg.linalg.lu(a, output_idx_type=tg.int64).p.dtype == tg.int64


def test_lu_family_closed_forms():
    a = np.array([[4.0, 3.0], [6.0, 3.0]])
    lu, p = tg.linalg.lu(a)
    np.testing.assert_allclose(lu.numpy(), [[6.0, 3.0], [2 / 3, 1.0]], rtol=1e-7)
    assert p.numpy().tolist() == [1, 0]
    np.testing.assert_allclose(tg.linalg.lu_reconstruct(lu, p).numpy(), a, rtol=1e-7)
    np.testing.assert_allclose(tg.linalg.lu_matrix_inverse(lu, p).numpy(), np.linalg.inv(a), rtol=1e-6)
    rhs = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(tg.linalg.lu_solve(lu, p, rhs).numpy(), np.linalg.solve(a, rhs), rtol=1e-6)


def test_lu_solve_broadcasts_batches():
    a = A3  # [3, 4, 4]
    lu, p = tg.linalg.lu(tg.constant(a))
    rhs = RNG.normal(size=(2, 1, 4, 3))
    x = tg.linalg.lu_solve(lu, p, rhs).numpy()
    assert x.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(x, np.linalg.solve(a[None], rhs), rtol=1e-10, atol=1e-12)
    lu1, p1 = tg.linalg.lu(tg.constant(a[0]))
    np.testing.assert_allclose(tg.linalg.lu_solve(lu1, p1, rhs).numpy(), np.linalg.solve(a[0], rhs), rtol=1e-10)


def test_lu_gradients_of_solve_inverse_reconstruct():
    lu, p = tg.linalg.lu(tg.constant(A3[0]))
    lu_np = lu.numpy()
    rhs = RNG.normal(size=(4, 2))
    check_gradients(lambda b: tg.linalg.lu_solve(lu_np, p, b), [rhs], order=2)
    check_gradients(lambda f: tg.linalg.lu_solve(f, p, rhs), [lu_np], order=2)
    check_gradients(lambda f: tg.linalg.lu_matrix_inverse(f, p), [lu_np], order=2)
    check_gradients(lambda f: tg.linalg.lu_reconstruct(f, p), [lu_np], order=2)


def test_lu_has_no_gradient_like_tf():
    x = tg.constant(A3[0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        lu, _ = tg.linalg.lu(x)
        y = tg.reduce_sum(lu)
    with pytest.raises(LookupError, match="gradient registry has no entry for: Lu"):
        tape.gradient(y, x)


def test_lu_empty_and_singular():
    lu, p = tg.linalg.lu(tg.zeros([3, 0, 0]))
    assert lu.shape == [3, 0, 0] and p.shape == [3, 0]
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Input is not invertible. \[Op:Lu\]"):
        tg.linalg.lu([[1.0, 2.0], [2.0, 4.0]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lu_family_vs_tf(dtype, tf_ref):
    a = A3.astype(dtype)
    lu, p = tg.linalg.lu(a)
    lu_tf, p_tf = tf_ref.linalg.lu(a)
    np.testing.assert_array_equal(p.numpy(), p_tf.numpy())
    tol = 1e-5 if dtype == "float32" else 1e-13
    np.testing.assert_allclose(lu.numpy(), lu_tf.numpy(), rtol=tol, atol=tol)
    rhs = RNG.normal(size=(3, 4, 2)).astype(dtype)
    for ours, theirs in [
        (tg.linalg.lu_solve(lu, p, rhs), tf_ref.linalg.lu_solve(lu_tf, p_tf, rhs)),
        (tg.linalg.lu_matrix_inverse(lu, p), tf_ref.linalg.lu_matrix_inverse(lu_tf, p_tf)),
        (tg.linalg.lu_reconstruct(lu, p), tf_ref.linalg.lu_reconstruct(lu_tf, p_tf)),
    ]:
        assert ours.dtype.name == theirs.dtype.name
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=20 * tol, atol=20 * tol)


def test_lu_solve_gradients_vs_tf(tf_ref):
    lu, p = (t.numpy() for t in tf_ref.linalg.lu(A3))
    rhs = RNG.normal(size=(3, 4, 2))

    def grads(m):
        f, b = m.constant(lu), m.constant(rhs)
        with m.GradientTape() as tape:
            tape.watch([f, b])
            y = m.reduce_sum(m.sin(m.linalg.lu_solve(f, m.constant(p), b))) + m.reduce_sum(
                m.linalg.lu_reconstruct(f, m.constant(p)) ** 2
            )
        return [g.numpy() for g in tape.gradient(y, [f, b])]

    for ours, theirs in zip(grads(tg), grads(tf_ref)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ---- matrix_rank ---------------------------------------------------------------------------------


def test_matrix_rank():
    u, v = RNG.normal(size=(5, 2)), RNG.normal(size=(2, 4))
    batch = np.stack([u @ v, RNG.normal(size=(5, 4)), np.zeros((5, 4))])
    r = tg.linalg.matrix_rank(batch)
    assert r.dtype == tg.int32 and r.numpy().tolist() == [2, 4, 0]
    assert int(tg.linalg.matrix_rank(np.diag([1.0, 1e-3, 1e-9]), tol=1e-6)) == 2


def test_matrix_rank_vs_tf(tf_ref):
    x = np.stack([np.outer(RNG.normal(size=4), RNG.normal(size=4)), np.eye(4), RNG.normal(size=(4, 4))])
    for dtype in ("float32", "float64"):
        np.testing.assert_array_equal(
            tg.linalg.matrix_rank(x.astype(dtype)).numpy(), tf_ref.linalg.matrix_rank(x.astype(dtype)).numpy()
        )


# ---- expm ----------------------------------------------------------------------------------------

# norms that take every Pade branch: float64 switches at 0.015, 0.25, 0.95, 2.1 and scales above 5.4
EXPM_SCALES = [0.002, 0.05, 0.2, 0.6, 1.5, 8.0, 60.0]


def test_expm_closed_forms():
    t = 0.7
    rot = tg.linalg.expm(np.array([[0.0, -t], [t, 0.0]])).numpy()
    np.testing.assert_allclose(rot, [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], rtol=1e-6, atol=1e-7)
    d = np.diag([-3.0, 0.5, 9.0])
    np.testing.assert_allclose(tg.linalg.expm(d).numpy(), np.diag(np.exp(np.diag(d))), rtol=1e-6)
    nil = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])  # I + N + N^2 / 2
    np.testing.assert_allclose(tg.linalg.expm(nil).numpy(), np.eye(3) + nil + nil @ nil / 2, rtol=1e-7)
    assert tg.linalg.expm(tg.zeros([0, 0])).shape == [0, 0]
    assert np.isnan(tg.linalg.expm(np.array([[np.inf, 0.0], [0.0, 1.0]])).numpy()).all()


def test_expm_vs_scipy():
    sl = pytest.importorskip("scipy.linalg")
    for scale in EXPM_SCALES:
        a = RNG.normal(size=(5, 5)) * scale / 5
        want = sl.expm(a)
        got = tg.linalg.expm(tg.constant(a)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12 * max(1.0, scale), atol=1e-13 * np.abs(want).max())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_expm_vs_tf(dtype, tf_ref):
    a = np.stack([RNG.normal(size=(4, 4)) * s / 4 for s in EXPM_SCALES]).astype(dtype)  # one batch, every branch
    got = tg.linalg.expm(a).numpy()
    want = tf_ref.linalg.expm(a).numpy()
    tol = 2e-5 if dtype == "float32" else 1e-12
    scale = np.abs(want).max(axis=(-2, -1), keepdims=True)  # each matrix relative to its largest entry
    np.testing.assert_allclose(got / scale, want / scale, rtol=tol, atol=tol)


def test_expm_gradients():
    for scale in (0.01, 0.5, 3.0, 12.0):
        a = RNG.normal(size=(3, 3)) * scale / 3
        check_gradients(tg.linalg.expm, [a], order=2, rtol=1e-5, atol=1e-6 * max(1.0, np.exp(scale)))


def test_expm_gradients_vs_tf(tf_ref):
    a = np.stack([RNG.normal(size=(3, 3)) * s / 3 for s in EXPM_SCALES[:-1]])
    w = RNG.normal(size=a.shape)

    def grad(m):
        x = m.constant(a)
        with m.GradientTape() as tape:
            tape.watch(x)
            y = m.reduce_sum(m.linalg.expm(x) * w)
        return tape.gradient(y, x).numpy()

    np.testing.assert_allclose(grad(tg), grad(tf_ref), rtol=1e-9, atol=1e-9)


# ---- bad input -----------------------------------------------------------------------------------

_BAD = [
    ("lu_nonsquare", lambda m: m.linalg.lu(m.ones([2, 3]))),
    ("lu_singular", lambda m: m.linalg.lu(m.zeros([2, 2]))),
    ("lu_int", lambda m: m.linalg.lu(m.constant([[1, 2], [3, 4]]))),
    ("lu_vector", lambda m: m.linalg.lu(m.ones([3]))),
    ("lu_idx_type", lambda m: m.linalg.lu(m.eye(2), output_idx_type=m.float32)),
    ("lu_solve_rhs_rows", lambda m: m.linalg.lu_solve(*m.linalg.lu(m.eye(2)), m.ones([3, 1]))),
    ("lu_solve_rhs_vector", lambda m: m.linalg.lu_solve(*m.linalg.lu(m.eye(2)), m.ones([2]))),
    ("lu_reconstruct_rank", lambda m: m.linalg.lu_reconstruct(m.eye(2), m.constant([[0, 1]]))),
    ("lu_reconstruct_nonsquare", lambda m: m.linalg.lu_reconstruct(m.ones([2, 3]), m.constant([0, 1]))),
    ("lu_matrix_inverse_vector", lambda m: m.linalg.lu_matrix_inverse(m.ones([2]), m.constant(0))),
    ("matrix_rank_int", lambda m: m.linalg.matrix_rank(m.ones([2, 2], m.int32))),
    ("matrix_rank_vector", lambda m: m.linalg.matrix_rank(m.ones([2]))),
    ("expm_int", lambda m: m.linalg.expm(m.ones([2, 2], m.int32))),
]


@pytest.mark.parametrize("case", _BAD, ids=[c[0] for c in _BAD])
def test_bad_input_like_tf(case, tf_ref):
    _, fn = case
    with pytest.raises(Exception) as ours:
        fn(tg)
    with pytest.raises(Exception) as theirs:
        fn(tf_ref)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    text = str(theirs.value)
    op = re.search(r"\[Op:(\w+)\]", text)
    first = re.sub(r"^\{\{function_node [^}]*\}\} ", "", text.split("\n")[0]).split(" [Op:")[0]
    assert str(ours.value) == (first + f" [Op:{op.group(1)}]" if op else first)


def test_expm_nonsquare():
    with pytest.raises(tg.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        tg.linalg.expm(tg.ones([2, 3]))
