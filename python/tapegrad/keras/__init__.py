"""``tg.keras``: Keras 3's API on the tapegrad engine (optimizers, losses, layers, models, metrics, ...)."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers
from . import layers
from . import models
from . import callbacks
from . import backend
from . import saving
from . import utils
from . import ops, random
from . import mixed_precision
from . import datasets
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
    "datasets",
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

# Keras 3's modules that tapegrad does not implement (NotInTapegradError; see tapegrad/_missing.py).
if not _TYPE_CHECKING:
    from .._missing import module_getattr as _module_getattr

    __getattr__ = _module_getattr(
        __name__,
        "tf.keras",
        (
            "applications",
            "config",
            "distillation",
            "distribution",
            "dtype_policies",
            "export",
            "legacy",
            "preprocessing",
            "quantizers",
            "tree",
            "visualization",
            "wrappers",
        ),
        "It covers Keras 3's layers, models, losses, metrics, optimizers, callbacks, saving, ops and the modules "
        "in tapegrad.keras.__all__.",
    )
