"""TF-style dtype objects: ``tg.float32`` and friends."""

import builtins
from typing import Any, Optional

import numpy as np


class DType:
    """A tensor element type, compared and printed like ``tf.DType``.

    >>> import tapegrad as tg
    >>> tg.float32.is_floating, tg.as_dtype("int64").name
    (True, 'int64')
    >>> tg.uint8.is_unsigned, tg.uint8.min, tg.uint8.max, tg.uint8.size
    (True, 0, 255, 1)
    """

    __slots__ = (
        "_code",
        "name",
        "_np_type",
        "is_floating",
        "is_integer",
        "is_bool",
        "is_unsigned",
        "is_complex",
        "size",
    )

    def __init__(self, code, name, np_type, size=None):
        self._code = code
        self.name = name
        self._np_type = np_type
        self.is_floating = name.startswith(("float", "bfloat"))
        self.is_integer = name.startswith(("int", "uint"))
        self.is_bool = name == "bool"
        self.is_unsigned = name.startswith("uint")
        self.is_complex = name.startswith("complex")
        self.size = np.dtype(np_type).itemsize if size is None else size

    @property
    def as_numpy_dtype(self):
        """The numpy scalar type (bfloat16: ``ml_dtypes.bfloat16``, which TF itself uses)."""
        if self._np_type is None:
            return _ml_bfloat16()
        return self._np_type

    @property
    def base_dtype(self):
        return self

    @property
    def real_dtype(self):
        """complex64 -> float32, complex128 -> float64; any other dtype: itself (as TF)."""
        return {"complex64": float32, "complex128": float64}.get(self.name, self)

    @property
    def is_numpy_compatible(self):
        return True

    @property
    def min(self):
        """The lowest finite value."""
        return self._limits()[0]

    @property
    def max(self):
        """The highest finite value."""
        return self._limits()[1]

    def _limits(self):
        if self.is_bool or self.is_complex:
            raise TypeError(f"Cannot find minimum value of {self} with type {self}.")
        if self.name == "bfloat16":
            big = float.fromhex("0x1.fep127")
            return -big, big
        info = np.finfo(self._np_type) if self.is_floating else np.iinfo(self._np_type)
        if self.is_floating:
            return info.min, info.max
        return int(info.min), int(info.max)

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


def _ml_bfloat16():
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError("bfloat16 has no numpy type without the ml_dtypes package (pip install ml_dtypes)") from None
    return ml_dtypes.bfloat16


# The codes are the engine's (cpp/tensor/dtype.h).
float32 = DType(0, "float32", np.float32)
float64 = DType(1, "float64", np.float64)
int32 = DType(2, "int32", np.int32)
int64 = DType(3, "int64", np.int64)
bool = DType(4, "bool", np.bool_)  # noqa: A001  (TF's name)
uint8 = DType(5, "uint8", np.uint8)
int8 = DType(6, "int8", np.int8)
int16 = DType(7, "int16", np.int16)
uint16 = DType(8, "uint16", np.uint16)
uint32 = DType(9, "uint32", np.uint32)
uint64 = DType(10, "uint64", np.uint64)
float16 = DType(11, "float16", np.float16)
bfloat16 = DType(12, "bfloat16", None, size=2)
complex64 = DType(13, "complex64", np.complex64)
complex128 = DType(14, "complex128", np.complex128)
double = float64
half = float16
_BY_CODE = (
    float32,
    float64,
    int32,
    int64,
    bool,
    uint8,
    int8,
    int16,
    uint16,
    uint32,
    uint64,
    float16,
    bfloat16,
    complex64,
    complex128,
)
_BY_NAME = {d.name: d for d in _BY_CODE}
_BY_NAME.update({"float": float32, "double": float64, "half": float16})
_NAMES = ", ".join(d.name for d in _BY_CODE)


def as_dtype(value: Any) -> "DType":
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
    if value is complex:
        return complex128
    try:
        npd = np.dtype(value)
    except TypeError:
        raise TypeError(f"Cannot convert {value!r} to a tapegrad DType.") from None
    if npd.name == "bfloat16":  # ml_dtypes
        return bfloat16
    for d in _BY_CODE:
        if d._np_type is not None and np.dtype(d._np_type) == npd:
            return d
    raise TypeError(f"tapegrad does not support dtype {npd} (supported: {_NAMES})")


def code_of(dtype: Any) -> Optional[int]:
    """The engine's dtype code for anything as_dtype accepts, or None for None."""
    return None if dtype is None else as_dtype(dtype)._code
