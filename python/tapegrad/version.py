"""``tf.version``: which TensorFlow API tapegrad follows, and tapegrad's own version.

``tf.version.VERSION`` and ``tf.__version__`` report the TensorFlow release whose API (and Keras 3
behaviour) tapegrad follows, so programs that check ``tf.__version__`` take their TF-2 paths;
``tf.version.TAPEGRAD_VERSION`` (also ``tf.__tapegrad_version__``) is tapegrad's own release.

>>> import tapegrad as tf
>>> tf.version.VERSION == tf.__version__ == "2.21.0"
True
>>> tf.version.TAPEGRAD_VERSION
'0.1.0'
"""

from . import _core

VERSION = "2.21.0"  # the TensorFlow API followed (tests compare with TF 2.21 / Keras 3.15)
# pyproject.toml's version, compiled into the engine by CMakeLists.txt (an engine built before that: unknown)
TAPEGRAD_VERSION = getattr(_core, "__version__", "0+unknown")
KERAS_VERSION = "3.15.1"  # the Keras 3 API that tf.keras follows
GIT_VERSION = "unknown"
COMPILER_VERSION = "unknown"
GRAPH_DEF_VERSION = 0
GRAPH_DEF_VERSION_MIN_CONSUMER = 0
GRAPH_DEF_VERSION_MIN_PRODUCER = 0

__all__ = ["VERSION", "TAPEGRAD_VERSION", "KERAS_VERSION", "GIT_VERSION", "COMPILER_VERSION"]
