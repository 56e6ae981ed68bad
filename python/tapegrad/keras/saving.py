"""Keras 3's ``.weights.h5`` files: ``model.save_weights(path)`` / ``model.load_weights(path)``.

The layout is Keras 3's own (``keras/src/saving/saving_lib.py``), so a real Keras 3 loads what
tapegrad writes and the other way round, given the same architecture:

* each saveable (layer, model, optimizer) writes its own variables into the HDF5 group
  ``{path}/vars`` (the root model: ``vars``), datasets ``"0"``, ``"1"``, ... in the order
  ``_trainable_variables + _non_trainable_variables``; the ``vars`` group carries the attribute
  ``name`` (the object's ``name``) and is written even when empty;
* the path comes from Keras's walk (``_walk_saveable``): for ``Sequential``/``Functional`` models
  the ``layers`` list first, then every attribute in sorted ``dir()`` order with ``_private`` names
  last, skipping attributes that a bare ``Layer`` (``Optimizer``) has; a list/tuple/dict becomes a
  container whose members are named by their snake_case class name (``dense``, ``dense_1``, ...;
  nested containers ``container``, ``container_1``); an object reached twice is stored once, under
  the first path;
* the optimizer (the model's ``optimizer`` attribute) stores ``iteration``, ``learning_rate`` (when
  it is a float), then its per-variable state in Keras's order: EMA averages, gradient
  accumulators, then the slots interleaved per variable (Adam: ``kernel_momentum``,
  ``kernel_velocity``, ``bias_momentum``, ...), then extra scalars (Nadam's ``u_product``).

Metrics and losses are not walked (Keras stores no state for them either).

Loading reads and checks everything first — a truncated or corrupt file, a variable-count or
shape mismatch raises before any variable is assigned, so the model is left unchanged. An
optimizer whose variable count differs from the file's is skipped with Keras's warning.

``h5py`` is needed only here; without it both functions raise ``ImportError``.

Usage (needs ``h5py``; tests/test_saving.py and tests/test_saving_keras.py run these)::

    model.save_weights("model.weights.h5")      # or tg.keras.saving.save_weights(model, path)
    again = build_model()                       # the same architecture, built
    again.load_weights("model.weights.h5")      # also reads files written by Keras 3
"""

import os as _os
import re as _re
import tempfile as _tempfile
import warnings as _warnings

import numpy as _np

from .._tensor import Variable as _Variable

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "optimizer_variables",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
]

# The non-dunder attributes of a bare Keras 3.15 ``Layer()``: Keras skips them when it walks a
# layer. Our bare Layer's attributes are skipped too (see `_layer_skipset`), except ``layers``,
# which Keras's bare Layer lacks (so Keras walks ``layers`` of a subclassed Model).
_KERAS_LAYER_ATTRS = frozenset(
    """
_add_trackable_child _add_variable_with_custom_getter _allow_non_tensor_positional_args
_api_export_path _api_export_symbol_id _assert_input_compatibility _auto_config _awq_call
_build_at_init _build_by_run_for_kwargs _build_by_run_for_single_pos_arg _build_shapes_dict
_call_context_args _call_has_context_arg _call_has_mask_arg _call_has_training_arg _call_signature
_called _check_load_own_variables _check_quantize_args _check_super_called _checkpoint_adapter
_checkpoint_dependencies _clear_losses _convert_input_args _convert_tracked_collections
_copy_trackable_to_cpu _default_save_signature _deferred_dependencies _delete_tracking
_deserialization_dependencies _deserialize_from_proto _dtype_policy _export_to_saved_model_graph
_flatten_layers _float8_call _gather_saveables_for_checkpoint _get_call_context
_get_node_attribute_at_index _get_own_losses _get_regularization_losses _get_save_spec _gptq_call
_handle_deferred_dependencies _inbound_nodes _initialize_tracker _input_spec _int4_call _int8_call
_layers _lock _lock_state _lookup_dependency _loss_ids _losses _losses_override _maybe_build
_maybe_initialize_trackable _maybe_reset_call_context _metrics _name_based_attribute_restore
_name_based_restores _no_dependency _non_trainable_variables _not_implemented_error _obj_type
_object_identifier _open_name_scope _outbound_nodes _parent_path _path _post_build
_post_track_variable _post_untrack_variable _preload_simple_restoration _quantization_mode_error
_register_call_context_args _remat_mode _resolve_and_populate_arg _restore_from_tensors
_saved_model_arg_spec _saved_model_inputs_spec _seed_generators _self_setattr_tracking
_serialize_to_proto _serialize_to_tensors _set_mask_metadata _set_save_spec _setattr_hook
_setattr_tracking _supports_masking _tf_api_names _tf_api_names_v1 _track_trackable
_track_variable _trackable_children _tracked _tracker _trainable _trainable_variables
_unconditional_checkpoint_dependencies _unconditional_dependency_names _unpickle_model
_untrack_variable _update_uid activity_regularizer add_loss add_metric add_variable add_weight
autocast build build_from_config built call call_signature_parameters compute_dtype compute_mask
compute_output_shape compute_output_spec count_params dtype dtype_policy from_config
get_build_config get_config get_weights input input_dtype input_spec load_own_variables losses
metrics metrics_variables name non_trainable_variables non_trainable_weights output path
quantization_mode quantize quantized_build quantized_call rematerialized_call save_own_variables
set_weights stateless_call supports_jit supports_masking symbolic_call trainable
trainable_variables trainable_weights variable_dtype variables weights
_self_unconditional_dependency_names
""".split()
)

_SKIPSETS: dict = {}


def _h5py():
    try:
        import h5py  # noqa: PLC0415
    except ImportError as e:  # pragma: no cover - exercised only without h5py
        raise ImportError(
            "Saving and loading `.weights.h5` files requires the h5py package. You can install it "
            "via `pip install h5py`"
        ) from e
    return h5py


def _to_snake_case(name):
    name = _re.sub(r"\W+", "", name)
    name = _re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _mro_names(obj):
    return {c.__name__ for c in type(obj).__mro__}


def _obj_type(obj):
    """Keras's ``_obj_type()`` for our objects, or None for what Keras would not walk."""
    from .layers.base import Layer  # noqa: PLC0415
    from .optimizers.base import Optimizer  # noqa: PLC0415

    if isinstance(obj, Layer):
        names = _mro_names(obj)
        if "Sequential" in names:
            return "Sequential"
        if "Functional" in names:
            return "Functional"
        return "Layer"
    if isinstance(obj, Optimizer):
        return "Optimizer"
    return None


def _layer_skipset():
    from .layers.base import Layer  # noqa: PLC0415

    probe = Layer.__new__(Layer)
    Layer.__init__(probe, name="_saving_probe")  # a name: no auto-naming counter is advanced
    return (set(dir(probe)) | _KERAS_LAYER_ATTRS) - {"layers"}


def _get_skipset(obj_type):
    skip = _SKIPSETS.get(obj_type)
    if skip is not None:
        return skip
    if obj_type == "Optimizer":
        from .optimizers.base import Optimizer  # noqa: PLC0415

        probe = Optimizer(1.0, name="_saving_probe")
        skip = set(dir(probe)) - {"variables"}
    else:
        skip = _layer_skipset()
        if obj_type == "Functional":
            skip |= {"operations", "_operations"}
        elif obj_type == "Sequential":
            skip |= {"_functional"}
    skip.add("_self_unconditional_dependency_names")
    _SKIPSETS[obj_type] = skip = frozenset(skip)
    return skip


def _name_key(name):
    return "~" + name if name.startswith("_") else name


def _walk_saveable(obj):
    """(attribute name, value) pairs in Keras's ``_walk_saveable`` order."""
    obj_type = _obj_type(obj)
    skip = _get_skipset(obj_type)
    if obj_type in ("Sequential", "Functional"):
        yield "layers", obj.layers
    is_model = "Model" in _mro_names(obj)
    for attr in sorted(dir(obj), key=_name_key):
        if attr.startswith("__") or attr in skip or (attr == "layers" and not is_model):
            continue  # a plain Keras Layer has no `layers` property (ours lists sub-layers)
        try:
            value = getattr(obj, attr)
        except Exception:  # noqa: BLE001 - Keras skips attributes that fail to evaluate
            continue
        yield attr, value


def _join(path, name):
    return f"{path}/{name}" if path else name


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _walk(obj, path, visited, out):
    """Appends (path, saveable) for every saveable reachable from `obj`, as Keras's _save_state."""
    if id(obj) in visited:
        return
    visited.add(id(obj))
    out.append((path, obj))
    for attr, child in _walk_saveable(obj):
        if _obj_type(child) is not None:
            _walk(child, _join(path, attr), visited, out)
        elif isinstance(child, (list, tuple, dict)):
            _walk_container(child, _join(path, attr), visited, out, set())


def _walk_container(container, path, visited, out, seen_containers):
    if id(container) in seen_containers:
        return
    seen_containers.add(id(container))
    used = {}
    items = list(container.values()) if isinstance(container, dict) else list(container)
    for item in items:
        if _obj_type(item) is not None:
            _walk(item, _join(path, _unique(_to_snake_case(type(item).__name__), used)), visited, out)
        elif isinstance(item, (list, tuple, dict)):
            _walk_container(item, _join(path, _unique("container", used)), visited, out, seen_containers)


def _saveables(model):
    """The (path, object) pairs whose variables a ``.weights.h5`` file stores, in Keras's order."""
    out = []
    _walk(model, "", set(), out)
    return out


# ---- the variables of one saveable ------------------------------------------------------------


def _slot_groups(opt):
    """Slot names as Keras creates them: names in one group are interleaved per variable."""
    from .optimizers.sgd import RMSprop  # noqa: PLC0415

    names = tuple(opt._slot_names)
    if isinstance(opt, RMSprop):  # velocities, momentums, average gradients: three separate calls
        return [(n,) for n in names]
    if "velocity_hat" in names:  # Adam(amsgrad=True): velocity_hat added after the interleaved pair
        return [tuple(n for n in names if n != "velocity_hat"), ("velocity_hat",)]
    return [names]


def optimizer_variables(opt):
    """An optimizer's state variables in Keras 3's ``optimizer.variables`` order.

    ``iteration``, ``learning_rate`` (if a float), EMA averages, gradient accumulators, the slots
    (interleaved per model variable where Keras creates them together), then extra scalars.
    """
    out = [opt._iterations]
    if isinstance(opt._learning_rate, _Variable):
        out.append(opt._learning_rate)
    out.extend(opt._ema)
    out.extend(opt._accumulators)
    n = len(opt._trainable_variables) if opt.built else 0
    for group in _slot_groups(opt):
        lists = [opt._slots.get(name, []) for name in group]
        for i in range(n):
            for lst in lists:
                if i < len(lst) and lst[i] is not None:
                    out.append(lst[i])
    out.extend(opt._extra_variables)
    return out


def _own_variables(obj):
    if _obj_type(obj) == "Optimizer":
        return optimizer_variables(obj)
    return list(obj._trainable_variables) + list(obj._non_trainable_variables)


def _custom_method(obj, name):
    """A user-defined save_own_variables/load_own_variables, when a class defines one."""
    from .layers.base import Layer  # noqa: PLC0415
    from .optimizers.base import Optimizer  # noqa: PLC0415

    fn = getattr(type(obj), name, None)
    if fn is None or fn is getattr(Layer, name, None) or fn is getattr(Optimizer, name, None):
        return None
    return getattr(obj, name)


def _check_path(filepath):
    filepath_str = _os.fspath(filepath) if isinstance(filepath, _os.PathLike) else str(filepath)
    return filepath_str


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Saves the weights of `model` (and its optimizer's state) to a Keras 3 ``.weights.h5`` file.

    The file is written to a temporary name next to `filepath` and moved into place, so a crash
    while writing leaves no truncated file behind.
    """
    filepath_str = _check_path(filepath)
    if max_shard_size is not None:
        raise NotImplementedError(
            "`max_shard_size` (sharded `.weights.json` files) is not supported by tapegrad; "
            "save to a single `.weights.h5` file"
        )
    if not filepath_str.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={filepath_str}")
    if _os.path.exists(filepath_str) and not overwrite:
        answer = input(f"[WARNING] {filepath_str} already exists - overwrite? [y/n]").strip().lower()
        while answer not in ("y", "n"):
            answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
        if answer == "n":
            return
        print("[TIP] Next time specify overwrite=True!")
    if not getattr(model, "built", False):
        raise ValueError(
            "You are saving a model that has not yet been built. Try building the model first by "
            "calling it on some data or by using `build()`."
        )
    h5py = _h5py()
    entries = []
    for path, obj in _saveables(model):
        custom = _custom_method(obj, "save_own_variables")
        if custom is not None:
            store = {}
            custom(store)
            values = {str(k): _np.asarray(v) for k, v in store.items()}
        else:
            values = {str(i): _np.asarray(v.numpy()) for i, v in enumerate(_own_variables(obj))}
        name = getattr(obj, "name", None)
        entries.append((path, name if isinstance(name, str) else None, values))
    directory = _os.path.dirname(_os.path.abspath(filepath_str))
    fd, tmp = _tempfile.mkstemp(suffix=".weights.h5.tmp", dir=directory)
    _os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            for path, name, values in entries:
                group = f.create_group(_join(path, "vars"))
                if name is not None:
                    group.attrs["name"] = name
                for key, value in values.items():
                    group[key] = value
        _os.replace(tmp, filepath_str)
    except BaseException:
        if _os.path.exists(tmp):
            _os.remove(tmp)
        raise


def _read_store(f, path):
    """The datasets of ``{path}/vars`` as a dict of numpy arrays ({} when absent), as H5IOStore.get."""
    key = _join(path, "vars")
    if key not in f:
        return {}
    group = f[key]
    out = {}
    for k in group.keys():
        ds = group[k]
        value = _np.array(ds)
        if ds.attrs.get("dtype") == "bfloat16":
            raise NotImplementedError(f"Variable {key}/{k} is stored as bfloat16, which tapegrad does not support")
        out[k] = value
    return out


def _layer_count_error(obj, variables, n_saved):
    if not variables and not obj.built:
        return ValueError(
            f"Layer '{obj.name}' was never built and thus it doesn't have any variables. However the weights file "
            f"lists {n_saved} variables for this layer.\nIn most cases, this error indicates that either:\n\n"
            "1. The layer is owned by a parent layer that implements a `build()` method, but calling the parent's "
            f"`build()` method did NOT create the state of the child layer '{obj.name}'. A `build()` method must "
            "create ALL state for the layer, including the state of any children layers.\n\n"
            f"2. You need to implement the `def build_from_config(self, config)` method on layer '{obj.name}', to "
            "specify how to rebuild it during loading. In this case, you might also want to implement the method "
            "that generates the build config at saving time, `def get_build_config(self)`. The method "
            "`build_from_config()` is meant to create the state of the layer (i.e. its variables) upon "
            "deserialization."
        )
    return ValueError(
        f"Layer '{obj.name}' expected {len(variables)} variables, but received {n_saved} variables "
        f"during loading. Expected: {[v.name for v in variables]}"
    )


def _plan(obj, store):
    """[(variable, value)] to assign for one saveable, or raises what Keras's load would raise."""
    variables = _own_variables(obj)
    if _obj_type(obj) == "Optimizer":
        if len(store) != len(variables):
            msg = (
                f"Skipping variable loading for optimizer '{obj.name}', because it has {len(variables)} "
                f"variables whereas the saved optimizer has {len(store)} variables. "
            )
            if len(variables) == 0:
                msg += "This is likely because the optimizer has not been called/built yet."
            _warnings.warn(msg, stacklevel=4)
            return []
    elif len(store) != len(variables):
        raise _layer_count_error(obj, variables, len(store))
    plan = []
    for i, v in enumerate(variables):
        if str(i) not in store:
            raise ValueError(f"Unable to synchronously open object (object '{i}' doesn't exist)")
        value = store[str(i)]
        if tuple(value.shape) != tuple(v.shape):
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={tuple(v.shape)}, Received: "
                f"value.shape={tuple(value.shape)}. Target variable: {v!r}"
            )
        plan.append((v, value.astype(v.dtype.as_numpy_dtype, copy=False)))
    return plan


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads a Keras 3 ``.weights.h5`` file (written by tapegrad or by Keras) into `model`.

    Everything is read and checked before any variable is assigned: a bad file or a mismatch
    raises ``ValueError`` (h5py's ``OSError`` for a file h5py cannot read) and leaves the model
    unchanged. With ``skip_mismatch=True`` mismatching objects are skipped with a warning and the
    rest is loaded, as in Keras.
    """
    if kwargs.pop("objects_to_skip", None) is not None:
        raise NotImplementedError("`objects_to_skip` is not supported by tapegrad's load_weights")
    if kwargs.pop("by_name", None) is not None:
        raise ValueError(f"`by_name` only supports loading legacy '.h5' or '.hdf5' files. Received: {filepath}")
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    filepath_str = _check_path(filepath)
    if filepath_str.endswith(".keras"):
        raise NotImplementedError(
            "Loading weights from a `.keras` archive is not supported by tapegrad; save with "
            "`model.save_weights('x.weights.h5')`"
        )
    if filepath_str.endswith(".weights.json"):
        raise NotImplementedError("Sharded `.weights.json` files are not supported by tapegrad")
    if not filepath_str.endswith(".weights.h5"):
        if filepath_str.endswith((".h5", ".hdf5")):
            raise NotImplementedError(
                "Legacy Keras 2 `.h5` weight files are not supported by tapegrad; use a Keras 3 `.weights.h5` file"
            )
        raise ValueError(
            f"File format not supported: filepath={filepath_str}. Keras 3 only supports V3 `.keras` "
            "files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax "
            "checkpoints."
        )
    if not getattr(model, "built", False):
        raise ValueError(
            "You are loading weights into a model that has not yet been built. Try building the model "
            "first by calling it on some data or by using `build()`."
        )
    h5py = _h5py()
    objects = _saveables(model)
    # read everything first: a truncated or corrupt file fails here, before any assignment
    with h5py.File(filepath_str, "r") as f:
        stores = [_read_store(f, path) for path, _ in objects]
    plan, custom_loads, errors = [], [], {}
    for (_path, obj), store in zip(objects, stores):
        custom = _custom_method(obj, "load_own_variables")
        if custom is not None:
            custom_loads.append((custom, store))
            continue
        try:
            plan.extend(_plan(obj, store))
        except ValueError as e:
            errors[id(obj)] = (obj, e)
    if errors:
        ex_obj, ex_error = next(iter(errors.values()))
        msg = (
            f"A total of {len(errors)} objects could not be loaded. Example error message for object {ex_obj}:"
            f"\n\n{ex_error}\n\nList of objects that could not be loaded:\n{[x[0] for x in errors.values()]}"
        )
        if not skip_mismatch:
            raise ValueError(msg)
        _warnings.warn(msg, stacklevel=2)
    for variable, value in plan:
        variable.assign(value)
    for custom, store in custom_loads:
        custom(store)


from .saving_model import (  # noqa: E402  (whole-model .keras files)
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    load_model,
    register_keras_serializable,
    save_model,
)
from .utils.serialization import deserialize_keras_object, serialize_keras_object  # noqa: E402
