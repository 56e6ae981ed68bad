"""Hinge losses (maximum-margin classification)."""

from ... import _ops
from .base import Loss, LossFunctionWrapper, as_tensor


def _c(v, like):
    return _ops.constant(v, dtype=like.dtype)


def convert_binary_labels_to_hinge(y_true):
    """Labels that are all 0 or 1 become -1 or 1; other labels are left alone (Keras's rule)."""
    zero, one = _c(0.0, y_true), _c(1.0, y_true)
    is_binary = bool(_ops.reduce_all(_ops.logical_or(_ops.equal(y_true, zero), _ops.equal(y_true, one))))
    return _c(2.0, y_true) * y_true - one if is_binary else y_true


def _margins(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    y_true = convert_binary_labels_to_hinge(as_tensor(y_true, y_pred.dtype))
    return _ops.maximum(_c(1.0, y_pred) - y_true * y_pred, _c(0.0, y_pred))


def hinge(y_true, y_pred):
    """Per-sample ``mean(max(1 - y_true * y_pred, 0), -1)``, labels {0, 1} mapped to {-1, 1}.

    >>> import tapegrad as tg
    >>> tg.keras.losses.hinge([[0.0, 1.0]], tg.constant([[0.5, 0.5]])).numpy()
    array([1.], dtype=float32)
    """
    return _ops.reduce_mean(_margins(y_true, y_pred), axis=-1)


def squared_hinge(y_true, y_pred):
    """Per-sample ``mean(max(1 - y_true * y_pred, 0)**2, -1)``."""
    return _ops.reduce_mean(_ops.square(_margins(y_true, y_pred)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """Per-sample ``max(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    pos = _ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = _ops.reduce_max((_c(1.0, y_pred) - y_true) * y_pred, axis=-1)
    return _ops.maximum(neg - pos + _c(1.0, y_pred), _c(0.0, y_pred))


class _Simple(LossFunctionWrapper):
    def get_config(self):
        return Loss.get_config(self)


class Hinge(_Simple):
    """Hinge loss; binary labels {0, 1} are read as {-1, 1}."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_Simple):
    """Squared hinge loss."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_Simple):
    """Categorical hinge loss (one-hot labels)."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)
