"""``tg.keras``: Keras 3's API on the tapegrad engine (optimizers, losses, layers, models, metrics, ...)."""
from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers  # noqa: F401
from . import layers  # noqa: F401
from . import models  # noqa: F401
from . import callbacks  # noqa: F401
from . import backend  # noqa: F401
from . import saving  # noqa: F401
from . import utils  # noqa: F401
from . import ops, random  # noqa: F401
from .saving_model import KERAS_VERSION as __version__  # noqa: F401,E402  (the Keras 3 API followed)
from .layers.input_layer import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403

__all__ = ["activations", "backend", "callbacks", "constraints", "initializers", "layers", "losses", "metrics",
           "models", "ops", "optimizers", "random", "regularizers", "utils"]
