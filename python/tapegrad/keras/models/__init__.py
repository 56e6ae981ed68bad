"""``tf.keras.models``: ``Model`` (subclassed or functional), ``Sequential``, ``clone_model``."""

from .model import Model
from .functional import Functional  # what Model(inputs, outputs) makes
from .sequential import Sequential
from ..saving_model import load_model, save_model

__all__ = ["Functional", "Model", "Sequential", "clone_model", "load_model", "model_from_json", "save_model"]


def clone_model(model, input_tensors=None, clone_function=None, call_function=None, recursive=False, **kwargs):
    """A new model with the same architecture and fresh weights, rebuilt from ``get_config()``.

    >>> import tapegrad as tg
    >>> class Scale(tg.keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(shape=(input_shape[-1],), name="w")
    ...     def call(self, x):
    ...         return x * self.w
    >>> model = tg.keras.Sequential([tg.keras.Input(shape=(2,)), Scale()])
    >>> clone = tg.keras.models.clone_model(model)
    >>> clone.output_shape, clone.weights[0] is model.weights[0]
    ((None, 2), False)
    """
    if input_tensors is not None or clone_function is not None or call_function is not None or recursive or kwargs:
        raise NotImplementedError(
            "clone_model(): `input_tensors`, `clone_function`, `call_function` and `recursive` "
            "are not supported by tapegrad yet."
        )
    custom_objects = {type(layer).__name__: type(layer) for layer in model._flatten_layers()}
    if isinstance(model, Sequential):
        return Sequential.from_config(model.get_config(), custom_objects=custom_objects)
    if isinstance(model, Functional):
        return Functional.from_config(model.get_config(), custom_objects=custom_objects)
    return type(model).from_config(model.get_config())


def model_from_json(json_string, custom_objects=None):
    """A model (new weights) from ``model.to_json()``.

    >>> import tapegrad as tg
    >>> x = tg.keras.Input(shape=(2,), name="x")
    >>> model = tg.keras.Model(x, x[:, :1] * 3.0)
    >>> tg.keras.models.model_from_json(model.to_json()).output_shape
    (None, 1)
    """
    import json  # noqa: PLC0415

    from .model import deserialize_layer  # noqa: PLC0415

    return deserialize_layer(json.loads(json_string), custom_objects)
