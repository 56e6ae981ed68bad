"""``tg.linalg``: matrix products, einsum, factorizations and solvers."""
from ._core import matmul
from ._ops_linalg import (
    adjoint, band_part, cholesky, cholesky_solve, cross, det, diag, diag_part, eigh, eigvalsh, einsum, eye, inv,
    logdet, lstsq, matrix_transpose, matvec, pinv, qr, set_diag, slogdet, solve, svd, tensordot, trace,
    triangular_solve,
)
from ._ops_math import global_norm, l2_normalize, norm

__all__ = [
    "adjoint", "band_part", "cholesky", "cholesky_solve", "cross", "det", "diag", "diag_part", "eigh", "eigvalsh",
    "einsum", "eye", "global_norm", "inv", "l2_normalize", "logdet", "lstsq", "matmul", "matrix_transpose", "matvec",
    "norm", "pinv", "qr", "set_diag", "slogdet", "solve", "svd", "tensordot", "trace", "triangular_solve",
]
