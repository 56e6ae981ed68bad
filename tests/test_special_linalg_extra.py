"""tf.linalg's LU family, matrix_rank and expm (_ops_linalg.py): values against numpy/scipy and TF
2.21, gradients against finite differences (float64) and TF, bad input with TF's exception types
and messages."""

import numpy as np
import pytest
from tf_errors import assert_raises_like_tf

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
    half = tg.linalg.expm(tg.constant(d, tg.float16))  # computed in float32, as the engine solves
    assert half.dtype == tg.float16
    np.testing.assert_allclose(half.numpy(), np.diag(np.exp(np.diag(d))), rtol=1e-3)
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
    assert_raises_like_tf(case[1], tg, tf_ref)


def test_expm_nonsquare():
    with pytest.raises(tg.errors.InvalidArgumentError, match="Matrix size-incompatible"):
        tg.linalg.expm(tg.ones([2, 3]))


# ---- diagonals with k != 0 and bands (MatrixDiagV3 family) --------------------------------------

ALIGNS = ["LEFT_RIGHT", "RIGHT_LEFT", "LEFT_LEFT", "RIGHT_RIGHT"]


def test_diag_closed_forms():
    np.testing.assert_array_equal(tg.linalg.diag([1, 2], k=-1).numpy(), [[0, 0, 0], [1, 0, 0], [0, 2, 0]])
    np.testing.assert_array_equal(
        tg.linalg.diag([1.0, 2.0], k=1, num_rows=4).numpy(),
        np.eye(4, 3, 1)[:, :] * [0, 1, 2] * (np.arange(4) < 2)[:, None],
    )
    # a band: diagonal[..., i, :] is diagonal k1 - i; RIGHT_LEFT aligns superdiagonals right, subdiagonals left
    band = np.array([[0.0, 5.0], [1.0, 2.0], [3.0, 0.0]])
    want = np.array([[1.0, 5.0], [3.0, 2.0]])
    np.testing.assert_array_equal(tg.linalg.diag(band, k=(-1, 1)).numpy(), want)
    np.testing.assert_array_equal(tg.linalg.diag_part(want, k=(-1, 1)).numpy(), band)
    np.testing.assert_array_equal(
        tg.linalg.diag_part(want, k=(-1, 1), padding_value=7).numpy(), [[7, 5], [1, 2], [3, 7]]
    )
    m = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(tg.linalg.diag_part(m, k=1).numpy(), [1.0, 6.0, 11.0])
    np.testing.assert_array_equal(tg.linalg.diag_part(m, k=-2).numpy(), [8.0])
    out = tg.linalg.set_diag(m, [-1.0, -2.0], k=-1).numpy()
    want = m.copy()
    want[1, 0], want[2, 1] = -1.0, -2.0
    np.testing.assert_array_equal(out, want)
    assert tg.linalg.diag_part(np.ones((2, 3, 3)), k=tg.constant([0, 2])).shape == [2, 3, 3]
    # empty matrices: k = 0 is always in range (TF's rule), other k are checked
    assert tg.linalg.set_diag(tg.zeros([0, 2]), tg.zeros([0])).shape == [0, 2]
    assert tg.linalg.diag_part(tg.zeros([3, 0, 2])).shape == [3, 0]
    assert tg.linalg.diag_part(tg.zeros([0, 2]), k=(0, 1)).shape == [2, 0]
    with pytest.raises(tg.errors.InvalidArgumentError, match="lower_diag_index is out of bound: -1"):
        tg.linalg.diag_part(tg.zeros([0, 2]), k=-1)


@pytest.mark.parametrize("shape", [(2, 3, 3), (2, 3, 5), (5, 3), (1, 4)])
def test_diag_family_vs_tf(shape, tf_ref):
    x = RNG.normal(size=shape).astype(np.float32)
    rows, cols = shape[-2:]
    for lo in range(-rows + 1, cols):
        for hi in range(lo, cols):
            for align in ALIGNS:
                kw = dict(k=(lo, hi), align=align)
                part = tf_ref.linalg.diag_part(x, padding_value=7, **kw).numpy()
                np.testing.assert_array_equal(tg.linalg.diag_part(x, padding_value=7, **kw).numpy(), part)
                np.testing.assert_array_equal(
                    tg.linalg.set_diag(x, 2 * part, **kw).numpy(), tf_ref.linalg.set_diag(x, 2 * part, **kw).numpy()
                )
                for nr, nc in [(-1, -1), (rows, -1), (-1, cols), (rows, cols)]:
                    try:
                        want = tf_ref.linalg.diag(part, num_rows=nr, num_cols=nc, padding_value=3, **kw).numpy()
                    except tf_ref.errors.InvalidArgumentError as e:
                        with pytest.raises(
                            tg.errors.InvalidArgumentError, match=str(e).split("}} ")[-1].split(" [Op")[0]
                        ):
                            tg.linalg.diag(part, num_rows=nr, num_cols=nc, padding_value=3, **kw)
                        continue
                    got = tg.linalg.diag(part, num_rows=nr, num_cols=nc, padding_value=3, **kw).numpy()
                    np.testing.assert_array_equal(got, want)


def test_diag_family_gradients():
    x = RNG.normal(size=(2, 3, 4))
    check_gradients(lambda v: tg.linalg.diag_part(v, k=(-1, 2), padding_value=0.5), [x], order=2)
    d = tg.linalg.diag_part(tg.constant(x), k=(-1, 1)).numpy()
    check_gradients(lambda v, w: tg.linalg.set_diag(v, w, k=(-1, 1)), [x, d], order=2)
    check_gradients(lambda w: tg.linalg.diag(w, k=(0, 1), num_rows=3, num_cols=4), [d[:, :2, :3]], order=2)


def test_diag_gradients_vs_tf(tf_ref):
    x, w = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 3, 3))

    def grads(m):
        a, b = m.constant(x), m.constant(w)
        with m.GradientTape() as tape:
            tape.watch([a, b])
            y = m.reduce_sum(m.linalg.set_diag(a, b, k=(-1, 1), align="LEFT_RIGHT") ** 2) + m.reduce_sum(
                m.linalg.diag(b, k=(0, 2), num_cols=5) * 3.0
            )
        return [g.numpy() for g in tape.gradient(y, [a, b])]

    for ours, theirs in zip(grads(tg), grads(tf_ref)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


_DIAG_BAD = [
    ("diag_band_count", lambda m: m.linalg.diag(m.ones([3, 4]), k=(0, 1))),
    ("diag_k_reversed", lambda m: m.linalg.diag(m.ones([2, 4]), k=(1, 0))),
    ("diag_rows_small", lambda m: m.linalg.diag(m.ones([3]), k=1, num_rows=2, num_cols=2)),
    ("diag_k_three", lambda m: m.linalg.diag(m.ones([2]), k=(0, 1, 2))),
    ("diag_align", lambda m: m.linalg.diag(m.ones([2]), k=1, align="FOO")),
    ("diag_part_k_out", lambda m: m.linalg.diag_part(m.ones([3, 4]), k=5)),
    ("diag_part_band_out", lambda m: m.linalg.diag_part(m.ones([3, 4]), k=(-4, 1))),
    ("set_diag_band_count", lambda m: m.linalg.set_diag(m.ones([3, 4]), m.ones([3, 3]), k=(0, 1))),
]


@pytest.mark.parametrize("case", _DIAG_BAD, ids=[c[0] for c in _DIAG_BAD])
def test_diag_bad_input_like_tf(case, tf_ref):
    test_bad_input_like_tf(case, tf_ref)


def test_set_diag_wrong_length():
    with pytest.raises(tg.errors.InvalidArgumentError, match="diagonal.shape"):
        tg.linalg.set_diag(tg.ones([3, 4]), tg.ones([2]), k=1)


# ---- max pooling with explicit padding -----------------------------------------------------------


def _max_pool_ref(x, k, s, pads):
    xp = np.pad(x, pads, constant_values=-np.inf)
    out_h, out_w = (xp.shape[1] - k) // s + 1, (xp.shape[2] - k) // s + 1
    return np.stack(
        [
            np.stack([xp[:, i * s : i * s + k, j * s : j * s + k, :].max(axis=(1, 2)) for j in range(out_w)], 1)
            for i in range(out_h)
        ],
        1,
    )


EXPLICIT = [
    ([[0, 0], [1, 2], [2, 1], [0, 0]], 3, 2),
    ([[0, 0], [1, 0], [0, 1], [0, 0]], 2, 1),
    ([[0, 0], [0, 0], [0, 0], [0, 0]], 2, 2),
]


@pytest.mark.parametrize("pads, k, s", EXPLICIT)
def test_max_pool_explicit_padding(pads, k, s):
    x = RNG.normal(size=(2, 5, 6, 3))
    want = _max_pool_ref(x, k, s, pads)
    np.testing.assert_array_equal(tg.nn.max_pool2d(x, k, s, pads).numpy(), want)
    np.testing.assert_array_equal(tg.nn.max_pool(x, k, s, pads).numpy(), want)
    np.testing.assert_array_equal(tg.nn.pool(x, [k, k], "MAX", strides=[s, s], padding=pads).numpy(), want)
    nchw = [pads[0], pads[3], pads[1], pads[2]]
    got = tg.nn.max_pool2d(x.transpose(0, 3, 1, 2), k, s, nchw, data_format="NCHW").numpy()
    np.testing.assert_array_equal(got, want.transpose(0, 3, 1, 2))
    check_gradients(lambda v: tg.nn.max_pool2d(v, k, s, pads), [x], order=2)


def test_max_pool1d_explicit_padding():
    x = RNG.normal(size=(2, 7, 3))
    xp = np.pad(x, [[0, 0], [1, 1], [0, 0]], constant_values=-np.inf)
    want = np.stack([xp[:, 2 * i : 2 * i + 2].max(axis=1) for i in range(4)], 1)
    np.testing.assert_array_equal(tg.nn.max_pool1d(x, 2, 2, [[0, 0], [1, 1], [0, 0]]).numpy(), want)
    got = tg.nn.max_pool1d(x.transpose(0, 2, 1), 2, 2, [[0, 0], [0, 0], [1, 1]], data_format="NCW").numpy()
    np.testing.assert_array_equal(got, want.transpose(0, 2, 1))


@pytest.mark.parametrize("pads, k, s", EXPLICIT)
def test_max_pool_explicit_padding_vs_tf(pads, k, s, tf_ref):
    # float32: TF 2.21's float64 MaxPool with explicit padding disagrees with the definition
    # (checked against the numpy reference above)
    x = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    np.testing.assert_array_equal(tg.nn.max_pool2d(x, k, s, pads).numpy(), tf_ref.nn.max_pool2d(x, k, s, pads).numpy())
    w = RNG.normal(size=_max_pool_ref(x, k, s, pads).shape).astype(np.float32)

    def grad(m):
        v = m.constant(x)
        with m.GradientTape() as tape:
            tape.watch(v)
            y = m.reduce_sum(m.nn.max_pool2d(v, k, s, pads) * w)
        return tape.gradient(y, v).numpy()

    np.testing.assert_array_equal(grad(tg), grad(tf_ref))


_POOL_BAD = [
    ("pad_ge_window", lambda m: m.nn.max_pool2d(m.ones([1, 4, 4, 1]), 2, 2, [[0, 0], [1, 0], [1, 2], [0, 0]])),
    ("pad_top_ge_window", lambda m: m.nn.max_pool2d(m.ones([1, 4, 4, 1]), 2, 1, [[0, 0], [2, 2], [0, 0], [0, 0]])),
    ("pad_batch", lambda m: m.nn.max_pool2d(m.ones([1, 4, 4, 1]), 2, 1, [[1, 0], [0, 0], [0, 0], [0, 0]])),
    ("pad_negative", lambda m: m.nn.max_pool2d(m.ones([1, 4, 4, 1]), 2, 1, [[0, 0], [-1, 0], [0, 0], [0, 0]])),
    ("pad_length", lambda m: m.nn.max_pool2d(m.ones([1, 4, 4, 1]), 2, 1, [[0, 0], [0, 0], [0, 0]])),
    ("pad_length_1d", lambda m: m.nn.max_pool1d(m.ones([1, 4, 1]), 2, 1, [[0, 0], [1, 1]])),
    ("avg_pool2d_explicit", lambda m: m.nn.avg_pool2d(m.ones([1, 4, 4, 1]), 2, 2, [[0, 0], [1, 1], [0, 0], [0, 0]])),
    ("avg_pool1d_explicit", lambda m: m.nn.avg_pool1d(m.ones([1, 4, 1]), 2, 2, [[0, 0], [1, 1], [0, 0]])),
]


@pytest.mark.parametrize("case", _POOL_BAD, ids=[c[0] for c in _POOL_BAD])
def test_pool_bad_input_like_tf(case, tf_ref):
    test_bad_input_like_tf(case, tf_ref)


# ---- the matrix 2-norm ---------------------------------------------------------------------------


def test_norm_ord2_matrix():
    x = RNG.normal(size=(3, 4, 5))
    for axis in [(1, 2), (2, 1), (0, 2), (-1, -2), (0, 1)]:
        moved = np.moveaxis(x, list(axis), [-2, -1])
        want = np.linalg.norm(moved, ord=2, axis=(-2, -1))
        np.testing.assert_allclose(tg.norm(x, ord=2, axis=axis).numpy(), want, rtol=1e-13)
        got = tg.linalg.norm(x, ord=2, axis=axis, keepdims=True).numpy()
        np.testing.assert_allclose(got, np.expand_dims(want, [a % 3 for a in axis]), rtol=1e-13)
    check_gradients(lambda v: tg.norm(v, ord=2, axis=(0, 2)), [x], order=2, rtol=1e-5)


def test_norm_ord2_matrix_vs_tf(tf_ref):
    x = RNG.normal(size=(3, 4, 5))
    for axis in [(1, 2), (2, 0)]:
        np.testing.assert_allclose(
            tg.norm(x, ord=2, axis=axis).numpy(), tf_ref.norm(x, ord=2, axis=axis).numpy(), rtol=1e-13
        )

    def grad(m):
        v = m.constant(x)
        with m.GradientTape() as tape:
            tape.watch(v)
            y = m.reduce_sum(m.norm(v, ord=2, axis=(2, 0)) * [1.0, 2.0, 3.0, 4.0])
        return tape.gradient(y, v).numpy()

    np.testing.assert_allclose(grad(tg), grad(tf_ref), rtol=1e-10, atol=1e-12)


# ---- bincount along the last axis ----------------------------------------------------------------


def test_bincount_axis():
    x = np.array([[1, 2, 2, 5], [0, 0, 3, 1]])
    assert tg.math.bincount(x, axis=-1).numpy().tolist() == [[0, 1, 2, 0, 0, 1], [2, 1, 0, 1, 0, 0]]
    assert tg.math.bincount(x, axis=0).numpy().tolist() == [2, 2, 2, 1, 0, 1]
    w = np.array([[0.5, 1, 2, 3], [1, 1, 1, 1]], np.float32)
    out = tg.math.bincount(x, weights=w, axis=-1)
    assert out.dtype == tg.float32 and out.numpy().tolist() == [[0, 0.5, 3, 0, 0, 3], [2, 1, 0, 1, 0, 0]]
    assert tg.math.bincount(x, axis=-1, minlength=8, maxlength=3).shape == [2, 3]
    assert tg.math.bincount(np.zeros((2, 0), np.int32), axis=-1).shape == [2, 0]


_BINCOUNT_CASES = [
    {"axis": -1},
    {"axis": -1, "binary_output": True},
    {"axis": -1, "minlength": 8},
    {"axis": -1, "maxlength": 3},
    {"axis": 0},
    {"axis": -1, "dtype": "float32"},
]


@pytest.mark.parametrize("kwargs", _BINCOUNT_CASES, ids=[str(c) for c in _BINCOUNT_CASES])
def test_bincount_axis_vs_tf(kwargs, tf_ref):
    x = RNG.integers(0, 6, size=(3, 7))
    want, got = tf_ref.math.bincount(x, **kwargs), tg.math.bincount(x, **kwargs)
    assert got.dtype.name == want.dtype.name
    np.testing.assert_array_equal(got.numpy(), want.numpy())
    np.testing.assert_array_equal(
        tg.math.bincount(x[0].astype(np.float32), **kwargs).numpy(),
        tf_ref.math.bincount(x[0].astype(np.float32), **kwargs).numpy(),
    ) if kwargs["axis"] == -1 else None


_BINCOUNT_BAD = [
    ("rank3", lambda m: m.math.bincount(m.ones([1, 2, 2], m.int32), axis=-1)),
    ("axis1", lambda m: m.math.bincount(m.ones([2, 2], m.int32), axis=1)),
    (
        "binary_and_weights",
        lambda m: m.math.bincount(m.ones([2, 2], m.int32), weights=m.ones([2, 2]), axis=-1, binary_output=True),
    ),
    ("negative", lambda m: m.math.bincount(m.constant([[1, -1], [0, -3]]), axis=-1)),
    ("weights_shape", lambda m: m.math.bincount(m.ones([2, 2], m.int32), weights=m.ones([2, 3]), axis=-1)),
]


@pytest.mark.parametrize("case", _BINCOUNT_BAD, ids=[c[0] for c in _BINCOUNT_BAD])
def test_bincount_bad_input_like_tf(case, tf_ref):
    test_bad_input_like_tf(case, tf_ref)


# ---- tensor_diag, tensor_diag_part, normalize, non-finite diagonals ------------------------------


def test_tensor_diag_and_part():
    v = RNG.normal(size=(2, 3))
    t = tg.linalg.tensor_diag(v).numpy()
    want = np.zeros((2, 3, 2, 3))
    for i in range(2):
        for j in range(3):
            want[i, j, i, j] = v[i, j]
    np.testing.assert_array_equal(t, want)
    np.testing.assert_array_equal(tg.linalg.tensor_diag_part(t).numpy(), v)
    assert float(tg.linalg.tensor_diag_part(tg.constant(2.5))) == 2.5
    check_gradients(tg.linalg.tensor_diag, [v], order=2)
    check_gradients(tg.linalg.tensor_diag_part, [RNG.normal(size=(2, 2, 2, 2))], order=2)


def test_normalize():
    x = RNG.normal(size=(3, 4))
    unit, n = tg.linalg.normalize(x, axis=-1)
    np.testing.assert_allclose(n.numpy(), np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(unit.numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-14)
    unit, n = tg.linalg.normalize(x, ord=2, axis=[0, 1])
    assert n.shape == [1, 1]
    np.testing.assert_allclose(float(n.numpy()[0, 0]), np.linalg.norm(x, 2), rtol=1e-13)


def test_diagonals_keep_inf_and_nan_where_they_are():
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(tg.linalg.diag([inf, 1.0]).numpy(), [[inf, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(tg.linalg.diag_part([[1.0, inf], [nan, 3.0]]).numpy(), [1.0, 3.0])
    np.testing.assert_array_equal(
        tg.linalg.set_diag([[inf, 1.0], [2.0, nan]], [5.0, 6.0]).numpy(), [[5.0, 1.0], [2.0, 6.0]]
    )
    assert float(tg.linalg.trace([[1.0, inf], [nan, 2.0]])) == 3.0


_TENSOR_DIAG_BAD = [
    ("tensor_diag_scalar", lambda m: m.linalg.tensor_diag(m.constant(1.0))),
    ("tensor_diag_part_odd", lambda m: m.linalg.tensor_diag_part(m.ones([2, 2, 2]))),
    ("tensor_diag_part_mismatch", lambda m: m.linalg.tensor_diag_part(m.ones([2, 3]))),
]


@pytest.mark.parametrize("case", _TENSOR_DIAG_BAD, ids=[c[0] for c in _TENSOR_DIAG_BAD])
def test_tensor_diag_bad_input_like_tf(case, tf_ref):
    test_bad_input_like_tf(case, tf_ref)


def test_tensor_diag_normalize_vs_tf(tf_ref):
    v = RNG.normal(size=(2, 2, 3))
    np.testing.assert_array_equal(tg.linalg.tensor_diag(v).numpy(), tf_ref.linalg.tensor_diag(v).numpy())
    t = RNG.normal(size=(2, 3, 2, 3))
    np.testing.assert_array_equal(tg.linalg.tensor_diag_part(t).numpy(), tf_ref.linalg.tensor_diag_part(t).numpy())
    for kw in ({}, {"ord": 1, "axis": -1}, {"ord": 2, "axis": [0, 1]}, {"ord": np.inf, "axis": [-1, -2]}):
        x = RNG.normal(size=(3, 4))
        for ours, theirs in zip(tg.linalg.normalize(x, **kw), tf_ref.linalg.normalize(x, **kw)):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-13)


# ---- tridiagonal matrices ------------------------------------------------------------------------


def _tridiagonal(batch, m, dominant=False):
    sup, main, sub = (RNG.normal(size=batch + (m,)) for _ in range(3))
    if dominant:
        main = main + 6 * np.sign(main)
    sup[..., -1] = 0.0
    sub[..., 0] = 0.0
    dense = np.zeros(batch + (m, m))
    i = np.arange(m)
    dense[..., i, i] = main
    dense[..., i[:-1], i[:-1] + 1] = sup[..., :-1]
    dense[..., i[1:], i[1:] - 1] = sub[..., 1:]
    return np.stack([sup, main, sub], -2), dense


@pytest.mark.parametrize("pivoting", [True, False])
def test_tridiagonal_solve_and_matmul(pivoting):
    compact, dense = _tridiagonal((3,), 6, dominant=not pivoting)
    rhs = RNG.normal(size=(3, 6, 2))
    want = np.linalg.solve(dense, rhs)
    for fmt, diags in [
        ("compact", compact),
        ("matrix", dense),
        ("sequence", (compact[:, 0, :-1], compact[:, 1], compact[:, 2, 1:])),
    ]:
        got = tg.linalg.tridiagonal_solve(diags, rhs, diagonals_format=fmt, partial_pivoting=pivoting).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(
            tg.linalg.tridiagonal_matmul(diags, rhs, diagonals_format=fmt).numpy(), dense @ rhs, rtol=1e-14, atol=1e-14
        )
    vec = tg.linalg.tridiagonal_solve(compact, rhs[..., 0], partial_pivoting=pivoting).numpy()
    np.testing.assert_allclose(vec, want[..., 0], rtol=1e-10, atol=1e-12)
    got = tg.linalg.tridiagonal_solve(compact, np.swapaxes(rhs, -1, -2), transpose_rhs=True).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    check_gradients(lambda d, b: tg.linalg.tridiagonal_solve(d, b, partial_pivoting=pivoting), [compact, rhs], order=2)
    check_gradients(tg.linalg.tridiagonal_matmul, [compact, rhs], order=2)


def test_tridiagonal_solve_needs_pivoting_and_singular_gives_nan():
    # a zero on the main diagonal: pivoting solves it exactly; the singular matrix gives nan (TF)
    x = tg.linalg.tridiagonal_solve([[1.0, 1.0, 0.0], [0.0, 2.0, 3.0], [0.0, 1.0, 1.0]], [1.0, 3.0, 4.0]).numpy()
    np.testing.assert_allclose(np.array([[0, 1, 0], [1, 2, 1], [0, 1, 3]]) @ x, [1.0, 3.0, 4.0], rtol=1e-6)
    assert np.isnan(
        tg.linalg.tridiagonal_solve([[1.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 1.0]], [1.0, 1.0, 1.0]).numpy()
    ).all()


def test_tridiagonal_vs_tf(tf_ref):
    compact, dense = _tridiagonal((2, 3), 7)
    rhs = RNG.normal(size=(2, 3, 7, 2))
    for dtype, tol in (("float32", 1e-4), ("float64", 1e-11)):
        d, b = compact.astype(dtype), rhs.astype(dtype)
        want = tf_ref.linalg.tridiagonal_solve(tf_ref.constant(d), tf_ref.constant(b)).numpy()
        np.testing.assert_allclose(tg.linalg.tridiagonal_solve(d, b).numpy(), want, rtol=tol, atol=tol)
        want = tf_ref.linalg.tridiagonal_matmul(tf_ref.constant(d), tf_ref.constant(b)).numpy()
        np.testing.assert_allclose(tg.linalg.tridiagonal_matmul(d, b).numpy(), want, rtol=tol, atol=tol)

    def grads(m):
        d, b = m.constant(compact), m.constant(rhs)
        with m.GradientTape() as tape:
            tape.watch([d, b])
            y = m.reduce_sum(m.sin(m.linalg.tridiagonal_solve(d, b))) + m.reduce_sum(
                m.linalg.tridiagonal_matmul(d, b) ** 2
            )
        g_d, g_b = tape.gradient(y, [d, b])
        return g_d.numpy(), g_b.numpy()

    (ours_d, ours_b), (tf_d, tf_b) = grads(tg), grads(tf_ref)
    np.testing.assert_allclose(ours_b, tf_b, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(ours_d, tf_d, rtol=1e-9, atol=1e-10)  # the padding entries get 0, as TF


_TRIDIAG_BAD = [
    ("format", lambda m: m.linalg.tridiagonal_solve(m.ones([3, 3]), m.ones([3, 1]), diagonals_format="foo")),
    ("three_diagonals", lambda m: m.linalg.tridiagonal_solve(m.ones([2, 3]), m.ones([3, 1]))),
    ("rhs_rows", lambda m: m.linalg.tridiagonal_solve(m.ones([3, 3]), m.ones([4, 1]))),
    ("matmul_format", lambda m: m.linalg.tridiagonal_matmul(m.ones([3, 3]), m.ones([3, 1]), diagonals_format="foo")),
    ("int", lambda m: m.linalg.tridiagonal_solve(m.ones([3, 3], m.int32), m.ones([3, 1], m.int32))),
    ("mixed", lambda m: m.linalg.tridiagonal_solve(m.ones([3, 3], m.float64), m.ones([3, 1]))),
    (
        "perturb",
        lambda m: m.linalg.tridiagonal_solve(
            m.ones([3, 3]), m.ones([3, 1]), partial_pivoting=False, perturb_singular=True
        ),
    ),
]


@pytest.mark.parametrize("case", _TRIDIAG_BAD, ids=[c[0] for c in _TRIDIAG_BAD])
def test_tridiagonal_bad_input_like_tf(case, tf_ref):
    test_bad_input_like_tf(case, tf_ref)


@pytest.mark.parametrize("lower", [True, False])
def test_banded_triangular_solve(lower):
    bands = RNG.normal(size=(2, 3, 5))
    bands[:, 0 if lower else -1] += 4  # the diagonal: first row (lower) or last (upper)
    dense = tg.linalg.diag(bands, k=(-2, 0) if lower else (0, 2), num_rows=5, num_cols=5, align="LEFT_RIGHT").numpy()
    assert np.array_equal(dense, np.tril(dense) if lower else np.triu(dense))
    rhs = RNG.normal(size=(2, 5, 2))
    for adjoint in (False, True):
        a = np.swapaxes(dense, -1, -2) if adjoint else dense
        got = tg.linalg.banded_triangular_solve(bands, rhs, lower=lower, adjoint=adjoint).numpy()
        np.testing.assert_allclose(got, np.linalg.solve(a, rhs), rtol=1e-12, atol=1e-13)
    check_gradients(lambda b, r: tg.linalg.banded_triangular_solve(b, r, lower=lower), [bands, rhs], order=2)


def test_banded_triangular_solve_vs_tf(tf_ref):
    for lower in (True, False):
        for adjoint in (False, True):
            bands = RNG.normal(size=(2, 3, 6))
            bands[:, 0 if lower else -1] += 4
            rhs = RNG.normal(size=(2, 6, 2))
            want = tf_ref.linalg.banded_triangular_solve(
                tf_ref.constant(bands), tf_ref.constant(rhs), lower=lower, adjoint=adjoint
            ).numpy()
            got = tg.linalg.banded_triangular_solve(bands, rhs, lower=lower, adjoint=adjoint).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-14)
    too_many = RNG.normal(size=(4, 2)) + 3  # more bands than rows: the extra ones are ignored
    np.testing.assert_allclose(
        tg.linalg.banded_triangular_solve(too_many, np.ones((2, 1))).numpy(),
        tf_ref.linalg.banded_triangular_solve(tf_ref.constant(too_many), tf_ref.ones([2, 1], tf_ref.float64)).numpy(),
        rtol=1e-14,
    )
    test_bad_input_like_tf(("rank1", lambda m: m.linalg.banded_triangular_solve(m.ones([2]), m.ones([2, 1]))), tf_ref)
