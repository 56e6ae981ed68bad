"""``tf.experimental``: the experimental APIs tapegrad implements (``tf.experimental.dlpack``)."""

from . import dlpack

__all__ = ["dlpack"]
