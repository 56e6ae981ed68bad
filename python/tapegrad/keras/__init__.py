"""Keras names: ``tg.keras.optimizers``, ``losses``, ``metrics``, ``activations``, ``initializers``,
``regularizers``, ``constraints``."""
from . import activations, constraints, initializers, losses, metrics, optimizers, regularizers

__all__ = ["activations", "constraints", "initializers", "losses", "metrics", "optimizers", "regularizers"]
