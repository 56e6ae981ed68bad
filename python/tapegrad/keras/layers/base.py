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
>>> layer = Scale()
>>> layer(tg.ones([2, 3])).shape
TensorShape([2, 3])
>>> [w.path for w in layer.weights]
['scale/w']
"""
import inspect
import re
import threading
import warnings

import numpy as np

from ... import _restore_hooks, nest
from ..._ops import convert_to_tensor, cast
from ..._dtypes import as_dtype, float32
from ..._tensor import Tensor, TensorShape, Variable
from .. import initializers as _initializers

_NAME_COUNTS = {}
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


class KerasVariable(Variable):
    """A layer weight: a ``tf.Variable`` that also knows its Keras ``path`` ("dense/kernel"),
    regularizer and constraint. ``name`` is the short name, as ``keras.Variable.name``."""

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, path=None, regularizer=None,
                 constraint=None):
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
        return (f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, path={self.path}>"
                if a.size > 6 else
                f"<KerasVariable shape={tuple(self.shape)}, dtype={self.dtype.name}, path={self.path}, "
                f"value={a.tolist()}>")


class _Tracked(list):
    """A list assigned to a layer attribute; appends track layers and variables as Keras does."""


def _is_keras_tensor(x):
    return getattr(x, "_is_keras_tensor", False)


def _has_keras_tensor(args, kwargs):
    return any(_is_keras_tensor(x) for x in nest.flatten([list(args), list(kwargs.values())]))


def _call_context():
    return getattr(_ctx, "stack", None)


class Layer:
    """Base class of every Keras layer (``tf.keras.layers.Layer``); see the module docstring."""

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # set before __init__ so that a subclass that forgets super().__init__() gets Keras's error
        object.__setattr__(obj, "_layer_initialized", False)
        return obj

    def __init__(self, *, activity_regularizer=None, trainable=True, dtype=None, autocast=True, name=None,
                 **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        batch_size = kwargs.pop("batch_size", None)
        input_dtype = kwargs.pop("input_dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if not isinstance(trainable, bool):
            raise ValueError(f"Expected `trainable` to be a boolean. Received: trainable={trainable}")
        object.__setattr__(self, "_layer_initialized", True)
        object.__setattr__(self, "_tracked_layers", [])
        object.__setattr__(self, "_trainable_variables", [])
        object.__setattr__(self, "_non_trainable_variables", [])
        object.__setattr__(self, "_tracked_metrics", [])
        self._losses = []
        self.built = False
        self._trainable = trainable
        self._dtype = float32 if dtype is None else _policy_dtype(dtype)
        self.autocast = autocast
        self.name = name if name is not None else unique_name(to_snake_case(type(self).__name__))
        self.activity_regularizer = _get_regularizer(activity_regularizer)
        self.input_spec = None
        self._build_shapes = None
        if input_shape is not None or input_dim is not None or batch_input_shape is not None:
            warnings.warn("Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
                          "models, prefer using an `Input(shape)` object as the first layer in the model "
                          "instead.", UserWarning, stacklevel=2)
            if batch_input_shape is not None:
                shape = tuple(batch_input_shape)
            else:
                shape = (batch_size,) + (tuple(input_shape) if input_shape is not None else (input_dim,))
            self._batch_input_shape = shape
            self._input_dtype = input_dtype
        sig = inspect.signature(self.call)
        self._call_has_training_arg = "training" in sig.parameters
        self._call_has_mask_arg = "mask" in sig.parameters
        if not hasattr(self, "supports_masking") or "supports_masking" not in type(self).__dict__:
            self.supports_masking = type(self).compute_mask is not Layer.compute_mask
        self._locked = False

    # ---- attribute tracking ---------------------------------------------------------------------

    def __setattr__(self, name, value):
        if not name.startswith("__") and name not in ("_layer_initialized",):
            self._check_super_called()
            self._track(value)
        object.__setattr__(self, name, value)

    def __delattr__(self, name):
        value = getattr(self, name, None)
        object.__delattr__(self, name)
        for lst in (self._tracked_layers, self._trainable_variables, self._non_trainable_variables,
                    self._tracked_metrics):
            for i, x in enumerate(lst):
                if x is value:
                    del lst[i]
                    break

    def _check_super_called(self):
        if not object.__getattribute__(self, "_layer_initialized"):
            raise RuntimeError(f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as the "
                               "first statement in the `__init__()` method. Go add it!")

    def _track(self, value):
        if isinstance(value, Layer):
            if not any(x is value for x in self._tracked_layers) and value is not self:
                self._tracked_layers.append(value)
        elif isinstance(value, Variable):
            lst = self._trainable_variables if value.trainable else self._non_trainable_variables
            if not any(x is value for x in self._trainable_variables + self._non_trainable_variables):
                lst.append(value)
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

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, autocast=True,
                   regularizer=None, constraint=None, aggregation="none", overwrite_with_gradient=False,
                   name=None, **kwargs):
        """Creates a weight Variable tracked by this layer (Keras 3's signature and defaults)."""
        self._check_super_called()
        if isinstance(shape, str):
            raise ValueError(f"`name` must be passed as a keyword argument. Received: add_weight('{shape}', ...). "
                             f"Use: add_weight(shape=..., name='{shape}').")
        if kwargs:
            # Keras 2 spellings kept by many programs
            if "use_resource" in kwargs or "synchronization" in kwargs:
                kwargs.pop("use_resource", None)
                kwargs.pop("synchronization", None)
            if kwargs:
                raise TypeError(f"add_weight() got unexpected keyword arguments: {list(kwargs)}")
        if aggregation not in (None, "none", "mean", "sum", "only_first_replica"):
            raise ValueError(f"Invalid value for argument `aggregation`. Expected one of `None`, `'none'`, "
                             f"`'mean'`, `'sum'`, `'only_first_replica'`. Received: aggregation={aggregation}")
        shape = () if shape is None else tuple(int(d) for d in shape)
        dtype = self._dtype if dtype is None else as_dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = _initializers.get(initializer)
        value = init(shape, dtype=dtype) if not isinstance(init, (int, float)) else np.full(shape, init)
        value = convert_to_tensor(value)
        if value.dtype != dtype:
            value = cast(value, dtype)
        name = name or "variable"
        var = KerasVariable(value, trainable=trainable, name=name, path=f"{self.name}/{name}",
                            regularizer=_get_regularizer(regularizer), constraint=_get_constraint(constraint))
        (self._trainable_variables if trainable else self._non_trainable_variables).append(var)
        _restore_hooks.notify(self)  # deferred checkpoint restoration (tapegrad/_restore_hooks.py)
        return var

    def add_variable(self, shape, initializer, dtype=None, trainable=True, autocast=True, regularizer=None,
                     constraint=None, name=None):
        """Same as ``add_weight`` with Keras's positional order."""
        return self.add_weight(shape=shape, initializer=initializer, dtype=dtype, trainable=trainable,
                               regularizer=regularizer, constraint=constraint, name=name)

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
            raise ValueError(f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                             f"{len(weights)}, but the layer was expecting {len(params)} weights.")
        for v, w in zip(params, weights):
            w = np.asarray(w)
            if tuple(v.shape) != w.shape:
                raise ValueError(f"Layer {self.name} weight shape {tuple(v.shape)} is not compatible with provided "
                                 f"weight shape {w.shape}.")
        for v, w in zip(params, weights):
            v.assign(np.asarray(w, dtype=v.dtype.as_numpy_dtype))

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                             "You can build it manually via: `layer.build(input_shape)`.")
        return int(sum(np.prod(v.shape, dtype=np.int64) for v in self.weights))

    # ---- losses and metrics ----------------------------------------------------------------------

    def add_loss(self, loss):
        """Adds a loss (a scalar tensor) that ``losses`` reports until the next top-level call."""
        self._losses.append(loss)

    @property
    def losses(self):
        """Losses added during the last call plus the regularization penalty of every weight."""
        out = []
        for layer in self._flatten_layers():
            out.extend(layer._losses)
            for v in layer._trainable_variables + layer._non_trainable_variables:
                if getattr(v, "regularizer", None) is not None:
                    out.append(v.regularizer(v))
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            layer._losses = []

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
        if type(self).build is not Layer.build:
            shapes = nest.pack_sequence_as(first, [_shape_of(t) for t in nest.flatten(first)]) \
                if first is not None else None
            sig = inspect.signature(self.build)
            if first is None or len(sig.parameters) == 0:
                self.build()
            else:
                self.build(shapes)
        self._build_shapes = _shape_of_nest(first)
        self.built = True
        _restore_hooks.notify(self)

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        if _has_keras_tensor(args, kwargs):
            from ..models.functional import symbolic_call
            return symbolic_call(self, args, kwargs)
        args = tuple(_to_tensors(a) for a in args)
        stack = _call_context()
        outermost = not stack
        if outermost:
            stack = _ctx.stack = []
        training = kwargs.get("training", None)
        if training is None and stack:
            training = stack[-1]
        try:
            stack.append(training)
            if outermost:
                self._clear_losses()
            self._assert_input_compatible(args[0] if args else None)
            self._maybe_build(args, kwargs)
            if self._call_has_training_arg:
                if training is not None:
                    kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            first = args[0] if args else None
            in_mask = getattr(first, "_keras_mask", None) if first is not None else None
            if self._call_has_mask_arg and "mask" not in kwargs and in_mask is not None:
                kwargs["mask"] = in_mask
            outputs = self.call(*args, **kwargs)
            if self.activity_regularizer is not None:
                for o in nest.flatten(outputs):
                    batch = o.shape[0] if o.ndim else 1
                    self.add_loss(self.activity_regularizer(o) / cast(batch, o.dtype))
            mask_arg = kwargs.get("mask", in_mask)
            if self.supports_masking or type(self).compute_mask is not Layer.compute_mask:
                out_mask = self.compute_mask(first, mask_arg)
                if out_mask is not None:
                    for o in nest.flatten(outputs):
                        if isinstance(o, Tensor) and getattr(o, "_keras_mask", None) is None:
                            o._keras_mask = out_mask
            return outputs
        finally:
            stack.pop()
            if outermost:
                _ctx.stack = None

    def _assert_input_compatible(self, x):
        spec = self.input_spec
        if spec is None or x is None:
            return
        specs = spec if isinstance(spec, (list, tuple)) else [spec]
        xs = nest.flatten(x)
        for s, t in zip(specs, xs):
            s.assert_compatible(self, t)

    # ---- config ----------------------------------------------------------------------------------

    def get_config(self):
        """``{"name", "trainable", "dtype"}``; subclasses add their ``__init__`` arguments."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype.name}
        cls_init = type(self).__init__
        if cls_init is not Layer.__init__ and type(self).get_config is Layer.get_config:
            params = [p for p in inspect.signature(cls_init).parameters.values() if p.name != "self"]
            extra = {}
            for p in params:
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                if not hasattr(self, p.name):
                    raise NotImplementedError(
                        f"Object {type(self).__name__} was created by passing non-serializable argument values in "
                        "`__init__()`, and therefore the object must override `get_config()` in order to be "
                        "serializable. Please implement `get_config()`.")
                extra[p.name] = getattr(self, p.name)
            config.update(extra)
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
    """What a layer accepts (``tf.keras.layers.InputSpec``): ``ndim``, ``min_ndim``, ``max_ndim``,
    ``axes`` ({axis: size}) and ``shape``; checked on every call with Keras's messages."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.axes = dict(axes or {})
        self.name = name
        self.optional = optional

    def assert_compatible(self, layer, x):
        shape = tuple(x.shape)
        nd = len(shape)
        name = layer.name
        if self.ndim is not None and nd != self.ndim:
            raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected ndim={self.ndim}, '
                             f"found ndim={nd}. Full shape received: {shape}")
        if self.max_ndim is not None and nd > self.max_ndim:
            raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected max_ndim='
                             f"{self.max_ndim}, found ndim={nd}")
        if self.min_ndim is not None and nd < self.min_ndim:
            raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected min_ndim='
                             f"{self.min_ndim}, found ndim={nd}. Full shape received: {shape}")
        for axis, size in self.axes.items():
            if size is None:
                continue
            if axis >= nd or axis < -nd or shape[axis] not in (size, None):
                raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected axis {axis} '
                                 f"of input shape to have value {size}, but received input with shape {shape}")
        if self.shape is not None:
            for i, (want, got) in enumerate(zip(self.shape, shape)):
                if want is not None and got is not None and want != got:
                    raise ValueError(f'Input 0 of layer "{name}" is incompatible with the layer: expected shape='
                                     f"{self.shape}, found shape={shape}")

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                          ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                          ("axes", self.axes or None)) if v is not None]
        return "InputSpec(" + ", ".join(parts) + ")"


# ---- helpers -------------------------------------------------------------------------------------

def _policy_dtype(dtype):
    if isinstance(dtype, dict):
        dtype = dtype.get("config", {}).get("name", "float32")
    name = getattr(dtype, "name", dtype)
    if isinstance(name, str) and name.startswith("mixed_"):
        raise NotImplementedError(f"dtype policy '{name}' is not supported yet: tapegrad layers compute in "
                                  "float32 or float64")
    return as_dtype(dtype)


def _is_metric(x):
    try:
        from ..metrics import Metric  # noqa: PLC0415
    except ImportError:  # the metrics package imports layers' helpers at its own import
        return False
    return isinstance(x, Metric)


def _get_regularizer(r):
    if r is None:
        return None
    from .. import regularizers  # noqa: PLC0415
    return regularizers.get(r)


def _get_constraint(c):
    if c is None:
        return None
    from .. import constraints  # noqa: PLC0415
    return constraints.get(c)


def _to_tensors(x):
    """Positional inputs: numpy arrays and Python numbers become Tensors (as Keras converts them)."""
    if isinstance(x, (Tensor, Variable)) or x is None:
        return x
    if isinstance(x, (np.ndarray, np.generic, float, int)):
        t = convert_to_tensor(np.asarray(x, dtype=np.float32) if np.asarray(x).dtype == np.float64 else x)
        return t
    if isinstance(x, (list, tuple)):
        if all(isinstance(v, (Tensor, Variable, np.ndarray)) or v is None for v in x):
            return type(x)(_to_tensors(v) for v in x)
        return convert_to_tensor(np.asarray(x, dtype=np.float32))
    if isinstance(x, dict):
        return {k: _to_tensors(v) for k, v in x.items()}
    return x


def _shape_of(t):
    if t is None:
        return None
    return TensorShape(tuple(t.shape)) if hasattr(t, "shape") else None


def _shape_of_nest(x):
    if x is None:
        return None
    return nest.pack_sequence_as(x, [_shape_of(t) for t in nest.flatten(x)])
