"""Op functions with TF's names. Most are the engine's functions themselves (one call per op);
the ones here add TF's argument handling."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core, _tensor

# Elementwise and reductions: straight from the engine.
from ._core import (  # noqa: F401
    abs,
    acos,
    add,
    asin,
    atan,
    atan2,
    broadcast_to,
    ceil,
    cos,
    cosh,
    divide,
    equal,
    erf,
    exp,
    expm1,
    floor,
    floordiv,
    floormod,
    greater,
    greater_equal,
    identity,
    is_finite,
    is_inf,
    is_nan,
    less,
    less_equal,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    not_equal,
    pow,
    reciprocal,
    reduce_all,
    reduce_any,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_sum,
    relu,
    reshape,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    softplus,
    sqrt,
    square,
    squared_difference,
    stop_gradient,
    subtract,
    tan,
    tanh,
    transpose,
)
from ._dtypes import as_dtype, code_of, float32, int32
from ._indexed_slices import IndexedSlices
from ._indexed_slices import _to_dense as _indexed_slices_to_dense
from ._tensor import Tensor, Variable
from ._typing import DTypeLike, ShapeLike, TensorLike

truediv = divide


def constant(
    value: TensorLike, dtype: DTypeLike | None = None, shape: ShapeLike | None = None, name: str | None = None
) -> Tensor:
    """A constant tensor from a Python value, numpy array or tensor.

    >>> import tapegrad as tg
    >>> tg.constant([[1.0, 2.0]]).shape
    TensorShape([1, 2])
    """
    dims: Any = shape
    if isinstance(dims, (int, np.integer)) and not isinstance(dims, bool):
        dims = [int(dims)]  # as TF's TensorShape(3): one dimension
    return _core.constant(value, code_of(dtype), None if dims is None else list(dims))


def convert_to_tensor(
    value: TensorLike,
    dtype: DTypeLike | None = None,
    dtype_hint: DTypeLike | None = None,
    name: str | None = None,
) -> Tensor:
    """Converts tensors, variables, numpy arrays and Python values to a Tensor.

    Python values and numpy arrays take `dtype` (arrays are cast, as TF), or `dtype_hint` when
    they convert to it; a Tensor or Variable of another dtype raises ValueError.

    >>> import numpy as np, tapegrad as tg
    >>> tg.convert_to_tensor(np.array([1.5, 2.0]), dtype=tg.float32)
    <tf.Tensor: shape=(2,), dtype=float32, numpy=array([1.5, 2. ], dtype=float32)>
    """
    if isinstance(value, Tensor) and dtype is None:
        return value
    if type(value) is IndexedSlices:  # densified: unsorted_segment_sum(values, indices, dense_shape[0])
        return _indexed_slices_to_dense(value, dtype)
    if dtype is None and dtype_hint is not None and not isinstance(value, (Tensor, _core.Variable)):
        try:
            return _core.convert_to_tensor(value, code_of(dtype_hint))
        except (TypeError, ValueError):
            pass
    if isinstance(value, _core.Variable):
        t = value.read_value()
        if dtype is not None and t.dtype != as_dtype(dtype):
            raise ValueError(
                f"Incompatible type conversion requested to type {as_dtype(dtype).name} for "
                f"`tf.Variable of type {t.dtype.name}. (Variable: {value!r})"
            )
        return t
    return _core.convert_to_tensor(value, code_of(dtype))


def cast(x: TensorLike, dtype: DTypeLike, name: str | None = None) -> Tensor:
    """Casts to `dtype` (float to int truncates toward zero, as TF)."""
    return _core.cast(x, as_dtype(dtype)._code)


def _shape_arg(shape: Any) -> Any:
    """A shape argument for zeros/ones/fill: in a polymorphic trace, one that holds tensors computed
    in the function becomes one int64 tensor, which the recorded call reads at every replay (See
    Note [Polymorphic traces]); otherwise a list of Python ints (_shape_list)."""
    if _tensor._POLY[0]:
        traced = _core._traced_shape(shape)
        if traced is not None:
            return traced
    return _shape_list(shape)


def _shape_list(shape: Any) -> list[int]:
    """A shape argument as a list of Python ints; floats are refused with TF's TypeError."""
    if isinstance(shape, (Tensor, Variable, np.ndarray)):
        a = np.asarray(shape)
        if a.dtype.kind not in "iu":
            raise TypeError(f"Cannot convert {a.tolist()!r} to EagerTensor of dtype int32")
        return [int(d) for d in a.reshape(-1)]
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        return [int(shape)]
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"shape must be a list of integers, got {shape!r}")
    dims = list(shape)
    for d in dims:
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            if isinstance(d, (Tensor, Variable)) and np.asarray(d).ndim == 0 and np.asarray(d).dtype.kind in "iu":
                continue
            raise TypeError(f"Cannot convert {dims!r} to EagerTensor of dtype int32")
    out = [int(d) for d in dims]
    for d in out:
        if not -(2**63) <= d < 2**63:
            raise ValueError("Can't convert Python sequence with out-of-range integer to Tensor.")
    return out


def zeros(shape: ShapeLike, dtype: DTypeLike = float32, name: str | None = None) -> Tensor:
    """A tensor of `shape` with every element zero.

    >>> import tapegrad as tg
    >>> tg.zeros([2, 3], dtype=tg.int32).numpy().tolist()
    [[0, 0, 0], [0, 0, 0]]
    """
    return _core.zeros(_shape_arg(shape), as_dtype(dtype)._code)


def ones(shape: ShapeLike, dtype: DTypeLike = float32, name: str | None = None) -> Tensor:
    """A tensor of `shape` with every element one.

    >>> import tapegrad as tg
    >>> tg.ones([2]).numpy().tolist()
    [1.0, 1.0]
    """
    return _core.full(_shape_arg(shape), 1.0, as_dtype(dtype)._code)


def zeros_like(input: TensorLike, dtype: DTypeLike | None = None, name: str | None = None) -> Tensor:
    """Zeros with the shape of `input`, in its dtype unless `dtype` is given.

    >>> import tapegrad as tg
    >>> tg.zeros_like(tg.constant([[1, 2]])).numpy().tolist()
    [[0, 0]]
    """
    input = convert_to_tensor(input)
    if _tensor._varies(input):  # sizes vary (Note [Polymorphic traces])
        return zeros(shape(input, "int64"), dtype or input.dtype)
    return zeros(input._shape_tuple, dtype or input.dtype)


def ones_like(input: TensorLike, dtype: DTypeLike | None = None, name: str | None = None) -> Tensor:
    """Ones with the shape of `input`, in its dtype unless `dtype` is given.

    >>> import tapegrad as tg
    >>> tg.ones_like([1.5, 2.5], dtype=tg.int32).numpy().tolist()
    [1, 1]
    """
    input = convert_to_tensor(input)
    if _tensor._varies(input):  # sizes vary (Note [Polymorphic traces])
        return ones(shape(input, "int64"), dtype or input.dtype)
    return ones(input._shape_tuple, dtype or input.dtype)


def fill(dims: ShapeLike, value: TensorLike, name: str | None = None) -> Tensor:
    """A tensor of shape `dims` with every element `value` (a scalar; its dtype is the result's).

    >>> import tapegrad as tg
    >>> tg.fill([2, 2], 7).numpy().tolist()
    [[7, 7], [7, 7]]
    """
    return _core.fill(_shape_arg(dims), value)


def range(
    start: Any,
    limit: Any = None,
    delta: Any = 1,
    dtype: DTypeLike | None = None,  # noqa: A001  (TF's name)
    name: str = "range",
) -> Tensor:
    """Like Python's range: ``tg.range(5)``, ``tg.range(1, 10, 2)``; int32 unless a value is float."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        dtype = float32 if any(isinstance(v, (float, np.floating)) for v in (start, limit, delta)) else int32
    dtype = as_dtype(dtype)
    if (
        _tensor._POLY[0]
        and _core._tracing()
        and dtype.name not in ("float16", "bfloat16")
        and any(type(v) is Tensor and _core._trace_is_traced(v) for v in (start, limit, delta))
    ):  # a bound computed in a polymorphic trace (tf.range(tf.shape(x)[0])): read at every replay
        return _core._range_traced(start, limit, delta, dtype._code)
    vals = [float(v) for v in (start, limit, delta)]
    if dtype.name in ("float16", "bfloat16"):  # TF has these; computed in float32 and rounded
        return cast(_core.range(vals[0], vals[1], vals[2], float32._code), dtype)
    return _core.range(vals[0], vals[1], vals[2], dtype._code)


def linspace(start: TensorLike, stop: TensorLike, num: Any, name: str | None = None, axis: int = 0) -> Tensor:
    """`num` evenly spaced values from `start` to `stop` (both included), along a new `axis`.

    As TF's ``linspace_nd``: start and stop broadcast against each other, integer inputs give
    float64, and the result is differentiable with respect to start and stop.

    >>> import tapegrad as tg
    >>> tg.linspace(0.0, 1.0, 5).numpy().tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    >>> tg.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=1).numpy().tolist()
    [[0.0, 0.5, 1.0], [1.0, 2.0, 3.0]]
    """
    from ._ops_shape import concat, expand_dims
    from ._ops_shape import slice as _slice

    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop, dtype=start.dtype)
    if isinstance(num, (Tensor, Variable, np.ndarray, np.generic)):
        num_dtype = as_dtype(np.asarray(num).dtype)
        if not num_dtype.is_integer:
            raise TypeError(
                f"Argument `tensor` (name: num) must be of type integer. Received `tensor` = "
                f"{num!r} of dtype: {num_dtype}"
            )
    elif not isinstance(num, int) or isinstance(num, bool):
        raise TypeError(
            f"Argument `tensor` (name: num) must be of type integer. Received `tensor` = {num!r} "
            f"of dtype: {as_dtype(type(num)) if isinstance(num, (float, bool)) else type(num)}"
        )
    num = int(np.asarray(num))
    try:
        bshape = np.broadcast_shapes(tuple(start.shape), tuple(stop.shape))
    except ValueError:
        raise _core.InvalidArgumentError(
            f"Incompatible shapes: {list(start.shape)} vs. {list(stop.shape)} [Op:BroadcastArgs]"
        ) from None
    if num < 0:
        raise _core.InvalidArgumentError(f"Requires start <= limit when delta > 0: 1/{num} [Op:Range]")
    ndims = len(bshape) + 1
    if not -ndims <= axis < ndims:
        raise _core.InvalidArgumentError(
            f"Expected axis in the range [{-ndims}, {ndims}), but got {axis} [Op:ExpandDims]"
        )
    axis = axis % ndims
    if start.dtype.is_integer:  # TF: the step is a true division, so integers give float64
        start, stop = cast(start, "float64"), cast(stop, "float64")
    first = expand_dims(broadcast_to(start, bshape), axis)
    last = expand_dims(broadcast_to(stop, bshape), axis)
    delta = (last - first) / float(max(num - 1, 1))
    steps_shape = [1] * ndims
    steps_shape[axis] = max(num - 2, 0)
    steps = reshape(cast(range(1, max(num - 1, 1)), start.dtype), steps_shape)
    values = concat([first, first + delta * steps, last], axis=axis)
    size = list(first.shape)
    size[axis] = num
    return _slice(values, [0] * ndims, size)


def shape(input: TensorLike, out_type: DTypeLike = int32, name: str | None = None) -> Tensor:
    """The shape as a 1-D integer tensor."""
    t = convert_to_tensor(input)
    if _tensor._varies(t):  # a polymorphic trace: sizes vary
        return _core._shape_tensor(t, as_dtype(out_type)._code)
    return constant(list(t._shape_tuple), dtype=out_type)


def size(input: TensorLike, out_type: DTypeLike = int32, name: str | None = None) -> Tensor:
    """The number of elements of `input`, as a scalar tensor.

    >>> import tapegrad as tg
    >>> int(tg.size(tg.zeros([2, 3])))
    6
    """
    t = convert_to_tensor(input)
    if _tensor._varies(t):  # a polymorphic trace: sizes vary
        return reduce_prod(_core._shape_tensor(t, as_dtype(out_type)._code))
    return constant(int(np.prod(t._shape_tuple, dtype=np.int64)), dtype=out_type)


def rank(input: TensorLike, name: str | None = None) -> Tensor:
    """The number of axes of `input`, as a scalar int32 tensor.

    >>> import tapegrad as tg
    >>> int(tg.rank(tg.zeros([2, 3])))
    2
    """
    return constant(convert_to_tensor(input).ndim, dtype=int32)


def where(
    condition: TensorLike, x: TensorLike | None = None, y: TensorLike | None = None, name: str | None = None
) -> Tensor:
    """See _ops_shape.where (both forms)."""
    from ._ops_shape import where as _where

    return _where(condition, x, y, name)


def unstack(value: TensorLike, num: int | None = None, axis: int = 0, name: str = "unstack") -> list[Tensor]:
    """See _ops_shape.unstack."""
    from ._ops_shape import unstack as _unstack

    return _unstack(value, num, axis, name)
