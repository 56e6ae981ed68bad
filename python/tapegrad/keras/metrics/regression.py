"""Regression metrics (keras/src/metrics/regression_metrics.py): the loss functions of
tg.keras.losses averaged by MeanMetricWrapper, RootMeanSquaredError, CosineSimilarity, R2Score."""

import warnings

from ... import _ops, _ops_shape
from ..losses.base import as_tensor, squeeze_or_expand_to_same_rank
from ..losses.regression import (
    l2_normalize,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from .base import LossMetricWrapper, Mean, Metric

__all__ = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "RootMeanSquaredError",
    "CosineSimilarity",
    "LogCoshError",
    "R2Score",
]


class _NameDtypeConfig(LossMetricWrapper):
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig):
    """Mean of ``mean((y_true - y_pred)**2, -1)`` over samples.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.MeanSquaredError()
    >>> float(m([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
    0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(_NameDtypeConfig):
    """Mean of ``mean(|y_true - y_pred|, -1)`` over samples."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype=dtype)


class MeanAbsolutePercentageError(_NameDtypeConfig):
    """Mean absolute percentage error (see tg.keras.losses.mean_absolute_percentage_error)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name, dtype=dtype)


class MeanSquaredLogarithmicError(_NameDtypeConfig):
    """Mean squared logarithmic error (see tg.keras.losses.mean_squared_logarithmic_error)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name, dtype=dtype)


class LogCoshError(_NameDtypeConfig):
    """Mean of log(cosh(y_pred - y_true)) (see tg.keras.losses.log_cosh)."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name, dtype=dtype)


def _cosine_similarity(y_true, y_pred, axis=-1):
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _ops.reduce_sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


class CosineSimilarity(LossMetricWrapper):
    """Mean cosine similarity between labels and predictions along `axis` (1 is best; the
    metric is the positive similarity, unlike the loss).

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.CosineSimilarity(axis=1)
    >>> round(float(m([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]])), 4)
    0.5
    """

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name, dtype=dtype, axis=axis)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """``sqrt`` of the (weighted) mean of squared errors over all entries.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.RootMeanSquaredError()
    >>> float(m([[0, 1], [0, 0]], [[1, 1], [0, 0]]))
    0.5
    """

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_tensor(y_true, self.dtype)
        y_pred = as_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(_ops.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return _ops.sqrt(super().result())


class R2Score(Metric):
    """Coefficient of determination ``1 - SS_res / SS_tot`` per output column of 2-D inputs,
    aggregated by `class_aggregation` ('uniform_average', 'variance_weighted_average' or None),
    adjusted for `num_regressors` when given.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.R2Score()
    >>> round(float(m([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]])), 4)
    0.5714
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{valid}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples")
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        n = y_pred_shape[-1]
        self.squared_sum = self.add_variable(name="squared_sum", shape=[n], initializer="zeros")
        self.sum = self.add_variable(name="sum", shape=[n], initializer="zeros")
        self.total_mse = self.add_variable(name="residual", shape=[n], initializer="zeros")
        self.count = self.add_variable(name="count", shape=[n], initializer="zeros")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_tensor(y_true, self.dtype)
        y_pred = as_tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        sw = as_tensor(1.0 if sample_weight is None else sample_weight, self.dtype)
        if len(sw.shape) == 1:
            sw = _ops.reshape(sw, [-1, 1])
        sw = _ops.broadcast_to(sw, list(y_true.shape))
        weighted = y_true * sw
        self.sum.assign_add(_ops.reduce_sum(weighted, axis=0))
        self.squared_sum.assign_add(_ops.reduce_sum(y_true * weighted, axis=0))
        self.total_mse.assign_add(_ops.reduce_sum(_ops.square(y_true - y_pred) * sw, axis=0))
        self.count.assign_add(_ops.reduce_sum(sw, axis=0))
        self.num_samples.assign_add(_ops.constant(float(y_true.shape.num_elements()), dtype=self.dtype))

    def result(self):
        s, ss, mse, count = self.sum.value(), self.squared_sum.value(), self.total_mse.value(), self.count.value()
        mean = s / count
        total = ss - s * mean
        raw = _ops.constant(1.0, dtype=self.dtype) - mse / total
        raw = _ops_shape.where(_ops.is_inf(raw), _ops.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            r2 = _ops.reduce_mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            r2 = _ops.reduce_sum(total * raw) / _ops.reduce_sum(total)
        else:
            r2 = raw
        if self.num_regressors != 0:
            n = float(self.num_samples.numpy())
            p = float(self.num_regressors)
            if p > n - 1:
                warnings.warn(
                    "More independent predictors than datapoints in adjusted R2 score. Falling back to "
                    "standard R2 score.",
                    stacklevel=2,
                )
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.", stacklevel=2)
            else:
                one = _ops.constant(1.0, dtype=r2.dtype)
                r2 = one - (one - r2) * _ops.constant(n - 1.0, dtype=r2.dtype) / _ops.constant(
                    n - p - 1.0, dtype=r2.dtype
                )
        return r2

    def reset_state(self):
        for v in self.variables:
            v.assign(_ops.zeros(list(v.shape), v.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
        }
