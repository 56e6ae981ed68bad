"""TF's error classes (``tf.errors``)."""
from ._core import InvalidArgumentError

__all__ = ["InvalidArgumentError"]
