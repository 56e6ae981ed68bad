"""The Keras 3 ``Layer`` base class: state tracking, lazy build, ``training`` propagation, losses.

A layer creates its weights in ``build(input_shape)`` (or ``__init__``) with ``add_weight``; the
first ``__call__`` builds it from the input's shape, then runs ``call``. Weights, sub-layers and
metrics assigned as attributes (also inside lists and dicts) are tracked in assignment order, so
``weights`` lists a layer's own trainable then non-trainable variables, then each sub-layer's
(Keras's grouping per layer).

Calls on symbolic ``KerasTensor``s (``tf.keras.Input``) are handed to the functional API
(``keras/models/functional.py``), which infers output shapes and records the graph.

>>> import tapegrad as tg
>>> class Scale(tg.keras.layers.Layer):
...     def build(self, input_shape):
...         self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")
...     def call(self, x):
...         return x * self.w
>>> layer = Scale(name="scale")
>>> layer(tg.ones([2, 3])).shape
TensorShape([2, 3])
>>> [w.path for w in layer.weights]
['scale/w']
"""

import copy
import functools
import inspect
import re
import threading
import warnings
import weakref

import numpy as np

from ... import _core, _restore_hooks, nest
from ..._dtypes import as_dtype, float32
from ..._ops import cast, convert_to_tensor
from ..._tensor import Tensor, TensorShape, Variable, _static_shape
from .. import initializers as _initializers

_NAME_COUNTS: dict = {}
_ctx = threading.local()


def to_snake_case(name):
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return name


def unique_name(base):
    """``base``, then ``base_1``, ``base_2``, ... (Keras's auto-naming; reset by ``clear_session``)."""
    n = _NAME_COUNTS.get(base, 0)
    _NAME_COUNTS[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session():
    """Resets Keras's name counters (``tf.keras.backend.clear_session``)."""
    _NAME_COUNTS.clear()


class _KerasNameScope:
    """Keras's ``backend.name_scope``: the scope stack that makes variable paths ("model/dense/kernel").

    A layer remembers the path it was first opened under (``_parent_path``) and always re-enters
    it there; re-entering the scope of the layer already on top is a no-op (Keras's deduplication).
    """

    def __init__(self, name, caller):
        self.name = name
        self.caller = caller
        self.override_parent = getattr(caller, "_parent_path", None)
        self._pushed = False

    def __enter__(self):
        stack = _ctx.__dict__.setdefault("scopes", [])
        if stack and stack[-1].caller is self.caller and stack[-1].name == self.name:
            return self
        stack.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc):
        if self._pushed:
            _ctx.scopes.pop()
        return False


def current_path():
    """The Keras name-scope path ("" at the top level)."""
    parts = []
    for entry in getattr(_ctx, "scopes", []):
        if entry.override_parent is not None:
            parts = [p for p in entry.override_parent.split("/") if p]
        parts.append(entry.name)
    return "/".join(parts)


class KerasVariable(Variable):
    """A layer weight: a ``tf.Variable`` that also knows its Keras ``path`` ("dense/kernel"),
    regularizer and constraint. ``name`` is the short name, as ``keras.Variable.name``."""

    def __init__(
        self, initial_value, trainable=True, name=None, dtype=None, path=None, regularizer=None, constraint=None
    ):
        super().__init__(initial_value, trainable=trainable, name=name or "variable", dtype=dtype)
        self._short_name = name or "variable"
        self._path = path or self._short_name
        self.regularizer = regularizer
        self.constraint = constraint

    @property
    def name(self):
        return self._short_name

    @property
    def path(self):
        return self._path

    def __repr__(self):
        a = np.asarray(self)
        return (
            f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, path={self.path}>"
            if a.size > 6
            else f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, path={self.path}, "
            f"value={a.tolist()}>"
        )


class _Tracked(list):
    """A list assigned to a layer attribute (Keras's ``TrackedList``): layers, variables and metrics
    added to it later are tracked by the layer, removed ones untracked. Copies are plain lists."""

    def __init__(self, values, owner):
        super().__init__(values)
        self._owner = weakref.ref(owner)

    def _add(self, values):
        owner = self._owner()
        if owner is not None:
            for v in values:
                owner._track(v)

    def _drop(self, value):
        owner = self._owner()
        if owner is not None:
            owner._untrack(value)

    def append(self, value):
        super().append(value)
        self._add([value])

    def extend(self, values):
        values = list(values)
        super().extend(values)
        self._add(values)

    def insert(self, index, value):
        super().insert(index, value)
        self._add([value])

    def __setitem__(self, key, value):
        old = self[key]
        super().__setitem__(key, value)
        for v in old if isinstance(key, slice) else [old]:
            self._drop(v)
        self._add(list(value) if isinstance(key, slice) else [value])

    def __iadd__(self, values):  # type: ignore[misc]  # list.__iadd__ vs __add__: typeshed quirk
        self.extend(values)
        return self

    def remove(self, value):
        super().remove(value)
        self._drop(value)

    def pop(self, index=-1):
        value = super().pop(index)
        self._drop(value)
        return value

    def __copy__(self):
        return list(self)

    def __deepcopy__(self, memo):
        return copy.deepcopy(list(self), memo)

    def __reduce_ex__(self, protocol):
        return (list, (list(self),))


def _is_keras_tensor(x):
    return getattr(x, "_is_keras_tensor", False)


def _has_keras_tensor(args, kwargs):
    return any(_is_keras_tensor(x) for x in nest.flatten([list(args), list(kwargs.values())]))


class Layer:
    """Base class of every Keras layer (``tf.keras.layers.Layer``); see the module docstring."""

    _allow_non_tensor_positional_args = False
    _convert_input_args = True

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # set before __init__ so that a subclass that forgets super().__init__() gets Keras's error
        object.__setattr__(obj, "_layer_initialized", False)
        auto, error_args = _auto_config(cls, args, kwargs)
        object.__setattr__(obj, "_auto_config", auto)
        object.__setattr__(obj, "_auto_config_error_args", error_args)
        if cls.build is not Layer.build:
            # as Keras: a user's build() runs in the layer's name scope and marks the layer built
            original = cls.build.__get__(obj, cls)

            @functools.wraps(original)
            def build_wrapper(*a, **k):
                with obj._open_name_scope():
                    object.__setattr__(obj, "_path", current_path())
                    original(*a, **k)
                if a and getattr(obj, "_build_shapes", None) is None:
                    object.__setattr__(obj, "_build_shapes", a[0])
                obj.built = True
                _restore_hooks.notify(obj)

            object.__setattr__(obj, "build", build_wrapper)
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dtype = kwargs.pop("input_dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if not isinstance(trainable, bool):
            raise ValueError(f"Expected `trainable` to be a boolean. Received: trainable={trainable}")
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        object.__setattr__(self, "_layer_initialized", True)
        object.__setattr__(self, "_tracked_layers", [])
        object.__setattr__(self, "_trainable_variables", [])
        object.__setattr__(self, "_non_trainable_variables", [])
        object.__setattr__(self, "_tracked_metrics", [])
        object.__setattr__(self, "_losses", [])
        self.built = False
        self._trainable = trainable
        self._dtype = float32 if dtype is None else _policy_dtype(dtype)
        self.autocast = autocast
        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self.activity_regularizer = _get_regularizer(activity_regularizer)
        self.input_spec = None
        self._build_shapes = None
        if input_shape is not None or input_dim is not None or batch_input_shape is not None:
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
                "models, prefer using an `Input(shape)` object as the first layer in the model "
                "instead.",
                UserWarning,
                stacklevel=2,
            )
            if batch_input_shape is not None:
                shape = tuple(batch_input_shape)
            else:
                shape = (batch_size,) + (tuple(input_shape) if input_shape is not None else (input_dim,))
            self._batch_input_shape = shape
            self._input_dtype = input_dtype
        sig = inspect.signature(self.call)
        self._call_has_training_arg = "training" in sig.parameters
        default = sig.parameters["training"].default if self._call_has_training_arg else None
        self._call_training_default_value = None if default is inspect.Parameter.empty else default
        self._call_has_mask_arg = "mask" in sig.parameters
        if not hasattr(self, "supports_masking") or "supports_masking" not in type(self).__dict__:
            self.supports_masking = type(self).compute_mask is not Layer.compute_mask
        object.__setattr__(self, "_inbound_nodes", [])
        object.__setattr__(self, "_outbound_nodes", [])
        object.__setattr__(self, "_parent_path", None)
        object.__setattr__(self, "_path", None)
        object.__setattr__(self, "_build_output_shapes", None)
        self._locked = False

    def _open_name_scope(self):
        if self._parent_path is None:
            object.__setattr__(self, "_parent_path", current_path())
        return _KerasNameScope(self.name, self)

    @property
    def path(self):
        """The layer's name-scope path ("model/dense"), ``None`` until it is first built or called."""
        return self._path

    # ---- attribute tracking ---------------------------------------------------------------------

    def __setattr__(self, name, value):
        if not name.startswith("__") and name not in ("_layer_initialized",):
            self._check_super_called()
            if type(value) is list:
                value = _Tracked(value, self)
            self._track(value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        value = getattr(self, name, None)
        object.__delattr__(self, name)
        self._untrack(value)

    def _untrack(self, value):
        for v in value if isinstance(value, (list, tuple)) else [value]:
            for lst in (
                self._tracked_layers,
                self._trainable_variables,
                self._non_trainable_variables,
                self._tracked_metrics,
            ):
                for i, x in enumerate(lst):
                    if x is v:
                        del lst[i]
                        break

    def _check_super_called(self):
        if not object.__getattribute__(self, "_layer_initialized"):
            raise RuntimeError(
                f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as the "
                "first statement in the `__init__()` method. Go add it!"
            )

    def _track(self, value):
        if isinstance(value, Layer):
            if not any(x is value for x in self._tracked_layers) and value is not self:
                self._tracked_layers.append(value)
        elif isinstance(value, KerasVariable):
            # Keras 3 tracks its own variables only: a plain tf.Variable attribute is not a weight
            lst = self._trainable_variables if value.trainable else self._non_trainable_variables
            if not any(x is value for x in self._trainable_variables + self._non_trainable_variables):
                lst.append(value)
                if not self.trainable:
                    value.trainable = False
        elif _is_metric(value):
            if not any(x is value for x in self._tracked_metrics):
                self._tracked_metrics.append(value)
        elif isinstance(value, (list, tuple)):
            for v in value:
                self._track(v)
        elif isinstance(value, dict):
            for v in value.values():
                self._track(v)

    # ---- weights ---------------------------------------------------------------------------------

    def add_weight(
        self,
        shape=None,
        initializer=None,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        aggregation="none",
        overwrite_with_gradient=False,
        name=None,
        **kwargs,
    ):
        """Creates a weight Variable tracked by this layer (Keras 3's signature and defaults)."""
        self._check_super_called()
        if isinstance(shape, str):
            raise ValueError(
                f"`name` must be passed as a keyword argument. Received: add_weight('{shape}', ...). "
                f"Use: add_weight(shape=..., name='{shape}')."
            )
        if kwargs:
            # Keras 2 spellings kept by many programs
            if "use_resource" in kwargs or "synchronization" in kwargs:
                kwargs.pop("use_resource", None)
                kwargs.pop("synchronization", None)
            if kwargs:
                raise TypeError(f"add_weight() got unexpected keyword arguments: {list(kwargs)}")
        if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
            raise ValueError(
                f"Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
                f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}"
            )
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = self._dtype if dtype is None else as_dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = _initializers.get(initializer)

        def initial_value():
            value = init(shape, dtype=dtype) if not isinstance(init, (int, float)) else np.full(shape, init)
            value = convert_to_tensor(value)
            return cast(value, dtype) if value.dtype != dtype else value

        # inside a traced tf.function the initializer runs once, outside the trace (TF's init_scope)
        value = _core._trace_call_paused(initial_value) if _core._tracing() else initial_value()
        name = name or "variable"
        with self._open_name_scope():
            path = current_path() + "/" + name
        var = KerasVariable(
            value,
            trainable=trainable,
            name=name,
            path=path,
            regularizer=_get_regularizer(regularizer),
            constraint=_get_constraint(constraint),
        )
        (self._trainable_variables if trainable else self._non_trainable_variables).append(var)
        if not self.trainable:
            var.trainable = False  # Keras's _track_variable: a frozen layer makes frozen weights
        _restore_hooks.notify(self)  # deferred checkpoint restoration (tapegrad/_restore_hooks.py)
        return var

    def add_variable(
        self,
        shape,
        initializer,
        dtype=None,
        trainable=True,
        autocast=True,
        regularizer=None,
        constraint=None,
        name=None,
    ):
        """Same as ``add_weight`` with Keras's positional order."""
        return self.add_weight(
            shape=shape,
            initializer=initializer,
            dtype=dtype,
            trainable=trainable,
            regularizer=regularizer,
            constraint=constraint,
            name=name,
        )

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for v in self._trainable_variables:
            v.trainable = value
        for layer in self._tracked_layers:
            layer.trainable = value

    def _flatten_layers(self, include_self=True, recursive=True):
        """This layer (optionally) and every sub-layer, depth-first in tracking order, each once."""
        out, seen = [], set()

        def visit(layer):
            if id(layer) in seen:
                return
            seen.add(id(layer))
            out.append(layer)
            if recursive or layer is self:
                for sub in layer._tracked_layers:
                    visit(sub)

        visit(self)
        return out if include_self else out[1:]

    @property
    def weights(self):
        """Own trainable and non-trainable variables, then each sub-layer's, each once."""
        out, seen = [], set()
        for layer in self._flatten_layers():
            for v in layer._trainable_variables + layer._non_trainable_variables:
                if id(v) not in seen:
                    seen.add(id(v))
                    out.append(v)
        return out

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [v for v in self.weights if v.trainable]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [v for v in self.weights if not v.trainable]

    @property
    def variables(self):
        extra = []
        for layer in self._flatten_layers():
            for m in layer._tracked_metrics:
                extra.extend(m.variables)
        return self.weights + extra

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    @property
    def layers(self):
        """Direct sub-layers, in tracking order."""
        return list(self._tracked_layers)

    def _flatten_for_module(self):
        """Children for ``tf.Module``'s variable walk."""
        return [("weights", self.weights)]

    def get_weights(self):
        """The weights as numpy arrays, in ``weights`` order."""
        return [np.array(v) for v in self.weights]

    def set_weights(self, weights):
        """Assigns numpy arrays to ``weights`` (same order, same shapes)."""
        params = self.weights
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                f"{len(weights)}, but the layer was expecting {len(params)} weights."
            )
        for v, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(v.shape) != w.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {tuple(v.shape)} is not compatible with provided "
                    f"weight shape {w.shape}."
                )
        for v, w in zip(params, weights):
            v.assign(np.asarray(w, dtype=v.dtype.as_numpy_dtype))

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(np.prod(v.shape, dtype=np.int64) for v in self.weights))

    # ---- losses and metrics ----------------------------------------------------------------------

    def add_loss(self, loss):
        """Adds a loss (a scalar tensor) that ``losses`` reports until the next top-level call."""
        self._losses.append(loss)

    @property
    def losses(self):
        """Losses from ``add_loss`` during the last call (this layer's, then its sub-layers'), then the
        regularization penalties of the trainable weights (Keras's order)."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
        for v in self.trainable_weights:
            if getattr(v, "regularizer", None) is not None:
                out.append(v.regularizer(v))
        return out

    def _clear_losses(self):
        seen = set()
        stack = [self]
        while stack:
            layer = stack.pop()
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if layer._losses:
                object.__setattr__(layer, "_losses", [])
            stack.extend(layer._tracked_layers)

    @property
    def metrics(self):
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._tracked_metrics)
        return out

    # ---- building and calling --------------------------------------------------------------------

    @property
    def dtype(self):
        return self._dtype

    @property
    def compute_dtype(self):
        return self._dtype

    @property
    def variable_dtype(self):
        return self._dtype

    @property
    def input_dtype(self):
        return self._dtype

    def build(self, input_shape):
        """Creates the weights; the default creates none."""
        self.built = True

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Layer {type(self).__name__} does not have a `call()` method implemented.")

    def compute_mask(self, inputs, previous_mask=None):
        """The output mask; the default passes the input mask through when the layer supports masking."""
        if not self.supports_masking:
            return None
        return previous_mask

    def compute_output_shape(self, *args, **kwargs):
        """Output shape(s) for input shape(s); the default runs the layer on zeros (see functional.py)."""
        from ..models.functional import infer_output_shape

        return infer_output_shape(self, *args, **kwargs)

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        first = args[0] if args else next(iter(kwargs.values()), None)
        shapes = _shape_of_nest(first)
        with self._open_name_scope():
            object.__setattr__(self, "_path", current_path())
            if type(self).build is not Layer.build:
                sig = inspect.signature(self.build)
                if first is None or len(sig.parameters) == 0:
                    self.build()
                else:
                    self.build(shapes)
            elif _has_keras_tensor(args, kwargs) and any(not layer.built for layer in self._tracked_layers):
                # Keras: a layer without build() but with unbuilt sub-layers is built by running call()
                # on the symbolic inputs (its sub-layers then record their nodes and shapes)
                from ..models.functional import symbolic_build  # noqa: PLC0415

                try:
                    with symbolic_build():
                        self.call(*args, **{k: v for k, v in kwargs.items() if k != "training"})
                except Exception:  # noqa: BLE001 - call() uses ops that need real tensors: built by the zero runs
                    pass
        self._build_shapes = shapes
        self.built = True
        _restore_hooks.notify(self)

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        plain = all(type(a) is Tensor for a in args) and all(
            v is None or isinstance(v, (bool, int, float, str)) for v in kwargs.values()
        )
        if not plain:
            if _has_keras_tensor(args, kwargs):
                from ..models.functional import symbolic_call  # noqa: PLC0415

                return symbolic_call(self, args, kwargs)
            if not self._allow_non_tensor_positional_args:
                for arg in nest.flatten(list(args)):
                    if not (
                        arg is None
                        or isinstance(arg, (Tensor, Variable, np.ndarray, np.generic))
                        or _is_keras_tensor(arg)
                    ):
                        raise ValueError(
                            "Only input tensors may be passed as positional arguments. The following "
                            f"argument value should be passed as a keyword argument: {arg} (of type "
                            f"{type(arg)})"
                        )
        target = self._dtype if (self._convert_input_args and self.autocast) else None
        if plain:
            if target is not None:
                args = tuple(_autocast(a, target) for a in args)
        else:
            args = tuple(_to_tensors(a, target) for a in args)
        ctx = getattr(_ctx, "call", None)
        outermost = ctx is None
        if outermost:
            ctx = _ctx.call = {"training": None}
        try:
            if outermost:
                self._clear_losses()
            first = args[0] if args else next(iter(kwargs.values()), None)
            self._assert_input_compatible(first)
            was_built = self.built
            if not was_built:
                self._maybe_build(args, kwargs)
            # training: this call's argument, else an outer layer's, else this call's default
            training = kwargs.get("training", None)
            if training is None:
                training = ctx["training"]
            if training is None:
                training = self._call_training_default()
            if ctx["training"] is None and training is not None:
                ctx["training"] = training
            if self._call_has_training_arg:
                if training is not None:
                    kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            previous_mask = _mask_of(first)
            if self._call_has_mask_arg and kwargs.get("mask") is None and previous_mask is not None:
                kwargs["mask"] = previous_mask
            if kwargs.get("mask") is not None:
                previous_mask = kwargs["mask"]
            with self._open_name_scope():
                outputs = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                for o in nest.flatten(outputs):
                    batch = o.shape[0] if o.ndim else 1
                    self.add_loss(self.activity_regularizer(o) / cast(batch, o.dtype))
            if self.supports_masking:
                out_mask = self.compute_mask(first, previous_mask)
                if out_mask is not None:
                    flat_masks = nest.flatten(out_mask)
                    flat_out = nest.flatten(outputs)
                    if len(flat_masks) != len(flat_out):
                        flat_masks = [out_mask] * len(flat_out)
                    for o, m in zip(flat_out, flat_masks):
                        if isinstance(o, Tensor) and getattr(o, "_keras_mask", None) is None:
                            o._keras_mask = m
            elif previous_mask is not None and any(m is not None for m in nest.flatten(previous_mask)):
                warnings.warn(
                    f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with a mask "
                    "attached to it. However, this layer does not support masking and will therefore "
                    "destroy the mask information. Downstream layers will not see the mask.",
                    UserWarning,
                    stacklevel=2,
                )
            if not was_built and self._build_output_shapes is None and not getattr(_ctx, "inferring", False):
                object.__setattr__(self, "_build_output_shapes", _shape_of_nest(outputs))
            return outputs
        finally:
            if outermost:
                _ctx.call = None

    def _call_training_default(self):
        return self._call_training_default_value

    def _assert_input_compatible(self, x):
        """Keras's ``assert_input_compatibility``: checks `x` against ``self.input_spec``."""
        spec = self.input_spec
        if spec is not None:
            _assert_input_compatibility(spec, x, self.name)

    @property
    def input(self):
        """The symbolic input of the layer's first call in a functional graph (Keras's ``layer.input``)."""
        return self._node_attribute("input_tensors", "input")

    @property
    def output(self):
        """The symbolic output of the layer's first call in a functional graph (Keras's ``layer.output``)."""
        return self._node_attribute("outputs", "output")

    def _node_attribute(self, attr, attr_name):
        if not self._inbound_nodes:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined {attr_name}.")
        # Keras 3 (Operation._get_node_attribute_at_index(0, ...)): the first call's, even when the
        # layer was called again (e.g. Sequential.add rebuilding its graph)
        values = getattr(self._inbound_nodes[0], attr)
        return values[0] if isinstance(values, list) and len(values) == 1 else values

    # ---- config ----------------------------------------------------------------------------------

    def get_config(self):
        """``{"name", "trainable", "dtype"}`` (+ ``activity_regularizer``). A subclass that does not override
        it gets its ``__init__`` arguments too when they are plain values (Keras's auto-config)."""
        self._check_super_called()
        config = {"name": self.name}
        if type(self).get_config is Layer.get_config:
            if self._auto_config is None:
                raise NotImplementedError(_auto_config_message(type(self).__name__, self._auto_config_error_args))
            config.update(self._auto_config)
            params = inspect.signature(type(self).__init__).parameters
            has_kwargs = "kwargs" in params and params["kwargs"].kind == inspect.Parameter.VAR_KEYWORD
            if "name" not in params and not has_kwargs:
                config.pop("name", None)
        config.update({"trainable": self.trainable, "dtype": self._dtype.name})
        if self.activity_regularizer is not None:
            from .. import regularizers  # noqa: PLC0415

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class InputSpec:
    """What a layer accepts (``tf.keras.layers.InputSpec``): ``dtype``, ``shape``, ``ndim``,
    ``min_ndim``, ``max_ndim``, ``axes`` ({axis: size}); checked on every call with Keras's messages.

    >>> import tapegrad as tg
    >>> spec = tg.keras.layers.InputSpec(min_ndim=2, axes={-1: 4})
    >>> spec
    InputSpec(min_ndim=2, axes={-1: 4})
    """

    def __init__(
        self,
        dtype=None,
        shape=None,
        ndim=None,
        max_ndim=None,
        min_ndim=None,
        axes=None,
        allow_last_axis_squeeze=False,
        name=None,
        optional=False,
    ):
        self.dtype = None if dtype is None else as_dtype(dtype).name
        if shape is not None:
            self.shape = tuple(None if d is None else int(d) for d in shape)
            self.ndim = len(self.shape)
        else:
            self.shape = None
            self.ndim = ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError) as e:
            raise TypeError(f"Argument `axes` must be a dict with integer keys. Received: axes={axes}") from e
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(f"Axis {max_axis} is greater than the maximum allowed value: {max_dim}")

    def get_config(self):
        return {
            "dtype": self.dtype,
            "shape": self.shape,
            "ndim": self.ndim,
            "max_ndim": self.max_ndim,
            "min_ndim": self.min_ndim,
            "axes": self.axes,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        parts = [
            f"{k}={v}"
            for k, v in (
                ("dtype", self.dtype),
                ("shape", self.shape),
                ("ndim", self.ndim),
                ("max_ndim", self.max_ndim),
                ("min_ndim", self.min_ndim),
                ("axes", self.axes or None),
            )
            if v is not None
        ]
        return "InputSpec(" + ", ".join(parts) + ")"


def _assert_input_compatibility(input_spec, inputs, layer_name):
    """Keras's ``assert_input_compatibility`` (keras/src/layers/input_spec.py), same messages."""
    if not input_spec:
        return
    specs = nest.flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            listed = []
            for name in names:
                if name not in inputs:
                    raise ValueError(
                        f'Missing data for input "{name}". You passed a data dictionary with keys '
                        f"{list(inputs.keys())}. Expected the following keys: {names}"
                    )
                listed.append(inputs[name])
            inputs = listed
    inputs = nest.flatten(inputs)
    if len(inputs) != len(specs):
        spec_names = [spec.name for spec in specs if spec is not None]
        if len(spec_names) == len(specs) and all(spec_names):
            raise ValueError(
                f'Layer "{layer_name}" expects {len(specs)} named input(s) with keys {spec_names}, but '
                f"it received {len(inputs)} input tensors. Pass inputs as a dict, e.g. `layer({{"
                + ", ".join(f"'{n}': ..." for n in spec_names)
                + "})`."
            )
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received {len(inputs)} input '
            f"tensors. Inputs received: {inputs}"
        )
    for index, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(
                f"Inputs to a layer should be tensors. Got '{x}' (of type {type(x)}) as input for layer '{layer_name}'."
            )
        shape = tuple(None if d is None else int(d) for d in _static_shape(x))
        ndim = len(shape)
        head = f"Input {index} with name '{spec.name}' of layer '{layer_name}' is incompatible with the layer: "
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise ValueError(head + f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise ValueError(head + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise ValueError(
                head + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. Full shape received: {shape}"
            )
        if spec.dtype is not None:
            dtype = getattr(x.dtype, "name", x.dtype)
            if dtype != spec.dtype:
                raise ValueError(head + f"expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, value in spec.axes.items():
            if value is not None and (axis >= ndim or axis < -ndim or shape[axis] not in (value, None)):
                raise ValueError(
                    head + f"expected axis {axis} of input shape to have value {value}, but received "
                    f"input with shape {shape}"
                )
        if spec.shape is not None:
            spec_shape, got = spec.shape, shape
            if spec.allow_last_axis_squeeze:
                if got and got[-1] == 1:
                    got = got[:-1]
                if spec_shape and spec_shape[-1] == 1:
                    spec_shape = spec_shape[:-1]
            for spec_dim, dim in zip(spec_shape, got):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise ValueError(head + f"expected shape={spec.shape}, found shape={got}")


# ---- helpers -------------------------------------------------------------------------------------

_AUTO_CONFIG_EXAMPLE = """
class CustomLayer(keras.layers.Layer):
    def __init__(self, arg1, arg2, **kwargs):
        super().__init__(**kwargs)
        self.arg1 = arg1
        self.arg2 = arg2

    def get_config(self):
        config = super().get_config()
        config.update({
            "arg1": self.arg1,
            "arg2": self.arg2,
        })
        return config
"""


def _auto_config_message(cls_name, error_args):
    if error_args:
        return (
            f"\nObject {cls_name} was created by passing\npositional only or variadic positional arguments (e.g.,"
            "\n`*args`) to `__init__()`, which is not supported by the\nautomatic config generation. Please remove "
            "all positional\nonly and variadic arguments from `__init__()`\nor override `get_config()` and "
            "`from_config()` to make\nthe object serializatble.\n\nExample:\n\n" + _AUTO_CONFIG_EXAMPLE
        )
    return (
        f"\nObject {cls_name} was created by passing\nnon-serializable argument values in `__init__()`,\nand "
        "therefore the object must override `get_config()` in\norder to be serializable. Please implement "
        "`get_config()`.\n\nExample:\n\n" + _AUTO_CONFIG_EXAMPLE
    )


def _auto_config(cls, args, kwargs):
    """Keras's ``Operation.__new__`` auto-config: the ``__init__`` arguments (defaults included) when all of
    them are plain Python values; (config or None, whether positional-only/variadic args prevented it)."""
    try:
        sig = inspect.signature(cls.__init__)
        bound = sig.bind(None, *args, **kwargs)
    except (TypeError, ValueError):
        return None, False
    params = list(sig.parameters.values())
    error_args = any(p.kind == p.POSITIONAL_ONLY for p in params[1:])
    bound.apply_defaults()
    config = dict(bound.arguments)
    config.pop(params[0].name, None)
    for p in params:
        if p.kind == p.VAR_KEYWORD:
            config.update(config.pop(p.name, {}))
        elif p.kind == p.VAR_POSITIONAL:
            if config.pop(p.name, ()):
                error_args = True
    config.pop("name", None)
    if error_args:
        return None, True
    for value in nest.flatten(config):
        if not isinstance(value, (str, int, float, bool, type(None))):
            return None, False
    return config, False


def _policy_dtype(dtype):
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    name = getattr(dtype, "name", dtype)
    if isinstance(name, str) and name.startswith("mixed_"):
        raise NotImplementedError(
            f"dtype policy '{name}' is not supported yet: tapegrad layers compute in float32 or float64"
        )
    return as_dtype(dtype)


_METRIC_CLASS: list = []


def _is_metric(x):
    if not _METRIC_CLASS:
        try:
            from ..metrics import Metric  # noqa: PLC0415
        except ImportError:  # the metrics package imports layers' helpers at its own import
            return False
        _METRIC_CLASS.append(Metric)
    return isinstance(x, _METRIC_CLASS[0])


def _get_regularizer(r):
    if r is None:
        return None
    if callable(r) and not isinstance(r, (str, dict, type)):
        return r
    from .. import regularizers  # noqa: PLC0415

    return regularizers.get(r)


def _get_constraint(c):
    if c is None:
        return None
    if callable(c) and not isinstance(c, (str, dict, type)):
        return c
    from .. import constraints  # noqa: PLC0415

    return constraints.get(c)


def _autocast(x, float_dtype):
    dtype = x.dtype
    if dtype is float_dtype or dtype == float_dtype or not dtype.is_floating:
        return x
    mask = getattr(x, "_keras_mask", None)
    x = cast(x, float_dtype)
    if mask is not None:
        x._keras_mask = mask
    return x


def _to_tensors(x, float_dtype=None):
    """Positional inputs: numpy arrays become Tensors; floating inputs are cast to `float_dtype` (the
    layer's compute dtype, Keras's autocast of inputs) when it is given."""
    if x is None:
        return x
    if isinstance(x, Variable):
        x = x.value()
    if isinstance(x, (np.ndarray, np.generic)):
        a = np.asarray(x)
        if a.dtype.kind == "f":
            x = convert_to_tensor(a.astype(np.float32 if float_dtype is None else float_dtype.as_numpy_dtype))
        else:
            x = convert_to_tensor(a)
    if isinstance(x, Tensor):
        if float_dtype is not None and x.dtype.is_floating and x.dtype != float_dtype:
            mask = getattr(x, "_keras_mask", None)
            x = cast(x, float_dtype)
            if mask is not None:
                x._keras_mask = mask
        return x
    if isinstance(x, (list, tuple)):
        return type(x)(_to_tensors(v, float_dtype) for v in x)
    if isinstance(x, dict):
        return {k: _to_tensors(v, float_dtype) for k, v in x.items()}
    return x


def _shape_of(t):
    if t is None:
        return None
    return TensorShape(tuple(_static_shape(t))) if hasattr(t, "shape") else None


def _mask_of(x):
    """The ``_keras_mask`` structure of `x` (``None`` when no element carries one)."""
    if x is None:
        return None
    if type(x) is Tensor:
        return getattr(x, "_keras_mask", None)
    flat = nest.flatten(x)
    masks = [getattr(t, "_keras_mask", None) for t in flat]
    if all(m is None for m in masks):
        return None
    return masks[0] if len(flat) == 1 and not isinstance(x, (list, tuple, dict)) else nest.pack_sequence_as(x, masks)


def _shape_of_nest(x):
    if x is None:
        return None
    return nest.pack_sequence_as(x, [_shape_of(t) for t in nest.flatten(x)])
