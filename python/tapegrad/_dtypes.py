"""TF-style dtype objects: ``tg.float32`` and friends."""
import builtins

import numpy as np


class DType:
    """A tensor element type, compared and printed like ``tf.DType``.

    >>> import tapegrad as tg
    >>> tg.float32.is_floating, tg.as_dtype("int64").name
    (True, 'int64')
    """

    __slots__ = ("_code", "name", "as_numpy_dtype", "is_floating", "is_integer", "is_bool", "size")

    def __init__(self, code, name, np_type):
        self._code = code
        self.name = name
        self.as_numpy_dtype = np_type
        self.is_floating = name.startswith("float")
        self.is_integer = name.startswith("int")
        self.is_bool = name == "bool"
        self.size = np.dtype(np_type).itemsize

    @property
    def base_dtype(self):
        return self

    @property
    def min(self):
        return np.finfo(self.as_numpy_dtype).min if self.is_floating else np.iinfo(self.as_numpy_dtype).min

    @property
    def max(self):
        return np.finfo(self.as_numpy_dtype).max if self.is_floating else np.iinfo(self.as_numpy_dtype).max

    def __repr__(self):
        return "tf." + self.name

    def __str__(self):
        return f"<dtype: {self.name!r}>"

    def __eq__(self, other):
        if isinstance(other, DType):
            return self._code == other._code
        try:
            return self._code == as_dtype(other)._code
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._code)

    def __reduce__(self):
        return (as_dtype, (self.name,))


float32 = DType(0, "float32", np.float32)
float64 = DType(1, "float64", np.float64)
int32 = DType(2, "int32", np.int32)
int64 = DType(3, "int64", np.int64)
bool = DType(4, "bool", np.bool_)  # noqa: A001  (TF's name)
double = float64
_BY_CODE = (float32, float64, int32, int64, bool)
_BY_NAME = {d.name: d for d in _BY_CODE}
_BY_NAME.update({"float": float32, "double": float64})


def as_dtype(value):
    """Converts a DType, its name, a numpy dtype or a Python type to a DType."""
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is float:
        return float32
    if value is int:
        return int32
    if value is builtins.bool:
        return bool
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a tapegrad DType.") from None
    for d in _BY_CODE:
        if np.dtype(d.as_numpy_dtype) == npd:
            return d
    raise TypeError(
        f"tapegrad does not support dtype {npd} (supported: float32, float64, int32, int64, bool)"
    )


def code_of(dtype):
    """The engine's dtype code for anything as_dtype accepts, or None for None."""
    return None if dtype is None else as_dtype(dtype)._code
