"""Keras 3 optimizers whose whole step is one fused C++ call (``tg.keras.optimizers``, also
``tg.optimizers``), learning-rate ``schedules``, and saving training state to ``.npz``."""

import os as _os
import zipfile as _zipfile

import numpy as _np

from . import schedules
from .adam import Adam, Adamax, AdamW, Lamb, Nadam
from .adaptive import Adadelta, Adafactor, Adagrad, Ftrl
from .base import Optimizer
from .loss_scale import LossScaleOptimizer
from .sgd import SGD, Lion, RMSprop

__all__ = [
    "Optimizer",
    "SGD",
    "RMSprop",
    "Adam",
    "AdamW",
    "Adagrad",
    "Adadelta",
    "Adamax",
    "Nadam",
    "Ftrl",
    "Lion",
    "Lamb",
    "Adafactor",
    "LossScaleOptimizer",
    "schedules",
    "get",
    "serialize",
    "deserialize",
    "save_training_state",
    "load_training_state",
]

_CLASSES: dict[str, type] = {
    c.__name__.lower(): c
    for c in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Lamb, Adafactor)
}
_CLASSES[LossScaleOptimizer.__name__.lower()] = LossScaleOptimizer  # needs its inner optimizer: by config only


def serialize(optimizer):
    """``{"module", "class_name", "config", "registered_name"}`` of an optimizer."""
    return {
        "module": "keras.optimizers",
        "class_name": type(optimizer).__name__,
        "config": optimizer.get_config(),
        "registered_name": None,
    }


def deserialize(config, custom_objects=None):
    """The optimizer described by `config` (as written by `serialize`)."""
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name.lower())
    if cls is None:
        raise ValueError(f"Could not interpret optimizer identifier: {config}")
    return cls.from_config(config["config"], custom_objects=custom_objects)


def get(identifier):
    """An optimizer from an instance, a class name (``"adam"``) or a config dict; None gives None (Keras)."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _CLASSES:
        return _CLASSES[identifier.lower()]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")


def save_training_state(path, optimizer, variables):
    """Writes `variables` (the model) and the optimizer's state (`Optimizer.save_own_variables`)
    to one ``.npz`` file; `load_training_state` resumes training bit-identically.

    >>> import tempfile, os, tapegrad as tg
    >>> w = tg.Variable([1.0, 2.0]); opt = tg.keras.optimizers.Adam(0.1)
    >>> _ = opt.apply_gradients([(tg.constant([1.0, 1.0]), w)])
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
    >>> tg.keras.optimizers.save_training_state(path, opt, [w])
    >>> w2 = tg.Variable([0.0, 0.0]); opt2 = tg.keras.optimizers.Adam(0.1)
    >>> tg.keras.optimizers.load_training_state(path, opt2, [w2])
    >>> int(opt2.iterations), w2.numpy().tolist() == w.numpy().tolist()
    (1, True)
    """
    variables = list(variables)
    path = _state_path(path)
    if _os.path.isdir(path):
        raise IsADirectoryError(f"save_training_state: {path!r} is a directory; give a file path")
    if not optimizer.built:
        optimizer.build(variables)
    store = {}
    optimizer.save_own_variables(store)
    arrays = {f"optimizer/{k}": v for k, v in store.items()}
    arrays.update({f"variables/{i}": v.numpy() for i, v in enumerate(variables)})
    _np.savez(path, **arrays)


def _state_path(path):
    """np.savez appends '.npz' to a name without it; loading uses the same rule so the two agree."""
    path = _os.fspath(path)
    if isinstance(path, str) and not path.endswith(".npz") and not _os.path.isdir(path):
        return path + ".npz"
    return path


def load_training_state(path, optimizer, variables):
    """Restores what `save_training_state` wrote: assigns `variables` and the optimizer's state
    (building the optimizer on `variables` first if needed). Raises ValueError on a mismatch."""
    variables = list(variables)
    path = _state_path(path)
    try:
        data = _np.load(path, allow_pickle=False)
    except (ValueError, _zipfile.BadZipFile, EOFError) as e:
        raise ValueError(
            f"load_training_state: {path!r} is not a training-state file written by "
            f"save_training_state (expected an .npz archive): {type(e).__name__}"
        ) from None
    if not isinstance(data, _np.lib.npyio.NpzFile):
        raise ValueError(f"load_training_state: {path!r} holds a single array, not a training-state .npz archive")
    with data:
        saved_vars = sorted((k for k in data.files if k.startswith("variables/")), key=lambda k: int(k.split("/")[1]))
        if len(saved_vars) != len(variables):
            raise ValueError(f"The file holds {len(saved_vars)} variables; {len(variables)} were given")
        values = [data[k] for k in saved_vars]
        for v, a in zip(variables, values):
            if tuple(a.shape) != tuple(v.shape) or a.dtype != v.dtype.as_numpy_dtype:
                raise ValueError(
                    f"Saved value for variable '{v.name}' is {a.dtype} {a.shape}; the variable is "
                    f"{v.dtype.name} {tuple(v.shape)}"
                )
        store = {k.split("/", 1)[1]: data[k] for k in data.files if k.startswith("optimizer/")}
        for i, v in enumerate(optimizer.variables if optimizer.built else ()):
            a = store.get(str(i))
            if a is not None and tuple(a.shape) != tuple(v.shape):  # checked before anything is written
                raise ValueError(
                    f"Optimizer variable {i} ('{v.name}') has shape {tuple(v.shape)}; the saved "
                    f"value has shape {tuple(a.shape)}"
                )
    if not optimizer.built:
        optimizer.build(variables)
    if len(store) != len(optimizer.variables):
        raise ValueError(
            f"The file holds {len(store)} optimizer variables; optimizer '{optimizer.name}' has "
            f"{len(optimizer.variables)}"
        )
    optimizer.load_own_variables(store)
    for v, a in zip(variables, values):
        v.assign(a)
