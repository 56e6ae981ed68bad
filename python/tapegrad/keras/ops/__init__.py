"""``tf.keras.ops``: Keras 3's backend-neutral ops (numpy-like, ``nn``, ``linalg``, math, core) on
tapegrad's differentiable ops, with Keras's argument names, defaults and dtype rules.

Everything here is differentiable where the op is (gradients flow through ``GradientTape``).
Called on ``keras.Input`` tensors, an op records an operation of the functional model, as in
Keras (``x = ops.expand_dims(inputs, -1)``); such models save and load in tapegrad's ``.keras``
files, but Keras writes these operations differently (their arguments in the operation's config),
so exchanging them with Keras is not supported yet.
``tests/test_keras_namespaces.py`` lists which of Keras 3's names exist here and which are not yet.

>>> import tapegrad as tg
>>> ops = tg.keras.ops
>>> float(ops.sum(ops.multiply(ops.ones((2, 3)), 2.0)))
12.0
"""
import inspect as _inspect

import numpy as _np

from . import core, image, linalg, math, nn, numpy
from ..._tensor import Tensor as _Tensor, Variable as _Variable

_PLAIN = frozenset({_Tensor, _Variable, int, float, bool, str, type(None), _np.ndarray})

# Functions whose results are not tensors, or that take Python callables: not recorded as
# functional-graph operations when given KerasTensors.
_NOT_SYMBOLIC = {"shape", "ndim", "size", "dtype", "is_tensor", "convert_to_numpy", "result_type", "cond",
                 "while_loop", "fori_loop", "map", "scan", "switch", "custom_gradient", "vectorized_map", "vectorize"}


def _is_kt(a):
    if a.__class__ in _PLAIN:
        return False
    if getattr(a, "_is_keras_tensor", False):
        return True
    return isinstance(a, (list, tuple)) and any(getattr(e, "_is_keras_tensor", False) for e in a)


def _has_keras_tensor(args, kwargs):
    for a in args:
        if _is_kt(a):
            return True
    if kwargs:
        for a in kwargs.values():
            if _is_kt(a):
                return True
    return False


def _symbolic_op(name, fn):
    """``fn`` that, given KerasTensors (the functional API), records an operation node as Keras's
    ops do (``x = keras.ops.expand_dims(inputs, -1)``); on tensors it is ``fn`` itself."""
    cls_name = _class_name(name)

    def op(*args, **kwargs):
        if not _has_keras_tensor(args, kwargs):
            return fn(*args, **kwargs)
        from ... import nest
        from ..layers.input_layer import _OP_FUNCTIONS, _operation
        from ..models.functional import _run_on_zeros, in_symbolic_build
        _OP_FUNCTIONS.setdefault(cls_name, fn)
        if in_symbolic_build():
            structure, kts = _run_on_zeros(None, args, kwargs, fn=_OP_FUNCTIONS[cls_name])
            return nest.pack_sequence_as(structure, kts)
        return _operation(cls_name)(*args, **kwargs)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = fn.__doc__
    op.__wrapped__ = fn
    op.__signature__ = _inspect.signature(fn)
    return op


def _class_name(name):
    """Keras's operation class name for an ops function: ``expand_dims`` -> ``ExpandDims``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _register():
    """Wraps every ops function with `_symbolic_op` and registers it as a functional-graph
    operation (so a saved model's operations are found on loading, before any is called)."""
    from ..layers.input_layer import _OP_FUNCTIONS
    for ops_module in (core, numpy, nn, linalg, math, image):
        for name in ops_module.__all__:
            fn = getattr(ops_module, name)
            if name in _NOT_SYMBOLIC or not _inspect.isfunction(fn) or hasattr(fn, "__wrapped__"):
                continue
            _OP_FUNCTIONS.setdefault(_class_name(name), fn)
            setattr(ops_module, name, _symbolic_op(name, fn))


_register()

# The wrapped functions (numpy's last where two modules have a name, as Keras's keras.ops).
from .core import (  # noqa: E402
    cast, cond, convert_to_numpy, custom_gradient, dtype, fori_loop, is_tensor, map, scan, scatter,
    scatter_update, slice, slice_update, stop_gradient, switch, unstack, vectorized_map, while_loop,
)
from .linalg import (  # noqa: E402
    cholesky, cholesky_inverse, det, eigh, inv, logdet, lstsq, matrix_rank, pinv, qr, slogdet, solve, solve_triangular,
    svd,
)
from .math import extract_sequences, segment_max, segment_prod, segment_sum  # noqa: E402
from .nn import (  # noqa: E402
    average_pool, batch_normalization, binary_crossentropy, categorical_crossentropy, celu, conv, conv_transpose,
    depth_to_space, depthwise_conv, dot_product_attention, elu, erfinv, gelu, glu, hard_shrink, hard_sigmoid, hard_silu,
    hard_swish, hard_tanh, in_top_k, layer_normalization, leaky_relu, log_sigmoid, log_softmax, max_pool, moments,
    multi_hot, normalize, one_hot, psnr, relu, relu6, rms_normalization, segment_min, selu, separable_conv, sigmoid,
    silu, soft_shrink, softmax, softplus, softsign, space_to_depth, sparse_categorical_crossentropy, sparse_plus,
    sparse_sigmoid, sparsemax, squareplus, swish, tanh_shrink, threshold, top_k,
)
from .numpy import (  # noqa: E402
    abs, absolute, add, all, allclose, amax, amin, any, append, arange, arccos, arccosh, arcsin, arcsinh, arctan,
    arctan2, arctanh, argmax, argmin, argpartition, argsort, array, array_split, average, bartlett, bincount,
    bitwise_and, bitwise_invert, bitwise_left_shift, bitwise_not, bitwise_or, bitwise_right_shift, bitwise_xor,
    blackman, broadcast_to, cbrt, cdist, ceil, clip, concatenate, conj, conjugate, convert_to_tensor, copy, corrcoef,
    correlate, cos, cosh, count_nonzero, cross, cumprod, cumsum, deg2rad, diag, diagflat, diagonal, diff, digitize,
    divide, divide_no_nan, dot, dsplit, dstack, einsum, empty, empty_like, equal, erf, erfc, exp, exp2, expand_dims,
    expm1, eye, fabs, flip, fliplr, flipud, floor, floor_divide, fmax, fmin, fmod, full, full_like, gcd, geomspace,
    get_item, greater, greater_equal, hamming, hanning, heaviside, histogram, hsplit, hstack, hypot, i0, identity, imag,
    inner, isclose, isfinite, isin, isinf, isnan, isneginf, isposinf, isreal, kaiser, kron, lcm, ldexp, left_shift,
    less, less_equal, linspace, log, log10, log1p, log2, logaddexp, logaddexp2, logical_and, logical_not, logical_or,
    logical_xor, logspace, logsumexp, matmul, max, maximum, mean, median, meshgrid, min, minimum, mod, moveaxis,
    multiply, nan_to_num, nanargmax, nanargmin, nancumprod, nancumsum, nanmax, nanmean, nanmedian, nanmin,
    nanpercentile, nanprod, nanquantile, nanstd, nansum, nanvar, ndim, negative, nextafter, nonzero, norm, not_equal,
    ones, ones_like, outer, pad, percentile, power, prod, ptp, quantile, rad2deg, ravel, real, reciprocal, repeat,
    reshape, right_shift, roll, rot90, round, rsqrt, saturate_cast, searchsorted, select, shape, sign, signbit, sin,
    sinc, sinh, size, sort, split, sqrt, square, squeeze, stack, std, subtract, sum, swapaxes, take, take_along_axis,
    tan, tanh, tensordot, tile, trace, transpose, trapezoid, tri, tril, triu, true_divide, trunc, unique, unravel_index,
    vander, var, vdot, vectorize, vsplit, vstack, where, zeros, zeros_like,
)

__all__ = [
    "abs", "absolute", "add", "all", "allclose", "amax", "amin", "any", "append", "arange", "arccos", "arccosh",
    "arcsin", "arcsinh", "arctan", "arctan2", "arctanh", "argmax", "argmin", "argpartition", "argsort", "array",
    "array_split", "average", "average_pool", "bartlett", "batch_normalization", "binary_crossentropy", "bincount",
    "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "blackman", "broadcast_to", "cast", "categorical_crossentropy", "cbrt", "cdist", "ceil", "celu",
    "cholesky", "cholesky_inverse", "clip", "concatenate", "cond", "conj", "conjugate", "conv", "conv_transpose",
    "convert_to_numpy", "convert_to_tensor", "copy", "corrcoef", "correlate", "cos", "cosh", "count_nonzero", "cross",
    "cumprod", "cumsum", "custom_gradient", "deg2rad", "depth_to_space", "depthwise_conv", "det", "diag", "diagflat",
    "diagonal", "diff", "digitize", "divide", "divide_no_nan", "dot", "dot_product_attention", "dsplit", "dstack",
    "dtype", "eigh", "einsum", "elu", "empty", "empty_like", "equal", "erf", "erfc", "erfinv", "exp", "exp2",
    "expand_dims", "expm1", "extract_sequences", "eye", "fabs", "flip", "fliplr", "flipud", "floor", "floor_divide",
    "fmax", "fmin", "fmod", "fori_loop", "full", "full_like", "gcd", "gelu", "geomspace", "get_item", "glu", "greater",
    "greater_equal", "hamming", "hanning", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish", "hard_tanh",
    "heaviside", "histogram", "hsplit", "hstack", "hypot", "i0", "identity", "imag", "image", "in_top_k", "inner",
    "inv", "is_tensor", "isclose", "isfinite", "isin", "isinf", "isnan", "isneginf", "isposinf", "isreal", "kaiser",
    "kron", "layer_normalization", "lcm", "ldexp", "leaky_relu", "left_shift", "less", "less_equal", "linalg",
    "linspace", "log", "log10", "log1p", "log2", "log_sigmoid", "log_softmax", "logaddexp", "logaddexp2", "logdet",
    "logical_and", "logical_not", "logical_or", "logical_xor", "logspace", "logsumexp", "lstsq", "map", "matmul",
    "matrix_rank", "max", "max_pool", "maximum", "mean", "median", "meshgrid", "min", "minimum", "mod", "moments",
    "moveaxis", "multi_hot", "multiply", "nan_to_num", "nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax",
    "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar", "ndim",
    "negative", "nextafter", "nn", "nonzero", "norm", "normalize", "not_equal", "numpy", "one_hot", "ones", "ones_like",
    "outer", "pad", "percentile", "pinv", "power", "prod", "psnr", "ptp", "qr", "quantile", "rad2deg", "ravel", "real",
    "reciprocal", "relu", "relu6", "repeat", "reshape", "right_shift", "rms_normalization", "roll",
    "rot90", "round", "rsqrt", "saturate_cast", "scan", "scatter", "scatter_update", "searchsorted", "segment_max",
    "segment_min", "segment_prod", "segment_sum", "select", "selu", "separable_conv", "shape", "sigmoid", "sign",
    "signbit", "silu", "sin", "sinc", "sinh", "size", "slice", "slice_update", "slogdet", "soft_shrink", "softmax",
    "softplus", "softsign", "solve", "solve_triangular", "sort", "space_to_depth", "sparse_categorical_crossentropy",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "split", "sqrt", "square", "squareplus", "squeeze", "stack", "std",
    "stop_gradient", "subtract", "sum", "svd", "swapaxes", "swish", "switch", "take", "take_along_axis", "tan", "tanh",
    "tanh_shrink", "tensordot", "threshold", "tile", "top_k", "trace", "transpose", "trapezoid", "tri", "tril", "triu",
    "true_divide", "trunc", "unique", "unravel_index", "unstack", "vander", "var", "vdot", "vectorize",
    "vectorized_map", "vsplit", "vstack", "where", "while_loop", "zeros", "zeros_like",
]
