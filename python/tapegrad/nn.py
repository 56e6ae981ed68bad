"""``tg.nn``: activations, convolution and pooling, dropout, normalization and the fused losses."""
from ._core import (
    log_softmax, relu, relu6, sigmoid, sigmoid_cross_entropy_with_logits, softmax, softmax_cross_entropy_with_logits,
    softplus, sparse_softmax_cross_entropy_with_logits,
)
from ._ops_math import (
    batch_normalization, bias_add, elu, gelu, in_top_k, l2_loss, l2_normalize, leaky_relu, moments, selu, silu,
    softsign, swish, top_k,
)
from ._ops_nn import (
    atrous_conv2d, avg_pool, avg_pool1d, avg_pool2d, conv1d, conv1d_transpose, conv2d, conv2d_transpose, convolution,
    depthwise_conv2d, dropout, max_pool, max_pool1d, max_pool2d, pool, separable_conv2d,
)

__all__ = [
    "atrous_conv2d", "avg_pool", "avg_pool1d", "avg_pool2d", "batch_normalization", "bias_add", "conv1d",
    "conv1d_transpose", "conv2d", "conv2d_transpose", "convolution", "depthwise_conv2d", "dropout", "elu", "gelu",
    "in_top_k", "l2_loss", "l2_normalize", "leaky_relu", "log_softmax", "max_pool", "max_pool1d", "max_pool2d",
    "moments", "pool", "relu", "relu6", "selu", "separable_conv2d", "sigmoid", "sigmoid_cross_entropy_with_logits",
    "silu", "softmax", "softmax_cross_entropy_with_logits", "softplus", "softsign",
    "sparse_softmax_cross_entropy_with_logits", "swish", "top_k",
]
