"""``tf.keras.ops``: Keras 3's backend-neutral ops (numpy-like, ``nn``, ``linalg``, math, core) on
tapegrad's differentiable ops, with Keras's argument names, defaults and dtype rules.

Everything here is differentiable where the op is (gradients flow through ``GradientTape``).
``tests/test_keras_namespaces.py`` lists which of Keras 3's names exist here and which are not yet.

>>> import tapegrad as tg
>>> ops = tg.keras.ops
>>> float(ops.sum(ops.multiply(ops.ones((2, 3)), 2.0)))
12.0
"""
from . import core, linalg, math, nn, numpy  # noqa: F401
from .core import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .numpy import *  # noqa: F401,F403
from .numpy import (  # noqa: F401  (names that shadow builtins: `import *` would skip none, but be explicit)
    abs, all, any, max, min, round, sum,
)
from .numpy import norm  # noqa: F401,E402  (numpy-like norm; same as linalg.norm)
