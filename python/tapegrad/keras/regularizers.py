"""Keras 3 weight regularizers (``tg.keras.regularizers``; keras/src/regularizers/regularizers.py).
A regularizer maps a weight tensor to a scalar penalty that Keras adds to the loss.

>>> import tapegrad as tg
>>> float(tg.keras.regularizers.L2(0.5)(tg.constant([1.0, -2.0])))
2.5
>>> round(float(tg.keras.regularizers.get("l1")(tg.constant([1.0, -2.0]))), 6)
0.03
"""

import math as _math

import numpy as _np

from .. import _ops, _ops_linalg
from . import _registry

__all__ = [
    "Regularizer",
    "L1",
    "L2",
    "L1L2",
    "OrthogonalRegularizer",
    "l1",
    "l2",
    "l1_l2",
    "orthogonal_regularizer",
    "get",
    "serialize",
    "deserialize",
]


def _validate_float_arg(value, name):
    """`value` as a float; ``ValueError`` (Keras's message) unless it is a finite number >= 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (float, int))
        or _math.isinf(value)
        or _math.isnan(value)
        or value < 0
    ):
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float.Received: {name}={value}")
    return float(value)


class Regularizer:
    """Base class: ``__call__(x)`` returns the penalty (0.0 here), ``get_config`` its arguments."""

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        raise NotImplementedError(f"{self} does not implement get_config()")


def _c(v, x):
    return _ops.constant(v, dtype=x.dtype)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)`` (both default 0)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = _validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _ops.convert_to_tensor(x)
        reg = _c(0.0, x)
        if self.l1 != 0.0:
            reg = reg + _c(self.l1, x) * _ops.reduce_sum(_ops.abs(x))
        if self.l2 != 0.0:
            reg = reg + _c(self.l2, x) * _ops.reduce_sum(_ops.square(x))
        return reg

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(|x|)`` (default l1=0.01; Keras keeps `l1` as a float32 tensor, so it is rounded
    to float32, also in the config)."""

    def __init__(self, l1=0.01):
        self.l1 = float(_np.float32(_validate_float_arg(0.01 if l1 is None else l1, name="l1")))

    def __call__(self, x):
        x = _ops.convert_to_tensor(x)
        return _c(self.l1, x) * _ops.reduce_sum(_ops.abs(x))

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)`` (default l2=0.01; no 1/2 factor)."""

    def __init__(self, l2=0.01):
        self.l2 = _validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = _ops.convert_to_tensor(x)
        return _c(self.l2, x) * _ops.reduce_sum(_ops.square(x))

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """``factor * 0.5 * mean |off-diagonal entries of N N^T|`` over pairs, N the rows (or columns)
    of a rank-2 weight normalized to unit length."""

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = float(_np.float32(_validate_float_arg(factor, name="factor")))  # a float32 tensor in Keras
        if mode not in {"rows", "columns"}:
            raise ValueError(
                f'Invalid value for argument `mode`. Expected one of {{"rows", "columns"}}. Received: mode={mode}'
            )
        self.mode = mode

    def __call__(self, inputs):
        x = _ops.convert_to_tensor(inputs)
        if len(x.shape) != 2:
            raise ValueError(f"Inputs to OrthogonalRegularizer must have rank 2. Received: inputs.shape={x.shape}")
        axis = 1 if self.mode == "rows" else 0
        inv_norm = _ops.minimum(
            _ops.rsqrt(_ops.reduce_sum(_ops.square(x), axis=axis, keepdims=True)), _c(1.0 / 1e-7, x)
        )
        x = x * inv_norm
        if self.mode == "rows":
            product, size = _ops.matmul(x, _ops.transpose(x)), x.shape[0]
        else:
            product, size = _ops.matmul(_ops.transpose(x), x), x.shape[1]
        off_diag = product * (_c(1.0, x) - _ops_linalg.eye(size, dtype=x.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return _c(self.factor * 0.5, x) * _ops.reduce_sum(_ops.abs(off_diag)) / _c(num_pairs, x)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

_BY_NAME = _registry.name_table((Regularizer, L1, L2, L1L2, OrthogonalRegularizer))


def serialize(regularizer):
    """``{"module", "class_name", "config", "registered_name"}`` for a regularizer."""
    return _registry.serialize_object(regularizer, "keras.regularizers", _BY_NAME)


def deserialize(config, custom_objects=None):
    """The regularizer a config dict or a name stands for."""
    return _registry.deserialize_object(config, _BY_NAME, "regularizer", custom_objects)


def get(identifier):
    """A regularizer from None (-> None), a name (``L2``/``l2``, ``L1``/``l1``, ``L1L2``/``l1l2``,
    ...), a config dict, a class (instantiated) or a callable."""
    if identifier is None:
        return None
    return _registry.get_object(identifier, _BY_NAME, "regularizer")
