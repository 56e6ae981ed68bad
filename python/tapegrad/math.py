"""``tg.math``: elementwise math and reductions under TF's module names."""
from ._core import (  # noqa: F401
    abs, acos, add, asin, atan, atan2, ceil, cos, cosh, divide, equal, erf, exp, expm1, floor, floordiv,
    floormod, greater, greater_equal, is_finite, is_inf, is_nan, less, less_equal, log, log1p,
    logical_and, logical_not, logical_or, maximum, minimum, multiply, negative, not_equal, pow,
    reciprocal, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum,
    round, rsqrt, sigmoid, sign, sin, sinh, softplus, sqrt, square, squared_difference, subtract, tan,
    tanh,
)
from ._ops import truediv  # noqa: F401
from ._namespaces import exported as _exported

globals().update(_exported("math"))
