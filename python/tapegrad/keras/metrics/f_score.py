"""F-scores (keras/src/metrics/f_score_metrics.py): FBetaScore and F1Score over 2-D multi-label
or one-hot inputs."""

from ... import _ops
from ..losses.base import EPSILON, as_tensor
from .base import Metric

__all__ = ["FBetaScore", "F1Score"]


class FBetaScore(Metric):
    """``(1 + beta**2) * P * R / (beta**2 * P + R)`` per class (`average` None), or averaged
    ('micro': pooled counts, 'macro': mean, 'weighted': weighted by support). Without a
    `threshold`, the largest prediction of each row counts as positive.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.FBetaScore(beta=2.0, threshold=0.5)
    >>> m([[1, 1, 1], [1, 0, 0], [1, 1, 0]], [[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]).numpy().round(4)
    array([0.3846, 0.9091, 0.8333], dtype=float32)
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                "Invalid `average` argument value. Expected one of: {None, 'micro', 'macro', "
                f"'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify 0 < threshold <= 1. "
                    f"Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received input "
                f"shapes: y_pred.shape={tuple(y_pred_shape)} and y_true.shape={tuple(y_true_shape)}."
            )
        shape = (y_pred_shape[-1],) if self.average != "micro" else ()
        for name in ("true_positives", "false_positives", "false_negatives", "intermediate_weights"):
            setattr(self, name, self.add_variable(name=name, shape=shape, initializer="zeros", dtype=self.dtype))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_tensor(y_true, self.dtype)
        y_pred = as_tensor(y_pred, self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            row_max = _ops.reduce_max(y_pred, axis=-1, keepdims=True)
            y_pred = _ops.logical_and(y_pred >= row_max, _ops.abs(y_pred) > _ops.constant(1e-9, dtype=self.dtype))
        else:
            y_pred = y_pred > _ops.constant(self.threshold, dtype=self.dtype)
        y_pred = _ops.cast(y_pred, self.dtype)
        one = _ops.constant(1.0, dtype=self.dtype)
        if sample_weight is not None:
            sample_weight = _ops.reshape(as_tensor(sample_weight, self.dtype), [-1, 1])

        def weighted_sum(val):
            if sample_weight is not None:
                val = val * sample_weight
            return _ops.reduce_sum(val, axis=self.axis)

        self.true_positives.assign_add(weighted_sum(y_pred * y_true))
        self.false_positives.assign_add(weighted_sum(y_pred * (one - y_true)))
        self.false_negatives.assign_add(weighted_sum((one - y_pred) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        eps = _ops.constant(EPSILON, dtype=self.dtype)
        tp, fp, fn = self.true_positives.value(), self.false_positives.value(), self.false_negatives.value()
        precision = tp / (tp + fp + eps)
        recall = tp / (tp + fn + eps)
        b2 = _ops.constant(self.beta**2, dtype=self.dtype)
        f = precision * recall / (b2 * precision + recall + eps) * (_ops.constant(1.0, dtype=self.dtype) + b2)
        if self.average == "weighted":
            w = self.intermediate_weights.value()
            return _ops.reduce_sum(f * (w / (_ops.reduce_sum(w) + eps)))
        if self.average is not None:
            return _ops.reduce_mean(f)
        return f

    def reset_state(self):
        for v in self.variables:
            v.assign(_ops.zeros(list(v.shape), v.dtype))

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
