"""Keras 3's Metric base, Sum, Mean and MeanMetricWrapper (keras/src/metrics/metric.py,
reduction_metrics.py).

Metric state lives in non-trainable tapegrad Variables. Note [Metrics and tapes]: every
``update_state`` (also a subclass's own) receives its tensor arguments through ``stop_gradient``,
so updating a metric inside a ``GradientTape`` records nothing on the tape and watches no
variable; state updates are plain ``assign`` calls on non-trainable variables.
"""

import functools

from ... import _ops, _ops_math
from ..._dtypes import as_dtype
from ..._tensor import StateVariable, Tensor, Variable
from .. import initializers
from ..losses.base import _auto_name, apply_mask, as_tensor, get_mask, squeeze_or_expand_to_same_rank

FLOATX = "float32"


def _detach(x):
    if isinstance(x, Variable):
        return x if not x.trainable else _ops.stop_gradient(x.read_value())
    if isinstance(x, Tensor):
        out = _ops.stop_gradient(x)
        mask = get_mask(x)
        if mask is not None:
            out._keras_mask = mask
        return out
    return x


def _outside_tapes(update_state):
    """Wraps an ``update_state`` so that its tensor arguments are cut from every tape."""
    if getattr(update_state, "_tg_detached", False):
        return update_state

    @functools.wraps(update_state)
    def wrapper(self, *args, **kwargs):
        args = tuple(_detach(a) for a in args)
        kwargs = {k: _detach(v) for k, v in kwargs.items()}
        return update_state(self, *args, **kwargs)

    wrapper._tg_detached = True
    return wrapper


class Metric:
    """Base class: state variables from ``add_variable`` in ``__init__``, ``update_state``
    accumulates, ``result`` reads; ``metric(...)`` is ``update_state`` then ``result``.

    >>> import tapegrad as tg
    >>> class Count(tg.keras.metrics.Metric):
    ...     def __init__(self, name="count", dtype=None):
    ...         super().__init__(name=name, dtype=dtype)
    ...         self.n = self.add_variable(shape=(), initializer="zeros", name="n")
    ...     def update_state(self, values):
    ...         self.n.assign_add(tg.cast(tg.size(values), self.dtype))
    ...     def result(self):
    ...         return self.n.value()
    >>> m = Count()
    >>> float(m([1, 2, 3])), float(m([4]))
    (3.0, 4.0)
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "update_state" in cls.__dict__:
            cls.update_state = _outside_tapes(cls.__dict__["update_state"])

    def __init__(self, dtype=None, name=None):
        self.name = name or _auto_name(type(self).__name__)
        self._dtype = as_dtype(dtype or FLOATX).name
        self._metrics = []
        self._variables = []

    def __setattr__(self, name, value):
        if isinstance(value, Metric) and "_metrics" in self.__dict__ and value is not self:
            if not any(m is value for m in self._metrics):
                self._metrics.append(value)
        object.__setattr__(self, name, value)

    def _check_super_called(self):
        if "_variables" not in self.__dict__:
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` method. Go add it!")

    @property
    def dtype(self):
        return self._dtype

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A non-trainable state variable, tracked in ``self.variables`` (zeroed by ``reset_state``)."""
        self._check_super_called()
        init = initializers.get(initializer)
        shape = tuple(int(d) for d in shape)
        value = init(shape, dtype=dtype or self._dtype)
        variable = StateVariable(value, trainable=False, name=name if name is not None else "Variable")
        variable.aggregation = aggregation
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape=shape, initializer=initializer or "zeros", dtype=dtype, name=name)

    @property
    def variables(self):
        out = list(self._variables)
        for metric in self._metrics:
            out.extend(metric.variables)
        return out

    def reset_state(self):
        """Assigns 0 to every state variable."""
        for v in self.variables:
            v.assign(_ops.zeros(list(v.shape), v.dtype))

    def update_state(self, *args, **kwargs):
        """Accumulates statistics (subclasses implement it)."""
        raise NotImplementedError

    def result(self):
        """The current value from the state (subclasses implement it)."""
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self._check_super_called()
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

    __str__ = __repr__


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Keras's rule: values cast, weights (mask folded in) matched in rank, values reduced over the
    axes the weights lack, weighted, then reduced to one value per sample."""
    dtype = dtype or FLOATX
    mask = get_mask(values)
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = as_tensor(sample_weight, dtype)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=values.dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = len(sample_weight.shape)
        values_ndim = len(values.shape)
        if values_ndim > weight_ndim:
            values = reduce_fn(values, axis=list(range(weight_ndim, values_ndim)))
        sample_weight = _ops.broadcast_to(sample_weight, list(values.shape))
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_ndim)))
    values_ndim = len(values.shape)
    if values_ndim > 1:
        values = reduce_fn(values, axis=list(range(1, values_ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of all values seen.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.Sum()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0])
    >>> float(m.result())
    16.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer=initializers.Zeros(), dtype=self.dtype, name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight, _ops.reduce_sum, self.dtype)
        self.total.assign_add(_ops.reduce_sum(values))

    def reset_state(self):
        self.total.assign(_ops.zeros([], self.dtype))

    def result(self):
        return self.total.value()


class Mean(Metric):
    """The (weighted) mean of all values seen: ``sum(v * w) / sum(w)``, 0 before any update.

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.Mean()
    >>> m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1.0, 1.0, 0.0, 0.0])
    >>> float(m.result())
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer=initializers.Zeros(), dtype=self.dtype, name="total")
        self.count = self.add_variable(shape=(), initializer=initializers.Zeros(), dtype=self.dtype, name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, _ops.reduce_mean, self.dtype)
        self.total.assign_add(_ops.reduce_sum(values))
        if sample_weight is not None:
            num_samples = _ops.reduce_sum(sample_weight)
        else:
            num_samples = _ops.constant(values.shape[0] if len(values.shape) >= 1 else 1, dtype=self.dtype)
        self.count.assign_add(num_samples)

    def reset_state(self):
        self.total.assign(_ops.zeros([], self.dtype))
        self.count.assign(_ops.zeros([], self.dtype))

    def result(self):
        return _ops_math.divide_no_nan(self.total.value(), self.count.value())


def serialize_fn(fn):
    """Keras's serialized form of a plain function in a config."""
    if isinstance(fn, Metric) or hasattr(fn, "get_config"):
        return {
            "module": "keras.metrics",
            "class_name": type(fn).__name__,
            "config": fn.get_config(),
            "registered_name": None,
        }
    return {
        "module": "builtins",
        "class_name": "function",
        "config": getattr(fn, "__name__", repr(fn)),
        "registered_name": "function",
    }


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen (mask of `y_pred` and
    `sample_weight` applied).

    >>> import tapegrad as tg
    >>> m = tg.keras.metrics.MeanMetricWrapper(tg.keras.metrics.binary_accuracy, threshold=0.3)
    >>> float(m([[1], [0]], [[0.4], [0.2]]))
    1.0
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = get_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None or sample_weight is not None:
            sample_weight = apply_mask(
                None if sample_weight is None else as_tensor(sample_weight, self.dtype),
                mask,
                dtype=self.dtype,
                reduction="sum",
            )
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = {**super().get_config(), "fn": serialize_fn(self._fn)}
        config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        fn = config.get("fn")
        if isinstance(fn, (dict, str)):
            from . import _FUNCTIONS_BY_NAME

            name = fn.get("config") if isinstance(fn, dict) else fn
            if name not in _FUNCTIONS_BY_NAME:
                raise ValueError(f"Could not interpret metric function: {name}")
            config["fn"] = _FUNCTIONS_BY_NAME[name]
        return cls(**config)


class LossMetricWrapper(MeanMetricWrapper):
    """MeanMetricWrapper for the loss functions: integer or bool predictions are cast to the
    metric's dtype first (Keras's loss functions promote them through ``ops.mean``)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_tensor(y_pred)
        if not y_pred.dtype.is_floating:
            mask = get_mask(y_pred)
            y_pred = _ops.cast(y_pred, self.dtype)
            if mask is not None:
                y_pred._keras_mask = mask
        return super().update_state(y_true, y_pred, sample_weight=sample_weight)
