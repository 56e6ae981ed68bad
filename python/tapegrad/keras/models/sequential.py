"""``tf.keras.Sequential`` (Keras 3): a stack of single-input layers.

With an ``Input`` (or a first layer given ``input_shape=``) the model is built at once as a
functional graph; otherwise it is built on its first call (or ``build(input_shape)``).

>>> import tapegrad as tg
>>> class Scale(tg.keras.layers.Layer):
...     def build(self, input_shape):
...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
...     def call(self, x):
...         return x * self.w
>>> model = tg.keras.Sequential([tg.keras.Input(shape=(3,)), Scale(name="scale")], name="stack")
>>> model.output_shape, [w.path for w in model.weights]
((None, 3), ['stack/scale/w'])
"""

import copy
import inspect

from ..layers.base import Layer
from ..layers.input_layer import InputLayer, standardize_shape
from .functional import Functional
from .model import Model, deserialize_layer

__all__ = ["Sequential"]


class Sequential(Model):
    """``Sequential(layers=None, trainable=True, name=None)``: ``add``, ``pop``, ``layers``, ``build``."""

    def __new__(cls, *args, **kwargs):
        return Layer.__new__(cls)

    def __init__(self, layers=None, trainable=True, name=None):
        Model._base_init(self, trainable=trainable, name=name)
        object.__setattr__(self, "_functional", None)
        object.__setattr__(self, "_layers", [])
        if layers:
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    def add(self, layer, rebuild=True):
        """Appends a layer (or an ``Input``'s layer) on top of the stack."""
        if not self._layers:
            shape = getattr(layer, "_batch_input_shape", None)
            if shape is not None and isinstance(layer, Layer):
                self.add(InputLayer(batch_shape=shape, dtype=getattr(layer, "_input_dtype", None)), rebuild=False)
        if hasattr(layer, "_keras_history"):
            origin = layer._keras_history[0]
            if isinstance(origin, InputLayer):
                layer = origin
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Only instances of `keras.Layer` can be added to a Sequential model. Received: {layer} "
                f"(of type {type(layer)})"
            )
        for ref in self._layers:
            if ref.name == layer.name and ref is not layer:
                raise ValueError(
                    f"All layers added to a Sequential model should have unique names. Name "
                    f"'{layer.name}' is already the name of a layer in this model. Update the `name` "
                    "argument to pass a unique name."
                )
        if isinstance(layer, InputLayer) and self._layers and isinstance(self._layers[0], InputLayer):
            raise ValueError(
                f"Sequential model '{self.name}' has already been configured to use input shape "
                f"{self._layers[0].batch_shape}. You cannot add a different Input layer to it."
            )
        self._layers.append(layer)
        self._sync_tracked()
        if rebuild:
            self._maybe_rebuild()
        else:
            self.built = False
            object.__setattr__(self, "_functional", None)

    def pop(self, rebuild=True):
        """Removes the top layer and returns it."""
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self._sync_tracked()
        self.built = False
        object.__setattr__(self, "_functional", None)
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _sync_tracked(self):
        self._tracked_layers[:] = list(self._layers)

    def _maybe_rebuild(self):
        self.built = False
        object.__setattr__(self, "_functional", None)
        if self._layers and isinstance(self._layers[0], InputLayer) and len(self._layers) > 1:
            self.build(self._layers[0].batch_shape)

    def build(self, input_shape=None):
        """Builds the stack as a functional graph from ``Input(batch_shape=input_shape)``."""
        try:
            input_shape = standardize_shape(input_shape)
        except (ValueError, TypeError):
            return
        if not self._layers:
            raise ValueError(
                f"Sequential model {self.name} cannot be built because it has no layers. Call `model.add(layer)`."
            )
        if isinstance(self._layers[0], InputLayer):
            if not _compatible(self._layers[0].batch_shape, input_shape):
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._layers[0].batch_shape}. You cannot build it with input_shape {input_shape}"
                )
        else:
            dtype = self._layers[0].compute_dtype
            self._layers.insert(0, InputLayer(batch_shape=input_shape, dtype=dtype))
            self._sync_tracked()
        inputs = self._layers[0].output
        x = inputs
        with self._open_name_scope():
            object.__setattr__(self, "_path", _current_path())
            for layer in self._layers[1:]:
                try:
                    x = layer(x)
                except NotImplementedError:
                    return
                except TypeError as e:
                    params = [
                        p
                        for p in inspect.signature(layer.call).parameters.values()
                        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                    ]
                    required = [p for p in params if p.default is inspect.Parameter.empty]
                    if not params:
                        raise ValueError(
                            "Layers added to a Sequential model should have a single positional "
                            f"argument, the input tensor. Layer {type(layer).__name__} has no "
                            "positional arguments."
                        ) from e
                    if len(required) > 1:
                        raise ValueError(
                            "Layers added to a Sequential model can only have a single required "
                            "positional argument, the input tensor. Layer "
                            f"{type(layer).__name__} has multiple required positional arguments: "
                            f"{required}"
                        ) from e
                    raise
        object.__setattr__(self, "_functional", Functional(inputs=inputs, outputs=x))
        self.built = True

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        first = args[0] if args else next(iter(kwargs.values()), None)
        if first is not None and hasattr(first, "shape"):
            self.build(tuple(first.shape))
        if self._functional is None:
            self.built = True

    def call(self, inputs, training=None, mask=None):
        if self._functional is not None:
            return self._functional.call(inputs, training=training, mask=mask)
        for layer in self.layers:
            kwargs = {}
            if layer._call_has_mask_arg:
                kwargs["mask"] = mask
            if layer._call_has_training_arg and training is not None:
                kwargs["training"] = training
            outputs = layer(inputs, **kwargs)
            inputs = outputs
            mask = getattr(outputs, "_keras_mask", None)
        return outputs

    @property
    def layers(self):
        """The stacked layers, without the ``InputLayer``."""
        layers = self._layers
        if layers and isinstance(layers[0], InputLayer):
            return layers[1:]
        return layers[:]

    @layers.setter
    def layers(self, _):
        raise AttributeError(
            "`Sequential.layers` attribute is reserved and should not be used. Use `add()` and "
            "`pop()` to change the layers in this model."
        )

    def compute_output_shape(self, input_shape):
        if self._functional is not None:
            return self._functional.compute_output_shape(input_shape)
        for layer in self.layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    @property
    def input_shape(self):
        if self._functional is not None:
            return self._functional.input_shape
        raise AttributeError(f"Sequential model '{self.name}' has no defined input shape yet.")

    @property
    def output_shape(self):
        if self._functional is not None:
            return self._functional.output_shape
        raise AttributeError(f"Sequential model '{self.name}' has no defined output shape yet.")

    @property
    def inputs(self):
        if self._functional is not None:
            return self._functional.inputs
        raise AttributeError(f"Sequential model '{self.name}' has no defined inputs yet.")

    @property
    def outputs(self):
        if self._functional is not None:
            return self._functional.outputs
        raise AttributeError(f"Sequential model '{self.name}' has no defined outputs yet.")

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    @property
    def input_dtype(self):
        if self._layers and isinstance(self._layers[0], InputLayer):
            return self._layers[0].dtype
        return super().input_dtype

    def get_config(self):
        """``{"name", "trainable", "dtype", "layers": [{"class_name", "config", ...}], "build_input_shape"}``."""
        layer_configs = [
            {
                "module": "keras.layers",
                "class_name": type(layer).__name__,
                "config": layer.get_config(),
                "registered_name": None,
            }
            for layer in self._layers
        ]
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": self.dtype.name,
            "layers": copy.deepcopy(layer_configs),
        }
        if self._functional is not None:
            config["build_input_shape"] = self._layers[0].batch_shape
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "name" not in config:
            raise ValueError(
                "A Sequential model configuration must be a dictionary containing the 'name' and "
                f"'layers' keys. Received: config={config}"
            )
        model = cls(name=config["name"], trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config, custom_objects))
        build_input_shape = config.get("build_input_shape")
        if model._functional is None and build_input_shape and isinstance(build_input_shape, (tuple, list)):
            model.build(build_input_shape)
        return model


def _current_path():
    from ..layers.base import current_path  # noqa: PLC0415

    return current_path()


def _compatible(configured, shape):
    """Whether `shape` fits the InputLayer's batch shape (None matches any size). A layer whose first
    build ran symbolically (None batch) is built again on real data inside a shape-inference run."""
    if configured == shape:
        return True
    if configured is None or shape is None or len(configured) != len(shape):
        return False
    return all(a is None or b is None or a == b for a, b in zip(configured, shape))
