"""``tf.keras.layers``: Keras 3's layers. Each family lives in its own module."""
from .base import InputSpec, Layer  # noqa: F401
from .input_layer import *  # noqa: F401,F403
from .core import *  # noqa: F401,F403
from .activation_layers import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .merging import *  # noqa: F401,F403
from .regularization import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .preprocessing import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .rnn import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
