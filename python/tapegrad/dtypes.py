"""``tf.dtypes``: the DType class, the dtype constants, ``as_dtype``, ``cast`` and ``complex``, the
same objects as at the top level (TF's namespace). Quantized, string, resource and variant dtypes
and ``saturate_cast`` are not implemented (NotInTapegradError)."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from ._dtypes import (  # noqa: A004  (TF's names)
    DType,
    as_dtype,
    bfloat16,
    bool,
    complex64,
    complex128,
    double,
    float16,
    float32,
    float64,
    half,
    int8,
    int16,
    int32,
    int64,
    uint8,
    uint16,
    uint32,
    uint64,
)
from ._missing import module_getattr
from ._ops import cast
from ._ops_math import complex  # noqa: A004

__all__ = [
    "DType",
    "as_dtype",
    "bfloat16",
    "bool",
    "cast",
    "complex",
    "complex64",
    "complex128",
    "double",
    "float16",
    "float32",
    "float64",
    "half",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
]

# Not for type checkers (as in tapegrad/__init__.py): they should still flag a misspelt name.
if not _TYPE_CHECKING:
    __getattr__ = module_getattr(
        __name__,
        "tf.dtypes",
        (
            "QUANTIZED_DTYPES",
            "qint8",
            "qint16",
            "qint32",
            "quint8",
            "quint16",
            "string",
            "resource",
            "variant",
            "saturate_cast",
            "experimental",
        ),
        "tapegrad's tensors hold numbers only: no quantized, string, resource or variant dtypes.",
    )
