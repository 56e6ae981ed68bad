"""Keras 3's reshaping layers (keras/src/layers/reshaping/*.py): ``Flatten``, ``Reshape``,
``Permute``, ``RepeatVector``, ``ZeroPadding1D/2D/3D``, ``Cropping1D/2D/3D``, ``UpSampling1D/2D/3D``.

>>> import tapegrad as tg
>>> tg.keras.layers.Reshape((-1, 2))(tg.zeros([3, 4, 2, 2])).shape
TensorShape([3, 8, 2])
"""

import math
from typing import Optional

import numpy as np

from ... import _ops, _ops_shape
from ..._tensor import _static_shape
from .. import backend
from .base import InputSpec, Layer

__all__ = [
    "Flatten",
    "Reshape",
    "Permute",
    "RepeatVector",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "ZeroPadding3D",
    "Cropping1D",
    "Cropping2D",
    "Cropping3D",
    "UpSampling1D",
    "UpSampling2D",
    "UpSampling3D",
]


# ---- argument helpers (Keras's backend.standardize_data_format, argument_validation.standardize_tuple) --


def standardize_data_format(data_format):
    """``None`` -> the image data format (``"channels_last"``); else one of the two, lower-cased."""
    if data_format is None:
        return backend.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or n ints -> a tuple of n ints, with Keras's errors for other values."""
    error_msg = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int):
        value_tuple = (value,) * n
    else:
        try:
            value_tuple = tuple(value)
        except TypeError:
            raise ValueError(error_msg) from None
        if len(value_tuple) != n:
            raise ValueError(error_msg)
        for single_value in value_tuple:
            try:
                int(single_value)
            except (ValueError, TypeError):
                error_msg += f"including element {single_value} of type {type(single_value)}"
                raise ValueError(error_msg) from None
    if allow_zero:
        bad, req = {v for v in value_tuple if v < 0}, ">= 0"
    else:
        bad, req = {v for v in value_tuple if v <= 0}, "> 0"
    if bad:
        raise ValueError(error_msg + f", including values {bad} that do not satisfy `value {req}`")
    return value_tuple


def _pairs(value, n, what, verb):
    """ZeroPadding/Cropping's ``int | n ints | n pairs`` -> n pairs, with Keras's messages."""
    ordinals = ["1st", "2nd", "3rd"]
    if isinstance(value, int):
        if verb == "cropping" and value < 0:
            raise ValueError(f"`cropping` cannot be negative. Received: cropping={value}.")
        return tuple((value, value) for _ in range(n))
    if hasattr(value, "__len__"):
        if len(value) != n:
            if n == 2:
                raise ValueError(f"`{verb}` should have two elements. Received: {verb}={value}.")
            raise ValueError(f"`{verb}` should have {n} elements. Received: {value}.")
        return tuple(
            standardize_tuple(v, 2, f"{ordinals[i]} entry of {verb}", allow_zero=True) for i, v in enumerate(value)
        )
    raise ValueError(
        f"`{verb}` should be either an int, a tuple of {n} ints, or a tuple of {n} tuples of 2 ints. "
        f"Received: {verb}={value}."
    )


def _spatial_axes(data_format, n):
    return list(range(2, 2 + n)) if data_format == "channels_first" else list(range(1, 1 + n))


# ---- Flatten, Reshape, Permute, RepeatVector --------------------------------------------------------


class Flatten(Layer):
    """Flattens every dimension but the batch one (``tf.keras.layers.Flatten``); with
    ``data_format="channels_first"`` the channels axis is moved last first, as Keras.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Flatten()(tg.zeros([2, 3, 4])).shape
    TensorShape([2, 12])
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        rank = inputs.ndim
        if self._channels_first and rank > 1:
            inputs = _ops.transpose(inputs, [0, *range(2, rank), 1])
        shape = tuple(_static_shape(inputs))
        flattened_dim = 1 if rank == 1 else math.prod(shape[1:]) if None not in shape[1:] else -1
        if shape[0] is None:  # a batch size that varies between calls (See Note [Polymorphic traces])
            if flattened_dim > 0:
                return _ops.reshape(inputs, [-1, flattened_dim])
            return _ops.reshape(inputs, [_ops.shape(inputs)[0], -1])
        return _ops.reshape(inputs, [shape[0], flattened_dim])

    def compute_output_shape(self, input_shape):
        non_batch_dims = tuple(input_shape)[1:]
        if len(non_batch_dims) == 0:
            flattened_dim = 1
        elif any(d is None for d in non_batch_dims):
            flattened_dim = None
        else:
            flattened_dim = math.prod(non_batch_dims)
        return (input_shape[0], flattened_dim)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


def _validate_reshape_shape(newshape, name):
    neg_one_count = 0
    for dim in newshape:
        if not isinstance(dim, (int, np.integer)):
            continue
        if dim < -1:
            raise ValueError(
                f"Each dimension in `{name}` must be a non-negative integer, or `-1` for a single "
                f"unknown dimension. Received: {name}={newshape}."
            )
        if dim == -1:
            neg_one_count += 1
    if neg_one_count > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in `{name}`. Received: {name}={newshape}.")


def _reshape_output_shape(input_shape, newshape, name):
    """``newshape`` with its -1 resolved from ``input_shape`` (None where unknown); Keras's errors."""
    _validate_reshape_shape(newshape, name)
    newshape = tuple(int(d) if isinstance(d, (int, np.integer)) else None for d in newshape)
    if None in input_shape or None in newshape:
        return tuple(d if d != -1 else None for d in newshape)
    input_size = math.prod(input_shape)
    if -1 not in newshape:
        if input_size != math.prod(newshape):
            raise ValueError(
                f"The total size of the tensor must be unchanged. Received: input_shape={input_shape}, "
                f"{name}={newshape}"
            )
        return newshape
    known = math.prod(d for d in newshape if d != -1)
    if known == 0 or input_size % known != 0:
        raise ValueError(
            "The total size of the tensor must be unchanged, however, the input size cannot by divided "
            f"by the specified dimensions in {name}. Received: input_shape={input_shape}, {name}={newshape}"
        )
    return tuple(input_size // known if d == -1 else d for d in newshape)


class Reshape(Layer):
    """Reshapes the non-batch dimensions to ``target_shape`` (one entry may be -1) (``tf.keras.layers.Reshape``)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(target_shape)
        _validate_reshape_shape(target_shape, "target_shape")
        self.target_shape = target_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *_reshape_output_shape(tuple(input_shape)[1:], self.target_shape, "target_shape"))

    def call(self, inputs):
        shape = tuple(inputs.shape)
        target = _reshape_output_shape(shape[1:], self.target_shape, "target_shape")
        return _ops.reshape(inputs, [shape[0], *target])

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch dimensions: ``dims`` is a permutation of ``1..rank-1`` (``tf.keras.layers.Permute``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.Permute((2, 1))(tg.zeros([4, 3, 5])).shape
    TensorShape([4, 5, 3])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices in `dims` must "
                f"be consecutive and start from 1. Received dims={dims}"
            )
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return tuple([input_shape[0]] + [input_shape[d] for d in self.dims])

    def call(self, inputs):
        return _ops.transpose(inputs, [0, *self.dims])

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)`` (``tf.keras.layers.RepeatVector``)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        b, f = tuple(inputs.shape)
        return _ops_shape.repeat(_ops.reshape(inputs, [b, 1, f]), self.n, axis=1)

    def get_config(self):
        return {**super().get_config(), "n": self.n}


# ---- ZeroPadding ----------------------------------------------------------------------------------


class _ZeroPadding(Layer):
    _rank: Optional[int] = None

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        for index, axis in enumerate(_spatial_axes(self.data_format, self._rank)):
            if output_shape[axis] is not None:
                output_shape[axis] += self.padding[index][0] + self.padding[index][1]
        return tuple(output_shape)

    def call(self, inputs):
        paddings = [[0, 0] for _ in range(inputs.ndim)]
        for index, axis in enumerate(_spatial_axes(self.data_format, self._rank)):
            paddings[axis] = list(self.padding[index])
        return _ops_shape.pad(inputs, paddings)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Pads the time axis of ``(batch, steps, features)`` with zeros (``tf.keras.layers.ZeroPadding1D``);
    ``padding`` is an int or ``(left, right)``."""

    _rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = standardize_tuple(padding, 2, "padding", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        axis = 2 if self.data_format == "channels_first" else 1
        if output_shape[axis] is not None:
            output_shape[axis] += self.padding[0] + self.padding[1]
        return tuple(output_shape)

    def call(self, inputs):
        paddings = [[0, 0], [0, 0], [0, 0]]
        paddings[2 if self.data_format == "channels_first" else 1] = list(self.padding)
        return _ops_shape.pad(inputs, paddings)


class ZeroPadding2D(_ZeroPadding):
    """Pads rows and columns of an image batch with zeros (``tf.keras.layers.ZeroPadding2D``);
    ``padding`` is an int, ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``.

    >>> import tapegrad as tg
    >>> tg.keras.layers.ZeroPadding2D(((1, 0), (2, 1)))(tg.zeros([1, 2, 2, 3])).shape
    TensorShape([1, 3, 5, 3])
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs(padding, 2, "padding", "padding")
        self.input_spec = InputSpec(ndim=4)


class ZeroPadding3D(_ZeroPadding):
    """Pads the three spatial axes of a volume batch with zeros (``tf.keras.layers.ZeroPadding3D``)."""

    _rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs(padding, 3, "padding", "padding")
        self.input_spec = InputSpec(ndim=5)


# ---- Cropping -------------------------------------------------------------------------------------


class _Cropping(Layer):
    _rank: Optional[int] = None

    def _cropped_dims(self, shape, what):
        dims = [shape[a] for a in _spatial_axes(self.data_format, self._rank)]
        out = []
        for index, d in enumerate(dims):
            if d is None:
                out.append(None)
                continue
            d -= sum(self.cropping[index])
            if d <= 0:
                raise ValueError(
                    "Values in `cropping` argument should be smaller than the corresponding spatial "
                    f"dimension of the input. Received: {what}={tuple(shape)}, cropping={self.cropping}"
                )
            out.append(d)
        return out

    def compute_output_shape(self, input_shape):
        dims = self._cropped_dims(tuple(input_shape), "input_shape")
        out = list(input_shape)
        for axis, d in zip(_spatial_axes(self.data_format, self._rank), dims):
            out[axis] = d
        return tuple(out)

    def call(self, inputs):
        self._cropped_dims(tuple(inputs.shape), "inputs.shape")
        index = [slice(None)] * inputs.ndim
        for i, axis in enumerate(_spatial_axes(self.data_format, self._rank)):
            lo, hi = self.cropping[i]
            index[axis] = slice(lo, -hi if hi else None)
        return inputs[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Crops ``(start, end)`` steps off the time axis of ``(batch, steps, features)`` (``tf.keras.layers.Cropping1D``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.Cropping1D((1, 2))(tg.zeros([2, 6, 3])).shape
    TensorShape([2, 3, 3])
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = standardize_tuple(cropping, 2, "cropping", allow_zero=True)
        self.data_format = "channels_last"
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        if input_shape[1] is not None:
            length = input_shape[1] - self.cropping[0] - self.cropping[1]
            if length <= 0:
                raise ValueError(
                    "`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                    f"Received: input_shape={tuple(input_shape)}, cropping={self.cropping}"
                )
        else:
            length = None
        return (input_shape[0], length, input_shape[2])

    def call(self, inputs):
        if sum(self.cropping) >= inputs.shape[1]:
            raise ValueError(
                "`cropping` parameter of `Cropping1D` layer must be smaller than the input length. "
                f"Received: inputs.shape={tuple(inputs.shape)}, cropping={self.cropping}"
            )
        lo, hi = self.cropping
        return inputs[:, lo : (-hi if hi else None), :]

    def get_config(self):
        config = super().get_config()
        config.pop("data_format")
        return config


class Cropping2D(_Cropping):
    """Crops rows and columns of an image batch (``tf.keras.layers.Cropping2D``); ``cropping`` is an
    int, ``(sym_h, sym_w)`` or ``((top, bottom), (left, right))``."""

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _pairs(cropping, 2, "cropping", "cropping")
        self.input_spec = InputSpec(ndim=4)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of a volume batch (``tf.keras.layers.Cropping3D``)."""

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _pairs(cropping, 3, "cropping", "cropping")
        self.input_spec = InputSpec(ndim=5)


# ---- UpSampling -----------------------------------------------------------------------------------


class UpSampling1D(Layer):
    """Repeats each time step ``size`` times (``tf.keras.layers.UpSampling1D``)."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def compute_output_shape(self, input_shape):
        size = self.size * input_shape[1] if input_shape[1] is not None else None
        return (input_shape[0], size, input_shape[2])

    def call(self, inputs):
        return _ops_shape.repeat(inputs, self.size, axis=1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def _bilinear_axis(x, axis, out_size):
    """Resizes ``axis`` of x to ``out_size`` by linear interpolation with half-pixel centres
    (``tf.image.resize(..., "bilinear")``, i.e. ResizeBilinear with half_pixel_centers=True)."""
    in_size = int(x.shape[axis])
    f32 = np.float32  # TF computes coordinates and weights in float32, also for float64 images
    scale = f32(in_size) / f32(out_size)
    pos = (np.arange(out_size, dtype=f32) + f32(0.5)) * scale - f32(0.5)
    floor = np.floor(pos)
    lower = np.maximum(floor, 0).astype(np.int32)
    upper = np.minimum(np.ceil(pos), in_size - 1).astype(np.int32)
    lerp = (pos - floor).astype(x.dtype.as_numpy_dtype)
    shape = [1] * x.ndim
    shape[axis] = out_size
    w = _ops.constant(lerp.reshape(shape))
    lo = _ops_shape.gather(x, _ops.constant(lower), axis=axis)
    hi = _ops_shape.gather(x, _ops.constant(upper), axis=axis)
    return lo + (hi - lo) * w


class UpSampling2D(Layer):
    """Upsamples rows and columns by ``size`` (``tf.keras.layers.UpSampling2D``): ``"nearest"``
    repeats pixels; ``"bilinear"`` interpolates as ``tf.image.resize``.

    >>> import tapegrad as tg
    >>> tg.keras.layers.UpSampling2D(2)(tg.reshape(tg.range(4.0), [1, 2, 2, 1]))[0, :, :, 0].numpy()
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = interpolation.lower()
        if self.interpolation not in ("nearest", "bilinear"):
            raise NotImplementedError(
                f"UpSampling2D: interpolation='{interpolation}' is not supported by tapegrad "
                "(supported: 'nearest', 'bilinear')"
            )
        self.input_spec = InputSpec(ndim=4)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for s, axis in zip(self.size, _spatial_axes(self.data_format, 2)):
            out[axis] = s * out[axis] if out[axis] is not None else None
        return tuple(out)

    def call(self, inputs):
        x = inputs
        if self.data_format == "channels_first":
            x = _ops.transpose(x, [0, 2, 3, 1])
        if self.interpolation == "nearest":
            x = _ops_shape.repeat(x, self.size[0], axis=1)
            x = _ops_shape.repeat(x, self.size[1], axis=2)
        else:
            x = _bilinear_axis(x, 1, int(x.shape[1]) * self.size[0])
            x = _bilinear_axis(x, 2, int(x.shape[2]) * self.size[1])
        if self.data_format == "channels_first":
            x = _ops.transpose(x, [0, 3, 1, 2])
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "data_format": self.data_format,
            "interpolation": self.interpolation,
        }


class UpSampling3D(Layer):
    """Repeats each voxel ``size`` times along the three spatial axes (``tf.keras.layers.UpSampling3D``)."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 3, "size")
        self.input_spec = InputSpec(ndim=5)

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for s, axis in zip(self.size, _spatial_axes(self.data_format, 3)):
            out[axis] = s * out[axis] if out[axis] is not None else None
        return tuple(out)

    def call(self, inputs):
        x = inputs
        for s, axis in zip(self.size, _spatial_axes(self.data_format, 3)):
            x = _ops_shape.repeat(x, s, axis=axis)
        return x

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}
