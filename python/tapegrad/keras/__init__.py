"""``tg.keras``: Keras 3's API on the tapegrad engine (optimizers, losses, layers, models, metrics, ...)."""
from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers  # noqa: F401
from . import layers  # noqa: F401
from . import models  # noqa: F401
from . import callbacks  # noqa: F401
from . import backend  # noqa: F401
from . import saving  # noqa: F401
from . import utils  # noqa: F401
from .layers.input_layer import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403

__all__ = ["activations", "backend", "callbacks", "constraints", "initializers", "layers", "losses", "metrics",
           "models", "optimizers", "regularizers", "utils"]
