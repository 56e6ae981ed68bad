"""Keras 3 losses (``tg.keras.losses``, also ``tg.losses``): classes, functions, ``get``.

>>> import tapegrad as tg
>>> loss = tg.keras.losses.get("CategoricalCrossentropy")
>>> float(loss(tg.constant([[0.0, 1.0]]), tg.constant([[0.5, 0.5]]))) > 0.69
True
"""

import inspect as _inspect

from .base import Loss, LossFunctionWrapper, reduce_weighted_values, squeeze_or_expand_to_same_rank
from .extra import (
    CTC,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
)
from .hinge import CategoricalHinge, Hinge, SquaredHinge, categorical_hinge, hinge, squared_hinge
from .probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from .regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from .segmentation import Dice, Tversky, dice, tversky

# Short aliases (Keras 3 keeps them under keras._legacy; tf.keras 2 exports them).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber

_CLASSES = (
    Loss,
    LossFunctionWrapper,
    KLDivergence,
    Poisson,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    SparseCategoricalCrossentropy,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    CosineSimilarity,
    LogCosh,
    Huber,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    Dice,
    Tversky,
    CTC,
    Circle,
    CategoricalGeneralizedCrossEntropy,
)
_FUNCTIONS = (
    kl_divergence,
    poisson,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    sparse_categorical_crossentropy,
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    cosine_similarity,
    log_cosh,
    huber,
    hinge,
    squared_hinge,
    categorical_hinge,
    dice,
    tversky,
    ctc,
    circle,
    categorical_generalized_cross_entropy,
)
# Keras's ALL_OBJECTS_DICT: every class and function by name, and the short aliases.
_BY_NAME = {o.__name__: o for o in _CLASSES + _FUNCTIONS}
_BY_NAME.update(
    {
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "kld": kl_divergence,
        "KLD": kl_divergence,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
        "logcosh": log_cosh,
        "huber_loss": huber,
        "kullback_leibler_divergence": kl_divergence,
    }
)


def serialize(loss):
    """A config dict for a Loss instance (``{"class_name", "config"}``), or the name of a loss function."""
    if isinstance(loss, Loss):
        return {
            "module": "keras.losses",
            "class_name": type(loss).__name__,
            "config": loss.get_config(),
            "registered_name": None,
        }
    if callable(loss) and getattr(loss, "__name__", None) in _BY_NAME:
        return loss.__name__
    raise ValueError(f"Cannot serialize loss {loss!r}: not a Loss instance or a known loss function")


def deserialize(name, custom_objects=None):
    """The inverse of `serialize`: a Loss instance from a config dict, or a function from its name."""
    table = dict(_BY_NAME)
    table.update(custom_objects or {})
    if isinstance(name, str):
        if name not in table:
            raise ValueError(f"Could not interpret loss identifier: {name}")
        return table[name]
    if isinstance(name, dict) and "class_name" in name:
        cls = table.get(name["class_name"])
        if cls is None or not (_inspect.isclass(cls) and issubclass(cls, Loss)):
            raise ValueError(f"Unknown loss class: {name['class_name']}")
        return cls.from_config(name.get("config", {}))
    raise ValueError(f"Could not interpret loss identifier: {name}")


def get(identifier):
    """A loss from None, a Loss instance, a function, a class, a class or function name, or a config
    dict; classes are instantiated with their defaults (Keras's ``losses.get``)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _BY_NAME.get(identifier, None)
    else:
        obj = identifier
    if callable(obj):
        if _inspect.isclass(obj):
            obj = obj()
        return obj
    raise ValueError(f"Could not interpret loss identifier: {identifier}")


__all__ = [
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CTC",
    "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy",
    "CategoricalHinge",
    "Circle",
    "CosineSimilarity",
    "Dice",
    "Hinge",
    "Huber",
    "KLD",
    "KLDivergence",
    "LogCosh",
    "Loss",
    "LossFunctionWrapper",
    "MAE",
    "MAPE",
    "MSE",
    "MSLE",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredError",
    "MeanSquaredLogarithmicError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "SquaredHinge",
    "Tversky",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "deserialize",
    "dice",
    "get",
    "hinge",
    "huber",
    "huber_loss",
    "kl_divergence",
    "kld",
    "kullback_leibler_divergence",
    "log_cosh",
    "logcosh",
    "mae",
    "mape",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "mse",
    "msle",
    "poisson",
    "reduce_weighted_values",
    "serialize",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "squeeze_or_expand_to_same_rank",
    "tversky",
]
