"""Keras names: ``tg.keras.optimizers`` and ``tg.keras.losses``."""
from . import losses, optimizers

__all__ = ["losses", "optimizers"]
