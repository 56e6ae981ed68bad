"""TF ops composed from tapegrad's differentiable primitives (issue 11 part 4).

Each function follows TF 2.21's Python or kernel op for op: signature, defaults, dtype rules,
error types and messages (eager wording; TF's "{{function_node ...}}" prefix is left out, as
elsewhere in tapegrad). Values are built from engine ops wherever a gradient is wanted, so the
tape differentiates them; index-valued results (argsort, searchsorted, unravel_index, ...) are
computed in numpy, as they carry no gradient in TF either.
"""

import logging
import math as _pymath
import numbers

import numpy as np

from . import _core
from ._custom_gradient import custom_gradient
from ._debugging import assert_equal, assert_greater, assert_less, assert_rank  # noqa: F401  (tf.assert_*)
from ._dtypes import as_dtype, float32, int32, int64
from ._ops import cast, convert_to_tensor, ones_like, zeros, zeros_like
from ._ops_math import _attr_t_error as _attr_error
from ._ops_math import _axis_int, divide_no_nan
from ._ops_math import _kernel_name as _kname
from ._ops_shape import _axis_slice, concat, gather, squeeze, unsorted_segment_sum
from ._tensor import Tensor, TensorShape, Variable
from .errors import NotFoundError

InvalidArgumentError = _core.InvalidArgumentError


# TF's names for dtypes in kernel messages ("Value for attr 'T' of float ...").
def _t(x, dtype=None):
    return convert_to_tensor(x, dtype=dtype)


def _shape_str(shape):
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def _same_dtype_pair(x, y, op):
    """x and y as tensors of one dtype, converted as TF's generated op wrappers do."""
    if not isinstance(x, (Tensor, Variable)) and isinstance(y, (Tensor, Variable)):
        y = _t(y)
        x = _t(x, y.dtype)
    else:
        x = _t(x)
        y = _t(y, x.dtype) if not isinstance(y, (Tensor, Variable)) else _t(y)
    if x.dtype != y.dtype:
        raise InvalidArgumentError(
            f"cannot compute {op} as input #1(zero-based) was expected to be a "
            f"{_kname(x.dtype)} tensor but is a {_kname(y.dtype)} tensor [Op:{op}]"
        )
    return x, y


# ---- aliases and trivial ops -------------------------------------------------------------------


def realdiv(x, y, name=None):
    """x / y for float tensors of one dtype (TF's RealDiv; TF's CPU kernels take no integers).

    >>> import tapegrad as tg
    >>> float(tg.realdiv(7.0, 2.0))
    3.5
    """
    x, y = _same_dtype_pair(x, y, "RealDiv")
    if x.dtype.is_bool:
        raise _attr_error(
            x.dtype,
            "bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, "
            "uint64, int64, complex64, complex128",
            "RealDiv",
        )
    if not x.dtype.is_floating:
        raise NotFoundError(
            None,
            None,
            f"Could not find device for node: {{{{node RealDiv}}}} = "
            f"RealDiv[T=DT_{x.dtype.name.upper()}] (TF's CPU kernels are float only) [Op:RealDiv]",
        )
    return _core.divide(x, y)


_TRUNC_DIV_T = "bfloat16, half, float, double, uint8, int8, uint16, int16, int32, uint32, uint64, int64"
_TRUNC_MOD_T = "int32, int64, bfloat16, half, float, double"


def _trunc_binary(x, y, op, allowed, fn):
    x, y = _same_dtype_pair(x, y, op)
    if _kname(x.dtype) not in allowed.split(", "):
        raise _attr_error(x.dtype, allowed, op)
    if op == "TruncateMod" and x.dtype.name in ("float16", "bfloat16"):
        raise NotFoundError(
            None,
            None,
            f"Could not find device for node: {{{{node {op}}}}} = "
            f"{op}[T=DT_{x.dtype.name.upper()}] (TF has no CPU kernel) [Op:{op}]",
        )
    a, b = np.broadcast_arrays(np.asarray(x), np.asarray(y))
    if x.dtype.is_integer and (b == 0).any():
        raise InvalidArgumentError(f"Integer division by zero [Op:{op}]")
    with np.errstate(all="ignore"):
        out = fn(a, b)
    return _core.constant(np.asarray(out, dtype=a.dtype), x.dtype._code)


def truncatediv(x, y, name=None):
    """x / y rounded toward zero (C semantics; floats too, as TF's TruncateDiv). Not differentiable
    (TF registers no gradient: the tape gives None).

    >>> import tapegrad as tg
    >>> tg.truncatediv([-7, 7], [2, 2]).numpy().tolist()
    [-3, 3]
    """

    def fn(a, b):
        if a.dtype.kind == "f":
            return np.trunc(a / b)
        return (a - np.fmod(a, b)) // b

    return _trunc_binary(x, y, "TruncateDiv", _TRUNC_DIV_T, fn)


def truncatemod(x, y, name=None):
    """The remainder of truncated division (C's fmod; the sign of x). Not differentiable.

    >>> import tapegrad as tg
    >>> tg.truncatemod([-7, 7], [2, 2]).numpy().tolist()
    [-1, 1]
    """
    return _trunc_binary(x, y, "TruncateMod", _TRUNC_MOD_T, np.fmod)


def identity_n(input, name=None):  # noqa: A002  (TF's name)
    """A list of identities of the tensors in `input` (gradients pass through each).

    >>> import tapegrad as tg
    >>> [t.numpy().tolist() for t in tg.identity_n([1, [2.0, 3.0]])]
    [1, [2.0, 3.0]]
    """
    values = [_core.identity(v if isinstance(v, (Tensor, Variable)) else _t(v)) for v in input]
    if not values:
        raise InvalidArgumentError("Length for attr 'T' of 0 must be at least minimum 1 [Op:IdentityN]")
    return values


def shape_n(input, out_type=int32, name=None):  # noqa: A002
    """The shapes of the tensors in `input`, as 1-D int32 (or int64) tensors.

    >>> import tapegrad as tg
    >>> [s.numpy().tolist() for s in tg.shape_n([1, [2.0, 3.0]])]
    [[], [2]]
    """
    out_type = as_dtype(out_type)
    if out_type not in (int32, int64):
        raise _attr_error(out_type, "int32, int64", "ShapeN", attr="out_type")
    shapes = [list((v if isinstance(v, (Tensor, Variable)) else _t(v)).shape) for v in input]
    if not shapes:
        raise InvalidArgumentError("Value for attr 'N' of 0 must be at least minimum 1 [Op:ShapeN]")
    return [_core.constant(np.asarray(s, dtype=out_type.as_numpy_dtype), out_type._code) for s in shapes]


def no_op(name=None):
    """Does nothing; eagerly it returns None, as TF."""
    return None


def get_logger():
    """The ``logging.Logger`` named "tensorflow" (TF's logger, shared with TF when both are loaded)."""
    return logging.getLogger("tensorflow")


def is_tensor(x):
    """True for tapegrad Tensors and Variables; False for numpy arrays and Python values, as TF.

    >>> import numpy as np, tapegrad as tg
    >>> tg.is_tensor(tg.constant(1.0)), tg.is_tensor(tg.Variable(1.0)), tg.is_tensor(np.ones(2))
    (True, True, False)
    """
    return isinstance(x, (Tensor, Variable)) or bool(getattr(x, "is_tensor_like", False))


def executing_eagerly():
    """False while a ``tf.function`` traces (as TF), else True (also inside functions run eagerly:
    ``tf.config.run_functions_eagerly(True)`` or a trace that could not be replayed), and inside
    ``tf.init_scope``."""
    if not _core._tracing():
        return True
    from ._functional_ops import _in_lifted_scope  # noqa: PLC0415

    return _in_lifted_scope()


def get_static_value(tensor, partial=False):
    """A Tensor's value as a numpy array; None for a Variable (its value can change); any other
    Python value is returned as is, as TF."""
    if isinstance(tensor, Variable):
        return None
    if isinstance(tensor, Tensor):
        return tensor.numpy()
    return tensor


def ensure_shape(x, shape, name=None):
    """x (an identity: the gradient passes through) after checking its shape is compatible with
    `shape` (None entries match any size). Raises InvalidArgumentError as TF's EnsureShape.

    >>> import tapegrad as tg
    >>> tg.ensure_shape(tg.ones([2, 3]), [None, 3]).shape
    TensorShape([2, 3])
    """
    x = x if isinstance(x, Tensor) else _t(x)
    shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
    if not shape.is_compatible_with(x.shape):
        raise InvalidArgumentError(
            f"Shape of tensor input {_shape_str(x.shape)} is not compatible with expected "
            f"shape {_shape_str(shape.dims) if shape.dims is not None else '<unknown>'}. "
            f"[Op:EnsureShape]"
        )
    return _core.identity(x)


def broadcast_static_shape(shape_x, shape_y):
    """The TensorShape that broadcasting shapes `shape_x` and `shape_y` (TensorShapes) gives.

    >>> import tapegrad as tg
    >>> tg.broadcast_static_shape(tg.TensorShape([2, 1]), tg.TensorShape([3]))
    TensorShape([2, 3])
    """
    if shape_x.ndims is None or shape_y.ndims is None:
        return TensorShape(None)
    dx, dy = list(shape_x.dims), list(shape_y.dims)
    n = max(len(dx), len(dy))
    dx, dy = [1] * (n - len(dx)) + dx, [1] * (n - len(dy)) + dy
    out = []
    for a, b in zip(dx, dy):
        if a is None or b is None:
            known = b if a is None else a
            out.append(known if known is not None and known > 1 else None)
        elif a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            raise ValueError(
                "Incompatible shapes for broadcasting. Two shapes are compatible if for each "
                "dimension pair they are either equal or one of them is 1. Received: "
                f"{tuple(shape_x.dims)} and {tuple(shape_y.dims)}."
            )
    return TensorShape(out)


def broadcast_dynamic_shape(shape_x, shape_y):
    """The broadcast shape of two 1-D int32/int64 shape tensors, as a tensor of their dtype.

    >>> import tapegrad as tg
    >>> tg.broadcast_dynamic_shape([2, 1], [3]).numpy().tolist()
    [2, 3]
    """
    x, y = _same_dtype_pair(shape_x, shape_y, "BroadcastArgs")
    if x.dtype not in (int32, int64):
        raise _attr_error(x.dtype, "int32, int64", "BroadcastArgs")
    a, b = np.asarray(x), np.asarray(y)
    for s in (a, b):
        if s.ndim != 1:
            raise InvalidArgumentError(
                f"In[{0 if s is a else 1}] must be a vector.{_shape_str(s.shape)} [Op:BroadcastArgs]"
            )
    try:
        out = np.broadcast_shapes(tuple(a.tolist()), tuple(b.tolist()))
    except ValueError:
        raise InvalidArgumentError(
            f"Incompatible shapes: {_shape_str(a.tolist())} vs. {_shape_str(b.tolist())} [Op:BroadcastArgs]"
        ) from None
    return _core.constant(np.asarray(out, dtype=a.dtype), x.dtype._code)


def unravel_index(indices, dims, name=None):
    """Converts flat indices into coordinates for an array of shape `dims` (int32/int64): shape
    [len(dims)] for a scalar index, [len(dims), n] for a vector.

    >>> import tapegrad as tg
    >>> tg.unravel_index([1, 5, 7], [3, 3]).numpy().tolist()
    [[0, 1, 2], [1, 2, 1]]
    """
    idx, dm = _same_dtype_pair(indices, dims, "UnravelIndex")
    if idx.dtype not in (int32, int64):
        raise _attr_error(idx.dtype, "int32, int64", "UnravelIndex", attr="Tidx")
    i, d = np.asarray(idx), np.asarray(dm)
    if i.ndim > 1:
        raise InvalidArgumentError(
            f'The indices can only be scalar or vector, got "{_shape_str(i.shape)}" [Op:UnravelIndex]'
        )
    if d.ndim != 1:
        raise InvalidArgumentError(f'The indices can only be 1-D, got "{_shape_str(d.shape)}" [Op:UnravelIndex]')
    if i.size == 0:
        raise InvalidArgumentError(
            f"received empty tensor indices: Tensor<type: {idx.dtype.name} shape: "
            f"{_shape_str(i.shape)} values: > [Op:UnravelIndex]"
        )
    zero = np.flatnonzero(d == 0)
    if zero.size:
        raise InvalidArgumentError(
            f"Input dims cannot contain a dim of zero, but dims contains zero at index {int(zero[0])} [Op:UnravelIndex]"
        )
    if (i >= np.prod(d, dtype=np.int64)).any():
        raise InvalidArgumentError("index is out of bound as with dims [Op:UnravelIndex]")
    rest = i.astype(np.int64)
    out = []
    for size in d[::-1].astype(np.int64):  # C semantics (truncation), as TF's kernel: -1 -> [0, -1]
        out.append(np.fmod(rest, size))
        rest = (rest - out[-1]) // size
    return _core.constant(np.stack(out[::-1]).astype(i.dtype), idx.dtype._code)


# ---- TF 2 initializers (init_ops_v2) -----------------------------------------------------------

_PARTITION_SHAPE, _PARTITION_OFFSET = "partition_shape", "partition_offset"


class _Initializer:
    """TF 2's initializer base (``tf.keras`` has its own: keras.initializers)."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self):
        """The constructor arguments, as a dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """An initializer built from `get_config()`'s dict."""
        config.pop("dtype", None)
        return cls(**config)

    def _validate_kwargs(self, kwargs, support_partition=True):
        for kwarg in kwargs:
            if kwarg not in [_PARTITION_SHAPE, _PARTITION_OFFSET]:
                raise TypeError(
                    f"Keyword argument should be one of {[_PARTITION_SHAPE, _PARTITION_OFFSET]}. Received: {kwarg}"
                )
            if not support_partition:
                raise ValueError(f"{type(self).__name__} initializer doesn't support partition-related arguments")


def _numeric_dtype(dtype):
    dtype = as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer or dtype.is_bool):
        raise ValueError(f"Argument `dtype` expected to be numeric or boolean. Received {dtype}.")
    return dtype


class Zeros(_Initializer):
    """TF 2's ``tf.zeros_initializer``: ``init(shape, dtype=tf.float32)`` gives zeros.

    >>> import tapegrad as tg
    >>> tg.zeros_initializer()([2]).numpy().tolist()
    [0.0, 0.0]
    """

    def __call__(self, shape, dtype=float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = _numeric_dtype(dtype)
        return zeros(kwargs.get(_PARTITION_SHAPE, shape), dtype)


class Ones(_Initializer):
    """TF 2's ``tf.ones_initializer``: ``init(shape, dtype=tf.float32)`` gives ones."""

    def __call__(self, shape, dtype=float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = _numeric_dtype(dtype)
        shape = kwargs.get(_PARTITION_SHAPE, shape)
        return ones_like(zeros(shape, dtype))


class Constant(_Initializer):
    """TF 2's ``tf.constant_initializer(value=0, support_partition=False)``: ``tf.constant(value,
    dtype, shape)`` (a scalar fills the shape; a list must have shape's element count).

    >>> import tapegrad as tg
    >>> tg.constant_initializer(3.0)([2]).numpy().tolist()
    [3.0, 3.0]
    """

    def __init__(self, value=0, support_partition=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(
                f"Invalid type for initial value: {type(value).__name__}. Expected Python scalar, "
                "list or tuple of values, or numpy.ndarray."
            )
        self.value = value
        self.support_partition = support_partition

    def __call__(self, shape, dtype=None, **kwargs):
        from ._ops import constant

        self._validate_kwargs(kwargs, support_partition=self.support_partition)
        return constant(self.value, dtype=None if dtype is None else as_dtype(dtype), shape=shape)

    def get_config(self):
        """{"value": value}, as TF."""
        return {"value": self.value}


class RandomUniform(_Initializer):
    """TF 2's ``tf.random_uniform_initializer(minval=-0.05, maxval=0.05, seed=None)``.

    With an integer seed the values are a stateless draw from seed ``[seed, 0]`` (the same every
    call, as TF); tapegrad's generator is not TF's Philox, so the values differ from TF's.
    """

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def __call__(self, shape, dtype=float32, **kwargs):
        from . import random

        self._validate_kwargs(kwargs)
        dtype = as_dtype(dtype)
        if not dtype.is_floating and not dtype.is_integer:
            raise ValueError(f"Argument `dtype` expected to be numeric or boolean. Received {dtype}.")
        shape = kwargs.get(_PARTITION_SHAPE, shape)
        if dtype.is_integer:
            for v in (self.minval, self.maxval):
                if isinstance(v, float) and not float(v).is_integer():
                    raise TypeError(f"Cannot convert {v} to EagerTensor of dtype {dtype.name}")
        if self.seed is not None:
            return random.stateless_uniform(shape, [self.seed, 0], self.minval, self.maxval, dtype)
        return random.uniform(shape, self.minval, self.maxval, dtype)

    def get_config(self):
        """minval, maxval and seed."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_Initializer):
    """TF 2's ``tf.random_normal_initializer(mean=0.0, stddev=0.05, seed=None)`` (float dtypes only;
    a seed gives a stateless draw, as random_uniform_initializer)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def __call__(self, shape, dtype=float32, **kwargs):
        from . import random

        self._validate_kwargs(kwargs)
        dtype = as_dtype(dtype)
        if not dtype.is_floating:
            raise ValueError(f"Argument `dtype` is expected to be floating point. Received: {dtype}.")
        shape = kwargs.get(_PARTITION_SHAPE, shape)
        if self.seed is not None:
            return random.stateless_normal(shape, [self.seed, 0], self.mean, self.stddev, dtype)
        return random.normal(shape, self.mean, self.stddev, dtype)

    def get_config(self):
        """mean, stddev and seed."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


# TF exports the init_ops_v2 classes under these names
zeros_initializer, ones_initializer, constant_initializer = Zeros, Ones, Constant
random_uniform_initializer, random_normal_initializer = RandomUniform, RandomNormal


# ---- tf.math -----------------------------------------------------------------------------------


def reciprocal_no_nan(x, name=None):
    """1 / x, with 0 where x == 0 (float dtypes; the gradient is divide_no_nan's, as TF).

    >>> import tapegrad as tg
    >>> tg.math.reciprocal_no_nan([0.0, 2.0]).numpy().tolist()
    [0.0, 0.5]
    """
    x = x if isinstance(x, Tensor) else _t(x)
    if not x.dtype.is_floating:
        raise _attr_error(x.dtype, "half, float, bfloat16, double, complex64, complex128", "DivNoNan")
    return divide_no_nan(ones_like(x), x)


def _monotone(x, compare):
    """compare(x[1:], x[:-1]) over x flattened, all true (TF compares, so unsigned wrap-around
    does not enter)."""
    x = x if isinstance(x, Tensor) else _t(x)
    flat = _core.reshape(x, [-1])
    if flat.dtype.is_bool:
        raise TypeError(f"Expected x to be numeric, instead found: {flat!s}")
    n = flat.shape[0]
    if n < 2:
        return _core.constant(np.asarray(True), as_dtype("bool")._code)
    return _core.reduce_all(compare(_axis_slice(flat, 0, 1, n), _axis_slice(flat, 0, 0, n - 1)), None, False)


def is_non_decreasing(x, name=None):
    """True when x, flattened in row-major order, never decreases (True for fewer than 2 entries).

    >>> import tapegrad as tg
    >>> bool(tg.math.is_non_decreasing([1, 1, 2]))
    True
    """
    return _monotone(x, _core.greater_equal)


def is_strictly_increasing(x, name=None):
    """True when x, flattened in row-major order, always increases (True for fewer than 2 entries)."""
    return _monotone(x, _core.greater)


def invert_permutation(x, name=None):
    """The inverse of the permutation x (1-D int32/int64): y[x[i]] = i.

    >>> import tapegrad as tg
    >>> tg.math.invert_permutation([2, 0, 1]).numpy().tolist()
    [1, 2, 0]
    """
    x = x if isinstance(x, Tensor) else _t(x)
    if x.dtype not in (int32, int64):
        raise _attr_error(x.dtype, "int32, int64", "InvertPermutation")
    a = np.asarray(x)
    if a.ndim != 1:
        raise InvalidArgumentError("invert_permutation expects a 1D vector. [Op:InvertPermutation]")
    n = a.size
    out = np.full(n, -1, dtype=a.dtype)
    for i, v in enumerate(a.tolist()):
        if not 0 <= v < n:
            raise InvalidArgumentError(f"{v} is not between 0 and {n} [Op:InvertPermutation]")
        if out[v] != -1:
            raise InvalidArgumentError(f"{v} is duplicated in the input. [Op:InvertPermutation]")
        out[v] = i
    return _core.constant(out, x.dtype._code)


def zero_fraction(value, name=None):
    """The fraction of zeros in `value`, as a float32 scalar (NaN for an empty tensor, as TF).

    >>> import tapegrad as tg
    >>> float(tg.math.zero_fraction([0, 1, 0, 2]))
    0.5
    """
    a = np.asarray(value if isinstance(value, (Tensor, Variable)) else _t(value))
    size = np.float32(a.size)
    with np.errstate(invalid="ignore"):
        frac = np.float32(a.size - np.count_nonzero(a)) / size
    return _core.constant(np.asarray(frac, dtype=np.float32), float32._code)


def polyval(coeffs, x, name=None):
    """coeffs[0] * x**(n-1) + ... + coeffs[n-1], by Horner's rule (differentiable in both).

    >>> import tapegrad as tg
    >>> float(tg.math.polyval([1.0, 2.0, 3.0], 2.0))
    11.0
    """
    if not isinstance(coeffs, list):
        raise ValueError(f"Argument coeffs must be list type. Received type {type(coeffs)}.")
    coeffs = [c if isinstance(c, Tensor) else _t(c) for c in coeffs]
    x = x if isinstance(x, Tensor) else _t(x)
    if not coeffs:
        return zeros_like(x)
    p = coeffs[0]
    for c in coeffs[1:]:
        p = c + p * x
    return p


def _logaddexp(a, b):
    m = _core.stop_gradient(_core.maximum(a, b))
    m = _core.where3(_core.is_finite(m), m, _core.zeros([], m.dtype._code))
    return m + _core.log(_core.exp(a - m) + _core.exp(b - m))


def _neg_inf_slab(x, axis, k):
    shape = list(x.shape)
    shape[axis] = k
    return _core.constant(np.full(shape, -np.inf, dtype=x.dtype.as_numpy_dtype), x.dtype._code)


def cumulative_logsumexp(x, axis=0, exclusive=False, reverse=False, name=None):
    """log(cumsum(exp(x))) along `axis`, without overflow or underflow: a log-space prefix scan
    (log2(n) steps of a stable log-add-exp), so entries far below the maximum stay exact, as TF's
    kernel. Differentiable; `exclusive` starts from -inf, `reverse` scans backwards.

    >>> import tapegrad as tg
    >>> tg.math.cumulative_logsumexp([-1000.0, 0.0]).numpy().tolist()
    [-1000.0, 0.0]
    """
    from ._ops_shape import reverse as _reverse

    x = x if isinstance(x, Tensor) else _t(x)
    if not x.dtype.is_floating:
        raise _attr_error(x.dtype, "bfloat16, half, float, double", "CumulativeLogsumexp")
    nd = x.ndim
    a = _axis_int(axis)
    if not -nd <= a < nd:
        raise InvalidArgumentError(
            f"ScanOp: Expected scan axis in the range [{-nd}, {nd}), but got {a} [Op:CumulativeLogsumexp]"
        )
    a %= nd
    orig = x.dtype
    y = cast(x, float32) if orig.name in ("float16", "bfloat16") else x
    if reverse:
        y = _reverse(y, [a])
    n = y.shape[a]
    k = 1
    while k < n:
        shifted = concat([_neg_inf_slab(y, a, k), _axis_slice(y, a, 0, n - k)], a)
        y = _logaddexp(y, shifted)
        k *= 2
    if exclusive and n:
        y = concat([_neg_inf_slab(y, a, 1), _axis_slice(y, a, 0, n - 1)], a)
    if reverse:
        y = _reverse(y, [a])
    return cast(y, orig) if y.dtype != orig else y


# ---- segment reductions ------------------------------------------------------------------------
# Max, min and prod scatter each segment's rows into a dense [num_segments, longest, inner] block
# filled with the reduction's identity, then reduce over the second axis with the engine's
# reduce_max/min/prod: the gradient is theirs (ties share equally, as TF's segment max grad; prod
# handles zeros), and it stays differentiable for higher orders. The block has num_segments *
# longest segment rows, so for very uneven segments (more than _DENSE_BLOCK_LIMIT times the data)
# _segment_reduce_sparse takes over: numpy's ufunc.at for values, TF's gradient rules in tapegrad
# ops (custom_gradient) for the tape.

_SEG_MAXMIN_T = "float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64"
_SEG_PROD_T = (
    "float, double, int32, uint8, int16, int8, complex64, int64, qint8, quint8, qint32, bfloat16, "
    "qint16, quint16, uint16, complex128, half, uint32, uint64"
)


def _segment_reduce(data, segment_ids, num_segments, kind, op):
    x = data if isinstance(data, (Tensor, Variable)) else _t(data)
    if x.dtype.is_bool:
        raise _attr_error(x.dtype, _SEG_PROD_T if kind == "prod" else _SEG_MAXMIN_T, op)
    ids_t = segment_ids if isinstance(segment_ids, (Tensor, Variable)) else _t(segment_ids)
    if not ids_t.dtype.is_integer:
        raise _attr_error(ids_t.dtype, "int32, int64", op, attr="Tindices")
    ids = np.asarray(ids_t.numpy())
    shape = list(x.shape)
    k = ids.ndim
    if tuple(shape[:k]) != ids.shape:
        raise InvalidArgumentError(
            f"data.shape = {_shape_str(shape)} does not start with segment_ids.shape = "
            f"{_shape_str(ids.shape)} [Op:{op}]"
        )
    n = _axis_int(num_segments)
    flat = ids.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(flat >= n)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(
            f"segment_ids[{','.join(map(str, np.unravel_index(i, ids.shape)))}] = "
            f"{flat[i]} is out of range [0, {n}) [Op:{op}]"
        )
    inner = shape[k:]
    m = int(np.prod(inner, dtype=np.int64))
    rows = _core.reshape(x, [len(flat), m])
    keep = np.flatnonzero(flat >= 0)
    flat = flat[keep]
    if len(keep) != rows.shape[0]:
        rows = _core.gather(rows, keep.astype(np.int64), 0, 0)
    # position of each row within its segment (stable)
    order = np.argsort(flat, kind="stable")
    counts = np.bincount(flat, minlength=n)[:n] if n else np.zeros(0, np.int64)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if n else counts
    pos = np.empty(len(flat), np.int64)
    pos[order] = np.arange(len(flat)) - starts[flat[order]]
    longest = int(counts.max()) if counts.size else 0
    npd = x.dtype.as_numpy_dtype
    if kind == "prod":
        fill = 1
    else:
        info = np.finfo(npd) if x.dtype.is_floating else np.iinfo(npd)
        fill = info.min if kind == "max" else info.max
    if n * max(longest, 1) > _DENSE_BLOCK_LIMIT * max(len(flat), 1) + 4096:
        out = _segment_reduce_sparse(rows, flat, n, m, kind, fill)
        return _core.reshape(out, [n] + inner), counts
    base = _core.constant(np.full([n, max(longest, 1), m], fill, dtype=npd), x.dtype._code)
    if len(flat):
        block = _core.tensor_scatter_nd_update(base, np.stack([flat, pos], 1), rows)
    else:
        block = base
    reduce = {"max": _core.reduce_max, "min": _core.reduce_min, "prod": _core.reduce_prod}[kind]
    return _core.reshape(reduce(block, [1], False), [n] + inner), counts


_DENSE_BLOCK_LIMIT = 4  # the dense block may hold this many times the data's rows (plus 4096)


def _segment_reduce_sparse(rows, flat, n, m, kind, fill):
    """The segment reduction of rows [N, m] for uneven segments, in O(N * m) memory: values from
    numpy's ufunc.at, gradients from TF's rules (math_grad.py) written in tapegrad ops. Max/min:
    the incoming gradient is shared equally among the entries equal to the result (the mask is
    piecewise constant, so higher orders are exact). Prod: the product of the other entries,
    handling zeros as TF; it refers to the op itself, so higher orders are exact too."""
    dt = rows.dtype
    npd = dt.as_numpy_dtype
    ufunc = {"max": np.maximum, "min": np.minimum, "prod": np.multiply}[kind]

    @custom_gradient
    def reduce(r):
        a = np.asarray(r)
        out = np.full([n, m], fill, dtype=npd)
        ufunc.at(out, flat, a)
        idx = flat.astype(np.int64)

        def grad(dy):
            g = _core.gather(dy, idx, 0, 0)
            if kind != "prod":
                sel = a == out[flat]
                cnt = np.zeros([n, m], npd)
                np.add.at(cnt, flat, sel.astype(npd))
                w = np.where(sel, 1 / np.maximum(cnt[flat], 1), 0).astype(npd)
                return g * _core.constant(w, dt._code)
            is_zero = a == 0
            zeros_per = np.zeros([n, m], np.int64)
            np.add.at(zeros_per, flat, is_zero.astype(np.int64))
            zmask = _core.constant(is_zero, as_dtype("bool")._code)
            non_zero = _core.where3(zmask, ones_like(r), r)
            non_zero_prod = _core.gather(reduce_fn(non_zero), idx, 0, 0)
            prod = _core.gather(reduce_fn(r), idx, 0, 0)
            partial = _core.where3(zmask, non_zero_prod, _core.divide(prod, non_zero))
            keep = _core.constant((zeros_per[flat] <= 1).astype(npd), dt._code)
            return g * partial * keep

        return _core.constant(out, dt._code), grad

    def reduce_fn(r):
        return reduce(r)

    return reduce(rows)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """The max of `data`'s slices per segment id (ids: a prefix of data's shape; negative ids are
    dropped); empty segments give the dtype's lowest value, as TF. Ties share the gradient.

    >>> import tapegrad as tg
    >>> tg.math.unsorted_segment_max([1.0, 3.0, 2.0], [0, 0, 1], 2).numpy().tolist()
    [3.0, 2.0]
    """
    return _segment_reduce(data, segment_ids, num_segments, "max", "UnsortedSegmentMax")[0]


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """The min of `data`'s slices per segment id; empty segments give the dtype's highest value."""
    return _segment_reduce(data, segment_ids, num_segments, "min", "UnsortedSegmentMin")[0]


def unsorted_segment_prod(data, segment_ids, num_segments, name=None):
    """The product of `data`'s slices per segment id; empty segments give 1."""
    return _segment_reduce(data, segment_ids, num_segments, "prod", "UnsortedSegmentProd")[0]


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """The sum of `data`'s slices per segment divided by sqrt(count) (empty segments give 0).

    >>> import tapegrad as tg
    >>> tg.math.unsorted_segment_sqrt_n([1.0, 3.0, 2.0], [0, 0, 1], 2).numpy().tolist()
    [2.8284270763397217, 2.0]
    """
    x = data if isinstance(data, (Tensor, Variable)) else _t(data)
    if not x.dtype.is_floating:
        raise _attr_error(x.dtype, "bfloat16, half, float, double, complex64, complex128", "Sqrt")
    ids = np.asarray(segment_ids.numpy() if isinstance(segment_ids, (Tensor, Variable)) else segment_ids)
    total = unsorted_segment_sum(x, ids, num_segments)
    n = _axis_int(num_segments)
    flat = ids.reshape(-1)
    counts = np.bincount(flat[flat >= 0].astype(np.int64), minlength=n)[:n]
    scale = np.sqrt(np.maximum(counts, 1).astype(x.dtype.as_numpy_dtype))
    return total / _core.constant(scale.reshape([n] + [1] * (total.ndim - 1)), x.dtype._code)


def _sorted_segment(data, segment_ids, kind, op, empty):
    ids = np.asarray(segment_ids.numpy() if isinstance(segment_ids, (Tensor, Variable)) else segment_ids)
    if ids.ndim != 1:
        raise InvalidArgumentError(f"segment_ids should be a vector. [Op:{op}]")
    x = data if isinstance(data, (Tensor, Variable)) else _t(data)
    if not x.ndim or x.shape[0] != ids.size:
        raise InvalidArgumentError(f"segment_ids should be the same size as dimension 0 of input. [Op:{op}]")
    n = int(ids[-1]) + 1 if ids.size else 0
    if ids.size and (np.diff(ids) < 0).any():
        raise InvalidArgumentError(f"segment ids are not increasing [Op:{op}]")
    if ids.size and ids[0] < 0:
        raise InvalidArgumentError(
            f"Segment id {int(ids[0])} out of range [0, {n}), possibly because "
            f"'segment_ids' input is not sorted. [Op:{op}]"
        )
    out, counts = _segment_reduce(x, ids, n, kind, op)
    if kind == "prod" or counts.all():
        return out
    mask = (counts > 0).reshape([n] + [1] * (out.ndim - 1))
    mask = _core.constant(np.broadcast_to(mask, out.shape).copy(), as_dtype("bool")._code)
    return _core.where3(mask, out, _core.constant(np.asarray(empty, dtype=out.dtype.as_numpy_dtype), out.dtype._code))


def segment_max(data, segment_ids, name=None):
    """The max of `data`'s rows per sorted segment id (empty segments give 0, as TF).

    >>> import tapegrad as tg
    >>> tg.math.segment_max([1.0, 3.0, 2.0], [0, 0, 2]).numpy().tolist()
    [3.0, 0.0, 2.0]
    """
    return _sorted_segment(data, segment_ids, "max", "SegmentMax", 0)


def segment_min(data, segment_ids, name=None):
    """The min of `data`'s rows per sorted segment id (empty segments give 0, as TF)."""
    return _sorted_segment(data, segment_ids, "min", "SegmentMin", 0)


def segment_prod(data, segment_ids, name=None):
    """The product of `data`'s rows per sorted segment id (empty segments give 1)."""
    return _sorted_segment(data, segment_ids, "prod", "SegmentProd", 1)


# ---- tf.nn -------------------------------------------------------------------------------------


def crelu(features, axis=-1, name=None):
    """Concatenated ReLU: concat([relu(x), relu(-x)], axis), so the output has twice the size.

    >>> import tapegrad as tg
    >>> tg.nn.crelu([1.0, -2.0]).numpy().tolist()
    [1.0, 0.0, 0.0, 2.0]
    """
    x = features if isinstance(features, Tensor) else _t(features)
    return concat([_core.relu(x), _core.relu(_core.negative(x))], axis)


def _same_shape(a, b, an, bn):
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"`{an}` and `{bn}` must have the same shape, received ({tuple(a.shape)} vs {tuple(b.shape)})."
        )


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """exp(log_input) - log_input * targets, plus Stirling's approximation of log(targets!) where
    targets > 1 when `compute_full_loss`, as TF.

    >>> import tapegrad as tg
    >>> round(float(tg.nn.log_poisson_loss(2.0, 0.0)), 6)
    1.0
    """
    log_input = _t(log_input)
    targets = _t(targets, log_input.dtype) if not isinstance(targets, (Tensor, Variable)) else _t(targets)
    _same_shape(log_input, targets, "log_input", "targets")
    result = _core.exp(log_input) - log_input * targets
    if compute_full_loss:
        half = _core.constant(np.asarray(0.5, targets.dtype.as_numpy_dtype), targets.dtype._code)
        two_pi = _core.constant(np.asarray(2 * _pymath.pi, targets.dtype.as_numpy_dtype), targets.dtype._code)
        stirling = targets * _core.log(targets) - targets + half * _core.log(two_pi * targets)
        z, o = zeros_like(targets), ones_like(targets)
        in_01 = _core.logical_and(_core.greater_equal(targets, z), _core.less_equal(targets, o))
        result = result + _core.where3(in_01, z, stirling)
    return result


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted by `pos_weight` (TF's stable form:
    (1 - z) * x + (1 + (q - 1) * z) * (log1p(exp(-|x|)) + relu(-x))).

    >>> import tapegrad as tg
    >>> round(float(tg.nn.weighted_cross_entropy_with_logits(1.0, 0.0, 2.0)), 6)
    1.386294
    """
    logits = _t(logits)
    labels = _t(labels, logits.dtype) if not isinstance(labels, (Tensor, Variable)) else _t(labels)
    _same_shape(logits, labels, "logits", "labels")
    log_weight = 1 + (pos_weight - 1) * labels
    return _core.add(
        (1 - labels) * logits, log_weight * (_core.log1p(_core.exp(-_core.abs(logits))) + _core.relu(-logits))
    )


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """(mean, variance) from sufficient statistics (counts, sum of x - shift, sum of squares).

    >>> import tapegrad as tg
    >>> [float(v) for v in tg.nn.normalize_moments(2.0, 4.0, 10.0, None)]
    [2.0, 1.0]
    """
    divisor = _core.reciprocal(counts if isinstance(counts, Tensor) else _t(counts))
    shifted_mean = _core.multiply(mean_ss, divisor)
    mean = shifted_mean + shift if shift is not None else shifted_mean
    variance = _core.subtract(_core.multiply(variance_ss, divisor), _core.square(shifted_mean))
    return mean, variance


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """(count, sum of x - shift, sum of (x - shift)**2, shift) over `axes`; count in x's dtype.

    >>> import tapegrad as tg
    >>> [float(v) for v in tg.nn.sufficient_statistics([1.0, 3.0], [0])[:3]]
    [2.0, 4.0, 10.0]
    """
    x = x if isinstance(x, Tensor) else _t(x)
    shape = list(x.shape)
    axes = list(axes)  # a list, as TF (an int raises TypeError there too)
    count = 1
    for d in axes:
        count *= shape[int(d)]
    counts = _core.constant(np.asarray(count, dtype=x.dtype.as_numpy_dtype), x.dtype._code)
    if shift is not None:
        shift = _t(shift, x.dtype) if not isinstance(shift, Tensor) else shift
        m_ss = _core.subtract(x, shift)
        v_ss = _core.squared_difference(x, shift)
    else:
        m_ss, v_ss = x, _core.square(x)
    return (counts, _core.reduce_sum(m_ss, axes, bool(keepdims)), _core.reduce_sum(v_ss, axes, bool(keepdims)), shift)


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None):
    """Frequency-weighted (mean, variance) over `axes` (float16 computed in float32, as TF).

    >>> import tapegrad as tg
    >>> [float(v) for v in tg.nn.weighted_moments([1.0, 3.0], [0], [1.0, 3.0])]
    [2.5, 0.75]
    """
    x = x if isinstance(x, Tensor) else _t(x)
    w = frequency_weights if isinstance(frequency_weights, Tensor) else _t(frequency_weights)
    needs_cast = x.dtype.name == "float16"
    if needs_cast:
        x = cast(x, float32)
    if w.dtype != x.dtype:
        w = cast(w, x.dtype)
    axes = [axes] if isinstance(axes, numbers.Integral) else [int(a) for a in axes]
    wsum = _core.reduce_sum(w * x, axes, True)
    sum_w = _core.reduce_sum(w + zeros_like(x), axes, True)
    mean = divide_no_nan(wsum, sum_w)
    distsq = _core.reduce_sum(w * _core.squared_difference(x, _core.stop_gradient(mean)), axes, True)
    variance = divide_no_nan(distsq, sum_w)
    if not keepdims:
        mean, variance = squeeze(mean, axes), squeeze(variance, axes)
    if needs_cast:
        mean, variance = cast(mean, as_dtype("float16")), cast(variance, as_dtype("float16"))
    return mean, variance


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size (default: the batch size, one
    replica); 0 when global_batch_size is 0, as TF.

    >>> import tapegrad as tg
    >>> float(tg.nn.compute_average_loss([1.0, 2.0, 3.0], global_batch_size=6))
    1.0
    """
    loss = per_example_loss if isinstance(per_example_loss, Tensor) else _t(per_example_loss)
    input_dtype = loss.dtype
    if loss.ndim == 0:
        raise ValueError(
            "Invalid value passed for `per_example_loss`. Expected a tensor with at least rank 1. "
            f"Received per_example_loss={np.asarray(loss)} with rank 0"
        )
    if sample_weight is not None:
        w = cast(sample_weight if isinstance(sample_weight, Tensor) else _t(sample_weight), float32)
        losses = cast(loss, float32)
        if w.ndim and w.ndim - losses.ndim == 1:
            w = squeeze(w, [-1])
        elif w.ndim and losses.ndim - w.ndim == 1:
            w = _core.reshape(w, list(w.shape) + [1])
        loss = cast(losses * w, input_dtype)
    if global_batch_size is None:
        global_batch_size = loss.shape[0]
    g = global_batch_size if isinstance(global_batch_size, Tensor) else _t(global_batch_size)
    if g.ndim != 0:
        raise ValueError(
            f"global_batch_size must be scalar..  Expected scalar shape, saw shape: {TensorShape(list(g.shape))}."
        )
    if not g.dtype.is_integer:
        raise TypeError(
            f'global_batch_size must be an integer..  Expected "x" to be integer type.  Found: tensor of '
            f"dtype {g.dtype}"
        )
    if int(g) < 0:
        raise InvalidArgumentError(
            "global_batch_size must be non-negative..  \nCondition x >= 0 did not hold "
            f"element-wise:\nx (shape=() dtype={g.dtype.name}) = \n{int(g)}"
        )
    return divide_no_nan(_core.reduce_sum(loss, None, False), cast(g, input_dtype))


def scale_regularization_loss(regularization_loss):
    """The summed regularization loss divided by the number of replicas (one: tapegrad runs a
    single replica per process), as TF outside a distribution strategy."""
    from ._ops_math import add_n

    if isinstance(regularization_loss, (list, tuple)):
        regularization_loss = add_n(regularization_loss)
    r = regularization_loss if isinstance(regularization_loss, Tensor) else _t(regularization_loss)
    return _core.reduce_sum(r, None, False) / 1


def _block_size(block_size, op):
    b = _axis_int(block_size)
    if b < 2:
        raise InvalidArgumentError(f"Value for attr 'block_size' of {b} must be at least minimum 2 [Op:{op}]")
    return b


def _space_depth_input(input, data_format, op):
    x = input if isinstance(input, Tensor) else _t(input)
    if data_format not in ("NHWC", "NCHW", "NCHW_VECT_C"):
        raise InvalidArgumentError(
            f"Value for attr 'data_format' of \"{data_format}\" is not in the list of "
            f'allowed values: "NHWC", "NCHW", "NCHW_VECT_C" [Op:{op}]'
        )
    if data_format == "NCHW_VECT_C":
        raise NotImplementedError(f"{op} with data_format='NCHW_VECT_C' (quantized int8 layout) is not supported")
    if x.ndim != 4:
        sep = ":" if op == "DepthToSpace" else ""  # TF's two kernels word it differently
        raise InvalidArgumentError(f"Input rank should be{sep} 4 instead of{sep} {x.ndim} [Op:{op}]")
    if data_format == "NCHW":
        x = _core.transpose(x, [0, 2, 3, 1])
    return x


def depth_to_space(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """Moves blocks of channels into space: [b, h, w, c] -> [b, h*bs, w*bs, c/bs**2] (NHWC; NCHW
    is supported too, as TF on GPU). A reshape and transpose, so the gradient is the inverse move.

    >>> import tapegrad as tg
    >>> tg.nn.depth_to_space(tg.reshape(tg.range(4), [1, 1, 1, 4]), 2).numpy().reshape(-1).tolist()
    [0, 1, 2, 3]
    """
    bs = _block_size(block_size, "DepthToSpace")
    x = _space_depth_input(input, data_format, "DepthToSpace")
    b, h, w, c = x.shape
    if c % (bs * bs):
        raise InvalidArgumentError(f"Input depth dimension {c} should be divisible by: {bs * bs} [Op:DepthToSpace]")
    oc = c // (bs * bs)
    y = _core.reshape(x, [b, h, w, bs, bs, oc])
    y = _core.reshape(_core.transpose(y, [0, 1, 3, 2, 4, 5]), [b, h * bs, w * bs, oc])
    return _core.transpose(y, [0, 3, 1, 2]) if data_format == "NCHW" else y


def space_to_depth(input, block_size, data_format="NHWC", name=None):  # noqa: A002
    """Moves bs x bs spatial blocks into channels: [b, h, w, c] -> [b, h/bs, w/bs, c*bs**2]
    (NHWC; NCHW too). The inverse of depth_to_space.

    >>> import tapegrad as tg
    >>> tg.nn.space_to_depth(tg.reshape(tg.range(4), [1, 2, 2, 1]), 2).numpy().reshape(-1).tolist()
    [0, 1, 2, 3]
    """
    bs = _block_size(block_size, "SpaceToDepth")
    x = _space_depth_input(input, data_format, "SpaceToDepth")
    b, h, w, c = x.shape
    if h % bs or w % bs:
        raise InvalidArgumentError(
            f"Image width {w} and height {h} should be divisible by block_size: {bs} [Op:SpaceToDepth]"
        )
    y = _core.reshape(x, [b, h // bs, bs, w // bs, bs, c])
    y = _core.reshape(_core.transpose(y, [0, 1, 3, 2, 4, 5]), [b, h // bs, w // bs, bs * bs * c])
    return _core.transpose(y, [0, 3, 1, 2]) if data_format == "NCHW" else y


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5, name=None):  # noqa: A002
    """input / (bias + alpha * sqr_sum) ** beta, where sqr_sum sums the squares over the last axis
    in a window of depth_radius either side (4-D, float32/half/bfloat16 only, as TF's LRN).

    >>> import tapegrad as tg
    >>> round(float(tg.nn.lrn(tg.fill([1, 1, 1, 1], 2.0), 1, 1.0, 1.0, 1.0)[0, 0, 0, 0]), 6)
    0.4
    """
    x = input if isinstance(input, Tensor) else _t(input)
    if x.dtype.name not in ("float32", "float16", "bfloat16"):
        raise _attr_error(x.dtype, "half, bfloat16, float", "LRN")
    if x.ndim != 4:
        raise InvalidArgumentError("in must be 4-dimensional [Op:LRN]")
    r = _axis_int(depth_radius)
    if r < 0:
        raise InvalidArgumentError(f"depth_radius = {r} larger than int max [Op:LRN]")  # TF's wording
    c = x.shape[3]
    sq = _core.square(x)
    if r > 0:
        z = _core.zeros(list(x.shape[:3]) + [r], x.dtype._code)
        padded = concat([z, sq, z], 3)
    else:
        padded = sq
    total = _axis_slice(padded, 3, 0, c)
    for k in range(1, 2 * r + 1):
        total = total + _axis_slice(padded, 3, k, k + c)
    npd = x.dtype.as_numpy_dtype
    denom = (
        _core.constant(np.asarray(float(bias), npd), x.dtype._code)
        + _core.constant(np.asarray(float(alpha), npd), x.dtype._code) * total
    )
    return x * _core.pow(denom, _core.constant(np.asarray(-float(beta), npd), x.dtype._code))


lrn = local_response_normalization


# ---- sorting -----------------------------------------------------------------------------------


def _sort_axis(values, axis, direction):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(
            f"Argument `direction` should be one of ASCENDING, DESCENDING. Received: direction={direction}"
        )
    x = values if isinstance(values, Tensor) else _t(values)
    a = _axis_int(axis)
    if not -x.ndim <= a < x.ndim:
        raise InvalidArgumentError(f"slice index {a} of dimension 0 out of bounds. [Op:StridedSlice]")
    if x.dtype.is_bool:
        if direction == "ASCENDING":
            raise _attr_error(
                x.dtype, "bfloat16, half, float, double, int8, int16, int32, int64, complex64, complex128", "Neg"
            )
        raise _attr_error(
            x.dtype, "float, double, int32, uint8, int16, int8, int64, bfloat16, uint16, half, uint32, uint64", "TopKV2"
        )
    return x, a % x.ndim


def _argsort_np(a, axis, direction):
    """Stable order along axis: ascending puts NaN last; descending is the reverse order with ties
    kept in index order."""
    if direction == "ASCENDING":
        return np.argsort(a, axis=axis, kind="stable")
    n = a.shape[axis]
    rev = np.flip(a, axis)
    return n - 1 - np.flip(np.argsort(rev, axis=axis, kind="stable"), axis)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort `values` along `axis`. Ties keep index order (whether or not
    `stable` is set: TF's top_k-based sort is stable too).

    >>> import tapegrad as tg
    >>> tg.argsort([3.0, 1.0, 2.0]).numpy().tolist()
    [1, 2, 0]
    """
    x, a = _sort_axis(values, axis, direction)
    return _core.constant(_argsort_np(np.asarray(x), a, direction).astype(np.int32), int32._code)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis`; a gather with argsort's indices, so gradients flow back to the
    original positions.

    >>> import tapegrad as tg
    >>> tg.sort([3.0, 1.0, 2.0], direction="DESCENDING").numpy().tolist()
    [3.0, 2.0, 1.0]
    """
    x, a = _sort_axis(values, axis, direction)
    idx = _argsort_np(np.asarray(x), a, direction)
    nd = x.ndim
    perm = [i for i in range(nd) if i != a] + [a]
    xt = _core.transpose(x, perm) if a != nd - 1 else x
    it = np.transpose(idx, perm) if a != nd - 1 else idx
    lead = list(xt.shape[:-1])
    n = xt.shape[-1]
    rows = int(np.prod(lead, dtype=np.int64))
    out = gather(_core.reshape(xt, [rows, n]), it.reshape(rows, n).astype(np.int64), axis=1, batch_dims=1)
    out = _core.reshape(out, lead + [n])
    if a != nd - 1:
        out = _core.transpose(out, list(np.argsort(perm)))
    return out


def searchsorted(sorted_sequence, values, side="left", out_type=int32, name=None):
    """Indices where `values` would be inserted into the innermost rows of `sorted_sequence`
    (leading dimensions flattened; their sizes must agree, as TF). side="left" or "right".

    >>> import tapegrad as tg
    >>> tg.searchsorted([1, 2, 3], [2, 5]).numpy().tolist()
    [1, 3]
    """
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: `side` = '{side}'.")
    op = "LowerBound" if side == "left" else "UpperBound"
    s = sorted_sequence if isinstance(sorted_sequence, Tensor) else _t(sorted_sequence)
    v = values if isinstance(values, Tensor) else _t(values)  # converted on its own, as TF
    if s.dtype != v.dtype:
        raise InvalidArgumentError(
            f"cannot compute {op} as input #1(zero-based) was expected to be a "
            f"{_kname(s.dtype)} tensor but is a {_kname(v.dtype)} tensor [Op:{op}]"
        )
    out_type = as_dtype(out_type)
    if out_type not in (int32, int64):
        raise _attr_error(out_type, "int32, int64", op, attr="out_type")
    if s.ndim == 0 or v.ndim == 0:
        raise InvalidArgumentError("slice index -1 of dimension 0 out of bounds. [Op:StridedSlice]")
    sa, va = np.asarray(s), np.asarray(v)
    s2 = sa.reshape(-1, sa.shape[-1]) if sa.shape[-1] else sa.reshape(int(np.prod(sa.shape[:-1])), 0)
    v2 = va.reshape(-1, va.shape[-1]) if va.shape[-1] else va.reshape(int(np.prod(va.shape[:-1])), 0)
    if s2.shape[0] != v2.shape[0]:
        raise InvalidArgumentError(f"Leading dim_size of both tensors must match. [Op:{op}]")
    out = np.stack([np.searchsorted(r, q, side=side) for r, q in zip(s2, v2)]) if len(s2) else np.zeros(v2.shape)
    return _core.constant(out.reshape(va.shape).astype(out_type.as_numpy_dtype), out_type._code)
