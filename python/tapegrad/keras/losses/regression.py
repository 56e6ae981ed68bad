"""Regression losses."""
from ... import _ops
from .base import LossFunctionWrapper, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred):
    y_pred = _ops.convert_to_tensor(y_pred)
    y_true = _ops.convert_to_tensor(y_true, dtype=y_pred.dtype) if not hasattr(y_true, "dtype") else y_true
    if y_true.dtype != y_pred.dtype:
        y_true = _ops.cast(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred)**2, axis=-1)``.

    >>> import tapegrad as tg
    >>> tg.keras.losses.mean_squared_error(tg.constant([[0.0, 2.0]]), tg.constant([[1.0, 0.0]])).numpy()
    array([2.5], dtype=float32)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return _ops.reduce_mean(_ops.square(y_true - y_pred), axis=-1)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors between labels and predictions.

    >>> import tapegrad as tg
    >>> float(tg.keras.losses.MeanSquaredError()(tg.constant([0.0, 1.0]), tg.constant([1.0, 1.0])))
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}
