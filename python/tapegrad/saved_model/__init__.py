"""``tf.saved_model.save`` / ``tf.saved_model.load`` for a round trip *within tapegrad*.

This is **not TensorFlow's SavedModel format**: TF cannot load these directories, and tapegrad
cannot load TF's. Nothing is traced and no graph is stored; the directory holds the object's
variables plus what is needed to rebuild the Python object, without pickle:

* ``export_dir/saved_model.json`` — the class (module and qualified name), and for Keras layers
  and models their ``get_config()`` and build input shape;
* ``export_dir/variables/variables.index`` and ``.data-00000-of-00001`` — a tapegrad checkpoint
  of the object (``tf.train.Checkpoint(root=obj)``), so ``tf.train.Checkpoint(...).restore``
  also accepts the directory.

``load`` imports the class (it must be importable under the same module and name: a class
defined inside a function cannot be saved; one defined in ``__main__`` loads only in a program
that defines it there), rebuilds the object — Keras objects with ``from_config(config)`` then
built on the saved input shape; other objects (``tf.Module``) by calling the class with no
arguments — and restores the variables into it. Methods are the class's current Python code.
``signatures`` and TF's graph-only features (``concrete_functions``, serving) raise
``NotImplementedError``.

>>> import tempfile
>>> import tapegrad as tg
>>> from tapegrad.saved_model import _DocExample
>>> m = _DocExample()
>>> _ = m.w.assign([5.0, 6.0])
>>> d = tempfile.mkdtemp()
>>> tg.saved_model.save(m, d)
>>> tg.saved_model.load(d).w.numpy().tolist()
[5.0, 6.0]
"""
import importlib
import json
import os
import sys


from ..module import Module
from ..train.checkpoint import Checkpoint, _kind

__all__ = ["save", "load", "contains_saved_model", "SaveOptions", "LoadOptions"]

_META = "saved_model.json"
_FORMAT = "tapegrad-saved-model"


class SaveOptions:
    """``tf.saved_model.SaveOptions``: accepted for compatibility; every option is ignored."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class LoadOptions:
    """``tf.saved_model.LoadOptions``: accepted for compatibility; every option is ignored."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)


class _DocExample(Module):
    """A tiny module for the docstring example."""

    def __init__(self):
        super().__init__()
        from .._tensor import Variable  # noqa: PLC0415
        self.w = Variable([1.0, 2.0], name="w")


def _is_keras(obj):
    from ..keras.layers.base import Layer  # noqa: PLC0415
    return isinstance(obj, Layer)


def _shape_to_json(s):
    if s is None:
        return None
    try:
        return {"shape": [None if d is None else int(d) for d in s]}
    except TypeError:
        pass
    if isinstance(s, dict):
        return {"dict": {k: _shape_to_json(v) for k, v in s.items()}}
    if isinstance(s, (list, tuple)):
        return {"list": [_shape_to_json(v) for v in s]}
    raise NotImplementedError(f"Cannot record the build shape {s!r}")


def _shape_from_json(j):
    if j is None:
        return None
    if "shape" in j:
        return tuple(j["shape"])
    if "dict" in j:
        return {k: _shape_from_json(v) for k, v in j["dict"].items()}
    return [_shape_from_json(v) for v in j["list"]]


def save(obj, export_dir, signatures=None, options=None):
    """Saves `obj` (a ``tf.Module`` or Keras layer/model) to the directory `export_dir`.

    Not TF's SavedModel format (see the module docstring).
    """
    if signatures is not None:
        raise NotImplementedError("tapegrad.saved_model.save does not store `signatures`: nothing is traced; the "
                                  "loaded object runs the class's Python methods")
    if _kind(obj) not in ("layer", "module"):
        raise ValueError(f"Expected a Trackable object for export, got {obj} with type {type(obj)}.")
    cls = type(obj)
    if "<locals>" in cls.__qualname__:
        raise NotImplementedError(f"Cannot save {cls.__qualname__}: tapegrad.saved_model rebuilds the object from its "
                                  "class, which must be importable; a class defined inside a function is not")
    meta = {"format": _FORMAT, "version": 1, "module": cls.__module__, "qualname": cls.__qualname__}
    if _is_keras(obj):
        meta["keras"] = True
        try:
            config = obj.get_config()
            json.dumps(config)
        except (NotImplementedError, TypeError, ValueError):
            config = None
        meta["config"] = config
        meta["built"] = bool(obj.built)
        meta["build_shape"] = _shape_to_json(getattr(obj, "_build_shapes", None)) if obj.built else None
    export_dir = os.fspath(export_dir)
    os.makedirs(os.path.join(export_dir, "variables"), exist_ok=True)
    Checkpoint(root=obj).write(os.path.join(export_dir, "variables", "variables"))
    tmp = os.path.join(export_dir, _META + ".tmp")
    with open(tmp, "w") as f:
        json.dump(meta, f)
    os.replace(tmp, os.path.join(export_dir, _META))


def contains_saved_model(export_dir):
    """True if `export_dir` holds a tapegrad saved model."""
    return os.path.isfile(os.path.join(os.fspath(export_dir), _META))


def _import_class(module, qualname):
    mod = sys.modules.get(module)
    if mod is None:
        try:
            mod = importlib.import_module(module)
        except ImportError as e:
            raise NotImplementedError(f"Cannot load: the saved object's class {module}.{qualname} is not importable "
                                      f"({e}); tapegrad.saved_model rebuilds objects from their class") from e
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise NotImplementedError(f"Cannot load: class {module}.{qualname} is not defined in this program; "
                                      "tapegrad.saved_model rebuilds objects from their class")
    return obj


def _inputs_for(shape):
    """Zeros of the recorded build shape(s), unknown dimensions as 1."""
    if isinstance(shape, dict):
        return {k: _inputs_for(v) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_inputs_for(v) for v in shape]
    from .._ops import zeros  # noqa: PLC0415
    return zeros([1 if d is None else d for d in shape])


def load(export_dir, tags=None, options=None):
    """Loads an object saved by ``tapegrad.saved_model.save`` (see the module docstring)."""
    from ..errors import NotFoundError  # noqa: PLC0415
    export_dir = os.fspath(export_dir)
    path = os.path.join(export_dir, _META)
    if not os.path.isfile(path):
        raise NotFoundError(None, None, f"Could not find a tapegrad SavedModel ({_META}) in {export_dir}; note that "
                                        "tapegrad does not read TensorFlow's SavedModel format")
    with open(path) as f:
        meta = json.load(f)
    if meta.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a tapegrad saved model")
    cls = _import_class(meta["module"], meta["qualname"])
    if meta.get("keras"):
        config = meta.get("config")
        if config is not None:
            obj = cls.from_config(config)
        else:
            obj = _construct(cls)
        prefix = os.path.join(export_dir, "variables", "variables")
        status = Checkpoint(root=obj).read(prefix)  # deferred: values land when the layers build
        shape = _shape_from_json(meta.get("build_shape"))
        if meta.get("built") and not obj.built:
            if shape is None:
                obj.build(None)
            else:
                obj(_inputs_for(shape))
        status.assert_existing_objects_matched()
        return obj
    obj = _construct(cls)
    status = Checkpoint(root=obj).read(os.path.join(export_dir, "variables", "variables"))
    status.assert_existing_objects_matched()
    return obj


def _construct(cls):
    try:
        return cls()
    except TypeError as e:
        raise NotImplementedError(
            f"Cannot rebuild {cls.__module__}.{cls.__qualname__}: tapegrad.saved_model.load constructs tf.Module "
            f"objects (and Keras objects without a serializable get_config) by calling the class with no arguments, "
            f"which failed ({e}). Construct the object yourself and restore its variables with "
            "tf.train.Checkpoint(root=obj).read(export_dir + '/variables/variables').") from e
