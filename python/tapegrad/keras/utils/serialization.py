"""``keras.utils`` serialization helpers: ``serialize_keras_object``/``deserialize_keras_object``
(Keras 3's ``{"module", "class_name", "config", "registered_name"}`` dicts, dispatched on
``module``), the custom-object registry (`keras.saving`), and small utilities (``normalize``,
``standardize_dtype``, ``is_keras_tensor``, ``clear_session``).

>>> import tapegrad as tg
>>> cfg = tg.keras.utils.serialize_keras_object(tg.keras.layers.Dense(2, name="d"))
>>> cfg["module"], cfg["class_name"]
('keras.layers', 'Dense')
>>> tg.keras.utils.deserialize_keras_object(cfg).units
2
"""

import inspect

import numpy as np

from ..saving_model import (  # noqa: F401
    CustomObjectScope,
    _custom_table,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "serialize_keras_object",
    "deserialize_keras_object",
    "normalize",
    "standardize_dtype",
    "is_keras_tensor",
    "clear_session",
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "register_keras_serializable",
]


def _modules():
    from .. import activations, constraints, initializers, losses, metrics, optimizers, regularizers

    return {
        "keras.activations": activations,
        "keras.constraints": constraints,
        "keras.initializers": initializers,
        "keras.losses": losses,
        "keras.metrics": metrics,
        "keras.optimizers": optimizers,
        "keras.regularizers": regularizers,
    }


def serialize_keras_object(obj):
    """The Keras 3 config dict of ``obj`` (a layer, model, optimizer, loss, metric, initializer,
    regularizer, constraint), the name of a built-in function, or ``obj`` itself for plain values."""
    from ..layers.base import Layer
    from ..optimizers.base import Optimizer

    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(o) for o in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(), "dtype": obj.dtype.name}}
    registered = get_registered_name(type(obj)) if not inspect.isfunction(obj) else None
    custom = registered is not None and ">" in registered
    if isinstance(obj, Layer):
        from ..models.model import Model

        module = "keras" if isinstance(obj, Model) else "keras.layers"
        out = {
            "module": obj.__class__.__module__ if custom else module,
            "class_name": type(obj).__name__,
            "config": obj.get_config(),
            "registered_name": registered if custom else None,
        }
        return out
    if isinstance(obj, Optimizer):
        from .. import optimizers

        return optimizers.serialize(obj)
    from .. import activations, constraints, initializers, losses, metrics, regularizers

    for base, mod in (
        (losses.Loss, losses),
        (metrics.Metric, metrics),
        (initializers.Initializer, initializers),
        (regularizers.Regularizer, regularizers),
        (constraints.Constraint, constraints),
    ):
        if isinstance(obj, base):
            return mod.serialize(obj)
    if inspect.isfunction(obj) and not custom:
        for mod in (activations, losses, metrics):
            if getattr(mod, obj.__name__, None) is obj:
                return obj.__name__
    if inspect.isfunction(obj):
        return {
            "module": obj.__module__,
            "class_name": "function",
            "config": obj.__name__,
            "registered_name": get_registered_name(obj),
        }
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj)}: it has no Keras serialization.")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object a `serialize_keras_object` dict (or a Keras 3 one) describes."""
    from ..models.model import deserialize_layer

    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects) for c in config]
    if not isinstance(config, dict):
        obj = _custom_table(custom_objects).get(config)
        if obj is not None:
            return obj
        return config
    if "class_name" not in config:
        return {k: deserialize_keras_object(v, custom_objects) for k, v in config.items()}
    if config["class_name"] == "__numpy__":
        return np.asarray(config["config"]["value"], dtype=config["config"]["dtype"])
    custom = _custom_table(custom_objects)
    reg = config.get("registered_name")
    if reg and reg in custom and config["class_name"] != "function":
        return custom[reg].from_config(config["config"])
    if config["class_name"] == "function":
        fn = custom.get(reg) or custom.get(config["config"])
        if fn is None:
            module = _modules().get(config.get("module"))
            fn = getattr(module, config["config"], None) if module else None
        if fn is None:
            raise TypeError(
                f"Could not locate function '{config['config']}'. Make sure custom functions are "
                "decorated with `@keras.saving.register_keras_serializable()`. "
                f"Full object config: {config}"
            )
        return fn
    module = config.get("module", "")
    if module in _modules():
        return _modules()[module].deserialize(config, custom_objects=custom)
    return deserialize_layer(config, custom)


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (numpy in, numpy out; zero norms left as is).

    >>> import tapegrad as tg
    >>> tg.keras.utils.normalize([[3.0, 4.0]]).tolist()
    [[0.6, 0.8]]
    """
    from .. import ops

    if not hasattr(x, "numpy"):
        x = np.asarray(x)
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis)
    return ops.normalize(x, axis=axis, order=order)


def standardize_dtype(dtype):
    """The Keras dtype string of ``dtype`` (``"float32"``, ``"int64"``, ...; None -> ``"float32"``)."""
    if dtype is None:
        return "float32"
    if dtype == "int":
        return "int64"
    if dtype == "float":
        return "float32"
    if hasattr(dtype, "name") and not isinstance(dtype, np.dtype):
        return dtype.name
    return np.dtype(dtype).name


def is_keras_tensor(x):
    """True for the symbolic tensors of functional models (``keras.Input(...)`` and layer outputs)."""
    return getattr(x, "_is_keras_tensor", False)


def clear_session(free_memory=True):
    """Resets Keras's layer-name counters."""
    from ..layers.base import clear_session as _clear

    _clear()
