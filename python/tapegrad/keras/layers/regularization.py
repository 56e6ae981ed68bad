"""Keras 3's regularization layers (keras/src/layers/regularization/*.py): ``Dropout``,
``SpatialDropout1D/2D/3D``, ``GaussianNoise``, ``GaussianDropout``, ``AlphaDropout``,
``ActivityRegularization``.

The random layers act only when called with ``training=True`` (directly or through an outer
layer/model call); otherwise they return their input. A layer built with an int ``seed`` draws
from its own generator (Keras's ``SeedGenerator``): the same seed gives the same sequence of
masks, and each call continues that sequence. Without a seed the draws follow ``tg.random``'s
global seed rules. The numbers are numpy's, not TensorFlow's (See tg.random).

>>> import tapegrad as tg
>>> layer = tg.keras.layers.Dropout(0.5, seed=1)
>>> layer(tg.ones([2, 2])).numpy()  # inference: identity
array([[1., 1.],
       [1., 1.]], dtype=float32)
>>> sorted(set(layer(tg.ones([100]), training=True).numpy().tolist()))
[0.0, 2.0]
"""

import math
from typing import Optional

import numpy as np

from ... import _ops, _ops_shape
from ... import random as _random
from .. import regularizers
from .base import InputSpec, Layer
from .reshaping import standardize_data_format

__all__ = [
    "Dropout",
    "SpatialDropout1D",
    "SpatialDropout2D",
    "SpatialDropout3D",
    "GaussianNoise",
    "GaussianDropout",
    "AlphaDropout",
    "ActivityRegularization",
]


class _SeedGenerator:
    """A layer's random stream: its own generator for an int seed, else tg.random's global rules."""

    def __init__(self, seed):
        self.seed = seed
        self._gen = _random.Generator.from_seed(seed) if seed is not None else None

    def uniform_np(self, shape, np_dtype):
        """Uniform [0, 1) numpy values (a dropout mask is built in numpy, then one multiply)."""
        if self._gen is not None:
            return self._gen._rng.random(size=tuple(shape), dtype=np_dtype)
        return _random._uniform_np(shape, np_dtype, None)

    def normal(self, shape, mean, stddev, dtype):
        if self._gen is not None:
            return self._gen.normal(shape, mean=mean, stddev=stddev, dtype=dtype)
        return _random.normal(shape, mean=mean, stddev=stddev, dtype=dtype)


def _check_rate(rate):
    if not 0 <= rate <= 1:
        raise ValueError(
            f"Invalid value received for argument `rate`. Expected a float value between 0 and 1. Received: rate={rate}"
        )


def _concrete_noise_shape(inputs, noise_shape):
    # a size that varies between calls is a scalar tensor (See Note [Polymorphic traces])
    shape = list(_ops_shape._shape(inputs))
    if noise_shape is None:
        return shape
    return [shape[i] if d is None else int(d) for i, d in enumerate(noise_shape)]


def _dropout(inputs, rate, noise_shape, seed_generator):
    """Inverted dropout as Keras's TF backend (``stateless_dropout``): keep where ``u >= rate``,
    scale kept entries by ``1 / (1 - rate)``; ``rate == 1`` gives zeros."""
    if rate == 1.0:
        return _ops.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    np_dtype = inputs.dtype.as_numpy_dtype
    scale = np_dtype(1.0) / (np_dtype(1.0) - np_dtype(rate))

    def mask(shape):  # drawn again at every call of a traced function, on its shape
        u = seed_generator.uniform_np(_ops._shape_list(shape), np_dtype)
        return _ops.constant(np.where(u >= np_dtype(rate), scale, np_dtype(0.0)).astype(np_dtype))

    return inputs * _random._drawn(mask, noise_shape, shape_of=_random._shape_of)


class _NoiseLayer(Layer):
    """Dropout/GaussianNoise/GaussianDropout/AlphaDropout: a random stream from ``seed`` (made only
    when the layer ever draws), masks pass through, the shape is unchanged."""

    def _init_noise(self, seed, draws):
        self.seed = seed
        if draws:
            self.seed_generator = _SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return input_shape


class Dropout(_NoiseLayer):
    """Sets input entries to 0 with probability ``rate`` during training and scales the rest by
    ``1 / (1 - rate)`` (``tf.keras.layers.Dropout``). ``noise_shape`` (None entries take the
    input's size) shares one draw along its size-1 axes."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.noise_shape = self._validate_noise_shape(noise_shape)
        self._init_noise(seed, rate > 0)

    def _validate_noise_shape(self, noise_shape):
        if noise_shape is None:
            return None
        if isinstance(noise_shape, str):
            raise ValueError(
                "Invalid value received for argument `noise_shape`. Expected a tuple or list of integers. "
                f"Received: noise_shape={noise_shape}"
            )
        if not isinstance(noise_shape, tuple):
            try:
                noise_shape = tuple(noise_shape)
            except TypeError:
                raise ValueError(
                    "Invalid value received for argument `noise_shape`. Expected an iterable of "
                    f"integers (e.g., a tuple or list). Received: noise_shape={noise_shape}"
                ) from None
        for i, dim in enumerate(noise_shape):
            if dim is not None:
                if not isinstance(dim, int):
                    raise ValueError(
                        "Invalid value received for argument `noise_shape`. Expected all elements to be "
                        f"integers or None. Received element at index {i}: {dim} "
                        f"(type: {type(dim).__name__})"
                    )
                if dim <= 0:
                    raise ValueError(
                        "Invalid value received for argument `noise_shape`. Expected all dimensions to be "
                        f"positive integers or None. Received negative or zero value at index {i}: {dim}"
                    )
        return noise_shape

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return _dropout(inputs, self.rate, _concrete_noise_shape(inputs, self.noise_shape), self.seed_generator)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per (batch, channel)."""

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return _dropout(inputs, self.rate, self._get_noise_shape(inputs), self.seed_generator)
        return inputs

    def _get_noise_shape(self, inputs):
        shape = [int(d) for d in inputs.shape]
        channel_axis = 1 if getattr(self, "data_format", "channels_last") == "channels_first" else len(shape) - 1
        return [shape[0]] + [shape[i] if i == channel_axis else 1 for i in range(1, len(shape))]

    def get_config(self):
        # Keras's spatial dropouts report exactly these keys (no `trainable`, dtype as a name)
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype.name}


class SpatialDropout1D(_SpatialDropout):
    """Drops entire 1-D feature maps of ``(batch, steps, channels)`` inputs (``tf.keras.layers.SpatialDropout1D``)."""

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=3)


class _SpatialDropoutWithFormat(_SpatialDropout):
    """SpatialDropout2D/3D: inputs of rank ``_ndim`` in ``data_format``."""

    _ndim: Optional[int] = None

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._ndim)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout2D(_SpatialDropoutWithFormat):
    """Drops entire 2-D feature maps (one draw per batch element and channel) (``tf.keras.layers.SpatialDropout2D``)."""

    _ndim = 4


class SpatialDropout3D(_SpatialDropoutWithFormat):
    """Drops entire 3-D feature maps (``tf.keras.layers.SpatialDropout3D``)."""

    _ndim = 5


class GaussianNoise(_NoiseLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` during training (``tf.keras.layers.GaussianNoise``)."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError(
                "Invalid value received for argument `stddev`. Expected a float value between 0 and 1. "
                f"Received: stddev={stddev}"
            )
        self.stddev = stddev
        self._init_noise(seed, stddev > 0)

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            return inputs + self.seed_generator.normal([int(d) for d in inputs.shape], 0.0, self.stddev, inputs.dtype)
        return inputs

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_NoiseLayer):
    """Multiplies by Gaussian noise of mean 1 and standard deviation ``sqrt(rate / (1 - rate))``
    during training (``tf.keras.layers.GaussianDropout``)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self._init_noise(seed, rate > 0)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            return inputs * self.seed_generator.normal([int(d) for d in inputs.shape], 1.0, stddev, inputs.dtype)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU's self-normalizing mean and variance (``tf.keras.layers.AlphaDropout``):
    dropped entries take SELU's negative saturation value, then an affine map restores the moments."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.noise_shape = noise_shape
        self._init_noise(seed, rate > 0)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            alpha = 1.6732632423543772
            scale = 1.0507009873554805
            alpha_p = -alpha * scale
            np_dtype = inputs.dtype.as_numpy_dtype
            u = self.seed_generator.uniform_np(_concrete_noise_shape(inputs, self.noise_shape), np_dtype)
            kept = (u >= np_dtype(self.rate)).astype(np_dtype)
            a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
            b = -a * alpha_p * self.rate
            # a * (x * kept + alpha_p * (1 - kept)) + b, with the constant parts folded in numpy
            slope = (np_dtype(a) * kept).astype(np_dtype)
            shift = (np_dtype(a) * np_dtype(alpha_p) * (1 - kept) + np_dtype(b)).astype(np_dtype)
            return inputs * _ops.constant(slope) + _ops.constant(shift)
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x**2)`` of its output, divided by the batch
    size, to ``losses`` (``tf.keras.layers.ActivityRegularization``)."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
