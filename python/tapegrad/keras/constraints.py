"""Keras 3 weight constraints (``tg.keras.constraints``; keras/src/constraints/constraints.py):
functions applied to a variable after each optimizer update.

>>> import tapegrad as tg
>>> tg.keras.constraints.NonNeg()(tg.constant([-1.0, 2.0])).numpy()
array([0., 2.], dtype=float32)
"""

from .. import _ops, _ops_math
from . import _registry

__all__ = [
    "Constraint",
    "MaxNorm",
    "MinMaxNorm",
    "NonNeg",
    "UnitNorm",
    "max_norm",
    "min_max_norm",
    "non_neg",
    "unit_norm",
    "get",
    "serialize",
    "deserialize",
]

_EPSILON = 1e-7


def _norms(w, axis):
    return _ops.sqrt(_ops.reduce_sum(_ops.square(w), axis=axis, keepdims=True))


def _c(v, x):
    return _ops.constant(v, dtype=x.dtype)


class Constraint:
    """Base class: ``__call__(w)`` returns the projected weight (here `w` unchanged)."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales slices along `axis` whose L2 norm exceeds `max_value` down to it.

    >>> import tapegrad as tg
    >>> tg.keras.constraints.MaxNorm(1.0)(tg.constant([[3.0], [4.0]])).numpy().round(4)
    array([[0.6],
           [0.8]], dtype=float32)
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = _ops_math.clip_by_value(norms, _c(0.0, w), _c(self.max_value, w))
        return w * (desired / (_c(_EPSILON, w) + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative entries set to 0."""

    def __call__(self, w):
        w = _ops.convert_to_tensor(w)
        return _ops.maximum(w, _c(0.0, w))


class UnitNorm(Constraint):
    """Slices along `axis` divided by their L2 norm."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _ops.convert_to_tensor(w)
        return w / (_c(_EPSILON, w) + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms moved towards ``[min_value, max_value]``: ``rate * clip(n) + (1 - rate) * n``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _ops.convert_to_tensor(w)
        norms = _norms(w, self.axis)
        clipped = _ops_math.clip_by_value(norms, _c(self.min_value, w), _c(self.max_value, w))
        desired = _c(self.rate, w) * clipped + _c(1 - self.rate, w) * norms
        return w * (desired / (_c(_EPSILON, w) + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm

_BY_NAME = _registry.name_table((Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm))


def serialize(constraint):
    """``{"module", "class_name", "config", "registered_name"}`` for a constraint."""
    return _registry.serialize_object(constraint, "keras.constraints", _BY_NAME)


def deserialize(config, custom_objects=None):
    """The constraint a config dict or a name stands for."""
    return _registry.deserialize_object(config, _BY_NAME, "constraint", custom_objects)


def get(identifier):
    """A constraint from None (-> None), a name (``MaxNorm``/``max_norm``, ...), a config dict,
    a class (instantiated) or a callable."""
    if identifier is None:
        return None
    return _registry.get_object(identifier, _BY_NAME, "constraint")
