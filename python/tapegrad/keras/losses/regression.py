"""Regression losses (keras/src/losses/losses.py): per-sample values over the last axis."""

import math

from ... import _ops
from .base import EPSILON, Loss, LossFunctionWrapper, as_tensor, squeeze_or_expand_to_same_rank


def _pair(y_true, y_pred):
    """y_pred as a tensor, y_true in its dtype, ranks aligned (Keras's first lines)."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def _scalar(v, like):
    return _ops.constant(v, dtype=like.dtype)


def mean_squared_error(y_true, y_pred):
    """Per-sample ``mean((y_true - y_pred)**2, axis=-1)``.

    >>> import tapegrad as tg
    >>> tg.keras.losses.mean_squared_error(tg.constant([[0.0, 2.0]]), tg.constant([[1.0, 0.0]])).numpy()
    array([2.5], dtype=float32)
    """
    y_true, y_pred = _pair(y_true, y_pred)
    return _ops.reduce_mean(_ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """Per-sample ``mean(|y_true - y_pred|, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return _ops.reduce_mean(_ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample ``100 * mean(|y_true - y_pred| / max(|y_true|, eps), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _scalar(EPSILON, y_pred)
    diff = _ops.abs((y_true - y_pred) / _ops.maximum(_ops.abs(y_true), eps))
    return _scalar(100.0, y_pred) * _ops.reduce_mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample ``mean((log(max(p, eps) + 1) - log(max(y, eps) + 1))**2, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    eps = _scalar(EPSILON, y_pred)
    one = _scalar(1.0, y_pred)
    first_log = _ops.log(_ops.maximum(y_pred, eps) + one)
    second_log = _ops.log(_ops.maximum(y_true, eps) + one)
    return _ops.reduce_mean(_ops.square(first_log - second_log), axis=-1)


def l2_normalize(x, axis=-1):
    """Keras's ``normalize(x, order=2)``: ``x * min(rsqrt(sum(x**2, axis)), 1/eps)``."""
    square_sum = _ops.reduce_sum(_ops.square(x), axis=axis, keepdims=True)
    inv_norm = _ops.minimum(_ops.rsqrt(square_sum), _scalar(1.0 / EPSILON, x))
    return x * inv_norm


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per-sample ``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (-1 is best)."""
    y_true, y_pred = _pair(y_true, y_pred)
    return -_ops.reduce_sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample ``mean(0.5 e**2 if |e| <= delta else delta |e| - 0.5 delta**2, axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    delta = _scalar(delta, y_pred)
    error = y_pred - y_true
    abs_error = _ops.abs(error)
    half = _scalar(0.5, y_pred)
    return _ops.reduce_mean(
        _ops.where(abs_error <= delta, half * _ops.square(error), delta * abs_error - half * _ops.square(delta)),
        axis=-1,
    )


def log_cosh(y_true, y_pred):
    """Per-sample ``mean(x + softplus(-2x) - log 2, axis=-1)``, x = y_pred - y_true (stable)."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return _ops.reduce_mean(x + _ops.softplus(x * _scalar(-2.0, x)) - _scalar(math.log(2.0), x), axis=-1)


class _Simple(LossFunctionWrapper):
    """A wrapper whose config is just name and reduction."""

    def get_config(self):
        return Loss.get_config(self)


class MeanSquaredError(_Simple):
    """Mean of squares of errors between labels and predictions.

    >>> import tapegrad as tg
    >>> float(tg.keras.losses.MeanSquaredError()(tg.constant([0.0, 1.0]), tg.constant([1.0, 1.0])))
    0.5
    """

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_Simple):
    """Mean of absolute errors."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_Simple):
    """100 times the mean of |error| / max(|y_true|, 1e-7)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction, dtype=dtype)


class MeanSquaredLogarithmicError(_Simple):
    """Mean of squared differences of log(x + 1), inputs floored at 1e-7."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction, dtype=dtype)


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along `axis` (config keeps `axis`, which Keras 3.15 drops)."""

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {**Loss.get_config(self), "axis": self.axis}


class Huber(LossFunctionWrapper):
    """Quadratic within `delta`, linear outside (config keeps `delta`, which Keras 3.15 drops)."""

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta

    def get_config(self):
        return {**Loss.get_config(self), "delta": self.delta}


class LogCosh(_Simple):
    """Mean of log(cosh(error)), computed without overflow."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)
