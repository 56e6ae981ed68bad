"""Keras 3's activation layers: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax``
(keras/src/layers/activations/*.py). Each passes its input mask through.

>>> import tapegrad as tg
>>> tg.keras.layers.ReLU(max_value=1.0)(tg.constant([-1.0, 0.5, 3.0])).numpy()
array([0. , 0.5, 1. ], dtype=float32)
"""

import warnings

from ... import _ops, _ops_math, _ops_shape
from .. import activations, constraints, initializers, regularizers
from .base import InputSpec, Layer

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


class ReLU(Layer):
    """Rectified linear unit with options (``tf.keras.layers.ReLU``): ``max_value`` caps the output,
    values below ``threshold`` get slope ``negative_slope``."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError(f"max_value of a ReLU layer cannot be a negative value. Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError(
                "negative_slope of a ReLU layer cannot be None or a negative value. "
                f"Received: negative_slope={negative_slope}"
            )
        if threshold is None or threshold < 0.0:
            raise ValueError(
                f"threshold of a ReLU layer cannot be None or a negative value. Received: threshold={threshold}"
            )
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.relu(
            inputs, negative_slope=self.negative_slope, max_value=self.max_value, threshold=self.threshold
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "max_value": self.max_value,
            "negative_slope": self.negative_slope,
            "threshold": self.threshold,
        }


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, else ``negative_slope * x`` (``tf.keras.layers.LeakyReLU``; Keras 3's
    default slope 0.3; the Keras 2 name ``alpha`` is accepted with a deprecation warning).

    >>> import tapegrad as tg
    >>> tg.keras.layers.LeakyReLU(negative_slope=0.5)(tg.constant([-2.0, 2.0])).numpy()
    array([-1.,  2.], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.", stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative value. "
                f"Expected a float. Received: negative_slope={negative_slope}"
            )
        self.negative_slope = negative_slope
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Leaky ReLU with a learned slope ``alpha`` per input element (``tf.keras.layers.PReLU``):
    ``relu(x) - alpha * relu(-x)``; ``shared_axes`` share one slope along those axes."""

    def __init__(
        self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None, **kwargs
    ):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        if self.shared_axes is not None:
            for i in self.shared_axes:
                param_shape[i - 1] = 1
        self.alpha = self.add_weight(
            shape=param_shape,
            name="alpha",
            initializer=self.alpha_initializer,
            regularizer=self.alpha_regularizer,
            constraint=self.alpha_constraint,
        )
        axes = {}
        if self.shared_axes:
            for i in range(1, len(input_shape)):
                if i not in self.shared_axes:
                    axes[i] = input_shape[i]
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        return _ops.relu(inputs) - self.alpha * _ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        }


class ELU(Layer):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)`` (``tf.keras.layers.ELU``)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def _large_negative_number(dtype):
    return -30000.0 if dtype.name == "float16" else -1e9


class Softmax(Layer):
    """Softmax over ``axis`` (an int or a tuple of axes) (``tf.keras.layers.Softmax``). With a
    ``mask`` (broadcastable to the input), masked entries get probability 0.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Softmax()(tg.constant([[1.0, 1.0, 5.0]]), mask=tg.constant([[True, True, False]])).numpy()
    array([[0.5, 0.5, 0. ]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = _ops.convert_to_tensor(mask)
            if len(mask.shape) > len(inputs.shape):
                raise ValueError(
                    "The `mask` must be broadcastable to `inputs` and must not have more dimensions. "
                    f"Received: inputs.shape={inputs.shape}, mask.shape={mask.shape}"
                )
            for m_dim, i_dim in zip(tuple(mask.shape)[::-1], tuple(inputs.shape)[::-1]):
                if m_dim != 1 and m_dim != i_dim:
                    raise ValueError(
                        "The `mask` must be broadcastable to `inputs`. Each mask dimension must be 1 or "
                        "match the corresponding input dimension. Received: "
                        f"inputs.shape={inputs.shape}, mask.shape={mask.shape}"
                    )
            if mask.dtype.name != "bool":
                mask = _ops.greater(mask, _ops.cast(_ops.constant(0.5), mask.dtype))
            mask = _ops.broadcast_to(mask, inputs.shape)
            inputs = _ops_shape.where(
                mask,
                inputs,
                _ops.fill(inputs.shape, _ops.cast(_ops.constant(_large_negative_number(inputs.dtype)), inputs.dtype)),
            )
        if isinstance(self.axis, (tuple, list)):
            if len(self.axis) > 1:
                outputs = _ops.exp(inputs - _ops_math.reduce_logsumexp(inputs, axis=list(self.axis), keepdims=True))
            else:
                outputs = activations.softmax(inputs, axis=self.axis[0])
        else:
            outputs = activations.softmax(inputs, axis=self.axis)
        if mask is not None:
            outputs = _ops_shape.where(mask, outputs, _ops.zeros_like(outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
