"""The functional API: graph nodes, symbolic layer calls and the ``Functional`` model (Keras 3).

Calling a layer on ``KerasTensor``s (``symbolic_call``) builds the layer, infers the outputs'
shapes and dtypes by running it on zeros, records a ``Node`` (the call event: operation,
arguments, outputs) and returns new KerasTensors. ``Functional(inputs, outputs)`` walks the nodes
back from the outputs, orders them by depth (Keras's ``map_graph``) and replays them on real
tensors when called.

>>> import tapegrad as tg
>>> class Double(tg.keras.layers.Layer):
...     def call(self, x):
...         return x * 2.0
>>> x = tg.keras.Input(shape=(3,), name="x")
>>> y = Double(name="double")(x)
>>> y.shape, y._keras_history.operation.name
((None, 3), 'double')
>>> model = tg.keras.Model(x, y)
>>> model(tg.ones([2, 3])).numpy().tolist()
[[2.0, 2.0, 2.0], [2.0, 2.0, 2.0]]
"""

import collections
import copy
import functools

import numpy as np

from ... import nest
from ..._ops import cast, convert_to_tensor, logical_not, zeros
from ..._ops_shape import expand_dims, squeeze
from ..._tensor import Tensor, Variable
from ..layers.base import InputSpec, Layer, _ctx
from ..layers.input_layer import Input, InputLayer, KerasTensor, _Operation
from .model import Model

__all__ = ["Functional", "Node", "KerasHistory", "symbolic_call", "infer_output_shape"]


class KerasHistory(collections.namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])):
    """Which call made a KerasTensor: ``operation._inbound_nodes[node_index].outputs[tensor_index]``."""

    __slots__ = ()


def _is_kt(x):
    return getattr(x, "_is_keras_tensor", False)


def _map(fn, struct):
    """`fn` on every leaf of nested lists, tuples and dicts, keeping the containers."""
    if isinstance(struct, dict):
        return type(struct)((k, _map(fn, v)) for k, v in struct.items())
    if isinstance(struct, tuple) and hasattr(struct, "_fields"):
        return type(struct)(*[_map(fn, v) for v in struct])
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map(fn, v) for v in struct)
    return fn(struct)


class Node:
    """One ``__call__`` of an operation in a functional graph: its arguments and output KerasTensors."""

    def __init__(self, operation, call_args=None, call_kwargs=None, outputs=None):
        self.operation = operation
        self.call_args = tuple(call_args or ())
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = [] if outputs is None else nest.flatten(outputs)
        for x in self.outputs:
            if not _is_kt(x):
                raise ValueError(
                    f"All operation outputs must be tensors. Operation {operation} returned a non-tensor. "
                    f"Non-tensor received: {x}"
                )
        self.input_tensors = [x for x in nest.flatten([list(self.call_args), self.call_kwargs]) if _is_kt(x)]
        for kt in self.input_tensors:
            if not hasattr(kt, "_keras_history"):
                kt._keras_history = KerasHistory(None, 0, 0)
        operation._inbound_nodes.append(self)
        for kt in self.input_tensors:
            inbound = kt._keras_history.operation
            if inbound is not None:
                inbound._outbound_nodes.append(self)
        node_index = len(operation._inbound_nodes) - 1
        for i, t in enumerate(self.outputs):
            t._keras_history = KerasHistory(operation, node_index, i)
        self.is_input = not self.input_tensors
        self._single = len(self.call_args) == 1 and _is_kt(self.call_args[0]) and not self.call_kwargs

    @property
    def output_tensors(self):
        return self.outputs

    @property
    def parent_nodes(self):
        """The nodes whose outputs this node reads."""
        out = []
        for kt in self.input_tensors:
            op, index, _ = kt._keras_history
            if op is not None:
                out.append(op._inbound_nodes[index])
        return out

    def fill_in(self, tensor_dict):
        """The call's ``(args, kwargs)`` with each KerasTensor replaced by its value in `tensor_dict`."""
        if self._single:
            return (tensor_dict[id(self.call_args[0])],), {}

        def sub(x):
            return tensor_dict[id(x)] if _is_kt(x) else x

        return _map(sub, self.call_args), _map(sub, self.call_kwargs)

    def __repr__(self):
        return f"<Node operation={self.operation.name}, id={id(self)}>"


# ---- symbolic calls ------------------------------------------------------------------------------

# Sizes that stand in for unknown dims in the two shape-inference runs: a dim of the output that
# differs between the runs is unknown. Batch dims first try (1, 2) (cheapest); if an output's rank
# then differs between the runs (a squeeze of the batch), the runs are redone with (2, 3).
_BATCH_SIZES = ((1, 2), (2, 3))
_OTHER_SIZES = (83, 89)  # unknown non-batch dims (sequence, image sizes), as Keras's JAX backend


def _concrete(kt, run, batch_sizes):
    shape = [(batch_sizes[run] if i == 0 else _OTHER_SIZES[run]) if d is None else d for i, d in enumerate(kt.shape)]
    t = zeros(shape, dtype=kt.dtype)
    mask = getattr(kt, "_keras_mask", None)
    if mask is not None:  # a symbolic mask: all True in the shape-inference runs
        base = _concrete(mask, run, batch_sizes)
        t._keras_mask = logical_not(base) if mask.dtype == "bool" else base + 1
    return t


def _symbolic_like(t1, t2):
    s1, s2 = tuple(t1.shape), tuple(t2.shape)
    shape = tuple(a if a == b else None for a, b in zip(s1, s2)) if len(s1) == len(s2) else (None,) * len(s1)
    return KerasTensor(shape, dtype=t1.dtype.name)


def _two_runs(fn, args, kwargs, batch_sizes):
    results = []
    for run in (0, 1):

        def concrete(x, run=run):
            return _concrete(x, run, batch_sizes) if _is_kt(x) else x

        a = _map(concrete, tuple(args))
        k = _map(concrete, dict(kwargs))
        results.append(fn(*a, **k))
    return results


def _run_on_zeros(layer, args, kwargs, fn=None):
    """Runs `layer` (or `fn`) twice on zeros shaped like the KerasTensors; returns (structure, flat
    KerasTensors).

    Dims that differ between the two runs are unknown (``None``). Non-trainable state (moving
    statistics, metric totals) is restored afterwards, and losses added by the runs are dropped.
    """
    if fn is None:
        fn = layer if isinstance(layer, _Operation) else functools.partial(Layer.__call__, layer)
    state = [(v, np.array(v)) for v in _stateful_variables(layer)] if layer is not None else []
    outer_inferring = getattr(_ctx, "inferring", False)
    _ctx.inferring = True  # layers built by these runs do not take their shapes as output shapes
    try:
        first, second = _two_runs(fn, args, kwargs, _BATCH_SIZES[0])
        flat1, flat2 = nest.flatten(first), nest.flatten(second)
        if any(
            hasattr(o1, "shape") and hasattr(o2, "shape") and len(o1.shape) != len(o2.shape)
            for o1, o2 in zip(flat1, flat2)
        ):
            first, second = _two_runs(fn, args, kwargs, _BATCH_SIZES[1])
            flat1, flat2 = nest.flatten(first), nest.flatten(second)
    finally:
        _ctx.inferring = outer_inferring
        for v, value in state:
            v.assign(value)
        if layer is not None:
            layer._clear_losses()
    kts = []
    for o1, o2 in zip(flat1, flat2):
        if not isinstance(o1, (Tensor, Variable)):
            raise ValueError(
                f"All operation outputs must be tensors. Operation {layer} returned a non-tensor. "
                f"Non-tensor received: {o1}"
            )
        kt = _symbolic_like(o1, o2)
        m1, m2 = getattr(o1, "_keras_mask", None), getattr(o2, "_keras_mask", None)
        if isinstance(m1, (Tensor, Variable)) and isinstance(m2, (Tensor, Variable)):
            kt._keras_mask = _symbolic_like(m1, m2)
        kts.append(kt)
    return first, kts


def _stateful_variables(layer):
    try:
        return [v for v in layer.variables if not v.trainable]
    except Exception:  # noqa: BLE001 - a half-built layer may not list its variables yet
        return []


def symbolic_call(layer, args, kwargs):
    """``layer(*args, **kwargs)`` on KerasTensors: builds the layer, infers the outputs, records a Node.

    Inside another layer's symbolic build (``in_symbolic_build()``: Keras traces such calls on
    backend placeholders, not on KerasTensors) no Node is recorded: the layer only notes its first
    output shapes, which ``summary()`` shows when the class has a ``compute_output_shape``.
    """
    layer._check_super_called()
    if not isinstance(layer, _Operation):
        first = args[0] if args else next(iter(kwargs.values()), None)
        layer._assert_input_compatible(first)
        if not layer.built:
            layer._maybe_build(args, kwargs)
    structure, kts = _run_on_zeros(layer, args, kwargs)
    outputs = nest.pack_sequence_as(structure, kts) if not _is_leaf_tensor(structure) else kts[0]
    if in_symbolic_build():
        if layer._build_output_shapes is None:
            object.__setattr__(layer, "_build_output_shapes", _map(lambda t: t.shape, outputs))
        return outputs
    Node(layer, call_args=args, call_kwargs=kwargs, outputs=outputs)
    return outputs


def operation_call(cls_name, args):
    """``x + y``, ``x[:, 0]``... on KerasTensors: an operation node, or (inside a symbolic build, where
    Keras would trace backend ops) just the inferred output, without making an operation."""
    from ..layers.input_layer import _OP_FUNCTIONS, _operation  # noqa: PLC0415

    if in_symbolic_build():
        structure, kts = _run_on_zeros(None, args, {}, fn=_OP_FUNCTIONS[cls_name])
        return kts[0]
    return _operation(cls_name)(*args)


def in_symbolic_build():
    """True while a layer's ``call`` runs on KerasTensors to build it (not a functional-API call)."""
    return getattr(_ctx, "symbolic_build", 0) > 0


class symbolic_build:  # noqa: N801
    """Context manager around a ``call`` on KerasTensors made to build a layer or subclassed model."""

    def __enter__(self):
        _ctx.symbolic_build = getattr(_ctx, "symbolic_build", 0) + 1
        return self

    def __exit__(self, *exc):
        _ctx.symbolic_build -= 1
        return False


def _is_leaf_tensor(x):
    return not isinstance(x, (list, tuple, dict))


def _is_shape(x):
    return (
        isinstance(x, (tuple, list))
        and all(d is None or isinstance(d, (int, np.integer)) for d in x)
        and not (isinstance(x, list) and len(x) == 0)
    )


def _shape_structure_to_kts(shapes):
    if _is_shape(shapes):
        return KerasTensor(tuple(shapes))
    if isinstance(shapes, dict):
        return {k: _shape_structure_to_kts(v) for k, v in shapes.items()}
    return type(shapes)(_shape_structure_to_kts(s) for s in shapes)


def infer_output_shape(layer, *args, **kwargs):
    """Default ``compute_output_shape``: the layer's output shape(s) for input shape(s), by running it on
    zeros (unknown dims stay ``None``); builds the layer if needed."""
    if not args and not kwargs:
        raise ValueError(f"compute_output_shape() of layer '{layer.name}' needs an input shape.")
    kt_args = tuple(_shape_structure_to_kts(a) for a in args)
    kt_kwargs = {k.removesuffix("_shape"): _shape_structure_to_kts(v) for k, v in kwargs.items()}
    if not layer.built:
        layer._maybe_build(kt_args, kt_kwargs)
    structure, kts = _run_on_zeros(layer, kt_args, kt_kwargs)
    if _is_leaf_tensor(structure):
        return kts[0].shape
    return nest.pack_sequence_as(structure, [kt.shape for kt in kts])


# ---- graph ---------------------------------------------------------------------------------------


def _node_key(op, index):
    return f"{id(op)}_ib-{index}"


def _build_map(inputs, outputs):
    """Depth-first from the outputs: nodes in topological order and each operation's first visit."""
    finished, in_progress = set(), set()
    ordered, op_indices = [], {}
    input_ids = {id(x) for x in inputs}

    def visit(tensor):
        op, node_index, _ = tensor._keras_history
        if op is None:
            return
        node = op._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{op.name}' is part of a cycle.")
        if op not in op_indices:
            op_indices[op] = len(op_indices)
        in_progress.add(id(node))
        if not node.is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(id(node))
        in_progress.discard(id(node))
        ordered.append(node)

    for out in outputs:
        visit(out)
    return ordered, op_indices


def map_graph(inputs, outputs):
    """Keras's ``map_graph``: (node keys, nodes by depth, operations in order)."""
    ordered, op_indices = _build_map(inputs, outputs)
    in_graph = {id(n) for n in ordered}
    node_keys = {_node_key(n.operation, n.operation._inbound_nodes.index(n)) for n in ordered}
    node_depth, op_depth = {}, {}
    nodes_by_id = {}
    for node in reversed(ordered):
        nodes_by_id[id(node)] = node
        depth = node_depth.setdefault(id(node), 0)
        depth = max(depth, op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) not in in_graph:
                continue
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for x in inputs:
        op, index, _ = x._keras_history
        if op is not None and op not in op_depth:
            node = op._inbound_nodes[index]
            if node.is_input:
                op_depth[op] = 0
                op_indices[op] = -1
                node_depth[id(node)] = 0
                nodes_by_id[id(node)] = node
                node_keys.add(_node_key(op, index))
    nodes_by_depth = collections.defaultdict(list)
    for node_id, depth in node_depth.items():
        nodes_by_depth[depth].append(nodes_by_id[node_id])
    ops_by_depth = collections.defaultdict(list)
    for op, depth in op_depth.items():
        ops_by_depth[depth].append(op)
    operations = []
    for depth in sorted(ops_by_depth, reverse=True):
        operations.extend(sorted(ops_by_depth[depth], key=lambda o: op_indices[o]))
    computable = {id(x) for x in inputs}
    done = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for x in node.input_tensors:
                if id(x) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {x} at operation "
                        f"'{node.operation}'. The following previous operations were accessed without "
                        f"issue: {done}"
                    )
                done.append(node.operation.name)
            for x in node.outputs:
                computable.add(id(x))
    names = [op.name for op in operations]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All operation names '
                "should be unique."
            )
    return node_keys, dict(nodes_by_depth), operations


class Functional(Model):
    """A model defined as a graph of layers: ``Model(inputs, outputs)`` (see the module docstring)."""

    _allow_non_tensor_positional_args = True
    _convert_input_args = False

    def __new__(cls, *args, **kwargs):
        return Layer.__new__(cls, *args, **kwargs)

    def __init__(self, inputs, outputs, name=None, **kwargs):
        trainable = kwargs.pop("trainable", None)
        Model._base_init(self, name=name, **kwargs)
        if isinstance(inputs, dict):
            for k, v in inputs.items():
                if _is_kt(v) and k != v.name:
                    import warnings  # noqa: PLC0415

                    warnings.warn(
                        f"When providing `inputs` as a dict, all keys in the dict must match the names of the "
                        f"corresponding tensors. Received key '{k}' mapping to value {v} which has name "
                        f"'{v.name}'. Change the tensor name to '{k}' (via `Input(..., name='{k}')`)",
                        stacklevel=2,
                    )
        flat_inputs, flat_outputs = nest.flatten(inputs), nest.flatten(outputs)
        for x in flat_inputs:
            if not _is_kt(x):
                raise ValueError(
                    f"All `inputs` values must be KerasTensors. Received: inputs={inputs} including "
                    f"invalid value {x} of type {type(x)}"
                )
        for x in flat_outputs:
            if not _is_kt(x):
                raise ValueError(
                    f"All `outputs` values must be KerasTensors. Received: outputs={outputs} including "
                    f"invalid value {x} of type {type(x)}"
                )
        if not flat_inputs:
            raise ValueError(f"`inputs` argument cannot be empty. Received:\ninputs={inputs}\noutputs={outputs}")
        if not flat_outputs:
            raise ValueError(f"`outputs` argument cannot be empty. Received:\ninputs={inputs}\noutputs={outputs}")
        if not all(_is_input_keras_tensor(t) for t in flat_inputs):
            inputs, outputs = _clone_graph_nodes(inputs, outputs)
            flat_inputs, flat_outputs = nest.flatten(inputs), nest.flatten(outputs)
        setter = object.__setattr__
        setter(self, "_inputs_struct", _map(lambda x: x, inputs))
        setter(self, "_outputs_struct", _map(lambda x: x, outputs))
        setter(self, "_inputs", flat_inputs)
        setter(self, "_outputs", flat_outputs)
        nodes, nodes_by_depth, operations = map_graph(flat_inputs, flat_outputs)
        setter(self, "_nodes", nodes)
        setter(self, "_nodes_by_depth", nodes_by_depth)
        setter(self, "_operations", operations)
        self._check_connected()
        for op in operations:
            if isinstance(op, Layer) and not any(op is t for t in self._tracked_layers):
                self._tracked_layers.append(op)
        if trainable is not None:
            self.trainable = trainable
        self.built = True
        self.output_names = [x._keras_history[0].name for x in self._outputs]

    @property
    def operations(self):
        return self._operations[:]

    @property
    def layers(self):
        """The model's layers in graph order, ``InputLayer``s included (ops on KerasTensors are not)."""
        return [op for op in self._operations if isinstance(op, Layer) and not isinstance(op, _Operation)]

    @layers.setter
    def layers(self, _):
        raise AttributeError("`Model.layers` attribute is reserved and should not be used. Please use another name.")

    @property
    def inputs(self):
        return self._inputs

    @property
    def outputs(self):
        return self._outputs

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_shape(self):
        shapes = _map(lambda x: x.shape, self._inputs)
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = _map(lambda x: x.shape, self._outputs)
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def input_spec(self):
        manual = getattr(self, "_manual_input_spec", None)
        if manual is not None:
            return manual
        cached = self.__dict__.get("_derived_input_spec")
        if cached is None:
            cached = self._derive_input_spec()
            object.__setattr__(self, "_derived_input_spec", cached)
        return cached or None

    @input_spec.setter
    def input_spec(self, value):
        object.__setattr__(self, "_manual_input_spec", value)

    def _derive_input_spec(self):

        def spec(x, name=None):
            layer = x._keras_history[0]
            shape = list(x.shape)
            if shape:
                shape[0] = None
            return InputSpec(
                shape=tuple(shape),
                allow_last_axis_squeeze=True,
                name=layer.name if name is None else name,
                optional=isinstance(layer, InputLayer) and layer.optional,
            )

        if isinstance(self._inputs_struct, dict):
            if all(_is_kt(x) for x in self._inputs_struct.values()):
                return [spec(self._inputs_struct[k], name=k) for k in sorted(self._inputs_struct)]
            return []
        return [spec(x) for x in self._inputs]

    def build(self, input_shape=None):
        self.built = True

    def call(self, inputs, training=None, mask=None):
        inputs = self._standardize_inputs(inputs)
        if mask is not None:
            for x, m in zip(inputs, nest.flatten(mask)):
                if m is not None and x is not None:
                    x._keras_mask = m
        outputs = self._run_through_graph(inputs, training=training)
        if isinstance(outputs, list) and len(outputs) == 1:
            return outputs[0]
        return outputs

    def _run_through_graph(self, inputs, training=None):
        values = {id(x): y for x, y in zip(self._inputs, inputs)}
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input:
                    continue
                if any(id(x) not in values for x in node.input_tensors):
                    continue
                args, kwargs = node.fill_in(values)
                op = node.operation
                if training is not None and getattr(op, "_call_has_training_arg", False):
                    kwargs["training"] = training  # overrides a recorded training=..., as Keras 3.15's operation_fn
                outputs = op(*args, **kwargs)
                for x, y in zip(node.outputs, nest.flatten(outputs)):
                    values[id(x)] = y
        flat = []
        for i, x in enumerate(self._outputs):
            if id(x) not in values:
                raise ValueError(
                    f"Output with path `{_flat_paths(self._outputs_struct)[i]}` is not connected to `inputs`"
                )
            flat.append(values[id(x)])
        return nest.pack_sequence_as(self._outputs_struct, flat) if not _is_kt(self._outputs_struct) else flat[0]

    def _check_connected(self):
        """Keras's dry run at construction: every output must be computable from the inputs."""
        known = {id(x) for x in self._inputs}
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or any(id(x) not in known for x in node.input_tensors):
                    continue
                known.update(id(x) for x in node.outputs)
        paths = _flat_paths(self._outputs_struct)
        for path, x in zip(paths, self._outputs):
            if id(x) not in known:
                raise ValueError(f"Output with path `{path}` is not connected to `inputs`")

    def _standardize_inputs(self, inputs):
        struct = self._inputs_struct
        if isinstance(struct, list) and len(struct) == 1 and not isinstance(inputs, (list, tuple, dict)):
            inputs = [inputs]
        elif isinstance(inputs, dict) and not isinstance(struct, dict):
            names = [x.name for x in self._inputs]
            if set(names).issubset(inputs):
                inputs = [inputs[n] for n in names]
            else:
                raise ValueError(
                    f"The structure of `inputs` doesn't match the expected structure.\nExpected: "
                    f"{_map(lambda x: x.name, struct)}\nReceived: inputs="
                    f"{_map(lambda x: f'Tensor(shape={tuple(x.shape)})', inputs)}"
                )
        flat = nest.flatten(inputs)
        if len(flat) != len(self._inputs):
            raise ValueError(
                f"The structure of `inputs` doesn't match the expected structure.\nExpected: "
                f"{_map(lambda x: x.name, struct)}\nReceived: inputs="
                f"{_map(lambda x: 'None' if x is None else f'Tensor(shape={tuple(x.shape)})', inputs)}"
            )
        out = []
        for x, ref in zip(flat, self._inputs):
            if x is None:
                layer = ref._keras_history.operation
                if isinstance(layer, InputLayer) and not layer.optional:
                    raise ValueError(
                        f"The input '{ref.name}' is not optional, but None was passed. Please provide a valid tensor."
                    )
                out.append(None)
                continue
            mask = getattr(x, "_keras_mask", None)
            y = _to_dtype(x, ref.dtype)
            rank, ref_rank = len(y.shape), len(ref.shape)
            if rank == ref_rank + 1 and y.shape[-1] == 1:
                y = squeeze(y, axis=-1)
            elif rank == ref_rank - 1 and ref.shape and ref.shape[-1] == 1:
                y = expand_dims(y, axis=-1)
            elif rank != ref_rank:
                raise ValueError(
                    f"Invalid input shape for input {x} with name '{ref.name}' and path "
                    f"'{_input_path(struct, ref)}'. Expected shape {ref.shape}, but input has "
                    f"incompatible shape {tuple(y.shape)}"
                )
            if mask is not None:
                y._keras_mask = mask
            out.append(y)
        return out

    def compute_output_shape(self, input_shape):
        return infer_output_shape(self, input_shape)

    def add_loss(self, loss):
        raise NotImplementedError

    # ---- config ----------------------------------------------------------------------------------

    def get_config(self):
        """``{"name", "trainable", "layers": [...with "inbound_nodes"], "input_layers", "output_layers"}``."""
        config = {"name": self.name, "trainable": self.trainable}
        reindex = {}
        for op in self._operations:
            kept = 0
            for i in range(len(op._inbound_nodes)):
                key = _node_key(op, i)
                if key in self._nodes:
                    reindex[key] = kept
                    kept += 1

        def tensor_config(t):
            op, index, tensor_index = t._keras_history
            return [op.name, reindex[_node_key(op, index)], tensor_index]

        def serialize_arg(x):
            if _is_kt(x):
                return {
                    "class_name": "__keras_tensor__",
                    "config": {"shape": x.shape, "dtype": x.dtype, "keras_history": tensor_config(x)},
                }
            return _serialize_constant(x)

        layers = []
        for op in self._operations:
            nodes = []
            for i, node in enumerate(op._inbound_nodes):
                if _node_key(op, i) in self._nodes and not node.is_input:
                    nodes.append(
                        {"args": _map(serialize_arg, node.call_args), "kwargs": _map(serialize_arg, node.call_kwargs)}
                    )
            layers.append(
                {
                    "module": _module_of(op),
                    "class_name": type(op).__name__,
                    "config": op.get_config(),
                    "registered_name": type(op).__name__ if isinstance(op, _Operation) else None,
                    "name": op.name,
                    "inbound_nodes": nodes,
                }
            )
        config["layers"] = layers
        config["input_layers"] = (
            _map(tensor_config, self._inputs_struct)
            if not _is_kt(self._inputs_struct)
            else tensor_config(self._inputs_struct)
        )
        config["output_layers"] = (
            _map(tensor_config, self._outputs_struct)
            if not _is_kt(self._outputs_struct)
            else tensor_config(self._outputs_struct)
        )
        return copy.deepcopy(config)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds the graph from ``get_config()``: new layers (fresh weights), same connections."""
        from .model import deserialize_layer  # noqa: PLC0415

        created = {}
        pending = []
        for layer_data in config["layers"]:
            layer = deserialize_layer(layer_data, custom_objects)
            created[layer_data["name"]] = layer
            for node_data in layer_data.get("inbound_nodes", []):
                pending.append((layer, node_data))
        # node outputs by (layer name, node index): InputLayers have their node 0
        outputs = {}
        for name, layer in created.items():
            if isinstance(layer, InputLayer):
                outputs[(name, 0)] = layer._inbound_nodes[0].outputs
        produced = collections.Counter()

        def resolve(x):
            if isinstance(x, dict) and x.get("class_name") == "__keras_tensor__":
                name, node_index, tensor_index = x["config"]["keras_history"]
                return outputs[(name, node_index)][tensor_index]
            return _deserialize_constant(x)

        def ready(x):
            ok = []

            def check(v):
                if isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
                    name, node_index, _ = v["config"]["keras_history"]
                    ok.append((name, node_index) in outputs)
                return v

            _map_config(check, x)
            return all(ok)

        while pending:
            progressed = False
            for item in list(pending):
                layer, node_data = item
                if not (ready(node_data["args"]) and ready(node_data["kwargs"])):
                    continue
                args = _map_config(resolve, _tuplify(node_data["args"]))
                kwargs = _map_config(resolve, node_data["kwargs"])
                out = layer(*args, **kwargs)
                outputs[(layer.name, produced[layer.name])] = nest.flatten(out)
                produced[layer.name] += 1
                pending.remove(item)
                progressed = True
            if not progressed:
                raise ValueError(
                    "Cannot rebuild the functional model from its config: some layer inputs are never produced."
                )

        def tensor(spec):
            name, node_index, tensor_index = spec
            return outputs[(name, node_index)][tensor_index]

        def structure(spec):
            if isinstance(spec, dict):
                return {k: structure(v) for k, v in spec.items()}
            if isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str):
                return tensor(spec)
            return [structure(s) for s in spec]

        return cls(
            structure(config["input_layers"]),
            structure(config["output_layers"]),
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )


def _flat_paths(struct, prefix=()):
    """The "a.0"-style path of each leaf, in flatten order."""
    if isinstance(struct, dict):
        return [p for k in sorted(struct) for p in _flat_paths(struct[k], prefix + (k,))]
    if isinstance(struct, (list, tuple)):
        return [p for i, v in enumerate(struct) for p in _flat_paths(v, prefix + (i,))]
    return [".".join(str(p) for p in prefix)]


def _tuplify(args):
    return tuple(args) if isinstance(args, list) else args


_SPECIAL = ("__keras_tensor__", "__slice__", "__numpy__", "__ellipsis__")


def _serialize_constant(x):
    """Keras's encodings of non-tensor call arguments: slices, ``...``, numpy arrays (and tensors)."""
    if isinstance(x, slice):
        return {"class_name": "__slice__", "config": {"start": x.start, "stop": x.stop, "step": x.step}}
    if x is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(x, (np.ndarray, Tensor, Variable)):
        a = np.asarray(x)
        return {"class_name": "__numpy__", "config": {"value": a.tolist(), "dtype": a.dtype.name}}
    if isinstance(x, np.generic):
        return x.item()
    return x


def _deserialize_constant(x):
    if isinstance(x, dict):
        kind = x.get("class_name")
        if kind == "__slice__":
            c = x["config"]
            return slice(c["start"], c["stop"], c["step"])
        if kind == "__ellipsis__":
            return Ellipsis
        if kind == "__numpy__":
            return np.asarray(x["config"]["value"], dtype=x["config"]["dtype"])
    return x


def _map_config(fn, struct):
    if isinstance(struct, dict) and struct.get("class_name") in _SPECIAL:
        return fn(struct)
    if isinstance(struct, dict):
        return {k: _map_config(fn, v) for k, v in struct.items()}
    if isinstance(struct, (list, tuple)):
        return type(struct)(_map_config(fn, v) for v in struct)
    return fn(struct)


def _module_of(op):
    if isinstance(op, _Operation):
        return "keras.src.ops.numpy"
    mod = type(op).__module__
    if mod.startswith("tapegrad.keras.layers"):
        return "keras.layers"
    if mod.startswith("tapegrad.keras.models"):
        return "keras.models"
    return mod


def _input_path(struct, ref):
    if isinstance(struct, dict):
        for k, v in struct.items():
            if v is ref:
                return str(k)
    if isinstance(struct, (list, tuple)):
        for i, v in enumerate(struct):
            if v is ref:
                return str(i)
    return ""


def _to_dtype(x, dtype):
    if isinstance(x, Variable):
        x = x.value()
    if isinstance(x, Tensor):
        return x if x.dtype.name == dtype else cast(x, dtype)
    return convert_to_tensor(np.asarray(x, dtype=dtype))


def _is_input_keras_tensor(x):
    op, index, _ = x._keras_history
    return op._inbound_nodes[index].is_input


def _clone_graph_nodes(inputs, outputs):
    """Models built from intermediate tensors: each such input gets a fresh ``InputLayer`` (Keras's
    ``clone_graph_nodes``), and the nodes between the new inputs and the outputs are re-recorded."""
    flat_inputs = nest.flatten(inputs)
    replaced = {}
    for x in flat_inputs:
        if _is_input_keras_tensor(x):
            replaced[id(x)] = x
        else:
            new = Input(batch_shape=x.shape, dtype=x.dtype, name=x.name + "CLONE")
            replaced[id(x)] = new
    ordered, _ = _build_map(flat_inputs, nest.flatten(outputs))
    input_ids = {id(x) for x in flat_inputs}

    def sub(x):
        return replaced.get(id(x), x) if _is_kt(x) else x

    for node in ordered:
        if node.is_input or all(id(o) in input_ids for o in node.outputs):
            continue
        if not any(id(t) in replaced for t in node.input_tensors):
            continue
        args, kwargs = _map(sub, node.call_args), _map(sub, node.call_kwargs)
        new_outputs = _clone_tensors(node.outputs)
        Node(node.operation, call_args=args, call_kwargs=kwargs, outputs=new_outputs)
        for old, new in zip(node.outputs, new_outputs):
            replaced[id(old)] = new
    new_inputs = _map(lambda x: replaced[id(x)], inputs)
    new_outputs = _map(lambda x: replaced.get(id(x), x), outputs)
    return new_inputs, new_outputs


def _clone_tensors(tensors):
    """New KerasTensors with the same shapes, dtypes and names."""
    return [KerasTensor(t.shape, dtype=t.dtype, name=t.name) for t in tensors]
