"""``tf.keras.ops``: Keras 3's backend-neutral ops (numpy-like, ``nn``, ``linalg``, math, core) on
tapegrad's differentiable ops, with Keras's argument names, defaults and dtype rules.

Everything here is differentiable where the op is (gradients flow through ``GradientTape``).
Called on ``keras.Input`` tensors, an op records an operation of the functional model, as in
Keras (``x = ops.expand_dims(inputs, -1)``); such models save and load in tapegrad's ``.keras``
files, but Keras writes these operations differently (their arguments in the operation's config),
so exchanging them with Keras is not supported yet.
``tests/test_keras_namespaces.py`` lists which of Keras 3's names exist here and which are not yet.

>>> import tapegrad as tg
>>> ops = tg.keras.ops
>>> float(ops.sum(ops.multiply(ops.ones((2, 3)), 2.0)))
12.0
"""
import inspect as _inspect

import numpy as _np

from . import core, image, linalg, math, nn, numpy  # noqa: F401
from ..._tensor import Tensor as _Tensor, Variable as _Variable

_PLAIN = frozenset({_Tensor, _Variable, int, float, bool, str, type(None), _np.ndarray})

# Functions whose results are not tensors, or that take Python callables: not recorded as
# functional-graph operations when given KerasTensors.
_NOT_SYMBOLIC = {"shape", "ndim", "size", "dtype", "is_tensor", "convert_to_numpy", "result_type", "cond",
                 "while_loop", "fori_loop", "map", "scan", "switch", "custom_gradient", "vectorized_map", "vectorize"}


def _is_kt(a):
    if a.__class__ in _PLAIN:
        return False
    if getattr(a, "_is_keras_tensor", False):
        return True
    return isinstance(a, (list, tuple)) and any(getattr(e, "_is_keras_tensor", False) for e in a)


def _has_keras_tensor(args, kwargs):
    for a in args:
        if _is_kt(a):
            return True
    if kwargs:
        for a in kwargs.values():
            if _is_kt(a):
                return True
    return False


def _symbolic_op(name, fn):
    """``fn`` that, given KerasTensors (the functional API), records an operation node as Keras's
    ops do (``x = keras.ops.expand_dims(inputs, -1)``); on tensors it is ``fn`` itself."""
    cls_name = _class_name(name)

    def op(*args, **kwargs):
        if not _has_keras_tensor(args, kwargs):
            return fn(*args, **kwargs)
        from ... import nest
        from ..layers.input_layer import _OP_FUNCTIONS, _operation
        from ..models.functional import _run_on_zeros, in_symbolic_build
        _OP_FUNCTIONS.setdefault(cls_name, fn)
        if in_symbolic_build():
            structure, kts = _run_on_zeros(None, args, kwargs, fn=_OP_FUNCTIONS[cls_name])
            return nest.pack_sequence_as(structure, kts)
        return _operation(cls_name)(*args, **kwargs)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = fn.__doc__
    op.__wrapped__ = fn
    op.__signature__ = _inspect.signature(fn)
    return op


def _class_name(name):
    """Keras's operation class name for an ops function: ``expand_dims`` -> ``ExpandDims``."""
    return "".join(part.capitalize() for part in name.split("_"))


def _register():
    """Wraps every ops function with `_symbolic_op` and registers it as a functional-graph
    operation (so a saved model's operations are found on loading, before any is called)."""
    from ..layers.input_layer import _OP_FUNCTIONS
    for mod in (core, numpy, nn, linalg, math, image):
        for name in mod.__all__:
            fn = getattr(mod, name)
            if name in _NOT_SYMBOLIC or not _inspect.isfunction(fn) or hasattr(fn, "__wrapped__"):
                continue
            _OP_FUNCTIONS.setdefault(_class_name(name), fn)
            setattr(mod, name, _symbolic_op(name, fn))


_register()
from .core import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .math import *  # noqa: F401,F403
from .nn import *  # noqa: F401,F403
from .numpy import *  # noqa: F401,F403
from .numpy import (  # noqa: F401  (names that shadow builtins: `import *` would skip none, but be explicit)
    abs, all, any, max, min, round, sum,
)
from .numpy import norm  # noqa: F401,E402  (numpy-like norm; same as linalg.norm)
