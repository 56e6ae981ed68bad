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
arguments — and restores the variables into it. Methods are the class's current Python code. A
``tf.Module`` whose constructor needs arguments is rebuilt from its recorded attributes instead
(without calling ``__init__``): variables, sub-modules (the same way), Keras layers and models
(from their config), lists/tuples/dicts of these and plain JSON values; other attributes are not
restored, as in TF's loaded objects.

``signatures`` name methods of the saved object with their input signature (``tf.TensorSpec``
arguments): a ``tf.function`` with an ``input_signature``, a concrete function of one, or a dict of
them (a single one is ``"serving_default"``; without ``signatures``, a ``tf.Module`` whose class has
exactly one ``tf.function`` with an ``input_signature`` exports that one, as TF). The loaded object's
``signatures`` maps each name to a function that takes keyword arguments only and returns a dict
(``output_0``, ... for tensor outputs), running the method of the rebuilt object. TF's graph-only
features (``concrete_functions`` of other shapes, serving without the class) raise
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
import inspect
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
    if _kind(obj) not in ("layer", "module"):
        raise ValueError(f"Expected a Trackable object for export, got {obj} with type {type(obj)}.")
    signature_meta = _signatures_to_json(obj, signatures)
    cls = type(obj)
    if "<locals>" in cls.__qualname__:
        raise NotImplementedError(
            f"Cannot save {cls.__qualname__}: tapegrad.saved_model rebuilds the object from its "
            "class, which must be importable; a class defined inside a function is not"
        )
    meta = {
        "format": _FORMAT,
        "version": 1,
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "signatures": signature_meta,
    }
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
    else:
        meta["graph"] = _describe(obj, set())
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
            raise NotImplementedError(
                f"Cannot load: the saved object's class {module}.{qualname} is not importable "
                f"({e}); tapegrad.saved_model rebuilds objects from their class"
            ) from e
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise NotImplementedError(
                f"Cannot load: class {module}.{qualname} is not defined in this program; "
                "tapegrad.saved_model rebuilds objects from their class"
            )
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
        raise NotFoundError(
            None,
            None,
            f"Could not find a tapegrad SavedModel ({_META}) in {export_dir}; note that "
            "tapegrad does not read TensorFlow's SavedModel format",
        )
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
        return _attach_signatures(obj, meta)
    obj = _rebuild_module(cls, meta.get("graph"))
    status = Checkpoint(root=obj).read(os.path.join(export_dir, "variables", "variables"))
    status.assert_existing_objects_matched()
    return _attach_signatures(obj, meta)


def _construct(cls):
    try:
        return cls()
    except TypeError as e:
        raise NotImplementedError(
            f"Cannot rebuild {cls.__module__}.{cls.__qualname__}: tapegrad.saved_model.load constructs tf.Module "
            f"objects (and Keras objects without a serializable get_config) by calling the class with no arguments, "
            f"which failed ({e}). Construct the object yourself and restore its variables with "
            "tf.train.Checkpoint(root=obj).read(export_dir + '/variables/variables')."
        ) from e


# ---------------------------------------------------------------------------------------------
# signatures: methods of the saved object with TensorSpec inputs, called by keyword on load

DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"


def _default_signature(obj):
    """TF's rule without `signatures`: the one tf.function with an input_signature on the class."""
    from ..function import Function  # noqa: PLC0415

    if _is_keras(obj):
        return None
    found = []
    for name in dir(type(obj)):
        try:
            attr = inspect.getattr_static(type(obj), name)
        except AttributeError:
            continue
        if isinstance(attr, Function) and attr.input_signature is not None:
            found.append(getattr(obj, name))
    return found[0] if len(found) == 1 else None


def _signature_specs(fn):
    """(method name, [(parameter, TensorSpec)]) of a bound tf.function or of its concrete function."""
    from .._tensor import TensorSpec  # noqa: PLC0415
    from ..function import ConcreteFunction, Function  # noqa: PLC0415

    if isinstance(fn, ConcreteFunction):
        function, sig = fn._function, fn.structured_input_signature
        if isinstance(sig, tuple) and len(sig) == 2 and isinstance(sig[0], tuple) and isinstance(sig[1], dict):
            args, kwargs = sig
        else:
            args, kwargs = tuple(sig), {}
    elif isinstance(fn, Function):
        if fn.input_signature is None:
            raise ValueError(
                "Function used as a signature must have an input_signature: decorate it with "
                "tf.function(input_signature=[tf.TensorSpec(...), ...]) or pass "
                "fn.get_concrete_function(tf.TensorSpec(...))."
            )
        function, args, kwargs = fn, tuple(fn.input_signature), {}
    else:
        raise ValueError(
            f"Expected a TensorFlow function for which to generate a signature (but got {fn}). "
            "Only `tf.functions` with an input signature or concrete functions can be used as a "
            "signature."
        )
    names = function._constrained
    pairs = list(zip(names, args)) + sorted(kwargs.items())
    if len(args) > len(names) or any(not isinstance(spec, TensorSpec) for _, spec in pairs):
        raise NotImplementedError(
            "tapegrad.saved_model stores signatures whose arguments are each one "
            "tf.TensorSpec (no nested structures or Python values)"
        )
    return function, pairs


def _signatures_to_json(obj, signatures):
    if signatures is None:
        signatures = _default_signature(obj)
        if signatures is None:
            return {}
    if not isinstance(signatures, dict):
        signatures = {DEFAULT_SERVING_SIGNATURE_DEF_KEY: signatures}
    out = {}
    for key, fn in signatures.items():
        if not isinstance(key, str):
            raise ValueError(f"Signature key must be a string, got {key!r}")
        function, pairs = _signature_specs(fn)
        name = getattr(function.python_function, "__name__", None)
        if function._bound_to is not obj or getattr(type(obj), name, None) is None:
            raise NotImplementedError(
                f"tapegrad.saved_model stores a signature as a method of the saved object "
                f"itself; {function.__name__!r} of signature {key!r} is not one (nothing is "
                "traced: the loaded object runs its class's Python methods)"
            )
        out[key] = {
            "method": name,
            "inputs": [
                {
                    "arg": arg,
                    "name": spec.name or arg,
                    "dtype": spec.dtype.name,
                    "shape": None if spec.shape.rank is None else list(spec.shape.as_list()),
                }
                for arg, spec in pairs
            ],
        }
    return out


def _structured_outputs(result):
    """A signature returns a dict: tensors and sequences of them become output_0, output_1, ..."""
    from .._ops import convert_to_tensor  # noqa: PLC0415

    if isinstance(result, dict):
        return {k: convert_to_tensor(v) for k, v in result.items()}
    if isinstance(result, (list, tuple)):
        return {f"output_{i}": convert_to_tensor(v) for i, v in enumerate(result)}
    return {"output_0": convert_to_tensor(result)}


class _SignatureFunction:
    """A loaded signature: keyword arguments named as the signature's inputs, a dict of outputs."""

    def __init__(self, method, inputs):
        self._method = method
        self._inputs = inputs
        self.__name__ = "signature_wrapper"

    @property
    def structured_input_signature(self):
        from .._tensor import TensorSpec  # noqa: PLC0415

        return (), {i["name"]: TensorSpec(i["shape"], i["dtype"], name=i["name"]) for i in self._inputs}

    def __call__(self, *args, **kwargs):
        from .._ops import convert_to_tensor  # noqa: PLC0415
        from .._tensor import TensorShape  # noqa: PLC0415

        names = [i["name"] for i in self._inputs]
        text = f"signature_wrapper(*, {', '.join(names)})"
        if args:
            raise TypeError(f"{text} takes 0 positional arguments but {len(args)} were given")
        unexpected = sorted(set(kwargs) - set(names))
        if unexpected:
            raise TypeError(f"{text} got unexpected keyword arguments: {', '.join(unexpected)}")
        missing = [n for n in names if n not in kwargs]
        if missing:
            raise TypeError(f"{text} missing required arguments: {', '.join(missing)}")
        values = []
        for spec in self._inputs:
            value = convert_to_tensor(kwargs[spec["name"]], dtype=spec["dtype"])
            if not TensorShape(spec["shape"]).is_compatible_with(value.shape):
                raise ValueError(
                    f"{text}: argument {spec['name']} has shape {value.shape}, which is not "
                    f"compatible with the signature's {TensorShape(spec['shape'])}"
                )
            values.append(value)
        return _structured_outputs(self._method(*values))


class _SignatureMap(dict):
    """The loaded object's ``signatures``: signature key -> function taking keyword arguments."""


def _attach_signatures(obj, meta):
    sigs = _SignatureMap()
    for key, spec in meta.get("signatures", {}).items():
        sigs[key] = _SignatureFunction(getattr(obj, spec["method"]), spec["inputs"])
    object.__setattr__(obj, "signatures", sigs)
    return obj


# ---------------------------------------------------------------------------------------------
# tf.Module objects whose class needs constructor arguments: rebuilt from their attribute graph


def _keras_meta(obj):
    cls = type(obj)
    try:
        config = obj.get_config()
        json.dumps(config)
    except (NotImplementedError, TypeError, ValueError):
        config = None
    return {
        "module": cls.__module__,
        "qualname": cls.__qualname__,
        "config": config,
        "built": bool(obj.built),
        "build_shape": _shape_to_json(getattr(obj, "_build_shapes", None)) if obj.built else None,
    }


def _describe(value, seen):
    """A JSON description of an attribute value, or None when it is not recorded."""
    from .._tensor import Variable  # noqa: PLC0415

    if isinstance(value, Variable):
        return {
            "variable": {
                "shape": list(value.shape.as_list()),
                "dtype": value.dtype.name,
                "name": value.name.split(":")[0],
                "trainable": bool(value.trainable),
            }
        }
    if _is_keras(value):
        return {"keras": _keras_meta(value)}
    if isinstance(value, Module):
        if id(value) in seen:
            return None
        seen.add(id(value))
        cls = type(value)
        attrs = {}
        for key, item in sorted(vars(value).items()):
            if key in ("_name", "_scope_name") or key in Module._TF_MODULE_IGNORED_PROPERTIES:
                continue
            d = _describe(item, seen)
            if d is not None:
                attrs[key] = d
        return {"module": {"module": cls.__module__, "qualname": cls.__qualname__, "name": value.name, "attrs": attrs}}
    if isinstance(value, (list, tuple)):
        items = [_describe(v, seen) for v in value]
        if any(i is None for i in items):
            return None
        return {"tuple" if isinstance(value, tuple) else "list": items}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return None
        items = {k: _describe(v, seen) for k, v in value.items()}
        if any(i is None for i in items.values()):
            return None
        return {"dict": items}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"json": value}
    return None


def _rebuild_keras(meta):
    cls = _import_class(meta["module"], meta["qualname"])
    obj = cls.from_config(meta["config"]) if meta.get("config") is not None else _construct(cls)
    shape = _shape_from_json(meta.get("build_shape"))
    if meta.get("built") and not obj.built:
        if shape is None:
            obj.build(None)
        else:
            obj(_inputs_for(shape))
    return obj


def _rebuild(desc):
    import numpy as np  # noqa: PLC0415
    from .._tensor import Variable  # noqa: PLC0415

    if "variable" in desc:
        v = desc["variable"]
        return Variable(np.zeros(v["shape"], dtype=v["dtype"]), name=v["name"], trainable=v["trainable"])
    if "keras" in desc:
        return _rebuild_keras(desc["keras"])
    if "module" in desc:
        m = desc["module"]
        return _rebuild_module(_import_class(m["module"], m["qualname"]), desc)
    if "list" in desc:
        return [_rebuild(d) for d in desc["list"]]
    if "tuple" in desc:
        return tuple(_rebuild(d) for d in desc["tuple"])
    if "dict" in desc:
        return {k: _rebuild(d) for k, d in desc["dict"].items()}
    return desc["json"]


def _rebuild_module(cls, desc):
    """``cls()`` when the class takes no arguments, else an instance rebuilt from `desc`'s attributes."""
    if desc is None or "module" not in desc:
        return _construct(cls)
    try:
        return cls()
    except TypeError:
        pass
    m = desc["module"]
    obj = cls.__new__(cls)
    Module.__init__(obj, name=m["name"])
    for key, d in m["attrs"].items():
        setattr(obj, key, _rebuild(d))
    return obj
