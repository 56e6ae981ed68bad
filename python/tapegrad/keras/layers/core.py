"""Keras 3's core layers: ``Dense``, ``EinsumDense``, ``Activation``, ``Lambda``, ``Embedding``,
``Identity``, ``Masking`` (keras/src/layers/core/*.py and activations/activation.py).

>>> import tapegrad as tg
>>> layer = tg.keras.layers.Dense(4, activation="relu", name="dense")
>>> layer(tg.ones([2, 3])).shape
TensorShape([2, 4])
>>> [w.path for w in layer.weights]
['dense/kernel', 'dense/bias']
"""

import base64
import importlib
import inspect
import marshal
import re
import types
import warnings

from ... import _ops, _ops_linalg, _ops_shape
from .. import activations
from ._weight_options import set_weight_options, weight_options_config
from .base import InputSpec, Layer

__all__ = ["Dense", "EinsumDense", "Activation", "Lambda", "Embedding", "Identity", "Masking"]


def _quantization_unsupported(layer, quantization_config):
    if quantization_config is not None:
        raise NotImplementedError(f"{layer}: quantization (`quantization_config`) is not supported by tapegrad")


def _lora_unsupported(layer, lora_rank):
    if lora_rank:
        raise NotImplementedError(f"{layer}: LoRA (`lora_rank={lora_rank}`) is not supported by tapegrad yet")


def _matmul_last_axis(x, kernel):
    """``x @ kernel`` over the last axis of x (any rank >= 2), as Keras's ``ops.matmul``."""
    if x.ndim == 2:
        return _ops.matmul(x, kernel)
    return _ops_linalg.tensordot(x, kernel, [[x.ndim - 1], [0]])


class Dense(Layer):
    """Densely-connected layer: ``activation(dot(inputs, kernel) + bias)`` over the last axis
    (``tf.keras.layers.Dense``). Inputs of rank > 2 are contracted on their last axis.

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    >>> layer(tg.ones([1, 3])).numpy()
    array([[4., 4.]], dtype=float32)
    """

    def __init__(
        self,
        units,
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
        quantization_config=None,
        **kwargs,
    ):
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Received an invalid value for `units`, expected a positive integer. Received: units={units}"
            )
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        _lora_unsupported("Dense", lora_rank)
        _quantization_unsupported("Dense", quantization_config)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(
            self,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.lora_rank = None
        self.lora_enabled = False
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self._kernel = self.add_weight(
            name="kernel",
            shape=(input_dim, self.units),
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias",
                shape=(self.units,),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    @property
    def kernel(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `kernel`.")
        return self._kernel

    def call(self, inputs, training=None):
        x = _matmul_last_axis(inputs, self._kernel)
        if self.bias is not None:
            x = x + self.bias
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        output_shape = list(input_shape)
        output_shape[-1] = self.units
        return tuple(output_shape)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        raise NotImplementedError("Dense.enable_lora: LoRA is not supported by tapegrad yet")

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_options_config(self, ["kernel", "bias"]),
            "quantization_config": None,
        }
        return {**super().get_config(), **config}


class _EinsumLayer(Layer):
    """What EinsumDense and MultiHeadAttention's projections share: the ``kernel``/``bias`` weights
    and ``activation(einsum(equation, x, kernel) + bias)``."""

    def _add_einsum_weights(self, kernel_shape, bias_shape, kernel_initializer):
        self.kernel = self.add_weight(
            name="kernel",
            shape=tuple(kernel_shape),
            initializer=kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        if bias_shape is not None:
            self.bias = self.add_weight(
                name="bias",
                shape=tuple(bias_shape),
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None

    def _einsum(self, inputs):
        x = _ops_linalg.einsum(self.equation, inputs, self.kernel)
        if self.bias is not None:
            x = x + self.bias
        if self.activation is not None:
            x = self.activation(x)
        return x


class EinsumDense(_EinsumLayer):
    """A dense layer whose kernel contraction is an einsum ``equation`` (``tf.keras.layers.EinsumDense``).

    ``output_shape`` excludes the batch dimension (``None`` entries are taken from the input);
    ``bias_axes`` names the output letters the bias spans.

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c")
    >>> layer(tg.ones([2, 3])).shape
    TensorShape([2, 4])
    """

    def __init__(
        self,
        equation,
        output_shape,
        activation=None,
        bias_axes=None,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        lora_rank=None,
        lora_alpha=None,
        gptq_unpacked_column_size=None,
        quantization_config=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        _lora_unsupported("EinsumDense", lora_rank)
        _quantization_unsupported("EinsumDense", quantization_config)
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_weight_options(
            self,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.lora_rank = None
        self.lora_enabled = False

    def build(self, input_shape):
        shape_data = _analyze_einsum_string(self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        kernel_shape, bias_shape, full_output_shape = shape_data
        self.full_output_shape = tuple(full_output_shape)
        self._add_einsum_weights(kernel_shape, bias_shape, self.kernel_initializer)
        self.built = True

    def compute_output_shape(self, _):
        if not self.built:
            raise ValueError("EinsumDense.compute_output_shape needs the layer built (call `build(input_shape)`)")
        return self.full_output_shape

    def call(self, inputs, training=None):
        return self._einsum(inputs)

    def get_config(self):
        config = {
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_options_config(self, ["kernel", "bias"], activity=True),
            "quantization_config": None,
        }
        return {**super().get_config(), **config}


def _analyze_einsum_string(equation, bias_axes, input_shape, output_shape):
    """(kernel shape, bias shape or None, full output shape) for an ``"ab,bc->ac"`` equation, with
    Keras's ``...`` forms (left, right) and errors."""
    dot_replaced = equation.replace("...", "0")
    m = re.match("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", dot_replaced)
    if m:
        return _analyze_split_string(m, bias_axes, input_shape, output_shape)
    m = re.match("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", dot_replaced)
    if m:
        return _analyze_split_string(m, bias_axes, input_shape, output_shape, left_elided=True)
    m = re.match("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", dot_replaced)
    if m:
        return _analyze_split_string(m, bias_axes, input_shape, output_shape)
    raise ValueError(
        f"Invalid einsum equation '{equation}'. Equations must be in the form "
        "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...."
    )


def _analyze_split_string(split_string, bias_axes, input_shape, output_shape, left_elided=False):
    input_spec, weight_spec, output_spec = split_string.group(1), split_string.group(2), split_string.group(3)
    elided = len(input_shape) - len(input_spec)
    if isinstance(output_shape, int):
        output_shape = [output_shape]
    else:
        output_shape = list(output_shape)
    output_shape.insert(0, input_shape[0])
    if elided > 0 and left_elided:
        for i in range(1, elided):
            output_shape.insert(1, input_shape[i])
    elif elided > 0 and not left_elided:
        for i in range(len(input_shape) - elided, len(input_shape)):
            output_shape.append(input_shape[i])
    if left_elided:
        input_dim_map = {dim: (i + elided) - len(input_shape) for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: (i + elided) - len(output_shape) for i, dim in enumerate(output_spec)}
    else:
        input_dim_map = {dim: i for i, dim in enumerate(input_spec)}
        output_dim_map = {dim: i for i, dim in enumerate(output_spec)}
    for dim in input_spec:
        input_shape_at_dim = input_shape[input_dim_map[dim]]
        if dim in output_dim_map:
            output_shape_at_dim = output_shape[output_dim_map[dim]]
            if output_shape_at_dim is not None and output_shape_at_dim != input_shape_at_dim:
                raise ValueError(
                    "Input shape and output shape do not match at shared dimension "
                    f"'{dim}'. Input shape is {input_shape_at_dim}, and output shape is "
                    f"{output_shape[output_dim_map[dim]]}."
                )
    for dim in output_spec:
        if dim not in input_spec and dim not in weight_spec:
            raise ValueError(
                f"Dimension '{dim}' was specified in the output '{output_spec}' but has no "
                f"corresponding dim in the input spec '{input_spec}' or weight spec '{output_spec}'"
            )
    weight_shape = []
    for dim in weight_spec:
        if dim in input_dim_map:
            weight_shape.append(input_shape[input_dim_map[dim]])
        elif dim in output_dim_map:
            weight_shape.append(output_shape[output_dim_map[dim]])
        else:
            raise ValueError(
                f"Weight dimension '{dim}' did not have a match in either the input spec "
                f"'{input_spec}' or the output spec '{output_spec}'. For this layer, the weight "
                "must be fully specified."
            )
    if bias_axes is not None:
        idx_map = {char: output_shape[output_dim_map[char]] for char in output_spec}
        for char in bias_axes:
            if char not in output_spec:
                raise ValueError(
                    f"Bias dimension '{char}' was requested, but is not part of the output spec '{output_spec}'"
                )
        first_bias_location = min(output_spec.find(char) for char in bias_axes)
        bias_output_spec = output_spec[first_bias_location:]
        bias_shape = [idx_map[char] if char in bias_axes else 1 for char in bias_output_spec]
        if not left_elided:
            for _ in range(elided):
                bias_shape.append(1)
    else:
        bias_shape = None
    return weight_shape, bias_shape, output_shape


class Activation(Layer):
    """Applies an activation function (a name or a callable) to its input (``tf.keras.layers.Activation``).

    >>> import tapegrad as tg
    >>> tg.keras.layers.Activation("relu")(tg.constant([[-1.0, 2.0]])).numpy()
    array([[0., 2.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Returns its input unchanged (``tf.keras.layers.Identity``); masks pass through."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return super().get_config()


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value`` (``tf.keras.layers.Masking``): those
    steps become 0 and the output mask (``_keras_mask``, shape ``inputs.shape[:-1]``) is False there.

    >>> import tapegrad as tg
    >>> out = tg.keras.layers.Masking()(tg.constant([[[1.0], [0.0], [2.0]]]))
    >>> out._keras_mask.numpy()
    array([[ True, False,  True]])
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            mask_value = mask_value["config"].get("value", mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def _boolean_mask(self, inputs, keepdims):
        value = _ops.cast(_ops.constant(self.mask_value), inputs.dtype)
        return _ops.reduce_any(_ops.not_equal(inputs, value), axis=-1, keepdims=keepdims)

    def compute_mask(self, inputs, mask=None):
        return self._boolean_mask(inputs, keepdims=False)

    def call(self, inputs):
        boolean_mask = self._boolean_mask(inputs, keepdims=True)
        outputs = _ops_shape.where(_ops.broadcast_to(boolean_mask, inputs.shape), inputs, _ops.zeros_like(inputs))
        outputs._keras_mask = _ops_shape.squeeze(boolean_mask, axis=[-1])
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


# ---- Lambda ---------------------------------------------------------------------------------------


def _func_dump(fn):
    """Keras's ``python_utils.func_dump``: (base64 marshal of the code, defaults, closure values)."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def _func_load(code, defaults=None, closure=None, globs=None):
    """Inverse of ``_func_dump`` (Keras's ``python_utils.func_load``)."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
        if isinstance(defaults, list):
            defaults = tuple(defaults)

    def ensure_value_to_cell(value):
        def dummy_fn():
            value  # noqa: B018 - makes `value` a closure cell

        cell_value = dummy_fn.__closure__[0]
        if not isinstance(value, type(cell_value)):
            return cell_value
        return value

    if closure is not None:
        closure = tuple(ensure_value_to_cell(c) for c in closure)
    raw = base64.decodebytes(code.encode("ascii"))
    code = marshal.loads(raw)
    if globs is None:
        globs = globals()
    return types.FunctionType(code, globs, name=code.co_name, argdefs=defaults, closure=closure)


def _serialize_function(fn):
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        code, defaults, closure = _func_dump(fn)
        return {"class_name": "__lambda__", "config": {"code": code, "defaults": defaults, "closure": closure}}
    if callable(fn):
        if inspect.isfunction(fn) or inspect.isbuiltin(fn):
            # Keras records the class of a plain function (`builtins.function`), not its module
            return {
                "module": "builtins",
                "class_name": "function",
                "config": fn.__name__,
                "registered_name": "function",
            }
        if hasattr(fn, "get_config"):
            return {
                "module": type(fn).__module__,
                "class_name": type(fn).__name__,
                "config": fn.get_config(),
                "registered_name": type(fn).__name__,
            }
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


def _deserialize_function(config, custom_objects=None):
    if not isinstance(config, dict):
        return config
    name = config.get("config") if config.get("class_name") == "function" else config.get("class_name")
    if custom_objects and name in custom_objects:
        obj = custom_objects[name]
    else:
        module = config.get("module")
        if module == "builtins":  # a plain function: Keras looks it up among its own by name
            module = activations.__name__
        try:
            obj = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError, TypeError, ValueError):
            raise ValueError(
                f"Could not locate function '{name}'. Make sure custom classes are decorated with "
                f"`@keras.saving.register_keras_serializable()`. Full object config: {config}"
            ) from None
    if config.get("class_name") != "function" and inspect.isclass(obj):
        return obj.from_config(config.get("config") or {})
    return obj


def _raise_for_lambda_deserialization(safe_mode):
    if safe_mode:
        raise ValueError(
            "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
            "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
            "default. If you trust the source of the artifact, you can override this error by passing "
            "`safe_mode=False` to the loading function, or calling "
            "`keras.config.enable_unsafe_deserialization()."
        )


def _is_lambda_config(c):
    return isinstance(c, dict) and c.get("class_name") == "__lambda__"


class Lambda(Layer):
    """Wraps an arbitrary function of the inputs as a layer (``tf.keras.layers.Lambda``).

    ``arguments`` are passed to ``function`` as keywords; ``function`` also receives ``mask`` and
    ``training`` when it declares them. ``output_shape`` (without the batch dimension, or a function
    of the input shape) serves the functional API; ``mask`` is the output mask or a function
    ``mask(inputs, previous_mask)``. Python lambdas serialize as marshalled code and load back only
    with ``safe_mode=False``, as Keras.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Lambda(lambda x, k: x * k, arguments={"k": 3.0})(tg.ones([1, 2])).numpy()
    array([[3., 3.]], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        function_args = inspect.getfullargspec(function).args
        self._fn_expects_training_arg = "training" in function_args
        self._fn_expects_mask_arg = "mask" in function_args

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception:  # noqa: BLE001 - Keras turns any failure into this message
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. Please specify the "
                    "`output_shape` argument for this Lambda layer."
                ) from None
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, (list, tuple)) and first and isinstance(first[0], (list, tuple)):
            first = first[0]
        batch_size = first[0] if first else None

        def add_batch(shape):
            return (batch_size,) + tuple(shape)

        shape = self._output_shape
        if isinstance(shape, (list, tuple)) and shape and all(isinstance(s, (list, tuple)) for s in shape):
            return type(shape)(add_batch(s) for s in shape)
        return add_batch(shape)

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def get_config(self):
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (
                _serialize_function(self._output_shape) if callable(self._output_shape) else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = dict(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds the layer; a Python-lambda ``function`` needs ``safe_mode=False`` (Keras's rule)."""
        config = dict(config)
        safe_mode = safe_mode is not False
        for key in ("function", "output_shape", "mask"):
            if key not in config:
                continue
            c = config[key]
            if _is_lambda_config(c):
                _raise_for_lambda_deserialization(safe_mode)
                inner = c["config"]
                config[key] = _func_load(inner["code"], defaults=inner["defaults"], closure=inner["closure"])
            elif isinstance(c, dict):
                config[key] = _deserialize_function(c, custom_objects)
            elif key == "output_shape" and isinstance(c, list) and all(isinstance(e, (int, type(None))) for e in c):
                config[key] = tuple(c)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
        return cls(**config)


# ---- Embedding ------------------------------------------------------------------------------------


class Embedding(Layer):
    """Maps non-negative integer ids to dense vectors of size ``output_dim`` (``tf.keras.layers.Embedding``).

    Ids that are not int32/int64 are cast to int32. With ``mask_zero=True`` id 0 is padding: the
    output mask is ``inputs != 0`` (so ``input_dim`` should count it).

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.Embedding(10, 3, mask_zero=True)
    >>> out = layer(tg.constant([[1, 0, 4]]))
    >>> out.shape, out._keras_mask.numpy()
    (TensorShape([1, 3, 3]), array([[ True, False,  True]]))
    """

    def __init__(
        self,
        input_dim,
        output_dim,
        embeddings_initializer="uniform",
        embeddings_regularizer=None,
        embeddings_constraint=None,
        mask_zero=False,
        weights=None,
        lora_rank=None,
        lora_alpha=None,
        quantization_config=None,
        **kwargs,
    ):
        if not isinstance(input_dim, int) or isinstance(input_dim, bool) or input_dim <= 0:
            raise ValueError(
                f"`input_dim` must be a positive integer. Received: input_dim={input_dim} "
                f"(of type {type(input_dim).__name__})."
            )
        if not isinstance(output_dim, int) or isinstance(output_dim, bool) or output_dim <= 0:
            raise ValueError(
                f"`output_dim` must be a positive integer. Received: output_dim={output_dim} "
                f"(of type {type(output_dim).__name__})."
            )
        input_length = kwargs.pop("input_length", None)
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        _lora_unsupported("Embedding", lora_rank)
        _quantization_unsupported("Embedding", quantization_config)
        self.input_dim = input_dim
        self.output_dim = output_dim
        set_weight_options(self, embeddings=(embeddings_initializer, embeddings_regularizer, embeddings_constraint))
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        self.lora_rank = None
        self.lora_enabled = False
        if weights is not None:
            self.build()
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        self._embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            trainable=True,
        )
        self.built = True

    @property
    def embeddings(self):
        if not self.built:
            raise AttributeError("You must build the layer before accessing `embeddings`.")
        return self._embeddings

    def call(self, inputs):
        if inputs.dtype.name not in ("int32", "int64"):
            inputs = _ops.cast(inputs, "int32")
        return _ops_shape.gather(self._embeddings, inputs, axis=0)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return _ops.not_equal(inputs, _ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def enable_lora(self, rank, lora_alpha=None, a_initializer="he_uniform", b_initializer="zeros"):
        raise NotImplementedError("Embedding.enable_lora: LoRA is not supported by tapegrad yet")

    def get_config(self):
        config = {
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            **weight_options_config(self, ["embeddings"], activity=True),
            "mask_zero": self.mask_zero,
            "quantization_config": None,
        }
        return {**super().get_config(), **config}
