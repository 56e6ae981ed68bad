"""Keras's name tables and (de)serialization rules shared by activations, initializers,
regularizers, constraints and metrics (keras/src/saving/serialization_lib.py, reduced to what
those modules use): ``{"module", "class_name", "config", "registered_name"}`` dicts for objects,
plain names for built-in functions, string lookups by class name, snake_case name and aliases."""

import inspect

import numpy as np

from .losses.base import _to_snake_case as to_snake_case

__all__ = ["to_snake_case", "name_table", "serialize_object", "deserialize_object", "get_object"]


def name_table(objects, aliases=None):
    """Keras's ALL_OBJECTS_DICT: each class/function by ``__name__`` and by snake_case, then aliases."""
    table = {o.__name__: o for o in objects}
    table.update({to_snake_case(o.__name__): o for o in objects})
    table.update(aliases or {})
    return table


def serialize_value(value):
    """Config values: numpy arrays and scalars as Keras's ``__numpy__`` dicts, others unchanged."""
    if isinstance(value, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": value.tolist(), "dtype": value.dtype.name}}
    if isinstance(value, np.generic):
        return value.item()
    return value


def deserialize_value(value):
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    return value


def serialize_object(obj, module, table):
    """A config dict for an instance of a class with ``get_config``; the name of a known function."""
    if obj is None:
        return None
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        name = obj.__name__
        if table.get(name) is obj:
            return name
        return {
            "module": getattr(obj, "__module__", None),
            "class_name": "function",
            "config": name,
            "registered_name": "function",
        }
    cls = type(obj)
    known = table.get(cls.__name__) is cls
    return {
        "module": module if known else cls.__module__,
        "class_name": cls.__name__,
        "config": obj.get_config(),
        "registered_name": None if known else cls.__name__,
    }


def deserialize_object(config, table, kind, custom_objects=None):
    """The object a config dict or a name stands for; classes named by a string are instantiated
    with their defaults, as Keras's ``deserialize_keras_object`` does."""
    lookup = dict(table)
    lookup.update(custom_objects or {})
    if config is None:
        return None
    if isinstance(config, str):
        obj = lookup.get(config)
        if obj is None:
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return obj() if inspect.isclass(obj) else obj
    if isinstance(config, dict) and "class_name" in config:
        class_name = config["class_name"]
        if class_name == "function":
            fn = lookup.get(config.get("config"))
            if fn is None:
                raise ValueError(f"Could not interpret {kind} identifier: {config.get('config')}")
            return fn
        cls = lookup.get(class_name)
        if cls is None and config.get("registered_name"):
            cls = lookup.get(config["registered_name"])
        if cls is None or not inspect.isclass(cls):
            raise ValueError(f"Could not interpret {kind} identifier: {config}")
        return cls.from_config(config.get("config") or {})
    raise ValueError(f"Could not interpret {kind} identifier: {config}")


def get_object(identifier, table, kind, instantiate=True):
    """Keras's ``get``: dicts are deserialized, strings looked up, callables passed through,
    classes instantiated; anything else is ``ValueError("Could not interpret {kind} identifier")``."""
    if isinstance(identifier, dict):
        obj = deserialize_object(identifier, table, kind)
    elif isinstance(identifier, str):
        obj = table.get(identifier)
    else:
        obj = identifier
    if callable(obj):
        if instantiate and inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
