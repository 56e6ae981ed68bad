"""Keras 3's numeric and image-size preprocessing layers: ``Rescaling``, ``Normalization``,
``Resizing``, ``CenterCrop`` (keras/src/layers/preprocessing/{rescaling,normalization}.py and
image_preprocessing/{resizing,center_crop}.py).

>>> import numpy as np
>>> import tapegrad as tg
>>> norm = tg.keras.layers.Normalization()
>>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
>>> norm(np.array([[1.0, 20.0]])).numpy()
array([[0., 0.]], dtype=float32)
"""

import itertools
import math

import numpy as np

from ... import _ops, _ops_math, _ops_shape
from ..._tensor import Tensor, Variable
from .. import backend
from .base import Layer
from .reshaping import _bilinear_axis, standardize_data_format

__all__ = ["Rescaling", "Normalization", "Resizing", "CenterCrop"]


def _serialize_value(value):
    """Keras's ``serialize_keras_object`` for plain values: numpy arrays as ``__numpy__`` dicts."""
    if isinstance(value, (Tensor, Variable)):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def _to_compute(inputs, dtype):
    x = inputs if isinstance(inputs, Tensor) else _ops.convert_to_tensor(np.asarray(inputs))
    return x if x.dtype == dtype else _ops.cast(x, dtype)


class Rescaling(Layer):
    """``inputs * scale + offset`` in the layer's dtype (``tf.keras.layers.Rescaling``); ``scale``
    and ``offset`` may be scalars or per-channel arrays.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Rescaling(1.0 / 255)(tg.constant([[0, 255]])).numpy()
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        dtype = self.compute_dtype
        scale = _to_compute(self.scale, dtype)
        offset = _to_compute(self.offset, dtype)
        if scale.ndim > 0 and backend.image_data_format() == "channels_first":
            scale = _ops.reshape(scale, list(scale.shape) + [1] * (3 - scale.ndim))
        return _to_compute(inputs, dtype) * scale + offset

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "scale": _serialize_value(self.scale), "offset": _serialize_value(self.offset)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["scale"] = _deserialize_value(config["scale"])
        config["offset"] = _deserialize_value(config["offset"])
        return super().from_config(config)


def _extract_batch(batch):
    return batch[0] if isinstance(batch, tuple) else batch


class Normalization(Layer):
    """Standardizes features: ``(x - mean) / max(sqrt(variance), 1e-7)`` (``tf.keras.layers.Normalization``),
    or the inverse with ``invert=True``.

    ``axis`` names the axes that keep their own statistics (default the last; ``None`` for one
    scalar mean and variance). The statistics come from ``mean=``/``variance=`` or from
    ``adapt(data)``, where ``data`` is a numpy array, a tensor, or an iterable of batches (a
    ``tg.data.Dataset``, a list, a generator; ``(x, y)`` tuples use ``x``); batches are merged
    with the parallel mean/variance update, as Keras does.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.supports_masking = True
        self._build_input_shape = None
        self.mean = None
        if (mean is not None) != (variance is not None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean} and variance={variance}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same shape. "
                    f"Received: mean shape {np.shape(mean)} and variance shape {np.shape(variance)}"
                )
            if len(np.shape(mean)) > len(self.axis):
                raise ValueError(
                    f"The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(self.axis)}). Received: mean shape {np.shape(mean)} for axis {self.axis}"
                )

    def build(self, input_shape):
        if input_shape is None:
            return
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        ndim = len(input_shape)
        self._build_input_shape = input_shape
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={ndim}, while axis={self.axis}"
            )
        self._keep_axis = tuple(sorted(d if d >= 0 else d + ndim for d in self.axis))
        for d in self._keep_axis:
            if input_shape[d] is None:
                raise ValueError(
                    f"All `axis` values to be kept must have a known shape. Received axis={self.axis}, "
                    f"inputs.shape={input_shape}, with unknown axis at index {d}"
                )
        self._reduce_axis = tuple(d for d in range(ndim) if d not in self._keep_axis)
        self._broadcast_shape = [input_shape[d] if d in self._keep_axis else 1 for d in range(ndim)]
        self._mean_and_var_shape = tuple(input_shape[d] for d in self._keep_axis)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                name="mean", shape=self._mean_and_var_shape, initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                name="variance", shape=self._mean_and_var_shape, initializer="ones", trainable=False
            )
            self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros", trainable=False)
            self.built = True
            self.finalize_state()
        else:
            mean = np.asarray(self.input_mean, dtype=np.float64)
            variance = np.asarray(self.input_variance, dtype=np.float64)
            if mean.ndim > 0:
                expanded = [1] * ndim
                for i in range(1, mean.ndim + 1):
                    expanded[self._keep_axis[-i]] = mean.shape[-i]
                mean = mean.reshape(expanded)
                variance = variance.reshape(expanded)
            np_dtype = self.compute_dtype.as_numpy_dtype
            self.mean = _ops.constant(np.broadcast_to(mean, self._broadcast_shape).astype(np_dtype))
            self.variance = _ops.constant(np.broadcast_to(variance, self._broadcast_shape).astype(np_dtype))
            self.built = True

    def adapt(self, data):
        """Computes the mean and variance of ``data`` over the non-kept axes and stores them."""
        if isinstance(data, (np.ndarray, Tensor, Variable)):
            input_shape = tuple(data.shape)
        elif hasattr(data, "__iter__"):
            spec = getattr(data, "element_spec", None)
            if spec is not None and hasattr(data, "batch"):
                x_spec = spec[0] if isinstance(spec, tuple) else spec
                if len(tuple(x_spec.shape)) == 1:
                    data = data.batch(128)
            data_iter = iter(data)
            first_batch = next(data_iter, None)
            if first_batch is None:
                raise ValueError(
                    "adapt() received an empty iterable (no batches). Expected at least one batch. Pass a "
                    "non-empty iterable of arrays or tensors, e.g. layer.adapt([x]) or "
                    "layer.adapt(list_of_batches)."
                )
            first_batch = _extract_batch(first_batch)
            input_shape = getattr(first_batch, "shape", None)
            if input_shape is None:
                raise TypeError(
                    "adapt() expects an iterable that yields arrays or tensors with a `.shape` attribute "
                    "(e.g. numpy arrays or backend tensors). Got an element of type "
                    f"{type(first_batch).__name__}. Ensure each yielded element is array-like with a "
                    "`.shape` attribute."
                )
            input_shape = tuple(input_shape)
            data = itertools.chain([first_batch], data_iter)
        else:
            raise TypeError(
                f"Unsupported data type: {type(data)}. `adapt` supports `np.ndarray`, backend tensors, "
                "`tf.data.Dataset`, `keras.utils.PyDataset`, and iterables of batches (e.g. list, "
                "generator)."
            )
        if not self.built:
            self.build(input_shape)
        else:
            for d in self._keep_axis:
                if input_shape[d] != self._build_input_shape[d]:
                    raise ValueError(
                        f"The layer was built with input_shape={self._build_input_shape}, but adapt() is "
                        f"being called with data with an incompatible shape, data.shape={input_shape}"
                    )
        if self.input_mean is not None:
            raise ValueError("adapt() needs a Normalization layer built without `mean` and `variance`")
        if isinstance(data, np.ndarray):
            total_mean = np.mean(data, axis=self._reduce_axis)
            total_var = np.var(data, axis=self._reduce_axis)
        elif isinstance(data, (Tensor, Variable)):
            x = _to_compute(data, self.compute_dtype)
            axes = list(self._reduce_axis)
            total_mean = _ops.reduce_mean(x, axis=axes)
            total_var = _ops_math.reduce_variance(x, axis=axes)
        else:
            total_mean = np.zeros(self._mean_and_var_shape)
            total_var = np.zeros(self._mean_and_var_shape)
            total_count = 0
            for batch in data:
                batch = np.asarray(_extract_batch(batch), dtype=self.compute_dtype.as_numpy_dtype)
                for d in self._keep_axis:
                    if batch.shape[d] != self._build_input_shape[d]:
                        raise ValueError(
                            "adapt() yielded a batch with incompatible shape. Expected "
                            f"{self._build_input_shape}, got {tuple(batch.shape)}."
                        )
                batch_mean = np.mean(batch, axis=self._reduce_axis)
                batch_var = np.var(batch, axis=self._reduce_axis)
                batch_count = math.prod(batch.shape[d] for d in self._reduce_axis) if self._reduce_axis else 1
                total_count += batch_count
                batch_weight = float(batch_count) / total_count
                existing_weight = 1.0 - batch_weight
                new_total_mean = total_mean * existing_weight + batch_mean * batch_weight
                total_var = (total_var + (total_mean - new_total_mean) ** 2) * existing_weight + (
                    batch_var + (batch_mean - new_total_mean) ** 2
                ) * batch_weight
                total_mean = new_total_mean
        np_dtype = self.adapt_mean.dtype.as_numpy_dtype
        self.adapt_mean.assign(np.asarray(total_mean, dtype=np_dtype).reshape(self._mean_and_var_shape))
        self.adapt_variance.assign(np.asarray(total_var, dtype=np_dtype).reshape(self._mean_and_var_shape))
        self.finalize_state()

    def finalize_state(self):
        """Refreshes the broadcast mean/variance from the adapted weights (after ``adapt``/``set_weights``)."""
        if self.input_mean is not None or not self.built:
            return
        self.mean = _ops.cast(_ops.reshape(self.adapt_mean, self._broadcast_shape), self.compute_dtype)
        self.variance = _ops.cast(_ops.reshape(self.adapt_variance, self._broadcast_shape), self.compute_dtype)

    def set_weights(self, weights):
        super().set_weights(weights)
        self.finalize_state()

    def call(self, inputs):
        if self.mean is None:
            raise ValueError("You must call `.build(input_shape)` on the layer before using it.")
        if self.input_mean is None:
            self.finalize_state()  # the weights may have been assigned since adapt()
        x = _to_compute(inputs, self.compute_dtype)
        eps = _ops.cast(_ops.constant(backend.epsilon()), self.compute_dtype)
        std = _ops.maximum(_ops.sqrt(self.variance), eps)
        if self.invert:
            return self.mean + x * std
        return (x - self.mean) / std

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        }

    def get_build_config(self):
        if self._build_input_shape:
            return {"input_shape": self._build_input_shape}
        return None

    def build_from_config(self, config):
        if config:
            self.build(config["input_shape"])


# ---- image size layers ---------------------------------------------------------------------------


def _nearest_axis(x, axis, out_size):
    """Nearest-neighbour resize of ``axis`` with half-pixel centres (TF's ResizeNearestNeighbor,
    half_pixel_centers=True: source index ``min(floor((i + 0.5) * in / out), in - 1)``)."""
    in_size = int(x.shape[axis])
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.floor((np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale).astype(np.int64)
    src = np.clip(src, 0, in_size - 1).astype(np.int32)
    return _ops_shape.gather(x, _ops.constant(src), axis=axis)


def _resize_nhwc(x, size, interpolation):
    """``tf.image.resize(x, size, method, antialias=False)`` for a float NHWC batch."""
    resize_axis = _bilinear_axis if interpolation == "bilinear" else _nearest_axis
    if int(x.shape[1]) != size[0]:
        x = resize_axis(x, 1, size[0])
    if int(x.shape[2]) != size[1]:
        x = resize_axis(x, 2, size[1])
    return x


def _crop_box(height, width, target_height, target_width, f32):
    """Largest centred crop with the target aspect ratio (Keras's crop_to_aspect_ratio / smart_resize)."""
    if f32:  # the TF backend's resize computes these in float32
        crop_height = int(np.float32(width * target_height) / np.float32(target_width))
        crop_width = int(np.float32(height * target_width) / np.float32(target_height))
    else:
        crop_height = int(float(width * target_height) / target_width)
        crop_width = int(float(height * target_width) / target_height)
    crop_height = max(min(height, crop_height), 1)
    crop_width = max(min(width, crop_width), 1)
    return int((height - crop_height) / 2), int((width - crop_width) / 2), crop_height, crop_width


class _ImageLayer(Layer):
    """Shared input handling: batched (4-D) or single (3-D) images in either data format."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.supports_masking = False

    def _to_nhwc(self, inputs):
        x = _to_compute(inputs, self.compute_dtype)
        if x.ndim not in (3, 4):
            raise ValueError(
                "Invalid images rank: expected rank 3 (single image) or rank 4 (batch of images). "
                f"Received input with shape: images.shape={tuple(x.shape)}"
            )
        single = x.ndim == 3
        if single:
            x = _ops_shape.expand_dims(x, 0)
        if self.data_format == "channels_first":
            x = _ops.transpose(x, [0, 2, 3, 1])
        return x, single

    def _from_nhwc(self, x, single):
        if self.data_format == "channels_first":
            x = _ops.transpose(x, [0, 3, 1, 2])
        return _ops_shape.squeeze(x, axis=[0]) if single else x

    def compute_output_shape(self, input_shape):
        input_shape = list(input_shape)
        if len(input_shape) not in (3, 4) or isinstance(input_shape[0], (list, tuple)):
            raise ValueError(
                "`input_shape` must be a non-nested tuple or list of rank-1 with size 3 (unbatched) or 4 (batched). "
            )
        offset = len(input_shape) - 3
        h_axis = offset + (0 if self.data_format == "channels_last" else 1)
        input_shape[h_axis] = self.height
        input_shape[h_axis + 1] = self.width
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Resizing(_ImageLayer):
    """Resizes images to ``(height, width)`` (``tf.keras.layers.Resizing``): ``"bilinear"`` or
    ``"nearest"`` as ``tf.image.resize``; ``crop_to_aspect_ratio`` first takes the largest centred
    crop with the target aspect ratio, ``pad_to_aspect_ratio`` pads with ``fill_value`` instead.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Resizing(2, 2)(tg.reshape(tg.range(16.0), [1, 4, 4, 1]))[0, :, :, 0].numpy()
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """

    def __init__(
        self,
        height,
        width,
        interpolation="bilinear",
        crop_to_aspect_ratio=False,
        pad_to_aspect_ratio=False,
        fill_mode="constant",
        fill_value=0.0,
        antialias=False,
        data_format=None,
        **kwargs,
    ):
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        if interpolation not in ("bilinear", "nearest"):
            raise NotImplementedError(
                f"Resizing: interpolation='{interpolation}' is not supported by tapegrad "
                "(supported: 'bilinear', 'nearest')"
            )
        if self.antialias:
            raise NotImplementedError("Resizing: antialias=True is not supported by tapegrad")
        if fill_mode != "constant":
            raise ValueError(
                "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                f"Received: fill_mode={fill_mode}"
            )
        if pad_to_aspect_ratio and crop_to_aspect_ratio:
            raise ValueError("Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`.")
        self.built = True

    def call(self, inputs):
        in_dtype = inputs.dtype if isinstance(inputs, Tensor) else _ops.convert_to_tensor(np.asarray(inputs)).dtype
        x, single = self._to_nhwc(inputs)
        height, width = int(x.shape[1]), int(x.shape[2])
        if self.crop_to_aspect_ratio:
            h0, w0, ch, cw = _crop_box(height, width, self.height, self.width, f32=True)
            x = x[:, h0 : h0 + ch, w0 : w0 + cw, :]
        elif self.pad_to_aspect_ratio:
            pad_height = max(height, int(np.float32(width * self.height) / np.float32(self.width)))
            pad_width = max(width, int(np.float32(height * self.width) / np.float32(self.height)))
            hs, ws = int((pad_height - height) / 2), int((pad_width - width) / 2)
            if hs > 0 or ws > 0:
                x = _ops_shape.pad(
                    x,
                    [[0, 0], [hs, hs], [ws, ws], [0, 0]],
                    constant_values=_ops.cast(_ops.constant(self.fill_value), x.dtype),
                )
        x = self._from_nhwc(_resize_nhwc(x, (self.height, self.width), self.interpolation), single)
        if in_dtype.is_integer:  # Keras rounds integer images back to their dtype
            x = _ops.cast(_ops_math.round(x), in_dtype)
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        }


class CenterCrop(_ImageLayer):
    """Crops the central ``(height, width)`` region of images (``tf.keras.layers.CenterCrop``); an
    image smaller than the target is first cropped to the target aspect ratio and resized
    bilinearly (Keras's ``smart_resize``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.CenterCrop(2, 2)(tg.zeros([1, 5, 4, 3])).shape
    TensorShape([1, 2, 2, 3])
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.height = height
        self.width = width
        self.built = True

    def call(self, inputs):
        x, single = self._to_nhwc(inputs)
        height, width = int(x.shape[1]), int(x.shape[2])
        h_diff, w_diff = height - self.height, width - self.width
        if h_diff >= 0 and w_diff >= 0:
            h0, w0 = h_diff // 2, w_diff // 2
            x = x[:, h0 : h0 + self.height, w0 : w0 + self.width, :]
        else:
            h0, w0, ch, cw = _crop_box(height, width, self.height, self.width, f32=False)
            x = _resize_nhwc(x[:, h0 : h0 + ch, w0 : w0 + cw, :], (self.height, self.width), "bilinear")
        return self._from_nhwc(x, single)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}
