"""``keras.ops.linalg``: norms, decompositions and solves (``keras/src/ops/linalg.py``)."""

import numpy as _np

from ... import linalg as _linalg
from .core import _float_t, _ops

__all__ = [
    "cholesky",
    "det",
    "eigh",
    "inv",
    "logdet",
    "lstsq",
    "norm",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
    "pinv",
    "cholesky_inverse",
    "matrix_rank",
]


def cholesky(x, upper=False):
    """The lower (or ``upper``) Cholesky factor."""
    out = _linalg.cholesky(_float_t(x))
    return _linalg.adjoint(out) if upper else out


def cholesky_inverse(x, upper=False):
    """``inv(L L^T)`` from the Cholesky factor ``x``."""
    x = _float_t(x)
    low = _linalg.adjoint(x) if upper else x
    n = x.shape.as_list()[-1]
    return _linalg.cholesky_solve(low, _ops.broadcast_to(_ops.eye(n, dtype=x.dtype.name), x.shape.as_list()))


def det(x):
    """Determinant."""
    return _linalg.det(_float_t(x))


def eigh(x):
    """``(eigenvalues, eigenvectors)`` of a symmetric matrix."""
    return _linalg.eigh(_float_t(x))


def inv(x):
    """Matrix inverse."""
    return _linalg.inv(_float_t(x))


def logdet(x):
    """``log(det(x))`` of a positive-definite matrix."""
    return _linalg.logdet(_float_t(x))


def slogdet(x):
    """``(sign, log|det|)``."""
    return _linalg.slogdet(_float_t(x))


def lstsq(a, b, rcond=None):
    """Least-squares solution of ``a x = b``."""
    a, b = _float_t(a), _float_t(b)
    vec = len(b.shape.as_list()) == 1
    out = _linalg.lstsq(a, _ops.expand_dims(b, -1) if vec else b)
    return _ops.squeeze(out, axis=[-1]) if vec else out


def pinv(x, rcond=1e-15):
    """Moore-Penrose pseudo-inverse."""
    return _linalg.pinv(_float_t(x))


def matrix_rank(x, tol=None):
    """The rank from the singular values (numpy's tolerance rule)."""
    return _ops.constant(_np.linalg.matrix_rank(_float_t(x).numpy(), tol=tol).astype("int32"))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norm (``ord`` in 1, 2, inf, ...) or matrix norm (``"fro"``, 1, inf, ``"nuc"``) as numpy."""
    x = _float_t(x)
    nd = len(x.shape.as_list())
    if axis is None:
        axis = tuple(range(nd))
        if nd > 2 and ord is None:
            return _ops.sqrt(_ops.reduce_sum(_ops.square(x), axis=list(axis), keepdims=keepdims))
    if isinstance(axis, int):
        axis = (axis,)
    axis = tuple(a + nd if a < 0 else a for a in axis)
    if len(axis) == 1:
        a = list(axis)
        if ord is None or ord == 2:
            return _ops.sqrt(_ops.reduce_sum(_ops.square(x), axis=a, keepdims=keepdims))
        if ord == _np.inf:
            return _ops.reduce_max(_ops.abs(x), axis=a, keepdims=keepdims)
        if ord == -_np.inf:
            return _ops.reduce_min(_ops.abs(x), axis=a, keepdims=keepdims)
        if ord == 0:
            return _ops.reduce_sum(_ops.cast(_ops.not_equal(x, 0), x.dtype.name), axis=a, keepdims=keepdims)
        if ord == 1:
            return _ops.reduce_sum(_ops.abs(x), axis=a, keepdims=keepdims)
        if isinstance(ord, str):
            raise ValueError(f"Invalid `ord` argument for vector norm. Received: ord={ord}")
        p = _ops.constant(float(ord), dtype=x.dtype)
        return _ops.pow(_ops.reduce_sum(_ops.pow(_ops.abs(x), p), axis=a, keepdims=keepdims), 1.0 / p)
    if len(axis) == 2:
        r, c = axis
        if ord is None or ord == "fro":
            return _ops.sqrt(_ops.reduce_sum(_ops.square(x), axis=[r, c], keepdims=keepdims))
        if ord in (1, -1, _np.inf, -_np.inf):
            red, over = (r, c) if ord in (1, -1) else (c, r)
            s = _ops.reduce_sum(_ops.abs(x), axis=red, keepdims=True)
            out = (_ops.reduce_max if ord > 0 else _ops.reduce_min)(s, axis=over, keepdims=True)
            return out if keepdims else _ops.squeeze(out, axis=[r, c])
        raise NotImplementedError(f"keras.ops.norm: matrix ord={ord!r} is not supported by tapegrad yet.")
    raise ValueError(f"Invalid axis for norm: {axis}")


def qr(x, mode="reduced"):
    """``(q, r)``; ``mode`` "reduced" or "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. Received: mode={mode}"
        )
    return _linalg.qr(_float_t(x), full_matrices=mode == "complete")


def solve(a, b):
    """``x`` with ``a x = b``."""
    a, b = _float_t(a), _float_t(b)
    vec = len(b.shape.as_list()) == len(a.shape.as_list()) - 1
    out = _linalg.solve(a, _ops.expand_dims(b, -1) if vec else b)
    return _ops.squeeze(out, axis=[-1]) if vec else out


def solve_triangular(a, b, lower=False):
    """``x`` with ``a x = b`` for triangular ``a``."""
    a, b = _float_t(a), _float_t(b)
    vec = len(b.shape.as_list()) == len(a.shape.as_list()) - 1
    out = _linalg.triangular_solve(a, _ops.expand_dims(b, -1) if vec else b, lower=lower)
    return _ops.squeeze(out, axis=[-1]) if vec else out


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` as numpy (or ``s`` only)."""
    x = _float_t(x)
    if not compute_uv:
        return _linalg.svd(x, full_matrices=full_matrices, compute_uv=False)
    s, u, v = _linalg.svd(x, full_matrices=full_matrices, compute_uv=True)
    return u, s, _linalg.adjoint(v)
