"""Keras 3 convolution layers: ``Conv1D/2D/3D``, their transposes, ``DepthwiseConv1D/2D`` and
``SeparableConv1D/2D`` (keras/src/layers/convolutional/, with the TF backend's ops).

Kernels have Keras's layouts: ``kernel_size + (in_channels // groups, filters)`` for a conv,
``kernel_size + (filters, in_channels)`` for a transposed conv and ``kernel_size + (in_channels,
depth_multiplier)`` for a depthwise conv. The 1-D and 2-D layers run the engine's conv and pool
primitives (NHWC); ``channels_first`` transposes around them. ``Conv3D`` and ``Conv3DTranspose``
run ``tg.nn.conv3d`` / ``tg.nn.conv3d_transpose``, which are built from the 2-D primitives
(compositions of differentiable ops, so gradients of every order work).

>>> import tapegrad as tg
>>> layer = tg.keras.layers.Conv2D(4, 3, padding="same", activation="relu")
>>> layer(tg.ones([2, 8, 8, 3])).shape
TensorShape([2, 8, 8, 4])
>>> [tuple(w.shape) for w in layer.weights]
[(3, 3, 3, 4), (4,)]
"""

from typing import Optional

import numpy as np

from ... import _ops, _ops_nn, _ops_shape
from ..._tensor import _static_shape
from .. import activations
from ..backend import image_data_format
from ._weight_options import set_weight_options, weight_options_config
from .base import InputSpec, Layer

__all__ = [
    "Conv1D",
    "Conv2D",
    "Conv3D",
    "Conv1DTranspose",
    "Conv2DTranspose",
    "Conv3DTranspose",
    "DepthwiseConv1D",
    "DepthwiseConv2D",
    "SeparableConv1D",
    "SeparableConv2D",
    "Convolution1D",
    "Convolution2D",
    "Convolution3D",
    "Convolution1DTranspose",
    "Convolution2DTranspose",
    "Convolution3DTranspose",
    "SeparableConvolution1D",
    "SeparableConvolution2D",
]


# ---- argument standardization (keras/src/utils/argument_validation.py) ---------------------------


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or a sequence of n ints -> a tuple of n ints, with Keras's messages."""
    msg = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, (int, np.integer)):
        out = (int(value),) * n
    else:
        try:
            out = tuple(value)
        except TypeError:
            raise ValueError(msg) from None
        if len(out) != n:
            raise ValueError(msg)
        for v in out:
            try:
                int(v)
            except (ValueError, TypeError):
                raise ValueError(msg + f"including element {v} of type {type(v)}") from None
    bad = {v for v in out if (v < 0 if allow_zero else v <= 0)}
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(msg + f", including values {bad} that do not satisfy `value {req}`")
    return out


def standardize_padding(value, allow_causal=False):
    """ "valid", "same" (and "causal" for Conv1D), lower-cased; lists pass through as Keras."""
    if isinstance(value, (list, tuple)):
        return value
    padding = value.lower()
    allowed = {"valid", "same", "causal"} if allow_causal else {"valid", "same"}
    if padding not in allowed:
        raise ValueError(f"The `padding` argument must be a list/tuple or one of {allowed}. Received: {padding}")
    return padding


def standardize_data_format(data_format):
    """None -> the image data format ("channels_last"); otherwise one of the two, lower-cased."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format}"
        )
    return data_format


def to_channels_last(x, rank):
    return _ops.transpose(x, [0] + list(range(2, rank + 2)) + [1])


def to_channels_first(x, rank):
    return _ops.transpose(x, [0, rank + 1] + list(range(1, rank + 1)))


def _spatial(shape, data_format):
    shape = tuple(shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def _with_spatial(shape, spatial, channels, data_format):
    shape = tuple(shape)
    if data_format == "channels_last":
        return (shape[0],) + tuple(spatial) + (channels,)
    return (shape[0], channels) + tuple(spatial)


def conv_output_shape(input_shape, filters, kernel_size, strides, padding, data_format, dilation_rate):
    """Keras's compute_conv_output_shape (floor formulas, errors for empty outputs)."""
    input_shape = tuple(None if d is None else int(d) for d in input_shape)
    channels = input_shape[-1] if data_format == "channels_last" else input_shape[1]
    kernel_shape = tuple(kernel_size) + (channels, filters)
    if len(kernel_shape) != len(input_shape):
        raise ValueError(
            f"Kernel shape must have the same length as input, but received kernel of shape "
            f"{kernel_shape} and input of shape {input_shape}."
        )
    out = []
    for n, k, s, d in zip(_spatial(input_shape, data_format), kernel_size, strides, dilation_rate):
        if n is None:
            out.append(None)
        elif padding == "valid":
            o = (n - d * (k - 1) - 1) // s + 1
            if o <= 0:
                raise ValueError(
                    f"Computed output size would be zero or negative. Received `inputs shape="
                    f"{input_shape}`, `kernel shape={kernel_shape}`, `dilation_rate="
                    f"{np.array(dilation_rate)}`, `strides={strides}`, `padding={padding}`."
                )
            out.append(o)
        elif padding in ("same", "causal"):
            out.append((n - 1) // s + 1)
        else:
            raise ValueError(f"`padding` must be either `'valid'` or `'same'`. Received {padding}.")
    return _with_spatial(input_shape, out, filters, data_format)


def conv_transpose_output_size(n, k, s, padding, output_padding, d):
    """One spatial size of a transposed conv's output (Keras's TF-padding formula)."""
    if n is None:
        return None
    if padding not in ("valid", "same"):
        raise ValueError(f"The `padding` argument must be one of 'valid', 'same'. Received: padding={padding}")
    k = (k - 1) * d + 1
    if padding == "valid":
        op = max(k, s) - k if output_padding is None else output_padding
        return (n - 1) * s + k + op
    if output_padding is None:
        return n * s
    return (n - 1) * s + k % 2 + output_padding


def _check_not_empty(outputs, inputs):
    if 0 in tuple(_static_shape(outputs)) and 0 not in tuple(_static_shape(inputs)):
        raise ValueError(
            f"The convolution operation resulted in an empty output. Output shape: "
            f"{tuple(outputs.shape)}. This can happen if the input is too small for the given kernel "
            "size, strides, dilation rate, and padding mode. Please check the input shape and "
            "convolution parameters."
        )


# ---- the convolutions, channels_last ---------------------------------------------------------------


def conv_nd(x, kernel, strides, padding, dilation_rate):
    """Keras's ``ops.conv`` for channels_last inputs of rank 3, 4 or 5 (groups inferred from the
    kernel's input depth, as TF). `padding` is "valid" or "same"."""
    rank = len(strides)
    pad = padding.upper()
    if rank == 1:
        return _ops_nn.conv1d(x, kernel, list(strides), pad, "NWC", list(dilation_rate))
    if rank == 2:
        return _ops_nn.conv2d(x, kernel, list(strides), pad, "NHWC", list(dilation_rate))
    return _ops_nn.conv3d(x, kernel, [1, *strides, 1], pad, "NDHWC", [1, *dilation_rate, 1])


def conv_transpose_nd(x, kernel, strides, padding, output_padding, dilation_rate):
    """Keras's ``ops.conv_transpose`` for channels_last inputs: the adjoint of ``conv_nd`` with the
    output size from Keras's formula (`kernel` is ``kernel_size + (filters, in_channels)``)."""
    rank = len(strides)
    ops_ = [None] * rank if output_padding is None else list(output_padding)
    spatial = [
        conv_transpose_output_size(int(n), int(k), s, padding, op, d)
        for n, k, s, op, d in zip(x.shape[1:-1], kernel.shape[:rank], strides, ops_, dilation_rate)
    ]
    out_shape = [int(x.shape[0])] + spatial + [int(kernel.shape[-2])]
    fn = (_ops_nn.conv1d_transpose, _ops_nn.conv2d_transpose, _ops_nn.conv3d_transpose)[rank - 1]
    return fn(
        x, kernel, out_shape, list(strides), padding.upper(), ("NWC", "NHWC", "NDHWC")[rank - 1], list(dilation_rate)
    )


def depthwise_conv_nd(x, kernel, strides, padding, dilation_rate):
    """Keras's ``ops.depthwise_conv`` for channels_last rank-3 or rank-4 inputs."""
    if len(strides) == 1:
        y = _ops_nn.depthwise_conv2d(
            _ops_shape.expand_dims(x, 1),
            _ops_shape.expand_dims(kernel, 0),
            [1, 1, strides[0], 1],
            padding.upper(),
            "NHWC",
            [1, dilation_rate[0]],
        )
        return _ops_shape.squeeze(y, [1])
    return _ops_nn.depthwise_conv2d(
        x, kernel, [1, strides[0], strides[1], 1], padding.upper(), "NHWC", list(dilation_rate)
    )


# ---- layers ----------------------------------------------------------------------------------------


class _ConvBase(Layer):
    """What every conv layer shares: argument checks, the bias and activation, channels_first."""

    rank: Optional[int] = None

    def _init_common(
        self,
        kernel_size,
        strides,
        padding,
        data_format,
        dilation_rate,
        activation,
        use_bias,
        bias_initializer,
        bias_regularizer,
        bias_constraint,
        allow_causal=False,
    ):
        r = self.rank
        self.kernel_size = standardize_tuple(kernel_size, r, "kernel_size")
        self.strides = standardize_tuple(strides, r, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, r, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=allow_causal)
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(self, bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.input_spec = InputSpec(min_ndim=r + 2)

    def _channels(self, input_shape):
        return input_shape[-1] if self.data_format == "channels_last" else input_shape[1]

    def _set_channel_spec(self, input_shape):
        axis = -1 if self.data_format == "channels_last" else 1
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={axis: self._channels(input_shape)})

    def _add_bias(self, name, n):
        return self.add_weight(
            name=name,
            shape=(n,),
            initializer=self.bias_initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
            trainable=True,
            dtype=self.dtype,
        )

    def _channels_last_op(self, x):
        raise NotImplementedError

    def call(self, inputs):
        x = inputs if self.data_format == "channels_last" else to_channels_last(inputs, self.rank)
        y = self._channels_last_op(x)
        _check_not_empty(y, inputs)
        if self.use_bias:
            y = y + self.bias
        if self.data_format == "channels_first":
            y = to_channels_first(y, self.rank)
        if self.activation is not None:
            return self.activation(y)
        return y

    def _config_head(self):
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }

    def _config_tail(self):
        return {"activation": activations.serialize(self.activation), "use_bias": self.use_bias}


def _check_positive(value, name):
    if value is not None and value <= 0:
        raise ValueError(
            f"Invalid value for argument `{name}`. Expected a strictly positive value. Received {name}={value}."
        )


def _check_kernel_and_strides(kernel_size, strides, colon=False, plural=False):
    if not all(kernel_size):
        raise ValueError(
            f"The argument `kernel_size` cannot contain 0. Received{':' if colon else ''} kernel_size={kernel_size}."
        )
    if not all(strides):
        raise ValueError(
            f"The argument `strides` cannot contains 0{'(s)' if plural else ''}. "
            f"Received{':' if colon else ''} strides={strides}"
        )


def _check_strides_dilation(strides, dilation_rate):
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. Received: "
            f"strides={strides} and dilation_rate={dilation_rate}"
        )


class _Conv(_ConvBase):
    """Keras's BaseConv: ``kernel`` of shape ``kernel_size + (in_channels // groups, filters)``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if lora_rank:
            raise NotImplementedError(
                f"{type(self).__name__}: LoRA (`lora_rank`) is not supported by tapegrad's conv layers"
            )
        self.filters = filters
        self.groups = groups
        self._init_common(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
            allow_causal=self.rank == 1,
        )
        set_weight_options(self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint))
        _check_positive(filters, "filters")
        if self.groups <= 0:
            raise ValueError(f"The number of groups must be a positive integer. Received: groups={self.groups}.")
        if filters is not None and filters % self.groups != 0:
            raise ValueError(
                f"The number of filters must be evenly divisible by the number of groups. Received: "
                f"groups={self.groups}, filters={filters}."
            )
        _check_kernel_and_strides(self.kernel_size, self.strides)
        _check_strides_dilation(self.strides, self.dilation_rate)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._set_channel_spec(input_shape)
        if channels % self.groups != 0:
            raise ValueError(
                f"The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels (full input "
                f"shape is {input_shape})."
            )
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        self.bias = self._add_bias("bias", self.filters) if self.use_bias else None
        self.built = True

    def _channels_last_op(self, x):
        padding = self.padding
        if padding == "causal":
            x = _ops_shape.pad(x, [[0, 0], [self.dilation_rate[0] * (self.kernel_size[0] - 1), 0], [0, 0]])
            padding = "valid"
        return conv_nd(x, self.kernel, self.strides, padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(
            input_shape,
            self.filters,
            self.kernel_size,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                **self._config_head(),
                "groups": self.groups,
                **self._config_tail(),
                **weight_options_config(self, ["kernel", "bias"], activity=True),
            }
        )
        return config


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` (``keras.layers.Conv1D``); `padding` may
    be "causal" (left padding by ``dilation_rate * (kernel_size - 1)``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.Conv1D(2, 3, padding="causal")(tg.ones([1, 5, 4])).shape
    TensorShape([1, 5, 2])
    """

    rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)`` (``keras.layers.Conv2D``)."""

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv3D(_Conv):
    """3-D convolution over ``(batch, depth, height, width, channels)`` (``keras.layers.Conv3D``),
    run by ``tg.nn.conv3d`` (built from 2-D convs)."""

    rank = 3

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1, 1),
        groups=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            groups,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class _ConvTranspose(_ConvBase):
    """Keras's BaseConvTranspose: ``kernel`` of shape ``kernel_size + (filters, in_channels)``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = filters
        self._init_common(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
        )
        self.output_padding = (
            None
            if output_padding is None
            else standardize_tuple(output_padding, self.rank, "output_padding", allow_zero=True)
        )
        set_weight_options(self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint))
        _check_positive(filters, "filters")
        if not all(self.kernel_size):
            raise ValueError(f"The argument `kernel_size` cannot contain 0. Received kernel_size={self.kernel_size}.")
        if not all(self.strides):
            raise ValueError(f"The argument `strides` cannot contains 0. Received strides={self.strides}.")
        if self.output_padding is not None:
            for i, (op, s) in enumerate(zip(self.output_padding, self.strides)):
                if op >= s:
                    raise ValueError(
                        f"`output_padding` must be strictly less than `strides` for all dimensions. At "
                        f"dimension {i}, `output_padding` is {op} but `strides` is {s}. Received: "
                        f"output_padding={self.output_padding}, strides={self.strides}"
                    )
        _check_strides_dilation(self.strides, self.dilation_rate)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._set_channel_spec(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (self.filters, channels),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        self.bias = self._add_bias("bias", self.filters) if self.use_bias else None
        self.built = True

    def _channels_last_op(self, x):
        return conv_transpose_nd(x, self.kernel, self.strides, self.padding, self.output_padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(None if d is None else int(d) for d in input_shape)
        ops_ = self.output_padding or (None,) * self.rank
        spatial = [
            conv_transpose_output_size(n, k, s, self.padding, op, d)
            for n, k, s, op, d in zip(
                _spatial(input_shape, self.data_format), self.kernel_size, self.strides, ops_, self.dilation_rate
            )
        ]
        return _with_spatial(input_shape, spatial, self.filters, self.data_format)

    def get_config(self):
        config = super().get_config()
        head = self._config_head()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": head["kernel_size"],
                "strides": head["strides"],
                "padding": self.padding,
                "output_padding": self.output_padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                **self._config_tail(),
                **weight_options_config(self, ["kernel", "bias"], activity=True),
            }
        )
        return config


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (``keras.layers.Conv1DTranspose``): the gradient of Conv1D with
    respect to its input, with Keras's output length ``(n - 1) * strides + ...``.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Conv1DTranspose(2, 3, strides=2)(tg.ones([1, 4, 3])).shape
    TensorShape([1, 9, 2])
    """

    rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (``keras.layers.Conv2DTranspose``), with ``output_padding``."""

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        output_padding=None,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution (``keras.layers.Conv3DTranspose``), run by
    ``tg.nn.conv3d_transpose``."""

    rank = 3

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1, 1),
        padding="valid",
        data_format=None,
        output_padding=None,
        dilation_rate=(1, 1, 1),
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            output_padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            kernel_initializer,
            bias_initializer,
            kernel_regularizer,
            bias_regularizer,
            activity_regularizer,
            kernel_constraint,
            bias_constraint,
            **kwargs,
        )


class _DepthwiseConv(_ConvBase):
    """Keras's BaseDepthwiseConv: ``kernel`` of shape ``kernel_size + (in_channels, depth_multiplier)``;
    output channel ``c * depth_multiplier + m`` sees input channel c only."""

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self._init_common(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
        )
        set_weight_options(self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint))
        _check_positive(depth_multiplier, "depth_multiplier")
        _check_kernel_and_strides(self.kernel_size, self.strides)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._set_channel_spec(input_shape)
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel",
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        self.bias = self._add_bias("bias", self.depth_multiplier * channels) if self.use_bias else None
        self.built = True

    def _channels_last_op(self, x):
        return depthwise_conv_nd(x, self.kernel, self.strides, self.padding, self.dilation_rate)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(
            input_shape,
            self.depth_multiplier * self._channels(input_shape),
            self.kernel_size,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                **self._config_head(),
                **self._config_tail(),
                **weight_options_config(self, ["depthwise", "bias"], activity=True),
            }
        )
        return config


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution (``keras.layers.DepthwiseConv1D``)."""

    rank = 1

    def __init__(
        self,
        kernel_size,
        strides=1,
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution (``keras.layers.DepthwiseConv2D``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(tg.ones([1, 5, 5, 3])).shape
    TensorShape([1, 3, 3, 6])
    """

    rank = 2

    def __init__(
        self,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        depth_multiplier=1,
        data_format=None,
        dilation_rate=(1, 1),
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            kernel_size,
            strides,
            padding,
            depth_multiplier,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            depthwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            bias_constraint,
            **kwargs,
        )


class _SeparableConv(_ConvBase):
    """Keras's BaseSeparableConv: a depthwise conv then a 1x1 conv; weights ``depthwise_kernel``,
    ``pointwise_kernel`` and ``bias``."""

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = depth_multiplier
        self.filters = filters
        self._init_common(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            bias_initializer,
            bias_regularizer,
            bias_constraint,
        )
        set_weight_options(
            self,
            depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            pointwise=(pointwise_initializer, pointwise_regularizer, pointwise_constraint),
        )
        _check_positive(depth_multiplier, "depth_multiplier")
        _check_positive(filters, "filters")
        _check_kernel_and_strides(self.kernel_size, self.strides, colon=True, plural=True)

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self._set_channel_spec(input_shape)
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel",
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer,
            regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (self.depth_multiplier * channels, self.filters),
            initializer=self.pointwise_initializer,
            regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
            trainable=True,
            dtype=self.dtype,
        )
        self.bias = self._add_bias("bias", self.filters) if self.use_bias else None
        self.built = True

    def _channels_last_op(self, x):
        y = depthwise_conv_nd(x, self.depthwise_kernel, self.strides, self.padding, self.dilation_rate)
        return conv_nd(y, self.pointwise_kernel, (1,) * self.rank, "valid", (1,) * self.rank)

    def compute_output_shape(self, input_shape):
        return conv_output_shape(
            input_shape,
            self.filters,
            self.kernel_size,
            self.strides,
            self.padding,
            self.data_format,
            self.dilation_rate,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "depth_multiplier": self.depth_multiplier,
                "filters": self.filters,
                **self._config_head(),
                **self._config_tail(),
                **weight_options_config(self, ["depthwise", "pointwise", "bias"], activity=True),
            }
        )
        return config


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution (``keras.layers.SeparableConv1D``)."""

    rank = 1

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            depth_multiplier,
            activation,
            use_bias,
            depthwise_initializer,
            pointwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            pointwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            pointwise_constraint,
            bias_constraint,
            **kwargs,
        )


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution (``keras.layers.SeparableConv2D``).

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.SeparableConv2D(4, 3, depth_multiplier=2)
    >>> layer(tg.ones([1, 5, 5, 3])).shape
    TensorShape([1, 3, 3, 4])
    >>> [w.name for w in layer.weights]
    ['depthwise_kernel', 'pointwise_kernel', 'bias']
    """

    rank = 2

    def __init__(
        self,
        filters,
        kernel_size,
        strides=(1, 1),
        padding="valid",
        data_format=None,
        dilation_rate=(1, 1),
        depth_multiplier=1,
        activation=None,
        use_bias=True,
        depthwise_initializer="glorot_uniform",
        pointwise_initializer="glorot_uniform",
        bias_initializer="zeros",
        depthwise_regularizer=None,
        pointwise_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        depthwise_constraint=None,
        pointwise_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        super().__init__(
            filters,
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            depth_multiplier,
            activation,
            use_bias,
            depthwise_initializer,
            pointwise_initializer,
            bias_initializer,
            depthwise_regularizer,
            pointwise_regularizer,
            bias_regularizer,
            activity_regularizer,
            depthwise_constraint,
            pointwise_constraint,
            bias_constraint,
            **kwargs,
        )


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose,
    Conv2DTranspose,
    Conv3DTranspose,
)
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
