"""Python side of the math ops area; the namespaces (tapegrad/__init__.py, math.py, nn.py,
linalg.py) import their names from here.

Composites follow TF's own Python (math_ops.py, nn_ops.py, clip_ops.py, linalg_ops.py) op for op,
so values, gradients at kinks and NaN behaviour match; the engine's primitives give the gradients.
"""

from __future__ import annotations

import collections.abc
import numbers
from typing import Any

import numpy as np

from . import _core, _ops_shape
from ._custom_gradient import custom_gradient
from ._dtypes import as_dtype, int32, int64
from ._indexed_slices import IndexedSlices
from ._ops import convert_to_tensor, reshape
from ._tensor import Tensor, Variable
from ._typing import AxisLike, DTypeLike, TensorLike

_where = _core.where3
erfc = _core.erfc
asinh = _core.asinh
acosh = _core.acosh
atanh = _core.atanh
relu6 = _core.relu6

_F32_SQRT_HALF = float(np.float32(0.7071067811865476))
_F32_COEFF = float(np.float32(0.044715))


def _t(x: Any) -> Tensor:
    return convert_to_tensor(x)


_KERNEL_NAMES = {"float16": "half", "float32": "float", "float64": "double"}  # TF's names in kernel messages


def _kernel_name(dtype):
    """The dtype's name as TF's kernel messages spell it (float32 -> "float")."""
    return _KERNEL_NAMES.get(dtype.name, dtype.name)


def _attr_t_error(dtype, allowed, op, attr="T"):
    """TF's InvalidArgumentError for an op called with a dtype its attr (`T`, `Tidx`, ...) does not
    allow, up to TF's NodeDef details: "Value for attr 'T' of int32 is not in the list of allowed
    values: half, bfloat16, float, double [Op:Softplus]" (`allowed`: TF's list, in TF's order)."""
    return _core.InvalidArgumentError(
        f"Value for attr '{attr}' of {_kernel_name(dtype)} is not in the list of allowed values: {allowed} [Op:{op}]"
    )


def _float_input(x: Any, op: str, allowed: str = "half, bfloat16, float, double") -> Tensor:
    """x as a tensor; TF's InvalidArgumentError when it is not float (op: TF's op name, allowed:
    the op's list of dtypes in TF's message)."""
    x = _t(x)
    if not x.dtype.is_floating:
        raise _attr_t_error(x.dtype, allowed, op)
    return x


def _axis_int(axis: Any) -> int:
    if isinstance(axis, (Tensor, Variable, np.ndarray)):
        a = np.asarray(axis)
        if a.size != 1 or a.dtype.kind not in "iu":
            raise TypeError(f"axis must be an integer scalar, got {a!r}")
        return int(a.reshape(()))
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral,)):
        raise TypeError(f"axis must be an integer, got {axis!r}")
    return int(axis)


def _squeezed_shape(shape, axis):
    """The shape that reducing `shape` over `axis` (None, int or list) without keepdims gives."""
    nd = len(shape)
    if axis is None:
        return []
    axes = [axis] if isinstance(axis, (numbers.Integral, np.integer)) else list(np.asarray(axis).reshape(-1))
    norm = set()
    for a in axes:
        a = int(a)
        if a < -nd or a >= nd:
            raise _core.InvalidArgumentError(f"Invalid reduction dimension ({a} for input with {nd} dimension(s)")
        norm.add(a % nd if nd else a)
    return [d for i, d in enumerate(shape) if i not in norm]


# ---- elementwise -------------------------------------------------------------------------------


def round(x: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001  (TF's name)
    """Rounds half to even (banker's rounding), as TF; integers are returned unchanged."""
    x = _t(x)
    if x.dtype.is_integer:
        return x
    return _core.round(x)


def log_sigmoid(x: TensorLike, name: str | None = None) -> Tensor:
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return -_core.softplus(-_float_input(x, "Softplus"))


def _pair(x: Any, y: Any) -> tuple[Tensor, Tensor]:
    """Both operands as tensors; a Python value takes the other operand's dtype (TF's rule)."""
    kinds = (Tensor, Variable, np.ndarray)
    if isinstance(x, kinds) and not isinstance(y, kinds):
        x = _t(x)
        return x, convert_to_tensor(y, dtype=x.dtype)
    if isinstance(y, kinds) and not isinstance(x, kinds):
        y = _t(y)
        return convert_to_tensor(x, dtype=y.dtype), y
    return _t(x), _t(y)


def _scalar(v: Any, dtype: Any) -> Tensor:
    return convert_to_tensor(v, dtype=dtype)


def xlogy(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x * log(y), and 0 where x == 0 (whatever y is). Gradients as TF: 0 at x == 0."""
    x, y = _pair(x, y)
    zero = _core.equal(x, _scalar(0, x.dtype))
    safe_y = _where(zero, _scalar(1, y.dtype), y)
    return _where(zero, _scalar(0, x.dtype), x * _core.log(safe_y))


def xlog1py(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x * log1p(y), and 0 where x == 0."""
    x, y = _pair(x, y)
    zero = _core.equal(x, _scalar(0, x.dtype))
    safe_y = _where(zero, _scalar(0, y.dtype), y)
    return _where(zero, _scalar(0, x.dtype), x * _core.log1p(safe_y))


def xdivy(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y, and 0 where x == 0."""
    x, y = _pair(x, y)
    zero = _core.equal(x, _scalar(0, x.dtype))
    safe_y = _where(zero, _scalar(1, y.dtype), y)
    return _where(zero, _scalar(0, x.dtype), x / safe_y)


def divide_no_nan(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x / y, and 0 where y == 0 (also for x = inf or nan). Gradients are 0 there too."""
    x, y = _pair(x, y)
    if x.dtype.is_integer and y.dtype == x.dtype:  # TF's truediv table: 8/16-bit in float32, else float64
        code = 0 if x.dtype.size <= 2 else 1
        x, y = _core.cast(x, code), _core.cast(y, code)
    zero = _core.equal(y, _scalar(0, y.dtype))
    safe_y = _where(zero, _scalar(1, y.dtype), y)
    return _where(zero, _scalar(0, x.dtype), x / safe_y)


def multiply_no_nan(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """x * y, and 0 where y == 0 even if x is inf or nan."""
    x, y = _pair(x, y)
    if not x.dtype.is_floating:
        raise _core.InvalidArgumentError(f"multiply_no_nan: expected float tensors, got {x.dtype.name} [Op:MulNoNan]")
    return _mul_no_nan(x, y)


@custom_gradient
def _mul_no_nan(x, y):
    # TF's MulNoNan gradient: dx = mul_no_nan(dy, y), dy = mul_no_nan(x, dy), so a NaN or inf in x
    # passes through to y's gradient (the backward pass sums broadcast gradients back).
    fix = _core.logical_and(_core.equal(y, _scalar(0, y.dtype)), _core.logical_not(_core.is_finite(x)))

    def grad(dy):
        return _mul_no_nan(dy, y), _mul_no_nan(x, dy)

    return _where(fix, _scalar(0, x.dtype), x) * y, grad


def mod(x: TensorLike, y: TensorLike, name: str | None = None) -> Tensor:
    """floormod: the remainder of floor division, with the sign of y."""
    return _core.floormod(x, y)


def rint(x: TensorLike, name: str | None = None) -> Tensor:
    """Rounds half to even."""
    return _core.round(x)


def scalar_mul(scalar: TensorLike, x: Tensor, name: str | None = None) -> Tensor:
    """scalar * x."""
    scalar = convert_to_tensor(scalar, dtype=x.dtype)  # x must be a tensor (TF reads x.dtype)
    if scalar.ndim != 0:
        raise ValueError(f"The input scalar must be a 0-D value. Received shape {scalar.shape}.")
    return _core.multiply(scalar, x)


def conj(x: TensorLike, name: str | None = None) -> Tensor:
    """The complex conjugate; the identity for real tensors.

    >>> import tapegrad as tg
    >>> tg.math.conj(tg.constant([1 + 2j])).numpy()
    array([1.-2.j])
    """
    return _core.conj(x)


def complex(real: TensorLike, imag: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001  (TF's name)
    """``real + i * imag``, elementwise (float32 -> complex64, float64 -> complex128).

    >>> import tapegrad as tg
    >>> tg.complex(tg.constant([1.0]), tg.constant([2.0])).numpy()
    array([1.+2.j], dtype=complex64)
    """
    return _core.complex(real, imag)


def real(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002  (TF's argument name)
    """The real part of a complex tensor; a real tensor is returned as it is."""
    return _core.real(input)


def imag(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The imaginary part of a complex tensor; zeros for a real tensor."""
    return _core.imag(input)


def angle(input: TensorLike, name: str | None = None) -> Tensor:  # noqa: A002
    """The argument of each complex element, in (-pi, pi]; for a real tensor, 0 or pi (as TF)."""
    return _core.angle(input)


def logical_xor(x: TensorLike, y: TensorLike, name: str = "LogicalXor") -> Tensor:
    """x != y for bool tensors."""
    return _core.logical_and(_core.logical_or(x, y), _core.logical_not(_core.logical_and(x, y)))


def add_n(inputs: Any, name: str | None = None) -> Tensor:
    """The elementwise sum of a list of tensors of one shape and dtype (no broadcasting, as TF)."""
    if isinstance(inputs, (Tensor, Variable, np.ndarray)) or not isinstance(inputs, collections.abc.Iterable):
        raise ValueError(
            "inputs must be an iterable of at least one Tensor/IndexedSlices with the same dtype and shape"
        )
    values = [_t(v) for v in inputs]
    if not values:
        raise ValueError(
            "inputs must be an iterable of at least one Tensor/IndexedSlices with the same dtype and shape"
        )
    for i, v in enumerate(values[1:], 1):
        if tuple(v.shape) != tuple(values[0].shape):
            raise _core.InvalidArgumentError(
                f"Shapes of all inputs must match: values[0].shape = {_shape_str(values[0].shape)} != "
                f"values[{i}].shape = {_shape_str(v.shape)} [Op:AddN]"
            )
    if len(values) == 1:
        return _core.identity(values[0])
    total = values[0] + values[1]
    for v in values[2:]:
        total = total + v
    return total


# ---- reductions --------------------------------------------------------------------------------


def reduce_logsumexp(
    input_tensor: TensorLike, axis: AxisLike = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """log(sum(exp(x))) over `axis`, stable: the (finite) max is subtracted first, as TF."""
    x = _t(input_tensor)
    raw_max = _core.reduce_max(x, axis, True)
    my_max = _core.stop_gradient(_where(_core.is_finite(raw_max), raw_max, _scalar(0, raw_max.dtype)))
    result = _core.log(_core.reduce_sum(_core.exp(x - my_max), axis, keepdims))
    if not keepdims:
        my_max = reshape(my_max, list(result.shape))
    return result + my_max


def reduce_variance(
    input_tensor: TensorLike, axis: AxisLike = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """The variance (divisor N) over `axis`."""
    x = _t(input_tensor)
    if not (x.dtype.is_floating or x.dtype.is_complex):
        raise TypeError(f"Input must be either real or complex. Received integer type <dtype: '{x.dtype.name}'>.")
    means = _core.reduce_mean(x, axis, True)
    dev = x - means
    squared = _core.square(_core.abs(dev)) if x.dtype.is_complex else _core.square(dev)  # TF: real for complex
    return _core.reduce_mean(squared, axis, keepdims)


def reduce_std(
    input_tensor: TensorLike, axis: AxisLike = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """The standard deviation (divisor N) over `axis`."""
    return _core.sqrt(reduce_variance(input_tensor, axis, keepdims))


def reduce_euclidean_norm(
    input_tensor: TensorLike, axis: AxisLike = None, keepdims: bool = False, name: str | None = None
) -> Tensor:
    """sqrt(sum(|x|**2)) over `axis` (a complex input keeps its dtype, as TF)."""
    x = _t(input_tensor)
    xc = _core.conj(x) if x.dtype.is_complex else x
    return _core.sqrt(_core.reduce_sum(x * xc, axis, keepdims))


def argmax(
    input: TensorLike,
    axis: AxisLike = None,
    output_type: DTypeLike = int64,  # noqa: A002  (TF's name)
    name: str | None = None,
) -> Tensor:
    """Index of the largest value along `axis` (default 0); the first one on ties. int64 by default."""
    return _core._arg_reduce(input, 0 if axis is None else _axis_int(axis), as_dtype(output_type)._code, True)


def argmin(
    input: TensorLike,
    axis: AxisLike = None,
    output_type: DTypeLike = int64,  # noqa: A002
    name: str | None = None,
) -> Tensor:
    """Index of the smallest value along `axis` (default 0); the first one on ties. int64 by default."""
    return _core._arg_reduce(input, 0 if axis is None else _axis_int(axis), as_dtype(output_type)._code, False)


def cumsum(
    x: TensorLike, axis: AxisLike = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None
) -> Tensor:
    """Cumulative sum along `axis`; `exclusive` leaves out the current element, `reverse` runs backwards.

    >>> import tapegrad as tg
    >>> tg.math.cumsum([1, 2, 3], exclusive=True).numpy().tolist()
    [0, 1, 3]
    """
    return _core._scan(x, _axis_int(axis), bool(exclusive), bool(reverse), False)


def cumprod(
    x: TensorLike, axis: AxisLike = 0, exclusive: bool = False, reverse: bool = False, name: str | None = None
) -> Tensor:
    """Cumulative product along `axis`. The gradient is TF's (divides by x: not finite where x == 0)."""
    return _core._scan(x, _axis_int(axis), bool(exclusive), bool(reverse), True)


TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def top_k(
    input: TensorLike,
    k: int = 1,
    sorted: bool = True,
    index_type: DTypeLike = int32,  # noqa: A002
    name: str | None = None,
) -> Any:
    """The k largest entries of the last axis and their indices, largest first (ties: lower index
    first, as TF). Differentiable in `values`; the selection is a one-hot product, O(k * n) per row."""
    x = _t(input)
    k = _axis_int(k)
    if x.ndim < 1:
        raise _core.InvalidArgumentError("input must be at least 1-dimensional [Op:TopKV2]")
    if k < 0:
        raise _core.InvalidArgumentError(f"Need k >= 0, got {k} [Op:TopKV2]")
    n = x.shape[-1]
    if k > n:
        raise _core.InvalidArgumentError(f"input must have at least k columns. Had {n}, needed {k} [Op:TopKV2]")
    if x.dtype.is_bool:
        raise _attr_t_error(
            x.dtype, "float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64", "TopKV2"
        )
    a = np.asarray(x)
    if x.dtype.is_floating:  # descending with NaN first (TF treats NaN as the largest); stable on ties
        af = a.astype(np.float64)
        idx = np.lexsort((-af, ~np.isnan(af)), axis=-1)[..., :k]
    else:
        idx = np.argsort(~a, axis=-1, kind="stable")[..., :k]  # ~a: descending without overflow
    indices = convert_to_tensor(idx.astype(as_dtype(index_type).as_numpy_dtype))
    if not x.dtype.is_floating:
        return TopKV2(convert_to_tensor(np.take_along_axis(a, idx, axis=-1)), indices)
    # values by a differentiable gather of the flat positions (a one-hot product would spread NaN)
    rows = int(np.prod(a.shape[:-1], dtype=np.int64))
    flat = (np.arange(rows, dtype=np.int64)[:, None] * n + idx.reshape(rows, k)).reshape(idx.shape)
    values = _core.gather(reshape(x, [-1]), convert_to_tensor(flat), 0, 0)
    return TopKV2(values, indices)


def in_top_k(targets: TensorLike, predictions: TensorLike, k: int, name: str | None = None) -> Tensor:
    """Whether each target's prediction is among the k largest of its row (ties count as in, and a
    non-finite row gives False, as TF). Not differentiable."""
    p = np.asarray(_t(predictions))
    t = np.asarray(_t(targets)).astype(np.int64)
    if p.ndim != 2 or t.shape != p.shape[:1]:
        raise _core.InvalidArgumentError(
            f"predictions must be 2-dimensional and targets 1-dimensional of the same batch size, got "
            f"{list(p.shape)} and {list(t.shape)} [Op:InTopKV2]"
        )
    rows = np.arange(p.shape[0])
    valid = (t >= 0) & (t < p.shape[1])
    target = p[rows, np.clip(t, 0, max(p.shape[1] - 1, 0))]
    ahead = np.sum(p > target[:, None], axis=1)
    ok = valid & np.isfinite(target) & (ahead < int(k)) & np.all(np.isfinite(p), axis=1)
    return convert_to_tensor(ok)


def confusion_matrix(
    labels: TensorLike,
    predictions: TensorLike,
    num_classes: int | None = None,
    weights: TensorLike | None = None,
    dtype: DTypeLike = int32,
    name: str | None = None,
) -> Tensor:
    """counts[i, j]: how many examples have label i and prediction j (or the sum of their weights)."""
    lab = np.asarray(_t(labels)).astype(np.int64).reshape(-1)
    pred = np.asarray(_t(predictions)).astype(np.int64).reshape(-1)
    if lab.shape != pred.shape:
        raise ValueError(f"labels and predictions must have the same shape, got {lab.shape} and {pred.shape}")
    if lab.size and (lab.min() < 0 or pred.min() < 0):
        raise _core.InvalidArgumentError("`labels` and `predictions` must be non-negative")
    n = int(num_classes) if num_classes is not None else int(max(lab.max(initial=-1), pred.max(initial=-1)) + 1)
    if lab.size and (lab.max() >= n or pred.max() >= n):
        raise _core.InvalidArgumentError(f"`labels` and `predictions` must be less than num_classes={n}")
    dt = as_dtype(dtype)
    w = np.ones(lab.shape) if weights is None else np.asarray(_t(weights), np.float64).reshape(-1)
    out = np.zeros((n, n), np.float64)
    np.add.at(out, (lab, pred), w)
    return convert_to_tensor(out.astype(dt.as_numpy_dtype))


def bincount(
    arr: TensorLike,
    weights: TensorLike | None = None,
    minlength: int | None = None,
    maxlength: int | None = None,
    dtype: DTypeLike = int32,
    name: str | None = None,
    axis: AxisLike = None,
    binary_output: bool = False,
) -> Tensor:
    """Counts of each non-negative integer value in arr (or sums of weights). Not differentiable.
    ``axis=-1`` counts each row of a 2-D arr separately (TF's DenseBincount), ``axis=0`` or None
    counts the whole array.

    >>> import tapegrad as tg
    >>> tg.math.bincount([[1, 2, 2], [0, 0, 3]], axis=-1).numpy().tolist()
    [[0, 1, 2, 0], [2, 0, 0, 1]]
    """
    if axis is not None and axis not in (0, -1):
        raise ValueError(f"Unsupported value for argument axis={axis}. Only 0 and -1 are currently supported.")
    if binary_output and weights is not None:
        raise ValueError("Arguments `binary_output` and `weights` are mutually exclusive. Please specify only one.")
    if axis == -1:
        return _bincount_rows(arr, weights, minlength, maxlength, dtype, binary_output)
    a = np.asarray(_t(arr)).reshape(-1)
    if a.dtype.kind not in "iu":
        raise _core.InvalidArgumentError(f"bincount needs an integer input, got {a.dtype} [Op:Bincount]")
    if a.size and a.min() < 0:
        raise _core.InvalidArgumentError("Input arr must be non-negative! [Op:Bincount]")
    size = int(a.max()) + 1 if a.size else 0
    if minlength is not None:
        size = max(size, int(minlength))
    if maxlength is not None:
        size = min(size, int(maxlength))
    keep = a < size
    w = None if weights is None else np.asarray(_t(weights)).reshape(-1)[keep]
    counts: np.ndarray = np.bincount(a[keep], weights=w, minlength=size)[:size]
    if binary_output:
        counts = counts > 0
    out_dtype = as_dtype(dtype) if weights is None else _t(weights).dtype
    return convert_to_tensor(counts.astype(out_dtype.as_numpy_dtype))


def _bincount_rows(arr, weights, minlength, maxlength, dtype, binary_output):
    """TF's DenseBincount: one row of counts per row of a rank <= 2 arr."""
    a = np.asarray(_t(arr))
    if a.dtype.kind not in "iu":
        a = a.astype(np.int32)  # TF casts a non-integer arr to int32
    if a.ndim > 2:
        raise _core.InvalidArgumentError(f"Shape must be at most rank 2 but is rank {a.ndim} [Op:DenseBincount]")
    negative = a[a < 0]
    if negative.size:
        raise _core.InvalidArgumentError(
            f"Input 'in' must be non-negative! Negative input value found: {negative[-1]} [Op:DenseBincount]"
        )
    size = int(a.max()) + 1 if a.size else 0
    if minlength is not None:
        size = max(size, int(minlength))
    if maxlength is not None:
        size = min(size, int(maxlength))
    w = None
    if weights is not None:
        w_t = _t(weights)
        w = np.asarray(w_t)
        if w.shape != a.shape and w.size:
            raise _core.InvalidArgumentError(
                "`weights` must be the same shape as `arr` or a length-0 `Tensor`, in which case it acts as all "
                "weights equal to 1. Received [" + ",".join(str(d) for d in w.shape) + "] [Op:DenseBincount]"
            )
        w = w if w.size else None
    rows = a if a.ndim == 2 else a.reshape(1, a.size)
    w_rows = None if w is None else w.reshape(rows.shape)
    out = np.zeros((rows.shape[0], size), dtype=np.float64)
    for i, r in enumerate(rows):
        keep = r < size
        out[i] = np.bincount(r[keep], weights=None if w_rows is None else w_rows[i][keep], minlength=size)[:size]
    if binary_output:
        out = (out > 0).astype(np.float64)
    if a.ndim < 2:
        out = out.reshape(size)
    out_dtype = as_dtype(dtype) if w is None else _t(weights).dtype
    return convert_to_tensor(out.astype(out_dtype.as_numpy_dtype))


def count_nonzero(
    input: TensorLike,
    axis: AxisLike = None,
    keepdims: bool | None = None,  # noqa: A002
    dtype: DTypeLike = int64,
    name: str | None = None,
) -> Tensor:
    """Number of non-zero elements over `axis` (int64 by default)."""
    x = _t(input)
    nz = _core.not_equal(x, _scalar(False if x.dtype.is_bool else 0, x.dtype))
    return _core.reduce_sum(_core.cast(nz, as_dtype(dtype)._code), axis, bool(keepdims))


def moments(
    x: TensorLike, axes: Any, shift: TensorLike | None = None, keepdims: bool = False, name: str | None = None
) -> tuple[Tensor, Tensor]:
    """(mean, variance) over `axes`, as TF: the variance does not differentiate through the mean."""
    y = _t(x)
    mean = _core.reduce_mean(y, axes, True)
    variance = _core.reduce_mean(_core.squared_difference(y, _core.stop_gradient(mean)), axes, True)
    if not keepdims:
        shape = _squeezed_shape(list(_ops_shape._shape(y)), axes)
        mean = reshape(mean, shape)
        variance = reshape(variance, shape)
    return mean, variance


def batch_normalization(
    x: TensorLike,
    mean: TensorLike,
    variance: TensorLike,
    offset: TensorLike,
    scale: TensorLike,
    variance_epsilon: Any,
    name: str | None = None,
) -> Tensor:
    """(x - mean) * scale / sqrt(variance + eps) + offset, written as TF writes it (offset and scale
    may be None)."""
    x = _t(x)
    inv = _core.rsqrt(_t(variance) + variance_epsilon)
    if scale is not None:
        inv = inv * scale
    shift = (offset - mean * inv) if offset is not None else -(_t(mean) * inv)
    return x * _core.cast(inv, x.dtype._code) + _core.cast(shift, x.dtype._code)


# ---- clipping and norms ------------------------------------------------------------------------


def _assert_same_shape(values, result):
    if tuple(values.shape) != tuple(result.shape):
        raise ValueError(f"Shapes {values.shape} and {result.shape} are incompatible")


def clip_by_value(
    t: TensorLike, clip_value_min: TensorLike, clip_value_max: TensorLike, name: str | None = None
) -> Tensor:
    """min(max(t, lo), hi), elementwise; the bounds must broadcast to t's shape without growing it.
    The gradient passes where lo <= t <= hi (the bounds included), as TF."""
    if type(t) is IndexedSlices:  # TF clips the values and keeps the slices
        return IndexedSlices(clip_by_value(t.values, clip_value_min, clip_value_max), t.indices, t.dense_shape)
    values = _t(t)
    t_min = _core.minimum(values, clip_value_max)
    _assert_same_shape(values, t_min)
    t_max = _core.maximum(t_min, clip_value_min)
    _assert_same_shape(values, t_max)
    return t_max


def clip_by_norm(t: TensorLike, clip_norm: TensorLike, axes: Any = None, name: str | None = None) -> Tensor:
    """Rescales t so that its L2 norm over `axes` is at most clip_norm (an IndexedSlices: the norm
    of its values, and the result is an IndexedSlices, as TF)."""
    if type(t) is IndexedSlices:
        return IndexedSlices(clip_by_norm(t.values, clip_norm, axes), t.indices, t.dense_shape)
    values = _t(t)
    l2sum = _core.reduce_sum(values * values, axes, True)
    pred = l2sum > 0
    l2sum_safe = _where(pred, l2sum, _scalar(1, l2sum.dtype))
    l2norm = _where(pred, _core.sqrt(l2sum_safe), l2sum)
    intermediate = values * clip_norm
    _assert_same_shape(values, intermediate)
    return _core.identity(intermediate / _core.maximum(l2norm, clip_norm))


def l2_loss(t: TensorLike, name: str | None = None) -> Tensor:
    """sum(t ** 2) / 2."""
    t = _float_input(t, "L2Loss")
    return _core.reduce_sum(_core.square(t)) * 0.5


def _tensor_list(t_list):
    if isinstance(t_list, (str, bytes, Tensor, Variable, np.ndarray)) or not isinstance(
        t_list, collections.abc.Sequence
    ):
        raise TypeError(f"`t_list` should be a sequence of tensors. Received {type(t_list)}.")
    return list(t_list)


def global_norm(t_list: Any, name: str | None = None) -> Tensor:
    """sqrt(sum of the squared L2 norms of the tensors in t_list); None entries are ignored."""
    values = [_t(v.values if type(v) is IndexedSlices else v) for v in _tensor_list(t_list) if v is not None]
    if not values:
        return convert_to_tensor(0.0)
    half = l2_loss(values[0])
    for v in values[1:]:
        half = half + l2_loss(v)
    return _core.sqrt(half * 2.0)


def clip_by_global_norm(
    t_list: Any, clip_norm: TensorLike, use_norm: Any = None, name: str | None = None
) -> tuple[list[Tensor | None], Tensor]:
    """Scales every tensor by clip_norm / max(global_norm, clip_norm). Returns (list, global_norm);
    all entries are NaN when the global norm is not finite, as TF."""
    t_list = _tensor_list(t_list)
    use_norm = global_norm(t_list) if use_norm is None else _t(use_norm)
    scale_for_finite = clip_norm * _core.minimum(1.0 / use_norm, _scalar(1.0, use_norm.dtype) / clip_norm)
    scale = scale_for_finite + (use_norm - use_norm)
    clipped = [None if v is None else _clip_scaled(v, scale) for v in t_list]
    return clipped, use_norm


def _clip_scaled(v, scale):
    if type(v) is IndexedSlices:  # TF scales the values and keeps the slices
        return IndexedSlices(_clip_scaled(v.values, scale), v.indices, v.dense_shape)
    v = _t(v)
    return _core.identity(v * _core.cast(scale, v.dtype._code))


_MATRIX_ORDS = ("euclidean", "fro", 1, 2, np.inf)


def norm(
    tensor: TensorLike,
    ord: Any = "euclidean",
    axis: Any = None,  # noqa: A002  (TF's names)
    keepdims: bool | None = None,
    name: str | None = None,
) -> Tensor:
    """Vector norms (axis None or an int; ord 'euclidean', 1, 2, inf or any p > 0) and matrix norms
    (axis a pair; ord 'euclidean'/'fro', 1, 2, inf; ord=2 is the largest singular value, from an SVD
    of the pair of axes moved last, as TF)."""
    keepdims = bool(keepdims)
    is_matrix = isinstance(axis, (tuple, list)) and len(axis) == 2
    is_real = isinstance(ord, (numbers.Real, np.floating, np.integer)) and not isinstance(ord, bool)
    if is_matrix:
        axis = tuple(axis)
        if (not all(isinstance(a, (numbers.Integral, np.integer)) for a in axis)) or axis[0] == axis[1]:
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if not (ord in ("euclidean", "fro") or (is_real and ord in (1, 2, np.inf))):
            raise ValueError(f"'ord' must be a supported matrix norm in {list(_MATRIX_ORDS)}, got {ord}")
    else:
        if not (axis is None or isinstance(axis, (numbers.Integral, np.integer))):
            raise ValueError(f"'axis' must be None, an integer, or a tuple of 2 unique integers, got {axis}")
        if not (ord == "euclidean" or (is_real and ord > 0)):
            raise ValueError(f"'ord' must be a supported vector norm, got {ord}")
        if axis is not None:
            axis = (int(axis),)
    x = _t(tensor)
    ax = None if axis is None else list(axis)
    if is_matrix and is_real and ord == 2:
        result = _spectral_norm(x, axis)
    elif ord in ("fro", "euclidean") or (is_real and ord == 2):
        xc = _core.conj(x) if x.dtype.is_complex else x  # |x|^2 summed: complex stays complex, as TF
        result = _core.sqrt(_core.reduce_sum(x * xc, ax, True))
    else:
        result = _core.abs(x)
        if ord == 1:
            result = _core.reduce_sum(result, None if axis is None else axis[0], True)
            if is_matrix:
                result = _core.reduce_max(result, axis[-1], True)
        elif ord == np.inf:
            if is_matrix:
                result = _core.reduce_sum(result, axis[1], True)
            result = _core.reduce_max(result, None if axis is None else axis[0], True)
        else:
            p = float(ord)
            result = _core.pow(
                _core.reduce_sum(_core.pow(result, _scalar(p, result.dtype)), ax, True), _scalar(1.0 / p, result.dtype)
            )
    if not keepdims:
        result = reshape(result, _squeezed_shape(list(_ops_shape._shape(x)), ax))
    return result


def _spectral_norm(x, axis):
    """TF's matrix 2-norm: the pair of axes moved last (in the given order), the largest singular
    value, kept as two size-1 axes in their places."""
    from ._ops_linalg import svd

    rank = len(x.shape)
    pair = [a % rank if -rank <= a < rank else a for a in axis]
    if any(not 0 <= a < rank for a in pair):
        raise _core.InvalidArgumentError(f"Invalid reduction dimension ({axis} for input with {rank} dimension(s)")
    perm_before = [i for i in range(rank) if i not in pair] + pair
    perm_after = [perm_before.index(i) for i in range(rank)]
    s = svd(_core.transpose(x, perm_before), compute_uv=False)
    top = _core.reduce_max(_core.abs(s), [-1], True)
    return _core.transpose(reshape(top, list(top.shape) + [1]), perm_after)


def l2_normalize(
    x: TensorLike, axis: AxisLike = None, epsilon: float = 1e-12, name: str | None = None, dim: int | None = None
) -> Tensor:
    """x / sqrt(max(sum(x**2, axis), epsilon))."""
    if dim is not None:
        axis = dim
    x = _t(x)
    square_sum = _core.reduce_sum(_core.square(x), axis, True)
    x_inv_norm = _core.rsqrt(_core.maximum(square_sum, _scalar(epsilon, x.dtype)))
    return x * x_inv_norm


# ---- activations -------------------------------------------------------------------------------


def leaky_relu(features: TensorLike, alpha: float = 0.2, name: str | None = None) -> Tensor:
    """x where x > 0, else alpha * x (gradient alpha at 0, as TF). Integers are cast to float32."""
    x = _t(features)
    if x.dtype.is_integer:
        x = _core.cast(x, 0)
    if isinstance(alpha, np.ndarray):
        alpha = alpha.item()
    alpha = float(np.float32(alpha))  # TF's alpha is a float32 op attribute, also for float64 inputs
    return _core._leaky_relu(x, alpha)


def elu(features: TensorLike, name: str | None = None) -> Tensor:
    """x where x >= 0, else exp(x) - 1 (at 0: gradient 1, second derivative 0, as TF)."""
    return _core._exp_linear(features, False)


def selu(features: TensorLike, name: str | None = None) -> Tensor:
    """scale * (x where x >= 0, else alpha * (exp(x) - 1)), with TF's constants."""
    return _core._exp_linear(features, True)


def gelu(features: TensorLike, approximate: bool = False, name: str | None = None) -> Tensor:
    """x * Phi(x): exact (erfc form, as TF) or, with approximate=True, the tanh approximation."""
    x = _t(features)
    if not x.dtype.is_floating:
        raise ValueError(
            f"`features.dtype` must be a floating point tensor.Received:features.dtype=<dtype: '{x.dtype.name}'>"
        )
    # TF's formulas. TF writes its constants as cast(python_float, dtype), which rounds them to
    # float32 first; float64 results depend on it.
    if approximate:
        coeff = _scalar(_F32_COEFF, x.dtype)
        cube = x * x * x  # TF: pow(x, 3), 5x slower here and equal to within an ulp
        return x * 0.5 * (_core.tanh((x + cube * coeff) * 0.7978845608028654) + 1.0)
    return x * 0.5 * _core.erfc(-x * _scalar(_F32_SQRT_HALF, x.dtype))


def silu(features: TensorLike, beta: float = 1.0, name: str | None = None) -> Tensor:
    """x * sigmoid(beta * x) (swish)."""
    x = _float_input(features, "Sigmoid", "bfloat16, half, float, double, complex64, complex128")
    return x * _core.sigmoid(x * beta) if beta != 1.0 else x * _core.sigmoid(x)


swish = silu


def softsign(features: TensorLike, name: str | None = None) -> Tensor:
    """x / (1 + |x|)."""
    x = _float_input(features, "Softsign")
    return x / (_core.abs(x) + 1.0)


def _shape_str(shape):
    return "[" + ",".join(str(d) for d in shape) + "]"


def bias_add(value: TensorLike, bias: TensorLike, data_format: str | None = None, name: str | None = None) -> Tensor:
    """value + bias along the channel axis: the last one ("N...C", default) or axis 1 ("NC...")."""
    value, bias = _t(value), _t(bias)
    if bias.ndim != 1:
        raise _core.InvalidArgumentError(f"Biases must be 1D: {_shape_str(bias.shape)} [Op:BiasAdd]")
    if value.ndim < 2:
        raise _core.InvalidArgumentError(f"Input tensor must be at least 2D: {_shape_str(value.shape)} [Op:BiasAdd]")
    if data_format is None or (
        isinstance(data_format, str) and data_format.startswith("N") and data_format.endswith("C")
    ):
        channel = value.ndim - 1
    elif isinstance(data_format, str) and data_format.startswith("NC"):
        channel = 1
    else:
        raise ValueError(f"data_format must be of the form `N...C` or `NC...`, got {data_format!r}")
    if value.shape[channel] != bias.shape[0]:
        where = "last" if channel == value.ndim - 1 else "channel"
        raise _core.InvalidArgumentError(
            f"Must provide as many biases as the {where} dimension of the input tensor: "
            f"{_shape_str(bias.shape)} vs. {_shape_str(value.shape)} [Op:BiasAdd]"
        )
    if value.dtype != bias.dtype:
        raise _core.InvalidArgumentError(
            f"cannot compute BiasAdd as input #1(zero-based) was expected to be a {value.dtype.name} tensor "
            f"but is a {bias.dtype.name} tensor [Op:BiasAdd]"
        )
    if channel != value.ndim - 1:
        bias = reshape(bias, [-1] + [1] * (value.ndim - channel - 1))
    return value + bias
