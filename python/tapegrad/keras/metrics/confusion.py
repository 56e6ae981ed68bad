"""Confusion-matrix metrics (keras/src/metrics/confusion_metrics.py, metrics_utils.py):
TruePositives & co., Precision, Recall, AUC and the X-at-Y family, with Keras's threshold rules.

Counts at each threshold t are over predictions ``y_pred > t`` (strict). Evenly spaced
thresholds (AUC's default) use Keras's bucket algorithm: one segment sum per batch instead of a
comparison per threshold; the counts are the same.
"""

import enum
from typing import Optional

import numpy as np

from ... import _ops, _ops_math, _ops_shape
from ..losses.base import EPSILON, squeeze_or_expand_to_same_rank
from .base import Metric

__all__ = [
    "TruePositives",
    "FalsePositives",
    "TrueNegatives",
    "FalseNegatives",
    "Precision",
    "Recall",
    "AUC",
    "SensitivityAtSpecificity",
    "SpecificityAtSensitivity",
    "PrecisionAtRecall",
    "RecallAtPrecision",
]

NEG_INF = -1e10


class ConfusionMatrix(enum.Enum):
    TRUE_POSITIVES = "tp"
    FALSE_POSITIVES = "fp"
    TRUE_NEGATIVES = "tn"
    FALSE_NEGATIVES = "fn"


TP, FP, TN, FN = (
    ConfusionMatrix.TRUE_POSITIVES,
    ConfusionMatrix.FALSE_POSITIVES,
    ConfusionMatrix.TRUE_NEGATIVES,
    ConfusionMatrix.FALSE_NEGATIVES,
)


class AUCCurve(enum.Enum):
    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"

    @staticmethod
    def from_str(key):
        for curve in AUCCurve:
            if key in (curve.value, curve.value.lower()):
                return curve
        raise ValueError(f'Invalid AUC curve value: "{key}". Expected values are ["PR", "ROC", "PRGAIN"]')


class AUCSummationMethod(enum.Enum):
    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key):
        for method in AUCSummationMethod:
            if key in (method.value, method.value.capitalize()):
                return method
        raise ValueError(
            f'Invalid AUC summation method value: "{key}". '
            'Expected values are ["interpolation", "majoring", "minoring"]'
        )


def _to_list(x):
    if isinstance(x, (list, tuple)):
        return list(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    return [x]


def parse_init_thresholds(thresholds, default_threshold=0.5):
    if thresholds is not None:
        invalid = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds):
    n = len(thresholds)
    if n < 3:
        return False
    return bool(np.allclose(thresholds, np.arange(n, dtype=np.float32) / (n - 1), atol=EPSILON))


def _c(v, like):
    return _ops.constant(v, dtype=like.dtype)


def _filter_top_k(x, k):
    """Entries outside the top `k` of the last axis replaced by NEG_INF."""
    _, idx = _ops_math.top_k(x, k)
    mask = _ops.reduce_sum(_ops_shape.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * mask + _c(NEG_INF, x) * (_c(1.0, x) - mask)


def _update_bucketed(
    variables, y_true, y_pred, num_thresholds, multi_label, sample_weight, label_weights, thresholds_with_epsilon
):
    """Keras's optimized path for evenly spaced thresholds: bucket each prediction, segment-sum
    the (weighted) labels per bucket, then a reversed cumulative sum gives counts per threshold."""
    weights = None
    if sample_weight is not None:
        weights = _ops.broadcast_to(_ops.cast(sample_weight, y_pred.dtype), list(y_pred.shape))
    if label_weights is not None:
        lw = _ops.broadcast_to(_ops.reshape(label_weights, [1, -1]), list(y_pred.shape))
        weights = lw if weights is None else weights * lw
    y_pred = _ops_math.clip_by_value(y_pred, _c(0.0, y_pred), _c(1.0, y_pred))
    y_true = _ops.cast(_ops.cast(y_true, "bool"), y_true.dtype)
    if not multi_label:
        y_true = _ops.reshape(y_true, [-1])
        y_pred = _ops.reshape(y_pred, [-1])
        if weights is not None:
            weights = _ops.reshape(weights, [-1])
    true_labels = y_true if weights is None else y_true * weights
    false_labels = (_c(1.0, y_true) - y_true) if weights is None else (_c(1.0, y_true) - y_true) * weights
    buckets = _ops.ceil(y_pred * _c(num_thresholds - 1, y_pred)) - _c(1.0, y_pred)
    if thresholds_with_epsilon:
        buckets = _ops.relu(buckets)
    buckets = _ops.cast(buckets, "int32")
    if multi_label:
        # one segment range per label: ids label * T + bucket (negative buckets dropped)
        num_labels = y_pred.shape[-1]
        offsets = _ops.reshape(_ops.range(num_labels) * num_thresholds, [1, -1])
        ids = _ops_shape.where(buckets < 0, buckets, buckets + offsets)

        def per_threshold(labels):
            sums = _ops_shape.unsorted_segment_sum(labels, ids, num_labels * num_thresholds)
            sums = _ops.reshape(sums, [num_labels, num_thresholds])
            return _ops.transpose(_ops_math.cumsum(sums, axis=1, reverse=True))

        total_axis = 0
    else:

        def per_threshold(labels):
            sums = _ops_shape.unsorted_segment_sum(labels, buckets, num_thresholds)
            return _ops_math.cumsum(sums, reverse=True)

        total_axis = None
    tp = per_threshold(true_labels)
    fp = per_threshold(false_labels)
    if TP in variables:
        variables[TP].assign_add(tp)
    if FP in variables:
        variables[FP].assign_add(fp)
    if TN in variables:
        variables[TN].assign_add(_ops.reduce_sum(false_labels, axis=total_axis) - fp)
    if FN in variables:
        variables[FN].assign_add(_ops.reduce_sum(true_labels, axis=total_axis) - tp)


def update_confusion_matrix_variables(
    variables,
    y_true,
    y_pred,
    thresholds,
    top_k=None,
    class_id=None,
    sample_weight=None,
    multi_label=False,
    label_weights=None,
    thresholds_distributed_evenly=False,
):
    """Adds this batch's weighted TP/FP/TN/FN counts per threshold to the given variables
    ({ConfusionMatrix: Variable}); Keras's update_confusion_matrix_variables."""
    if multi_label and label_weights is not None:
        raise ValueError(
            "`label_weights` for multilabel data should be handled outside of "
            "`update_confusion_matrix_variables` when `multi_label` is True."
        )
    if not variables:
        return
    invalid = [k for k in variables if k not in list(ConfusionMatrix)]
    if invalid:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{list(ConfusionMatrix)}"')
    dtype = next(iter(variables.values())).dtype
    y_true = _ops.cast(_ops.convert_to_tensor(y_true), dtype)
    y_pred = _ops.cast(_ops.convert_to_tensor(y_pred), dtype)
    thresholds_list = _to_list(thresholds)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = _ops.cast(_ops.convert_to_tensor(sample_weight), dtype)
        sample_weight = _ops.reshape(sample_weight, list(sample_weight.shape) + [1])
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight, expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if len(y_pred.shape) == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {tuple(y_pred.shape)}"
            )
        y_true = _ops_shape.gather(y_true, [class_id], axis=-1)
        y_pred = _ops_shape.gather(y_pred, [class_id], axis=-1)
    if label_weights is not None:
        label_weights = _ops.cast(_ops.convert_to_tensor(label_weights), dtype)
    if thresholds_distributed_evenly:
        with_eps = thresholds_list[0] < 0.0 or thresholds_list[-1] > 1.0
        return _update_bucketed(
            variables, y_true, y_pred, len(thresholds_list), multi_label, sample_weight, label_weights, with_eps
        )

    thresholds = _ops.constant(np.asarray(thresholds_list, dtype=np.float64), dtype=dtype)
    label_is_pos = _ops.cast(y_true, "bool")
    if multi_label:
        preds, labels = y_pred, label_is_pos  # (N, L): compare against thresholds (T, 1, 1)
        th = _ops.reshape(thresholds, [-1, 1, 1])
    else:
        preds, labels = _ops.reshape(y_pred, [-1]), _ops.reshape(label_is_pos, [-1])
        th = _ops.reshape(thresholds, [-1, 1])
    pred_is_pos = _ops.greater(_ops.reshape(preds, [1] + list(preds.shape)), th)
    labels = _ops.reshape(labels, [1] + list(labels.shape))
    weights = None
    if sample_weight is not None:
        weights = _ops.broadcast_to(sample_weight, list(y_pred.shape))
    if label_weights is not None and not multi_label:
        lw = _ops.broadcast_to(
            _ops.reshape(label_weights, [1, -1]) if len(y_pred.shape) > 1 else label_weights, list(y_pred.shape)
        )
        weights = lw if weights is None else weights * lw
    if weights is not None:
        weights = _ops.reshape(weights, [1] + list(preds.shape))

    def count(label, pred):
        hit = _ops.logical_and(label, pred)
        if weights is None:
            vals = _ops.cast(hit, dtype)
        else:
            shape = list(hit.shape)
            vals = _ops_shape.where(hit, _ops.broadcast_to(weights, shape), _ops.zeros(shape, dtype))
        return _ops.reduce_sum(vals, axis=1)

    pred_is_pos = _ops.broadcast_to(pred_is_pos, list(pred_is_pos.shape))
    labels = _ops.broadcast_to(labels, list(pred_is_pos.shape))
    if TP in variables:
        variables[TP].assign_add(count(labels, pred_is_pos))
    if FN in variables:
        variables[FN].assign_add(count(labels, _ops.logical_not(pred_is_pos)))
    if FP in variables:
        variables[FP].assign_add(count(_ops.logical_not(labels), pred_is_pos))
    if TN in variables:
        variables[TN].assign_add(count(_ops.logical_not(labels), _ops.logical_not(pred_is_pos)))


class _ConfusionMatrixConditionCount(Metric):
    _cond: Optional[ConfusionMatrix] = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.accumulator = self.add_variable(shape=(len(self.thresholds),), initializer="zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {self._cond: self.accumulator},
            y_true,
            y_pred,
            self.thresholds,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
        )

    def result(self):
        value = self.accumulator.value()
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of predictions above the threshold(s) whose label is positive.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.TruePositives()
    >>> float(m([0, 1, 1, 1], [1, 0, 1, 1]))
    2.0
    """

    _cond = TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of predictions above the threshold(s) whose label is negative."""

    _cond = FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of predictions at or below the threshold(s) whose label is negative."""

    _cond = TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of predictions at or below the threshold(s) whose label is positive."""

    _cond = FN


class _PrecisionRecall(Metric):
    _second: Optional[ConfusionMatrix] = None  # FP for precision, FN for recall

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        second = "false_positives" if self._second is FP else "false_negatives"
        setattr(self, second, self.add_variable(shape=(n,), initializer="zeros", name=second))
        self._second_var = getattr(self, second)

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {TP: self.true_positives, self._second: self._second_var},
            y_true,
            y_pred,
            self.thresholds,
            top_k=self.top_k,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
        )

    def result(self):
        tp = self.true_positives.value()
        value = _ops_math.divide_no_nan(tp, tp + self._second_var.value())
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {
            **super().get_config(),
            "thresholds": self.init_thresholds,
            "top_k": self.top_k,
            "class_id": self.class_id,
        }


class Precision(_PrecisionRecall):
    """``TP / (TP + FP)`` at the threshold(s), optionally among the `top_k` predictions or for
    one `class_id`.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.Precision()
    >>> float(m([0, 1, 1, 1], [1, 0, 1, 1]))
    0.6666666865348816
    """

    _second = FP


class Recall(_PrecisionRecall):
    """``TP / (TP + FN)`` at the threshold(s), optionally among the `top_k` predictions or for
    one `class_id`.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.Recall()
    >>> float(m([0, 1, 1, 1], [1, 0, 1, 1]))
    0.6666666865348816
    """

    _second = FN


class _SensitivitySpecificityBase(Metric):
    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(
                f"Argument `num_thresholds` must be an integer > 0. Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        n = len(self.thresholds)
        self.true_positives = self.add_variable(shape=(n,), initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=(n,), initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=(n,), initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=(n,), initializer="zeros", name="false_negatives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix_variables(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives, FN: self.false_negatives},
            y_true,
            y_pred,
            self.thresholds,
            class_id=self.class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
        )

    def _rates(self):
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        div = _ops_math.divide_no_nan
        return {"sensitivity": div(tp, tp + fn), "specificity": div(tn, tn + fp), "precision": div(tp, tp + fp)}

    def _find_max_under_constraint(self, constrained, dependent):
        feasible = _ops.greater_equal(constrained, _c(self.value, constrained))
        return _ops.reduce_max(
            _ops_shape.concat(
                [_ops_shape.where(feasible, dependent, _ops.zeros_like(dependent)), _ops.zeros([1], dependent.dtype)],
                axis=0,
            )
        )

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id}


def _check_unit(value, name):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. Received: {name}={value}")


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall) over thresholds whose specificity is >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(specificity, "specificity")
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["specificity"], r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "specificity": self.specificity}


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity over thresholds whose sensitivity is >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(sensitivity, "sensitivity")
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"], r["specificity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "sensitivity": self.sensitivity}


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision over thresholds whose recall is >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(recall, "recall")
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["sensitivity"], r["precision"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "recall": self.recall}


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall over thresholds whose precision is >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit(precision, "precision")
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id, name=name, dtype=dtype)

    def result(self):
        r = self._rates()
        return self._find_max_under_constraint(r["precision"], r["sensitivity"])

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, "precision": self.precision}


class AUC(Metric):
    """Area under the ROC or PR curve from TP/FP/TN/FN counts at `num_thresholds` thresholds
    (Riemann sum: 'interpolation', 'minoring' or 'majoring'; PR interpolation as Davis & Goadrich).

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.AUC(num_thresholds=3)
    >>> round(float(m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])), 4)
    0.75
    """

    def __init__(
        self,
        num_thresholds=200,
        curve="ROC",
        summation_method="interpolation",
        name=None,
        dtype=None,
        thresholds=None,
        multi_label=False,
        num_labels=None,
        label_weights=None,
        from_logits=False,
    ):
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(thresholds)
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(np.array([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        self._thresholds = np.array([0.0 - EPSILON] + thresholds + [1.0 + EPSILON])
        self.curve = curve if isinstance(curve, AUCCurve) else AUCCurve.from_str(curve)
        self.summation_method = (
            summation_method
            if isinstance(summation_method, AUCSummationMethod)
            else AUCSummationMethod.from_str(summation_method)
        )
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = (
            None if label_weights is None else _ops.constant(np.asarray(label_weights), dtype=self.dtype)
        )
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError(
                    f"`y_pred` must have rank 2 when `multi_label=True`. Found rank {len(shape)}. "
                    f"Full shape received for `y_pred`: {tuple(shape)}"
                )
            self._num_labels = shape[1]
            var_shape = (self.num_thresholds, self._num_labels)
        else:
            var_shape = (self.num_thresholds,)
        self._build_input_shape = shape
        self.true_positives = self.add_variable(shape=var_shape, initializer="zeros", name="true_positives")
        self.false_positives = self.add_variable(shape=var_shape, initializer="zeros", name="false_positives")
        self.true_negatives = self.add_variable(shape=var_shape, initializer="zeros", name="true_negatives")
        self.false_negatives = self.add_variable(shape=var_shape, initializer="zeros", name="false_negatives")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = _ops.convert_to_tensor(y_pred)
        if not self._built:
            self._build(list(y_pred.shape))
        if self._from_logits:
            y_pred = _ops.sigmoid(y_pred)
        update_confusion_matrix_variables(
            {TP: self.true_positives, TN: self.true_negatives, FP: self.false_positives, FN: self.false_negatives},
            y_true,
            y_pred,
            self._thresholds,
            sample_weight=sample_weight,
            multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
        )

    def _by_label(self, terms):
        if not self.multi_label:
            return _ops.reduce_sum(terms)
        by_label = _ops.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return _ops.reduce_mean(by_label)
        return _ops_math.divide_no_nan(
            _ops.reduce_sum(by_label * self.label_weights), _ops.reduce_sum(self.label_weights)
        )

    def interpolate_pr_auc(self):
        """PR-AUC with precision interpolated between thresholds (Davis & Goadrich, 2006)."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives.value(), self.false_positives.value(), self.false_negatives.value()
        zero = _c(0.0, tp)
        dtp = tp[: n - 1] - tp[1:]
        p = tp + fp
        dp = p[: n - 1] - p[1:]
        prec_slope = _ops_math.divide_no_nan(dtp, _ops.maximum(dp, zero))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = _ops_shape.where(
            _ops.logical_and(p[: n - 1] > zero, p[1:] > zero),
            _ops_math.divide_no_nan(p[: n - 1], _ops.maximum(p[1:], zero)),
            _ops.ones_like(p[1:]),
        )
        increments = _ops_math.divide_no_nan(
            prec_slope * (dtp + intercept * _ops.log(safe_p_ratio)), _ops.maximum(tp[1:] + fn[1:], zero)
        )
        return self._by_label(increments)

    def result(self):
        if self.curve == AUCCurve.PR and self.summation_method == AUCSummationMethod.INTERPOLATION:
            return self.interpolate_pr_auc()
        n = self.num_thresholds
        tp, fp = self.true_positives.value(), self.false_positives.value()
        tn, fn = self.true_negatives.value(), self.false_negatives.value()
        recall = _ops_math.divide_no_nan(tp, tp + fn)
        if self.curve == AUCCurve.ROC:
            x, y = _ops_math.divide_no_nan(fp, fp + tn), recall
        elif self.curve == AUCCurve.PR:
            x, y = recall, _ops_math.divide_no_nan(tp, tp + fp)
        else:  # PRGAIN
            one, zero = _c(1.0, tp), _c(0.0, tp)
            scaling = _ops_math.divide_no_nan(tp + fn, tn + fp)
            recall_gain = one - scaling * _ops_math.divide_no_nan(fn, tp)
            precision_gain = one - scaling * _ops_math.divide_no_nan(fp, tp)
            no_tp = _ops.equal(tp, zero)
            recall_gain = _ops_shape.where(no_tp, _ops.zeros_like(tp), recall_gain)
            precision_gain = _ops_shape.where(no_tp, _ops.ones_like(tp), precision_gain)
            x, y = _ops.maximum(recall_gain, zero), precision_gain
        if self.summation_method == AUCSummationMethod.INTERPOLATION:
            heights = (y[: n - 1] + y[1:]) / _c(2.0, y)
        elif self.summation_method == AUCSummationMethod.MINORING:
            heights = _ops.minimum(y[: n - 1], y[1:])
        else:
            heights = _ops.maximum(y[: n - 1], y[1:])
        return self._by_label((x[: n - 1] - x[1:]) * heights)

    def reset_state(self):
        if self._built:
            for v in (self.true_positives, self.false_positives, self.true_negatives, self.false_negatives):
                v.assign(_ops.zeros(list(v.shape), v.dtype))

    def get_config(self):
        lw = self.label_weights
        config = {
            **super().get_config(),
            "num_thresholds": self.num_thresholds,
            "curve": self.curve.value,
            "summation_method": self.summation_method.value,
            "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if lw is None else lw.numpy().tolist(),
            "from_logits": self._from_logits,
        }
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
