"""einsum, tensordot, matvec, diag_part, trace: forward against numpy, gradients against finite
differences (order 2), errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("bij,jk->bik", [(2, 3, 4), (4, 5)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(5,), (5,)]),
    ("i,i", [(5,), (5,)]),
    ("ij->ji", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("ii->i", [(4, 4)]),
    ("ii", [(4, 4)]),
    ("ii->", [(4, 4)]),
    ("bii->bi", [(2, 3, 3)]),
    ("iij->j", [(3, 3, 2)]),
    ("iji->j", [(3, 2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij->i", [(2, 3)]),
    ("ijk->kji", [(2, 3, 4)]),
    ("ijk,ikl->jl", [(2, 3, 4), (2, 4, 5)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,ij->", [(2, 3), (2, 3)]),
    ("ij,kl->ijkl", [(2, 3), (1, 2)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("bhqk,bhkd->bqhd", [(2, 2, 3, 5), (2, 2, 5, 4)]),
    ("...ij,...jk->...ik", [(2, 3, 4), (2, 4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 5)]),
    ("i...->...", [(3, 2, 4)]),
    ("...i,...i->...", [(2, 3, 4), (3, 4)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 4), (3, 5, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("i,j,k->ijk", [(2,), (3,), (2,)]),
    ("ab,cd,bd->ac", [(2, 3), (4, 5), (3, 5)]),
    ("ij,jk->", [(2, 3), (3, 4)]),
    ("ijk->", [(2, 3, 4)]),
    ("ij,j->i", [(3, 4), (4,)]),
    ("Ab,bC->AC", [(2, 3), (3, 4)]),
    (" ij , jk -> ik ", [(2, 3), (3, 4)]),
    ("ij,i->j", [(3, 2), (3,)]),
]


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_forward_matches_numpy(eq, shapes, rng):
    args = [rng.standard_normal(s) for s in shapes]
    y = tg.einsum(eq, *args)
    np.testing.assert_allclose(y.numpy(), np.einsum(eq.replace(" ", ""), *args), rtol=1e-12, atol=1e-12)
    args32 = [a.astype("float32") for a in args]
    y32 = tg.einsum(eq, *args32)
    assert y32.dtype == tg.float32
    np.testing.assert_allclose(y32.numpy(), np.einsum(eq.replace(" ", ""), *args), rtol=2e-5, atol=2e-5)


@pytest.mark.parametrize("eq,shapes", EINSUM)
def test_einsum_gradients_order2(eq, shapes, rng):
    args = [rng.standard_normal(s) for s in shapes]
    tg.testing.check_gradients(lambda *xs: tg.einsum(eq, *xs), args, order=2)


def test_einsum_integers_and_linalg_alias():
    a = np.arange(6, dtype=np.int32).reshape(2, 3)
    b = np.arange(12, dtype=np.int32).reshape(3, 4)
    y = tg.einsum("ij,jk->ik", a, b)
    assert y.dtype == tg.int32
    np.testing.assert_array_equal(y.numpy(), a @ b)
    np.testing.assert_array_equal(tg.linalg.einsum("ii", np.eye(3, dtype=np.int64) * 2).numpy(), 6)


def test_einsum_single_operand_identity_is_new_tensor(rng):
    x = tg.constant(rng.standard_normal((2, 3)))
    y = tg.einsum("ij->ij", x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.einsum("ij->ij", x)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), np.ones((2, 3)))


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_einsum_random_contractions(data):
    letters = "abcde"
    sizes = {c: data.draw(st.integers(1, 3), label=c) for c in letters}
    la = data.draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3, unique=True), label="a")
    lb = data.draw(st.lists(st.sampled_from(letters), min_size=0, max_size=3, unique=True), label="b")
    present = sorted(set(la) | set(lb))
    out = data.draw(st.lists(st.sampled_from(present), unique=True) if present else st.just([]), label="out")
    eq = "".join(la) + "," + "".join(lb) + "->" + "".join(out)
    rng = np.random.default_rng(len(eq))
    a = rng.standard_normal([sizes[c] for c in la])
    b = rng.standard_normal([sizes[c] for c in lb])
    np.testing.assert_allclose(tg.einsum(eq, a, b).numpy(), np.einsum(eq, a, b), rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda x, y: tg.einsum(eq, x, y), [a, b], order=1)


def test_einsum_errors(rng):
    with pytest.raises(tg.errors.InvalidArgumentError, match="Expected input 0 to have rank 2 but got: 3"):
        tg.einsum("ij,jk->ik", np.ones((2, 3, 4)), np.ones((3, 4)))
    with pytest.raises(
        tg.errors.InvalidArgumentError,
        match=r"Expected dimension 3 at axis 0 of the input shaped \[4,5\] but got dimension 4",
    ):
        tg.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Expected dimension"):
        tg.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((1, 5)))  # no broadcasting of named indices
    with pytest.raises(tg.errors.InvalidArgumentError, match="Expected dimension"):
        tg.einsum("ii->i", np.ones((2, 3)))
    with pytest.raises(ValueError, match='Got 1 inputs for equation "ij,jk->ik", expecting 2'):
        tg.einsum("ij,jk->ik", np.ones((2, 3)))
    with pytest.raises(ValueError, match="Output subscripts contain the label k not present in the input"):
        tg.einsum("ij->ik", np.ones((2, 3)))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"Output contains 1 broadcasting dimension\(s\) but no "):
        tg.einsum("...ij->ij", np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="repeats"):
        tg.einsum("ij->ii", np.ones((2, 2)))
    with pytest.raises(ValueError, match="bad subscripts"):
        tg.einsum("i1,j->ij", np.ones((2, 2)), np.ones(2))
    with pytest.raises(tg.errors.InvalidArgumentError, match="double tensor"):
        tg.einsum("i,i->", np.ones(2, "float32"), np.ones(2))
    with pytest.raises(TypeError, match="Invalid keyword"):
        tg.einsum("i->i", np.ones(2), optimize="greedy")


TENSORDOT = [
    ((2, 3), (3, 4), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((2, 3), (4, 5), 0),
    ((2, 3, 4), (4, 3, 5), [[1, 2], [1, 0]]),
    ((3, 4), (4, 3), [[0, 1], [1, 0]]),
    ((2, 3, 4), (5, 3), [1, 1]),
    ((2, 3), (3, 2), [[-1], [0]]),
    ((2, 3), (2, 3), 2),
]


@pytest.mark.parametrize("sa,sb,axes", TENSORDOT)
def test_tensordot(sa, sb, axes, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    np.testing.assert_allclose(tg.tensordot(a, b, axes).numpy(), np.tensordot(a, b, axes), rtol=1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda x, y: tg.tensordot(x, y, axes), [a, b], order=2)


def test_tensordot_errors():
    with pytest.raises(ValueError, match="must be at least 0"):
        tg.tensordot(np.ones((2, 3)), np.ones((3, 2)), -1)
    with pytest.raises(ValueError, match="must not be larger"):
        tg.tensordot(np.ones((2, 3)), np.ones((3, 2)), 3)
    with pytest.raises(ValueError, match="Different number of contraction axes"):
        tg.tensordot(np.ones((2, 3)), np.ones((3, 2)), [[0, 1], [0]])
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[4,2\]"
    ):
        tg.tensordot(np.ones((2, 3)), np.ones((4, 2)), 1)
    with pytest.raises(tg.errors.InvalidArgumentError, match="out of range"):
        tg.tensordot(np.ones((2, 3)), np.ones((3, 2)), [[2], [0]])


@pytest.mark.parametrize(
    "sa,sb,ta",
    [
        ((3, 4), (4,), False),
        ((3, 4), (3,), True),
        ((2, 3, 4), (2, 4), False),
        ((2, 3, 4), (4,), False),
        ((3, 4), (2, 4), False),
        ((2, 4, 3), (2, 4), True),
    ],
)
def test_matvec(sa, sb, ta, rng):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    am = np.swapaxes(a, -1, -2) if ta else a
    ref = np.matmul(am, b[..., None])[..., 0]
    np.testing.assert_allclose(tg.linalg.matvec(a, b, transpose_a=ta).numpy(), ref, rtol=1e-12)
    tg.testing.check_gradients(lambda x, y: tg.linalg.matvec(x, y, transpose_a=ta), [a, b], order=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        tg.linalg.matvec(a, np.ones(sb[:-1] + (sb[-1] + 1,)), transpose_a=ta)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4), (4, 2), (2, 3, 3), (2, 1, 3, 5)])
def test_diag_part_and_trace(shape, rng):
    x = rng.standard_normal(shape)
    np.testing.assert_allclose(tg.linalg.diag_part(x).numpy(), np.diagonal(x, axis1=-2, axis2=-1), rtol=1e-12)
    np.testing.assert_allclose(tg.linalg.trace(x).numpy(), np.trace(x, axis1=-2, axis2=-1), rtol=1e-12)
    tg.testing.check_gradients(lambda a: tg.linalg.diag_part(a), [x], order=2)
    tg.testing.check_gradients(lambda a: tg.linalg.trace(a) ** 2, [x], order=2)
    xi = (x * 10).astype(np.int32)
    np.testing.assert_array_equal(tg.linalg.trace(xi).numpy(), np.trace(xi, axis1=-2, axis2=-1))


def test_diag_part_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="at least 2-dim"):
        tg.linalg.diag_part(np.ones(3))
    with pytest.raises(tg.errors.InvalidArgumentError, match="out of bound"):
        tg.linalg.diag_part(np.ones((3, 3)), k=3)


def test_diag_band_part_transpose_eye(rng):
    v = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(tg.linalg.diag(v).numpy(), np.stack([np.diag(r) for r in v]))
    tg.testing.check_gradients(lambda a: tg.linalg.diag(a) ** 2, [v], order=2)
    x = rng.standard_normal((2, 4, 5))
    for lo, hi in [(0, 0), (1, 2), (-1, 0), (0, -1), (-1, -1), (3, 4)]:
        i, j = np.arange(4)[:, None], np.arange(5)[None, :]
        keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
        np.testing.assert_array_equal(tg.linalg.band_part(x, lo, hi).numpy(), x * keep)
    tg.testing.check_gradients(lambda a: tg.linalg.band_part(a, 1, 0), [x], order=1)
    np.testing.assert_array_equal(tg.linalg.band_part(x, 4, 5).numpy(), x)  # TF: <= rows/columns
    with pytest.raises(tg.errors.InvalidArgumentError, match="num_lower must be negative or less or equal"):
        tg.linalg.band_part(x, 5, 0)
    np.testing.assert_array_equal(tg.linalg.matrix_transpose(x).numpy(), np.swapaxes(x, -1, -2))
    np.testing.assert_array_equal(tg.linalg.adjoint(x).numpy(), np.swapaxes(x, -1, -2))
    with pytest.raises(ValueError, match="rank >= 2"):
        tg.linalg.matrix_transpose(np.ones(3))
    e = tg.eye(3)
    assert e.dtype == tg.float32
    np.testing.assert_array_equal(e.numpy(), np.eye(3))
    np.testing.assert_array_equal(
        tg.linalg.eye(2, 3, batch_shape=[4], dtype=tg.float64).numpy(), np.broadcast_to(np.eye(2, 3), (4, 2, 3))
    )
    np.testing.assert_array_equal(tg.linalg.diag(v, k=1).numpy(), np.stack([np.diag(r, 1) for r in v]))


def _well_conditioned(rng, shape):
    n = shape[-1]
    return rng.standard_normal(shape) + 3 * np.eye(n)


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4), (2, 1, 2, 2)])
def test_inv_det_solve(shape, rng):
    a = _well_conditioned(rng, shape)
    b = rng.standard_normal(shape[:-1] + (2,))
    np.testing.assert_allclose(tg.linalg.inv(a).numpy(), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        tg.linalg.inv(a, adjoint=True).numpy(), np.linalg.inv(np.swapaxes(a, -1, -2)), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(tg.linalg.det(a).numpy(), np.linalg.det(a), rtol=1e-10)
    np.testing.assert_allclose(tg.linalg.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        tg.linalg.solve(a, b, adjoint=True).numpy(), np.linalg.solve(np.swapaxes(a, -1, -2), b), rtol=1e-10, atol=1e-12
    )
    a32 = a.astype(np.float32)
    np.testing.assert_allclose(tg.linalg.inv(a32).numpy(), np.linalg.inv(a), rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(tg.linalg.det(a32).numpy(), np.linalg.det(a), rtol=2e-5)
    tg.testing.check_gradients(lambda x: tg.linalg.inv(x), [a], order=2)
    tg.testing.check_gradients(lambda x: tg.linalg.inv(x, adjoint=True), [a], order=1)
    tg.testing.check_gradients(lambda x: tg.linalg.det(x), [a], order=2)
    tg.testing.check_gradients(lambda x, y: tg.linalg.solve(x, y), [a, b], order=2)
    tg.testing.check_gradients(lambda x, y: tg.linalg.solve(x, y, adjoint=True), [a, b], order=1)


def test_inv_det_solve_errors_and_singular():
    sing = np.array([[1.0, 2.0], [2.0, 4.0]])
    assert tg.linalg.det(sing).numpy() == pytest.approx(0.0, abs=1e-12)
    assert tg.linalg.det(np.zeros((2, 2))).numpy() == 0.0
    with pytest.raises(tg.errors.InvalidArgumentError, match="Input is not invertible"):
        tg.linalg.inv(np.zeros((2, 2)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="Input matrix is not invertible"):
        tg.linalg.solve(np.zeros((2, 2)), np.ones((2, 1)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="must be square"):
        tg.linalg.inv(np.ones((2, 3)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="rank >= 2"):
        tg.linalg.det(np.ones(3))
    with pytest.raises(tg.errors.InvalidArgumentError, match="same number of rows: 2 vs. 3"):
        tg.linalg.solve(np.eye(2), np.ones((3, 1)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="not in the list of allowed values"):
        tg.linalg.inv(np.eye(2, dtype=np.int32))
    assert tg.linalg.inv(np.ones((0, 3, 3))).shape.as_list() == [0, 3, 3]
    np.testing.assert_array_equal(tg.linalg.det(np.ones((2, 0, 0))).numpy(), [1.0, 1.0])


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_cholesky_and_triangular_solve(shape, rng):
    r = rng.standard_normal(shape)
    spd = r @ np.swapaxes(r, -1, -2) + shape[-1] * np.eye(shape[-1])
    b = rng.standard_normal(shape[:-1] + (2,))
    lo = np.linalg.cholesky(spd)
    np.testing.assert_allclose(tg.linalg.cholesky(spd).numpy(), lo, rtol=1e-10, atol=1e-12)
    junk_upper = spd + np.triu(rng.standard_normal(shape), 1)  # only the lower triangle is read
    np.testing.assert_allclose(tg.linalg.cholesky(junk_upper).numpy(), lo, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tg.linalg.cholesky(spd.astype(np.float32)).numpy(), lo, rtol=2e-5, atol=2e-6)

    def sym_chol(x):  # differentiate through a symmetric input, as users do
        return tg.linalg.cholesky(x + tg.linalg.matrix_transpose(x))

    tg.testing.check_gradients(sym_chol, [spd / 2], order=2)

    t_lo = lo + 0.0
    t_up = np.swapaxes(lo, -1, -2) + 0.0
    for lower, a in [(True, t_lo), (False, t_up)]:
        for adj in (False, True):
            am = np.swapaxes(a, -1, -2) if adj else a
            np.testing.assert_allclose(
                tg.linalg.triangular_solve(a, b, lower=lower, adjoint=adj).numpy(),
                np.linalg.solve(am, b),
                rtol=1e-10,
                atol=1e-12,
            )
            tg.testing.check_gradients(
                lambda x, y: tg.linalg.triangular_solve(x, y, lower=lower, adjoint=adj), [a, b], order=2
            )
    # the other triangle is ignored
    np.testing.assert_allclose(
        tg.linalg.triangular_solve(t_lo + np.triu(np.ones(shape), 1), b).numpy(),
        np.linalg.solve(t_lo, b),
        rtol=1e-10,
        atol=1e-12,
    )


def test_cholesky_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="Cholesky decomposition was not successful"):
        tg.linalg.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(tg.errors.InvalidArgumentError, match="must be square"):
        tg.linalg.cholesky(np.ones((2, 3)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="same number of rows"):
        tg.linalg.triangular_solve(np.eye(2), np.ones((3, 1)))


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)])
def test_slogdet_and_logdet(shape, rng):
    a = _well_conditioned(rng, shape) * np.where(np.arange(shape[-1]) == 0, -1.0, 1.0)
    sign, logabs = tg.linalg.slogdet(a)
    ref_sign, ref_log = np.linalg.slogdet(a)
    np.testing.assert_array_equal(sign.numpy(), ref_sign)
    np.testing.assert_allclose(logabs.numpy(), ref_log, rtol=1e-12)
    tg.testing.check_gradients(lambda x: tg.linalg.slogdet(x)[1], [a], order=2)
    r = rng.standard_normal(shape)
    spd = r @ np.swapaxes(r, -1, -2) + shape[-1] * np.eye(shape[-1])
    np.testing.assert_allclose(tg.linalg.logdet(spd).numpy(), np.linalg.slogdet(spd)[1], rtol=1e-12)
    tg.testing.check_gradients(lambda x: tg.linalg.logdet(x + tg.linalg.matrix_transpose(x)), [spd / 2], order=2)
    s0, l0 = tg.linalg.slogdet(np.zeros((2, 2)))
    assert float(s0.numpy()) == 0.0 and float(l0.numpy()) == -np.inf


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (2, 4, 4)])
def test_eigh(shape, rng):
    r = rng.standard_normal(shape)
    sym = r + np.swapaxes(r, -1, -2)
    e, v = tg.linalg.eigh(sym)
    ref_e, ref_v = np.linalg.eigh(sym)
    np.testing.assert_allclose(e.numpy(), ref_e, rtol=1e-10, atol=1e-12)
    # eigenvectors up to sign: compare projectors v v^T per eigenvalue, and the reconstruction
    vv = v.numpy()
    np.testing.assert_allclose(np.abs(np.sum(vv * ref_v, axis=-2)), 1.0, rtol=1e-9)
    np.testing.assert_allclose(vv @ (e.numpy()[..., None] * np.swapaxes(vv, -1, -2)), sym, atol=1e-10)
    np.testing.assert_allclose(tg.linalg.eigvalsh(sym.astype(np.float32)).numpy(), ref_e, rtol=1e-4, atol=1e-5)
    # gradients of sign-invariant functions of a symmetric input
    wts = rng.standard_normal(shape)

    def f(x):  # sign-invariant in each eigenvector: weighted squares of its components
        s = x + tg.linalg.matrix_transpose(x)
        ev, vec = tg.linalg.eigh(s)
        return ev * 1.5 + tg.reduce_sum(vec * vec * wts, axis=-2)

    tg.testing.check_gradients(f, [sym / 2], order=2)
    tg.testing.check_gradients(lambda x: tg.linalg.eigvalsh(x + tg.linalg.matrix_transpose(x)), [sym / 2], order=2)


def test_eigh_errors():
    with pytest.raises(tg.errors.InvalidArgumentError, match="must be square"):
        tg.linalg.eigh(np.ones((2, 3)))
    with pytest.raises(tg.errors.InvalidArgumentError, match="not successful"):
        tg.linalg.eigh(np.array([[np.nan, 0.0], [0.0, 1.0]]))


def test_cholesky_solve_lstsq_cross_set_diag(rng):
    r = rng.standard_normal((2, 3, 3))
    spd = r @ np.swapaxes(r, -1, -2) + 3 * np.eye(3)
    b = rng.standard_normal((2, 3, 2))
    np.testing.assert_allclose(
        tg.linalg.cholesky_solve(np.linalg.cholesky(spd), b).numpy(), np.linalg.solve(spd, b), rtol=1e-10, atol=1e-12
    )
    tall, rhs = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    np.testing.assert_allclose(
        tg.linalg.lstsq(tall, rhs).numpy(), np.linalg.lstsq(tall, rhs, rcond=None)[0], rtol=1e-9, atol=1e-12
    )
    lam = 0.5
    ridge = np.linalg.solve(tall.T @ tall + lam * np.eye(3), tall.T @ rhs)
    np.testing.assert_allclose(tg.linalg.lstsq(tall, rhs, l2_regularizer=lam).numpy(), ridge, rtol=1e-10)
    wide, rw = rng.standard_normal((2, 4)), rng.standard_normal((2, 1))
    np.testing.assert_allclose(
        tg.linalg.lstsq(wide, rw).numpy(), np.linalg.lstsq(wide, rw, rcond=None)[0], rtol=1e-9, atol=1e-12
    )
    tg.testing.check_gradients(lambda a, y: tg.linalg.lstsq(a, y, l2_regularizer=0.1), [tall, rhs], order=2)
    with pytest.raises(NotImplementedError, match="fast=True"):
        tg.linalg.lstsq(tall, rhs, fast=False)
    u, v = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    np.testing.assert_allclose(tg.linalg.cross(u, v).numpy(), np.cross(u, v), rtol=1e-12, atol=1e-14)
    tg.testing.check_gradients(lambda p, q: tg.linalg.cross(p, q), [u, v], order=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="innermost dimension 3"):
        tg.linalg.cross(np.ones((2, 2)), np.ones((2, 2)))
    for m, n in [(3, 3), (4, 2), (2, 4)]:
        x, d = rng.standard_normal((2, m, n)), rng.standard_normal((2, min(m, n)))
        ref = x.copy()
        idx = np.arange(min(m, n))
        ref[:, idx, idx] = d
        np.testing.assert_array_equal(tg.linalg.set_diag(x, d).numpy(), ref)
        tg.testing.check_gradients(lambda a, dd: tg.linalg.set_diag(a, dd), [x, d], order=1)
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"diagonal.shape\[:-1\] is not equal to the longests diagonal"
    ):
        tg.linalg.set_diag(np.ones((3, 3)), np.ones(2))


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_qr(shape, full, rng):
    a = rng.standard_normal(shape)
    q, r = tg.linalg.qr(a, full_matrices=full)
    rq, rr = np.linalg.qr(a, mode="complete" if full else "reduced")
    np.testing.assert_allclose(q.numpy(), rq, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(r.numpy(), rr, rtol=1e-10, atol=1e-12)
    q32, r32 = tg.linalg.qr(a.astype(np.float32), full_matrices=full)
    np.testing.assert_allclose(q32.numpy() @ r32.numpy(), a, atol=1e-5)
    m, n = shape[-2:]
    if m >= n and (not full or m == n):
        tg.testing.check_gradients(lambda x: tg.linalg.qr(x, full_matrices=full)[0], [a], order=2)
        tg.testing.check_gradients(lambda x: tg.linalg.qr(x, full_matrices=full)[1], [a], order=2)
    else:
        x = tg.constant(a)
        with tg.GradientTape() as tape:
            tape.watch(x)
            s = tg.reduce_sum(tg.linalg.qr(x, full_matrices=full)[1])
        with pytest.raises(LookupError, match="QrGrad is only implemented"):
            tape.gradient(s, x)


@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (3, 5), (2, 4, 2)])
@pytest.mark.parametrize("full", [False, True])
def test_svd(shape, full, rng):
    a = rng.standard_normal(shape)
    s, u, v = tg.linalg.svd(a, full_matrices=full)
    ru, rs, rvt = np.linalg.svd(a, full_matrices=full)
    np.testing.assert_allclose(s.numpy(), rs, rtol=1e-10)
    np.testing.assert_allclose(tg.linalg.svd(a, compute_uv=False).numpy(), rs, rtol=1e-10)
    k = min(shape[-2:])
    uu, vv = u.numpy(), v.numpy()
    np.testing.assert_allclose(uu[..., :k] * s.numpy()[..., None, :] @ np.swapaxes(vv[..., :k], -1, -2), a, atol=1e-10)
    # singular vectors up to sign
    np.testing.assert_allclose(np.abs(np.sum(uu[..., :k] * ru[..., :k], axis=-2)), 1.0, rtol=1e-9)
    np.testing.assert_allclose(np.abs(np.sum(vv[..., :k] * np.swapaxes(rvt, -1, -2)[..., :k], axis=-2)), 1.0, rtol=1e-9)
    np.testing.assert_allclose(tg.linalg.svd(a.astype(np.float32), compute_uv=False).numpy(), rs, rtol=1e-5)
    tg.testing.check_gradients(lambda x: tg.linalg.svd(x, compute_uv=False), [a], order=2)
    wu, wv = rng.standard_normal(uu.shape), rng.standard_normal(vv.shape)

    def f(x):  # sign-invariant in each singular pair
        s_, u_, v_ = tg.linalg.svd(x, full_matrices=full)
        k_ = min(shape[-2:])
        return (tg.reduce_sum(s_**2) + tg.reduce_sum(u_ * u_ * wu) + tg.reduce_sum(v_ * v_ * wv)) if k_ else s_

    if not full or shape[-2] == shape[-1]:
        tg.testing.check_gradients(f, [a], order=2)
    else:
        x = tg.constant(a)
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        with pytest.raises(LookupError, match="svd gradient"):
            tape.gradient(y, x)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 3, 3)])
def test_pinv(shape, rng):
    a = rng.standard_normal(shape)
    np.testing.assert_allclose(tg.linalg.pinv(a).numpy(), np.linalg.pinv(a), rtol=1e-9, atol=1e-12)
    tg.testing.check_gradients(lambda x: tg.linalg.pinv(x), [a], order=1)
    low_rank = np.outer(rng.standard_normal(4), rng.standard_normal(3))
    np.testing.assert_allclose(tg.linalg.pinv(low_rank).numpy(), np.linalg.pinv(low_rank), rtol=1e-8, atol=1e-12)
