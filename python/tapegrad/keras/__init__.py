"""``tg.keras``: Keras 3's API on the tapegrad engine (optimizers, losses, layers, models, metrics, ...)."""

from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers
from . import layers
from . import models
from . import callbacks
from . import backend
from . import saving
from . import utils
from . import ops, random
from . import mixed_precision
from .saving_model import KERAS_VERSION as __version__  # noqa: F401  (the Keras 3 API followed)
from .layers.input_layer import Input, InputLayer, KerasTensor
from .models import Model, Sequential, load_model, save_model

__all__ = [
    "Input",
    "InputLayer",
    "KerasTensor",
    "Model",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "constraints",
    "initializers",
    "layers",
    "load_model",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "save_model",
    "saving",
    "utils",
]
