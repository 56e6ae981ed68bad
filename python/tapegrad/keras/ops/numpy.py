"""``keras.ops`` numpy-like functions (``keras/src/ops/numpy.py``) on tapegrad's differentiable ops.

Arguments and results follow Keras 3 with the TensorFlow backend: numpy names and axis rules,
Keras's dtype promotion (see `core`), ``argmax``/``argsort`` give int32, ``mean`` of ints float32.

>>> import tapegrad as tg
>>> ops = tg.keras.ops
>>> print(f"{float(ops.mean(ops.square([1.0, 2.0, 3.0]))):.4f}")
4.6667
>>> ops.argmax([[1, 5], [7, 0]], axis=-1).numpy()
array([1, 0], dtype=int32)
"""

import builtins as _builtins

import numpy as _np

from ... import linalg as _linalg
from ... import math as _math
from .core import _FLOAT_RANK, _dtype_name, _float_t, _ops, _promote, _t, convert_to_tensor, shape

_py_max, _py_min, _py_abs = _builtins.max, _builtins.min, _builtins.abs


def _axis(axis):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return [int(a) for a in axis]
    return int(axis)


def _norm_axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


# ---- creation -------------------------------------------------------------------------------


def _shape_arg(shape):
    return list(shape) if isinstance(shape, (list, tuple)) else [shape]


def zeros(shape, dtype=None):
    """A tensor of zeros (float32 by default)."""
    return _ops.zeros(_shape_arg(shape), dtype=_dtype_name(dtype) or "float32")


def ones(shape, dtype=None):
    """A tensor of ones (float32 by default)."""
    return _ops.ones(_shape_arg(shape), dtype=_dtype_name(dtype) or "float32")


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value``."""
    dtype = _dtype_name(dtype) or "float32"
    shp = list(shape) if isinstance(shape, (list, tuple)) else [shape]
    return _ops.broadcast_to(_t(fill_value, dtype), shp)


def zeros_like(x, dtype=None):
    """Zeros with the shape (and dtype, unless given) of ``x``."""
    return _ops.zeros_like(_t(x), dtype=_dtype_name(dtype))


def ones_like(x, dtype=None):
    """Ones with the shape (and dtype, unless given) of ``x``."""
    return _ops.ones_like(_t(x), dtype=_dtype_name(dtype))


def full_like(x, fill_value, dtype=None):
    """``fill_value`` with the shape (and dtype, unless given) of ``x``."""
    x = _t(x)
    return full(x.shape.as_list(), fill_value, dtype=_dtype_name(dtype) or x.dtype.name)


def empty(shape, dtype=None):
    """An uninitialised tensor (here: zeros)."""
    return zeros(shape, dtype)


def empty_like(x, dtype=None):
    """An uninitialised tensor like ``x`` (here: zeros)."""
    return zeros_like(x, dtype)


def array(x, dtype=None):
    """``convert_to_tensor(x, dtype)``."""
    return convert_to_tensor(x, dtype=dtype)


def arange(start, stop=None, step=None, dtype=None):
    """``[start, stop)`` in steps of ``step``; int32 for integer arguments, float32 otherwise."""
    if stop is None:
        start, stop = 0, start
    if step is None:
        step = 1
    if dtype is None:
        floats = [isinstance(v, (float, _np.floating)) for v in (start, stop, step)]
        dtype = "float32" if _builtins.any(floats) else "int32"
    return _ops.constant(_np.arange(start, stop, step).astype(_dtype_name(dtype)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (float32 by default)."""
    out = _np.linspace(_np.asarray(start), _np.asarray(stop), num=num, endpoint=endpoint, retstep=retstep, axis=axis)
    dtype = _dtype_name(dtype) or "float32"
    if retstep:
        return _ops.constant(out[0].astype(dtype)), _ops.constant(_np.asarray(out[1]).astype(dtype))
    return _ops.constant(out.astype(dtype))


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    return _ops.constant(
        _np.logspace(start, stop, num=num, endpoint=endpoint, base=base, axis=axis).astype(
            _dtype_name(dtype) or "float32"
        )
    )


def eye(N, M=None, k=0, dtype=None):
    """The ``N x M`` identity (ones on diagonal ``k``), float32 by default."""
    return _ops.constant(_np.eye(N, M, k).astype(_dtype_name(dtype) or "float32"))


def identity(n, dtype=None):
    """The ``n x n`` identity matrix."""
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below diagonal ``k``."""
    return _ops.constant(_np.tri(N, M, k).astype(_dtype_name(dtype) or "float32"))


def tril(x, k=0):
    """``x`` with the entries above diagonal ``k`` zeroed."""
    x = _t(x)
    n, m = x.shape.as_list()[-2:]
    return _ops.where(_ops.constant(_np.tri(n, m, k).astype(bool)), x, _ops.zeros_like(x))


def triu(x, k=0):
    """``x`` with the entries below diagonal ``k`` zeroed."""
    x = _t(x)
    n, m = x.shape.as_list()[-2:]
    return _ops.where(_ops.constant(~_np.tri(n, m, k - 1).astype(bool)), x, _ops.zeros_like(x))


def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors (numpy's ``meshgrid``)."""
    return list(_ops.meshgrid(*[_t(v) for v in x], indexing=indexing))


# ---- elementwise ------------------------------------------------------------------------------


def _binary(name):
    def op(x1, x2):
        a, b = _promote(x1, x2)
        return getattr(_ops, name)(a, b)

    return op


add = _binary("add")
add.__doc__ = "``x1 + x2`` with Keras's dtype promotion."
subtract = _binary("subtract")
subtract.__doc__ = "``x1 - x2`` with Keras's dtype promotion."
multiply = _binary("multiply")
multiply.__doc__ = "``x1 * x2`` with Keras's dtype promotion."
maximum = _binary("maximum")
maximum.__doc__ = "Elementwise maximum."
minimum = _binary("minimum")
minimum.__doc__ = "Elementwise minimum."
fmax = maximum
fmin = minimum
equal = _binary("equal")
equal.__doc__ = "``x1 == x2`` (bool)."
not_equal = _binary("not_equal")
not_equal.__doc__ = "``x1 != x2`` (bool)."
less = _binary("less")
less.__doc__ = "``x1 < x2`` (bool)."
less_equal = _binary("less_equal")
less_equal.__doc__ = "``x1 <= x2`` (bool)."
greater = _binary("greater")
greater.__doc__ = "``x1 > x2`` (bool)."
greater_equal = _binary("greater_equal")
greater_equal.__doc__ = "``x1 >= x2`` (bool)."
for _f, _n in [
    (add, "add"),
    (subtract, "subtract"),
    (multiply, "multiply"),
    (maximum, "maximum"),
    (minimum, "minimum"),
    (equal, "equal"),
    (not_equal, "not_equal"),
    (less, "less"),
    (less_equal, "less_equal"),
    (greater, "greater"),
    (greater_equal, "greater_equal"),
]:
    _f.__name__ = _f.__qualname__ = _n


def divide(x1, x2):
    """``x1 / x2``; integers divide to float32 (true division)."""
    a, b = map(_float_t, _promote(x1, x2))
    return _ops.divide(a, b)


true_divide = divide


def divide_no_nan(x1, x2):
    """``x1 / x2``, 0 where ``x2`` is 0."""
    a, b = map(_float_t, _promote(x1, x2))
    return _math.divide_no_nan(a, b)


def floor_divide(x1, x2):
    """``x1 // x2``."""
    a, b = _promote(x1, x2)
    return _ops.floordiv(a, b)


def mod(x1, x2):
    """``x1 % x2`` (sign of the divisor, as numpy)."""
    a, b = _promote(x1, x2)
    return _ops.floormod(a, b)


def fmod(x1, x2):
    """C's ``fmod``: the remainder with the sign of ``x1``."""
    a, b = _promote(x1, x2)
    return a - b * _ops.cast(_trunc_div(a, b), a.dtype.name)


def _trunc_div(a, b):
    q = _ops.divide(_ops.cast(a, "float64"), _ops.cast(b, "float64"))
    return _ops.sign(q) * _ops.floor(_ops.abs(q))


def power(x1, x2):
    """``x1 ** x2``."""
    a, b = _promote(x1, x2)
    return _ops.pow(a, b)


def arctan2(x1, x2):
    """``atan2(x1, x2)``."""
    a, b = map(_float_t, _promote(x1, x2))
    return _ops.atan2(a, b)


def hypot(x1, x2):
    """``sqrt(x1**2 + x2**2)``."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    return _ops.sqrt(a * a + b * b)


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))``, computed stably."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    m = _ops.maximum(a, b)
    return m + _ops.log1p(_ops.exp(-_ops.abs(a - b)))


def _float_unary(fn, name, doc):
    def op(x):
        return getattr(_ops, fn)(_float_t(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


exp = _float_unary("exp", "exp", "``e ** x`` (integers become float32).")
expm1 = _float_unary("expm1", "expm1", "``exp(x) - 1``.")
log = _float_unary("log", "log", "Natural logarithm.")
log1p = _float_unary("log1p", "log1p", "``log(1 + x)``.")
sqrt = _float_unary("sqrt", "sqrt", "Square root.")
rsqrt = _float_unary("rsqrt", "rsqrt", "``1 / sqrt(x)``.")
sin = _float_unary("sin", "sin", "Sine.")
cos = _float_unary("cos", "cos", "Cosine.")
tan = _float_unary("tan", "tan", "Tangent.")
arcsin = _float_unary("asin", "arcsin", "Inverse sine.")
arccos = _float_unary("acos", "arccos", "Inverse cosine.")
arctan = _float_unary("atan", "arctan", "Inverse tangent.")
sinh = _float_unary("sinh", "sinh", "Hyperbolic sine.")
cosh = _float_unary("cosh", "cosh", "Hyperbolic cosine.")
tanh = _float_unary("tanh", "tanh", "Hyperbolic tangent.")
arcsinh = _float_unary("asinh", "arcsinh", "Inverse hyperbolic sine.")
arccosh = _float_unary("acosh", "arccosh", "Inverse hyperbolic cosine.")
arctanh = _float_unary("atanh", "arctanh", "Inverse hyperbolic tangent.")
erf = _float_unary("erf", "erf", "The error function.")
erfc = _float_unary("erfc", "erfc", "``1 - erf(x)``.")
reciprocal = _float_unary("reciprocal", "reciprocal", "``1 / x``.")


def exp2(x):
    """``2 ** x``."""
    x = _float_t(x)
    return _ops.exp(x * _np.log(2.0).astype(x.dtype.name))


def log2(x):
    """Base-2 logarithm."""
    x = _float_t(x)
    return _ops.log(x) / _ops.constant(_np.log(2.0), dtype=x.dtype)


def log10(x):
    """Base-10 logarithm."""
    x = _float_t(x)
    return _ops.log(x) / _ops.constant(_np.log(10.0), dtype=x.dtype)


def cbrt(x):
    """Cube root (real, keeps the sign)."""
    x = _float_t(x)
    return _ops.sign(x) * _ops.pow(_ops.abs(x), _ops.constant(1.0 / 3.0, dtype=x.dtype))


def abs(x):
    """``|x|``."""
    return _ops.abs(_t(x))


absolute = abs
fabs = abs


def negative(x):
    """``-x``."""
    return _ops.negative(_t(x))


def square(x):
    """``x * x`` (bool becomes int32, as Keras)."""
    x = _t(x)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    return _ops.square(x)


def sign(x):
    """-1, 0 or 1 elementwise."""
    return _ops.sign(_t(x))


def floor(x):
    """Largest integer not above ``x`` (float)."""
    return _ops.floor(_float_t(x))


def ceil(x):
    """Smallest integer not below ``x`` (float)."""
    return _ops.ceil(_float_t(x))


def trunc(x):
    """``x`` rounded toward zero."""
    x = _t(x)
    if x.dtype.name not in _FLOAT_RANK:
        return x
    return _ops.sign(x) * _ops.floor(_ops.abs(x))


def round(x, decimals=0):
    """Round half to even, to ``decimals`` places."""
    x = _t(x)
    if decimals == 0:
        return _ops.round(x) if x.dtype.name in _FLOAT_RANK else x
    f = _ops.constant(10.0**decimals, dtype=x.dtype)
    return _ops.round(x * f) / f


def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]`` (bool becomes int32, as Keras)."""
    x = _t(x)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    return _ops.clip_by_value(x, _t(x_min, x.dtype.name), _t(x_max, x.dtype.name))


def logical_and(x1, x2):
    """Elementwise AND of truth values."""
    return _ops.logical_and(_t(x1, "bool"), _t(x2, "bool"))


def logical_or(x1, x2):
    """Elementwise OR of truth values."""
    return _ops.logical_or(_t(x1, "bool"), _t(x2, "bool"))


def logical_xor(x1, x2):
    """Elementwise XOR of truth values."""
    return _math.logical_xor(_t(x1, "bool"), _t(x2, "bool"))


def logical_not(x):
    """Elementwise NOT of truth values."""
    return _ops.logical_not(_t(x, "bool"))


def isnan(x):
    """True where ``x`` is NaN."""
    x = _t(x)
    return _ops.is_nan(x) if x.dtype.name in _FLOAT_RANK else _ops.zeros_like(x, dtype="bool")


def isinf(x):
    """True where ``x`` is +-inf."""
    x = _t(x)
    return _ops.is_inf(x) if x.dtype.name in _FLOAT_RANK else _ops.zeros_like(x, dtype="bool")


def isfinite(x):
    """True where ``x`` is finite."""
    x = _t(x)
    return _ops.is_finite(x) if x.dtype.name in _FLOAT_RANK else _ops.ones_like(x, dtype="bool")


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """``|x1 - x2| <= atol + rtol * |x2|``."""
    a, b = _promote(x1, x2)
    out = _ops.less_equal(_ops.abs(a - b), _ops.cast(atol, a.dtype) + _ops.cast(rtol, a.dtype) * _ops.abs(b))
    if equal_nan and a.dtype.name in _FLOAT_RANK:
        out = _ops.logical_or(out, _ops.logical_and(_ops.is_nan(a), _ops.is_nan(b)))
    return out


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True if every element is ``isclose``."""
    return _ops.reduce_all(isclose(x1, x2, rtol, atol, equal_nan))


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """``x`` with NaN and infinities replaced."""
    x = _t(x)
    if x.dtype.name not in _FLOAT_RANK:
        return x
    info = _np.finfo(x.dtype.name)
    x = _ops.where(_ops.is_nan(x), _ops.fill(x.shape.as_list(), _ops.constant(nan, dtype=x.dtype)), x)
    pos = info.max if posinf is None else posinf
    neg = info.min if neginf is None else neginf
    x = _ops.where(
        _ops.logical_and(_ops.is_inf(x), _ops.greater(x, 0)),
        _ops.fill(x.shape.as_list(), _ops.constant(pos, dtype=x.dtype)),
        x,
    )
    return _ops.where(
        _ops.logical_and(_ops.is_inf(x), _ops.less(x, 0)),
        _ops.fill(x.shape.as_list(), _ops.constant(neg, dtype=x.dtype)),
        x,
    )


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with one argument, the indices of true entries."""
    if x1 is None and x2 is None:
        return nonzero(condition)
    if x1 is None or x2 is None:
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    a, b = _promote(x1, x2)
    return _ops.where(_t(condition, "bool"), a, b)


def nonzero(x):
    """A tuple of index tensors (one per axis) of the nonzero entries of ``x``."""
    idx = _np.nonzero(_np.asarray(_t(x).numpy()))
    return tuple(_ops.constant(i.astype("int64")) for i in idx)


def heaviside(x1, x2):
    """0 below zero, 1 above, ``x2`` at zero."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    return _ops.where(
        _ops.less(a, 0),
        _ops.zeros_like(a),
        _ops.where(_ops.greater(a, 0), _ops.ones_like(a), _ops.broadcast_to(b, a.shape.as_list())),
    )


def deg2rad(x):
    """Degrees to radians."""
    x = _float_t(x)
    return x * _ops.constant(_np.pi / 180.0, dtype=x.dtype)


def rad2deg(x):
    """Radians to degrees."""
    x = _float_t(x)
    return x * _ops.constant(180.0 / _np.pi, dtype=x.dtype)


def sinc(x):
    """``sin(pi x) / (pi x)``, 1 at 0."""
    x = _float_t(x)
    px = x * _ops.constant(_np.pi, dtype=x.dtype)
    safe = _ops.where(_ops.equal(x, 0), _ops.ones_like(x), px)
    return _ops.where(_ops.equal(x, 0), _ops.ones_like(x), _ops.sin(safe) / safe)


# ---- reductions -------------------------------------------------------------------------------


def sum(x, axis=None, keepdims=False):
    """Sum over ``axis`` (bool counts as int32)."""
    x = _t(x)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    return _ops.reduce_sum(x, axis=_axis(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    """Product over ``axis``."""
    x = _t(x, dtype)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    return _ops.reduce_prod(x, axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over ``axis``; integers average to float32.

    >>> import tapegrad as tg
    >>> tg.keras.ops.mean([[1, 2], [3, 5]], axis=0).numpy()
    array([2. , 3.5], dtype=float32)
    """
    return _ops.reduce_mean(_float_t(x), axis=_axis(axis), keepdims=keepdims)


def max(x, axis=None, keepdims=False, initial=None):
    """Maximum over ``axis`` (``initial`` a lower bound)."""
    out = _ops.reduce_max(_t(x), axis=_axis(axis), keepdims=keepdims)
    return out if initial is None else _ops.maximum(out, _t(initial, out.dtype.name))


def min(x, axis=None, keepdims=False, initial=None):
    """Minimum over ``axis`` (``initial`` an upper bound)."""
    out = _ops.reduce_min(_t(x), axis=_axis(axis), keepdims=keepdims)
    return out if initial is None else _ops.minimum(out, _t(initial, out.dtype.name))


def amax(x, axis=None, keepdims=False):
    """Maximum over ``axis``."""
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    """Minimum over ``axis``."""
    return min(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Variance (population) over ``axis``."""
    x = _float_t(x)
    m = _ops.reduce_mean(x, axis=_axis(axis), keepdims=True)
    return _ops.reduce_mean(_ops.square(x - m), axis=_axis(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation (population) over ``axis``."""
    return _ops.sqrt(var(x, axis=axis, keepdims=keepdims))


def all(x, axis=None, keepdims=False):
    """True if every element over ``axis`` is true."""
    return _ops.reduce_all(_t(x, "bool"), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    """True if any element over ``axis`` is true."""
    return _ops.reduce_any(_t(x, "bool"), axis=_axis(axis), keepdims=keepdims)


def ptp(x, axis=None, keepdims=False):
    """``max - min`` over ``axis``."""
    return max(x, axis, keepdims) - min(x, axis, keepdims)


def average(x, axis=None, weights=None):
    """Weighted mean over ``axis`` (``weights`` of ``x``'s shape or 1-D along ``axis``)."""
    x = _float_t(x)
    if weights is None:
        return mean(x, axis=axis)
    w = _t(weights, x.dtype.name)
    if axis is not None and len(w.shape.as_list()) == 1 and len(x.shape.as_list()) > 1:
        shp = [1] * len(x.shape.as_list())
        shp[_norm_axis(int(axis), len(shp))] = -1
        w = _ops.reshape(w, shp)
    return _ops.reduce_sum(x * w, axis=_axis(axis)) / _ops.reduce_sum(
        _ops.broadcast_to(w, x.shape.as_list()), axis=_axis(axis)
    )


def count_nonzero(x, axis=None):
    """The number of nonzero entries over ``axis`` (int32)."""
    x = _t(x)
    nz = _ops.cast(_ops.not_equal(x, _ops.zeros_like(x)), "int32")
    return _ops.reduce_sum(nz, axis=_axis(axis))


def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (int32), over the flattened ``x`` when ``axis`` is None."""
    x = _t(x)
    if axis is None:
        out = _ops.argmax(_ops.reshape(x, [-1]), axis=0, output_type="int32")
        return _ops.reshape(out, [1] * len(x.shape.as_list())) if keepdims else out
    out = _ops.argmax(x, axis=int(axis), output_type="int32")
    return _ops.expand_dims(out, int(axis)) if keepdims else out


def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (int32), over the flattened ``x`` when ``axis`` is None."""
    x = _t(x)
    if axis is None:
        out = _ops.argmin(_ops.reshape(x, [-1]), axis=0, output_type="int32")
        return _ops.reshape(out, [1] * len(x.shape.as_list())) if keepdims else out
    out = _ops.argmin(x, axis=int(axis), output_type="int32")
    return _ops.expand_dims(out, int(axis)) if keepdims else out


def cumsum(x, axis=None, dtype=None):
    """Running sum along ``axis`` (of the flattened ``x`` when None)."""
    x = _t(x, dtype)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    if axis is None:
        return _ops.cumsum(_ops.reshape(x, [-1]), axis=0)
    return _ops.cumsum(x, axis=int(axis))


def cumprod(x, axis=None, dtype=None):
    """Running product along ``axis`` (of the flattened ``x`` when None)."""
    x = _t(x, dtype)
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    if axis is None:
        return _math.cumprod(_ops.reshape(x, [-1]), axis=0)
    return _math.cumprod(x, axis=int(axis))


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed stably."""
    return _ops.reduce_logsumexp(_float_t(x), axis=_axis(axis), keepdims=keepdims)


# ---- shape ------------------------------------------------------------------------------------


def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    if isinstance(newshape, (int, _np.integer)):
        newshape = [newshape]
    shp = [-1 if s is None else int(s) for s in newshape]
    return _ops.reshape(_t(x), shp)


def ravel(x):
    """``x`` flattened to 1-D."""
    return _ops.reshape(_t(x), [-1])


def transpose(x, axes=None):
    """``x`` with its axes permuted (reversed when ``axes`` is None)."""
    return _ops.transpose(_t(x), perm=None if axes is None else list(axes))


def expand_dims(x, axis):
    """``x`` with new size-1 axes at ``axis`` (an int or a tuple)."""
    x = _t(x)
    if isinstance(axis, (list, tuple)):
        out_ndim = len(x.shape.as_list()) + len(axis)
        for a in sorted(_norm_axis(int(a), out_ndim) for a in axis):
            x = _ops.expand_dims(x, a)
        return x
    return _ops.expand_dims(x, int(axis))


def squeeze(x, axis=None):
    """``x`` without its size-1 axes (only ``axis`` if given)."""
    x = _t(x)
    if axis is None:
        return _ops.squeeze(x)
    axes = [int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)]
    return _ops.squeeze(x, axis=axes)


def stack(x, axis=0):
    """The tensors of ``x`` stacked along a new ``axis``."""
    parts = _promote(*x)
    return _ops.stack(parts, axis=axis)


def concatenate(xs, axis=0):
    """The tensors of ``xs`` joined along ``axis`` (``None``: flattened first)."""
    parts = _promote(*xs)
    if axis is None:
        parts = [_ops.reshape(p, [-1]) for p in parts]
        axis = 0
    return _ops.concat(parts, axis=axis)


def hstack(xs):
    """Stack horizontally (axis 1; axis 0 for 1-D inputs)."""
    parts = _promote(*xs)
    return _ops.concat(parts, axis=0 if len(parts[0].shape.as_list()) == 1 else 1)


def vstack(xs):
    """Join along axis 0 (as Keras's TF backend: 1-D inputs are concatenated, not made rows)."""
    return _ops.concat(_promote(*xs), axis=0)


def split(x, indices_or_sections, axis=0):
    """numpy's ``split``: ``n`` equal parts, or cut at the given indices."""
    x = _t(x)
    n = x.shape.as_list()[axis]
    if isinstance(indices_or_sections, (int, _np.integer)):
        if n % indices_or_sections:
            raise ValueError(f"array split does not result in an equal division: {n} into {indices_or_sections}")
        return list(_ops.split(x, int(indices_or_sections), axis=axis))
    cuts = [0] + [int(i) for i in indices_or_sections] + [n]
    return list(_ops.split(x, [b - a for a, b in zip(cuts[:-1], cuts[1:])], axis=axis))


def array_split(x, indices_or_sections, axis=0):
    """``split`` that allows unequal sections (the first ``n % k`` get one more)."""
    x = _t(x)
    n = x.shape.as_list()[axis]
    k = int(indices_or_sections)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return list(_ops.split(x, sizes, axis=axis))


def tile(x, repeats):
    """``x`` repeated ``repeats`` times along each axis (numpy's rules for short ``repeats``)."""
    x = _t(x)
    reps = [int(repeats)] if isinstance(repeats, (int, _np.integer)) else [int(r) for r in repeats]
    nd = len(x.shape.as_list())
    if len(reps) < nd:
        reps = [1] * (nd - len(reps)) + reps
    elif len(reps) > nd:
        x = _ops.reshape(x, [1] * (len(reps) - nd) + x.shape.as_list())
    return _ops.tile(x, reps)


def repeat(x, repeats, axis=None):
    """Each element of ``x`` repeated ``repeats`` times along ``axis`` (flattened when None)."""
    return _ops.repeat(_t(x), repeats, axis=axis)


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return _ops.broadcast_to(_t(x), list(shape))


def moveaxis(x, source, destination):
    """``x`` with axes moved from ``source`` to ``destination``."""
    x = _t(x)
    nd = len(x.shape.as_list())
    perm = _moveaxis_perm(nd, source, destination)
    return _ops.transpose(x, perm=perm)


def _moveaxis_perm(nd, source, destination):
    src = [source] if isinstance(source, (int, _np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, _np.integer)) else list(destination)
    src = [_norm_axis(int(a), nd) for a in src]
    dst = [_norm_axis(int(a), nd) for a in dst]
    perm = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return perm


def swapaxes(x, axis1, axis2):
    """``x`` with two axes swapped."""
    x = _t(x)
    perm = list(range(len(x.shape.as_list())))
    perm[axis1], perm[axis2] = perm[axis2], perm[axis1]
    return _ops.transpose(x, perm=perm)


def flip(x, axis=None):
    """``x`` reversed along ``axis`` (all axes when None)."""
    x = _t(x)
    axes = (
        list(range(len(x.shape.as_list())))
        if axis is None
        else ([int(a) for a in axis] if isinstance(axis, (list, tuple)) else [int(axis)])
    )
    return _ops.reverse(x, axes)


def fliplr(x):
    """``flip(x, 1)``."""
    return flip(x, 1)


def flipud(x):
    """``flip(x, 0)``."""
    return flip(x, 0)


def roll(x, shift, axis=None):
    """``x`` shifted circularly by ``shift`` along ``axis`` (flattened when None)."""
    x = _t(x)
    if axis is None:
        return _ops.reshape(_ops.roll(_ops.reshape(x, [-1]), shift, 0), x.shape.as_list())
    return _ops.roll(x, shift, axis)


def rot90(array, k=1, axes=(0, 1)):
    """``array`` rotated by 90 degrees ``k`` times in the plane ``axes``."""
    x = _t(array)
    k = k % 4
    a0, a1 = axes
    for _ in range(k):
        x = swapaxes(flip(x, a1), a0, a1)
    return x


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded by ``pad_width`` (numpy's forms) in ``mode`` constant/reflect/symmetric."""
    x = _t(x)
    nd = len(x.shape.as_list())
    pw = _np.broadcast_to(
        _np.asarray(pad_width, dtype="int64").reshape(-1, 2)
        if _np.ndim(pad_width)
        else _np.asarray([[pad_width, pad_width]]),
        (nd, 2),
    ).tolist()
    if mode != "constant" and constant_values is not None:
        raise ValueError(
            f"Argument `constant_values` can only be provided when `mode == 'constant'`. Received: mode={mode}"
        )
    return _ops.pad(x, pw, mode=mode.upper(), constant_values=0 if constant_values is None else constant_values)


def take(x, indices, axis=None):
    """Elements of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None); negative
    indices count from the end."""
    x = _t(x)
    if axis is None:
        x, axis = _ops.reshape(x, [-1]), 0
    n = x.shape.as_list()[axis]
    idx = _t(indices)
    if idx.dtype.name not in ("int32", "int64"):
        idx = _ops.cast(idx, "int32")
    idx = _ops.where(_ops.less(idx, 0), idx + _ops.cast(n, idx.dtype), idx)
    return _ops.gather(x, idx, axis=axis)


def take_along_axis(x, indices, axis=None):
    """numpy's ``take_along_axis``: ``x`` indexed by ``indices`` along ``axis`` (one ``gather_nd``
    built from tensor ops, so it is differentiable in ``x`` and needs no concrete indices)."""
    x = _t(x)
    if axis is None:
        x, axis = _ops.reshape(x, [-1]), 0
    idx = _t(indices)
    if idx.dtype.name != "int64":
        idx = _ops.cast(idx, "int64")
    xs, is_ = x.shape.as_list(), idx.shape.as_list()
    nd = len(xs)
    axis = _norm_axis(axis, nd)
    n = xs[axis]
    idx = _ops.where(_ops.less(idx, 0), idx + _ops.constant(n, dtype="int64"), idx)
    shape_b = _np.broadcast_shapes(
        tuple(d if i != axis else 1 for i, d in enumerate(xs)), tuple(d if i != axis else 1 for i, d in enumerate(is_))
    )
    out_shape = list(shape_b)
    out_shape[axis] = is_[axis]
    idx = _ops.broadcast_to(idx, out_shape)
    grids = _np.meshgrid(*[_np.arange(d, dtype="int64") for d in out_shape], indexing="ij")
    parts = [idx if i == axis else _ops.constant(g) for i, g in enumerate(grids)]
    xb_shape = list(shape_b)
    xb_shape[axis] = n
    return _ops.gather_nd(_ops.broadcast_to(x, xb_shape), _ops.stack(parts, axis=-1))


def sort(x, axis=-1):
    """``x`` sorted ascending along ``axis`` (differentiable: a gather of ``argsort``)."""
    x = _t(x)
    if axis is None:
        x, axis = _ops.reshape(x, [-1]), 0
    return take_along_axis(x, argsort(x, axis=axis), axis=axis)


def argsort(x, axis=-1):
    """Indices that sort ``x`` along ``axis`` (stable: equal values keep their order; int32)."""
    x = _t(x)
    if axis is None:
        x, axis = _ops.reshape(x, [-1]), 0
    if x.dtype.name == "bool":
        x = _ops.cast(x, "int32")
    nd = len(x.shape.as_list())
    axis = _norm_axis(axis, nd)
    if nd == 0:
        return _ops.constant(_np.int32(0))
    perm = list(range(nd))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    xt = _ops.transpose(x, perm) if axis != nd - 1 else x
    # top_k puts the lower index first among equal values, so top_k of -x is a stable ascending sort
    _, idx = _math.top_k(_ops.negative(xt), k=xt.shape.as_list()[-1], sorted=True)
    idx = _ops.cast(idx, "int32")
    return _ops.transpose(idx, perm) if axis != nd - 1 else idx


def unique(
    x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None, size=None, fill_value=None
):
    """The distinct values of ``x`` (sorted), optionally with first indices, inverse indices and counts."""
    if axis is not None or size is not None:
        raise NotImplementedError("keras.ops.unique: `axis` and `size` are not supported by tapegrad yet.")
    arr = _t(x).numpy()
    res = _np.unique(
        arr.reshape(-1), return_index=return_index, return_inverse=return_inverse, return_counts=return_counts
    )
    if not (return_index or return_inverse or return_counts):
        return _ops.constant(res)
    out = [_ops.constant(res[0])]
    i = 1
    if return_index:
        out.append(_ops.constant(res[i].astype("int32")))
        i += 1
    if return_inverse:
        out.append(_ops.constant(res[i].reshape(arr.shape).astype("int32")))
        i += 1
    if return_counts:
        out.append(_ops.constant(res[i].astype("int32")))
    return tuple(out)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of ``x`` over ``axis1``/``axis2`` (moved to the last axis)."""
    x = _t(x)
    nd = len(x.shape.as_list())
    x = moveaxis(x, [axis1, axis2], [nd - 2, nd - 1])
    n, m = x.shape.as_list()[-2:]
    rows = _np.arange(_py_max(0, -offset), _py_min(n, m - offset))
    cols = rows + offset
    x2 = take(x, _ops.constant(rows.astype("int32")), axis=nd - 2)
    mask = _np.zeros((len(rows), m), dtype=bool)
    mask[_np.arange(len(rows)), cols] = True
    return _ops.reduce_sum(_ops.where(_ops.constant(mask), x2, _ops.zeros_like(x2)), axis=-1)


def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a matrix with ``x`` on its ``k``-th diagonal."""
    x = _t(x)
    if len(x.shape.as_list()) == 1:
        n = x.shape.as_list()[0] + _py_abs(k)
        sel = _np.zeros((n, n, x.shape.as_list()[0]), dtype=x.dtype.name)
        for i in range(x.shape.as_list()[0]):
            sel[i + _py_max(0, -k), i + _py_max(0, k), i] = 1
        return _ops.einsum("ijk,k->ij", _ops.constant(sel), x)
    return diagonal(x, offset=k)


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the ``offset`` diagonal."""
    return _ops.reduce_sum(diagonal(x, offset, axis1, axis2), axis=-1)


def size(x):
    """The number of elements of ``x``."""
    return int(_np.prod(shape(x)))


def ndim(x):
    """The rank of ``x``."""
    return len(shape(x))


# ---- products ---------------------------------------------------------------------------------


def matmul(x1, x2):
    """Matrix product with broadcasting batch axes (1-D operands as numpy)."""
    a, b = _promote(x1, x2)
    va, vb = len(a.shape.as_list()) == 1, len(b.shape.as_list()) == 1
    if va:
        a = _ops.expand_dims(a, 0)
    if vb:
        b = _ops.expand_dims(b, -1)
    out = _ops.matmul(a, b)
    if va:
        out = _ops.squeeze(out, axis=[-2])
    if vb:
        out = _ops.squeeze(out, axis=[-1])
    return out


def dot(x1, x2):
    """numpy's ``dot``: sum over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = _promote(x1, x2)
    na, nb = len(a.shape.as_list()), len(b.shape.as_list())
    if na == 0 or nb == 0:
        return a * b
    if nb == 1:
        return _ops.tensordot(a, b, [[na - 1], [0]])
    return _ops.tensordot(a, b, [[na - 1], [nb - 2]])


def vdot(x1, x2):
    """Dot product of the flattened inputs."""
    a, b = _promote(x1, x2)
    return _ops.reduce_sum(_ops.reshape(a, [-1]) * _ops.reshape(b, [-1]))


def inner(x1, x2):
    """Sum over the last axes of both inputs."""
    a, b = _promote(x1, x2)
    na, nb = len(a.shape.as_list()), len(b.shape.as_list())
    if na == 0 or nb == 0:
        return a * b
    return _ops.tensordot(a, b, [[na - 1], [nb - 1]])


def outer(x1, x2):
    """Outer product of the flattened inputs."""
    a, b = _promote(x1, x2)
    return _ops.reshape(a, [-1, 1]) * _ops.reshape(b, [1, -1])


def tensordot(x1, x2, axes=2):
    """Sum of products over ``axes`` (numpy's ``tensordot``)."""
    a, b = _promote(x1, x2)
    return _ops.tensordot(a, b, axes)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation."""
    return _ops.einsum(subscripts, *_promote(*operands), **kwargs)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross product of 3-vectors along the last axis."""
    a, b = _promote(x1, x2)
    return _linalg.cross(a, b)


def kron(x1, x2):
    """Kronecker product of two matrices."""
    a, b = _promote(x1, x2)
    (n, m), (p, q) = a.shape.as_list(), b.shape.as_list()
    return _ops.reshape(_ops.einsum("ij,kl->ikjl", a, b), [n * p, m * q])


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm (``keras.ops.norm`` / ``keras.ops.linalg.norm``)."""
    from .linalg import norm as _norm

    return _norm(x, ord=ord, axis=axis, keepdims=keepdims)


def correlate(x1, x2, mode="valid"):
    """1-D cross-correlation (numpy's ``correlate``)."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    n, m = a.shape.as_list()[0], b.shape.as_list()[0]
    if mode == "valid":
        lo, hi = 0, n - m + 1
        pad_l = 0
    elif mode == "same":
        pad_l = m // 2
        lo, hi = 0, n
    elif mode == "full":
        pad_l = m - 1
        lo, hi = 0, n + m - 1
    else:
        raise ValueError(f"Invalid mode: {mode}")
    ap = _ops.pad(a, [[pad_l, m]])
    rows = _np.arange(lo, hi)[:, None] + _np.arange(m)[None, :]
    return _ops.reduce_sum(_ops.gather(ap, _ops.constant(rows.astype("int32"))) * b, axis=-1)


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    x = _t(a)
    for _ in range(n):
        k = x.shape.as_list()[axis]
        x = take(x, _ops.constant(_np.arange(1, k, dtype="int32")), axis=axis) - take(
            x, _ops.constant(_np.arange(0, k - 1, dtype="int32")), axis=axis
        )
    return x


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts of each non-negative integer in the 1-D ``x`` (weighted sums with ``weights``)."""
    xi = _np.asarray(_t(x).numpy()).astype("int64")
    length = _py_max(int(xi.max()) + 1 if xi.size else 0, minlength)
    oh = _ops.one_hot(_ops.constant(xi), length, dtype="float32" if weights is not None else "int32")
    if weights is None:
        return _ops.reduce_sum(oh, axis=-2)
    w = _t(weights)
    return _ops.reduce_sum(_ops.cast(oh, w.dtype.name) * _ops.expand_dims(w, -1), axis=-2)


def digitize(x, bins):
    """Index of the bin of ``bins`` each value falls in (numpy's ``digitize``, right=False), int32."""
    return _ops.constant(_np.digitize(_t(x).numpy(), _np.asarray(bins)).astype("int32"))


def searchsorted(sorted_sequence, values, side="left"):
    """Insertion indices of ``values`` into ``sorted_sequence`` (int32)."""
    return _ops.constant(_np.searchsorted(_t(sorted_sequence).numpy(), _t(values).numpy(), side=side).astype("int32"))


def median(x, axis=None, keepdims=False):
    """Median over ``axis``."""
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """Quantile ``q`` over ``axis`` (linear interpolation), differentiable through a sort."""
    if method != "linear":
        raise NotImplementedError(
            f"keras.ops.quantile: method={method!r} is not supported by tapegrad yet (only 'linear')."
        )
    x = _float_t(x)
    nd = len(x.shape.as_list())
    if axis is None:
        xs = sort(_ops.reshape(x, [-1]), axis=0)
        ax = 0
    else:
        axes = [int(axis)] if not isinstance(axis, (list, tuple)) else [int(a) for a in axis]
        axes = [_norm_axis(a, nd) for a in axes]
        rest = [i for i in range(nd) if i not in axes]
        xt = _ops.transpose(x, rest + axes)
        xt = _ops.reshape(xt, [x.shape.as_list()[i] for i in rest] + [-1])
        xs = sort(xt, axis=-1)
        ax = len(rest)
    n = xs.shape.as_list()[ax]
    qs = _np.atleast_1d(_np.asarray(q, dtype="float64"))
    pos = qs * (n - 1)
    lo = _np.floor(pos).astype("int32")
    hi = _np.minimum(lo + 1, n - 1).astype("int32")
    frac = _ops.constant((pos - lo).astype(x.dtype.name))
    vlo = take(xs, _ops.constant(lo), axis=ax)
    vhi = take(xs, _ops.constant(hi), axis=ax)
    fshape = [1] * len(xs.shape.as_list())
    fshape[ax] = -1
    out = vlo + (vhi - vlo) * _ops.reshape(frac, fshape)
    out = moveaxis(out, ax, 0)
    if keepdims:
        if axis is None:
            out = _ops.reshape(out, [len(qs)] + [1] * nd)
        else:
            for a in sorted(axes):
                out = _ops.expand_dims(out, a + 1)
    if _np.ndim(q) == 0:
        out = out[0]
    return out


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile(x, q / 100)``."""
    return quantile(x, _np.asarray(q, dtype="float64") / 100.0, axis=axis, method=method, keepdims=keepdims)


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, else ``default``."""
    choices = _promote(*choicelist)
    out = _ops.broadcast_to(_t(default, choices[0].dtype.name), choices[0].shape.as_list())
    for c, v in reversed(list(zip(condlist, choices))):
        out = _ops.where(_t(c, "bool"), v, out)
    return out


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` by the trapezoid rule."""
    y = _float_t(y)
    k = y.shape.as_list()[axis]
    y1 = take(y, _ops.constant(_np.arange(1, k, dtype="int32")), axis=axis)
    y0 = take(y, _ops.constant(_np.arange(0, k - 1, dtype="int32")), axis=axis)
    d = diff(_t(x, y.dtype.name), axis=axis) if x is not None else _ops.constant(dx, dtype=y.dtype)
    return _ops.reduce_sum(d * (y0 + y1) / _ops.constant(2.0, dtype=y.dtype), axis=axis)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` mapped over the leading axis of its (tensor) arguments."""
    if excluded or signature:
        raise NotImplementedError("keras.ops.vectorize: `excluded` and `signature` are not supported by tapegrad.")

    def wrapped(*args):
        ts = [_t(a) for a in args]
        n = ts[0].shape.as_list()[0] if ts[0].shape.as_list() else None
        if n is None:
            return pyfunc(*ts)
        return _ops.stack([wrapped(*[t[i] for t in ts]) for i in range(n)])

    return wrapped


# ---- more numpy-like functions ------------------------------------------------------------------


def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened when None)."""
    a, b = _promote(x1, x2)
    if axis is None:
        return _ops.concat([_ops.reshape(a, [-1]), _ops.reshape(b, [-1])], axis=0)
    return _ops.concat([a, b], axis=axis)


def real(x):
    """The real part (``x`` itself: tapegrad tensors are real)."""
    return _t(x)


def imag(x):
    """The imaginary part (zeros: tapegrad tensors are real)."""
    return _ops.zeros_like(_t(x))


def conj(x):
    """The complex conjugate (``x`` itself: tapegrad tensors are real)."""
    return _t(x)


conjugate = conj


def copy(x):
    """A copy of ``x``."""
    return _ops.identity(_t(x))


def diagflat(x, k=0):
    """A matrix with the flattened ``x`` on diagonal ``k``."""
    return diag(_ops.reshape(_t(x), [-1]), k)


def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for 1-D)."""
    x = _t(x)
    return split(x, indices_or_sections, axis=0 if len(x.shape.as_list()) == 1 else 1)


def vsplit(x, indices_or_sections):
    """``split`` along axis 0."""
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    """``split`` along axis 2."""
    return split(x, indices_or_sections, axis=2)


def dstack(xs):
    """Stack along a third axis (1-D ``(n,)`` -> ``(1, n, 1)``, 2-D ``(m, n)`` -> ``(m, n, 1)``)."""
    parts = []
    for p in _promote(*xs):
        nd = len(p.shape.as_list())
        if nd == 0:
            p = _ops.reshape(p, [1, 1, 1])
        elif nd == 1:
            p = _ops.reshape(p, [1, -1, 1])
        elif nd == 2:
            p = _ops.expand_dims(p, -1)
        parts.append(p)
    return _ops.concat(parts, axis=2)


def isposinf(x):
    """True where ``x`` is +inf."""
    x = _t(x)
    return _ops.logical_and(isinf(x), _ops.greater(x, _ops.zeros_like(x)))


def isneginf(x):
    """True where ``x`` is -inf."""
    x = _t(x)
    return _ops.logical_and(isinf(x), _ops.less(x, _ops.zeros_like(x)))


def isreal(x):
    """True everywhere (tapegrad tensors are real)."""
    return _ops.ones_like(_t(x), dtype="bool")


def signbit(x):
    """True where the sign bit is set (negative numbers and -0.0)."""
    arr = _t(x).numpy()
    return _ops.constant(_np.signbit(arr))


def logaddexp2(x1, x2):
    """``log2(2**x1 + 2**x2)``, computed stably."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    ln2 = _ops.constant(_np.log(2.0), dtype=a.dtype)
    m = _ops.maximum(a, b)
    return m + _ops.log1p(_ops.exp(-_ops.abs(a - b) * ln2)) / ln2


def _nan_fill(x, value):
    x = _t(x)
    if x.dtype.name not in _FLOAT_RANK:
        return x
    return _ops.where(_ops.is_nan(x), _ops.fill(x.shape.as_list(), _ops.constant(value, dtype=x.dtype)), x)


def nansum(x, axis=None, keepdims=False):
    """Sum ignoring NaNs."""
    return sum(_nan_fill(x, 0.0), axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """Product ignoring NaNs."""
    return prod(_nan_fill(x, 1.0), axis=axis, keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """Mean ignoring NaNs (NaN where all are NaN)."""
    x = _float_t(x)
    count = _ops.reduce_sum(
        _ops.cast(_ops.logical_not(_ops.is_nan(x)), x.dtype.name), axis=_axis(axis), keepdims=keepdims
    )
    return nansum(x, axis=axis, keepdims=keepdims) / count


def nanvar(x, axis=None, keepdims=False):
    """Variance ignoring NaNs."""
    x = _float_t(x)
    m = nanmean(x, axis=axis, keepdims=True)
    return nanmean(_ops.square(x - m), axis=axis, keepdims=keepdims)


def nanstd(x, axis=None, keepdims=False):
    """Standard deviation ignoring NaNs."""
    return _ops.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _all_nan_to_nan(x, out, axis, keepdims):
    if x.dtype.name not in _FLOAT_RANK:
        return out
    all_nan = _ops.reduce_all(_ops.is_nan(x), axis=_axis(axis), keepdims=keepdims)
    return _ops.where(all_nan, _ops.fill(out.shape.as_list(), _ops.constant(_np.nan, dtype=out.dtype)), out)


def nanmax(x, axis=None, keepdims=False):
    """Maximum ignoring NaNs (NaN where all are NaN)."""
    x = _t(x)
    return _all_nan_to_nan(x, max(_nan_fill(x, -_np.inf), axis=axis, keepdims=keepdims), axis, keepdims)


def nanmin(x, axis=None, keepdims=False):
    """Minimum ignoring NaNs (NaN where all are NaN)."""
    x = _t(x)
    return _all_nan_to_nan(x, min(_nan_fill(x, _np.inf), axis=axis, keepdims=keepdims), axis, keepdims)


def nanargmax(x, axis=None, keepdims=False):
    """Index of the maximum ignoring NaNs (-1 where all are NaN)."""
    x = _t(x)
    out = argmax(_nan_fill(x, -_np.inf), axis=axis, keepdims=keepdims)
    all_nan = (
        _ops.reduce_all(_ops.is_nan(x), axis=_axis(axis), keepdims=keepdims) if x.dtype.name in _FLOAT_RANK else None
    )
    return out if all_nan is None else _ops.where(all_nan, _ops.fill(out.shape.as_list(), -1), out)


def nanargmin(x, axis=None, keepdims=False):
    """Index of the minimum ignoring NaNs (-1 where all are NaN)."""
    x = _t(x)
    out = argmin(_nan_fill(x, _np.inf), axis=axis, keepdims=keepdims)
    all_nan = (
        _ops.reduce_all(_ops.is_nan(x), axis=_axis(axis), keepdims=keepdims) if x.dtype.name in _FLOAT_RANK else None
    )
    return out if all_nan is None else _ops.where(all_nan, _ops.fill(out.shape.as_list(), -1), out)


def nancumsum(x, axis=None, dtype=None):
    """Running sum treating NaNs as 0."""
    return cumsum(_nan_fill(x, 0.0), axis=axis, dtype=dtype)


def nancumprod(x, axis=None, dtype=None):
    """Running product treating NaNs as 1."""
    return cumprod(_nan_fill(x, 1.0), axis=axis, dtype=dtype)


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values spaced evenly on a log scale from ``start`` to ``stop``."""
    return _ops.constant(
        _np.geomspace(start, stop, num=num, endpoint=endpoint, axis=axis).astype(_dtype_name(dtype) or "float32")
    )


def _np_int_binary(fn, name, doc):
    def op(x, y):
        a, b = _promote(x, y)
        return _ops.constant(fn(a.numpy(), b.numpy()).astype(a.dtype.name))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc + " (integers; not differentiable)"
    return op


def gcd(x1, x2):
    """Greatest common divisor (integers; not differentiable)."""
    a, b = _promote(x1, x2)
    return _ops.constant(_np.gcd(a.numpy(), b.numpy()).astype(a.dtype.name))


def lcm(x1, x2):
    """Least common multiple (integers; not differentiable)."""
    a, b = _promote(x1, x2)
    return _ops.constant(_np.lcm(a.numpy(), b.numpy()).astype(a.dtype.name))


bitwise_and = _np_int_binary(_np.bitwise_and, "bitwise_and", "Bitwise AND")
bitwise_or = _np_int_binary(_np.bitwise_or, "bitwise_or", "Bitwise OR")
bitwise_xor = _np_int_binary(_np.bitwise_xor, "bitwise_xor", "Bitwise XOR")
bitwise_left_shift = _np_int_binary(_np.left_shift, "bitwise_left_shift", "``x1 << x2``")
bitwise_right_shift = _np_int_binary(_np.right_shift, "bitwise_right_shift", "``x1 >> x2``")
left_shift = bitwise_left_shift
right_shift = bitwise_right_shift


def bitwise_invert(x):
    """Bitwise NOT of integers (logical NOT of bools)."""
    x = _t(x)
    return _ops.constant(_np.invert(x.numpy()))


bitwise_not = bitwise_invert


def ldexp(x1, x2):
    """``x1 * 2**x2``."""
    x = _float_t(x1)
    return x * _ops.pow(_ops.constant(2.0, dtype=x.dtype), _t(x2, x.dtype.name))


def nextafter(x1, x2):
    """The next float after ``x1`` toward ``x2`` (not differentiable)."""
    a, b = _promote(x1, x2)
    a, b = _float_t(a), _float_t(b)
    return _ops.constant(_np.nextafter(a.numpy(), b.numpy()))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``."""
    x = _t(x)
    n = x.shape.as_list()[0] if N is None else N
    powers = _np.arange(n) if increasing else _np.arange(n - 1, -1, -1)
    return _ops.pow(_ops.expand_dims(x, 1), _ops.constant(powers.astype(x.dtype.name)))


def unravel_index(indices, shape):
    """A tuple of coordinate tensors for flat ``indices`` in an array of ``shape``."""
    idx = _t(indices)
    out = _np.unravel_index(idx.numpy(), tuple(shape))
    return tuple(_ops.constant(o.astype(idx.dtype.name)) for o in out)


def isin(x1, x2, assume_unique=False, invert=False):
    """True where an element of ``x1`` is in ``x2``."""
    return _ops.constant(_np.isin(_t(x1).numpy(), _t(x2).numpy(), assume_unique=assume_unique, invert=invert))


def histogram(x, bins=10, range=None):
    """``(counts, bin_edges)`` of the values of ``x`` (numpy's ``histogram``)."""
    x = _t(x)
    counts, edges = _np.histogram(x.numpy(), bins=bins, range=range)
    return _ops.constant(counts.astype(x.dtype.name)), _ops.constant(edges.astype(x.dtype.name))


def _window(fn, name):
    def op(x):
        return _ops.constant(fn(int(x)).astype("float32"))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"numpy's ``{name}`` window of length ``x``."
    return op


hamming = _window(_np.hamming, "hamming")
hanning = _window(_np.hanning, "hanning")
blackman = _window(_np.blackman, "blackman")
bartlett = _window(_np.bartlett, "bartlett")


def kaiser(x, beta):
    """The Kaiser window of length ``x``."""
    return _ops.constant(_np.kaiser(int(x), beta).astype("float32"))


def i0(x):
    """The modified Bessel function of the first kind, order 0 (not differentiable)."""
    x = _float_t(x)
    return _ops.constant(_np.i0(x.numpy()).astype(x.dtype.name))


def get_item(x, key):
    """``x[key]``."""
    return _t(x)[key]


def saturate_cast(x, dtype):
    """``x`` cast to ``dtype``, values clipped to its range first."""
    dtype = _dtype_name(dtype)
    x = _t(x)
    if _np.issubdtype(_np.dtype(dtype), _np.integer) and x.dtype.name in _FLOAT_RANK:
        info = _np.iinfo(dtype)
        lo = _py_max(float(info.min), float(_np.finfo(x.dtype.name).min))
        hi = float(_np.nextafter(_np.asarray(info.max, dtype=x.dtype.name), 0)) if info.max > 2**24 else info.max
        x = _ops.clip_by_value(x, _ops.constant(lo, dtype=x.dtype), _ops.constant(hi, dtype=x.dtype))
    return _ops.cast(x, dtype)


def argpartition(x, kth, axis=-1):
    """Indices that partition ``x`` around its ``kth`` element along ``axis`` (int32)."""
    return _ops.constant(_np.argpartition(_t(x).numpy(), kth, axis=axis).astype("int32"))


def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x``."""
    x = _float_t(x)
    xc = x - _ops.reduce_mean(x, axis=1, keepdims=True)
    cov = _ops.matmul(xc, _ops.transpose(xc))
    d = _ops.sqrt(_ops.reshape(diagonal(cov), [-1, 1]))
    return cov / (d * _ops.transpose(d))


def cdist(x, y):
    """Euclidean distances between the rows of ``x`` and ``y`` (the last two axes)."""
    a, b = _promote(x, y)
    a, b = _float_t(a), _float_t(b)
    diff_ = _ops.expand_dims(a, -2) - _ops.expand_dims(b, -3)
    return _ops.sqrt(_ops.reduce_sum(_ops.square(diff_), axis=-1))


def nanmedian(x, axis=None, keepdims=False):
    """Median ignoring NaNs (each slice's NaNs moved past its end, then interpolated)."""
    return nanquantile(x, 0.5, axis=axis, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaNs (computed per slice; not differentiable)."""
    x = _float_t(x)
    return _ops.constant(
        _np.asarray(_np.nanquantile(x.numpy(), q, axis=axis, method=method, keepdims=keepdims), dtype=x.dtype.name)
    )


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """``percentile`` ignoring NaNs."""
    return nanquantile(x, _np.asarray(q, dtype="float64") / 100.0, axis=axis, method=method, keepdims=keepdims)


__all__ = [
    "abs",
    "absolute",
    "add",
    "all",
    "allclose",
    "amax",
    "amin",
    "any",
    "append",
    "arange",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "argmax",
    "argmin",
    "argpartition",
    "argsort",
    "array",
    "array_split",
    "average",
    "bartlett",
    "bincount",
    "bitwise_and",
    "bitwise_invert",
    "bitwise_left_shift",
    "bitwise_not",
    "bitwise_or",
    "bitwise_right_shift",
    "bitwise_xor",
    "blackman",
    "broadcast_to",
    "cbrt",
    "cdist",
    "ceil",
    "clip",
    "concatenate",
    "conj",
    "conjugate",
    "convert_to_tensor",
    "copy",
    "corrcoef",
    "correlate",
    "cos",
    "cosh",
    "count_nonzero",
    "cross",
    "cumprod",
    "cumsum",
    "deg2rad",
    "diag",
    "diagflat",
    "diagonal",
    "diff",
    "digitize",
    "divide",
    "divide_no_nan",
    "dot",
    "dsplit",
    "dstack",
    "einsum",
    "empty",
    "empty_like",
    "equal",
    "erf",
    "erfc",
    "exp",
    "exp2",
    "expand_dims",
    "expm1",
    "eye",
    "fabs",
    "flip",
    "fliplr",
    "flipud",
    "floor",
    "floor_divide",
    "fmax",
    "fmin",
    "fmod",
    "full",
    "full_like",
    "gcd",
    "geomspace",
    "get_item",
    "greater",
    "greater_equal",
    "hamming",
    "hanning",
    "heaviside",
    "histogram",
    "hsplit",
    "hstack",
    "hypot",
    "i0",
    "identity",
    "imag",
    "inner",
    "isclose",
    "isfinite",
    "isin",
    "isinf",
    "isnan",
    "isneginf",
    "isposinf",
    "isreal",
    "kaiser",
    "kron",
    "lcm",
    "ldexp",
    "left_shift",
    "less",
    "less_equal",
    "linspace",
    "log",
    "log10",
    "log1p",
    "log2",
    "logaddexp",
    "logaddexp2",
    "logical_and",
    "logical_not",
    "logical_or",
    "logical_xor",
    "logspace",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "median",
    "meshgrid",
    "min",
    "minimum",
    "mod",
    "moveaxis",
    "multiply",
    "nan_to_num",
    "nanargmax",
    "nanargmin",
    "nancumprod",
    "nancumsum",
    "nanmax",
    "nanmean",
    "nanmedian",
    "nanmin",
    "nanpercentile",
    "nanprod",
    "nanquantile",
    "nanstd",
    "nansum",
    "nanvar",
    "ndim",
    "negative",
    "nextafter",
    "nonzero",
    "norm",
    "not_equal",
    "ones",
    "ones_like",
    "outer",
    "pad",
    "percentile",
    "power",
    "prod",
    "ptp",
    "quantile",
    "rad2deg",
    "ravel",
    "real",
    "reciprocal",
    "repeat",
    "reshape",
    "right_shift",
    "roll",
    "rot90",
    "round",
    "rsqrt",
    "saturate_cast",
    "searchsorted",
    "select",
    "shape",
    "sign",
    "signbit",
    "sin",
    "sinc",
    "sinh",
    "size",
    "sort",
    "split",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "std",
    "subtract",
    "sum",
    "swapaxes",
    "take",
    "take_along_axis",
    "tan",
    "tanh",
    "tensordot",
    "tile",
    "trace",
    "transpose",
    "trapezoid",
    "tri",
    "tril",
    "triu",
    "true_divide",
    "trunc",
    "unique",
    "unravel_index",
    "vander",
    "var",
    "vdot",
    "vectorize",
    "vsplit",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
]
