"""Keras 3's Loss base class: dtype conversion, sample weights, reductions."""
from ... import _ops
from ..._dtypes import as_dtype, float32

_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def _standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{_REDUCTIONS}. Received: reduction={reduction}")
    return reduction


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Makes ranks equal when they differ by one (Keras's rule): squeeze a trailing 1, or expand."""
    r1, r2 = x1.ndim, x2.ndim
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1:
        if x1.shape[-1] == 1:
            if r2 == 1 and expand_rank_1:
                x2 = _ops.reshape(x2, list(x2.shape) + [1])
            else:
                x1 = _ops.reshape(x1, list(x1.shape[:-1]))
    elif r2 == r1 + 1:
        if x2.shape[-1] == 1:
            if r1 == 1 and expand_rank_1:
                x1 = _ops.reshape(x1, list(x1.shape) + [1])
            else:
                x2 = _ops.reshape(x2, list(x2.shape[:-1]))
    return x1, x2


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Keras's reduce_values: sum, or sum divided by the element count (or the weights' sum)."""
    if reduction is None or reduction == "none" or values.ndim == 0:
        return values
    loss = _ops.reduce_sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            divisor = _ops.cast(_ops.reduce_sum(sample_weight), loss.dtype)
        else:
            divisor = _ops.cast(values.shape.num_elements(), loss.dtype)
        loss = _divide_no_nan(loss, divisor)
    return loss


def _divide_no_nan(x, y):
    if float(y) == 0.0:
        return _ops.zeros_like(x)
    return x / y


def apply_sample_weight(values, sample_weight):
    sample_weight = _ops.convert_to_tensor(sample_weight, dtype=values.dtype) if not hasattr(sample_weight, "dtype") \
        else _ops.cast(sample_weight, values.dtype)
    values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
    return values * sample_weight, sample_weight


class Loss:
    """Base class: subclasses implement ``call(y_true, y_pred)`` returning per-sample values.

    >>> import tapegrad as tg
    >>> class Abs(tg.keras.losses.Loss):
    ...     def call(self, y_true, y_pred):
    ...         return tg.reduce_mean(tg.abs(y_pred - y_true), axis=-1)
    >>> float(Abs()(tg.constant([[0.0, 1.0]]), tg.constant([[1.0, 1.0]])))
    0.5
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or type(self).__name__
        self.reduction = _standardize_reduction(reduction)
        self._dtype = as_dtype(dtype) if dtype is not None else float32

    @property
    def dtype(self):
        return self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = _to_dtype(y_pred, self._dtype)
        y_true = _to_dtype(y_true, self._dtype)
        losses = self.call(y_true, y_pred)
        losses = _to_dtype(losses, self._dtype)
        if sample_weight is not None:
            losses, sample_weight = apply_sample_weight(losses, sample_weight)
        return reduce_values(losses, sample_weight, self.reduction)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _to_dtype(x, dtype):
    t = _ops.convert_to_tensor(x) if hasattr(x, "dtype") else _ops.convert_to_tensor(x, dtype=dtype)
    return t if t.dtype == dtype else _ops.cast(t, dtype)


class LossFunctionWrapper(Loss):
    """A Loss whose `call` is a plain function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config
