"""Keras 3 initializers (``tg.keras.initializers``; keras/src/initializers/).

An initializer is called as ``initializer(shape, dtype=None)`` and returns a Tensor (float32 by
default). Seeds follow Keras 3: an integer seed ``s`` draws from the stateless stream ``[s, 0]``,
so the same initializer object returns the same values every call; ``seed=None`` picks a seed
from Python's ``random`` once, at construction (so it too repeats per object, and
``random.seed`` makes it reproducible). The streams are tapegrad's, not TF's Philox: same
distributions, not TF's exact numbers.

>>> import tapegrad as tg
>>> init = tg.keras.initializers.get("glorot_uniform")
>>> w = init((3, 4))
>>> w.shape, bool(tg.reduce_all(tg.abs(w) <= (6 / 7) ** 0.5))
(TensorShape([3, 4]), True)
"""

import math as _math
import random as _py_random
from typing import Optional as _Optional

import numpy as _np

from .. import _ops, _ops_linalg
from .. import random as _random
from .._dtypes import as_dtype as _as_dtype
from .._tensor import Tensor as _Tensor
from .._tensor import Variable as _Variable
from . import _registry

__all__ = [
    "Initializer",
    "Constant",
    "Zeros",
    "Ones",
    "Identity",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunUniform",
    "LecunNormal",
    "Orthogonal",
    "STFT",
    "IdentityInitializer",
    "OrthogonalInitializer",
    "STFTInitializer",
    "compute_fans",
    "get",
    "serialize",
    "RandomInitializer",
    "deserialize",
    "constant",
    "zeros",
    "ones",
    "identity",
    "random_normal",
    "random_uniform",
    "truncated_normal",
    "variance_scaling",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
    "orthogonal",
    "stft",
]

_TRUNCATED_STD = 0.87962566103423978  # std of a unit normal truncated to [-2, 2]


def _dtype(dtype):
    return _as_dtype("float32" if dtype is None else dtype)


def _shape(shape):
    if isinstance(shape, (_Tensor, _Variable)):
        shape = _np.asarray(shape).reshape(-1).tolist()
    elif isinstance(shape, (int, _np.integer)):
        shape = [shape]
    return tuple(int(d) for d in shape)


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``.

    >>> import tapegrad as tg
    >>> class Twos(tg.keras.initializers.Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return tg.fill(shape, 2.0)
    >>> Twos()((2,)).numpy()
    array([2., 2.], dtype=float32)
    """

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class Constant(Initializer):
    """Every entry equal to `value` (a scalar, or an array broadcast to the shape).

    >>> import tapegrad as tg
    >>> tg.keras.initializers.Constant(3.0)((2,)).numpy()
    array([3., 3.], dtype=float32)
    """

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dt = _dtype(dtype)
        value = _ops.cast(_ops.convert_to_tensor(_np.asarray(self.value)), dt)
        return value * _ops.ones(_shape(shape), dt)

    def get_config(self):
        return {"value": _registry.serialize_value(self.value)}

    @classmethod
    def from_config(cls, config):
        return cls(_registry.deserialize_value(config["value"]))


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return _ops.zeros(_shape(shape), _dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return _ops.ones(_shape(shape), _dtype(dtype))


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only).

    >>> import tapegrad as tg
    >>> tg.keras.initializers.Identity(2.0)((2, 3)).numpy()
    array([[2., 0., 0.],
           [0., 2., 0.]], dtype=float32)
    """

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        dt = _dtype(dtype)
        return _ops.constant(self.gain, dtype=dt) * _ops_linalg.eye(shape[0], shape[1], dtype=dt)

    # no get_config: Keras 3.15's Identity config is {} (the gain is not saved)


class RandomInitializer(Initializer):
    """Base of the random initializers: holds the seed (see the module docstring)."""

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        elif isinstance(seed, bool) or not isinstance(seed, (int, _np.integer)):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                f"integer. Received: seed={seed}"
            )
        self.seed = int(seed)

    def _seed(self):
        return [self.seed, 0]

    def get_config(self):
        return {"seed": self._init_seed}


class RandomNormal(RandomInitializer):
    """Normal values with `mean` and `stddev`."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _random.stateless_normal(
            _shape(shape), self._seed(), mean=self.mean, stddev=self.stddev, dtype=_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal values redrawn until within two standard deviations of the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _random.stateless_truncated_normal(
            _shape(shape), self._seed(), mean=self.mean, stddev=self.stddev, dtype=_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform values in ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return _random.stateless_uniform(
            _shape(shape), self._seed(), minval=self.minval, maxval=self.maxval, dtype=_dtype(dtype)
        )

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape; kernels ``(..., in, out)`` multiply by the receptive field.

    >>> import tapegrad as tg
    >>> tg.keras.initializers.compute_fans((3, 3, 8, 16))
    (72, 144)
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return int(_np.prod([shape[a] for a in input_axes])), int(_np.prod([shape[a] for a in output_axes]))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive = int(_np.prod(shape[:-2]))
    return int(shape[-2] * receptive), int(shape[-1] * receptive)


class VarianceScaling(RandomInitializer):
    """Values whose variance is ``scale / n``, n the fan_in, fan_out or their mean (see `mode`)."""

    def __init__(
        self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None, output_axes=None
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed:
            raise ValueError(f"Invalid `distribution` argument: {distribution}.Please use one of {allowed}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        dt = _dtype(dtype)
        if self.distribution == "truncated_normal":
            return _random.stateless_truncated_normal(
                shape, self._seed(), stddev=_math.sqrt(scale) / _TRUNCATED_STD, dtype=dt
            )
        if self.distribution == "untruncated_normal":
            return _random.stateless_normal(shape, self._seed(), stddev=_math.sqrt(scale), dtype=dt)
        limit = _math.sqrt(3.0 * scale)
        return _random.stateless_uniform(shape, self._seed(), minval=-limit, maxval=limit, dtype=dt)

    def get_config(self):
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    _args: _Optional[tuple[float, str, str]] = None  # (scale, mode, distribution)

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        scale, mode, distribution = self._args
        super().__init__(
            scale=scale, mode=mode, distribution=distribution, seed=seed, input_axes=input_axes, output_axes=output_axes
        )

    def get_config(self):
        return {"seed": self._init_seed, "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(6 / (fan_in + fan_out))`` (Keras's default kernel initializer)."""

    _args = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(2 / (fan_in + fan_out)) / 0.8796...``."""

    _args = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(6 / fan_in)``."""

    _args = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(2 / fan_in) / 0.8796...``."""

    _args = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """Uniform in ``±sqrt(3 / fan_in)``."""

    _args = (1.0, "fan_in", "uniform")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal, stddev ``sqrt(1 / fan_in) / 0.8796...``."""

    _args = (1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """An orthogonal matrix (rows or columns orthonormal) times `gain`, from the QR of a normal draw;
    shapes of rank > 2 are flattened to ``(prod(shape[:-1]), shape[-1])``.

    >>> import tapegrad as tg
    >>> q = tg.keras.initializers.Orthogonal(seed=1)((3, 3)).numpy()
    >>> bool(abs(q @ q.T - tg.eye(3).numpy()).max() < 1e-5)
    True
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. Received: "
                f"shape={shape} of rank {len(shape)}."
            )
        num_rows = int(_np.prod(shape[:-1]))
        num_cols = shape[-1]
        dt = _dtype(dtype)
        a = _random.stateless_normal((max(num_rows, num_cols), min(num_rows, num_cols)), self._seed(), dtype=dt)
        q, r = _ops_linalg.qr(a)
        q = q * _ops.sign(_ops_linalg.diag_part(r))
        if num_rows < num_cols:
            q = _ops.transpose(q)
        return _ops.constant(self.gain, dtype=dt) * _ops.reshape(q, list(shape))

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


class STFT(Initializer):
    """Kernels of a short-time Fourier transform for a conv over frames: shape
    ``(frame_length, input_channels, fft_length)``, the real (cos) or imaginary (sin) part of the
    DFT basis at ``fft_length`` frequencies, times a window (a scipy.signal window name or an
    array) scaled by 'density' (its L2 norm) or 'spectrum' (its sum).

    >>> import tapegrad as tg
    >>> tg.keras.initializers.STFT(window=None, scaling=None)((4, 1, 3)).numpy()[:, 0, 0]
    array([1., 1., 1., 1.], dtype=float32)
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _get_window(window, 1, False)
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError(
                f"Scaling is invalid, it must be `None`, 'density' or 'spectrum'. Received scaling={scaling}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        dt = _dtype(dtype)
        npd = dt.as_numpy_dtype
        frame_length, _, fft_length = _shape(shape)
        win, scaling = None, npd(1)
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                win = _get_window(win, frame_length, self.periodic)
            win = _np.asarray(win, dtype=npd)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError(
                    f"The shape of `window` must be equal to [frame_length].Received: window shape={win.shape}"
                )
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = _np.sqrt(_np.sum(_np.square(win)))
            elif self.scaling == "spectrum":
                scaling = _np.sum(_np.abs(win))
        freq = _np.arange(fft_length, dtype=npd).reshape(1, 1, fft_length) / npd((fft_length - 1) * 2)
        time = _np.arange(frame_length, dtype=npd).reshape(frame_length, 1, 1)
        args = (npd(-2) * time) * freq * _np.arccos(npd(-1))
        kernel = (_np.cos(args) if self.side == "real" else _np.sin(args)).astype(npd)
        if win is not None:
            kernel = (kernel * win) / scaling
        return _ops.constant(kernel.astype(npd), dtype=dt)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


# The generalized cosine windows (scipy.signal's definitions) need no scipy.
_COSINE_WINDOWS = {
    "hann": (0.5, 0.5),
    "hanning": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "boxcar": (1.0, 0.0),
    "rectangular": (1.0, 0.0),
    "ones": (1.0, 0.0),
}


def _get_window(name, length, periodic):
    if isinstance(name, str) and name.lower() in _COSINE_WINDOWS:
        a0, a1 = _COSINE_WINDOWS[name.lower()]
        if length == 1:
            return _np.ones(1)
        n = length + 1 if periodic else length  # a periodic window is the symmetric one of length+1, cut
        w = a0 - a1 * _np.cos(2.0 * _np.pi * _np.arange(n) / (n - 1))
        return w[:length]
    try:
        from scipy.signal import get_window  # noqa: PLC0415  (Keras uses scipy for windows too)
    except ImportError as e:
        raise NotImplementedError(
            f"STFT with the window {name!r} needs scipy (scipy.signal.get_window); the hann, "
            "hamming and boxcar windows do not, and an array works too"
        ) from e
    return get_window(name, length, periodic)


IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT

_CLASSES = (
    Initializer,
    Constant,
    Identity,
    Ones,
    STFT,
    Zeros,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
_BY_NAME = _registry.name_table(
    _CLASSES,
    {
        "IdentityInitializer": Identity,
        "normal": RandomNormal,
        "one": Ones,
        "OrthogonalInitializer": Orthogonal,
        "uniform": RandomUniform,
        "zero": Zeros,
        "STFTInitializer": STFT,
    },
)
# snake_case names as module attributes (keras.initializers.glorot_uniform is the class)
constant, zeros, ones, identity = Constant, Zeros, Ones, Identity
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, stft = VarianceScaling, Orthogonal, STFT
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal = LecunUniform, LecunNormal


def serialize(initializer):
    """``{"module", "class_name", "config", "registered_name"}`` for an initializer.

    >>> import tapegrad as tg
    >>> tg.keras.initializers.serialize(tg.keras.initializers.Constant(2.0))["config"]
    {'value': 2.0}
    """
    return _registry.serialize_object(initializer, "keras.initializers", _BY_NAME)


def deserialize(config, custom_objects=None):
    """An initializer from a config dict or a name."""
    return _registry.deserialize_object(config, _BY_NAME, "initializer", custom_objects)


def get(identifier):
    """An initializer from None (-> None), a name (class or snake_case name, aliases ``normal``,
    ``uniform``, ``zero``, ``one``), a config dict, a class, a callable, or a tensor/array (used as
    the value; the shape must match)."""
    if identifier is None:
        return None
    if isinstance(identifier, str):
        obj = _BY_NAME.get(identifier)
        if obj is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return obj()
    if isinstance(identifier, (_Tensor, _Variable, _np.ndarray, _np.generic)):
        value = identifier

        def initialize_fn(shape, dtype=None):
            if _shape(shape) != tuple(_np.shape(value)):
                raise ValueError(
                    f"Expected `shape` to be {tuple(_np.shape(value))} for direct tensor as "
                    f"initializer. Received shape={_shape(shape)}"
                )
            return _ops.cast(_ops.convert_to_tensor(_np.asarray(value)), _dtype(dtype))

        return initialize_fn
    return _registry.get_object(identifier, _BY_NAME, "initializer")
