"""Element specs for ``tf.data``: ``TensorSpec`` (tapegrad's own once it exists at top level) and the
helpers that turn values and user-given types/shapes into specs."""

import numpy as np

from .._dtypes import DType, as_dtype
from .._tensor import Tensor, TensorShape


class _UnknownShape:
    """The shape of unknown rank (TF prints it as ``<unknown>``)."""

    rank = ndims = None

    def as_list(self):
        raise ValueError("as_list() is not defined on an unknown TensorShape.")

    def __repr__(self):
        return "TensorShape(None)"

    def __str__(self):
        return "<unknown>"

    def __eq__(self, other):
        return isinstance(other, _UnknownShape)

    def __hash__(self):
        return hash(None)


UNKNOWN_SHAPE = _UnknownShape()


def as_shape(shape):
    """A TensorShape (None dims allowed) or UNKNOWN_SHAPE from a list/tuple/TensorShape/None."""
    if shape is None or isinstance(shape, _UnknownShape):
        return UNKNOWN_SHAPE
    if getattr(shape, "rank", 0) is None:  # TF's TensorShape(None)
        return UNKNOWN_SHAPE
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, (int, np.integer)):
        shape = [shape]
    return TensorShape(None if d is None else int(d) for d in shape)


class _TensorSpec:
    """Describes a tensor of a dataset element: shape (None for unknown dims) and dtype.

    >>> import tapegrad as tg
    >>> tg.data.Dataset.from_tensor_slices([1, 2, 3]).element_spec
    TensorSpec(shape=(), dtype=tf.int32, name=None)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=None, name=None):
        self._shape = as_shape(shape)
        self._dtype = as_dtype("float32" if dtype is None else _dtype_name(dtype))
        self._name = name

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)

    def is_compatible_with(self, other):
        """True when dtypes match and every known dim of both shapes agrees."""
        return self.dtype == other.dtype and shapes_compatible(self.shape, other.shape)

    def __eq__(self, other):
        return (
            isinstance(other, _TensorSpec)
            and self.dtype == other.dtype
            and self.shape == other.shape
            and self.name == other.name
        )

    def __hash__(self):
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


def tensor_spec_class():
    """tapegrad.TensorSpec when the top level has one, else this package's minimal class."""
    import tapegrad

    return getattr(tapegrad, "TensorSpec", _TensorSpec)


def make_spec(shape, dtype):
    cls = tensor_spec_class()
    shape = as_shape(shape)
    if cls is not _TensorSpec and shape is UNKNOWN_SHAPE:
        shape = None  # TF's spelling of an unknown rank
    return cls(shape, as_dtype(_dtype_name(dtype)))


def _dtype_name(dtype):
    """Accepts tapegrad dtypes, names, numpy dtypes and TF's DType objects (by name)."""
    if isinstance(dtype, DType) or isinstance(dtype, str):
        return dtype
    name = getattr(dtype, "name", None)
    if isinstance(name, str) and not isinstance(dtype, (type, np.dtype)):
        return name
    return dtype


def spec_of(value):
    """The spec of one leaf value (numpy array or tapegrad Tensor)."""
    return make_spec(tuple(value.shape), as_dtype(value.dtype if isinstance(value, Tensor) else value.dtype))


def shapes_compatible(a, b):
    if isinstance(a, _UnknownShape) or isinstance(b, _UnknownShape):
        return True
    return len(a) == len(b) and all(x is None or y is None or x == y for x, y in zip(a, b))


def shape_of_spec(spec):
    return as_shape(spec.shape)


def dtype_of_spec(spec):
    return as_dtype(_dtype_name(spec.dtype))


def relax(shape_a, shape_b):
    """The most specific shape compatible with both (differing dims become None)."""
    if isinstance(shape_a, _UnknownShape) or isinstance(shape_b, _UnknownShape) or len(shape_a) != len(shape_b):
        return UNKNOWN_SHAPE
    return TensorShape(x if x == y else None for x, y in zip(shape_a, shape_b))
