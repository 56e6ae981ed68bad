"""Keras 3 pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D`` and the global
max/average poolings (keras/src/layers/pooling/, with the TF backend's ops).

The layers run ``tg.nn``'s pools ("same" averages count only the in-image elements, as TF); the
3-D ones (``tg.nn.max_pool3d`` / ``avg_pool3d``) are built from the engine's 2-D pool primitives.

>>> import tapegrad as tg
>>> tg.keras.layers.MaxPooling2D()(tg.ones([1, 4, 4, 3])).shape
TensorShape([1, 2, 2, 3])
>>> tg.keras.layers.GlobalAveragePooling1D()(tg.constant([[[1.0], [3.0]]])).numpy()
array([[2.]], dtype=float32)
"""

from typing import Optional

import numpy as np

from ... import _ops, _ops_nn, _ops_shape
from .base import InputSpec, Layer
from .conv import standardize_data_format, standardize_tuple, to_channels_first, to_channels_last

__all__ = [
    "MaxPooling1D",
    "MaxPooling2D",
    "MaxPooling3D",
    "AveragePooling1D",
    "AveragePooling2D",
    "AveragePooling3D",
    "GlobalMaxPooling1D",
    "GlobalMaxPooling2D",
    "GlobalMaxPooling3D",
    "GlobalAveragePooling1D",
    "GlobalAveragePooling2D",
    "GlobalAveragePooling3D",
    "MaxPool1D",
    "MaxPool2D",
    "MaxPool3D",
    "AvgPool1D",
    "AvgPool2D",
    "AvgPool3D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "GlobalMaxPool3D",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalAvgPool3D",
]


def pool_nd(x, mode, pool_size, strides, padding):
    """Max or average pooling of a channels_last input of rank 3, 4 or 5 (Keras's ``ops.max_pool``
    / ``ops.average_pool``); `padding` is "valid" or "same"."""
    pad = padding.upper()
    rank = len(pool_size)
    if rank == 1:
        fn = _ops_nn.max_pool1d if mode == "max" else _ops_nn.avg_pool1d
        return fn(x, list(pool_size), list(strides), pad, "NWC")
    if rank == 2:
        fn = _ops_nn.max_pool2d if mode == "max" else _ops_nn.avg_pool2d
        return fn(x, list(pool_size), list(strides), pad, "NHWC")
    fn = _ops_nn.max_pool3d if mode == "max" else _ops_nn.avg_pool3d
    return fn(x, list(pool_size), list(strides), pad, "NDHWC")


def pooling_output_shape(input_shape, pool_size, strides, padding, data_format):
    """Keras's compute_pooling_output_shape."""
    input_shape = tuple(None if d is None else int(d) for d in input_shape)
    spatial = input_shape[1:-1] if data_format == "channels_last" else input_shape[2:]
    out = []
    for n, k, s in zip(spatial, pool_size, strides):
        if n is None:
            out.append(None)
        elif padding == "valid":
            o = (n - k) // s + 1
            if o <= 0:
                raise ValueError(
                    f"Computed output size would be zero or negative. Received: `inputs.shape="
                    f"{np.array(input_shape)}`, `pool_size={np.array(pool_size)}`, `strides={strides}`, "
                    f"`padding={padding}`."
                )
            out.append(o)
        elif padding == "same":
            out.append((n - 1) // s + 1)
        else:
            raise ValueError(f"Argument `padding` must be either 'valid' or 'same'. Received: padding={padding}")
    if data_format == "channels_last":
        return (input_shape[0],) + tuple(out) + (input_shape[-1],)
    return (input_shape[0], input_shape[1]) + tuple(out)


class _Pooling(Layer):
    """Keras's BasePooling: ``pool_size``, ``strides`` (default: ``pool_size``), ``padding``, ``data_format``."""

    rank: Optional[int] = None
    mode: Optional[str] = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = standardize_tuple(
            pool_size if strides is None else strides, self.rank, "strides", allow_zero=True
        )
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def call(self, inputs):
        padding = self.padding.lower()
        if self.data_format == "channels_first":
            y = pool_nd(to_channels_last(inputs, self.rank), self.mode, self.pool_size, self.strides, padding)
            return to_channels_first(y, self.rank)
        return pool_nd(inputs, self.mode, self.pool_size, self.strides, padding)

    def compute_output_shape(self, input_shape):
        return pooling_output_shape(input_shape, self.pool_size, self.strides, self.padding, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "pool_size": self.pool_size,
                "padding": self.padding,
                "strides": self.strides,
                "data_format": self.data_format,
            }
        )
        return config


class MaxPooling1D(_Pooling):
    """Max pooling over steps of ``(batch, steps, features)`` (``keras.layers.MaxPooling1D``)."""

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """Max pooling over height and width (``keras.layers.MaxPooling2D``)."""

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling3D(_Pooling):
    """Max pooling over depth, height and width (``keras.layers.MaxPooling3D``)."""

    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Average pooling over steps (``keras.layers.AveragePooling1D``)."""

    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling):
    """Average pooling over height and width (``keras.layers.AveragePooling2D``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.AveragePooling2D(2)(tg.reshape(tg.range(16.0), [1, 4, 4, 1]))[0, :, :, 0].numpy()
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """

    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling3D(_Pooling):
    """Average pooling over depth, height and width (``keras.layers.AveragePooling3D``)."""

    rank, mode = 3, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class _GlobalPooling(Layer):
    """Keras's BaseGlobalPooling: reduces every spatial axis; ``keepdims`` keeps them as size 1."""

    rank: Optional[int] = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self.rank + 2)
        self.built = True

    def _axes(self):
        first = 1 if self.data_format == "channels_last" else 2
        return list(range(first, first + self.rank))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            mid = (1,) * self.rank if self.keepdims else ()
            return (input_shape[0],) + mid + (input_shape[-1],)
        return (input_shape[0], input_shape[1]) + ((1,) * self.rank if self.keepdims else ())

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class _GlobalMax(_GlobalPooling):
    def call(self, inputs):
        return _ops.reduce_max(inputs, axis=self._axes(), keepdims=self.keepdims)


class _GlobalAverage(_GlobalPooling):
    def call(self, inputs):
        return _ops.reduce_mean(inputs, axis=self._axes(), keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalMax):
    """Maximum over steps (``keras.layers.GlobalMaxPooling1D``)."""

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(_GlobalMax):
    """Maximum over height and width (``keras.layers.GlobalMaxPooling2D``)."""

    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(_GlobalMax):
    """Maximum over depth, height and width (``keras.layers.GlobalMaxPooling3D``)."""

    rank = 3

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling1D(_GlobalAverage):
    """Mean over steps (``keras.layers.GlobalAveragePooling1D``); with a ``(batch, steps)`` mask,
    the mean of the unmasked steps. The output carries no mask."""

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        axis = 1 if self.data_format == "channels_last" else 2
        keep = _ops_shape.expand_dims(_ops.cast(mask, "bool"), 2 if self.data_format == "channels_last" else 1)
        weights = _ops.cast(keep, inputs.dtype)
        total = _ops.reduce_sum(
            _ops_shape.where(keep, inputs, _ops.zeros_like(inputs)), axis=axis, keepdims=self.keepdims
        )
        return total / _ops.reduce_sum(weights, axis=axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalAverage):
    """Mean over height and width (``keras.layers.GlobalAveragePooling2D``)."""

    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(_GlobalAverage):
    """Mean over depth, height and width (``keras.layers.GlobalAveragePooling3D``)."""

    rank = 3

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
)
