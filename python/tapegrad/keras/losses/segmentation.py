"""Image segmentation losses: Dice and Tversky (Keras 3.2+ / 3.3+)."""

from ... import _ops
from .base import EPSILON, Loss, LossFunctionWrapper, as_tensor


def _c(v, like):
    return _ops.constant(v, dtype=like.dtype)


def dice(y_true, y_pred, axis=None):
    """``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)`` over `axis` (all by default).

    >>> import tapegrad as tg
    >>> round(float(tg.keras.losses.dice([[1.0, 0.0]], tg.constant([[1.0, 0.0]]))), 6)
    0.0
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    intersection = _ops.reduce_sum(y_true * y_pred, axis=axis)
    denom = _ops.reduce_sum(y_true, axis=axis) + _ops.reduce_sum(y_pred, axis=axis) + _c(EPSILON, y_pred)
    return _c(1.0, y_pred) - _c(2.0, y_pred) * intersection / denom


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha fp + beta fn + eps)`` with Keras's naming: ``fp = sum((1 - y_pred) y_true)``,
    ``fn = sum(y_pred (1 - y_true))``."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    one = _c(1.0, y_pred)
    intersection = _ops.reduce_sum(y_true * y_pred, axis=axis)
    fp = _ops.reduce_sum((one - y_pred) * y_true, axis=axis)
    fn = _ops.reduce_sum(y_pred * (one - y_true), axis=axis)
    t = intersection / (intersection + fp * _c(alpha, y_pred) + fn * _c(beta, y_pred) + _c(EPSILON, y_pred))
    return one - t


class Dice(LossFunctionWrapper):
    """Dice loss over `axis` (None: every axis, one scalar)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """Tversky loss; alpha = beta = 0.5 is the Dice loss."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "alpha": self.alpha, "beta": self.beta, "axis": self.axis}
