"""tapegrad.signal against TF 2.21's tf.signal (values, dtypes, shapes, errors) and finite differences.

The comparisons with TF skip without TensorFlow; the gradient checks (float64 central differences,
to second order), the round trips and the numpy window references run without it.
"""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_gradients


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


def _rng():
    return np.random.default_rng(0)


def _assert_same(ours, theirs, rtol=1e-5, atol=1e-5):
    a, b = np.asarray(ours), np.asarray(theirs)
    assert a.shape == b.shape
    assert a.dtype == b.dtype
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol)


# ---- framing -----------------------------------------------------------------------------------

FRAME_CASES = [
    # shape, frame_length, frame_step, pad_end, axis
    ((10,), 3, 2, False, -1),
    ((3, 10), 4, 3, True, -1),
    ((2, 9, 3), 4, 2, True, 1),
    ((2, 9, 3), 4, 2, False, -2),
    ((4, 0), 3, 1, True, -1),
    ((5, 7), 8, 3, False, -1),  # longer than the signal: no frames
    ((5, 7), 8, 3, True, -1),
    ((6,), 3, 5, True, 0),  # step > length: gaps between frames
    ((6,), 0, 1, False, 0),
    ((3, 11), 5, 5, False, -1),
]


@pytest.mark.parametrize("shape,length,step,pad_end,axis", FRAME_CASES)
def test_frame_matches_tf(tf_ref, shape, length, step, pad_end, axis):
    x = _rng().standard_normal(shape).astype(np.float32)
    ours = tg.signal.frame(x, length, step, pad_end=pad_end, pad_value=1.5, axis=axis)
    theirs = tf_ref.signal.frame(x, length, step, pad_end=pad_end, pad_value=1.5, axis=axis)
    _assert_same(ours, theirs, rtol=0, atol=0)


def test_frame_integers_and_tensor_arguments(tf_ref):
    x = np.arange(10, dtype=np.int32)
    ours = tg.signal.frame(tg.constant(x), tg.constant(3), np.int64(2), pad_end=True, pad_value=tg.constant(7))
    _assert_same(ours, tf_ref.signal.frame(x, 3, 2, pad_end=True, pad_value=7), rtol=0, atol=0)


OLA_CASES = [
    ((3, 4), 2),
    ((2, 5, 7), 3),
    ((4, 4), 4),
    ((3, 4), 6),
    ((0, 4), 2),
    ((3, 5), 1),
    ((1, 6), 4),
    ((2, 2, 3, 8), 3),
]


@pytest.mark.parametrize("shape,step", OLA_CASES)
def test_overlap_and_add_matches_tf(tf_ref, shape, step):
    x = _rng().standard_normal(shape).astype(np.float32)
    _assert_same(tg.signal.overlap_and_add(x, step), tf_ref.signal.overlap_and_add(x, step), atol=1e-6)


def test_overlap_and_add_integers(tf_ref):
    x = np.arange(24, dtype=np.int32).reshape(2, 3, 4)
    _assert_same(tg.signal.overlap_and_add(x, 3), tf_ref.signal.overlap_and_add(x, 3), rtol=0, atol=0)


# ---- windows -----------------------------------------------------------------------------------

WINDOW_LENGTHS = [0, 1, 2, 3, 8, 17]


@pytest.mark.parametrize("dtype,tol", [("float32", 1e-6), ("float64", 1e-12), ("float16", 2e-3)])
def test_windows_match_tf(tf_ref, dtype, tol):
    tdt = tf_ref.as_dtype(dtype)
    for n in WINDOW_LENGTHS:
        for periodic in (True, False):
            for fn in ("hann_window", "hamming_window"):
                ours = getattr(tg.signal, fn)(n, periodic, dtype=dtype)
                _assert_same(ours, getattr(tf_ref.signal, fn)(n, periodic, dtype=tdt), rtol=tol, atol=tol)
        for beta in (0.0, 3.5) if dtype == "float16" else (0.0, 3.5, 12.0, 50.0):  # TF's float16 overflows
            if n > 0:  # kaiser_window(0) raises in TF (tested below)
                ours = tg.signal.kaiser_window(n, beta, dtype=dtype)
                _assert_same(ours, tf_ref.signal.kaiser_window(n, beta, dtype=tdt), rtol=tol, atol=tol)
            ours = tg.signal.kaiser_bessel_derived_window(n, beta, dtype=dtype)
            theirs = tf_ref.signal.kaiser_bessel_derived_window(n, beta, dtype=tdt)
            _assert_same(ours, theirs, rtol=tol, atol=tol)
        _assert_same(
            tg.signal.vorbis_window(n, dtype=dtype), tf_ref.signal.vorbis_window(n, dtype=tdt), rtol=tol, atol=tol
        )


def test_windows_against_numpy():
    for n in (2, 9, 10):
        f64 = tg.float64
        np.testing.assert_allclose(tg.signal.hann_window(n, False, dtype=f64).numpy(), np.hanning(n), atol=1e-15)
        np.testing.assert_allclose(tg.signal.hamming_window(n, False, dtype=f64).numpy(), np.hamming(n), atol=1e-15)
        np.testing.assert_allclose(tg.signal.kaiser_window(n, 5.0, dtype=f64).numpy(), np.kaiser(n, 5.0), atol=1e-14)
        # periodic = the first n points of the symmetric window of length n + 1 (for odd n TF's
        # periodic window is the symmetric one)
        periodic = np.hanning(n + 1)[:-1] if n % 2 == 0 else np.hanning(n)
        np.testing.assert_allclose(tg.signal.hann_window(n, dtype=f64).numpy(), periodic, atol=1e-15)
    # Princen-Bradley: w[k]^2 + w[k + N/2]^2 = 1 for the MDCT windows
    for fn in (tg.signal.vorbis_window, tg.signal.kaiser_bessel_derived_window):
        w = fn(16, dtype=tg.float64).numpy()
        np.testing.assert_allclose(w[:8] ** 2 + w[8:] ** 2, 1.0, atol=1e-14)
    # large beta: past where I0 overflows a double, the scaled form still gives a finite window
    w = tg.signal.kaiser_window(11, beta=800.0, dtype=tg.float64).numpy()
    assert np.all(np.isfinite(w)) and w[5] == 1.0 and w[0] < 1e-300


# ---- DCT ---------------------------------------------------------------------------------------

DCT_CASES = [(t, norm) for t in (1, 2, 3, 4) for norm in (None, "ortho") if not (t == 1 and norm)]


@pytest.mark.parametrize("dct_type,norm", DCT_CASES)
def test_dct_and_idct_match_tf(tf_ref, dct_type, norm):
    rng = _rng()
    for shape in [(7,), (3, 8), (2, 3, 5), (2, 64)]:
        for n in (None, 3, 12):
            for dtype, tol in ((np.float32, 2e-5), (np.float64, 1e-11)):
                x = rng.standard_normal(shape).astype(dtype)
                for fn in ("dct", "idct"):
                    ours = getattr(tg.signal, fn)(x, dct_type, n, norm=norm)
                    theirs = getattr(tf_ref.signal, fn)(x, dct_type, n, norm=norm)
                    scale = max(1.0, float(np.abs(theirs).max()))
                    _assert_same(ours, theirs, rtol=tol, atol=tol * scale)


def test_dct_round_trips_and_orthonormal_basis():
    x = tg.constant(_rng().standard_normal((3, 9)))
    for t in (2, 3, 4):
        back = tg.signal.idct(tg.signal.dct(x, type=t, norm="ortho"), type=t, norm="ortho")
        np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
        back = tg.signal.idct(tg.signal.dct(x, type=t), type=t) / (2 * 9)
        np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
    back = tg.signal.idct(tg.signal.dct(x, type=1), type=1) / (2 * 8)
    np.testing.assert_allclose(back.numpy(), x.numpy(), atol=1e-12)
    # the orthonormal DCT-II keeps the norm
    y = tg.signal.dct(x, norm="ortho")
    np.testing.assert_allclose(np.linalg.norm(y.numpy(), axis=-1), np.linalg.norm(x.numpy(), axis=-1), rtol=1e-12)


# ---- MDCT --------------------------------------------------------------------------------------


@pytest.mark.parametrize("frame_length", [4, 8, 16])
def test_mdct_and_inverse_match_tf(tf_ref, frame_length):
    rng = _rng()
    for shape in [(40,), (2, 37)] if frame_length == 8 else [(2, 37)]:
        for pad_end in (False, True):
            for norm in (None, "ortho"):
                for window in ("vorbis_window", "kaiser_bessel_derived_window", None):
                    ours_w = window and getattr(tg.signal, window)
                    tf_w = window and getattr(tf_ref.signal, window)
                    x = rng.standard_normal(shape).astype(np.float32)
                    ours = tg.signal.mdct(x, frame_length, window_fn=ours_w, pad_end=pad_end, norm=norm)
                    theirs = tf_ref.signal.mdct(x, frame_length, window_fn=tf_w, pad_end=pad_end, norm=norm)
                    _assert_same(ours, theirs)
                    back = tg.signal.inverse_mdct(theirs.numpy(), window_fn=ours_w, norm=norm)
                    _assert_same(back, tf_ref.signal.inverse_mdct(theirs, window_fn=tf_w, norm=norm))


def test_mdct_float64_matches_tf(tf_ref):
    x = _rng().standard_normal((2, 50))
    ours = tg.signal.mdct(x, 12, pad_end=True)
    _assert_same(ours, tf_ref.signal.mdct(x, 12, pad_end=True), rtol=1e-12, atol=1e-12)
    _assert_same(tg.signal.inverse_mdct(ours), tf_ref.signal.inverse_mdct(ours.numpy()), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("window", [tg.signal.vorbis_window, tg.signal.kaiser_bessel_derived_window, None])
@pytest.mark.parametrize("norm", [None, "ortho"])
def test_mdct_perfect_reconstruction(window, norm):
    half, samples = 8, 64
    x = tg.constant(_rng().standard_normal((2, samples)))
    padded = tg.pad(x, [[0, 0], [half, 0]])
    y = tg.signal.inverse_mdct(tg.signal.mdct(padded, 2 * half, window, pad_end=True, norm=norm), window, norm)
    np.testing.assert_allclose(y[:, half : half + samples].numpy(), x.numpy(), atol=1e-12)


# ---- mel ---------------------------------------------------------------------------------------

MEL_CASES = [(), (40, 257, 16000, 20.0, 8000.0), (10, 65, 22050.0, 0.0, 11025.0), (1, 0), (3, 1), (5, 2, 100, 10, 50)]


@pytest.mark.parametrize("args", MEL_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_linear_to_mel_weight_matrix_matches_tf(tf_ref, args, dtype):
    ours = tg.signal.linear_to_mel_weight_matrix(*args, dtype=dtype)
    theirs = tf_ref.signal.linear_to_mel_weight_matrix(*args, dtype=tf_ref.as_dtype(dtype))
    tol = 1e-5 if dtype == "float32" else 1e-12
    _assert_same(ours, theirs, rtol=tol, atol=tol)


def test_linear_to_mel_weight_matrix_tensor_arguments(tf_ref):
    ours = tg.signal.linear_to_mel_weight_matrix(8, tg.constant(33), tg.constant(8000), 50.0, 4000.0)
    theirs = tf_ref.signal.linear_to_mel_weight_matrix(8, tf_ref.constant(33), tf_ref.constant(8000), 50.0, 4000.0)
    _assert_same(ours, theirs)


@pytest.mark.parametrize("shape", [(1,), (4, 13), (2, 3, 40)])
def test_mfccs_match_tf(tf_ref, shape):
    x = _rng().standard_normal(shape).astype(np.float32)
    ours = tg.signal.mfccs_from_log_mel_spectrograms(x)
    _assert_same(ours, tf_ref.signal.mfccs_from_log_mel_spectrograms(x))


# ---- fftshift, inverse_stft_window_fn ----------------------------------------------------------


@pytest.mark.parametrize("shape", [(5,), (4, 7), (3, 4, 5)])
def test_fftshift_matches_tf_and_numpy(tf_ref, shape):
    x = _rng().standard_normal(shape).astype(np.float32)
    for axes in (None, 0, -1, [0], [-1, 0], (0, 0)):
        for fn in ("fftshift", "ifftshift"):
            ours = getattr(tg.signal, fn)(x, axes)
            _assert_same(ours, getattr(tf_ref.signal, fn)(x, axes), rtol=0, atol=0)
            if axes is None or isinstance(axes, int) or len(set(axes)) == len(axes):
                np.testing.assert_array_equal(ours.numpy(), getattr(np.fft, fn)(x, axes))


def test_inverse_stft_window_fn_matches_tf(tf_ref):
    for step, length in [(3, 8), (2, 4), (160, 400), (10, 8), (1, 5), (4, 0)]:
        for fn in ("hann_window", "hamming_window", "vorbis_window"):
            for dtype in ("float32", "float64"):
                ours = tg.signal.inverse_stft_window_fn(step, getattr(tg.signal, fn))(length, dtype=dtype)
                theirs = tf_ref.signal.inverse_stft_window_fn(step, getattr(tf_ref.signal, fn))(
                    length, dtype=tf_ref.as_dtype(dtype)
                )
                _assert_same(ours, theirs, rtol=1e-6, atol=1e-6)


# ---- gradients (float64 finite differences, to second order) ------------------------------------


def _x(*shape):
    return _rng().standard_normal(shape)


@pytest.mark.parametrize(
    "f,shape",
    [
        (lambda x: tg.signal.frame(x, 4, 3, pad_end=True, pad_value=0.5), (2, 11)),
        (lambda x: tg.signal.frame(x, 3, 2, axis=0), (9, 2)),
        (lambda x: tg.signal.frame(x, 2, 4), (9,)),
        (lambda x: tg.signal.overlap_and_add(x, 2), (2, 4, 5)),
        (lambda x: tg.signal.overlap_and_add(x, 5), (3, 5)),
        (lambda x: tg.signal.overlap_and_add(x, 7), (3, 5)),
        (lambda x: tg.signal.mdct(x, 8, pad_end=True), (2, 20)),
        (lambda x: tg.signal.mdct(x, 8, window_fn=None, norm="ortho"), (19,)),
        (lambda x: tg.signal.inverse_mdct(x), (2, 3, 4)),
        (lambda x: tg.signal.inverse_mdct(x, tg.signal.kaiser_bessel_derived_window, "ortho"), (3, 6)),
        (lambda x: tg.signal.mfccs_from_log_mel_spectrograms(x), (3, 5)),
        (lambda x: tg.signal.fftshift(x), (3, 5)),
    ],
)
def test_gradients(f, shape):
    check_gradients(f, [_x(*shape)])


@pytest.mark.parametrize("dct_type,norm", DCT_CASES)
@pytest.mark.parametrize("n", [None, 4, 9])
def test_dct_gradients(dct_type, norm, n):
    x = _x(3, 6)
    check_gradients(lambda v: tg.signal.dct(v, dct_type, n, norm=norm), [x])
    check_gradients(lambda v: tg.signal.idct(v, dct_type, n, norm=norm), [x], order=1)


def test_gradients_match_tf(tf_ref):
    """A small MFCC front end (frame, window, DCT, overlap-add, MDCT): tape gradients vs TF's."""
    x_np = _x(2, 40)
    v = _x(2, 10, 8)

    def pipeline(m, x):
        frames = m.signal.frame(x, 8, 4, pad_end=True) * m.signal.hann_window(8, dtype=x.dtype)
        mf = m.signal.mfccs_from_log_mel_spectrograms(frames)
        rec = m.signal.overlap_and_add(m.signal.idct(mf, type=4, norm="ortho"), 4)
        return m.reduce_sum(mf * v) + m.reduce_sum(m.square(m.signal.mdct(rec, 8)))

    grads = []
    for m in (tg, tf_ref):
        x = m.constant(x_np)
        with m.GradientTape() as tape:
            tape.watch(x)
            y = pipeline(m, x)
        grads.append(tape.gradient(y, x).numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-10)


# ---- errors ------------------------------------------------------------------------------------

# (case, exception class name, message fragment, TF raises the same message). Each case takes the
# module (tapegrad or tensorflow); with TF installed, TF's own exception is checked against the row.
ERRORS = [
    (lambda m: m.signal.frame(m.constant(1.0), 3, 1), "ValueError", "Shape () must have rank at least 1", True),
    (lambda m: m.signal.frame(m.zeros([3, 10]), [3], 1), "ValueError", "Shape (1,) must have rank 0", True),
    (lambda m: m.signal.frame(m.zeros([3, 10]), 3, 1, axis=2), "IndexError", "list index out of range", True),
    (lambda m: m.signal.frame(m.zeros([3, 10]), 3, 0), "InvalidArgumentError", "Integer division by zero", True),
    (
        lambda m: m.signal.frame(m.zeros([3, 10]), -3, 5),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 0/-3",
        True,
    ),
    (
        lambda m: m.signal.frame(m.zeros([3, 10]), 3, -1, pad_end=True),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 0/-10",
        True,
    ),
    (lambda m: m.signal.frame(m.zeros([3, 10]), 3.0, 1), "InvalidArgumentError", "FloorDiv", True),
    (
        lambda m: m.signal.frame(m.zeros([3, 10]), 3, 1, pad_end=True, pad_value=[1.0, 2.0]),
        "ValueError",
        "Shape (2,) must have rank 0",
        True,
    ),
    (
        lambda m: m.signal.frame(m.range(10), 3, 2, pad_end=True, pad_value=7.5),
        "TypeError",
        "Cannot convert 7.5 to EagerTensor of dtype int32",
        True,
    ),
    (lambda m: m.signal.overlap_and_add(m.zeros([3]), 1), "ValueError", "Shape (3,) must have rank at least 2", True),
    (lambda m: m.signal.overlap_and_add(m.zeros([3, 4]), [1]), "ValueError", "Shape (1,) must have rank 0", True),
    (
        lambda m: m.signal.overlap_and_add(m.zeros([3, 4]), 1.0),
        "ValueError",
        "frame_step must be an integer. Got <dtype: 'float32'>",
        True,
    ),
    (lambda m: m.signal.overlap_and_add(m.zeros([3, 4]), 0), "InvalidArgumentError", "[Op:Pad]", True),
    (
        lambda m: m.signal.hann_window(5, dtype=m.int32),
        "ValueError",
        "dtype must be a floating point type. Found <dtype: 'int32'>",
        True,
    ),
    (lambda m: m.signal.hamming_window([5]), "ValueError", "Shape (1,) must have rank 0", True),
    (
        lambda m: m.signal.hann_window(-1),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 0/-1",
        True,
    ),
    (lambda m: m.signal.hann_window(5.0), "TypeError", "Cannot convert 5.0 to EagerTensor of dtype int32", True),
    (lambda m: m.signal.hann_window(5, periodic=[True]), "ValueError", "Shape (1,) must have rank 0", True),
    (lambda m: m.signal.hann_window(5, periodic=1), "TypeError", "Cannot convert 1 to EagerTensor of dtype bool", True),
    (
        lambda m: m.signal.kaiser_window(0),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 0.5/-0.4",
        True,
    ),
    (
        lambda m: m.signal.kaiser_window(5, beta=[3.0, 4.0]),
        "InvalidArgumentError",
        "Incompatible shapes: [2] vs. [5]",
        True,
    ),
    (
        lambda m: m.signal.kaiser_bessel_derived_window(-3),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 1/-0.9",
        True,
    ),
    (
        lambda m: m.signal.vorbis_window(3, dtype=m.int64),
        "ValueError",
        "dtype must be a floating point type. Found <dtype: 'int64'>",
        True,
    ),
    (
        lambda m: m.signal.vorbis_window(-2),
        "InvalidArgumentError",
        "Requires start <= limit when delta > 0: 0/-2",
        True,
    ),
    (lambda m: m.signal.dct(m.zeros([3, 4]), axis=0), "NotImplementedError", "axis must be -1. Got: 0", True),
    (lambda m: m.signal.idct(m.zeros([3, 4]), n=0), "ValueError", "n should be a positive integer or None", True),
    (
        lambda m: m.signal.dct(m.zeros([3, 4]), type=5),
        "ValueError",
        "Types I, II, III and IV (I)DCT are supported.",
        True,
    ),
    (
        lambda m: m.signal.idct(m.zeros([3, 4]), type=0),
        "ValueError",
        "Types I, II, III and IV (I)DCT are supported.",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 4]), type=1, norm="ortho"),
        "ValueError",
        "Normalization is not supported for the Type-I DCT.",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 1]), type=1, n=4),
        "ValueError",
        "Type-I DCT requires the dimension to be greater than one.",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 4]), norm="foo"),
        "ValueError",
        "Unknown normalization. Expected None or 'ortho', got: foo",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 4], m.int32)),
        "TypeError",
        "Cannot convert 0.0 to EagerTensor of dtype int32",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 4], m.float16), type=3),
        "TypeError",
        "The `real` and `imag` components have incorrect types: float16 float16",
        True,
    ),
    (
        lambda m: m.signal.dct(m.zeros([3, 4], m.float16), type=1),
        "ValueError",
        "RFFT requires tf.float32 or tf.float64 inputs",
        True,
    ),
    (lambda m: m.signal.dct(m.constant(1.0)), "IndexError", "tuple index out of range", True),
    (lambda m: m.signal.dct(m.zeros([3, 4]), n=2.5), "TypeError", "are valid indices, got 2.5", True),
    (lambda m: m.signal.mdct(m.zeros([3, 10]), 6), "ValueError", "The frame length must be a multiple of 4.", True),
    (lambda m: m.signal.mdct(m.constant(1.0), 4), "ValueError", "Shape () must have rank at least 1", True),
    (lambda m: m.signal.mdct(m.zeros([3, 10]), [4]), "ValueError", "Shape (1,) must have rank 0", True),
    (
        lambda m: m.signal.mdct(m.zeros([3, 10]), 4, norm="foo"),
        "ValueError",
        "Unknown normalization. Expected None or 'ortho', got: foo",
        True,
    ),
    (
        lambda m: m.signal.mdct(m.zeros([3, 10], m.int32), 4),
        "ValueError",
        "dtype must be a floating point type. Found <dtype: 'int32'>",
        True,
    ),
    (lambda m: m.signal.mdct(m.zeros([3, 10]), 0), "InvalidArgumentError", "Integer division by zero", True),
    (lambda m: m.signal.mdct(m.zeros([3, 10]), 4.0), "ValueError", "integer type", False),
    (
        lambda m: m.signal.inverse_mdct(m.zeros([3])),
        "ValueError",
        "Shape (3,) must have rank at least 2",
        True,
    ),
    (
        lambda m: m.signal.inverse_mdct(m.zeros([3, 3])),
        "InvalidArgumentError",
        "Number of ways to split should evenly divide the split dimension, but got split_dim 1 (size = 3) and "
        "num_split 2",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(0),
        "ValueError",
        "num_mel_bins must be positive. Got: 0",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(lower_edge_hertz=-1.0),
        "ValueError",
        "lower_edge_hertz must be non-negative. Got: -1.0",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(lower_edge_hertz=4000.0, upper_edge_hertz=3000.0),
        "ValueError",
        "lower_edge_hertz 4000.0 >= upper_edge_hertz 3000.0",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(sample_rate=m.constant(0)),
        "ValueError",
        "sample_rate must be positive. Got: 0",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(sample_rate=5000.0),
        "ValueError",
        "upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). Got 3800.0 for "
        "sample_rate: 5000.0",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(dtype=m.int32),
        "ValueError",
        "dtype must be a floating point type. Got: <dtype: 'int32'>",
        True,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(num_spectrogram_bins=-1),
        "InvalidArgumentError",
        "",
        False,
    ),
    (
        lambda m: m.signal.linear_to_mel_weight_matrix(num_mel_bins=3.5),
        "TypeError",
        "must be of type integer",
        True,
    ),
    (
        lambda m: m.signal.mfccs_from_log_mel_spectrograms(m.zeros([3, 0])),
        "ValueError",
        "num_mel_bins must be positive. Got: tf.Tensor([], shape=(3, 0), dtype=float32)",
        True,
    ),
    (
        lambda m: m.signal.mfccs_from_log_mel_spectrograms(m.constant(1.0)),
        "InvalidArgumentError",
        "slice index -1 of dimension 0 out of bounds.",
        True,
    ),
    (
        lambda m: m.signal.fftshift(m.zeros([3, 4]), axes=2),
        "InvalidArgumentError",
        "slice index 2 of dimension 0 out of bounds.",
        True,
    ),
    (
        lambda m: m.signal.ifftshift(m.zeros([3, 4]), axes=[-3]),
        "InvalidArgumentError",
        "indices[0] = -1 is not in [0, 2)",
        True,
    ),
    (
        lambda m: m.signal.fftshift(m.constant(1.0)),
        "InvalidArgumentError",
        "Value for attr 'Taxis' of float is not in the list of allowed values: int32, int64",
        True,
    ),
    (
        lambda m: m.signal.inverse_stft_window_fn([3])(8, dtype=m.float32),
        "ValueError",
        "Shape (1,) must have rank 0",
        True,
    ),
    (
        lambda m: m.signal.inverse_stft_window_fn(3)([8], dtype=m.float32),
        "ValueError",
        "Shape (1,) must have rank 0",
        True,
    ),
    (
        lambda m: m.signal.inverse_stft_window_fn(0)(8, dtype=m.float32),
        "InvalidArgumentError",
        "Integer division by zero",
        True,
    ),
]


@pytest.mark.parametrize("case,kind,message,tf_same", ERRORS)
def test_errors(case, kind, message, tf_same):
    with pytest.raises(Exception) as info:
        case(tg)
    assert type(info.value).__name__ == kind
    assert message in str(info.value)


def test_errors_agree_with_tf(tf_ref):
    for case, kind, message, tf_same in ERRORS:
        with pytest.raises(Exception) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # TF's numpy shape arithmetic divides by 0
            case(tf_ref)
        assert type(info.value).__name__ == kind, (message, info.value)
        if tf_same:
            assert message in str(info.value), (message, str(info.value))


def test_inverse_mdct_unknown_norm():
    # TF 2.21 fails here with UnboundLocalError (its norm branch leaves the result unset); we raise
    # the DCT's ValueError for the same mistake.
    with pytest.raises(ValueError, match="Unknown normalization. Expected None or 'ortho', got: foo"):
        tg.signal.inverse_mdct(tg.zeros([3, 4]), norm="foo")
