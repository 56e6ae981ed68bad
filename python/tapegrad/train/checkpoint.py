"""``tf.train.Checkpoint``: saves and restores an object graph of variables, layers and optimizers.

The format is tapegrad's own, laid out like TF's so file names look familiar: a checkpoint
``prefix`` is two files, ``{prefix}.index`` (JSON: the object graph) and
``{prefix}.data-00000-of-00001`` (an ``.npz`` archive of the values, read without pickle).
tapegrad does not read TF's checkpoints, and TF does not read tapegrad's.

The object graph: nodes are the objects reachable from the checkpoint (``Checkpoint``, Keras
layers and models, optimizers, ``tf.Module`` objects, Variables); edges are named, and matching on
restore goes edge by edge from the root, so any path to an object finds it (as TF). Edge names are
tapegrad's own and stable for a given program:

* ``Checkpoint``: its keyword arguments (and the children of ``root``), ``save_counter``;
* Keras layer / model: its own variables as ``vars/{name}`` (``vars/kernel``; a repeated name
  gets ``_1``, ...), for ``Sequential``/``Functional`` models ``layers/{i}``, then every attribute
  holding trackable objects by attribute name (``encoder``; inside lists and dicts
  ``blocks/0``, ``heads/key``); metrics and losses are not saved;
* optimizer: ``iterations``, ``learning_rate`` (when a float), ``extra/{i}`` (Nadam's
  ``u_product``); its per-variable state (slots, EMA averages, gradient accumulators) is recorded
  as TF's slot variables: keyed by the node of the model variable they belong to, so a fresh
  optimizer finds them when it builds on the restored variables;
* ``tf.Module``: attributes by name, into lists and dicts.

Restoring assigns what exists now and defers the rest (TF's deferred restoration): a layer that
builds later gets its values when ``add_weight`` creates them, an optimizer gets its slots when
it builds on its first ``apply_gradients``. Values for ``tf.Module`` variables created after
the restore are not deferred (only Keras layers and optimizers report new state).

Everything read from disk is checked first (a truncated or corrupt file raises
``tf.errors.DataLossError``, a shape mismatch ``ValueError``) before any variable is assigned.

>>> import os, tempfile
>>> import tapegrad as tg
>>> v = tg.Variable([1.0, 2.0])
>>> ckpt = tg.train.Checkpoint(v=v)
>>> path = ckpt.save(os.path.join(tempfile.mkdtemp(), "ckpt"))
>>> os.path.basename(path)
'ckpt-1'
>>> _ = v.assign([0.0, 0.0])
>>> ckpt.restore(path).assert_consumed() is not None
True
>>> v.numpy().tolist()
[1.0, 2.0]
"""

import json
import os
import tempfile

import numpy as np

from .. import _core, _restore_hooks
from .._tensor import Variable
from ..errors import DataLossError, NotFoundError

_FORMAT = "tapegrad-checkpoint"
_VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"

# Layer bookkeeping that duplicates what `vars/...` and attribute edges already cover.
_LAYER_SKIP = frozenset(
    (
        "_tracked_layers",
        "_trainable_variables",
        "_non_trainable_variables",
        "_tracked_metrics",
        "_losses",
        "_build_shapes",
        "_layer_initialized",
        "_self_unconditional_dependency_names",
    )
)


class CheckpointOptions:
    """``tf.train.CheckpointOptions``: accepted for compatibility; tapegrad writes synchronously
    to the local file system, so every option is stored and has no effect."""

    def __init__(
        self,
        experimental_io_device=None,
        experimental_enable_async_checkpoint=False,
        experimental_write_callbacks=None,
        enable_async=False,
        experimental_sharding_callback=None,
        experimental_skip_slot_variables=False,
    ):
        self.experimental_io_device = experimental_io_device
        self.experimental_enable_async_checkpoint = experimental_enable_async_checkpoint or enable_async
        self.enable_async = self.experimental_enable_async_checkpoint
        self.experimental_write_callbacks = experimental_write_callbacks
        self.experimental_sharding_callback = experimental_sharding_callback
        self.experimental_skip_slot_variables = experimental_skip_slot_variables


# ---- the live object graph ----------------------------------------------------------------------


def _kind(obj):
    """The node kind of a trackable object, or None."""
    if isinstance(obj, _core.Variable):
        return "variable"
    if isinstance(obj, Checkpoint):
        return "checkpoint"
    from ..keras.layers.base import Layer  # noqa: PLC0415
    from ..keras.optimizers.base import Optimizer  # noqa: PLC0415
    from ..module import Module  # noqa: PLC0415

    if isinstance(obj, Layer):
        return "layer"
    if isinstance(obj, Optimizer):
        return "optimizer"
    if isinstance(obj, Module):
        return "module"
    return None


def _is_trackable_value(value, depth=0):
    if _kind(value) is not None:
        return True
    if depth < 8 and isinstance(value, (list, tuple)):
        return len(value) > 0 and all(_is_trackable_value(v, depth + 1) for v in value)
    if depth < 8 and isinstance(value, dict):
        return len(value) > 0 and all(_is_trackable_value(v, depth + 1) for v in value.values())
    return False


def _leaves(value, edge, depth=0):
    if _kind(value) is not None:
        yield edge, value
    elif depth < 8 and isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], f"{edge}/{k}", depth + 1)
    elif depth < 8 and isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{edge}/{i}", depth + 1)


def _attribute_children(obj, skip=frozenset(), exclude_ids=frozenset()):
    d = vars(obj)
    for k in sorted(d):
        if k in skip or k.startswith("__"):
            continue
        for edge, leaf in _leaves(d[k], k):
            if id(leaf) not in exclude_ids and leaf is not obj:
                yield edge, leaf


def _variable_edges(variables):
    used, out = {}, []
    for v in variables:
        name = str(getattr(v, "name", "variable") or "variable").split(":")[0].replace("/", "_")
        if name in used:
            used[name] += 1
            name = f"{name}_{used[name]}"
        else:
            used[name] = 0
        out.append((f"vars/{name}", v))
    return out


def _is_sequential_or_functional(obj):
    return any(c.__name__ in ("Sequential", "Functional") for c in type(obj).__mro__)


def _children(obj):
    """Named edges of a live object, in a stable order (first occurrence of an edge name wins)."""
    kind = _kind(obj)
    if kind == "variable" or kind is None:
        return []
    if kind == "checkpoint":
        out = list(_children(obj._root)) if obj._root is not None else []
        for k in sorted(obj._kwargs):
            out.extend(_leaves(obj._kwargs[k], k))
        if obj._save_counter is not None:
            out.append(("save_counter", obj._save_counter))
        return out
    if kind == "optimizer":
        out = [("iterations", obj._iterations)]
        if isinstance(obj._learning_rate, _core.Variable):
            out.append(("learning_rate", obj._learning_rate))
        out.extend((f"extra/{i}", v) for i, v in enumerate(obj._extra_variables))
        return out
    if kind == "layer":
        own = list(obj._trainable_variables) + list(obj._non_trainable_variables)
        out = _variable_edges(own)
        own_ids = {id(v) for v in own}
        if _is_sequential_or_functional(obj):
            out.extend((f"layers/{i}", layer) for i, layer in enumerate(obj.layers))
        skip = _LAYER_SKIP
        out.extend(_attribute_children(obj, skip, own_ids))
        reached = {id(c) for _, c in out}
        out.extend((f"tracked/{i}", layer) for i, layer in enumerate(obj._tracked_layers) if id(layer) not in reached)
        return out
    # tf.Module
    from ..module import Module  # noqa: PLC0415

    return list(_attribute_children(obj, Module._TF_MODULE_IGNORED_PROPERTIES))


def _per_variable_state(opt):
    """{state name: [variable per model variable]} for an optimizer (slots, EMA, accumulators)."""
    out = {name: lst for name, lst in opt._slots.items()}
    if opt._ema:
        out["average"] = opt._ema
    if opt._accumulators:
        out["gradient_accumulator"] = opt._accumulators
    return out


def _class_name(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _live_graph(root):
    """Every object reachable from `root` (breadth-first) plus optimizer state variables."""
    order, seen = [root], {id(root)}
    i = 0
    while i < len(order):
        obj = order[i]
        i += 1
        children = [c for _, c in _children(obj)]
        if _kind(obj) == "optimizer" and obj.built:
            for lst in _per_variable_state(obj).values():
                children.extend(v for v in lst if v is not None)
        for c in children:
            if id(c) not in seen:
                seen.add(id(c))
                order.append(c)
    return order


# ---- writing ------------------------------------------------------------------------------------


def _serialize(root):
    """(index dict, {array key: ndarray}) for the graph reachable from `root`."""
    order, ids = [root], {id(root): 0}
    nodes, arrays = [], {}
    i = 0
    names = {0: ""}
    while i < len(order):
        obj = order[i]
        kind = _kind(obj)
        node = {"kind": kind, "class": _class_name(obj), "name": names[i]}
        if kind == "variable":
            value = np.asarray(obj.numpy())
            key = f"t{i}"
            arrays[key] = value
            node.update(value=key, shape=list(value.shape), dtype=value.dtype.name)
        else:
            node["children"] = []
            for edge, child in _children(obj):
                if id(child) not in ids:
                    ids[id(child)] = len(order)
                    names[len(order)] = f"{names[i]}/{edge}" if names[i] else edge
                    order.append(child)
                node["children"].append([edge, ids[id(child)]])
        nodes.append(node)
        i += 1
    # optimizer per-variable state as slot variables, keyed by the model variable's node
    for k in range(len(nodes)):
        obj = order[k]
        if nodes[k]["kind"] != "optimizer" or not obj.built:
            continue
        slots = []
        for slot_name, lst in _per_variable_state(obj).items():
            for j, (var, slot) in enumerate(zip(obj._trainable_variables, lst)):
                if slot is None:
                    continue
                var_node = ids.get(id(var))
                sid = len(nodes)
                value = np.asarray(slot.numpy())
                key = f"t{sid}"
                arrays[key] = value
                base = nodes[var_node]["name"] if var_node is not None else f"{nodes[k]['name']}/{j}"
                nodes.append(
                    {
                        "kind": "variable",
                        "class": _class_name(slot),
                        "value": key,
                        "shape": list(value.shape),
                        "dtype": value.dtype.name,
                        "name": f"{base}/.OPTIMIZER_SLOT/{nodes[k]['name']}/{slot_name}",
                    }
                )
                order.append(slot)
                slots.append({"variable": var_node, "index": j, "slot": slot_name, "node": sid})
        nodes[k]["slots"] = slots
    return {"format": _FORMAT, "version": _VERSION, "nodes": nodes}, arrays


def _write(root, file_prefix):
    index, arrays = _serialize(root)
    file_prefix = os.fspath(file_prefix)
    directory = os.path.dirname(os.path.abspath(file_prefix))
    os.makedirs(directory, exist_ok=True)
    # data first, index last: a checkpoint exists once its .index does; both written atomically
    for suffix, writer in (
        (DATA_SUFFIX, lambda f: np.savez(f, **arrays)),
        (INDEX_SUFFIX, lambda f: f.write(json.dumps(index).encode())),
    ):
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                writer(f)
            os.replace(tmp, file_prefix + suffix)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
    return file_prefix


# ---- reading ------------------------------------------------------------------------------------


def _not_found(save_path):
    return NotFoundError(
        None,
        None,
        f"Error when restoring from checkpoint or SavedModel at {save_path}: Unsuccessful TensorSliceReader "
        f"constructor: Failed to find any matching files for {save_path}\nPlease double-check that the path is "
        "correct. You may be missing the checkpoint suffix (e.g. the '-1' in 'path/to/ckpt-1').",
    )


def _resolve_path(save_path):
    save_path = os.fspath(save_path)
    if os.path.isdir(save_path):  # a tapegrad SavedModel directory: its variables
        candidate = os.path.join(save_path, "variables", "variables")
        if os.path.exists(candidate + INDEX_SUFFIX):
            return candidate
    return save_path


def read_checkpoint(save_path):
    """(index, arrays) of a checkpoint prefix, checked for consistency; raises NotFoundError or
    DataLossError."""
    save_path = _resolve_path(save_path)
    if not os.path.exists(save_path + INDEX_SUFFIX):
        raise _not_found(save_path)
    try:
        with open(save_path + INDEX_SUFFIX, "rb") as f:
            index = json.loads(f.read().decode())
        if not isinstance(index, dict) or index.get("format") != _FORMAT:
            raise ValueError("not a tapegrad checkpoint index (tapegrad does not read TensorFlow's checkpoints)")
        if index.get("version") != _VERSION:
            raise ValueError(f"unsupported checkpoint version {index.get('version')}")
        nodes = index["nodes"]
    except (ValueError, KeyError, UnicodeDecodeError, TypeError) as e:
        raise DataLossError(None, None, f"Unable to read checkpoint index {save_path}{INDEX_SUFFIX}: {e}") from e
    if not os.path.exists(save_path + DATA_SUFFIX):
        raise DataLossError(None, None, f"Checkpoint data file {save_path}{DATA_SUFFIX} is missing")
    try:
        with open(save_path + DATA_SUFFIX, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001 - zipfile/numpy raise several types for a damaged archive
        raise DataLossError(
            None,
            None,
            f"Unable to read checkpoint data {save_path}{DATA_SUFFIX} (truncated or corrupt): {type(e).__name__}: {e}",
        ) from e
    for node in nodes:
        if node.get("kind") == "variable":
            a = arrays.get(node.get("value"))
            if a is None or list(a.shape) != list(node["shape"]) or a.dtype.name != node["dtype"]:
                raise DataLossError(
                    None,
                    None,
                    f"Checkpoint {save_path} is corrupt: the value of '{node.get('name')}' "
                    "is missing or does not match the index",
                )
    return index, arrays


class _Deferred:
    """A pending edge: the live parent object (weakly) and {edge name: saved node id}."""

    __slots__ = ("ref", "edges")

    def __init__(self, obj):
        import weakref  # noqa: PLC0415

        self.ref = weakref.ref(obj)
        self.edges = {}


class CheckpointLoadStatus:
    """What ``Checkpoint.restore`` returns: checks how the checkpoint matched the program.

    Values for objects created later (layers built after the restore, optimizer slots) are
    assigned when they are created, for as long as the objects live.
    """

    def __init__(self, checkpoint, index, arrays, save_path, optional_root_edges=()):
        self._checkpoint = checkpoint
        self._nodes = index["nodes"]
        self._arrays = arrays
        self._save_path = save_path
        self._matched = {}  # node id -> live object
        self._by_obj = {}  # id(live object) -> node id
        self._deferred = {}  # id(live object) -> _Deferred
        self._slot_waiting = {}  # node id of an optimizer -> list of unresolved slot entries
        self._optional = {cid for edge, cid in self._nodes[0].get("children", []) if edge in optional_root_edges}
        self._partial = False

    # -- matching --
    def _match(self, nid, obj, assigns, deferred):
        if nid in self._matched or id(obj) in self._by_obj:
            return
        node = self._nodes[nid]
        if node["kind"] == "variable":
            if _kind(obj) != "variable":
                return
            # popped: values held for deferred restoration are only those not yet matched
            value = self._arrays.pop(node["value"])
            if tuple(value.shape) != tuple(obj.shape):
                raise ValueError(
                    f"Received incompatible tensor with shape {tuple(value.shape)} when attempting to "
                    f"restore variable with shape {tuple(obj.shape)} and name {obj.name}:0."
                )
            assigns.append((obj, value))
        elif _kind(obj) in (None, "variable"):
            return
        self._matched[nid] = obj
        self._by_obj[id(obj)] = nid
        if node["kind"] == "variable":
            return
        live = {}
        for edge, child in _children(obj):
            live.setdefault(edge, child)
        for edge, cid in node.get("children", []):
            child = live.get(edge)
            if child is not None:
                self._match(cid, child, assigns, deferred)
            elif cid not in self._matched:
                owner = (
                    obj._root
                    if (
                        isinstance(obj, Checkpoint)
                        and obj._root is not None
                        and edge not in obj._kwargs
                        and edge != "save_counter"
                    )
                    else obj
                )
                deferred.append((owner, edge, cid))
        if node["kind"] == "optimizer" and node.get("slots"):
            self._slot_waiting.setdefault(nid, list(node["slots"]))
            self._match_slots(nid, obj, assigns)

    def _match_slots(self, nid, opt, assigns):
        waiting = self._slot_waiting.get(nid)
        if not waiting or not getattr(opt, "built", False):
            return
        state = _per_variable_state(opt)
        rest = []
        for entry in waiting:
            lst = state.get(entry["slot"])
            slot = None
            if lst is not None:
                if entry["variable"] is not None:
                    var = self._matched.get(entry["variable"])
                    j = opt._index.get(id(var)) if var is not None else None
                else:
                    j = entry["index"]
                if j is not None and j < len(lst):
                    slot = lst[j]
            if slot is None:
                rest.append(entry)
                continue
            value = self._arrays.pop(self._nodes[entry["node"]]["value"])
            if tuple(value.shape) != tuple(slot.shape):
                raise ValueError(
                    f"Received incompatible tensor with shape {tuple(value.shape)} when attempting to "
                    f"restore variable with shape {tuple(slot.shape)} and name {slot.name}:0."
                )
            assigns.append((slot, value))
            self._matched[entry["node"]] = slot
            self._by_obj[id(slot)] = entry["node"]
        self._slot_waiting[nid] = rest

    def _commit(self, assigns, deferred):
        for var, value in assigns:
            var.assign(value.astype(var.dtype.as_numpy_dtype, copy=False))
        for owner, edge, cid in deferred:
            d = self._deferred.get(id(owner))
            if d is None or d.ref() is not owner:
                d = self._deferred[id(owner)] = _Deferred(owner)
            d.edges[edge] = cid
            _restore_hooks.register(owner, self)
        for nid, waiting in self._slot_waiting.items():
            if waiting:
                _restore_hooks.register(self._matched[nid], self)

    def _restore_now(self, root):
        assigns, deferred = [], []
        self._match(0, root, assigns, deferred)
        self._commit(assigns, deferred)  # only reached when every value checked out
        return self

    def _on_created(self, obj):
        """Hook: `obj` created state; match pending edges and slots that now exist."""
        assigns, deferred = [], []
        d = self._deferred.get(id(obj))
        if d is not None and d.ref() is obj and d.edges:
            live = {}
            for edge, child in _children(obj):
                live.setdefault(edge, child)
            for edge in [e for e in d.edges if e in live]:
                cid = d.edges.pop(edge)
                self._match(cid, live[edge], assigns, deferred)
        nid = self._by_obj.get(id(obj))
        if nid is not None and self._slot_waiting.get(nid):
            self._match_slots(nid, obj, assigns)
        self._commit(assigns, deferred)

    # -- TF's assertions --
    def _unmatched_python_objects(self):
        out = []
        for obj in _live_graph(self._checkpoint):
            if _kind(obj) == "variable" and id(obj) not in self._by_obj:
                out.append(obj)
        return out

    def assert_existing_objects_matched(self):
        """Raises AssertionError if a variable reachable from the checkpoint root has no saved value."""
        unused = self._unmatched_python_objects()
        if unused:
            n = len(unused)
            k = min(10, n)
            raise AssertionError(
                f"Found {n} Python objects that were not bound to checkpointed values, likely due to "
                f"changes in the Python program. Showing {k} of {n} unmatched objects: {unused[:k]}"
            )
        return self

    def assert_consumed(self):
        """Raises AssertionError unless every saved value was matched and every variable restored."""
        self.assert_existing_objects_matched()
        for nid, node in enumerate(self._nodes):
            if node["kind"] == "variable" and nid not in self._matched and nid not in self._optional:
                raise AssertionError(f"Unresolved object in checkpoint {node.get('name')}: {node}")
        waiting = [e for lst in self._slot_waiting.values() for e in lst]
        if waiting:
            raise AssertionError(f"Unresolved slot restorations: {waiting}")
        return self

    def assert_nontrivial_match(self):
        """Raises AssertionError if nothing but the root object matched."""
        if len(self._matched) <= 1:
            unused = self._unmatched_python_objects()
            if unused:
                raise AssertionError(
                    "Nothing except the root object matched a checkpointed value. Typically this "
                    "means that the checkpoint does not match the Python program. The following "
                    f"objects have no matching checkpointed value: {unused}"
                )
            raise AssertionError(f"Nothing to load. No dependencies have been added to {self._checkpoint} yet.")
        return self

    def expect_partial(self):
        """Silences warnings about unused values (tapegrad prints none); returns self."""
        self._partial = True
        return self

    def run_restore_ops(self, session=None):
        """Nothing to run: restores are eager."""

    def initialize_or_restore(self, session=None):
        """Nothing to run: restores are eager."""


class InitializationOnlyStatus:
    """What ``restore(None)`` returns: nothing is restored."""

    def __init__(self, checkpoint):
        self._checkpoint = checkpoint

    def assert_consumed(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    def assert_existing_objects_matched(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    def assert_nontrivial_match(self):
        raise AssertionError("No checkpoint specified (save_path=None); nothing is being restored.")

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        """Nothing to run."""

    def initialize_or_restore(self, session=None):
        """Nothing to run: variables are initialized at creation."""


class Checkpoint:
    """``tf.train.Checkpoint(root=None, **kwargs)``: groups trackable objects for saving/restoring.

    Keyword arguments name the objects (Variables, Keras layers/models, optimizers, ``tf.Module``
    objects, other Checkpoints, or lists/dicts of them) and become attributes of the checkpoint.
    See the module docstring for the file format and the matching rules.
    """

    def __init__(self, root=None, **kwargs):
        if root is not None and _kind(root) is None:
            raise ValueError(
                f"`Checkpoint` was expecting root to be a trackable object (an object derived from "
                f"`Trackable`), got {root}. If you believe this object should be trackable (i.e. it is "
                "part of the TensorFlow Python API and manages state), please open an issue."
            )
        for k, v in sorted(kwargs.items()):
            if not _is_trackable_value(v):
                raise ValueError(
                    f"`Checkpoint` was expecting {k} to be a trackable object (an object derived from "
                    f"`Trackable`), got {v}. If you believe this object should be trackable (i.e. it "
                    "is part of the TensorFlow Python API and manages state), please open an issue."
                )
            if root is not None and hasattr(root, k):
                raise ValueError(f"Cannot create a Checkpoint with keyword argument {k} if root.{k} already exists.")
        object.__setattr__(self, "_root", root)
        object.__setattr__(self, "_kwargs", dict(kwargs))
        object.__setattr__(self, "_save_counter", None)
        for k, v in kwargs.items():
            object.__setattr__(self, k, v)

    def __setattr__(self, name, value):
        if not name.startswith("_") and _is_trackable_value(value):
            self._kwargs[name] = value
        object.__setattr__(self, name, value)

    @property
    def save_counter(self):
        """An int64 Variable counting ``save()`` calls; created on first use, starts at 0."""
        if self._save_counter is None:
            object.__setattr__(self, "_save_counter", Variable(np.int64(0), name="save_counter", trainable=False))
            _restore_hooks.notify(self)
        return self._save_counter

    def write(self, file_prefix, options=None):
        """Writes a checkpoint at `file_prefix` (no numbering, no state file); returns the prefix."""
        return _write(self, file_prefix)

    def save(self, file_prefix, options=None):
        """Increments ``save_counter`` and writes ``{file_prefix}-{save_counter}``; records it in the
        directory's ``checkpoint`` state file. Returns the path."""
        from . import checkpoint_management  # noqa: PLC0415

        counter = self.save_counter
        counter.assign_add(1)
        path = self.write(f"{os.fspath(file_prefix)}-{int(counter.numpy())}", options=options)
        checkpoint_management.update_checkpoint_state(os.path.dirname(path), path, [path])
        return path

    def read(self, save_path, options=None):
        """Restores from `save_path` without expecting ``save_counter``; returns a load status."""
        return self._restore(save_path, optional_root_edges=("save_counter",))

    def restore(self, save_path, options=None):
        """Restores from the checkpoint prefix `save_path` (``None``: nothing, an initialization-only
        status); values for objects created later are applied when they are created. Missing files
        raise ``tf.errors.NotFoundError``; corrupt ones ``tf.errors.DataLossError``, before any
        variable changes."""
        if save_path is None:
            return InitializationOnlyStatus(self)
        status = self._restore(save_path)
        self.save_counter  # noqa: B018 - created now so a deferred save_counter value lands in it
        return status

    def _restore(self, save_path, optional_root_edges=()):
        if save_path is None:
            return InitializationOnlyStatus(self)
        save_path = _resolve_path(save_path)
        index, arrays = read_checkpoint(save_path)
        status = CheckpointLoadStatus(self, index, arrays, save_path, optional_root_edges)
        return status._restore_now(self)

    def sync(self):
        """Nothing to wait for: writes are synchronous."""


def list_variables(ckpt_dir_or_file):
    """``tf.train.list_variables``: [(name, shape)] of the values in a checkpoint (tapegrad names)."""
    from .checkpoint_management import latest_checkpoint  # noqa: PLC0415

    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        path = latest_checkpoint(path) or path
    index, _ = read_checkpoint(path)
    return sorted((n["name"], list(n["shape"])) for n in index["nodes"] if n["kind"] == "variable")


def load_variable(ckpt_dir_or_file, name):
    """``tf.train.load_variable``: the numpy value stored under `name` (a name from ``list_variables``)."""
    from .checkpoint_management import latest_checkpoint  # noqa: PLC0415

    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        path = latest_checkpoint(path) or path
    index, arrays = read_checkpoint(path)
    for n in index["nodes"]:
        if n["kind"] == "variable" and n["name"] == name:
            return arrays[n["value"]]
    raise NotFoundError(None, None, f"Key {name} not found in checkpoint")
