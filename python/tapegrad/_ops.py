"""Op functions with TF's names. Most are the engine's functions themselves (one call per op);
the ones here add TF's argument handling."""

import numpy as np

from . import _core
from ._dtypes import as_dtype, code_of, float32, int32
from ._tensor import Tensor, TensorShape, Variable

# Elementwise and reductions: straight from the engine.
from ._core import (  # noqa: F401
    abs, acos, add, asin, atan, atan2, broadcast_to, ceil, cos, cosh, equal, erf, exp, expm1, floor,
    floordiv, floormod, greater, greater_equal, identity, is_finite, is_inf, is_nan, less, less_equal,
    log, log1p, logical_and, logical_not, logical_or, matmul, maximum, minimum, multiply, negative,
    not_equal, pow, reciprocal, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min,
    reduce_prod, reduce_sum, relu, reshape, round, rsqrt, sigmoid, sign, sin, sinh, softplus, sqrt,
    square, squared_difference, stop_gradient, subtract, tan, tanh, transpose, divide,
)

truediv = divide


def constant(value, dtype=None, shape=None, name=None):
    """A constant tensor from a Python value, numpy array or tensor.

    >>> import tapegrad as tg
    >>> tg.constant([[1.0, 2.0]]).shape
    TensorShape([1, 2])
    """
    return _core.constant(value, code_of(dtype), None if shape is None else list(shape))


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Converts tensors, variables, numpy arrays and Python values to a Tensor.

    Python values take `dtype` (or `dtype_hint`); tensors and arrays must already have `dtype`.
    """
    if isinstance(value, Tensor) and dtype is None:
        return value
    if dtype is None and dtype_hint is not None and not isinstance(value, (Tensor, _core.Variable, np.ndarray)):
        try:
            return _core.convert_to_tensor(value, code_of(dtype_hint))
        except (TypeError, ValueError):
            pass
    if isinstance(value, _core.Variable):
        t = value.read_value()
        if dtype is not None and t.dtype != as_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {as_dtype(dtype).name} for variable "
                             f"with dtype {t.dtype.name}")
        return t
    return _core.convert_to_tensor(value, code_of(dtype))


def cast(x, dtype, name=None):
    """Casts to `dtype` (float to int truncates toward zero, as TF)."""
    return _core.cast(x, as_dtype(dtype)._code)


def _shape_list(shape):
    if isinstance(shape, (Tensor, Variable)):
        return [int(d) for d in np.asarray(shape).reshape(-1)]
    if isinstance(shape, (int, np.integer)):
        return [int(shape)]
    return [int(d) for d in shape]


def zeros(shape, dtype=float32, name=None):
    return _core.zeros(_shape_list(shape), as_dtype(dtype)._code)


def ones(shape, dtype=float32, name=None):
    return _core.full(_shape_list(shape), 1.0, as_dtype(dtype)._code)


def zeros_like(input, dtype=None, name=None):
    input = convert_to_tensor(input)
    return zeros(input.shape, dtype or input.dtype)


def ones_like(input, dtype=None, name=None):
    input = convert_to_tensor(input)
    return ones(input.shape, dtype or input.dtype)


def fill(dims, value, name=None):
    return _core.fill(_shape_list(dims), value)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001  (TF's name)
    """Like Python's range: ``tg.range(5)``, ``tg.range(1, 10, 2)``; int32 unless a value is float."""
    if limit is None:
        start, limit = 0, start
    vals = [float(v) for v in (start, limit, delta)]
    if dtype is None:
        dtype = float32 if any(isinstance(v, (float, np.floating)) for v in (start, limit, delta)) else int32
    return _core.range(*vals, as_dtype(dtype)._code)


def shape(input, out_type=int32, name=None):
    """The shape as a 1-D integer tensor."""
    return constant(list(convert_to_tensor(input).shape), dtype=out_type)


def size(input, out_type=int32, name=None):
    return constant(int(np.prod(convert_to_tensor(input).shape, dtype=np.int64)), dtype=out_type)


def rank(input, name=None):
    return constant(convert_to_tensor(input).ndim, dtype=int32)


def where(condition, x=None, y=None, name=None):
    """See _ops_shape.where (both forms)."""
    from ._ops_shape import where as _where
    return _where(condition, x, y, name)


def unstack(value, num=None, axis=0, name="unstack"):
    """See _ops_shape.unstack."""
    from ._ops_shape import unstack as _unstack
    return _unstack(value, num, axis, name)


__all__ = [_n for _n in dir() if not _n.startswith("_") and _n not in ("np", "builtins")]
