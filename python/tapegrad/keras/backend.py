"""``tf.keras.backend``: the few backend helpers TF-2 programs call."""

from .layers.base import clear_session

__all__ = ["backend", "clear_session", "epsilon", "floatx", "image_data_format"]


def floatx():
    """The default float type name, ``"float32"``."""
    return "float32"


def epsilon():
    """The fuzz factor Keras uses in numeric expressions, ``1e-7``."""
    return 1e-7


def image_data_format():
    """``"channels_last"``: tapegrad's conv layers use NHWC as Keras's default."""
    return "channels_last"


def backend():
    """The name of the backend Keras would report: tapegrad implements Keras's TF backend API."""
    return "tensorflow"
