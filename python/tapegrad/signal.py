"""``tg.signal``: framing, windows, DCT/MDCT and mel-scale ops (the real-valued part of ``tf.signal``).

Every op that takes a signal is built from differentiable tapegrad ops (gather, pad, slices,
reshape, matmul), so its gradient comes from the tape, to any order. Windows and the mel weight
matrix have no differentiable input: they are computed in numpy in float64 and rounded to
``dtype`` once (TF computes them in ``dtype``; the two agree to that dtype's rounding).

The DCTs and the MDCT are one matmul with a cosine basis: ``O(N^2)`` work per signal where TF's
FFT takes ``O(N log N)``, exact to rounding and fast enough at the lengths these transforms are
used for (frames of up to a few thousand samples). The complex-valued half of ``tf.signal``
(``fft*``, ``ifft*``, ``rfft*``, ``irfft*``, ``stft``, ``inverse_stft``) needs complex dtypes,
which tapegrad does not have.
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable

import numpy as np

from . import _core, _fft
from ._core import InvalidArgumentError, matmul, reduce_sum, reshape
from ._dtypes import DType, as_dtype, float32, float64
from ._ops import constant, ones, zeros_like
from ._ops_shape import _shape, _t, gather, pad, roll, tile, where
from ._tensor import Tensor
from ._typing import DTypeLike, TensorLike

__all__ = [
    "dct",
    "fft",
    "fft2d",
    "fft3d",
    "fftnd",
    "fftshift",
    "frame",
    "hamming_window",
    "hann_window",
    "idct",
    "ifft",
    "ifft2d",
    "ifft3d",
    "ifftnd",
    "ifftshift",
    "inverse_mdct",
    "inverse_stft",
    "inverse_stft_window_fn",
    "irfft",
    "irfft2d",
    "irfft3d",
    "irfftnd",
    "kaiser_bessel_derived_window",
    "kaiser_window",
    "linear_to_mel_weight_matrix",
    "mdct",
    "mfccs_from_log_mel_spectrograms",
    "overlap_and_add",
    "rfft",
    "rfft2d",
    "rfft3d",
    "rfftnd",
    "stft",
    "vorbis_window",
]


# ---- argument checks in TF's words -------------------------------------------------------------


def _rank0(value: Any) -> Any:  # a 0-d numpy array (Any: callers turn it into int/bool)
    """``value`` as a 0-d numpy array; TF's ValueError when it is not a scalar."""
    a = np.asarray(value)
    if a.ndim != 0:
        raise ValueError(f"Shape {tuple(a.shape)} must have rank 0")
    return a


def _rank_at_least(x: Tensor, rank: int) -> tuple:
    shape = _shape(x)
    if len(shape) < rank:
        raise ValueError(f"Shape {shape} must have rank at least {rank}")
    return shape


def _int32(value: Any) -> int:
    """A scalar that TF converts to int32 (window lengths): Python/numpy ints and integer tensors."""
    a = np.asarray(value)
    if a.dtype.kind not in "iu":
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype int32")
    return int(_rank0(a))


def _range_error(start: Any, limit: Any) -> InvalidArgumentError:
    """TF's error for a negative length (its ops fail in ``tf.range``)."""
    return InvalidArgumentError(f"Requires start <= limit when delta > 0: {start:g}/{limit:g} [Op:Range]")


def _floating(dtype: DTypeLike, word: str = "Found") -> DType:
    d = as_dtype(dtype)
    if not d.is_floating:
        raise ValueError(f"dtype must be a floating point type. {word} {d}")
    return d


def _matmul_last(x: Tensor, basis: np.ndarray) -> Tensor:
    """``x[..., n] @ basis[n, k]`` for any rank of ``x`` (the matrix becomes a constant of x's dtype)."""
    shape = list(_shape(x))
    n, k = basis.shape
    batch = int(np.prod(shape[:-1], dtype=np.int64))
    y = matmul(reshape(x, [batch, n]), constant(basis, dtype=x.dtype))
    return reshape(y, shape[:-1] + [k])


# ---- framing -----------------------------------------------------------------------------------


def frame(
    signal: TensorLike,
    frame_length: Any,
    frame_step: Any,
    pad_end: bool = False,
    pad_value: Any = 0,
    axis: Any = -1,
    name: str | None = None,
) -> Tensor:
    """Expands `signal`'s `axis` dimension into ``[num_frames, frame_length]`` frames ``frame_step`` apart.

    ``num_frames = 1 + (N - frame_length) // frame_step`` (at least 0); with ``pad_end=True`` the
    end is padded with ``pad_value`` until the window has moved past it, giving
    ``-(-N // frame_step)`` frames. One gather with a ``[num_frames, frame_length]`` index matrix:
    its gradient scatters back and adds where frames overlap.

    >>> import tapegrad as tg
    >>> tg.signal.frame(tg.range(6), 3, 2).numpy().tolist()
    [[0, 1, 2], [2, 3, 4]]
    >>> tg.signal.frame(tg.range(6), 3, 2, pad_end=True, pad_value=-1).numpy().tolist()
    [[0, 1, 2], [2, 3, 4], [4, 5, -1]]
    """
    x = _t(signal)
    shape = _rank_at_least(x, 1)
    length, step, ax = _rank0(frame_length), _rank0(frame_step), _rank0(axis)
    for v in (length, step):
        if v.dtype.kind not in "iu":
            raise InvalidArgumentError(
                f"frame_length and frame_step must be integers, got {length.dtype} and {step.dtype} [Op:FloorDiv]"
            )
    if ax.dtype.kind not in "iu":
        raise TypeError(f"axis must be an integer, got {axis!r}")
    length, step, ax = int(length), int(step), int(ax)
    rank = len(shape)
    if not -rank <= ax < rank:
        raise IndexError("list index out of range")
    ax %= rank
    n = shape[ax]
    if step == 0:
        raise InvalidArgumentError("Integer division by zero [Op:FloorDiv]")
    if length < 0:
        raise _range_error(0, length // math.gcd(length, step))
    if pad_end:
        num_frames = -(-n // step)
        if num_frames < 0:
            raise _range_error(0, num_frames)
        value = np.asarray(pad_value)
        if x.dtype.is_integer and value.dtype.kind not in "iu":
            raise TypeError(f"Cannot convert {pad_value!r} to EagerTensor of dtype {x.dtype.name}")
        value = _rank0(value)
        extra = max(0, length + step * (num_frames - 1) - n)
        paddings = [[0, 0]] * rank
        paddings[ax] = [0, extra]
        x = pad(x, paddings, constant_values=value.item())
    else:
        num_frames = max(0, 1 + (n - length) // step)
    index = np.arange(num_frames, dtype=np.int64)[:, None] * step + np.arange(length, dtype=np.int64)
    return gather(x, index, axis=ax)


def overlap_and_add(signal: TensorLike, frame_step: Any, name: str | None = None) -> Tensor:
    """Adds the frames of a ``[..., frames, frame_length]`` signal, each ``frame_step`` after the last.

    The result has shape ``[..., (frames - 1) * frame_step + frame_length]``: the inverse of
    `frame` up to the sum where frames overlap. Built from pads, slices and one sum: with
    ``S = ceil(frame_length / frame_step)``, each frame is cut into S pieces of ``frame_step``
    samples, and piece s of frame f lands in output block ``f + s``.

    >>> import tapegrad as tg
    >>> tg.signal.overlap_and_add(tg.ones([3, 4]), 2).numpy().tolist()
    [1.0, 1.0, 2.0, 2.0, 2.0, 2.0, 1.0, 1.0]
    """
    x = _t(signal)
    shape = _rank_at_least(x, 2)
    step_t = _t(frame_step)
    _rank0(step_t)
    if not step_t.dtype.is_integer:
        raise ValueError(f"frame_step must be an integer. Got {step_t.dtype}")
    step = int(np.asarray(step_t))
    *outer, frames, length = shape
    outer = list(outer)
    out_len = length + step * (frames - 1)
    if step == length:
        return reshape(x, outer + [out_len])
    if step <= 0:
        raise InvalidArgumentError(f"frame_step must be positive, got {step} [Op:Pad]")
    segments = -(-length // step)
    keep = [[0, 0]] * len(outer)
    x = pad(x, keep + [[0, 0], [0, segments * step - length]])
    x = reshape(x, outer + [frames, segments, step])
    total: Any = None
    for s in range(segments):
        piece = pad(x[..., s, :], keep + [[s, segments - 1 - s], [0, 0]])  # frame f -> block f + s
        total = piece if total is None else total + piece
    total = reshape(total, outer + [(frames + segments - 1) * step])
    return total[..., : max(out_len, 0)]


# ---- windows -----------------------------------------------------------------------------------


def _window(values: np.ndarray, dtype: DType) -> Tensor:
    return constant(np.asarray(values, dtype=np.float64), dtype=dtype)


def _raised_cosine(window_length: Any, periodic: Any, dtype: DTypeLike, a: float, b: float) -> Tensor:
    d = _floating(dtype)
    n = _int32(window_length)
    if n == 1:
        return ones([1], dtype=d)
    pa = np.asarray(periodic)
    if pa.dtype.kind != "b":
        raise TypeError(f"Cannot convert {periodic!r} to EagerTensor of dtype bool")
    p = bool(_rank0(pa))
    if n < 0:
        raise _range_error(0, n)
    denom = n - 1 + (1 if p and n % 2 == 0 else 0)
    k = np.arange(n)
    return _window(a - b * np.cos(2.0 * np.pi * k / max(denom, 1)), d)


def hann_window(
    window_length: Any, periodic: Any = True, dtype: DTypeLike = float32, name: str | None = None
) -> Tensor:
    """A Hann window ``0.5 - 0.5 cos(2 pi k / M)``, ``M = N`` when periodic, ``N - 1`` when symmetric.

    (For odd N the periodic window equals the symmetric one, as in TF.)

    >>> import tapegrad as tg
    >>> tg.signal.hann_window(4).numpy().tolist()
    [0.0, 0.5, 1.0, 0.5]
    """
    return _raised_cosine(window_length, periodic, dtype, 0.5, 0.5)


def hamming_window(
    window_length: Any, periodic: Any = True, dtype: DTypeLike = float32, name: str | None = None
) -> Tensor:
    """A Hamming window ``0.54 - 0.46 cos(2 pi k / M)`` (``M`` as in `hann_window`)."""
    return _raised_cosine(window_length, periodic, dtype, 0.54, 0.46)


def _i0e(x: np.ndarray) -> np.ndarray:
    """The exponentially scaled modified Bessel function ``exp(-|x|) I0(x)`` in float64."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    out = np.empty_like(x)
    small = x <= 700.0  # np.i0 overflows past ~713; beyond, the asymptotic series is exact to rounding
    out[small] = np.i0(x[small]) * np.exp(-x[small])
    big = x[~small]
    term, total = np.ones_like(big), np.ones_like(big)
    for k in range(1, 8):
        term = term * (2 * k - 1) ** 2 / (k * 8.0 * big)
        total = total + term
    out[~small] = total / np.sqrt(2.0 * np.pi * big)
    return out


def _kaiser(n: int, beta: Any) -> np.ndarray:
    if n == 1:
        return np.ones(1)
    half = (n - 1) / 2.0
    if n <= 0:
        raise _range_error(-half, half + 0.1)
    beta = np.asarray(beta, dtype=np.float64)
    arg = np.arange(n) - half
    try:
        num = beta * np.sqrt(np.maximum(0.0, 1.0 - np.square(arg / half)))
    except ValueError:
        raise InvalidArgumentError(f"Incompatible shapes: {list(beta.shape)} vs. [{n}] [Op:Mul]") from None
    return np.exp(num - beta) * (_i0e(num) / _i0e(beta))


def kaiser_window(window_length: Any, beta: Any = 12.0, dtype: DTypeLike = float32, name: str | None = None) -> Tensor:
    """A Kaiser window ``I0(beta sqrt(1 - (2k/(N-1) - 1)^2)) / I0(beta)``.

    >>> import tapegrad as tg
    >>> tg.signal.kaiser_window(3, beta=0.0).numpy().tolist()
    [1.0, 1.0, 1.0]
    """
    d = _floating(dtype)
    return _window(_kaiser(_int32(window_length), beta), d)


def kaiser_bessel_derived_window(
    window_length: Any, beta: Any = 12.0, dtype: DTypeLike = float32, name: str | None = None
) -> Tensor:
    """A Kaiser-Bessel-derived window: the square root of a Kaiser window's normalized running sum, mirrored.

    It has ``2 * (window_length // 2)`` samples (TF's length for odd ``window_length``) and
    satisfies the Princen-Bradley condition, so `mdct` with it inverts exactly.
    """
    d = _floating(dtype)
    half = _int32(window_length) // 2
    csum = np.cumsum(_kaiser(half + 1, beta))
    rise = np.sqrt(csum[:-1] / csum[-1])
    return _window(np.concatenate([rise, rise[::-1]]), d)


def vorbis_window(window_length: Any, dtype: DTypeLike = float32, name: str | None = None) -> Tensor:
    """The Vorbis power-complementary window ``sin(pi/2 sin^2(pi (k + 1/2) / N))``."""
    d = _floating(dtype)
    n = _int32(window_length)
    if n < 0:
        raise _range_error(0, n)
    k = np.arange(n)
    return _window(np.sin(np.pi / 2.0 * np.square(np.sin(np.pi / max(n, 1) * (k + 0.5)))), d)


# ---- discrete cosine transforms ----------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _dct_basis(kind: int, n: int, ortho: bool) -> np.ndarray:
    """The cached, read-only `_cosine_basis`."""
    c = _cosine_basis(kind, n, ortho)
    c.flags.writeable = False
    return c


def _cosine_basis(kind: int, n: int, ortho: bool) -> np.ndarray:
    """``C[j, k]`` with ``dct(x)[k] = sum_j x[j] C[j, k]`` (scipy.fftpack's conventions), float64.

    Cosine arguments are reduced as integers (``cos(pi m / D)`` with ``m mod 2D``) so that large
    sizes lose no accuracy to the argument.
    """
    j = np.arange(n)[:, None]
    k = np.arange(n)[None, :]

    def cos(m, d):
        return np.cos(np.pi * (m % (2 * d)) / d)

    if kind == 1:
        if n == 1:
            return np.ones((1, 1))
        c = 2.0 * cos(j * k, n - 1)  # x[0] and x[N-1] count once: y[k] = x0 + (-1)^k x_{N-1} + 2 sum ...
        c[0] *= 0.5
        c[-1] *= 0.5
        return c
    if kind == 2:
        c = 2.0 * cos(k * (2 * j + 1), 2 * n)
        if ortho:
            c[:, :1] *= math.sqrt(1.0 / (4 * n))
            c[:, 1:] *= math.sqrt(1.0 / (2 * n))
        return c
    if kind == 3:
        c = 2.0 * cos(j * (2 * k + 1), 2 * n)
        c[:1] *= 0.5
        if ortho:
            c[:1] *= math.sqrt(1.0 / n)
            c[1:] *= math.sqrt(1.0 / (2 * n))
        return c
    c = 2.0 * cos((2 * j + 1) * (2 * k + 1), 4 * n)
    return c * math.sqrt(1.0 / (2 * n)) if ortho else c


def _validate_dct(x: Tensor, kind: Any, n: Any, axis: Any, norm: Any) -> Any:
    """TF's checks, in TF's order; returns ``n`` as a Python int (or None)."""
    if axis != -1:
        raise NotImplementedError(f"axis must be -1. Got: {axis}")
    if n is not None:
        if isinstance(n, (Tensor, _core.Variable, np.ndarray, np.generic)):
            n = _rank0(n).item()
        if n < 1:
            raise ValueError("n should be a positive integer or None")
        if not isinstance(n, numbers.Integral) or isinstance(n, bool):
            raise TypeError(
                "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                f"tf.int32/tf.int64 tensors are valid indices, got {n!r}"
            )
        n = int(n)
    if kind not in (1, 2, 3, 4):
        raise ValueError("Types I, II, III and IV (I)DCT are supported.")
    if kind == 1:
        if norm == "ortho":
            raise ValueError("Normalization is not supported for the Type-I DCT.")
        if _shape(x)[-1] < 2:
            raise ValueError("Type-I DCT requires the dimension to be greater than one.")
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    return n


def _check_dct_dtype(x: Tensor, kind: int) -> None:
    """TF's DCTs go through an FFT: float32 and float64 only, with the errors TF's path raises."""
    d = x.dtype
    if d in (float32, float64):
        return
    if not d.is_floating:
        raise TypeError(f"Cannot convert 0.0 to EagerTensor of dtype {d.name}")
    if kind == 1:
        raise ValueError(f"RFFT requires tf.float32 or tf.float64 inputs, got: {x}")
    raise TypeError(
        f"The `real` and `imag` components have incorrect types: {d.name} {d.name}. "
        "They must be consistent, and one of [tf.float32, tf.float64]"
    )


def _dct(x: Tensor, kind: int, n: int | None, norm: str | None) -> Tensor:
    _check_dct_dtype(x, kind)
    size = _shape(x)[-1]
    if n is not None and n < size:
        x = x[..., :n]
    elif n is not None and n > size:
        x = pad(x, [[0, 0]] * (len(_shape(x)) - 1) + [[0, n - size]])
    return _matmul_last(x, _dct_basis(kind, _shape(x)[-1], norm == "ortho"))


def dct(
    input: TensorLike,
    type: int = 2,
    n: int | None = None,
    axis: int = -1,
    norm: str | None = None,
    name: str | None = None,
) -> Tensor:
    """The DCT of types I-IV along the last axis, as ``scipy.fftpack.dct`` defines them.

    ``n`` truncates or zero-pads the last axis first; ``norm='ortho'`` makes types II-IV
    orthonormal (type I has no normalization). Computed as one matmul with the ``[n, n]`` cosine
    basis (exact to rounding; ``O(n^2)``, fine for the frame-sized lengths DCTs are used on).
    Only ``axis=-1`` is supported (as in TF), for float32/float64 input.

    >>> import tapegrad as tg
    >>> tg.signal.dct([1.0, 2.0, 3.0, 4.0], type=4, norm="ortho").numpy().round(3)
    array([ 3.6  , -3.34 ,  1.771, -1.658], dtype=float32)
    """
    x = _t(input)
    n = _validate_dct(x, type, n, axis, norm)
    return _dct(x, type, n, norm)


def idct(
    input: TensorLike,
    type: int = 2,
    n: int | None = None,
    axis: int = -1,
    norm: str | None = None,
    name: str | None = None,
) -> Tensor:
    """The inverse DCT: a DCT of type III for type II and vice versa; types I and IV invert themselves.

    Without normalization the round trip scales by ``2 N`` (``2 (N - 1)`` for type I):
    ``x == idct(dct(x)) / (2 * N)``; with ``norm='ortho'``, ``x == idct(dct(x, norm='ortho'), norm='ortho')``.

    >>> import tapegrad as tg
    >>> x = tg.constant([1.0, 2.0, 3.0])
    >>> (tg.signal.idct(tg.signal.dct(x)) / 6.0).numpy().round(5).tolist()
    [1.0, 2.0, 3.0]
    """
    x = _t(input)
    n = _validate_dct(x, type, n, axis, norm)
    return _dct(x, {1: 1, 2: 3, 3: 2, 4: 4}[type], n, norm)


@functools.lru_cache(maxsize=8)
def _mdct_basis(half: int, scale: float) -> np.ndarray:
    """``scale * cos(pi/N (j + 1/2 + N/2)(k + 1/2))`` for ``j < 2N``, ``k < N`` (``N = half``), float64."""
    j = np.arange(2 * half)[:, None]
    k = np.arange(half)[None, :]
    m = (2 * j + 1 + half) * (2 * k + 1) % (8 * half)
    c = scale * np.cos(np.pi * m / (4 * half))
    c.flags.writeable = False  # shared through the cache
    return c


def mdct(
    signals: TensorLike,
    frame_length: Any,
    window_fn: Callable[..., Tensor] | None = vorbis_window,
    pad_end: bool = False,
    norm: str | None = None,
    name: str | None = None,
) -> Tensor:
    """The modified DCT of ``frame_length``-sample frames ``frame_length // 2`` apart.

    Returns ``[..., frames, frame_length // 2]``: ``X[k] = c sum_j w[j] x[j] cos(pi/N (j + 1/2 +
    N/2)(k + 1/2))`` with ``N = frame_length // 2``, ``c = 2`` (``sqrt(2/N)`` with
    ``norm='ortho'``), the window ``w = window_fn(frame_length, dtype=...)`` or ``1/sqrt(2)`` when
    ``window_fn`` is None. `frame`, then one matmul with the ``[frame_length, N]`` basis.
    ``frame_length`` must be a multiple of 4.
    """
    x = _t(signals)
    _rank_at_least(x, 1)
    length = _rank0(frame_length)
    if length.dtype.kind not in "iu":
        raise ValueError(f"frame_length must be an integer type. Got: {_t(frame_length).dtype}")
    length = int(length)
    if length % 4 != 0:
        raise ValueError("The frame length must be a multiple of 4.")
    frames = frame(x, length, length // 2, pad_end=pad_end)
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=frames.dtype)
    else:
        frames = frames * (1.0 / np.sqrt(2.0))
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    _check_dct_dtype(frames, 4)
    half = length // 2
    return _matmul_last(frames, _mdct_basis(half, 2.0 if norm is None else math.sqrt(2.0 / half)))


def inverse_mdct(
    mdcts: TensorLike,
    window_fn: Callable[..., Tensor] | None = vorbis_window,
    norm: str | None = None,
    name: str | None = None,
) -> Tensor:
    """The inverse of `mdct`: ``[..., frames, N]`` coefficients to ``[..., (frames + 1) * N]`` samples.

    Each frame is ``c sum_k X[k] cos(pi/N (j + 1/2 + N/2)(k + 1/2))`` for ``j < 2N`` (``c = 1/N``,
    or ``sqrt(2/N)`` with ``norm='ortho'``), windowed by ``window_fn(2 N, dtype=...)`` (``1/sqrt(2)``
    when None), then `overlap_and_add` with step N. With the window `mdct` used (vorbis or
    Kaiser-Bessel-derived), interior samples come back exactly.

    >>> import tapegrad as tg
    >>> x = tg.random.normal([64], seed=1)
    >>> y = tg.signal.inverse_mdct(tg.signal.mdct(x, 16))
    >>> bool(abs(y[8:56] - x[8:56]).numpy().max() < 1e-5)
    True
    """
    x = _t(mdcts)
    shape = _rank_at_least(x, 2)
    if norm not in (None, "ortho"):
        raise ValueError(f"Unknown normalization. Expected None or 'ortho', got: {norm}")
    _check_dct_dtype(x, 4)
    half = shape[-1]
    if half % 2:
        raise InvalidArgumentError(
            "Number of ways to split should evenly divide the split dimension, but got split_dim "
            f"{len(shape) - 1} (size = {half}) and num_split 2 [Op:Split]"
        )
    scale = 1.0 / half if norm is None else math.sqrt(2.0 / half)
    frames = _matmul_last(x, np.ascontiguousarray(_mdct_basis(half, scale).T))
    if window_fn is not None:
        frames = frames * window_fn(2 * half, dtype=x.dtype)
    else:
        frames = frames * (1.0 / np.sqrt(2.0))
    return overlap_and_add(frames, half)


# ---- mel scale ---------------------------------------------------------------------------------


def _hertz_to_mel(hertz: Any) -> np.ndarray:
    """HTK's mel scale: ``1127 ln(1 + f / 700)``."""
    return 1127.0 * np.log1p(np.asarray(hertz, dtype=np.float64) / 700.0)


def linear_to_mel_weight_matrix(
    num_mel_bins: int = 20,
    num_spectrogram_bins: Any = 129,
    sample_rate: Any = 8000,
    lower_edge_hertz: float = 125.0,
    upper_edge_hertz: float = 3800.0,
    dtype: DTypeLike = float32,
    name: str | None = None,
) -> Tensor:
    """A ``[num_spectrogram_bins, num_mel_bins]`` matrix of triangular mel filters (HTK's mel scale).

    Spectrogram bins are ``num_spectrogram_bins`` frequencies spaced evenly over
    ``[0, sample_rate / 2]``; band ``m`` rises linearly in mel from edge ``m`` to a peak of 1 at
    edge ``m + 1`` and falls to 0 at edge ``m + 2``, the ``num_mel_bins + 2`` edges spaced evenly in
    mel over ``[lower_edge_hertz, upper_edge_hertz]``. The DC bin (row 0) is zero. Right-multiply
    a ``[..., num_spectrogram_bins]`` spectrogram by it (`tapegrad.tensordot` with axes 1).

    >>> import tapegrad as tg
    >>> m = tg.signal.linear_to_mel_weight_matrix(4, 33, 8000, 100.0, 4000.0)
    >>> m.shape.as_list(), float(tg.reduce_max(m)) <= 1.0
    ([33, 4], True)
    """
    if isinstance(sample_rate, (Tensor, _core.Variable)):
        sample_rate = _rank0(sample_rate)[()]
    if num_mel_bins <= 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {num_mel_bins}")
    if lower_edge_hertz < 0.0:
        raise ValueError(f"lower_edge_hertz must be non-negative. Got: {lower_edge_hertz}")
    if lower_edge_hertz >= upper_edge_hertz:
        raise ValueError(f"lower_edge_hertz {lower_edge_hertz:.1f} >= upper_edge_hertz {upper_edge_hertz:.1f}")
    if sample_rate <= 0.0:
        raise ValueError(f"sample_rate must be positive. Got: {sample_rate}")
    if upper_edge_hertz > sample_rate / 2:
        raise ValueError(
            "upper_edge_hertz must not be larger than the Nyquist frequency (sample_rate / 2). "
            f"Got {upper_edge_hertz} for sample_rate: {sample_rate}"
        )
    d = _floating(dtype, "Got:")
    bins = _rank0(num_spectrogram_bins)
    for v in (bins, np.asarray(num_mel_bins)):
        if v.dtype.kind not in "iu":
            raise TypeError(f"Argument `tensor` (name: num) must be of type integer. Received `tensor` = {v}")
    bins = int(bins)
    if bins < 0:
        raise InvalidArgumentError(f"num_spectrogram_bins must be non-negative, got {bins} [Op:LinSpace]")
    spectrogram_mel = _hertz_to_mel(np.linspace(0.0, float(sample_rate) / 2.0, bins)[1:])[:, None]
    edges = np.linspace(_hertz_to_mel(lower_edge_hertz), _hertz_to_mel(upper_edge_hertz), int(num_mel_bins) + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    rising = (spectrogram_mel - lower) / (center - lower)
    falling = (upper - spectrogram_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return _window(np.concatenate([np.zeros((1, int(num_mel_bins))), weights]), d)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms: TensorLike, name: str | None = None) -> Tensor:
    """MFCCs of ``[..., num_mel_bins]`` log-mel spectrograms: HTK's DCT-II, ``dct(x) / sqrt(2 num_mel_bins)``.

    (HTK scales every coefficient by ``sqrt(2/N)``, unlike the orthonormal DCT's ``sqrt(1/N)``
    for coefficient 0.) Keep the first dozen or so for speech.
    """
    x = _t(log_mel_spectrograms)
    shape = _shape(x)
    if not shape:
        raise InvalidArgumentError("slice index -1 of dimension 0 out of bounds. [Op:StridedSlice]")
    if shape[-1] == 0:
        raise ValueError(f"num_mel_bins must be positive. Got: {x!s}")
    return dct(x, type=2) * (1.0 / math.sqrt(2.0 * shape[-1]))


# ---- spectrum helpers --------------------------------------------------------------------------


def _shift(x: TensorLike, axes: Any, sign: int) -> Tensor:
    x = _t(x)
    shape = _shape(x)
    rank = len(shape)
    if axes is None:
        if rank == 0:
            raise InvalidArgumentError(
                "Value for attr 'Taxis' of float is not in the list of allowed values: int32, int64 [Op:Roll]"
            )
        axes = list(range(rank))
    elif np.ndim(axes) == 0:
        a = int(_rank0(axes))
        if not -rank <= a < rank:
            raise InvalidArgumentError(f"slice index {a} of dimension 0 out of bounds. [Op:StridedSlice]")
        axes = [a % rank]
    else:
        given = [int(a) for a in np.asarray(axes).reshape(-1)]
        axes = [a + rank if a < 0 else a for a in given]
        for i, a in enumerate(axes):
            if not 0 <= a < rank:
                raise InvalidArgumentError(f"indices[{i}] = {a} is not in [0, {rank}) [Op:GatherV2]")
    return roll(x, [sign * (shape[a] // 2) for a in axes], axes)


def fftshift(x: TensorLike, axes: Any = None, name: str | None = None) -> Tensor:
    """Rolls each axis in `axes` (default: all) by ``n // 2``, moving frequency 0 to the centre (numpy's fftshift).

    >>> import tapegrad as tg
    >>> tg.signal.fftshift([0, 1, 2, 3, 4, -5, -4, -3, -2, -1]).numpy().tolist()
    [-5, -4, -3, -2, -1, 0, 1, 2, 3, 4]
    """
    return _shift(x, axes, 1)


def ifftshift(x: TensorLike, axes: Any = None, name: str | None = None) -> Tensor:
    """The inverse of `fftshift`: rolls by ``-(n // 2)`` (the two differ for odd lengths).

    >>> import tapegrad as tg
    >>> tg.signal.ifftshift([[0, 1, 2], [3, 4, -4], [-3, -2, -1]]).numpy().tolist()
    [[4, -4, 3], [-2, -1, -3], [1, 2, 0]]
    """
    return _shift(x, axes, -1)


def inverse_stft_window_fn(
    frame_step: Any, forward_window_fn: Callable[..., Tensor] = hann_window, name: str | None = None
) -> Callable[..., Tensor]:
    """A window function for ``inverse_stft`` that undoes ``forward_window_fn``'s analysis window.

    The returned ``fn(frame_length, dtype)`` gives ``w / d`` with ``w = forward_window_fn(frame_length,
    dtype=dtype)`` and ``d[j] = sum_i w[j + i * frame_step]^2`` over the frames overlapping sample
    ``j`` (Griffin and Lim's equation 7), and 0 where ``d`` is 0.

    >>> import tapegrad as tg
    >>> tg.signal.inverse_stft_window_fn(2)(4, dtype=tg.float32).numpy().tolist()
    [0.0, 1.0, 1.0, 1.0]
    """

    def inverse_stft_window_fn_inner(frame_length: Any, dtype: DTypeLike) -> Tensor:
        step = _rank0(frame_step)
        length = _rank0(frame_length)
        for v in (step, length):
            if v.dtype.kind not in "iu":
                raise InvalidArgumentError(f"frame_length and frame_step must be integers, got {v.dtype} [Op:FloorDiv]")
        step, length = int(step), int(length)
        window = forward_window_fn(length, dtype=dtype)
        if step == 0:
            raise InvalidArgumentError("Integer division by zero [Op:FloorDiv]")
        overlaps = -(-length // step)
        power = pad(window * window, [[0, overlaps * step - length]])
        per_phase = reduce_sum(reshape(power, [overlaps, step]), axis=0)
        denom = tile(per_phase, [overlaps])[:length]
        return where(_core.equal(denom, 0.0), zeros_like(window), window / denom)

    return inverse_stft_window_fn_inner


# ---- complex-valued: the FFTs (python/tapegrad/_fft.py) and the STFT ------------------------------


def _default_fft_length(frame_length: int) -> int:
    """TF's default: the smallest power of 2 enclosing frame_length."""
    return 1 << max(0, (int(frame_length) - 1).bit_length())


def stft(
    signals: TensorLike,
    frame_length: Any,
    frame_step: Any,
    fft_length: Any = None,
    window_fn: Callable[..., Tensor] | None = hann_window,
    pad_end: bool = False,
    name: str | None = None,
) -> Tensor:
    """The short-time Fourier transform of real ``signals`` ``[..., samples]``: frames (``frame``),
    times ``window_fn(frame_length)``, each ``rfft``-ed to ``fft_length // 2 + 1`` bins (default
    ``fft_length``: the smallest power of 2 >= frame_length). Returns ``[..., frames, bins]``.

    >>> import tapegrad as tg
    >>> tg.signal.stft(tg.ones([8]), frame_length=4, frame_step=2).shape
    TensorShape([3, 3])
    """
    x = _t(signals)
    if not (x.dtype.is_floating):
        raise ValueError(f"signals must be a float tensor, got {x.dtype.name}")
    length = int(_rank0(frame_length))
    n = _default_fft_length(length) if fft_length is None else int(_rank0(fft_length))
    framed = frame(x, length, frame_step, pad_end=pad_end)
    if window_fn is not None:
        framed = framed * window_fn(length, dtype=framed.dtype)
    return _fft.rfft(framed, [n])


def inverse_stft(
    stfts: TensorLike,
    frame_length: Any,
    frame_step: Any,
    fft_length: Any = None,
    window_fn: Callable[..., Tensor] | None = hann_window,
    name: str | None = None,
) -> Tensor:
    """The inverse of ``stft``: each frame ``irfft``-ed to ``fft_length`` samples, cut or padded to
    ``frame_length``, times ``window_fn(frame_length)``, then overlapped and added ``frame_step``
    apart. For perfect reconstruction pass ``window_fn=inverse_stft_window_fn(frame_step)``.

    >>> import tapegrad as tg
    >>> x = tg.random.normal([64], seed=1)
    >>> y = tg.signal.inverse_stft(tg.signal.stft(x, 16, 4), 16, 4,
    ...                            window_fn=tg.signal.inverse_stft_window_fn(4))
    >>> bool(tg.reduce_max(tg.abs(y[12:52] - x[12:52])) < 1e-5)
    True
    """
    z = _t(stfts)
    if not z.dtype.is_complex:
        raise ValueError(f"stfts must be a complex tensor, got {z.dtype.name}")
    length = int(_rank0(frame_length))
    n = _default_fft_length(length) if fft_length is None else int(_rank0(fft_length))
    frames = _fft.irfft(z, [n])
    if n > length:
        frames = frames[..., :length]
    elif n < length:
        frames = pad(frames, [[0, 0]] * (frames.ndim - 1) + [[0, length - n]])
    if window_fn is not None:
        frames = frames * window_fn(length, dtype=frames.dtype)
    return overlap_and_add(frames, frame_step)


fft = _fft.fft
ifft = _fft.ifft
fft2d = _fft.fft2d
ifft2d = _fft.ifft2d
fft3d = _fft.fft3d
ifft3d = _fft.ifft3d
fftnd = _fft.fftnd
ifftnd = _fft.ifftnd
rfft = _fft.rfft
irfft = _fft.irfft
rfft2d = _fft.rfft2d
irfft2d = _fft.irfft2d
rfft3d = _fft.rfft3d
irfft3d = _fft.irfft3d
rfftnd = _fft.rfftnd
irfftnd = _fft.irfftnd
