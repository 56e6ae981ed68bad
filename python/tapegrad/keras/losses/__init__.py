"""Keras 3 losses (``tg.keras.losses``, also ``tg.losses``)."""
from .base import Loss, LossFunctionWrapper
from .regression import MeanSquaredError, mean_squared_error

mse = MSE = mean_squared_error

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "mean_squared_error", "mse", "MSE", "get"]


def get(identifier):
    """A loss from an instance, a callable, a class or function name, or a config dict."""
    if identifier is None or isinstance(identifier, Loss) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, str):
        if identifier in globals() and identifier in __all__:
            obj = globals()[identifier]
            return obj() if isinstance(obj, type) else obj
        raise ValueError(f"Could not interpret loss identifier: {identifier}")
    if isinstance(identifier, dict):
        return globals()[identifier["class_name"]].from_config(identifier["config"])
    raise ValueError(f"Could not interpret loss identifier: {identifier}")
