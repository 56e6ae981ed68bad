"""``tg.math``: elementwise math and reductions under TF's module names."""
from ._core import (
    abs, acos, acosh, add, asin, asinh, atan, atan2, atanh, ceil, cos, cosh, divide, equal, erf, erfc, exp, expm1,
    floor, floordiv, floormod, greater, greater_equal, is_finite, is_inf, is_nan, less, less_equal, log, log1p,
    log_softmax, logical_and, logical_not, logical_or, maximum, minimum, multiply, negative, not_equal, pow,
    reciprocal, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min, reduce_prod, reduce_sum, rsqrt, sigmoid,
    sign, sin, sinh, softmax, softplus, sqrt, square, squared_difference, subtract, tan, tanh,
)
from ._ops import truediv
from ._ops_math import (
    add_n, argmax, argmin, bincount, confusion_matrix, conj, count_nonzero, cumprod, cumsum, divide_no_nan, in_top_k,
    l2_normalize, log_sigmoid, logical_xor, mod, multiply_no_nan, reduce_euclidean_norm, reduce_logsumexp,
    reduce_std, reduce_variance, rint, round, scalar_mul, softsign, top_k, xdivy, xlog1py, xlogy,
)
from ._ops_shape import segment_mean, segment_sum, unsorted_segment_mean, unsorted_segment_sum

__all__ = [
    "abs", "acos", "acosh", "add", "add_n", "argmax", "argmin", "asin", "asinh", "atan", "atan2", "atanh", "bincount",
    "ceil", "confusion_matrix", "conj", "cos", "cosh", "count_nonzero", "cumprod", "cumsum", "divide",
    "divide_no_nan", "equal", "erf", "erfc", "exp", "expm1", "floor", "floordiv", "floormod", "greater",
    "greater_equal", "in_top_k", "is_finite", "is_inf", "is_nan", "l2_normalize", "less", "less_equal", "log",
    "log1p", "log_sigmoid", "log_softmax", "logical_and", "logical_not", "logical_or", "logical_xor", "maximum",
    "minimum", "mod", "multiply", "multiply_no_nan", "negative", "not_equal", "pow", "reciprocal", "reduce_all",
    "reduce_any", "reduce_euclidean_norm", "reduce_logsumexp", "reduce_max", "reduce_mean", "reduce_min",
    "reduce_prod", "reduce_std", "reduce_sum", "reduce_variance", "rint", "round", "rsqrt", "scalar_mul",
    "segment_mean", "segment_sum", "sigmoid", "sign", "sin", "sinh", "softmax", "softplus", "softsign", "sqrt",
    "square", "squared_difference", "subtract", "tan", "tanh", "top_k", "truediv", "unsorted_segment_mean",
    "unsorted_segment_sum", "xdivy", "xlog1py", "xlogy",
]
