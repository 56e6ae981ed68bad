"""Python conveniences on the engine's Tensor and Variable: TF's shape, dtype, repr, numpy interop."""
import numpy as np

from . import _core
from ._dtypes import _BY_CODE, as_dtype, code_of

Tensor = _core.Tensor


class TensorShape(tuple):
    """The static shape of a tensor; a tuple of ints with TF's helpers.

    >>> import tapegrad as tg
    >>> tg.zeros([2, 3]).shape.as_list()
    [2, 3]
    """

    def as_list(self):
        return list(self)

    @property
    def rank(self):
        return len(self)

    ndims = rank

    def num_elements(self):
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self):
        return f"TensorShape({list(self)})"

    def __str__(self):
        return "(" + ", ".join(str(d) for d in self) + ("," if len(self) == 1 else "") + ")"

    def __eq__(self, other):  # TF: TensorShape([2, 3]) == [2, 3]
        if isinstance(other, list):
            other = tuple(other)
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __getitem__(self, key):
        r = tuple.__getitem__(self, key)
        return TensorShape(r) if isinstance(key, slice) else r


def _shape(self):
    return TensorShape(self._shape_tuple)


def _dtype(self):
    return _BY_CODE[self._dtype_code]


def _array(self, dtype=None, copy=None):
    a = self._array_view()
    if copy:
        a = a.copy()
    if dtype is not None and np.dtype(dtype) != a.dtype:
        a = a.astype(dtype)
    return a


def _numpy_str(self):
    return np.array2string(self._array_view(), separator=" ")


def _tensor_repr(self):
    a = self._array_view()
    return f"<tf.Tensor: shape={_shape(self)}, dtype={_dtype(self).name}, numpy={np.array_repr(a)}>"


def _tensor_str(self):
    return f"tf.Tensor({_numpy_str(self)}, shape={_shape(self)}, dtype={_dtype(self).name})"


def _len(self):
    s = self._shape_tuple
    if not s:
        raise TypeError("Scalar tensor has no `len()`")
    return s[0]


def _bool(self):
    if self.ndim != 0 and int(np.prod(self._shape_tuple)) != 1:
        raise ValueError(
            "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
        )
    return builtins_bool(self._item())


builtins_bool = bool


def _float(self):
    return float(self._item())


def _int(self):
    return int(self._item())


def _index(self):
    if not _dtype(self).is_integer:
        raise TypeError(f"only integer scalar tensors can be used as an index, got {_dtype(self).name}")
    return int(self._item())


def _iter(self):
    if not self._shape_tuple:
        raise TypeError("Cannot iterate over a scalar tensor.")
    from . import _ops_shape
    return iter(_ops_shape.unstack(self))


def _get_shape(self):
    return _shape(self)


for _cls in (_core.Tensor, _core.Variable):
    _cls.shape = property(_shape, doc="The shape, a TensorShape.")
    _cls.dtype = property(_dtype, doc="The element type, a DType.")
    _cls.get_shape = _get_shape
    _cls.__array__ = _array
    _cls.__array_priority__ = 100  # numpy defers `ndarray op Tensor` to the Tensor's reflected op
    _cls.__len__ = _len
    _cls.__bool__ = _bool
    _cls.__float__ = _float
    _cls.__int__ = _int
    _cls.__index__ = _index
    _cls.__iter__ = _iter

Tensor.__repr__ = _tensor_repr
Tensor.__str__ = _tensor_str


class Variable(_core.Variable):
    """A mutable tensor: model parameters and optimizer state.

    Trainable variables read inside a GradientTape are watched automatically.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = v.assign_add(2.0)
    >>> float(v)
    3.0
    """

    def __init__(self, initial_value=None, trainable=True, name=None, dtype=None, shape=None, **kwargs):
        if initial_value is None:
            raise ValueError("The initial value must be specified.")
        if callable(initial_value):
            initial_value = initial_value()
        from ._ops import convert_to_tensor

        value = convert_to_tensor(initial_value) if dtype is None else _convert_with_dtype(initial_value, dtype)
        if shape is not None and tuple(shape) != tuple(value.shape):
            raise ValueError(f"Shape {tuple(value.shape)} of the initial value is not compatible with shape {tuple(shape)}")
        _core.Variable.__init__(self, value, name if name is not None else "Variable", bool(trainable))

    def assign(self, value, use_locking=False, name=None, read_value=True):
        self._assign(value)
        return self

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        self._assign_add(delta)
        return self

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        self._assign_sub(delta)
        return self

    @property
    def path(self):
        return self.name

    def __repr__(self):
        a = self._array_view()
        return (f"<tf.Variable '{self.name}:0' shape={_shape(self)} dtype={_dtype(self).name}, "
                f"numpy={np.array_repr(a)}>")

    def _as_tapegrad_tensor(self):
        return self.value()


def _convert_with_dtype(value, dtype):
    from ._ops import cast, convert_to_tensor

    t = convert_to_tensor(value) if isinstance(value, (Tensor, _core.Variable, np.ndarray)) else None
    if t is not None:
        return t if t.dtype == as_dtype(dtype) else cast(t, dtype)
    return _core.convert_to_tensor(value, code_of(dtype))
