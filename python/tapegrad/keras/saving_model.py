"""Whole-model files in Keras 3's ``.keras`` format: ``model.save("m.keras")``,
``keras.models.load_model``, ``keras.saving.register_keras_serializable``.

A ``.keras`` file is a zip of three members (``keras/src/saving/saving_lib.py``):

* ``metadata.json``: ``{"keras_version", "date_saved"}``;
* ``config.json``: the model as ``{"module", "class_name", "config", "registered_name",
  "build_config", "compile_config"}`` (``get_config`` of the model and of every layer, the
  optimizer/loss/metrics given to ``compile``);
* ``model.weights.h5``: the variables in the layout of ``save_weights`` (`keras.saving`), optimizer
  state included.

So a file tapegrad writes loads in Keras 3 and the other way round (tests/test_keras_saving_model.py
checks both when Keras is installed). Loading reads and checks the whole archive first: a truncated
or foreign zip, or a config naming a layer class tapegrad does not have (the error names it and
lists the supported classes), raises before any model is built.

Legacy whole-model ``.h5`` files (``model.save("m.h5")`` in Keras 2 or 3) load too: the
``model_config`` attribute (Keras 2's ``batch_input_shape`` converted as Keras does), the
``model_weights`` groups matched to the model's layers with weights in order, and with ``compile``
the ``training_config`` and optimizer state. Saving in that format is not supported
(``model.save("m.h5")`` raises NotImplementedError: use ``.keras``).
"""

import datetime
import json
import os
import tempfile
import zipfile

import numpy as np

__all__ = [
    "save_model",
    "load_model",
    "register_keras_serializable",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "CustomObjectScope",
    "custom_object_scope",
]

from ..version import KERAS_VERSION  # noqa: E402

_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_GLOBAL_CUSTOM_OBJECTS: dict = {}
_GLOBAL_CUSTOM_NAMES: dict = {}
_SCOPE_OBJECTS: list = []


def register_keras_serializable(package="Custom", name=None):
    """Registers a class (or function) under ``"package>name"`` so ``load_model`` finds it.

    >>> import tapegrad as tg
    >>> @tg.keras.saving.register_keras_serializable(package="Demo")
    ... class Twice(tg.keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> tg.keras.saving.get_registered_name(Twice)
    'Demo>Twice'
    """

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = package + ">" + class_name
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_custom_objects():
    """The global ``{registered name: object}`` dict (editable, as Keras's)."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj):
    """``"package>name"`` of a registered object, else its ``__name__``."""
    return _GLOBAL_CUSTOM_NAMES.get(obj, getattr(obj, "__name__", None))


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or in scope, or in ``custom_objects``) under ``name``, else None."""
    for table in [*reversed(_SCOPE_OBJECTS), _GLOBAL_CUSTOM_OBJECTS, custom_objects or {}, module_objects or {}]:
        if name in table:
            return table[name]
    return None


class CustomObjectScope:
    """``with CustomObjectScope({"Name": cls}):`` makes the objects visible to ``load_model``."""

    def __init__(self, custom_objects):
        self.custom_objects = dict(custom_objects or {})

    def __enter__(self):
        _SCOPE_OBJECTS.append(self.custom_objects)
        return self

    def __exit__(self, *exc):
        _SCOPE_OBJECTS.remove(self.custom_objects)


custom_object_scope = CustomObjectScope


# ---- config helpers -------------------------------------------------------------------------


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, tuple):
        return list(obj)
    if hasattr(obj, "name") and type(obj).__name__ == "DType":
        return obj.name
    raise TypeError(f"Unable to serialize {obj} to JSON. Unrecognized type {type(obj)}.")


def _serialize_compile_config(cfg):
    from . import losses, metrics, optimizers

    if cfg is None:
        return None
    out = dict(cfg)
    opt = out.get("optimizer")
    if opt is not None and not isinstance(opt, str):
        out["optimizer"] = optimizers.serialize(opt)

    def loss_ser(v):
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, dict):
            return {k: loss_ser(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [loss_ser(x) for x in v]
        return losses.serialize(v)

    def metric_ser(v):
        if v is None or isinstance(v, str):
            return v
        if isinstance(v, dict):
            return {k: metric_ser(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [metric_ser(x) for x in v]
        return metrics.serialize(v)

    if "loss" in out:
        out["loss"] = loss_ser(out["loss"])
    for key in ("metrics", "weighted_metrics"):
        if key in out:
            out[key] = metric_ser(out[key])
    return out


def _deserialize_compile_config(cfg, custom_objects):
    from . import losses, metrics, optimizers

    out = dict(cfg)
    if isinstance(out.get("optimizer"), dict):
        out["optimizer"] = optimizers.deserialize(out["optimizer"], custom_objects=custom_objects)

    def loss_de(v):
        if isinstance(v, dict) and "class_name" in v:
            return losses.deserialize(v, custom_objects=custom_objects)
        if isinstance(v, dict):
            return {k: loss_de(x) for k, x in v.items()}
        if isinstance(v, list):
            return [loss_de(x) for x in v]
        return v

    def metric_de(v):
        if isinstance(v, dict) and "class_name" in v:
            return metrics.deserialize(v, custom_objects=custom_objects)
        if isinstance(v, dict):
            return {k: metric_de(x) for k, x in v.items()}
        if isinstance(v, list):
            return [metric_de(x) for x in v]
        return v

    if "loss" in out:
        out["loss"] = loss_de(out["loss"])
    for key in ("metrics", "weighted_metrics"):
        if key in out:
            out[key] = metric_de(out[key])
    keep = {
        "optimizer",
        "loss",
        "loss_weights",
        "metrics",
        "weighted_metrics",
        "run_eagerly",
        "steps_per_execution",
        "jit_compile",
    }
    return {k: v for k, v in out.items() if k in keep}


def _model_config(model):
    from .models.model import Model

    cls = type(model)
    registered = _GLOBAL_CUSTOM_NAMES.get(cls)
    module, registered = _module_and_name(cls)
    config = {"module": module, "class_name": cls.__name__, "config": model.get_config(), "registered_name": registered}
    _mark_custom_layers(config["config"], model)
    if getattr(model, "built", False) and isinstance(model, Model):
        shape = _build_shape(model)
        if shape is not None:
            config["build_config"] = {"input_shape": shape}
    compile_config = model.get_compile_config() if hasattr(model, "get_compile_config") else None
    if compile_config is not None:
        config["compile_config"] = _serialize_compile_config(compile_config)
    return config


def _is_builtin(cls):
    from .. import keras as _keras_pkg  # noqa: PLC0415
    from .models import Model, Sequential
    from .models.functional import Functional

    if cls in (Model, Sequential, Functional):
        return True
    return getattr(_keras_pkg.layers, cls.__name__, None) is cls


# Where Keras 3 says its model classes live (what it writes as "module" / "registered_name").
_MODEL_MODULES = {
    "Sequential": ("keras", None),
    "Functional": ("keras.src.models.functional", "Functional"),
    "Model": ("keras.src.models.model", "Model"),
}


def _module_and_name(cls):
    if _is_builtin(cls):
        return _MODEL_MODULES.get(cls.__name__, ("keras.layers", None))
    return cls.__module__, get_registered_name(cls)


def _mark_custom_layers(config, model):
    """Layer entries of custom classes get Keras's ``module`` (the class's) and ``registered_name``
    (``"package>name"`` when registered, else the class name), so Keras finds them on loading."""
    layers = {}
    stack = [model]
    while stack:
        obj = stack.pop()
        for layer in getattr(obj, "layers", None) or []:
            layers.setdefault(layer.name, layer)
            stack.append(layer)
    for entry in config.get("layers") or []:
        if not isinstance(entry, dict):
            continue
        layer = layers.get((entry.get("config") or {}).get("name"))
        if layer is not None and (not _is_builtin(type(layer)) or entry.get("class_name") in _MODEL_MODULES):
            entry["module"], entry["registered_name"] = _module_and_name(type(layer))
        if isinstance(entry.get("config"), dict):
            _mark_custom_layers(entry["config"], layer if layer is not None else model)


def _build_shape(model):
    for attr in ("_build_input_shape", "_build_shapes"):
        v = getattr(model, attr, None)
        if v is not None:
            return v
    try:
        inputs = model.inputs
    except Exception:  # noqa: BLE001 -- subclassed model without symbolic inputs
        return None
    if not inputs:
        return None
    shapes = [list(t.shape) for t in inputs]
    return shapes[0] if len(shapes) == 1 else shapes


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Writes ``model`` (config, compile config, weights, optimizer state) to a ``.keras`` file."""
    filepath = os.fspath(filepath)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    if filepath.endswith((".h5", ".hdf5")):
        raise NotImplementedError(
            "Saving whole models in the legacy HDF5 format (.h5) is not supported by "
            "tapegrad: use the `.keras` format (`model.save('model.keras')`)."
        )
    if not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for the "
            "native Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` if you "
            "want to export a SavedModel for use with TFLite/TFServing/etc. "
            f"Received: filepath={filepath}."
        )
    if zipped is False:
        raise NotImplementedError("save_model(zipped=False) is not supported by tapegrad: .keras files are zips.")
    if os.path.exists(filepath) and not overwrite:
        raise FileExistsError(f"{filepath} exists and overwrite=False")
    config_json = json.dumps(_model_config(model), default=_json_default)
    metadata = json.dumps(
        {"keras_version": KERAS_VERSION, "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    )
    with tempfile.TemporaryDirectory() as tmp:
        weights_path = os.path.join(tmp, _WEIGHTS)
        from .saving import save_weights  # noqa: PLC0415  (saving imports this module)

        save_weights(model, weights_path)
        with open(weights_path, "rb") as f:
            weights = f.read()
    tmp_zip = filepath + ".tmp"
    with zipfile.ZipFile(tmp_zip, "w") as z:
        z.writestr(_METADATA, metadata)
        z.writestr(_CONFIG, config_json)
        z.writestr(_WEIGHTS, weights)
    os.replace(tmp_zip, filepath)


def _all_class_names(entry, out):
    """``(class_name, registered_name)`` of a model entry and of every layer in it (the ``layers``
    of Sequential/Functional configs, the ``layer`` of wrappers), recursively."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        return out
    out.append((entry["class_name"], entry.get("registered_name")))
    cfg = entry.get("config")
    if isinstance(cfg, dict):
        for layer in cfg.get("layers") or []:
            _all_class_names(layer, out)
        for key in ("layer", "backward_layer", "cell"):
            if isinstance(cfg.get(key), dict):
                _all_class_names(cfg[key], out)
    return out


def _custom_table(custom_objects):
    table = {}
    for name, obj in _GLOBAL_CUSTOM_OBJECTS.items():
        table[name] = obj
        table.setdefault(name.split(">", 1)[-1], obj)
    for scope in _SCOPE_OBJECTS:
        table.update(scope)
    table.update(custom_objects or {})
    return table


def _check_layers(config, custom):
    from .layers.input_layer import _OP_FUNCTIONS
    from .models.model import _layer_registry

    registry = _layer_registry(custom)
    missing = sorted(
        {
            name
            for name, reg in _all_class_names(config, [])
            if name not in registry and (reg is None or reg not in custom) and name not in _OP_FUNCTIONS
        }
    )
    for entry in (config.get("config") or {}).get("layers") or []:
        if str(entry.get("module", "")).startswith("keras.src.ops") and set(entry.get("config") or {}) - {
            "name",
            "dtype",
            "trainable",
        }:
            raise NotImplementedError(
                f"This file records the keras.ops call '{entry['class_name']}' with its arguments in the operation's "
                f"config ({entry.get('config')}), as Keras writes it; tapegrad cannot load such functional-model "
                "operations yet (models whose keras.ops calls on Input tensors were saved by tapegrad load)."
            )
    if missing:
        supported = sorted(n for n in registry if not n.startswith("_"))
        raise TypeError(
            f"Could not locate class '{missing[0]}'"
            + (f" (and {missing[1:]})" if len(missing) > 1 else "")
            + ": tapegrad has no such layer. Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()` or passed in `custom_objects`. "
            f"Supported classes: {', '.join(supported)}"
        )


def _read_archive(filepath):
    if not zipfile.is_zipfile(filepath):
        raise ValueError(
            f"File format not supported: filepath={filepath}. Keras 3 only supports V3 `.keras` files "
            "(a zip archive); this file is not a zip archive (truncated or not a .keras file)."
        )
    try:
        with zipfile.ZipFile(filepath, "r") as z:
            names = set(z.namelist())
            missing = [m for m in (_CONFIG, _WEIGHTS) if m not in names]
            if missing:
                raise ValueError(
                    f"{filepath} is not a Keras `.keras` file: the archive lacks {missing} "
                    f"(it holds {sorted(names)[:10]})."
                )
            parts = {m: z.read(m) for m in (_CONFIG, _METADATA, _WEIGHTS) if m in names}
    except zipfile.BadZipFile as e:
        raise ValueError(f"Could not read the `.keras` archive {filepath}: {e}") from e
    try:
        config = json.loads(parts[_CONFIG])
    except ValueError as e:
        raise ValueError(f"{filepath}: `config.json` is not valid JSON ({e}).") from e
    return config, parts[_WEIGHTS]


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved in a ``.keras`` file (by tapegrad or by Keras 3), weights and optimizer
    state restored and compiled as saved (unless ``compile=False``)."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise ValueError(
            f"File not found: filepath={filepath}. Please ensure the file is an accessible `.keras` zip file."
        )
    if filepath.endswith((".h5", ".hdf5")):
        return _load_legacy_h5(filepath, custom_objects, compile)
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. Keras 3 only supports V3 `.keras` files "
            "and legacy H5 format files (`.h5` extension)."
        )
    config, weights = _read_archive(filepath)
    custom = _custom_table(custom_objects)
    _check_layers(config, custom)
    model = _deserialize_model(config, custom)
    build_config = config.get("build_config")
    if not model.built and build_config and build_config.get("input_shape") is not None:
        model.build(build_config["input_shape"])
    if compile and config.get("compile_config"):
        model.compile_from_config(_deserialize_compile_config(config["compile_config"], custom))
        opt = getattr(model, "optimizer", None)
        if opt is not None and not getattr(opt, "built", True) and hasattr(opt, "build"):
            opt.build(model.trainable_variables)  # so its saved state loads (as Keras)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, _WEIGHTS)
        with open(path, "wb") as f:
            f.write(weights)
        from .saving import load_weights  # noqa: PLC0415

        load_weights(model, path)
    return model


def _deserialize_model(config, custom):
    from .models.model import deserialize_layer

    cls_name = config.get("class_name")
    reg = config.get("registered_name")
    if reg and reg in custom:
        cls = custom[reg]
        return cls.from_config(config["config"])
    return deserialize_layer({"class_name": cls_name, "config": config["config"]}, custom)


# ---- legacy whole-model HDF5 (``model.save("m.h5")``) ----------------------------------------------


def _legacy_config(config):
    """Keras 2 spellings that Keras 3's legacy loader converts: ``batch_input_shape`` of an
    ``InputLayer`` becomes ``batch_shape``; a first Sequential layer's ``batch_input_shape`` becomes
    an ``InputLayer``."""
    if isinstance(config, list):
        return [_legacy_config(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {k: _legacy_config(v) for k, v in config.items()}
    if out.get("class_name") == "InputLayer" and isinstance(out.get("config"), dict):
        cfg = out["config"]
        if "batch_input_shape" in cfg:
            cfg["batch_shape"] = cfg.pop("batch_input_shape")
    if out.get("class_name") == "Sequential" and isinstance(out.get("config"), dict):
        layers = out["config"].get("layers", [])
        if (
            layers
            and layers[0].get("class_name") != "InputLayer"
            and "batch_input_shape" in layers[0].get("config", {})
        ):
            first = layers[0]["config"]
            layers.insert(
                0,
                {
                    "class_name": "InputLayer",
                    "config": {"batch_shape": first.pop("batch_input_shape"), "dtype": first.get("dtype", "float32")},
                },
            )
        for layer in layers:
            layer.get("config", {}).pop("batch_input_shape", None)
    return out


def _h5_str(v):
    return v.decode("utf8") if isinstance(v, bytes) else str(v)


def _load_legacy_h5(filepath, custom_objects, compile):
    from .saving import _h5py, optimizer_variables

    h5py = _h5py()
    try:
        f = h5py.File(filepath, "r")
    except OSError as e:
        raise ValueError(f"Could not read the legacy HDF5 model file {filepath}: {e}") from e
    with f:
        if "model_config" not in f.attrs:
            raise ValueError(f"No model config found in the file at {filepath}.")
        config = _legacy_config(json.loads(_h5_str(f.attrs["model_config"])))
        training_config = f.attrs.get("training_config")
        group = f["model_weights"] if "model_weights" in f else f
        layer_names = [_h5_str(n) for n in group.attrs.get("layer_names", [])]
        saved = []
        for name in layer_names:
            g = group[name]
            saved.append((name, [np.asarray(g[_h5_str(w)]) for w in g.attrs.get("weight_names", [])]))
        opt_saved = None
        if "optimizer_weights" in f:
            og = f["optimizer_weights"]
            opt_saved = [np.asarray(og[_h5_str(w)]) for w in og.attrs.get("weight_names", [])]
    custom = _custom_table(custom_objects)
    _check_layers(config, custom)
    model = _deserialize_model(config, custom)
    # Keras's order: the saved layers that have weights, against the model's layers that have weights.
    saved = [(n, w) for n, w in saved if w]
    layers = [layer for layer in model.layers if layer.weights]
    if len(saved) != len(layers):
        raise ValueError(
            f"Layer count mismatch when loading weights from file. Model expected {len(layers)} layers, "
            f"found {len(saved)} saved layers."
        )
    plan = []
    for k, (layer, (name, values)) in enumerate(zip(layers, saved)):
        variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if len(variables) != len(values):
            raise ValueError(
                f'Layer #{k} (named "{layer.name}" in the current model) was found to correspond to '
                f"layer {name} in the save file. However the new layer {layer.name} expects "
                f"{len(variables)} weights, but the saved weights have {len(values)} elements."
            )
        for v, val in zip(variables, values):
            if tuple(v.shape) != val.shape:
                raise ValueError(
                    f"Shape mismatch in layer #{k} (named {layer.name}) for weight {v.name}. "
                    "Weight expects "
                    f"shape {tuple(v.shape)}. Received saved weight with shape {val.shape}"
                )
            plan.append((v, val))
    for v, val in plan:
        v.assign(val)
    if compile and training_config is not None:
        tc = json.loads(_h5_str(training_config))
        cfg = {k: tc.get(k) for k in ("loss", "loss_weights", "metrics", "weighted_metrics")}
        from . import optimizers

        cfg["optimizer"] = optimizers.deserialize(tc["optimizer_config"], custom_objects=custom)
        model.compile_from_config(_deserialize_compile_config(cfg, custom))
        if opt_saved:
            opt = model.optimizer
            opt.build(model.trainable_variables)
            variables = optimizer_variables(opt)
            same = len(variables) == len(opt_saved) and all(
                tuple(v.shape) == w.shape for v, w in zip(variables, opt_saved)
            )
            if same:
                for v, w in zip(variables, opt_saved):
                    v.assign(w.astype(np.dtype(v.dtype.name)))
            else:
                import warnings

                warnings.warn(
                    "Error in loading the saved optimizer state. As a result, your model is starting with "
                    "a freshly initialized optimizer.",
                    stacklevel=2,
                )
    return model
