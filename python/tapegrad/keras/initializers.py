"""Keras 3 initializers (``tf.keras.initializers``): ``init(shape, dtype=None)`` returns a Tensor.

Seeds follow Keras 3: an initializer built with an int ``seed`` returns the same values every time
it is called with the same shape (Keras's stateless draw); with ``seed=None`` each call draws new
values. The streams are numpy's (see ``tg.random``), so the numbers differ from TF's.

>>> import tapegrad as tg
>>> init = tg.keras.initializers.GlorotUniform(seed=1)
>>> bool((init([2, 3]).numpy() == init([2, 3]).numpy()).all())
True
"""
import math
import re

import numpy as np

from .. import random as _random
from .._dtypes import as_dtype, float32
from .._ops import constant, zeros

_TRUNC_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def compute_fans(shape):
    """(fan_in, fan_out) of a weight shape, as Keras (conv kernels are (..., in, out))."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)``."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(shape, dtype=None)")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return type(self).from_config(self.get_config())


def _dtype(dtype):
    return float32 if dtype is None else as_dtype(dtype)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return zeros(list(shape), _dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return constant(np.ones(tuple(shape), _dtype(dtype).as_numpy_dtype))


class Constant(Initializer):
    """Every element equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        d = _dtype(dtype)
        return constant(np.broadcast_to(np.asarray(self.value, d.as_numpy_dtype), tuple(shape)).copy())

    def get_config(self):
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v}


class _Random(Initializer):
    """Shared seed handling: an int seed gives the same values on every call (stateless)."""

    def __init__(self, seed=None):
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f"`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                             f"integer. Received: seed={seed}")
        self.seed = seed

    def _seed(self):
        if self.seed is not None:
            return [int(self.seed), 0]
        return [int(v) for v in np.random.default_rng().integers(0, 2**31 - 1, size=2)]

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    """Normal values with ``mean`` and ``stddev``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _random.stateless_normal(list(shape), self._seed(), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(_Random):
    """Normal values re-drawn beyond two standard deviations."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None):
        return _random.stateless_truncated_normal(list(shape), self._seed(), self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Uniform values in ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None):
        return _random.stateless_uniform(list(shape), self._seed(), self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(_Random):
    """Scale-aware random values: variance ``scale / n`` with n from the fans (``mode``)."""

    _modes = ("fan_in", "fan_out", "fan_avg")
    _distributions = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in self._modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {set(self._modes)}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in self._distributions:
            raise ValueError(f"Invalid `distribution` argument: {distribution}.Please use one of "
                             f"{set(self._distributions)}")
        self.scale, self.mode, self.distribution = scale, mode, distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        s = self.scale / max(1.0, n)
        d = _dtype(dtype)
        if self.distribution == "truncated_normal":
            return _random.stateless_truncated_normal(list(shape), self._seed(), 0.0, math.sqrt(s) / _TRUNC_STD, d)
        if self.distribution == "untruncated_normal":
            return _random.stateless_normal(list(shape), self._seed(), 0.0, math.sqrt(s), d)
        limit = math.sqrt(3.0 * s)
        return _random.stateless_uniform(list(shape), self._seed(), -limit, limit, d)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _fixed(name, doc, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _fixed("GlorotUniform", "Uniform in +-sqrt(6 / (fan_in + fan_out)).", 1.0, "fan_avg", "uniform")
GlorotNormal = _fixed("GlorotNormal", "Truncated normal, stddev sqrt(2 / (fan_in + fan_out)).", 1.0, "fan_avg",
                      "truncated_normal")
HeUniform = _fixed("HeUniform", "Uniform in +-sqrt(6 / fan_in).", 2.0, "fan_in", "uniform")
HeNormal = _fixed("HeNormal", "Truncated normal, stddev sqrt(2 / fan_in).", 2.0, "fan_in", "truncated_normal")
LecunUniform = _fixed("LecunUniform", "Uniform in +-sqrt(3 / fan_in).", 1.0, "fan_in", "uniform")
LecunNormal = _fixed("LecunNormal", "Truncated normal, stddev sqrt(1 / fan_in).", 1.0, "fan_in", "truncated_normal")


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_CLASSES = [Zeros, Ones, Constant, RandomNormal, TruncatedNormal, RandomUniform, VarianceScaling, GlorotUniform,
            GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal]
_ALIASES = {"zero": Zeros, "one": Ones, "normal": RandomNormal, "uniform": RandomUniform}


def _lookup(name):
    for cls in _CLASSES:
        if name in (cls.__name__, _snake(cls.__name__)):
            return cls
    return _ALIASES.get(name)


def serialize(initializer):
    """``{"class_name", "config"}`` of an initializer."""
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config, custom_objects=None):
    """An initializer from ``serialize``'s dict or a name."""
    if isinstance(config, str):
        return get(config)
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _lookup(name)
    if cls is None:
        raise ValueError(f"Could not interpret initializer identifier: {config}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """An initializer from a name (``"glorot_uniform"``), a config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = _lookup(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
