"""TF's FFT ops (``tf.signal.fft`` ... ``irfftnd``) on complex tensors (Note [Complex dtypes]).

The transforms run numpy's pocketfft on the tensor's buffer; their gradients are TF's, written
with these same transforms so that higher orders work: the adjoint of an FFT over N points is
N times the inverse FFT, an RFFT's gradient is the real part of the adjoint of the half-spectrum
map, and an IRFFT's is the RFFT of the upstream gradient weighted by 2 on the terms that stand for
two conjugate frequencies (TF's _RFFTGradHelper / _IRFFTGradHelper give the same numbers).
``fft_length`` crops or zero-pads the inner dimensions with differentiable slicing and padding
before the transform, as TF does.
"""

import numpy as np

from . import _core
from ._custom_gradient import custom_gradient
from ._dtypes import complex64, complex128, float32, float64
from ._ops import cast, convert_to_tensor, zeros_like
from ._ops_math import _attr_t_error
from ._ops_shape import pad as _pad
from ._ops_shape import slice as _slice
from ._tensor import Tensor

__all__ = [
    "fft",
    "ifft",
    "fft2d",
    "ifft2d",
    "fft3d",
    "ifft3d",
    "fftnd",
    "ifftnd",
    "rfft",
    "irfft",
    "rfft2d",
    "irfft2d",
    "rfft3d",
    "irfft3d",
    "rfftnd",
    "irfftnd",
]

_COMPLEX_OF = {"float32": complex64, "float64": complex128}


def _complex_input(x, op):
    x = convert_to_tensor(x)
    if not x.dtype.is_complex:
        raise _attr_t_error(x.dtype, "complex64, complex128", op, attr="Tcomplex")
    return x


def _real_input(x, op):
    x = convert_to_tensor(x)
    if x.dtype not in (float32, float64):
        raise _attr_t_error(x.dtype, "float, double", op, attr="Treal")
    return x


def _check_rank(x, k, op):
    if x.ndim < k:
        raise ValueError(f"Shape must be at least rank {k} but is rank {x.ndim} for '{{{{node {op}}}}} = {op}[]'")


def _axes(ndim, k):
    return tuple(range(ndim - k, ndim))


def _as_tensor(a, dtype):
    return convert_to_tensor(np.ascontiguousarray(a).astype(dtype.as_numpy_dtype, copy=False))


def _weights(n, m, dtype):
    """The half-spectrum weights: 1 for DC (and Nyquist when n is even), 2 for the others."""
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0 and m > n // 2:
        w[n // 2] = 1.0
    return convert_to_tensor(w.astype(dtype.real_dtype.as_numpy_dtype))


def _c2c(x, axes, inverse):
    """The complex FFT (or inverse) over `axes`, with TF's gradient (the adjoint)."""

    @custom_gradient
    def op(t):
        a = t.numpy()
        r = np.fft.ifftn(a, axes=axes) if inverse else np.fft.fftn(a, axes=axes)
        n = 1
        for ax in axes:
            n *= t.shape[ax]

        def grad(g):
            # fft's adjoint is n * ifft; ifft's is fft / n
            back = _c2c(g, axes, not inverse)
            scale = (1.0 / n) if inverse else float(n)
            return _core.multiply(back, cast(scale, back.dtype))

        return _as_tensor(r, t.dtype), grad

    return op(x)


def _r2c(x, axes):
    """The RFFT over `axes` (exact lengths: the input's)."""
    cdt = _COMPLEX_OF[x.dtype.name]
    n_last = x.shape[axes[-1]]

    @custom_gradient
    def op(t):
        r = np.fft.rfftn(t.numpy(), axes=axes)

        def grad(g):
            # real(A^H g): zero-pad the half spectrum to n_last, then N * ifftn, real part
            m = g.shape[axes[-1]]
            pad = [[0, 0]] * g.ndim
            pad[axes[-1]] = [0, n_last - m]
            full = _pad(g, pad) if n_last > m else g
            n = 1
            for ax in axes:
                n *= t.shape[ax]
            back = _c2c(full, axes, True)
            return _core.multiply(_core.real(back), cast(float(n), t.dtype))

        return _as_tensor(r, cdt), grad

    return op(x)


def _c2r(z, axes, n_last):
    """The IRFFT over `axes`: the last axis's output length is n_last, its input n_last // 2 + 1."""
    rdt = z.dtype.real_dtype

    @custom_gradient
    def op(t):
        r = np.fft.irfftn(t.numpy(), s=[t.shape[a] for a in axes[:-1]] + [n_last], axes=axes)

        def grad(g):
            n = n_last
            for ax in axes[:-1]:
                n *= t.shape[ax]
            spec = _r2c(g, axes)
            shape = [1] * spec.ndim
            shape[axes[-1]] = spec.shape[axes[-1]]
            w = _core.reshape(_weights(n_last, spec.shape[axes[-1]], t.dtype), shape)
            scaled = _core.multiply(spec, _core.complex(_core.multiply(w, 1.0 / n), zeros_like(w)))
            return scaled

        return _as_tensor(r, rdt), grad

    return op(z)


def _fit(x, axes, lengths):
    """x cropped or zero-padded along `axes` to `lengths` (differentiable)."""
    shape = list(x.shape)
    begin = [0] * x.ndim
    size = list(shape)
    pad = [[0, 0] for _ in range(x.ndim)]
    for ax, n in zip(axes, lengths):
        n = int(n)
        if n < 0:
            raise ValueError(f"fft_length must be non-negative, got {list(lengths)}")
        if shape[ax] > n:
            size[ax] = n
        elif shape[ax] < n:
            pad[ax] = [0, n - shape[ax]]
    if size != shape:
        x = _slice(x, begin, size)
    if any(p[1] for p in pad):
        x = _pad(x, pad)
    return x


def _lengths(fft_length, k, op):
    if fft_length is None:
        return None
    n = np.asarray(fft_length.numpy() if isinstance(fft_length, Tensor) else fft_length).reshape(-1)
    if n.shape[0] != k:
        raise ValueError(f"fft_length must have {k} element(s), got {n.shape[0]} [Op:{op}]")
    return [int(v) for v in n]


# ---- complex to complex -----------------------------------------------------------------------


def _make_c2c(k, inverse, op_name):
    def f(input, name=None):  # noqa: A002  (TF's argument name)
        x = _complex_input(input, op_name)
        _check_rank(x, k, op_name)
        return _c2c(x, _axes(x.ndim, k), inverse)

    f.__name__ = op_name.lower()
    kind = "inverse " if inverse else ""
    f.__doc__ = (
        f"The {kind}{k}-D discrete Fourier transform over the inner-most {k} dimension(s) (``tf.signal.{f.__name__}``)."
    )
    return f


fft = _make_c2c(1, False, "FFT")
ifft = _make_c2c(1, True, "IFFT")
fft2d = _make_c2c(2, False, "FFT2D")
ifft2d = _make_c2c(2, True, "IFFT2D")
fft3d = _make_c2c(3, False, "FFT3D")
ifft3d = _make_c2c(3, True, "IFFT3D")


# ---- real to complex and back -------------------------------------------------------------------


def _make_r2c(k, op_name):
    def f(input_tensor, fft_length=None, name=None):
        x = _real_input(input_tensor, op_name)
        _check_rank(x, k, op_name)
        axes = _axes(x.ndim, k)
        n = _lengths(fft_length, k, op_name)
        if n is not None:
            x = _fit(x, axes, n)
        return _r2c(x, axes)

    f.__name__ = op_name.lower()
    f.__doc__ = (
        f"The {k}-D FFT of a real signal over its inner-most {k} dimension(s): the non-negative frequencies "
        f"(``fft_length[-1] // 2 + 1`` of the last axis) (``tf.signal.{f.__name__}``)."
    )
    return f


def _make_c2r(k, op_name):
    def f(input_tensor, fft_length=None, name=None):
        z = _complex_input(input_tensor, op_name)
        _check_rank(z, k, op_name)
        axes = _axes(z.ndim, k)
        n = _lengths(fft_length, k, op_name)
        if n is None:
            n = [z.shape[a] for a in axes[:-1]] + [2 * (z.shape[axes[-1]] - 1)]
        z = _fit(z, axes, n[:-1] + [n[-1] // 2 + 1])
        return _c2r(z, axes, n[-1])

    f.__name__ = op_name.lower()
    f.__doc__ = (
        f"The inverse of ``rfft`` over the inner-most {k} dimension(s): a real signal of ``fft_length`` points "
        f"(default ``2 * (n - 1)`` on the last axis) (``tf.signal.{f.__name__}``)."
    )
    return f


rfft = _make_r2c(1, "RFFT")
rfft2d = _make_r2c(2, "RFFT2D")
rfft3d = _make_r2c(3, "RFFT3D")
irfft = _make_c2r(1, "IRFFT")
irfft2d = _make_c2r(2, "IRFFT2D")
irfft3d = _make_c2r(3, "IRFFT3D")


# ---- N-d (TF 2.16+: fft_length, axes, norm) -------------------------------------------------------


def _nd_axes(x, fft_length, axes, op):
    if axes is None:
        k = x.ndim if fft_length is None else len(_lengths(fft_length, len(np.asarray(fft_length).reshape(-1)), op))
        axes = list(range(x.ndim - k, x.ndim))
    axes = [int(a) + x.ndim if int(a) < 0 else int(a) for a in np.asarray(axes).reshape(-1)]
    if sorted(axes) != axes or len(set(axes)) != len(axes) or any(a < 0 or a >= x.ndim for a in axes):
        raise ValueError(f"axes must be distinct, increasing and within rank {x.ndim}, got {axes} [Op:{op}]")
    return tuple(axes)


def _norm_scale(norm, n, inverse, op):
    if norm in (None, "backward"):
        return None
    if norm == "ortho":
        return (n**0.5) if inverse else (1.0 / n**0.5)
    if norm == "forward":
        return float(n) if inverse else 1.0 / n
    raise ValueError(f"norm must be one of None, 'backward', 'ortho', 'forward', got {norm!r} [Op:{op}]")


def _scaled(y, s):
    return y if s is None else _core.multiply(y, cast(s, y.dtype))


def _make_nd(kind, op_name):
    def f(input_tensor, fft_length=None, axes=None, norm=None, name=None):
        x = _real_input(input_tensor, op_name) if kind == "rfft" else _complex_input(input_tensor, op_name)
        axes_ = _nd_axes(x, fft_length, axes, op_name)
        n = _lengths(fft_length, len(axes_), op_name)
        if kind in ("fft", "ifft", "rfft"):
            if n is not None:
                x = _fit(x, axes_, n)
            total = int(np.prod([x.shape[a] for a in axes_]))
            y = _r2c(x, axes_) if kind == "rfft" else _c2c(x, axes_, kind == "ifft")
            return _scaled(y, _norm_scale(norm, total, kind == "ifft", op_name))
        if n is None:
            n = [x.shape[a] for a in axes_[:-1]] + [2 * (x.shape[axes_[-1]] - 1)]
        x = _fit(x, axes_, n[:-1] + [n[-1] // 2 + 1])
        y = _c2r(x, axes_, n[-1])
        return _scaled(y, _norm_scale(norm, int(np.prod(n)), True, op_name))

    f.__name__ = op_name.lower()
    f.__doc__ = f"``tf.signal.{f.__name__}``: the N-d transform over ``axes`` (default: the inner-most ones)."
    return f


fftnd = _make_nd("fft", "FFTND")
ifftnd = _make_nd("ifft", "IFFTND")
rfftnd = _make_nd("rfft", "RFFTND")
irfftnd = _make_nd("irfft", "IRFFTND")
