"""``keras.ops.nn``: activations, softmax, one-hot, cross-entropies, moments, convolution and
pooling as Keras 3 defines them (``keras/src/ops/nn.py``, TF backend formulas).

>>> import tapegrad as tg
>>> tg.keras.ops.one_hot([0, 2], 3).numpy()
array([[1., 0., 0.],
       [0., 0., 1.]], dtype=float32)
>>> tg.keras.ops.softmax([[0.0, 0.0]]).numpy()
array([[0.5, 0.5]], dtype=float32)
"""

import numpy as _np

from ... import math as _math
from ... import nn as _nn
from .. import activations as _act
from .core import _dtype_name, _float_t, _ops, _t

_EPSILON = 1e-7


def _float_act(fn, name, doc):
    def op(x):
        return fn(_float_t(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


relu = _float_act(_act.relu, "relu", "``max(x, 0)``.")
relu6 = _float_act(_act.relu6, "relu6", "``min(max(x, 0), 6)``.")
sigmoid = _float_act(_act.sigmoid, "sigmoid", "``1 / (1 + exp(-x))``.")
softplus = _float_act(_act.softplus, "softplus", "``log(1 + exp(x))``.")
softsign = _float_act(_act.softsign, "softsign", "``x / (1 + |x|)``.")
silu = _float_act(_act.silu, "silu", "``x * sigmoid(x)``.")
swish = silu
log_sigmoid = _float_act(_act.log_sigmoid, "log_sigmoid", "``log(sigmoid(x))``.")
hard_sigmoid = _float_act(_act.hard_sigmoid, "hard_sigmoid", "``relu6(x + 3) / 6``.")
hard_silu = _float_act(_act.hard_silu, "hard_silu", "``x * hard_sigmoid(x)``.")
hard_swish = hard_silu
selu = _float_act(_act.selu, "selu", "Scaled ELU.")
tanh_shrink = _float_act(_act.tanh_shrink, "tanh_shrink", "``x - tanh(x)``.")
hard_tanh = _float_act(_act.hard_tanh, "hard_tanh", "``clip(x, -1, 1)``.")
sparse_plus = _float_act(_act.sparse_plus, "sparse_plus", "SparsePlus.")
sparse_sigmoid = _float_act(_act.sparse_sigmoid, "sparse_sigmoid", "SparseSigmoid.")


def elu(x, alpha=1.0):
    """``x`` above zero, ``alpha * (exp(x) - 1)`` below."""
    return _act.elu(_float_t(x), alpha=alpha)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU."""
    return _act.celu(_float_t(x), alpha=alpha)


def leaky_relu(x, negative_slope=0.2):
    """``x`` above zero, ``negative_slope * x`` below."""
    return _act.leaky_relu(_float_t(x), negative_slope=negative_slope)


def gelu(x, approximate=True):
    """Gaussian error linear unit (tanh approximation by default, as ``keras.ops.gelu``)."""
    return _act.gelu(_float_t(x), approximate=approximate)


def glu(x, axis=-1):
    """Gated linear unit: ``a * sigmoid(b)`` for the two halves of ``x`` along ``axis``."""
    return _act.glu(_float_t(x), axis=axis)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return _act.hard_shrink(_float_t(x), threshold=threshold)


def soft_shrink(x, threshold=0.5):
    """``x`` moved toward 0 by ``threshold`` (0 inside it)."""
    return _act.soft_shrink(_float_t(x), threshold=threshold)


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``."""
    return _act.squareplus(_float_t(x), b=b)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _act.threshold(_float_t(x), threshold, default_value)


def sparsemax(x, axis=-1):
    """Sparsemax: the Euclidean projection onto the simplex."""
    return _act.sparsemax(_float_t(x), axis=axis)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis`` (a tuple of axes allowed)."""
    x = _float_t(x)
    if isinstance(axis, (list, tuple)):
        return _ops.exp(x - _ops.reduce_logsumexp(x, axis=list(axis), keepdims=True))
    return _nn.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis``."""
    x = _float_t(x)
    if isinstance(axis, (list, tuple)):
        return x - _ops.reduce_logsumexp(x, axis=list(axis), keepdims=True)
    return _nn.log_softmax(x, axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of ``num_classes`` for the integer ids ``x`` (float32; ids out of range give
    zero rows, as Keras with TF)."""
    if sparse:
        raise NotImplementedError("keras.ops.one_hot(sparse=True): sparse tensors are not supported by tapegrad.")
    x = _t(x)
    if x.dtype.name not in ("int32", "int64"):
        x = _ops.cast(x, "int32")
    return _ops.one_hot(x, int(num_classes), axis=axis, dtype=_dtype_name(dtype) or "float32")


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot vectors: 1 at each id in the last axis of ``inputs`` (a 1-D input is one sample)."""
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    x = _t(inputs)
    squeeze = len(x.shape.as_list()) == 1
    if squeeze:
        x = _ops.expand_dims(x, 0)
    out = _ops.reduce_max(one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse), axis=-2)
    return out[0] if squeeze else out


def _clip_probs(output):
    eps = _ops.constant(_EPSILON, dtype=output.dtype)
    return _ops.clip_by_value(output, eps, 1.0 - eps)


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(target * log(output))`` along ``axis`` (``output`` renormalised and clipped unless
    ``from_logits``)."""
    output = _float_t(output)
    target = _t(target, output.dtype.name)
    if target.shape.as_list() != output.shape.as_list():
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={tuple(target.shape.as_list())}, output.shape={tuple(output.shape.as_list())}"
        )
    if from_logits:
        return _nn.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / _ops.reduce_sum(output, axis=axis, keepdims=True)
    return -_ops.reduce_sum(target * _ops.log(_clip_probs(output)), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy of integer class ids ``target`` against the class axis of ``output``."""
    output = _float_t(output)
    target = _t(target)
    if target.dtype.name not in ("int32", "int64"):
        target = _ops.cast(target, "int32")
    if len(target.shape.as_list()) == len(output.shape.as_list()) and target.shape.as_list()[-1] == 1:
        target = _ops.squeeze(target, axis=[-1])
    if axis != -1 and axis != len(output.shape.as_list()) - 1:
        raise NotImplementedError("keras.ops.sparse_categorical_crossentropy: only the last axis is supported.")
    if from_logits:
        return _nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)
    return _nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=_ops.log(_clip_probs(output)))


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise ``-(t log(o) + (1 - t) log(1 - o))`` (``output`` clipped unless ``from_logits``)."""
    output = _float_t(output)
    target = _t(target, output.dtype.name)
    if from_logits:
        return _nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = _clip_probs(output)
    one = _ops.constant(1.0, dtype=output.dtype)
    return -(target * _ops.log(output) + (one - target) * _ops.log(one - output))


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per sample (Keras 3's ``keras.ops.ctc_loss``, TF backend): ``target``
    ``[batch, max_length]`` integer labels, ``output`` ``[batch, frames, num_classes]`` logits,
    ``target_length`` / ``output_length`` ``[batch]``, ``mask_index`` the blank class. float64 logits
    are computed in float32 and the loss cast back, as Keras's TF backend does.

    >>> import tapegrad as tg
    >>> loss = tg.keras.ops.ctc_loss([[1]], tg.zeros([1, 2, 3]), [1], [2])
    >>> f"{float(loss[0]):.5f}"  # -log(3/9): paths (1,1), (1,b), (b,1)
    '1.09861'
    """
    from ..._ctc import ctc_loss as _ctc_loss

    output = _float_t(output)
    target = _ops.cast(_t(target), "int32")
    result_dtype = output.dtype if output.dtype.name in ("float32", "float64") else _ops.as_dtype("float32")
    if output.dtype.name != "float32":
        output = _ops.cast(output, "float32")
    loss = _ctc_loss(
        labels=target,
        logits=output,
        label_length=target_length,
        logit_length=output_length,
        blank_index=mask_index,
        logits_time_major=False,
    )
    return _ops.cast(loss, result_dtype) if loss.dtype != result_dtype else loss


def moments(x, axes, keepdims=False, synchronized=False):
    """``(mean, variance)`` of ``x`` over ``axes``."""
    x = _float_t(x)
    axes = [int(a) for a in axes] if isinstance(axes, (list, tuple)) else [int(axes)]
    m = _ops.reduce_mean(x, axis=axes, keepdims=True)
    v = _ops.reduce_mean(_ops.square(x - m), axis=axes, keepdims=True)
    if not keepdims:
        m, v = _ops.squeeze(m, axis=axes), _ops.squeeze(v, axis=axes)
    return m, v


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` with the statistics along ``axis``."""
    x = _float_t(x)
    nd = len(x.shape.as_list())
    axis = axis + nd if axis < 0 else axis
    shp = [1] * nd
    shp[axis] = -1

    def r(v):
        return None if v is None else _ops.reshape(_t(v, x.dtype.name), shp)

    return _nn.batch_normalization(x, r(mean), r(variance), r(offset), r(scale), epsilon)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis`` (at least ``epsilon``)."""
    x = _float_t(x)
    eps = _EPSILON if epsilon is None else epsilon
    if order == 2:
        sq = _ops.reduce_sum(_ops.square(x), axis=axis, keepdims=True)
        return x * _ops.rsqrt(_ops.maximum(sq, _ops.constant(eps * eps, dtype=x.dtype)))
    n = _ops.norm(x, ord=order, axis=axis, keepdims=True)
    return x / _ops.maximum(n, _ops.constant(eps, dtype=x.dtype))


def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x^2) + epsilon) * scale``."""
    x = _float_t(x)
    eps = 1e-6 if epsilon is None else epsilon
    return (
        x
        * _ops.rsqrt(_ops.reduce_mean(_ops.square(x), axis=axis, keepdims=True) + _ops.constant(eps, dtype=x.dtype))
        * _t(scale, x.dtype.name)
    )


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` along ``axis``."""
    x = _float_t(x)
    eps = 1e-3 if epsilon is None else epsilon
    m, v = moments(x, [axis], keepdims=True)
    out = (x - m) * _ops.rsqrt(v + _ops.constant(eps, dtype=x.dtype))
    if gamma is not None:
        out = out * _t(gamma, x.dtype.name)
    if beta is not None:
        out = out + _t(beta, x.dtype.name)
    return out


def top_k(x, k, sorted=True):
    """``(values, indices)`` of the ``k`` largest entries along the last axis."""
    return _math.top_k(_t(x), k=k, sorted=sorted)


def in_top_k(targets, predictions, k):
    """True where ``targets`` is among the ``k`` largest ``predictions``."""
    return _nn.in_top_k(_t(targets), _float_t(predictions), k)


def _tf_padding(padding):
    padding = padding.lower()
    if padding not in ("valid", "same"):
        raise ValueError(f"`padding` must be 'valid' or 'same'. Received: padding={padding}")
    return padding.upper()


def _data_format(data_format, nd):
    if data_format is None or data_format == "channels_last":
        return None
    if data_format == "channels_first":
        return {3: "NCW", 4: "NCHW", 5: "NCDHW"}[nd]
    raise ValueError(
        f"The `data_format` argument must be one of {{'channels_first', 'channels_last'}}. "
        f"Received: data_format={data_format}"
    )


def _tuple(v, n):
    return [int(v)] * n if isinstance(v, (int, _np.integer)) else [int(a) for a in v]


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-D convolution (``kernel`` of shape ``spatial + (in, out)``), as ``tf.nn.convolution``."""
    x = _float_t(inputs)
    nd = len(x.shape.as_list())
    return _nn.convolution(
        x,
        _t(kernel, x.dtype.name),
        strides=_tuple(strides, nd - 2),
        padding=_tf_padding(padding),
        data_format=_data_format(data_format, nd),
        dilations=_tuple(dilation_rate, nd - 2),
    )


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """2-D depthwise convolution (kernel ``(h, w, in, multiplier)``)."""
    x = _float_t(inputs)
    nd = len(x.shape.as_list())
    if nd != 4:
        raise NotImplementedError("keras.ops.depthwise_conv: only 2-D inputs are supported by tapegrad yet.")
    s = _tuple(strides, 2)
    return _nn.depthwise_conv2d(
        x,
        _t(kernel, x.dtype.name),
        strides=[1] + s + [1],
        padding=_tf_padding(padding),
        data_format=_data_format(data_format, nd),
        dilations=_tuple(dilation_rate, 2),
    )


def _pool(inputs, pool_size, strides, padding, data_format, kind):
    x = _float_t(inputs)
    nd = len(x.shape.as_list())
    window = _tuple(pool_size, nd - 2)
    strides = window if strides is None else _tuple(strides, nd - 2)
    return _nn.pool(
        x, window, kind, strides=strides, padding=_tf_padding(padding), data_format=_data_format(data_format, nd)
    )


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over windows of ``pool_size``."""
    return _pool(inputs, pool_size, strides, padding, data_format, "MAX")


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over windows of ``pool_size``."""
    return _pool(inputs, pool_size, strides, padding, data_format, "AVG")


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)``."""
    a, b = _float_t(x1), _float_t(x2)
    mse = _ops.reduce_mean(_ops.square(a - b))
    ln10 = _np.log(10.0)
    return _ops.constant(20.0 * _np.log10(max_val), dtype=a.dtype) - _ops.constant(
        10.0 / ln10, dtype=a.dtype
    ) * _ops.log(mse)


def dot_product_attention(
    query,
    key,
    value,
    bias=None,
    mask=None,
    scale=None,
    is_causal=False,
    flash_attention=None,
    attn_logits_soft_cap=None,
):
    """``softmax(q k^T * scale + bias) v`` over ``(batch, seq, heads, dim)`` inputs."""
    q, k, v = _float_t(query), _float_t(key), _float_t(value)
    if attn_logits_soft_cap is not None or flash_attention:
        raise NotImplementedError(
            "keras.ops.dot_product_attention: flash attention and soft caps are not supported by tapegrad."
        )
    d = q.shape.as_list()[-1]
    scale = 1.0 / _np.sqrt(d) if scale is None else scale
    logits = _ops.einsum("btnh,bsnh->bnts", q, k) * _ops.constant(scale, dtype=q.dtype)
    if bias is not None:
        logits = logits + _t(bias, q.dtype.name)
    t, s = q.shape.as_list()[1], k.shape.as_list()[1]
    keep = None
    if mask is not None:
        keep = _ops.broadcast_to(_t(mask, "bool"), logits.shape.as_list())
    if is_causal:
        causal = _ops.constant(_np.tril(_np.ones((t, s), dtype=bool)))
        keep = causal if keep is None else _ops.logical_and(keep, causal)
    if keep is not None:
        logits = _ops.where(
            keep,
            logits,
            _ops.fill(logits.shape.as_list(), _ops.constant(_np.finfo(q.dtype.name).min / 2, dtype=q.dtype)),
        )
    probs = _nn.softmax(logits, axis=-1)
    return _ops.einsum("bnts,bsnh->btnh", probs, v)


def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves ``block_size x block_size`` spatial blocks into the channel axis."""
    x = _t(x)
    if data_format == "channels_first":
        x = _ops.transpose(x, [0, 2, 3, 1])
    n, h, w, c = x.shape.as_list()
    b = int(block_size)
    y = _ops.reshape(x, [n, h // b, b, w // b, b, c])
    y = _ops.reshape(_ops.transpose(y, [0, 1, 3, 2, 4, 5]), [n, h // b, w // b, b * b * c])
    return _ops.transpose(y, [0, 3, 1, 2]) if data_format == "channels_first" else y


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channel groups back into ``block_size x block_size`` spatial blocks."""
    x = _t(x)
    if data_format == "channels_first":
        x = _ops.transpose(x, [0, 2, 3, 1])
    n, h, w, c = x.shape.as_list()
    b = int(block_size)
    y = _ops.reshape(x, [n, h, w, b, b, c // (b * b)])
    y = _ops.reshape(_ops.transpose(y, [0, 1, 3, 2, 4, 5]), [n, h * b, w * b, c // (b * b)])
    return _ops.transpose(y, [0, 3, 1, 2]) if data_format == "channels_first" else y


def separable_conv(
    inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None, dilation_rate=1
):
    """Depthwise convolution followed by a 1x1 convolution (2-D inputs)."""
    x = depthwise_conv(
        inputs, depthwise_kernel, strides=strides, padding=padding, data_format=data_format, dilation_rate=dilation_rate
    )
    return conv(x, pointwise_kernel, strides=1, padding="valid", data_format=data_format)


def _deconv_length(n, k, padding, output_padding, stride, dilation):
    k = k + (k - 1) * (dilation - 1)
    if output_padding is None:
        return n * stride + max(k - stride, 0) if padding == "valid" else n * stride
    pad = k // 2 if padding == "same" else 0
    return (n - 1) * stride + k - 2 * pad + output_padding


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None, dilation_rate=1):
    """Transposed convolution (``kernel`` of shape ``spatial + (out, in)``), 1-D, 2-D or 3-D, with
    Keras's output length rule."""
    x = _float_t(inputs)
    nd = len(x.shape.as_list())
    k = _t(kernel, x.dtype.name)
    ns = nd - 2
    strides, dil = _tuple(strides, ns), _tuple(dilation_rate, ns)
    op = None if output_padding is None else _tuple(output_padding, ns)
    padding_l = padding.lower()
    _tf_padding(padding)
    channels_first = data_format == "channels_first"
    shp = x.shape.as_list()
    spatial = shp[2:] if channels_first else shp[1:-1]
    kshape = k.shape.as_list()
    out_sp = [
        _deconv_length(spatial[i], kshape[i], padding_l, None if op is None else op[i], strides[i], dil[i])
        for i in range(ns)
    ]
    out_ch = kshape[-2]
    out_shape = [shp[0], out_ch] + out_sp if channels_first else [shp[0]] + out_sp + [out_ch]
    fmt = _data_format(data_format, nd)
    return _nn.conv_transpose(x, k, out_shape, strides, padding=padding_l.upper(), data_format=fmt, dilations=dil)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Minimum of the rows of ``data`` that share a segment id."""
    from .math import segment_max

    return -segment_max(-_t(data), segment_ids, num_segments=num_segments, sorted=sorted)


def erfinv(x):
    """The inverse error function (differentiable: ``sqrt(pi)/2 * exp(erfinv(x)**2)``)."""
    from ... import custom_gradient as _cg

    x = _float_t(x)

    @_cg
    def fwd(t):
        v = t.numpy().astype("float64")
        w = -_np.log((1.0 - v) * (1.0 + v))
        y = _np.where(w < 5, _poly(w - 2.5, _ERFINV_A), _poly(_np.sqrt(_np.maximum(w, 5)) - 3, _ERFINV_B)) * v
        y = _ops.constant(y)
        for _ in range(2):  # Newton on erf(y) = v, in float64
            err = _ops.erf(y) - _ops.constant(v)
            y = y - err / (_ops.constant(2 / _np.sqrt(_np.pi)) * _ops.exp(-y * y))
        ans = _ops.cast(y, t.dtype.name)

        def grad(upstream):
            return upstream * _ops.constant(_np.sqrt(_np.pi) / 2, dtype=t.dtype) * _ops.exp(ans * ans)

        return ans, grad

    return fwd(x)


def _poly(w, coeffs):
    p = _np.full_like(w, coeffs[0])
    for c in coeffs[1:]:
        p = p * w + c
    return p


# M. Giles, "Approximating the erfinv function" (single-precision coefficients, highest degree first).
_ERFINV_A = [
    2.81022636e-08,
    3.43273939e-07,
    -3.5233877e-06,
    -4.39150654e-06,
    0.00021858087,
    -0.00125372503,
    -0.00417768164,
    0.246640727,
    1.50140941,
]
_ERFINV_B = [
    -0.000200214257,
    0.000100950558,
    0.00134934322,
    -0.00367342844,
    0.00573950773,
    -0.0076224613,
    0.00943887047,
    1.00167406,
    2.83297682,
]

__all__ = [
    "average_pool",
    "batch_normalization",
    "binary_crossentropy",
    "categorical_crossentropy",
    "celu",
    "conv",
    "conv_transpose",
    "ctc_loss",
    "depth_to_space",
    "depthwise_conv",
    "dot_product_attention",
    "elu",
    "erfinv",
    "gelu",
    "glu",
    "hard_shrink",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "hard_tanh",
    "in_top_k",
    "layer_normalization",
    "leaky_relu",
    "log_sigmoid",
    "log_softmax",
    "max_pool",
    "moments",
    "multi_hot",
    "normalize",
    "one_hot",
    "psnr",
    "relu",
    "relu6",
    "rms_normalization",
    "segment_min",
    "selu",
    "separable_conv",
    "sigmoid",
    "silu",
    "soft_shrink",
    "softmax",
    "softplus",
    "softsign",
    "space_to_depth",
    "sparse_categorical_crossentropy",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "swish",
    "tanh_shrink",
    "threshold",
    "top_k",
]
