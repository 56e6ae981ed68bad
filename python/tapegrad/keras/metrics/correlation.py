"""Correlation metrics (keras/src/metrics/correlation_metrics.py): per-sample Pearson and
concordance correlation along `axis`, averaged by MeanMetricWrapper."""

from ... import _ops, _ops_math
from ..losses.base import EPSILON, as_tensor, squeeze_or_expand_to_same_rank
from .base import LossMetricWrapper

__all__ = ["pearson_correlation", "concordance_correlation", "PearsonCorrelation", "ConcordanceCorrelation"]


def _pair(y_true, y_pred):
    y_pred = as_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = _ops.cast(y_pred, "float32")
    y_true = as_tensor(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson correlation coefficient of y_true and y_pred along `axis` (population std).

    >>> import tapegrad as tg
    >>> tg.keras.metrics.pearson_correlation([[1.0, 2.0, 3.0]], [[2.0, 4.0, 7.0]]).numpy().round(4)
    array([0.9934], dtype=float32)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    t = y_true - _ops.reduce_mean(y_true, axis=axis, keepdims=True)
    p = y_pred - _ops.reduce_mean(y_pred, axis=axis, keepdims=True)
    t = t / _ops_math.reduce_std(t, axis=axis, keepdims=True)
    p = p / _ops_math.reduce_std(p, axis=axis, keepdims=True)
    return _ops.reduce_mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation along `axis`, written as Keras 3.15 does (its covariance
    term centers y_true on y_pred's mean)."""
    y_true, y_pred = _pair(y_true, y_pred)
    t_mean = _ops.reduce_mean(y_true, axis=axis, keepdims=True)
    p_mean = _ops.reduce_mean(y_pred, axis=axis, keepdims=True)
    t_var = _ops_math.reduce_variance(y_true - t_mean, axis=axis, keepdims=True)
    p_var = _ops_math.reduce_variance(y_pred - p_mean, axis=axis, keepdims=True)
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + _ops.square(t_mean - p_mean)
    two, eps = _ops.constant(2.0, dtype=y_pred.dtype), _ops.constant(EPSILON, dtype=y_pred.dtype)
    return _ops.reduce_mean(two * covar / (norm + eps), axis=axis)


class _AxisConfig(LossMetricWrapper):
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class PearsonCorrelation(_AxisConfig):
    """Mean Pearson correlation between labels and predictions along `axis`."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class ConcordanceCorrelation(_AxisConfig):
    """Mean concordance correlation between labels and predictions along `axis`."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
