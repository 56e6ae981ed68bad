"""Keras 3 activations (``tg.keras.activations``; keras/src/activations/activations.py with the
TF backend's formulas, keras/src/backend/tensorflow/nn.py). Built from tapegrad's differentiable
ops, so gradients (and higher derivatives) work through every one.

>>> import tapegrad as tg
>>> tg.keras.activations.get("relu")(tg.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
>>> tg.keras.activations.relu(tg.constant([-1.0, 2.0, 9.0]), negative_slope=0.1, max_value=6.0).numpy()
array([-0.1,  2. ,  6. ], dtype=float32)
"""

from .. import _ops, _ops_math, _ops_nnloss, _ops_shape
from . import _registry

__all__ = [
    "celu",
    "elu",
    "exponential",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "leaky_relu",
    "linear",
    "log_sigmoid",
    "log_softmax",
    "mish",
    "relu",
    "relu6",
    "selu",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh",
    "tanh_shrink",
    "threshold",
    "get",
    "serialize",
    "deserialize",
]


def _t(x):
    return _ops.convert_to_tensor(x)


def _c(v, x):
    return _ops.constant(v, dtype=x.dtype)


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``, or with options: slope `negative_slope` below `threshold`, values at or
    below `threshold` set to 0 (then the slope part), capped at `max_value`."""
    x = _t(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return _ops_math.leaky_relu(x, alpha=negative_slope)
        negative_part = _ops.relu(_c(threshold, x) - x) if threshold != 0 else _ops.relu(-x)
    clip_max = max_value is not None
    if threshold != 0:
        x = _ops_shape.where(_ops.greater(x, _c(threshold, x)), x, _ops.zeros_like(x))
    elif max_value == 6:
        x = _ops_math.relu6(x)
        clip_max = False
    else:
        x = _ops.relu(x)
    if clip_max:
        x = _ops_math.clip_by_value(x, _c(0.0, x), _c(max_value, x))
    if negative_slope != 0.0:
        x = x - _c(negative_slope, x) * negative_part
    return x


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, else ``negative_slope * x``."""
    return _ops_math.leaky_relu(_t(x), alpha=negative_slope)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return _ops_math.relu6(_t(x))


def _tag_logits(output, x):
    try:
        output._keras_logits = x
    except AttributeError:  # pragma: no cover - tensors accept attributes
        pass
    return output


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``; ``axis=None`` normalizes over all entries."""
    x = _t(x)
    if axis is None:
        out = _ops.reshape(_ops_nnloss.softmax(_ops.reshape(x, [-1]), axis=-1), list(x.shape))
    else:
        out = _ops_nnloss.softmax(x, axis=axis)
    return _tag_logits(out, x)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``; ``axis=None`` over all entries."""
    x = _t(x)
    if axis is None:
        return _ops.reshape(_ops_nnloss.log_softmax(_ops.reshape(x, [-1]), axis=-1), list(x.shape))
    return _ops_nnloss.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    """x for x > 0, else ``alpha * (exp(x) - 1)``."""
    x = _t(x)
    res = _ops_math.elu(x)
    if alpha == 1:
        return res
    return _ops_shape.where(x > _c(0.0, x), res, _c(alpha, x) * res)


def selu(x):
    """``scale * elu(x, alpha)`` with scale 1.0507..., alpha 1.6732... (self-normalizing)."""
    return _ops_math.selu(_t(x))


def softplus(x):
    """``log(exp(x) + 1)``."""
    return _ops.softplus(_t(x))


def softsign(x):
    """``x / (|x| + 1)``."""
    return _ops_math.softsign(_t(x))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above `threshold`, ``x + threshold`` below ``-threshold``, else 0."""
    x = _t(x)
    th = _c(threshold, x)
    return _ops_shape.where(x > th, x - th, _ops_shape.where(x < -th, x + th, _ops.zeros_like(x)))


def sparse_plus(x):
    """0 for x <= -1, ``(x + 1)**2 / 4`` for -1 < x < 1, x for x >= 1."""
    x = _t(x)
    one = _c(1.0, x)
    return _ops_shape.where(
        x <= -one, _ops.zeros_like(x), _ops_shape.where(x < one, _c(0.25, x) * _ops.square(x + one), x)
    )


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return _ops_math.silu(_t(x))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    x = _t(x)
    return (x + _ops.sqrt(_ops.square(x) + _c(b, x))) / _c(2.0, x)


def gelu(x, approximate=False):
    """``x * Phi(x)``, Phi the standard normal CDF; `approximate` uses the tanh formula."""
    return _ops_math.gelu(_t(x), approximate=approximate)


def celu(x, alpha=1.0):
    """``max(x, 0) + alpha * expm1(min(x, 0) / alpha)``."""
    x = _t(x)
    zero, a = _c(0.0, x), _c(alpha, x)
    return _ops.maximum(x, zero) + a * _ops.expm1(_ops.minimum(x, zero) / a)


def glu(x, axis=-1):
    """Gated linear unit: the two halves a, b of `axis` give ``a * sigmoid(b)``."""
    x = _t(x)
    if x.shape[axis] % 2 != 0:
        raise ValueError(f"axis size must be divisible by 2. Received: x.shape={tuple(x.shape)} with axis={axis}")
    x1, x2 = _ops_shape.split(x, 2, axis=axis)
    return x1 * _ops.sigmoid(x2)


def tanh(x):
    """Hyperbolic tangent."""
    return _ops.tanh(_t(x))


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _t(x)
    return x - _ops.tanh(x)


def hard_tanh(x):
    """x clipped to [-1, 1]."""
    x = _t(x)
    return _ops_math.clip_by_value(x, _c(-1.0, x), _c(1.0, x))


def hard_shrink(x, threshold=0.5):
    """x where ``|x| > threshold``, else 0."""
    x = _t(x)
    return _ops_shape.where(_ops.abs(x) > _c(threshold, x), x, _ops.zeros_like(x))


def threshold(x, threshold, default_value):
    """x where ``x > threshold``, else `default_value`."""
    x = _t(x)
    return _ops_shape.where(x > _c(threshold, x), x, _ops.zeros_like(x) + _c(default_value, x))


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    x = _t(x)
    return _tag_logits(_ops.sigmoid(x), x)


def exponential(x):
    """``exp(x)``."""
    return _ops.exp(_t(x))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: 0 below -3, 1 above 3, linear between."""
    x = _t(x)
    return _ops_math.relu6(x + _c(3.0, x)) / _c(6.0, x)


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return _ops_math.log_sigmoid(_t(x))


def sparse_sigmoid(x):
    """0 for x <= -1, 1 for x >= 1, ``(x + 1) / 2`` between."""
    x = _t(x)
    one = _c(1.0, x)
    return _ops_shape.where(
        x <= -one, _ops.zeros_like(x), _ops_shape.where(x >= one, _ops.ones_like(x), _c(0.5, x) * (x + one))
    )


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also called hard_swish)."""
    x = _t(x)
    return x * hard_sigmoid(x)


def linear(x):
    """The identity: returns `x` unchanged."""
    return x


def mish(x):
    """``x * tanh(softplus(x))``."""
    x = _t(x)
    return x * _ops.tanh(_ops.softplus(x))


def sparsemax(x, axis=-1):
    """Sparsemax along `axis`, with Keras 3.15's formula (all its backends): the threshold is
    ``(sum of the sorted cumulative sums over the support - 1) / k``. That is the textbook
    projection onto the simplex when one entry is in the support; with more, Keras's outputs
    (and these) do not sum to 1.

    >>> import tapegrad as tg
    >>> tg.keras.activations.sparsemax(tg.constant([1.0, 2.0, 5.0])).numpy()
    array([0., 0., 1.], dtype=float32)
    """
    x = _t(x)
    rank = len(x.shape)
    axis = axis % rank
    perm = [i for i in range(rank) if i != axis] + [axis]
    moved = _ops.transpose(x, perm) if axis != rank - 1 else x
    n = moved.shape[-1]
    z_sorted = _ops_math.top_k(moved, k=n).values
    z_cumsum = _ops_math.cumsum(z_sorted, axis=-1)
    r = _ops.cast(_ops.range(1, n + 1), x.dtype)
    support = z_sorted - (z_cumsum - _c(1.0, x)) / r > _c(0.0, x)
    cumsum_safe = _ops_shape.where(support, z_cumsum, _ops.zeros_like(z_cumsum))
    k = _ops.reduce_sum(_ops.cast(support, x.dtype), axis=-1, keepdims=True)
    tau = (_ops.reduce_sum(cumsum_safe, axis=-1, keepdims=True) - _c(1.0, x)) / k
    out = _ops.maximum(moved - tau, _c(0.0, x))
    if axis != rank - 1:
        inverse = [0] * rank
        for i, p in enumerate(perm):
            inverse[p] = i
        out = _ops.transpose(out, inverse)
    return out


swish = silu
hard_swish = hard_silu

_FUNCTIONS = (
    relu,
    leaky_relu,
    relu6,
    softmax,
    celu,
    elu,
    selu,
    softplus,
    softsign,
    squareplus,
    soft_shrink,
    sparse_plus,
    silu,
    gelu,
    glu,
    tanh,
    tanh_shrink,
    threshold,
    sigmoid,
    sparse_sigmoid,
    exponential,
    hard_sigmoid,
    hard_silu,
    hard_tanh,
    hard_shrink,
    linear,
    mish,
    log_softmax,
    log_sigmoid,
    sparsemax,
)
_BY_NAME = {fn.__name__: fn for fn in _FUNCTIONS}
_BY_NAME.update({"swish": silu, "hard_swish": hard_silu})


def serialize(activation):
    """The name of a built-in activation; a config dict for other callables with ``get_config``.

    >>> import tapegrad as tg
    >>> tg.keras.activations.serialize(tg.keras.activations.swish)
    'silu'
    """
    if _BY_NAME.get(getattr(activation, "__name__", None)) is activation:
        return activation.__name__
    if hasattr(activation, "get_config"):
        return _registry.serialize_object(activation, "keras.activations", _BY_NAME)
    raise ValueError(
        f"Unknown activation function '{activation}' cannot be serialized due to invalid function name. Make "
        "sure to use an activation name that matches the references defined in activations.py or use "
        "`@keras.saving.register_keras_serializable()`to register any custom activations. "
        f"config={getattr(activation, '__name__', activation)}"
    )


def deserialize(config, custom_objects=None):
    """The activation a name or config dict stands for."""
    return _registry.deserialize_object(config, _BY_NAME, "activation function", custom_objects)


def get(identifier):
    """An activation from None (-> `linear`), a name (incl. ``swish``, ``hard_swish``), a config
    dict or a callable (returned as is)."""
    if identifier is None:
        return linear
    return _registry.get_object(identifier, _BY_NAME, "activation function", instantiate=False)
