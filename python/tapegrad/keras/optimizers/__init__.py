"""Keras 3 optimizers whose update is one fused C++ call per step (``tg.keras.optimizers``,
also ``tg.optimizers``)."""
from .base import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "get"]


def get(identifier):
    """An optimizer from an instance, a class name (``"sgd"``) or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        for name in __all__:
            obj = globals()[name]
            if isinstance(obj, type) and issubclass(obj, Optimizer) and name.lower() == key:
                return obj()
        raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
    if isinstance(identifier, dict):
        cls = globals()[identifier["class_name"]]
        return cls.from_config(identifier["config"])
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
