"""``tf.keras.random``: Keras 3's random ops and ``SeedGenerator`` (``keras/src/random/``).

Seeds follow Keras 3:

* ``seed=<int>``: the same values on every call with that int (stateless);
* ``seed=SeedGenerator(...)``: each call consumes the generator's next seed, so successive calls
  differ and a generator built with the same seed repeats the same sequence;
* ``seed=None``: the global ``SeedGenerator``, reseeded by ``keras.utils.set_random_seed``.

A seed is the pair ``[seed, counter]`` (the generator's ``state``, an int64 variable, advanced by
``[0, 1]`` per draw, as Keras). The values come from numpy's PCG64 keyed by that pair, so they
differ from Keras's (TensorFlow's Philox) streams: same distributions and reproducibility rules,
not Keras's exact numbers.

>>> import tapegrad as tg
>>> a = tg.keras.random.normal((2,), seed=3)
>>> b = tg.keras.random.normal((2,), seed=3)
>>> bool((a.numpy() == b.numpy()).all())
True
>>> gen = tg.keras.random.SeedGenerator(42)
>>> c, d = tg.keras.random.uniform((2,), seed=gen), tg.keras.random.uniform((2,), seed=gen)
>>> bool((c.numpy() == d.numpy()).all())
False
"""

import functools as _functools
import random as _py_random

import numpy as _np

from .. import random as _tg_random
from .._tensor import Tensor as _Tensor
from .._tensor import Variable as _Variable
from .ops.core import _ops

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

_global_generator = None
_name_count = 0


def _dtype(dtype, default="float32"):
    if dtype is None:
        return default
    from .._dtypes import as_dtype

    return as_dtype(dtype).name


class SeedGenerator:
    """A stateful seed source: each ``next()`` returns the current ``[seed, counter]`` and advances
    the counter. Pass it as ``seed=`` to the ``keras.random`` functions.

    >>> import tapegrad as tg
    >>> g = tg.keras.random.SeedGenerator(7)
    >>> g.next().numpy().tolist(), g.next().numpy().tolist()
    ([7, 0], [7, 1])
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs.pop("backend", None) is not None or kwargs:
            raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
        if name is None:
            global _name_count
            name = "seed_generator" if _name_count == 0 else f"seed_generator_{_name_count}"
            _name_count += 1
        self.name = name
        if seed is None:
            seed = _make_default_seed()
        elif isinstance(seed, SeedGenerator) or not isinstance(seed, (int, _np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self._initial_seed = int(seed)
        self.state = _Variable(_np.array([int(seed), 0], dtype="int64"), trainable=False, name="seed_generator_state")

    def next(self, ordered=True):
        """The current seed pair (a copy); advances the state."""
        value = _np.array(_ops.convert_to_tensor(self.state).numpy(), dtype="int64")
        if ordered:
            self.state.assign(value + _np.array([0, 1], dtype="int64"))
        else:
            self.state.assign((value + 1) * 5387 % 933199)
        return _ops.constant(value)

    def get_config(self):
        return {"seed": self._initial_seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name={self.name} seed={self._initial_seed}>"


def _make_default_seed():
    return _py_random.randint(1, int(1e9))


def _global_seed_generator():
    """The ``SeedGenerator`` that ``seed=None`` draws from (made on first use)."""
    global _global_generator
    if _global_generator is None:
        _global_generator = SeedGenerator()
    return _global_generator


def _reset_global_seed_generator():
    global _global_generator
    _global_generator = None


def _draw_seed(seed):
    """The ``[seed, counter]`` pair a call with ``seed=`` uses (Keras's ``draw_seed``)."""
    if isinstance(seed, SeedGenerator):
        return seed.next().numpy()
    if isinstance(seed, (int, _np.integer)):
        return _np.array([int(seed), 0], dtype="int64")
    if seed is None:
        return _global_seed_generator().next().numpy()
    if isinstance(seed, (_Tensor, _Variable)):
        arr = _ops.convert_to_tensor(seed).numpy().astype("int64").reshape(-1)
        if arr.shape == (2,):
            return arr
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )


def _rng(seed):
    if not isinstance(seed, (int, _np.integer)):  # a stream that advances: a replay would repeat it
        _tg_random._stream_used()
    pair = _draw_seed(seed)
    return _np.random.Generator(
        _np.random.PCG64(
            _np.random.SeedSequence([int(v) & 0xFFFFFFFF for v in pair] + [int(v) >> 32 & 0xFFFFFFFF for v in pair])
        )
    )


def _replayed(fn):
    """A draw that a traced tf.function makes again at every call (tapegrad.random._drawn)."""

    @_functools.wraps(fn)
    def wrapper(*args, **kwargs):
        keys, n = list(kwargs), len(args)
        return _tg_random._drawn(lambda *a: fn(*a[:n], **dict(zip(keys, a[n:]))), *args, *kwargs.values())

    return wrapper


def _shape(shape):
    if isinstance(shape, (int, _np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


@_replayed
def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of a normal distribution."""
    d = _dtype(dtype)
    return _ops.constant((_rng(seed).standard_normal(_shape(shape)) * stddev + mean).astype(d))


@_replayed
def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniform in ``[minval, maxval)``."""
    d = _dtype(dtype)
    if not _np.issubdtype(_np.dtype(d), _np.floating):
        raise ValueError(
            "`keras.random.uniform` requires a floating point `dtype`. Received: "
            f"dtype={d} . If you are looking to generate random integers, use `keras.random.randint`."
        )
    return _ops.constant((_rng(seed).random(_shape(shape)) * (maxval - minval) + minval).astype(d))


@_replayed
def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    d = _dtype(dtype)
    rng = _rng(seed)
    n = int(_np.prod(_shape(shape)))
    out = rng.standard_normal(n)
    bad = _np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = _np.abs(out) > 2
    return _ops.constant((out.reshape(_shape(shape)) * stddev + mean).astype(d))


@_replayed
def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers uniform in ``[minval, maxval)``."""
    d = _dtype(dtype, "int32")
    return _ops.constant(_rng(seed).integers(minval, maxval, size=_shape(shape)).astype(d))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class ids per row of ``logits`` (batch, classes)."""
    lg = _ops.convert_to_tensor(logits).numpy().astype("float64")
    if lg.ndim != 2:
        raise ValueError(
            f"`logits` should be a 2-D tensor with shape [batch_size, num_classes]. Received: logits={logits}"
        )
    rng = _rng(seed)
    p = _np.exp(lg - lg.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    out = _np.stack([rng.choice(p.shape[1], size=int(num_samples), p=row) for row in p])
    return _ops.constant(out.astype(_dtype(dtype, "int32")))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with each entry zeroed with probability ``rate`` and the rest scaled by
    ``1 / (1 - rate)``; differentiable in ``inputs``."""
    x = _ops.convert_to_tensor(inputs)
    if not 0 <= rate < 1:
        raise ValueError(
            f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}"
        )
    shape = (
        tuple(x.shape.as_list())
        if noise_shape is None
        else tuple(d if s is None else int(s) for s, d in zip(noise_shape, x.shape.as_list()))
    )

    def mask():  # drawn again at every call of a traced function
        keep = _rng(seed).random(shape) >= rate
        return _ops.constant((keep / (1.0 - rate)).astype(x.dtype.name))

    return x * _tg_random._drawn(lambda rate, seed: mask(), rate, seed)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    t = _ops.convert_to_tensor(x)
    n = t.shape.as_list()[axis]
    perm = _tg_random._drawn(lambda seed: _ops.constant(_rng(seed).permutation(n).astype("int32")), seed)
    return _ops.gather(t, perm, axis=axis)


@_replayed
def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma samples with concentration ``alpha`` (scale 1)."""
    return _ops.constant(_rng(seed).gamma(alpha, size=_shape(shape)).astype(_dtype(dtype)))


@_replayed
def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial samples (as floats by default, as Keras)."""
    return _ops.constant(
        _rng(seed).binomial(_np.asarray(counts), _np.asarray(probabilities), size=_shape(shape)).astype(_dtype(dtype))
    )


@_replayed
def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta samples."""
    return _ops.constant(
        _rng(seed).beta(_np.asarray(alpha), _np.asarray(beta), size=_shape(shape)).astype(_dtype(dtype))
    )
