"""Probabilistic losses: cross-entropies (binary, categorical, sparse, focal), KL divergence, Poisson.

Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does; logits go through the fused ops
(``tg.nn.softmax_cross_entropy_with_logits`` and friends), which are max-shifted / softplus forms,
so logits of ±1000 give finite losses and gradients.
"""

import warnings

from ... import _ops
from ..._ops_nnloss import (
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
from ..._tensor import _static_shape
from .base import EPSILON, Loss, LossFunctionWrapper, as_tensor, expand_dims, set_mask, squeeze


def _c(v, like):
    return _ops.constant(v, dtype=like.dtype)


def clip(x, lo, hi):
    """clip_by_value from maximum/minimum (gradient passes at the bounds, as TF's)."""
    return _ops.minimum(_ops.maximum(x, _c(lo, x)), _c(hi, x))


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type {type(axis)}")


def _check_same_shape(target, output, need_rank=False):
    ts, os = tuple(_static_shape(target)), tuple(_static_shape(output))
    if need_rank and len(ts) < 1:
        raise ValueError(
            f"Arguments `target` and `output` must be at least rank 1. Received: target.shape={ts}, output.shape={os}"
        )
    if len(ts) != len(os):
        raise ValueError(
            f"Arguments `target` and `output` must have the same rank (ndim). Received: "
            f"target.shape={ts}, output.shape={os}"
        )
    if any(a is not None and b is not None and a != b for a, b in zip(ts, os)):
        raise ValueError(
            f"Arguments `target` and `output` must have the same shape. Received: target.shape={ts}, output.shape={os}"
        )


# ---- the backend ops (keras.ops.*_crossentropy on the TensorFlow backend) ---------------------


def _binary_crossentropy_op(target, output, from_logits=False):
    _check_same_shape(target, output)
    if from_logits:
        return sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = clip(output, EPSILON, 1.0 - EPSILON)
    one = _c(1.0, output)
    bce = target * _ops.log(output)
    bce = bce + (one - target) * _ops.log(one - output)
    return -bce


def _categorical_crossentropy_op(target, output, from_logits=False, axis=-1):
    _check_same_shape(target, output, need_rank=True)
    if from_logits:
        return softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / _ops.reduce_sum(output, axis=axis, keepdims=True)  # renormalise
    output = clip(output, EPSILON, 1.0 - EPSILON)
    return -_ops.reduce_sum(target * _ops.log(output), axis=axis)


def _sparse_categorical_crossentropy_op(target, output, from_logits=False, axis=-1):
    if axis != -1 and axis != len(output.shape) - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    target = _ops.cast(target, "int64")
    ts, os = tuple(_static_shape(target)), tuple(_static_shape(output))
    if len(ts) == len(os) and ts[-1] == 1:
        target = squeeze(target, -1)
        ts = ts[:-1]
    if len(os) < 1:
        raise ValueError(f"Argument `output` must be at least rank 1. Received: output.shape={os}")
    if len(ts) != len(os) - 1:
        raise ValueError(
            f"Argument `output` must have rank (ndim) `target.ndim - 1`. Received: target.shape={ts}, output.shape={os}"
        )
    if any(a is not None and b is not None and a != b for a, b in zip(ts, os[:-1])):
        raise ValueError(
            f"Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={ts}, output.shape={os}"
        )
    if not from_logits:
        output = _ops.log(clip(output, EPSILON, 1.0 - EPSILON))
    return sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


def _warn_one_class(name, y_pred):
    if len(y_pred.shape) and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {name}, expected y_pred.shape to be (batch_size, num_classes) with num_classes > 1. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}. Consider using 'binary_crossentropy' if you only "
            "have 2 classes.",
            SyntaxWarning,
            stacklevel=3,
        )


def _smooth_categorical(y_true, y_pred, label_smoothing):
    if label_smoothing:
        num_classes = float(y_true.shape[-1])
        y_true = y_true * _c(1.0 - label_smoothing, y_pred) + _c(label_smoothing / num_classes, y_pred)
    return y_true


def _smooth_binary(y_true, y_pred, label_smoothing):
    if label_smoothing:
        y_true = y_true * _c(1.0 - label_smoothing, y_pred) + _c(0.5 * label_smoothing, y_pred)
    return y_true


# ---- the loss functions ----------------------------------------------------------------------


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary cross-entropy, the mean over `axis`.

    >>> import tapegrad as tg
    >>> tg.keras.losses.binary_crossentropy([[0.0, 1.0]], tg.constant([[-1000.0, 1000.0]]), from_logits=True).numpy()
    array([0.], dtype=float32)
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true = _smooth_binary(y_true, y_pred, label_smoothing)
    return _ops.reduce_mean(_binary_crossentropy_op(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """``(1 - p_t)**gamma * BCE`` (times alpha / 1 - alpha with class balancing), mean over `axis`.
    As in Keras, logits go through a sigmoid and the probabilities are clipped."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true = _smooth_binary(y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = _ops.sigmoid(y_pred)
    bce = _binary_crossentropy_op(y_true, y_pred, from_logits=False)
    one = _c(1.0, y_pred)
    p_t = y_true * y_pred + (one - y_true) * (one - y_pred)
    focal_bce = _ops.pow(one - p_t, _c(gamma, y_pred)) * bce
    if apply_class_balancing:
        weight = y_true * _c(alpha, y_pred) + (one - y_true) * _c(1.0 - alpha, y_pred)
        focal_bce = weight * focal_bce
    return _ops.reduce_mean(focal_bce, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample ``-sum(y_true * log(y_pred), axis)``; logits use the fused softmax cross-entropy.

    >>> import tapegrad as tg
    >>> tg.keras.losses.categorical_crossentropy([[0.0, 1.0]], tg.constant([[0.5, 0.5]])).numpy()
    array([0.6931472], dtype=float32)
    """
    _check_axis(axis)
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    _warn_one_class("categorical_crossentropy", y_pred)
    y_true = _smooth_categorical(y_true, y_pred, label_smoothing)
    return _categorical_crossentropy_op(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(
    y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1
):
    """``sum(alpha * (1 - p)**gamma * -y_true * log(p), axis)`` with p renormalised and clipped."""
    _check_axis(axis)
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    _warn_one_class("categorical_focal_crossentropy", y_pred)
    y_true = _smooth_categorical(y_true, y_pred, label_smoothing)
    if from_logits:
        y_pred = softmax(y_pred, axis=axis)
    output = y_pred / _ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    output = clip(output, EPSILON, 1.0 - EPSILON)
    cce = -y_true * _ops.log(output)
    modulating_factor = _ops.pow(_c(1.0, output) - output, _c(gamma, output))
    focal_cce = modulating_factor * _c(alpha, output) * cce
    return _ops.reduce_sum(focal_cce, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy with integer labels; `ignore_class` entries give 0 and are masked out of the
    mean (the returned tensor carries the mask as ``_keras_mask``, as in Keras).

    >>> import tapegrad as tg
    >>> tg.keras.losses.sparse_categorical_crossentropy([1], tg.constant([[1000.0, -1000.0]]), from_logits=True).numpy()
    array([2000.], dtype=float32)
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape) and len(y_true.shape) and y_true.shape[axis] == 1:
        y_true = squeeze(y_true, axis)
    valid_mask = None
    if ignore_class is not None:
        nd = len(y_pred.shape)
        class_axis = axis % nd if nd else 0
        res_shape = [d for i, d in enumerate(y_pred.shape) if i != class_axis]
        valid_mask = _ops.not_equal(y_true, _ops.constant(ignore_class, dtype=y_true.dtype))
        y_true = _ops.where(valid_mask, y_true, _ops.zeros_like(y_true))
        y_pred = _ops.where(expand_dims(valid_mask, axis), y_pred, _ops.zeros_like(y_pred))
    res = _sparse_categorical_crossentropy_op(y_true, y_pred, from_logits=from_logits, axis=axis)
    if valid_mask is not None:
        valid_mask = _ops.reshape(valid_mask, res_shape)
        res = _ops.where(valid_mask, res, _ops.zeros_like(res))
        set_mask(res, valid_mask)
    return res


def kl_divergence(y_true, y_pred):
    """Per-sample ``sum(y_true * log(y_true / y_pred), -1)``, both clipped to [1e-7, 1]."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true = clip(y_true, EPSILON, 1.0)
    y_pred = clip(y_pred, EPSILON, 1.0)
    return _ops.reduce_sum(y_true * _ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """Per-sample ``mean(y_pred - y_true * log(y_pred + 1e-7), -1)``."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    return _ops.reduce_mean(y_pred - y_true * _ops.log(y_pred + _c(EPSILON, y_pred)), axis=-1)


# ---- classes ---------------------------------------------------------------------------------


class _Configured(LossFunctionWrapper):
    """A wrapper whose config is name, reduction and the attributes listed in `_config_keys`."""

    _config_keys: tuple[str, ...] = ()

    def __init__(self, fn, name, reduction, dtype, **kwargs):
        super().__init__(fn, name=name, reduction=reduction, dtype=dtype, **kwargs)
        for k in self._config_keys:
            setattr(self, k, kwargs[k])

    def get_config(self):
        config = Loss.get_config(self)
        config.update({k: getattr(self, k) for k in self._config_keys})
        return config


class KLDivergence(_Configured):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name, reduction, dtype)


class Poisson(_Configured):
    """Poisson loss ``mean(y_pred - y_true * log(y_pred + eps))``."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name, reduction, dtype)


class BinaryCrossentropy(_Configured):
    """Binary cross-entropy; ``from_logits=True`` uses the stable sigmoid cross-entropy.

    >>> import tapegrad as tg
    >>> bce = tg.keras.losses.BinaryCrossentropy(from_logits=True)
    >>> round(float(bce(tg.constant([[0.0, 1.0]]), tg.constant([[0.0, 0.0]]))), 4)
    0.6931
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_crossentropy,
            name,
            reduction,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class BinaryFocalCrossentropy(_Configured):
    """Focal binary cross-entropy (Lin et al.), optionally class-balanced."""

    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha", "gamma")

    def __init__(
        self,
        apply_class_balancing=False,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="binary_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            binary_focal_crossentropy,
            name,
            reduction,
            dtype,
            apply_class_balancing=apply_class_balancing,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalCrossentropy(_Configured):
    """Categorical cross-entropy; ``from_logits=True`` uses the fused softmax cross-entropy op.

    >>> import tapegrad as tg
    >>> cce = tg.keras.losses.CategoricalCrossentropy(from_logits=True)
    >>> float(cce(tg.constant([[0.0, 1.0]]), tg.constant([[1000.0, -1000.0]])))
    2000.0
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(
        self,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_crossentropy,
            name,
            reduction,
            dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class CategoricalFocalCrossentropy(_Configured):
    """Focal categorical cross-entropy."""

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(
        self,
        alpha=0.25,
        gamma=2.0,
        from_logits=False,
        label_smoothing=0.0,
        axis=-1,
        reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy",
        dtype=None,
    ):
        super().__init__(
            categorical_focal_crossentropy,
            name,
            reduction,
            dtype,
            alpha=alpha,
            gamma=gamma,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(_Configured):
    """Cross-entropy with integer labels; ``ignore_class`` entries are masked out of the mean."""

    _config_keys = ("from_logits", "ignore_class")

    def __init__(
        self,
        from_logits=False,
        ignore_class=None,
        reduction="sum_over_batch_size",
        axis=-1,
        name="sparse_categorical_crossentropy",
        dtype=None,
    ):
        super().__init__(
            sparse_categorical_crossentropy,
            name,
            reduction,
            dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )
        self.axis = axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
