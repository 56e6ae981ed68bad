"""tapegrad: TensorFlow-2-style eager autodiff (GradientTape, Keras optimizers and losses) with a
C++ engine. ``import tapegrad as tf`` runs the supported subset of TF 2 programs unchanged.
"""
import sys as _sys

try:
    from . import _core
except ImportError:  # pragma: no cover - rpath missing (unusual installs): preload OpenBLAS
    import ctypes as _ctypes
    import os as _os

    import scipy_openblas32 as _sob

    _ctypes.CDLL(_os.path.join(_sob.get_lib_dir(), "libscipy_openblas.so"), mode=_ctypes.RTLD_GLOBAL)
    from . import _core

from . import config, errors, nest
from ._dtypes import (  # noqa: A004
    DType, as_dtype, bfloat16, bool, double, float16, float32, float64, half, int8, int16, int32, int64, uint8,
    uint16, uint32, uint64,
)
from ._ops import *  # noqa: F401,F403
from ._ops import (  # noqa: F401  (names the star import skips)
    abs, cast, constant, convert_to_tensor, fill, linspace, ones, ones_like, pow, range, rank, round, shape, size,
    unstack, where, zeros, zeros_like,
)
from ._namespaces import exported as _exported
globals().update(_exported("top"))
from ._tape import GradientTape, UnconnectedGradients
from ._tensor import Tensor, TensorShape, TensorSpec, Variable
from .config import device
from .module import Module, name_scope  # noqa: E402
from .function import Function, case, cond, function, switch_case, while_loop  # noqa: E402
from .function import print_ as print  # noqa: E402,A001  (TF's name)
from . import autograph  # noqa: E402
from . import keras, linalg, math, nn, testing  # noqa: E402
from . import train, saved_model  # noqa: E402
from . import data  # noqa: E402
from . import experimental  # noqa: E402  (tf.experimental.dlpack)

optimizers = keras.optimizers
losses = keras.losses
metrics = keras.metrics
initializers = keras.initializers
for _alias in ("optimizers", "losses", "metrics", "initializers"):  # tf.metrics etc.: TF's keras aliases
    _sys.modules[__name__ + "." + _alias] = globals()[_alias]
del _alias

from . import version  # noqa: E402
__version__, __tapegrad_version__ = version.VERSION, version.TAPEGRAD_VERSION
