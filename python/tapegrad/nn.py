"""``tg.nn``: activations."""
from ._core import relu, sigmoid, softplus  # noqa: F401

__all__ = ["relu", "sigmoid", "softplus"]
