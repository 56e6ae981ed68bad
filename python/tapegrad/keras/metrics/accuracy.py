"""Accuracy metrics (keras/src/metrics/accuracy_metrics.py): per-sample 0/1 matches, averaged by
MeanMetricWrapper."""

from ... import _ops, _ops_math
from ..._tensor import _static_shape
from ..losses.base import as_tensor, squeeze, squeeze_or_expand_to_same_rank
from .base import FLOATX, MeanMetricWrapper

__all__ = [
    "accuracy",
    "binary_accuracy",
    "categorical_accuracy",
    "sparse_categorical_accuracy",
    "top_k_categorical_accuracy",
    "sparse_top_k_categorical_accuracy",
    "Accuracy",
    "BinaryAccuracy",
    "CategoricalAccuracy",
    "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy",
    "SparseTopKCategoricalAccuracy",
]


def _matches(a, b):
    return _ops.cast(_ops.equal(a, b), FLOATX)


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` (y_true cast to y_pred's dtype), else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _matches(y_true, y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``, else 0.0.

    >>> import tapegrad as tg
    >>> tg.keras.metrics.binary_accuracy([1, 1, 0, 0], [0.98, 1.0, 0.0, 0.6]).numpy()
    array([1., 1., 1., 0.], dtype=float32)
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    above = _ops.greater(y_pred, _ops.constant(threshold, dtype=y_pred.dtype))
    return _matches(y_true, _ops.cast(above, y_true.dtype))


def categorical_accuracy(y_true, y_pred):
    """1.0 where ``argmax(y_true, -1) == argmax(y_pred, -1)`` (first index on ties), else 0.0."""
    y_true = _ops_math.argmax(as_tensor(y_true), axis=-1)
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    return _argmax_matches(y_true, y_pred, len(y_true.shape) == len(y_pred.shape))


def _argmax_matches(y_true, y_pred, squeeze_true):
    """``y_true == argmax(y_pred, -1)`` (categorical and sparse categorical accuracy); with
    ``squeeze_true`` y_true's last axis is dropped first and the matches take y_true's shape."""
    org_shape = _ops.shape(y_true) if None in _static_shape(y_true) else list(y_true.shape)
    if squeeze_true:
        y_true = squeeze(y_true, -1)
    y_pred = _ops.cast(_ops_math.argmax(y_pred, axis=-1), y_true.dtype)
    matches = _matches(y_true, y_pred)
    if squeeze_true:
        matches = _ops.reshape(matches, org_shape)
    return matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the integer label equals ``argmax(y_pred, -1)``, else 0.0.

    >>> import tapegrad as tg
    >>> tg.keras.metrics.sparse_categorical_accuracy([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]]).numpy()
    array([0., 1.], dtype=float32)
    """
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype)
    matches = _argmax_matches(y_true, y_pred, len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1)
    if len(matches.shape) > 1 and matches.shape[-1] == 1:
        matches = squeeze(matches, -1)
    return matches


def _flatten_for_top_k(y_true, y_pred):
    org_shape = list(y_true.shape)
    if len(y_pred.shape) > 2:
        y_pred = _ops.reshape(y_pred, [-1, y_pred.shape[-1]])
    reshape = len(y_true.shape) > 1
    if reshape:
        y_true = _ops.reshape(y_true, [-1])
    return y_true, y_pred, org_shape, reshape


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the `k` largest predictions (TF's in_top_k)."""
    y_pred = as_tensor(y_pred)
    y_true = _ops_math.argmax(as_tensor(y_true, y_pred.dtype), axis=-1)
    y_true, y_pred, org_shape, reshape = _flatten_for_top_k(y_true, y_pred)
    matches = _ops.cast(_ops_math.in_top_k(_ops.cast(y_true, "int32"), y_pred, k), FLOATX)
    return _ops.reshape(matches, org_shape) if reshape else matches


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the `k` largest predictions (or, with
    `from_sorted_ids`, among the first `k` ids of y_pred), else 0.0."""
    y_pred = as_tensor(y_pred)
    y_true = as_tensor(y_true, y_pred.dtype if from_sorted_ids else "int32")
    y_true, y_pred, org_shape, reshape = _flatten_for_top_k(y_true, y_pred)
    if from_sorted_ids:
        hits = _ops.equal(_ops.reshape(y_true, [-1, 1]), y_pred[:, :k])
        matches = _ops.reduce_any(hits, axis=1)
    else:
        matches = _ops_math.in_top_k(y_true, y_pred, k)
    matches = _ops.cast(matches, FLOATX)
    return _ops.reshape(matches, org_shape) if reshape else matches


class _NameDtypeConfig(MeanMetricWrapper):
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class Accuracy(_NameDtypeConfig):
    """How often predictions equal labels.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.Accuracy()
    >>> m.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    >>> float(m.result())
    0.75
    """

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the binary label."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(_NameDtypeConfig):
    """How often the argmax of the prediction matches the argmax of the one-hot label."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(_NameDtypeConfig):
    """How often the argmax of the prediction matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label's class is among the top `k` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top `k` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        super().__init__(
            fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, from_sorted_ids=from_sorted_ids
        )
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
