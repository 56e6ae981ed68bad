"""Intersection-over-union metrics (keras/src/metrics/iou_metrics.py): a running confusion matrix
(int64 by default, as Keras) and IoU = TP / (TP + FP + FN) per target class, averaged over the
classes that occur."""

import warnings

from ... import _ops, _ops_linalg, _ops_math, _ops_shape
from ..losses.base import EPSILON, as_tensor
from .base import Metric

__all__ = ["IoU", "BinaryIoU", "MeanIoU", "OneHotIoU", "OneHotMeanIoU"]


def confusion_matrix(labels, predictions, num_classes, weights, dtype):
    """``cm[i, j]`` = summed weight of entries with label i and prediction j."""
    ids = _ops.cast(labels, "int64") * num_classes + _ops.cast(predictions, "int64")
    cm = _ops_shape.unsorted_segment_sum(_ops.cast(weights, dtype), _ops.cast(ids, "int32"), num_classes * num_classes)
    return _ops.reshape(cm, [num_classes, num_classes])


class _IoUBase(Metric):
    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(name=name, dtype=dtype or "int64")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            name="total_confusion_matrix", shape=(num_classes, num_classes), initializer="zeros", dtype=self.dtype
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = _ops_math.argmax(as_tensor(y_true), axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = _ops_math.argmax(as_tensor(y_pred), axis=self.axis)
        y_true = _ops.reshape(as_tensor(y_true, self.dtype), [-1])
        y_pred = _ops.reshape(as_tensor(y_pred, self.dtype), [-1])
        if sample_weight is None:
            sample_weight = _ops.ones(list(y_true.shape), self.dtype)
        else:
            sw = as_tensor(sample_weight)
            if sw.dtype.is_floating and "int" in self.dtype:
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result in an "
                    "incorrect weight due to type casting Consider using integer weights.",
                    stacklevel=2,
                )
            sample_weight = _ops.broadcast_to(
                _ops.reshape(_ops.cast(sw, self.dtype), [-1]) if len(sw.shape) > 1 else _ops.cast(sw, self.dtype),
                list(y_true.shape),
            )
        zero = _ops.zeros([], self.dtype)
        n = _ops.constant(self.num_classes, dtype=self.dtype)
        in_bounds = _ops.logical_and(
            _ops.logical_and(y_true >= zero, y_true < n), _ops.logical_and(y_pred >= zero, y_pred < n)
        )
        if self.ignore_class is not None:
            in_bounds = _ops.logical_and(
                in_bounds, _ops.not_equal(y_true, _ops.constant(self.ignore_class, dtype=self.dtype))
            )
        y_true = _ops_shape.where(in_bounds, y_true, _ops.zeros_like(y_true))
        y_pred = _ops_shape.where(in_bounds, y_pred, _ops.zeros_like(y_pred))
        sample_weight = _ops_shape.where(in_bounds, sample_weight, _ops.zeros_like(sample_weight))
        self.total_cm.assign_add(confusion_matrix(y_true, y_pred, self.num_classes, sample_weight, self.dtype))

    def reset_state(self):
        self.total_cm.assign(_ops.zeros(list(self.total_cm.shape), self.total_cm.dtype))


class IoU(_IoUBase):
    """IoU = TP / (TP + FP + FN) for each class in `target_class_ids`, averaged over those with a
    nonzero denominator.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.IoU(num_classes=2, target_class_ids=[0])
    >>> round(float(m([0, 0, 1, 1], [0, 1, 0, 1])), 4)
    0.3333
    """

    def __init__(
        self,
        num_classes,
        target_class_ids,
        name=None,
        dtype=None,
        ignore_class=None,
        sparse_y_true=True,
        sparse_y_pred=True,
        axis=-1,
    ):
        super().__init__(
            name=name,
            num_classes=num_classes,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
            dtype=dtype,
        )
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.value()
        tp = _ops_linalg.diag_part(cm)
        denominator = _ops.reduce_sum(cm, axis=0) + _ops.reduce_sum(cm, axis=1) - tp
        ids = _ops.constant(self.target_class_ids, dtype="int32")
        tp = _ops.cast(_ops_shape.gather(tp, ids), "float32")
        denominator = _ops.cast(_ops_shape.gather(denominator, ids), "float32")
        valid = _ops.greater(denominator, _ops.constant(1e-9))
        eps = _ops.constant(EPSILON)
        iou = _ops_shape.where(valid, tp / (denominator + eps), _ops.zeros_like(tp))
        return _ops.reduce_sum(iou, axis=self.axis) / (_ops.reduce_sum(_ops.cast(valid, "float32")) + eps)

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class BinaryIoU(IoU):
    """IoU of binary labels against ``y_pred >= threshold``, for classes `target_class_ids`."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = as_tensor(y_true, self.dtype)
        y_pred = as_tensor(y_pred, "float32")
        y_pred = _ops.cast(y_pred >= _ops.constant(self.threshold), self.dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {
            "target_class_ids": self.target_class_ids,
            "threshold": self.threshold,
            "name": self.name,
            "dtype": self.dtype,
        }


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes (those that occur)."""

    def __init__(
        self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1
    ):
        super().__init__(
            name=name,
            num_classes=num_classes,
            target_class_ids=list(range(num_classes)),
            axis=axis,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=sparse_y_true,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_true": self.sparse_y_true,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotIoU(IoU):
    """IoU with one-hot labels (and, unless `sparse_y_pred`, per-class prediction scores)."""

    def __init__(
        self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1
    ):
        super().__init__(
            num_classes=num_classes,
            target_class_ids=target_class_ids,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
            axis=axis,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "target_class_ids": self.target_class_ids,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot labels (and, unless `sparse_y_pred`, per-class prediction scores)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(
            num_classes=num_classes,
            axis=axis,
            name=name,
            dtype=dtype,
            ignore_class=ignore_class,
            sparse_y_true=False,
            sparse_y_pred=sparse_y_pred,
        )

    def get_config(self):
        return {
            "num_classes": self.num_classes,
            "name": self.name,
            "dtype": self.dtype,
            "ignore_class": self.ignore_class,
            "sparse_y_pred": self.sparse_y_pred,
            "axis": self.axis,
        }
