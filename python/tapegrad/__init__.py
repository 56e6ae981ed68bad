"""tapegrad: TensorFlow-2-style eager autodiff (GradientTape, Keras optimizers and losses) with a
C++ engine. ``import tapegrad as tf`` runs the supported subset of TF 2 programs unchanged.

The public names are the explicit imports below and ``__all__`` lists exactly them
(tests/test_public_surface.py checks that nothing else is reachable as a public name).
"""
import sys as _sys

try:
    from . import _core
except ImportError:  # pragma: no cover - rpath missing (unusual installs): preload OpenBLAS
    import ctypes as _ctypes
    import os as _os

    import scipy_openblas32 as _sob

    _ctypes.CDLL(_os.path.join(_sob.get_lib_dir(), "libscipy_openblas.so"), mode=_ctypes.RTLD_GLOBAL)
    from . import _core

from . import _tensor

_tensor._attach_methods()  # Tensor's and Variable's Python methods and operators, attached once here

from . import config, errors, nest  # noqa: E402
from ._core import (  # noqa: E402  (engine ops, one call each)
    abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, broadcast_to, ceil, cos, cosh, divide, equal, erf, exp,
    expm1, floor, floordiv, floormod, greater, greater_equal, identity, is_finite, is_inf, is_nan, less, less_equal,
    log, log1p, logical_and, logical_not, logical_or, matmul, maximum, minimum, multiply, negative, not_equal, pow,
    reciprocal, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum, relu, reshape,
    rsqrt, sigmoid, sign, sin, sinh, softplus, sqrt, square, squared_difference, stop_gradient, subtract, tan, tanh,
    transpose,
)
from ._custom_gradient import custom_gradient  # noqa: E402
from ._dtypes import (  # noqa: E402,A004
    DType, as_dtype, bfloat16, bool, double, float16, float32, float64, half, int8, int16, int32, int64, uint8,
    uint16, uint32, uint64,
)
from ._ops import (  # noqa: E402
    cast, constant, convert_to_tensor, fill, linspace, ones, ones_like, range, rank, shape, size, truediv, zeros,
    zeros_like,
)
from ._ops_linalg import einsum, eye, tensordot  # noqa: E402
from ._ops_math import (  # noqa: E402
    add_n, argmax, argmin, clip_by_global_norm, clip_by_norm, clip_by_value, cumsum, norm, reduce_logsumexp, round,
)
from ._ops_shape import (  # noqa: E402
    boolean_mask, concat, expand_dims, gather, gather_nd, meshgrid, newaxis, one_hot, pad, repeat, reverse, roll,
    scatter_nd, sequence_mask, slice, split, squeeze, stack, strided_slice, tensor_scatter_nd_add,
    tensor_scatter_nd_sub, tensor_scatter_nd_update, tile, unique, unstack, where,
)
from ._tape import GradientTape, UnconnectedGradients  # noqa: E402
from ._tensor import Tensor, TensorShape, TensorSpec, Variable  # noqa: E402
from .config import device  # noqa: E402
from .module import Module, name_scope  # noqa: E402
from .function import Function, case, cond, function, switch_case, while_loop  # noqa: E402
from .function import print_ as print  # noqa: E402,A001  (TF's name)

# Sub-namespaces (tf.math, tf.nn, ...). A new one is one import here and one name in __all__'s
# "namespaces" block below.
from . import autograph, random  # noqa: E402
from . import keras, linalg, math, nn, testing  # noqa: E402
from . import train, saved_model  # noqa: E402
from . import data  # noqa: E402
from . import version  # noqa: E402

from .keras import initializers, losses, metrics, optimizers  # noqa: E402  (tf.metrics etc.: TF's keras aliases)

for _alias in (initializers, losses, metrics, optimizers):  # `import tapegrad.metrics` finds them too
    _sys.modules[__name__ + "." + _alias.__name__.rsplit(".", 1)[1]] = _alias
del _alias

__version__, __tapegrad_version__ = version.VERSION, version.TAPEGRAD_VERSION

__all__ = [
    # namespaces
    "autograph", "config", "data", "errors", "initializers", "keras", "linalg", "losses", "math", "metrics", "nest",
    "nn", "optimizers", "random", "saved_model", "testing", "train", "version",
    # classes and dtypes
    "DType", "Function", "GradientTape", "Module", "Tensor", "TensorShape", "TensorSpec", "UnconnectedGradients",
    "Variable", "bfloat16", "bool", "double", "float16", "float32", "float64", "half", "int8", "int16", "int32",
    "int64", "uint8", "uint16", "uint32", "uint64",
    # functions
    "abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "as_dtype", "asin", "asinh", "atan", "atan2", "atanh",
    "boolean_mask", "broadcast_to", "case", "cast", "ceil", "clip_by_global_norm", "clip_by_norm", "clip_by_value",
    "concat", "cond", "constant", "convert_to_tensor", "cos", "cosh", "cumsum", "custom_gradient", "device",
    "divide", "einsum", "equal", "erf", "exp", "expand_dims", "expm1", "eye", "fill", "floor", "floordiv",
    "floormod", "function", "gather", "gather_nd", "greater", "greater_equal", "identity", "is_finite", "is_inf",
    "is_nan", "less", "less_equal", "linspace", "log", "log1p", "logical_and", "logical_not", "logical_or", "matmul",
    "maximum", "meshgrid", "minimum", "multiply", "name_scope", "negative", "newaxis", "norm", "not_equal",
    "one_hot", "ones", "ones_like", "pad", "pow", "print", "range", "rank", "reciprocal", "reduce_all", "reduce_any",
    "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min", "reduce_prod", "reduce_sum", "relu", "repeat",
    "reshape", "reverse", "roll", "round", "rsqrt", "scatter_nd", "sequence_mask", "shape", "sigmoid", "sign", "sin",
    "sinh", "size", "slice", "softplus", "split", "sqrt", "square", "squared_difference", "squeeze", "stack",
    "stop_gradient", "strided_slice", "subtract", "switch_case", "tan", "tanh", "tensor_scatter_nd_add",
    "tensor_scatter_nd_sub", "tensor_scatter_nd_update", "tensordot", "tile", "transpose", "truediv", "unique",
    "unstack", "where", "while_loop", "zeros", "zeros_like",
]
