"""Python side of the linalg ops area: einsum, tensordot, matvec, diag_part, trace (composites of
transpose/reshape/matmul/reduce_sum, so gradients of every order come from those ops), and TF's
argument handling for the engine's factorizations and solvers (inv, det, qr, svd, cholesky, ...).
The namespaces (tapegrad/__init__.py, linalg.py) import their names from here."""

from __future__ import annotations

import functools
import numbers
from typing import Any

import numpy as np

from . import _core
from ._core import InvalidArgumentError
from ._custom_gradient import custom_gradient
from ._ops import (
    broadcast_to,
    constant,
    convert_to_tensor,
    matmul,
    multiply,
    reduce_sum,
    reshape,
    transpose,
    zeros_like,
)
from ._ops_math import _kernel_name as _kname
from ._tensor import Tensor
from ._typing import DTypeLike, TensorLike


def _shape_str(x):
    return "[" + ",".join(str(int(d)) for d in x.shape) + "]"


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


# ---- einsum ------------------------------------------------------------------------------------


def _parse_einsum(equation, ranks):
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, None, False
    specs = lhs.split(",")
    if len(specs) != len(ranks):
        raise ValueError(f'Got {len(ranks)} inputs for equation "{equation}", expecting {len(specs)}')
    max_ell = 0
    parsed = []
    for i, (spec, r) in enumerate(zip(specs, ranks)):
        if (
            spec.count("...") > 1
            or spec.replace("...", "").count(".")
            or (not spec.replace("...", "").isalpha() and spec.replace("...", "") != "")
        ):
            raise ValueError(f"Invalid einsum equation {equation!r}: bad subscripts {spec!r}")
        if "..." in spec:
            n_ell = r - (len(spec) - 3)
            if n_ell < 0:
                raise InvalidArgumentError(
                    f"Expected input {i} to have rank at least {len(spec) - 3} but got: {r} [Op:Einsum]"
                )
            a, b = spec.split("...")
            # ellipsis axes get private labels counted from the right, so they broadcast right-aligned
            labels = list(a) + [chr(0x3000 + n_ell - k) for k in range(n_ell)] + list(b)
            max_ell = max(max_ell, n_ell)
        else:
            if len(spec) != r:
                raise InvalidArgumentError(f"Expected input {i} to have rank {len(spec)} but got: {r} [Op:Einsum]")
            labels = list(spec)
        parsed.append(labels)
    ell = [chr(0x3000 + max_ell - k) for k in range(max_ell)]
    if explicit:
        if out.count("...") > 1 or not out.replace("...", "").isalpha() and out.replace("...", "") != "":
            raise ValueError(f"Invalid einsum equation {equation!r}: bad output subscripts {out!r}")
        if "..." in out:
            a, b = out.split("...")
            out_labels = list(a) + ell + list(b)
        else:
            out_labels = list(out)
        for c in out_labels:
            if out_labels.count(c) > 1:
                raise ValueError(f"Invalid einsum equation {equation!r}: output subscript {c!r} repeats")
            if not any(c in labels for labels in parsed):
                raise ValueError(f"Output subscripts contain the label {c} not present in the input subscripts.")
        if max_ell and "..." not in out:
            raise InvalidArgumentError(
                f"Output contains {max_ell} broadcasting dimension(s) but no ellipsis (...) was "
                f"found in the output subscripts. [Op:Einsum]"
            )
    else:
        counts = {}
        for labels in parsed:
            for c in labels:
                counts[c] = counts.get(c, 0) + 1
        out_labels = ell + sorted(c for c, k in counts.items() if k == 1 and c not in ell)
    return parsed, out_labels


def einsum(equation: Any, *inputs: Any, **kwargs: Any) -> Tensor:
    """Tensor contraction over the indices of an Einstein-summation equation (TF's ``tf.einsum``).

    Supports any number of operands, repeated indices (diagonals, traces), implicit output and
    ``...`` broadcasting. Differentiable to every order.

    >>> import tapegrad as tg
    >>> tg.einsum("ij,jk->ik", [[1.0, 2.0]], [[3.0], [4.0]]).numpy()
    array([[11.]], dtype=float32)
    """
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments for einsum: {', '.join(kwargs)}")
    if not isinstance(equation, str):
        raise TypeError(f"einsum: equation must be a string, got {type(equation).__name__}")
    if not inputs:
        raise ValueError("einsum: at least one input is required")
    xs = [_t(x) for x in inputs]
    for x in xs[1:]:
        if x.dtype != xs[0].dtype:
            raise InvalidArgumentError(
                f"cannot compute Einsum as input #1(zero-based) was expected to be a "
                f"{_kname(xs[0].dtype)} tensor but is a {_kname(x.dtype)} tensor [Op:Einsum]"
            )
    operand_steps, pair_steps, final_sum, final_perm = _einsum_plan(
        equation, tuple(tuple(int(d) for d in x.shape) for x in xs)
    )
    ys = []
    for x, steps in zip(xs, operand_steps):
        for kind, arg, n in steps:
            if kind == "diag":
                if arg is not None:
                    x = transpose(x, arg)
                x = reduce_sum(multiply(x, constant(_eye_np(n), dtype=x.dtype)), axis=-1)
            else:
                x = broadcast_to(x, arg)
        ys.append(x)
    x = ys[0]
    for k, (x_sum, y_sum, a_perm, a_shape, b_perm, b_shape, out_shape) in enumerate(pair_steps):
        y = ys[k + 1]
        if x_sum:
            x = reduce_sum(x, axis=x_sum)
        if y_sum:
            y = reduce_sum(y, axis=y_sum)
        if a_perm is not None:
            x = transpose(x, a_perm)
        if a_shape is not None:
            x = reshape(x, a_shape)
        if b_perm is not None:
            y = transpose(y, b_perm)
        if b_shape is not None:
            y = reshape(y, b_shape)
        x = matmul(x, y)
        if out_shape is not None:
            x = reshape(x, out_shape)
    if final_sum:
        x = reduce_sum(x, axis=final_sum)
    if final_perm is not None:
        x = transpose(x, final_perm)
    return _core.identity(x) if x is xs[0] else x


@functools.lru_cache(maxsize=64)
def _eye_np(n):
    return np.eye(n)


@functools.lru_cache(maxsize=512)
def _einsum_plan(equation, shapes):
    """The op sequence for an einsum over inputs of `shapes` (pure shape logic, cached)."""
    parsed, out_labels = _parse_einsum(equation, [len(s) for s in shapes])

    # sizes per label (broadcast size-1 ellipsis axes)
    sizes = {}
    for shape, labels in zip(shapes, parsed):
        for axis, (c, d) in enumerate(zip(labels, shape)):
            is_ell = ord(c) >= 0x3000
            if c not in sizes or (is_ell and sizes[c] == 1):
                sizes[c] = d
            elif d != sizes[c] and not (is_ell and d == 1):
                raise InvalidArgumentError(
                    f"Expected dimension {sizes[c]} at axis {axis} of the input shaped "
                    f"[{','.join(str(v) for v in shape)}] but got dimension {d} [Op:Einsum]"
                )

    def perm_of(labels, order):
        perm = [labels.index(c) for c in order]
        return None if perm == list(range(len(perm))) else perm

    operand_steps, operand_labels = [], []
    for shape, labels in zip(shapes, parsed):
        labels, shape, steps = list(labels), list(shape), []
        # repeated labels within an operand: move the pair last, keep the diagonal
        for c in list(dict.fromkeys(labels)):
            while labels.count(c) > 1:
                i = labels.index(c)
                j = labels.index(c, i + 1)
                if shape[i] != shape[j]:
                    raise InvalidArgumentError(
                        f"Expected dimension {shape[i]} at axis {j} of the input shaped "
                        f"[{','.join(str(v) for v in shape)}] but got dimension {shape[j]} [Op:Einsum]"
                    )
                rest = [k for k in range(len(labels)) if k not in (i, j)]
                order = rest + [i, j]
                steps.append(("diag", None if order == list(range(len(labels))) else order, shape[i]))
                labels = [labels[k] for k in rest] + [c]
                shape = [shape[k] for k in rest] + [shape[i]]
        if any(d != sizes[c] for c, d in zip(labels, shape)):
            steps.append(("bcast", [sizes[c] for c in labels], 0))
        operand_steps.append(steps)
        operand_labels.append(labels)

    def split_unused(labels, keep):
        axes = [i for i, c in enumerate(labels) if c not in keep]
        return axes, [c for c in labels if c in keep]

    def prod(cs):
        return int(np.prod([sizes[c] for c in cs], dtype=np.int64))

    pair_steps = []
    labels = operand_labels[0]
    for k in range(1, len(operand_labels)):
        ylabels = operand_labels[k]
        keep = set(out_labels)
        for later in operand_labels[k + 1 :]:
            keep.update(later)
        x_sum, labels = split_unused(labels, keep | set(ylabels))
        y_sum, ylabels = split_unused(ylabels, keep | set(labels))
        batch = [c for c in labels if c in ylabels and c in keep]
        contract = [c for c in labels if c in ylabels and c not in keep]
        a_only = [c for c in labels if c not in ylabels]
        b_only = [c for c in ylabels if c not in labels]
        lead = [prod(batch)] if batch else []
        a_order, b_order = batch + a_only + contract, batch + contract + b_only
        a_shape = lead + [prod(a_only), prod(contract)]
        b_shape = lead + [prod(contract), prod(b_only)]
        out_shape = [sizes[c] for c in batch + a_only + b_only]
        pair_steps.append(
            (
                x_sum,
                y_sum,
                perm_of(labels, a_order),
                None if [sizes[c] for c in a_order] == a_shape else a_shape,
                perm_of(ylabels, b_order),
                None if [sizes[c] for c in b_order] == b_shape else b_shape,
                None if out_shape == lead + [prod(a_only), prod(b_only)] else out_shape,
            )
        )
        labels = batch + a_only + b_only
    final_sum, labels = split_unused(labels, set(out_labels))
    return operand_steps, pair_steps, final_sum, perm_of(labels, out_labels)


def tensordot(a: TensorLike, b: TensorLike, axes: Any, name: str | None = None) -> Tensor:
    """Contraction of `a` and `b` over the given axes (TF's ``tf.tensordot``).

    `axes`: an int N (last N axes of `a` with first N of `b`), or a pair of axis lists.

    >>> import tapegrad as tg
    >>> tg.tensordot(tg.ones([2, 3]), tg.ones([3, 4]), axes=1).shape
    TensorShape([2, 4])
    """
    a, b = _t(a), _t(b)
    ra, rb = len(a.shape), len(b.shape)
    if isinstance(axes, Tensor):
        axes = np.asarray(axes).tolist()
    if isinstance(axes, (numbers.Integral, np.integer)):
        n = int(axes)
        if n < 0:
            raise ValueError(f"'axes' must be at least 0, got {n}.")
        if n > ra or n > rb:
            raise ValueError(f"'axes' must not be larger than the number of dimensions of tensor {a if n > ra else b}.")
        ax_a, ax_b = list(range(ra - n, ra)), list(range(n))
    else:
        axes = list(axes)
        if len(axes) != 2:
            raise ValueError(f"'axes' must be an integer or have length 2, got {axes}.")
        ax_a, ax_b = axes
        ax_a = [int(ax_a)] if isinstance(ax_a, (numbers.Integral, np.integer)) else [int(i) for i in ax_a]
        ax_b = [int(ax_b)] if isinstance(ax_b, (numbers.Integral, np.integer)) else [int(i) for i in ax_b]
        if len(ax_a) != len(ax_b):
            raise ValueError(f"Different number of contraction axes 'a' and 'b', {len(ax_a)} != {len(ax_b)}.")
    for ax, r, t in ((ax_a, ra, "a"), (ax_b, rb, "b")):
        for i, v in enumerate(ax):
            if not -r <= v < r:
                raise InvalidArgumentError(f"tensordot: axis {v} is out of range for '{t}' of rank {r}")
            ax[i] = v % r
        if len(set(ax)) != len(ax):
            raise InvalidArgumentError(f"tensordot: repeated axis in {ax} for '{t}'")
    for i, j in zip(ax_a, ax_b):
        if int(a.shape[i]) != int(b.shape[j]):
            raise InvalidArgumentError(
                f"Matrix size-incompatible: In[0]: {_shape_str(a)}, In[1]: {_shape_str(b)} "
                f"(tensordot axes {ax_a} and {ax_b}) [Op:MatMul]"
            )
    letters = [chr(ord("a") + i) for i in range(ra + rb)]
    la = letters[:ra]
    lb = letters[ra:]
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + [c for j, c in enumerate(lb) if j not in ax_b]
    return einsum("".join(la) + "," + "".join(lb) + "->" + "".join(out), a, b)


def matvec(
    a: TensorLike,
    b: TensorLike,
    transpose_a: bool = False,
    adjoint_a: bool = False,
    a_is_sparse: bool = False,
    b_is_sparse: bool = False,
    name: str | None = None,
) -> Tensor:
    """Matrix-vector product ``a @ b`` over the last axes, with batch broadcasting (``tf.linalg.matvec``)."""
    a, b = _t(a), _t(b)
    if len(a.shape) < 2 or len(b.shape) < 1:
        raise InvalidArgumentError(
            f"matvec: a must have rank >= 2 and b rank >= 1, got shapes {list(a.shape)} and {list(b.shape)}"
        )
    y = matmul(a, reshape(b, list(b.shape) + [1]), transpose_a=bool(transpose_a), adjoint_a=bool(adjoint_a))
    return reshape(y, list(y.shape)[:-1])


def diag_part(
    input: TensorLike, name: str = "diag_part", k: int = 0, padding_value: int = 0, align: str = "RIGHT_LEFT"
) -> Tensor:
    """The diagonal k of the innermost matrices, or with ``k=(k0, k1)`` the band of diagonals k1
    down to k0 stacked ``[..., k1 - k0 + 1, max_diag_len]``, shorter ones padded with
    `padding_value` on the side `align` says (``tf.linalg.diag_part``).

    >>> import tapegrad as tg
    >>> tg.linalg.diag_part([[1, 2, 3], [4, 5, 6]], k=(-1, 1), padding_value=9).numpy().tolist()
    [[2, 6], [1, 5], [4, 9]]
    """
    return _diag_part_general(input, k, padding_value, align)


def trace(x: TensorLike, name: str | None = None) -> Tensor:
    """Sum of the main diagonal of the innermost matrices (``tf.linalg.trace``)."""
    return reduce_sum(diag_part(x), axis=-1)


def inv(input: TensorLike, adjoint: bool = False, name: str | None = None) -> Tensor:
    """Inverses of the innermost square matrices, by LU with partial pivoting (``tf.linalg.inv``)."""
    return _core._matrix_inverse(_t(input), bool(adjoint))


def det(input: TensorLike, name: str | None = None) -> Tensor:
    """Determinants of the innermost square matrices (``tf.linalg.det``)."""
    return _core._matrix_determinant(_t(input))


def solve(matrix: TensorLike, rhs: TensorLike, adjoint: bool = False, name: str | None = None) -> Tensor:
    """Solves ``matrix @ x = rhs`` (or ``matrix^T @ x = rhs`` with adjoint) for x (``tf.linalg.solve``)."""
    return _core._matrix_solve(_t(matrix), _t(rhs), bool(adjoint))


def slogdet(input: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """``(sign, log(abs(det)))`` of the innermost square matrices (``tf.linalg.slogdet``)."""
    return _core._log_matrix_determinant(_t(input))


def logdet(matrix: TensorLike, name: str | None = None) -> Tensor:
    """``log(det(matrix))`` of Hermitian positive-definite matrices, via Cholesky (``tf.linalg.logdet``)."""
    from ._ops import log

    return multiply(reduce_sum(log(diag_part(cholesky(matrix))), axis=-1), 2.0)


def qr(input: TensorLike, full_matrices: bool = False, name: str | None = None) -> tuple[Tensor, Tensor]:
    """QR decompositions ``(q, r)`` of the innermost matrices by Householder reflections
    (``tf.linalg.qr``). Gradients: reduced QR of matrices with rows >= columns (as TF)."""
    return _core._qr(_t(input), bool(full_matrices))


def svd(tensor: TensorLike, full_matrices: bool = False, compute_uv: bool = True, name: str | None = None) -> Any:
    """Singular values (descending) and, with compute_uv, ``(s, u, v)`` with ``a = u diag(s) v^T``
    (``tf.linalg.svd``; note v, not v^T). Singular vectors are unique only up to sign. Gradients as
    TF: all cases except full_matrices=True on non-square matrices (LookupError)."""
    out = _core._svd(_t(tensor), bool(full_matrices), bool(compute_uv))
    return tuple(out) if compute_uv else out[0]


def pinv(a: TensorLike, rcond: Any = None, validate_args: bool = False, name: str | None = None) -> Tensor:
    """Moore-Penrose pseudo-inverse via SVD, singular values below ``rcond * max(s)`` dropped
    (``tf.linalg.pinv``; default rcond ``10 * max(m, n) * eps``)."""
    x = _t(a)
    if len(x.shape) < 2:
        raise ValueError(f"pinv: input must have rank >= 2, got shape {_shape_str(x)}")
    m, n = int(x.shape[-2]), int(x.shape[-1])
    if rcond is None:
        rcond = 10.0 * max(m, n) * float(np.finfo(x.dtype.as_numpy_dtype).eps)
    s, u, v = svd(x)
    from ._ops import ones_like, reduce_max, where, zeros_like

    cutoff = multiply(reduce_max(s, axis=-1, keepdims=True), float(rcond))
    keep = _core.greater(s, cutoff)
    s_inv = where(keep, 1.0 / where(keep, s, ones_like(s)), zeros_like(s))
    return matmul(
        multiply(v, reshape(s_inv, [int(d) for d in s_inv.shape[:-1]] + [1, int(s_inv.shape[-1])])), u, transpose_b=True
    )


def eigh(tensor: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors (columns) of the innermost self-adjoint matrices;
    reads the lower triangle only (``tf.linalg.eigh``). Eigenvectors are unique only up to sign
    (LAPACK's syevd may pick other signs than TF's Eigen)."""
    return _core._eigh(_t(tensor))


def eigvalsh(tensor: TensorLike, name: str | None = None) -> Tensor:
    """Eigenvalues (ascending) of the innermost self-adjoint matrices (``tf.linalg.eigvalsh``)."""
    return eigh(tensor)[0]


def _eig_input(tensor):
    x = _t(tensor)
    if x.dtype.name not in ("float32", "float64", "complex64", "complex128"):
        # TF 2.21's tf.linalg.eig/eigvals pick the output dtype with no `else` branch
        raise UnboundLocalError("cannot access local variable 'out_dtype' where it is not associated with a value")
    return x


def eig(tensor: TensorLike, name: str | None = None) -> tuple[Tensor, Tensor]:
    """Eigenvalues ``e`` and right eigenvectors ``v`` (columns, unit norm) of the innermost square
    matrices, ``tensor @ v = v * e`` (``tf.linalg.eig``, LAPACK's geev). Both are complex
    (float32/complex64 -> complex64, float64/complex128 -> complex128). Complex input: eigenvalues
    ascending by modulus, as TF; real input: LAPACK's order, conjugate pairs adjacent. Each
    eigenvector is unique up to a phase: tapegrad's is LAPACK's (largest component real), TF's comes
    from its Schur vectors. Gradients as TF's (distinct eigenvalues; real input: the real part).

    >>> import tapegrad as tg
    >>> e, v = tg.linalg.eig(tg.constant([[2.0, 0.0], [0.0, 3.0]], tg.float64))
    >>> e.numpy().tolist()
    [(2+0j), (3+0j)]
    """
    return tuple(_core._eig(_eig_input(tensor), True))  # type: ignore[return-value]


def eigvals(tensor: TensorLike, name: str | None = None) -> Tensor:
    """Eigenvalues of the innermost square matrices, complex, in ``eig``'s order (``tf.linalg.eigvals``).

    >>> import tapegrad as tg
    >>> tg.linalg.eigvals(tg.constant([[0.0, -1.0], [1.0, 0.0]])).numpy().tolist()
    [1j, -1j]
    """
    return _core._eig(_eig_input(tensor), False)[0]


@custom_gradient
def _logm_no_gradient(x):
    """logm as an op whose gradient is TF's: none registered."""

    def grad(dy):
        raise LookupError("gradient registry has no entry for: MatrixLogarithm")

    return _core._matrix_logarithm(x), grad


def logm(input: TensorLike, name: str | None = None) -> Tensor:
    """The principal matrix logarithm of the innermost complex square matrices (``tf.linalg.logm``;
    complex64/complex128 only, no gradient, as TF). Schur form, inverse scaling and squaring, and a
    diagonal Pade approximant, in complex128.

    >>> import tapegrad as tg
    >>> tg.linalg.logm(tg.constant([[1.0, 1.0], [0.0, 1.0]], tg.complex128)).numpy().real.tolist()
    [[0.0, 1.0], [0.0, 0.0]]
    """
    return _logm_no_gradient(_t(input))


def cholesky(input: TensorLike, name: str | None = None) -> Tensor:
    """Lower Cholesky factors of the innermost symmetric positive-definite matrices; reads the lower
    triangle only (``tf.linalg.cholesky``)."""
    return _core._cholesky(_t(input))


def triangular_solve(
    matrix: TensorLike, rhs: TensorLike, lower: bool = True, adjoint: bool = False, name: str | None = None
) -> Tensor:
    """Solves ``matrix @ x = rhs`` for triangular `matrix` (only its `lower` or upper triangle is
    read) (``tf.linalg.triangular_solve``)."""
    return _core._triangular_solve(_t(matrix), _t(rhs), bool(lower), bool(adjoint))


def cholesky_solve(chol: TensorLike, rhs: TensorLike, name: str | None = None) -> Tensor:
    """Solves ``A x = rhs`` given ``chol``, the lower Cholesky factor of A (``tf.linalg.cholesky_solve``)."""
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve(chol, y, lower=True, adjoint=True)


def lstsq(
    matrix: TensorLike, rhs: TensorLike, l2_regularizer: float = 0.0, fast: bool = True, name: str | None = None
) -> Tensor:
    """Least-squares solutions of ``matrix @ x = rhs`` with optional L2 regularisation
    (``tf.linalg.lstsq``, its fast Cholesky path: normal equations for tall matrices, the
    minimum-norm form for wide ones)."""
    if not fast:
        raise NotImplementedError("tg.linalg.lstsq: only fast=True (normal equations via Cholesky) is supported")
    a, b = _t(matrix), _t(rhs)
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise InvalidArgumentError(
            f"lstsq: matrix and rhs must have rank >= 2, got {_shape_str(a)} and {_shape_str(b)}"
        )
    m, n = int(a.shape[-2]), int(a.shape[-1])
    if int(b.shape[-2]) != m:
        raise InvalidArgumentError(
            f"lstsq: matrix and rhs must have the same number of rows: {m} vs. {int(b.shape[-2])}"
        )
    lam = float(np.asarray(l2_regularizer))
    if m >= n:
        gram = matmul(a, a, transpose_a=True)
        if lam:
            gram = gram + constant(lam * np.eye(n), dtype=a.dtype)
        return cholesky_solve(cholesky(gram), matmul(a, b, transpose_a=True))
    gram = matmul(a, a, transpose_b=True)
    if lam:
        gram = gram + constant(lam * np.eye(m), dtype=a.dtype)
    return matmul(a, cholesky_solve(cholesky(gram), b), transpose_a=True)


def cross(a: TensorLike, b: TensorLike, name: str | None = None) -> Tensor:
    """Cross products of 3-vectors along the last axis (``tf.linalg.cross``)."""
    a, b = _t(a), _t(b)
    if not a.shape or not b.shape or int(a.shape[-1]) != 3 or int(b.shape[-1]) != 3:
        raise InvalidArgumentError(
            f"Arguments to cross must have the innermost dimension 3, got {_shape_str(a)} and "
            f"{_shape_str(b)} [Op:Cross]"
        )
    if list(a.shape) != list(b.shape):
        raise InvalidArgumentError(
            f"Both inputs must be of the same shape, got {_shape_str(a)} and {_shape_str(b)} [Op:Cross]"
        )
    eps = np.zeros((3, 3, 3))
    eps[0, 1, 2] = eps[1, 2, 0] = eps[2, 0, 1] = 1.0
    eps[0, 2, 1] = eps[2, 1, 0] = eps[1, 0, 2] = -1.0
    return einsum("...j,...k,ijk->...i", a, b, constant(eps, dtype=a.dtype))


def set_diag(
    input: TensorLike, diagonal: TensorLike, name: str = "set_diag", k: int = 0, align: str = "RIGHT_LEFT"
) -> Tensor:
    """Replaces diagonal k (or the band ``k=(k0, k1)``, laid out as ``diag_part`` gives it) of the
    innermost matrices (``tf.linalg.set_diag``).

    >>> import tapegrad as tg
    >>> tg.linalg.set_diag(tg.zeros([2, 3], tg.int32), [7, 8], k=1).numpy().tolist()
    [[0, 7, 0], [0, 0, 8]]
    """
    return _set_diag_general(input, diagonal, k, align)


def diag(
    diagonal: TensorLike,
    name: str = "diag",
    k: Any = 0,
    num_rows: int = -1,
    num_cols: Any = -1,
    padding_value: int = 0,
    align: str = "RIGHT_LEFT",
) -> Tensor:
    """Matrices with `diagonal` ``[..., N]`` on diagonal k, or with ``k=(k0, k1)`` the band
    ``diagonal[..., k1 - d, :]`` on each diagonal d, the rest `padding_value`; the matrices are
    `num_rows` x `num_cols` (by default the smallest square that fits) (``tf.linalg.diag``).

    >>> import tapegrad as tg
    >>> tg.linalg.diag([1.0, 2.0], k=1).numpy().tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 2.0], [0.0, 0.0, 0.0]]
    """
    return _diag_general(diagonal, k, num_rows, num_cols, padding_value, align)


def band_part(input: TensorLike, num_lower: Any, num_upper: Any, name: str | None = None) -> Tensor:
    """Keeps the band ``-num_lower <= j - i <= num_upper`` of the innermost matrices (negative: keep
    that whole triangle), zeroes the rest (``tf.linalg.band_part``)."""
    x = _t(input)
    if len(x.shape) < 2:
        raise ValueError(f"input must be at least 2-dim, received shape: {_shape_str(x)}")
    lo, hi = int(np.asarray(num_lower)), int(np.asarray(num_upper))
    m, n = int(x.shape[-2]), int(x.shape[-1])
    if lo > m or hi > n:  # TF allows num_lower == rows, num_upper == columns
        raise InvalidArgumentError(
            f"num_lower must be negative or less or equal to number of rows ({m}) got: {lo}"
            if lo > m
            else f"num_upper must be negative or less or equal to number of columns ({n}) got: {hi}"
        )
    i = np.arange(m)[:, None]
    j = np.arange(n)[None, :]
    keep = ((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi))
    # a select, not a product with the 0/1 mask: an inf or nan outside the band becomes 0 (as TF)
    return _core.where3(constant(keep), x, constant(x.dtype.name != "bool" and 0, dtype=x.dtype))


def matrix_transpose(a: TensorLike, name: str = "matrix_transpose", conjugate: bool = False) -> Tensor:
    """Swaps the last two axes (``tf.linalg.matrix_transpose``); ``conjugate=True`` also conjugates
    complex values."""
    x = _t(a)
    if conjugate and x.dtype.is_complex:
        x = _core.conj(x)
    r = len(x.shape)
    if r < 2:
        raise ValueError(
            f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` = {x} with shape: {_shape_str(x)}"
        )
    return transpose(x, list(range(r - 2)) + [r - 1, r - 2])


def adjoint(matrix: TensorLike, name: str | None = None) -> Tensor:
    """The conjugate transpose of the innermost matrices (``tf.linalg.adjoint``)."""
    return matrix_transpose(matrix, conjugate=True)


def eye(
    num_rows: int,
    num_columns: int | None = None,
    batch_shape: Any = None,
    dtype: DTypeLike | None = None,
    name: str | None = None,
) -> Tensor:
    """Identity matrices ``[*batch_shape, num_rows, num_columns]`` (``tf.eye``)."""
    from ._dtypes import float32

    dtype = float32 if dtype is None else dtype
    cols = num_rows if num_columns is None else num_columns
    e = np.eye(int(num_rows), int(cols))
    if batch_shape is not None:
        e = np.broadcast_to(e, tuple(int(d) for d in batch_shape) + e.shape).copy()
    return constant(e, dtype=dtype)


# ---- LU, matrix rank, matrix exponential -------------------------------------------------------


def _lu_np(a):
    """Doolittle elimination with partial pivoting (LAPACK getrf's pivot choice: the first entry of
    largest magnitude) over a batch [B, n, n], in a's precision. Returns (lu, perm, singular) with
    ``a[b, perm[b]] == (L @ U)[b]``."""
    lu = a.copy()
    bsz, n = a.shape[0], a.shape[-1]
    perm = np.tile(np.arange(n), (bsz, 1))
    rows = np.arange(bsz)
    singular = np.zeros(bsz, bool)
    for k in range(n):
        piv = k + np.argmax(np.abs(lu[:, k:, k]), axis=1)
        swap_rows = lu[rows, piv].copy()
        lu[rows, piv] = lu[:, k]
        lu[:, k] = swap_rows
        p_k = perm[rows, piv].copy()
        perm[rows, piv] = perm[:, k]
        perm[:, k] = p_k
        pivot = lu[:, k, k]
        singular |= pivot == 0
        safe = np.where(pivot == 0, 1, pivot)
        lu[:, k + 1 :, k] /= safe[:, None]
        lu[:, k + 1 :, k + 1 :] -= lu[:, k + 1 :, k, None] * lu[:, k, None, k + 1 :]
    return lu, perm, singular


class Lu(tuple):
    """``tf.linalg.lu``'s result: the named pair (lu, p)."""

    __slots__ = ()
    _fields = ("lu", "p")

    def __new__(cls, lu, p):
        return super().__new__(cls, (lu, p))

    lu = property(lambda self: self[0], doc="L - I + U in one matrix (L unit lower triangular).")
    p = property(lambda self: self[1], doc="The row permutation: ``input[..., p, :] == L @ U``.")

    def __repr__(self):
        return f"Lu(lu={self[0]!r}, p={self[1]!r})"


def lu(input: TensorLike, output_idx_type: DTypeLike = "int32", name: str | None = None) -> Lu:
    """LU factorization with partial pivoting of the innermost square matrices: ``Lu(lu, p)`` with
    ``lu = L + U - I`` and ``input[..., p, :] == L @ U`` (``tf.linalg.lu``). As in TF, a singular
    matrix raises InvalidArgumentError and the factorization has no gradient.

    >>> import tapegrad as tg
    >>> lu, p = tg.linalg.lu(tg.constant([[1.0, 2.0], [3.0, 4.0]], tg.float64))
    >>> lu.numpy().round(4).tolist(), p.numpy().tolist()
    ([[3.0, 4.0], [0.3333, 0.6667]], [1, 0])
    """
    from ._dtypes import as_dtype
    from ._ops_math import _attr_t_error

    x = _t(input)
    if not x.dtype.is_floating:
        raise _attr_t_error(x.dtype, "double, float, half, complex64, complex128", "Lu")
    idx = as_dtype(output_idx_type)
    if idx.name not in ("int32", "int64"):
        raise _attr_t_error(idx, "int32, int64", "Lu", attr="output_idx_type")
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"Input tensor must have rank >= 2, got {len(x.shape)} [Op:Lu]")
    shape = [int(d) for d in x.shape]
    if shape[-1] != shape[-2]:
        raise InvalidArgumentError("Input matrix must be square. [Op:Lu]")
    n = shape[-1]
    a = np.asarray(x).reshape(int(np.prod(shape[:-2], dtype=np.int64)), n, n)
    factors, perm, singular = _lu_np(a)
    if singular.any() and n:
        raise InvalidArgumentError("Input is not invertible. [Op:Lu]")
    lu_t = _lu_no_gradient(x, constant(factors.reshape(shape), dtype=x.dtype))
    return Lu(lu_t, constant(perm.reshape(shape[:-1]).astype(idx.as_numpy_dtype), dtype=idx))


@custom_gradient
def _lu_no_gradient(x, factors):
    """`factors` as the output of an op on x whose gradient is TF's: none registered."""

    def grad(dy):
        raise LookupError("gradient registry has no entry for: Lu")

    return factors + 0, grad


def _lu_checks(lower_upper, perm):
    """TF's lu_reconstruct_assertions (static shapes, ValueError)."""
    if len(lower_upper.shape) < 2:
        raise ValueError("Input `lower_upper` must have at least 2 dimensions.")
    if len(lower_upper.shape) != len(perm.shape) + 1:
        raise ValueError("`rank(lower_upper)` must equal `rank(perm) + 1`")
    if int(lower_upper.shape[-2]) != int(lower_upper.shape[-1]):
        raise ValueError("`lower_upper` must be square.")


def _lu_inputs(lower_upper, perm):
    lu_t = _t(lower_upper)
    p = perm if isinstance(perm, Tensor) else convert_to_tensor(perm, dtype="int32")
    return lu_t, p


def _unit_lower_and_upper(lu_t):
    n = int(lu_t.shape[-1])
    eye_n = constant(np.eye(n), dtype=lu_t.dtype)
    lower = band_part(lu_t, -1, 0) * (1 - eye_n) + eye_n  # set_diag(band_part(lu, -1, 0), 1)
    return lower, band_part(lu_t, 0, -1)


def _gather_rows(x, rows):
    """x[..., rows[...], :] for x [*batch, d, m] and integer rows [*batch, d] (numpy)."""
    from ._ops_shape import gather_nd

    shape = [int(s) for s in x.shape]
    d, m = shape[-2], shape[-1]
    bsz = int(np.prod(shape[:-2], dtype=np.int64))
    idx = np.stack([np.repeat(np.arange(bsz), d).reshape(bsz, d), rows.reshape(bsz, d)], axis=-1)
    out = gather_nd(reshape(x, [bsz, d, m]), constant(idx.astype(np.int64)))
    return reshape(out, shape)


def lu_reconstruct(
    lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False, name: str | None = None
) -> Tensor:
    """The matrices whose LU factorization is ``(lower_upper, perm)``, as ``tf.linalg.lu`` gives
    them (``tf.linalg.lu_reconstruct``); differentiable in lower_upper.

    >>> import tapegrad as tg
    >>> x = [[3.0, 4.0], [1.0, 2.0]]
    >>> tg.linalg.lu_reconstruct(*tg.linalg.lu(x)).numpy().tolist()
    [[3.0, 4.0], [1.0, 2.0]]
    """
    lu_t, p = _lu_inputs(lower_upper, perm)
    _lu_checks(lu_t, p)
    lower, upper = _unit_lower_and_upper(lu_t)
    x = matmul(lower, upper)
    shape = [int(s) for s in x.shape]
    inverse = np.argsort(np.broadcast_to(np.asarray(p), shape[:-1]).reshape(-1, shape[-1]), axis=-1)
    return _gather_rows(x, inverse)


def lu_solve(
    lower_upper: TensorLike, perm: TensorLike, rhs: TensorLike, validate_args: bool = False, name: str | None = None
) -> Tensor:
    """Solves ``A @ X = rhs`` given A's LU factorization ``(lower_upper, perm)`` from
    ``tf.linalg.lu`` (``tf.linalg.lu_solve``); batch dimensions broadcast, gradients flow to
    lower_upper and rhs.

    >>> import tapegrad as tg
    >>> a = [[3.0, 1.0], [1.0, 2.0]]
    >>> tg.linalg.lu_solve(*tg.linalg.lu(a), rhs=[[9.0], [8.0]]).numpy().round(6).tolist()
    [[2.0], [3.0]]
    """
    lu_t, p = _lu_inputs(lower_upper, perm)
    b = rhs if isinstance(rhs, Tensor) else convert_to_tensor(rhs, dtype=lu_t.dtype)
    _lu_checks(lu_t, p)
    if len(b.shape) < 2:
        raise ValueError("Input `rhs` must have at least 2 dimensions.")
    if int(lu_t.shape[-1]) != int(b.shape[-2]):
        raise ValueError("`lower_upper.shape[-1]` must equal `rhs.shape[-1]`.")  # TF's wording
    lu_s, p_s, b_s = ([int(d) for d in t.shape] for t in (lu_t, p, b))
    batch = list(np.broadcast_shapes(tuple(lu_s[:-2]), tuple(p_s[:-1]), tuple(b_s[:-2])))
    d, m = b_s[-2], b_s[-1]
    b_full = broadcast_to(b, batch + [d, m]) if b_s[:-2] != batch else b
    rows = np.broadcast_to(np.asarray(p), tuple(batch) + (d,))
    permuted = _gather_rows(b_full, rows)
    if lu_s[:-2] != batch:
        lu_t = broadcast_to(lu_t, batch + lu_s[-2:])
    lower, _ = _unit_lower_and_upper(lu_t)
    return triangular_solve(lu_t, triangular_solve(lower, permuted, lower=True), lower=False)


def lu_matrix_inverse(
    lower_upper: TensorLike, perm: TensorLike, validate_args: bool = False, name: str | None = None
) -> Tensor:
    """The inverse of the matrices factorized as ``(lower_upper, perm)`` by ``tf.linalg.lu``
    (``tf.linalg.lu_matrix_inverse``).

    >>> import tapegrad as tg
    >>> tg.linalg.lu_matrix_inverse(*tg.linalg.lu([[2.0, 0.0], [0.0, 4.0]])).numpy().tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    """
    lu_t, p = _lu_inputs(lower_upper, perm)
    _lu_checks(lu_t, p)
    shape = [int(s) for s in lu_t.shape]
    return lu_solve(lu_t, p, eye(shape[-1], batch_shape=shape[:-2], dtype=lu_t.dtype))


def matrix_rank(a: TensorLike, tol: Any = None, validate_args: bool = False, name: str | None = None) -> Tensor:
    """The number of singular values above `tol` (default ``eps * max(M, N) * max(s)``), int32
    (``tf.linalg.matrix_rank``).

    >>> import tapegrad as tg
    >>> int(tg.linalg.matrix_rank([[1.0, 2.0], [2.0, 4.0]]))
    1
    """
    from ._dtypes import int32

    x = _t(a)
    if not x.dtype.is_floating:
        raise TypeError(f"Input `a` must have `float`-like `dtype` (saw {x.dtype.name}).")
    if len(x.shape) < 2:
        raise ValueError(f"Input `a` must have at least 2 dimensions (saw: {len(x.shape)}).")
    s = svd(x, compute_uv=False)
    if tol is None:
        m = max(int(x.shape[-2]), int(x.shape[-1]))
        eps = float(np.finfo(x.dtype.as_numpy_dtype).eps)
        tol = eps * m * _core.reduce_max(s, [-1], True)
    else:
        tol = convert_to_tensor(tol, dtype=x.dtype)
    return reduce_sum(_core.cast(_core.greater(s, tol), int32._code), axis=-1)


# TF's linalg_impl.py Pade approximants (Higham 2005), numerator coefficients b[0..order-1]
_PADE = {
    3: [120.0, 60.0, 12.0],
    5: [30240.0, 15120.0, 3360.0, 420.0, 30.0],
    7: [17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0],
    9: [17643225600.0, 8821612800.0, 2075673600.0, 302702400.0, 30270240.0, 2162160.0, 110880.0, 3960.0, 90.0],
    13: [
        64764752532480000.0,
        32382376266240000.0,
        7771770303897600.0,
        1187353796428800.0,
        129060195264000.0,
        10559470521600.0,
        670442572800.0,
        33522128640.0,
        1323241920.0,
        40840800.0,
        960960.0,
        16380.0,
        182.0,
    ],
}


def _pade(x, order, ident):
    """(U, V) of the order-`order` Pade approximant exp(x) ~ (V - U)^-1 (V + U), as TF writes them."""
    b = _PADE[order]
    x2 = matmul(x, x)
    if order == 13:
        x4 = matmul(x2, x2)
        x6 = matmul(x4, x2)
        tmp_u = matmul(x6, x6 + b[11] * x4 + b[9] * x2) + b[7] * x6 + b[5] * x4 + b[3] * x2 + b[1] * ident
        tmp_v = b[12] * x6 + b[10] * x4 + b[8] * x2
        return matmul(x, tmp_u), matmul(x6, tmp_v) + b[6] * x6 + b[4] * x4 + b[2] * x2 + b[0] * ident
    powers = [ident, x2]
    for _ in range(order // 2 - 1):
        powers.append(matmul(powers[-1], x2))
    u, v = powers[-1], b[order - 1] * powers[-1]
    for k in range(order // 2 - 1, -1, -1):  # TF's order of additions
        u = u + b[2 * k + 1] * powers[k]
        v = v + b[2 * k] * powers[k]
    return matmul(x, u), v


def expm(input: TensorLike, name: str | None = None) -> Tensor:
    """The matrix exponential of the innermost square matrices by scaling and squaring with TF's
    Pade approximants (``tf.linalg.expm``: the same orders and switch points, per matrix), written
    in differentiable ops so gradients of every order come from the tape.

    >>> import tapegrad as tg
    >>> tg.linalg.expm(tg.constant([[0.0, 0.0], [0.0, 1.0]], tg.float64)).numpy().round(4).tolist()
    [[1.0, 0.0], [0.0, 2.7183]]
    """
    x = _t(input)
    if not x.dtype.is_floating:
        raise ValueError(f"tf.linalg.expm does not support matrices of type <dtype: '{x.dtype.name}'>")
    shape = [int(s) for s in x.shape]
    if len(shape) < 2 or shape[-1] != shape[-2]:
        a = "[" + ",".join(str(d) for d in ([1] if len(shape) < 3 else []) + shape) + "]"
        raise InvalidArgumentError(f"Matrix size-incompatible: In[0]: {a}, In[1]: {a} [Op:BatchMatMulV2]")
    if shape[-2:] == [0, 0]:
        return x
    if x.dtype.name in ("float16", "bfloat16"):  # the engine solves in float32 and float64 only
        from ._ops import cast

        return cast(expm(cast(x, "float32")), x.dtype)
    n = shape[-1]
    flat = reshape(x, [-1, n, n])
    l1 = np.abs(np.asarray(flat, dtype=np.float64)).sum(axis=-2).max(axis=-1)  # per matrix
    conds: tuple[float, ...]
    orders: tuple[int, ...]
    if x.dtype.name == "float64":
        maxnorm, conds, orders = (
            5.371920351148152,
            (0.01495585217958292, 0.2539398330063230, 0.9504178996162932, 2.097847961257068),
            (3, 5, 7, 9, 13),
        )
    else:  # float16 / float32: TF's single-precision table
        maxnorm, conds, orders = 3.925724783138660, (0.4258730016922831, 1.880152677804762), (3, 5, 7)
    l1 = l1.astype(x.dtype.as_numpy_dtype)
    if not np.isfinite(l1.max()):
        return constant(np.full(shape, np.nan), dtype=x.dtype)
    with np.errstate(divide="ignore"):
        squarings = np.maximum(np.floor(np.log(l1 / l1.dtype.type(maxnorm)) / np.log(l1.dtype.type(2.0))), 0)
    choice = np.searchsorted(np.asarray(conds, dtype=l1.dtype), l1, side="right")  # first cond with l1 < cond
    ident = eye(n, dtype=x.dtype)
    u: Any = None
    v: Any = None
    for i, order in enumerate(orders):
        if not (choice == i).any():
            continue
        arg = flat
        if order == orders[-1]:
            arg = flat / constant((2.0**squarings).reshape(-1, 1, 1), dtype=x.dtype)
        ui, vi = _pade(arg, order, ident)
        if u is None:
            u, v = ui, vi
        else:
            pick = constant((choice == i).reshape(-1, 1, 1) & np.ones((1, n, n), bool))
            u, v = _core.where3(pick, ui, u), _core.where3(pick, vi, v)
    result = solve(-u + v, u + v)
    for i in range(int(squarings.max())):
        pick = constant((i < squarings).reshape(-1, 1, 1) & np.ones((1, n, n), bool))
        result = _core.where3(pick, matmul(result, result), result)
    return reshape(result, shape)


# ---- diagonals k != 0 and bands of diagonals (TF's MatrixDiagV3 / MatrixDiagPartV3 / MatrixSetDiagV3)

_ALIGNS = ("LEFT_RIGHT", "RIGHT_LEFT", "LEFT_LEFT", "RIGHT_RIGHT")


def _k_pair(k, op):
    a = np.asarray(k).reshape(-1)
    if a.size not in (1, 2):
        raise InvalidArgumentError(
            f"diag_index must have only one or two elements, received {a.size} elements. [Op:{op}]"
        )
    lo, hi = int(a[0]), int(a[-1])
    if lo > hi:
        raise InvalidArgumentError(f"lower_diag_index must not be larger than upper_diag_index: {lo} > {hi} [Op:{op}]")
    return lo, hi, a.size == 2


def _check_align(align, op):
    if align not in _ALIGNS:
        raise InvalidArgumentError(
            f"Value for attr 'align' of \"{align}\" is not in the list of allowed values: "
            + ", ".join(f'"{a}"' for a in _ALIGNS)
            + f" [Op:{op}]"
        )


def _diag_len(d, rows, cols):
    """The length of diagonal d (n - m = d) of a rows x cols matrix."""
    return np.minimum(cols - np.maximum(d, 0), rows + np.minimum(d, 0))


def _align_offset(d, diag_len, max_len, align):
    """Where diagonal d starts within its padded row of max_len: TF's `align` puts superdiagonals
    (d >= 0) on the right for RIGHT_* and subdiagonals (d <= 0) on the right for *_RIGHT."""
    right_upper = align in ("RIGHT_LEFT", "RIGHT_RIGHT")
    right_lower = align in ("LEFT_RIGHT", "RIGHT_RIGHT")
    return np.where(((d >= 0) & right_upper) | ((d <= 0) & right_lower), max_len - diag_len, 0)


def _diag_layout(rows, cols, lo, hi, max_len, align):
    """For each (m, n) of a rows x cols matrix: whether diagonal d = n - m is in [lo, hi], and the
    flat index (k1 - d) * max_len + index_in_diag of its entry in the stacked diagonals."""
    m = np.arange(rows)[:, None]
    n = np.arange(cols)[None, :]
    d = n - m
    offset = _align_offset(d, _diag_len(d, rows, cols), max_len, align)
    idx = n - np.maximum(d, 0) + offset
    inside = (d >= lo) & (d <= hi)
    flat = np.where(inside, (hi - d) * max_len + idx, 0)
    return inside, flat


def _padded(values_shape, pad, dtype):
    return broadcast_to(convert_to_tensor(pad, dtype=dtype), values_shape)


def _diag_general(diagonal, k, num_rows, num_cols, padding_value, align):
    from ._ops_shape import gather

    op = "MatrixDiagV3"
    _check_align(align, op)
    v = _t(diagonal)
    lo, hi, pair = _k_pair(k, op)
    shape = [int(s) for s in v.shape]
    if len(shape) < (2 if pair and lo != hi else 1):
        raise InvalidArgumentError(f"diagonal must be at least 1-dim, received shape: {_shape_str(v)} [Op:{op}]")
    num_diags = hi - lo + 1
    if pair and lo != hi and shape[-2] != num_diags:
        raise InvalidArgumentError(
            "The number of diagonals provided in the input does not match the lower_diag_index and "
            f"upper_diag_index range. [Op:{op}]"
        )
    batch = shape[:-2] if pair and lo != hi else shape[:-1]
    max_len = shape[-1]
    min_rows, min_cols = max_len - min(hi, 0), max_len + max(lo, 0)
    rows, cols = int(np.asarray(num_rows).reshape(())), int(np.asarray(num_cols).reshape(()))
    if rows == -1 and cols == -1:
        rows = cols = max(min_rows, min_cols)
    elif rows == -1:
        rows = min_rows
    elif cols == -1:
        cols = min_cols
    if rows < min_rows:
        raise InvalidArgumentError(f"The number of rows is too small. [Op:{op}]")
    if cols < min_cols:
        raise InvalidArgumentError(f"The number of columns is too small. [Op:{op}]")
    if rows != min_rows and cols != min_cols:
        raise InvalidArgumentError(
            "The number of rows or columns is not consistent with the specified d_lower, d_upper, "
            f"and diagonal. [Op:{op}]"
        )
    inside, flat = _diag_layout(rows, cols, lo, hi, max_len, align)
    values = reshape(v, batch + [num_diags * max_len])
    if num_diags * max_len == 0:
        return _padded(batch + [rows, cols], padding_value, v.dtype)
    picked = reshape(gather(values, constant(flat.reshape(-1).astype(np.int64)), axis=-1), batch + [rows, cols])
    mask = broadcast_to(constant(inside), batch + [rows, cols])
    return _core.where3(mask, picked, _padded(batch + [rows, cols], padding_value, v.dtype))


def _band(x, k, op):
    """x's shape and the diagonal band k = (lo, hi) with TF's checks for a MatrixDiag*V3 op."""
    shape = [int(s) for s in x.shape]
    if len(shape) < 2:
        raise InvalidArgumentError(f"input must be at least 2-dim, received shape: {_shape_str(x)} [Op:{op}]")
    lo, hi, pair = _k_pair(k, op)
    rows, cols = shape[-2], shape[-1]
    for name, val in (("lower", lo), ("upper", hi)):
        if val != 0 and not -rows < val < cols:  # k = 0 is always accepted (empty matrices), as TF
            raise InvalidArgumentError(
                f"{name}_diag_index is out of bound: {val}. It must be between {-rows} and {cols} [Op:{op}]"
            )
    return shape, lo, hi, pair


def _diag_part_general(input, k, padding_value, align):
    from ._ops_shape import gather

    op = "MatrixDiagPartV3"
    _check_align(align, op)
    x = _t(input)
    shape, lo, hi, pair = _band(x, k, op)
    rows, cols = shape[-2], shape[-1]
    batch = shape[:-2]
    num_diags = hi - lo + 1
    d = np.arange(lo, hi + 1)
    diag_len = _diag_len(d, rows, cols)
    max_len = int(diag_len.max()) if d.size else 0
    # for each (diagonal i = k1 - d, j): the (m, n) it reads, or padding
    i = np.arange(num_diags)[:, None]
    j = np.arange(max_len)[None, :]
    dd = hi - i
    dl = _diag_len(dd, rows, cols)
    offset = _align_offset(dd, dl, max_len, align)
    t = j - offset
    valid = (t >= 0) & (t < dl)
    m = t + np.maximum(-dd, 0)
    n = t + np.maximum(dd, 0)
    flat = np.where(valid, m * cols + n, 0)
    out_shape = batch + ([num_diags, max_len] if pair and lo != hi else [max_len])
    if rows * cols == 0 or max_len == 0:
        return _padded(out_shape, padding_value, x.dtype)
    picked = gather(reshape(x, batch + [rows * cols]), constant(flat.reshape(-1).astype(np.int64)), axis=-1)
    picked = reshape(picked, out_shape)
    mask = broadcast_to(constant(valid.reshape(out_shape[len(batch) :])), out_shape)
    return _core.where3(mask, picked, _padded(out_shape, padding_value, x.dtype))


def _set_diag_general(input, diagonal, k, align):
    from ._ops_shape import gather

    op = "MatrixSetDiagV3"
    _check_align(align, op)
    x = _t(input)
    v = diagonal if isinstance(diagonal, Tensor) else convert_to_tensor(diagonal, dtype=x.dtype)
    shape, lo, hi, pair = _band(x, k, op)
    rows, cols = shape[-2], shape[-1]
    batch = shape[:-2]
    num_diags = hi - lo + 1
    d = np.arange(lo, hi + 1)
    max_len = int(_diag_len(d, rows, cols).max())
    band = pair and lo != hi
    v_shape = [int(s) for s in v.shape]
    if band and (len(v_shape) < 2 or v_shape[-2] != num_diags):
        raise InvalidArgumentError(
            "The number of diagonals provided in `diag` is not consistent with `lower_diag_index` and "
            f"`upper_diag_index` [Op:{op}]"
        )
    want = batch + ([num_diags, max_len] if band else [max_len])
    if v_shape != want:
        raise InvalidArgumentError(
            "Either first dimensions of diagonal don't match input.shape[:-2], or diagonal.shape[:-1] is not "
            "equal to the longests diagonal in range [lower_diag_index:upper_diag_index].Input shape: "
            f"{_shape_str(x)}Diagonal shape: {_shape_str(v)}Computed diagonal length: {max_len} [Op:{op}]"
        )
    inside, flat = _diag_layout(rows, cols, lo, hi, max_len, align)
    if num_diags * max_len == 0:
        return x
    values = reshape(v, batch + [num_diags * max_len])
    picked = reshape(gather(values, constant(flat.reshape(-1).astype(np.int64)), axis=-1), shape)
    return _core.where3(broadcast_to(constant(inside), shape), picked, x)


# ---- tensor_diag, tensor_diag_part, normalize --------------------------------------------------


def tensor_diag(diagonal: TensorLike, name: str | None = None) -> Tensor:
    """The rank-2k tensor with `diagonal` ``[D1, ..., Dk]`` at ``[i1, ..., ik, i1, ..., ik]`` and
    zeros elsewhere (``tf.linalg.tensor_diag``).

    >>> import tapegrad as tg
    >>> tg.linalg.tensor_diag([1, 2]).numpy().tolist()
    [[1, 0], [0, 2]]
    """
    v = _t(diagonal)
    shape = [int(s) for s in v.shape]
    if not shape:
        raise InvalidArgumentError("Input must be at least rank 1, got 0 [Op:Diag]")
    n = int(np.prod(shape, dtype=np.int64))
    return reshape(_diag_general(reshape(v, [n]), 0, -1, -1, 0, "RIGHT_LEFT"), shape + shape)


def tensor_diag_part(input: TensorLike, name: str | None = None) -> Tensor:
    """The diagonal ``[D1, ..., Dk]`` of a rank-2k tensor ``[D1, ..., Dk, D1, ..., Dk]``
    (``tf.linalg.tensor_diag_part``).

    >>> import tapegrad as tg
    >>> tg.linalg.tensor_diag_part([[1, 5], [7, 2]]).numpy().tolist()
    [1, 2]
    """
    x = _t(input)
    shape = [int(s) for s in x.shape]
    rank = len(shape)
    if rank == 0:
        return x
    if rank % 2:
        gap = " " * 42  # TF's message has a run of spaces from a C++ line continuation
        raise InvalidArgumentError(
            f"The rank of the tensor should be{gap}even and positive, got shape {_shape_str(x)} [Op:DiagPart]"
        )
    half = shape[: rank // 2]
    if half != shape[rank // 2 :]:
        bad = next(i for i in range(rank // 2) if shape[i] != shape[i + rank // 2])
        raise InvalidArgumentError(
            f"Invalid shape {_shape_str(x)}: dimensions {bad} and {bad + rank // 2} do not match. [Op:DiagPart]"
        )
    n = int(np.prod(half, dtype=np.int64))
    return reshape(_diag_part_general(reshape(x, [n, n]), 0, 0, "RIGHT_LEFT"), half)


def normalize(
    tensor: TensorLike, ord: Any = "euclidean", axis: Any = None, name: str | None = None
) -> tuple[Tensor, Tensor]:  # noqa: A002
    """``(tensor / norm, norm)`` with ``norm = tf.norm(tensor, ord, axis, keepdims=True)``
    (``tf.linalg.normalize``).

    >>> import tapegrad as tg
    >>> unit, n = tg.linalg.normalize([3.0, 4.0])
    >>> unit.numpy().tolist(), n.numpy().tolist()
    ([0.6000000238418579, 0.800000011920929], [5.0])
    """
    from ._ops_math import norm as _norm

    x = _t(tensor)
    n = _norm(x, ord=ord, axis=axis, keepdims=True)
    return x / n, n


# ---- tridiagonal matrices ----------------------------------------------------------------------


def _tridiagonal_compact(diagonals, diagonals_format, dtype=None):
    """(super, main, sub) [..., M] each, TF's compact layout: super[..., M-1] and sub[..., 0]
    are padding."""
    from ._ops_shape import concat

    if diagonals_format == "compact":
        d = _t(diagonals)
        if int(d.shape[-2]) != 3:
            raise ValueError(f"Expected 3 diagonals got {int(d.shape[-2])}")
        return d[..., 0, :], d[..., 1, :], d[..., 2, :]
    if diagonals_format == "sequence":
        if not isinstance(diagonals, (tuple, list)) or len(diagonals) != 3:
            raise ValueError("Expected diagonals to be a sequence of length 3.")
        sup, main, sub = (_t(v) for v in diagonals)
        m = int(main.shape[-1])
        zero = lambda t: zeros_like(t[..., :1])  # noqa: E731
        if int(sub.shape[-1]) == m - 1:
            sub = concat([zero(main), sub], -1)
        if int(sup.shape[-1]) == m - 1:
            sup = concat([sup, zero(main)], -1)
        return sup, main, sub
    if diagonals_format == "matrix":
        d = _t(diagonals)
        m1, m2 = int(d.shape[-1]), int(d.shape[-2])
        if m1 != m2:
            raise ValueError(f"Expected last two dimensions of diagonals to be same, got {m1} and {m2}")
        bands = diag_part(d, k=(-1, 1), padding_value=0, align="LEFT_RIGHT")
        return bands[..., 0, :], bands[..., 1, :], bands[..., 2, :]
    raise ValueError(f"Unrecognized diagonals_format: {diagonals_format}")


def _shift_rows(x, up):
    """x[..., i + 1, :] (up) or x[..., i - 1, :] along axis -2, zero-filled at the end it leaves."""
    from ._ops_shape import concat

    zero = zeros_like(x[..., :1, :])
    return concat([x[..., 1:, :], zero], -2) if up else concat([zero, x[..., :-1, :]], -2)


def tridiagonal_matmul(
    diagonals: Any, rhs: TensorLike, diagonals_format: str = "compact", name: str | None = None
) -> Tensor:
    """The product of tridiagonal matrices (given as their three diagonals: ``compact``
    ``[..., 3, M]`` super/main/sub, a ``sequence`` of three, or the full ``matrix``) with `rhs`
    ``[..., M, N]`` (``tf.linalg.tridiagonal_matmul``).

    >>> import tapegrad as tg
    >>> tg.linalg.tridiagonal_matmul([[1.0, 1.0, 0.0], [3.0, 3.0, 3.0], [0.0, 1.0, 1.0]], [[1.0], [1.0], [1.0]]).numpy().tolist()
    [[4.0], [5.0], [4.0]]
    """
    sup, main, sub = _tridiagonal_compact(diagonals, diagonals_format)
    b = rhs if isinstance(rhs, Tensor) else convert_to_tensor(rhs, dtype=main.dtype)
    col = lambda v: reshape(v, [int(s) for s in v.shape] + [1])  # noqa: E731
    return col(sup) * _shift_rows(b, True) + col(main) * b + col(sub) * _shift_rows(b, False)


def _gtsv(sup, main, sub, b, pivoting):
    """Solves tridiagonal systems [B, M] x [B, M, K] by Gaussian elimination, with LAPACK gtsv's
    row interchanges when `pivoting`; nan where a pivot is zero (TF's result for singular input)."""
    du, d, dl = sup.copy(), main.copy(), sub[:, 1:].copy()  # dl[i]: row i + 1, column i
    b = b.copy()
    bsz, m = d.shape
    du2 = np.zeros_like(d)  # fill-in on the second superdiagonal
    singular = np.zeros(bsz, bool)
    for i in range(m - 1):
        swap = pivoting & (np.abs(d[:, i]) < np.abs(dl[:, i]))
        piv = np.where(swap, dl[:, i], d[:, i])
        singular |= piv == 0
        safe = np.where(piv == 0, 1, piv)
        fact = np.where(swap, d[:, i], dl[:, i]) / safe
        # rows i and i+1 after an optional interchange: row i = (piv, du_i, du2_i), row i+1 reduced
        r0_1 = np.where(swap, d[:, i + 1], du[:, i])
        r0_2 = np.where(swap, du[:, i + 1] if i + 1 < m - 1 else 0, 0)
        r1_1 = np.where(swap, du[:, i], d[:, i + 1])
        r1_2 = np.where(swap, 0, du[:, i + 1] if i + 1 < m - 1 else 0)
        b0 = np.where(swap[:, None], b[:, i + 1], b[:, i])
        b1 = np.where(swap[:, None], b[:, i], b[:, i + 1])
        d[:, i], du[:, i], du2[:, i] = piv, r0_1, r0_2
        d[:, i + 1] = r1_1 - fact * r0_1
        if i + 1 < m - 1:
            du[:, i + 1] = r1_2 - fact * r0_2
        b[:, i], b[:, i + 1] = b0, b1 - fact[:, None] * b0
    singular |= d[:, m - 1] == 0
    safe_d = np.where(d == 0, 1, d)
    x = np.zeros_like(b)
    for i in range(m - 1, -1, -1):
        acc = b[:, i].copy()
        if i + 1 < m:
            acc -= du[:, i, None] * x[:, i + 1]
        if i + 2 < m:
            acc -= du2[:, i, None] * x[:, i + 2]
        x[:, i] = acc / safe_d[:, i, None]
    x[singular] = np.nan
    return x


@custom_gradient
def _tridiagonal_solve_op(sup, main, sub, rhs, pivoting):
    def grad(dy):  # A x = b: db = A^-T dy; dA = -db x^T on the three diagonals
        x = _tridiagonal_solve_op(sup, main, sub, rhs, pivoting)
        from ._ops_shape import concat

        zero = zeros_like(main[..., :1])
        sup_t = concat([sub[..., 1:], zero], -1)
        sub_t = concat([zero, sup[..., :-1]], -1)
        db = _tridiagonal_solve_op(sup_t, main, sub_t, dy, pivoting)
        g_sup = -reduce_sum(db * _shift_rows(x, True), axis=-1)
        g_main = -reduce_sum(db * x, axis=-1)
        g_sub = -reduce_sum(db * _shift_rows(x, False), axis=-1)
        return g_sup, g_main, g_sub, db, None

    s, mn, sb, b = (np.asarray(t) for t in (sup, main, sub, rhs))
    batch = b.shape[:-2]
    m, k = b.shape[-2], b.shape[-1]
    flat = lambda a: np.broadcast_to(a, batch + (m,)).reshape(-1, m)  # noqa: E731
    x = _gtsv(flat(s), flat(mn), flat(sb), b.reshape(-1, m, k), bool(np.asarray(pivoting)))
    return constant(x.reshape(b.shape).astype(b.dtype), dtype=rhs.dtype), grad


def tridiagonal_solve(
    diagonals: Any,
    rhs: TensorLike,
    diagonals_format: str = "compact",
    transpose_rhs: bool = False,
    conjugate_rhs: bool = False,
    name: str | None = None,
    partial_pivoting: bool = True,
    perturb_singular: bool = False,
) -> Tensor:
    """Solves tridiagonal systems ``A x = rhs`` (A as in ``tridiagonal_matmul``; rhs ``[..., M]``
    or ``[..., M, K]``) by Gaussian elimination with partial pivoting, as LAPACK's gtsv; a
    singular system gives nan, as TF (``tf.linalg.tridiagonal_solve``). Gradients flow to the
    diagonals and rhs.

    >>> import tapegrad as tg
    >>> tg.linalg.tridiagonal_solve([[1.0, 1.0, 0.0], [3.0, 3.0, 3.0], [0.0, 1.0, 1.0]], [4.0, 5.0, 4.0]).numpy().round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    from ._ops_math import _attr_t_error

    if perturb_singular and not partial_pivoting:
        raise ValueError("partial_pivoting must be True if perturb_singular is.")
    if perturb_singular:
        raise NotImplementedError("tg.linalg.tridiagonal_solve: perturb_singular=True is not implemented")
    sup, main, sub = _tridiagonal_compact(diagonals, diagonals_format)
    b = rhs if isinstance(rhs, Tensor) else convert_to_tensor(rhs, dtype=main.dtype)
    if not main.dtype.is_floating:
        raise _attr_t_error(main.dtype, "double, float, complex64, complex128", "TridiagonalSolve")
    if b.dtype != main.dtype:
        raise InvalidArgumentError(
            f"cannot compute TridiagonalSolve as input #1(zero-based) was expected to be a "
            f"{_kname(main.dtype)} tensor but is a {_kname(b.dtype)} tensor [Op:TridiagonalSolve]"
        )
    vector = len(b.shape) == len(main.shape)
    if vector:
        b = reshape(b, [int(s) for s in b.shape] + [1])
    elif transpose_rhs:
        b = matrix_transpose(b)
    m = int(main.shape[-1])
    if int(b.shape[-2]) != m:
        raise ValueError(
            f"Expected number of left-hand sided and right-hand sides to be equal, got {m} and {int(b.shape[-2])}"
        )
    x = _tridiagonal_solve_op(sup, main, sub, b, constant(bool(partial_pivoting)))
    return reshape(x, [int(s) for s in x.shape[:-1]]) if vector else x


def banded_triangular_solve(
    bands: TensorLike, rhs: TensorLike, lower: bool = True, adjoint: bool = False, name: str | None = None
) -> Tensor:
    """Solves ``A x = rhs`` for a banded triangular A given by its K bands ``[..., K, M]``: the
    diagonal first, then the subdiagonals (lower) or the superdiagonals down to the diagonal last
    (upper), stored with TF's LEFT_RIGHT alignment (``tf.linalg.banded_triangular_solve``). A is
    assembled with ``tf.linalg.diag`` and solved with ``triangular_solve``, so gradients of every
    order come from those ops.

    >>> import tapegrad as tg
    >>> tg.linalg.banded_triangular_solve([[2.0, 4.0], [0.0, 1.0]], [[2.0], [5.0]]).numpy().tolist()
    [[1.0], [1.0]]
    """
    b = _t(bands)
    if len(b.shape) < 2:
        raise InvalidArgumentError(f"In[0] ndims must be >= 2: {len(b.shape)} [Op:BandedTriangularSolve]")
    k, m = int(b.shape[-2]), int(b.shape[-1])
    if k > m:  # bands past the matrix's corner hold nothing (TF accepts them)
        b = b[..., :m, :] if lower else b[..., k - m :, :]
        k = m
    band_range = (-(k - 1), 0) if lower else (0, k - 1)
    dense = diag(b, k=band_range, num_rows=m, num_cols=m, align="LEFT_RIGHT")
    r = rhs if isinstance(rhs, Tensor) else convert_to_tensor(rhs, dtype=b.dtype)
    return triangular_solve(dense, r, lower=lower, adjoint=adjoint)
