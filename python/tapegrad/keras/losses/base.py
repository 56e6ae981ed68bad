"""Keras 3's Loss base class: dtype conversion, masks, sample weights, reductions
(keras/src/losses/loss.py)."""

import collections
import re

import numpy as np

from ... import _ops
from ..._dtypes import as_dtype, float32
from ..._tensor import _POLY, Tensor, Variable, _static_shape

EPSILON = 1e-7  # keras.backend.epsilon()

_REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(
            "Invalid value for argument `reduction`. Expected one of "
            f"{set(_REDUCTIONS)}. Received: reduction={reduction}"
        )
    return reduction


_standardize_reduction = standardize_reduction

_name_uids: "collections.defaultdict[str, int]" = collections.defaultdict(int)


def _to_snake_case(name):
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _auto_name(prefix):
    """Keras's auto_name: snake case, then `_1`, `_2` ... for repeats in this process."""
    prefix = _to_snake_case(prefix)
    n = _name_uids[prefix]
    _name_uids[prefix] += 1
    return f"{prefix}_{n}" if n else prefix


def as_tensor(x, dtype=None):
    """Tensor of `dtype` (cast when it is a tensor of another dtype), or of its own dtype."""
    if isinstance(x, Variable):
        x = x.read_value()
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == as_dtype(dtype) else _ops.cast(x, dtype)
    if isinstance(x, np.ndarray) and dtype is not None and x.dtype != as_dtype(dtype).as_numpy_dtype:
        x = x.astype(as_dtype(dtype).as_numpy_dtype)
    if dtype is None:
        return _ops.convert_to_tensor(x)
    return _ops.convert_to_tensor(x, dtype=dtype)


def expand_dims(x, axis=-1):
    shape = list(x.shape)
    axis = axis if axis >= 0 else len(shape) + 1 + axis
    return _ops.reshape(x, shape[:axis] + [1] + shape[axis:])


def squeeze(x, axis=-1):
    shape = list(x.shape)
    if shape[axis] != 1:
        raise ValueError(f"Cannot squeeze axis {axis} of a tensor of shape {tuple(shape)}: its size is not 1")
    del shape[axis]
    return _ops.reshape(x, shape)


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Makes ranks equal when they differ by one (Keras's rule): squeeze a trailing 1, or expand."""
    s1, s2 = _shape_tuple(x1), _shape_tuple(x2)  # (not TensorShape: this runs on every loss call)
    r1, r2 = len(s1), len(s2)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and s1[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = expand_dims(x2, -1)
        else:
            x1 = squeeze(x1, -1)
    if r2 == r1 + 1 and s2[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = expand_dims(x1, -1)
        else:
            x2 = squeeze(x2, -1)
    return x1, x2


def divide_no_nan(x, y):
    """x / y, and 0 where y == 0 (differentiable in both)."""
    zero = _ops.equal(y, _ops.zeros_like(y))
    safe = _ops.where(zero, _ops.ones_like(y), y)
    return _ops.where(zero, _ops.zeros_like(x), x / safe)


def _shape_tuple(x):
    """The shape as a tuple of ints (None dims for unknown), cheaply for tensors and Variables; in a
    polymorphic trace, None where the size varies (See Note [Polymorphic traces])."""
    t = getattr(x, "_shape_tuple", None)
    if t is None:
        return tuple(x.shape)
    return tuple(_static_shape(x)) if _POLY[0] else tuple(t)


def _num_elements(values):
    """The element count, or None when a size varies between calls (a polymorphic trace)."""
    n = 1
    for d in _shape_tuple(values):
        if d is None:
            return None
        n *= int(d)
    return n


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Keras's reduce_values: sum, or the sum divided by the element count (or the weights' sum)."""
    if reduction is None or reduction == "none" or _shape_tuple(values) in ((), (0,)):
        return values
    loss = _ops.reduce_sum(values)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        if reduction == "mean_with_sample_weight" and sample_weight is not None:
            loss = divide_no_nan(loss, _ops.cast(_ops.reduce_sum(sample_weight), loss.dtype))
        else:  # a constant count: divide_no_nan without the tensor ops
            n = _num_elements(values)
            if n is None:  # See Note [Polymorphic traces]: the count is read at every call
                loss = divide_no_nan(loss, _ops.cast(_ops.size(values), loss.dtype))
            else:
                loss = loss / _ops.constant(float(n), dtype=loss.dtype) if n else _ops.zeros_like(loss)
    return loss


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean mask into the weights; with mean reductions the valid entries get
    total/valid so that the result is the mean over valid entries."""
    if mask is None:
        return sample_weight
    if reduction in ("mean", "sum_over_batch_size"):
        n = _num_elements(mask)
        total = _ops.cast(_ops.size(mask), dtype) if n is None else _ops.constant(float(n), dtype=dtype)
        valid = _ops.reduce_sum(_ops.cast(mask, dtype))
        mask_weight = divide_no_nan(total, valid)
        float_mask = _ops.where(_ops.cast(mask, "bool"), mask_weight, _ops.zeros([], dtype))
    else:
        float_mask = _ops.cast(mask, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype)
        float_mask, sample_weight = squeeze_or_expand_to_same_rank(float_mask, sample_weight)
        return sample_weight * float_mask
    return float_mask


def reduce_weighted_values(values, sample_weight=None, mask=None, reduction="sum_over_batch_size", dtype=None):
    """Weights (mask folded in, ranks aligned) times values, then the reduction."""
    reduction = standardize_reduction(reduction)
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        try:
            values = values * sample_weight
        except ValueError as e:
            raise ValueError(
                f"sample_weight of shape {tuple(sample_weight.shape)} cannot be applied to loss values of "
                f"shape {tuple(values.shape)}: {e}"
            ) from None
    return reduce_values(values, sample_weight, reduction)


def get_mask(x):
    return getattr(x, "_keras_mask", None)


def set_mask(x, mask):
    x._keras_mask = mask
    return x


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
        self.name = name or _auto_name(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self._dtype = as_dtype(dtype) if dtype is not None else float32
        if not self._dtype.is_floating:
            raise ValueError(f"A loss computes in a float dtype; received dtype={self._dtype.name}")

    @property
    def dtype(self):
        return self._dtype.name

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = get_mask(y_pred)
        y_pred = as_tensor(y_pred, self._dtype)
        y_true = as_tensor(y_true, self._dtype)
        losses = self.call(y_true, y_pred)
        out_mask = get_mask(losses)
        if in_mask is not None and out_mask is not None:
            mask = _ops.logical_and(_ops.cast(in_mask, "bool"), _ops.cast(out_mask, "bool"))
        else:
            mask = in_mask if in_mask is not None else out_mask
        return reduce_weighted_values(
            losses, sample_weight=sample_weight, mask=mask, reduction=self.reduction, dtype=self._dtype
        )

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss whose `call` is a plain function ``fn(y_true, y_pred, **kwargs)``.

    >>> import tapegrad as tg
    >>> loss = tg.keras.losses.LossFunctionWrapper(tg.keras.losses.huber, delta=0.5)
    >>> float(loss(tg.constant([[0.0]]), tg.constant([[2.0]])))
    0.875
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update({"fn": getattr(self.fn, "__name__", self.fn)})
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, str):
            from . import _BY_NAME  # the module's table of names

            if fn not in _BY_NAME:
                raise ValueError(f"Could not interpret loss function: {fn}")
            config["fn"] = _BY_NAME[fn]
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"
