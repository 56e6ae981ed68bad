"""Keras 3's recurrent layers (keras/src/layers/rnn/*.py): the cells ``SimpleRNNCell``,
``LSTMCell``, ``GRUCell`` and ``StackedRNNCells``, the ``RNN`` loop, ``SimpleRNN``/``LSTM``/``GRU``,
and the wrappers ``Bidirectional`` and ``TimeDistributed``.

Weights have Keras's layouts (kernel ``[input_dim, gates * units]``, gate order i, f, c, o for LSTM
and z, r, h for GRU, GRU bias ``(2, 3 * units)`` when ``reset_after``), so ``get_weights`` /
``set_weights`` exchange weights with Keras. The time loop runs in Python over tape-recorded ops:
for the built-in cells the input projection ``x @ kernel + bias`` is one matmul over all steps,
and each step does only ``h @ recurrent_kernel`` and the gate arithmetic (See Note [Fast cells]).
Masks follow Keras's TF backend: a masked step keeps the previous states and emits the previous
output (zeros with ``zero_output_for_mask``).

>>> import numpy as np, tapegrad as tg
>>> layer = tg.keras.layers.LSTM(4, return_sequences=True, return_state=True)
>>> seq, h, c = layer(np.ones((2, 5, 3), np.float32))
>>> seq.shape, h.shape, c.shape
(TensorShape([2, 5, 4]), TensorShape([2, 4]), TensorShape([2, 4]))
>>> [w.shape for w in layer.get_weights()]
[(3, 16), (4, 16), (16,)]
"""

import copy

import numpy as np

from ... import _ops, _ops_shape, nest
from ... import random as _random
from ..._dtypes import bool as _bool
from ..._tensor import Variable
from .. import activations, constraints, initializers, regularizers
from ._weight_options import set_weight_options, weight_options_config
from .base import InputSpec, Layer

__all__ = [
    "SimpleRNNCell",
    "LSTMCell",
    "GRUCell",
    "StackedRNNCells",
    "RNN",
    "SimpleRNN",
    "LSTM",
    "GRU",
    "ConvLSTM1D",
    "ConvLSTM2D",
    "ConvLSTM3D",
    "Bidirectional",
    "TimeDistributed",
]


# ---- serialization of sub-layers (Keras's serialize_keras_object for layers) ----------------------

_SEEN_CLASSES: dict = {}


def serialize_layer(layer):
    """``{"module", "class_name", "config", "registered_name"}`` for a layer, as Keras writes it."""
    cls = type(layer)
    _SEEN_CLASSES[cls.__name__] = cls
    builtin = cls.__module__.startswith("tapegrad.keras.")
    return {
        "module": "keras.layers" if builtin else cls.__module__,
        "class_name": cls.__name__,
        "config": layer.get_config(),
        "registered_name": None if builtin else cls.__name__,
    }


def deserialize_layer(config, custom_objects=None):
    """The layer a ``serialize_layer`` dict stands for (``tf.keras.layers``, classes serialized in
    this process, or ``custom_objects``)."""
    if isinstance(config, Layer):
        return config
    from .. import layers as _layers  # noqa: PLC0415

    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or getattr(_layers, name, None) or _SEEN_CLASSES.get(name)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise TypeError(
            f"Could not locate class '{name}'. Make sure custom classes are decorated with "
            "`@keras.saving.register_keras_serializable()`. "
            f"Full object config: {config}"
        )
    cfg = copy.deepcopy(config["config"])
    try:
        return cls.from_config(cfg, custom_objects=custom_objects)
    except TypeError:
        return cls.from_config(cfg)


def _build_sublayer(layer, shape):
    if isinstance(layer, Layer) and not layer.built:
        layer.build(shape)
        layer.built = True


# ---- dropout masks (Keras's DropoutRNNCell) -------------------------------------------------------


class _SeedGenerator:
    """A cell's random stream: its own generator for an int seed, else tg.random's global rules."""

    def __init__(self, seed):
        self._gen = _random.Generator.from_seed(seed) if seed is not None else None

    def uniform(self, shape, dtype):
        if self._gen is not None:
            return self._gen.uniform(shape, dtype=dtype)
        return _random.uniform(shape, dtype=dtype)


class DropoutRNNCell:
    """Mixin that makes one dropout mask per RNN call and reuses it at every step (Keras's
    ``DropoutRNNCell``). Masks are inverted dropout on ones: 0 or ``1 / (1 - rate)``."""

    def _create_dropout_mask(self, step_input, rate):
        def one():
            ones = _ops.ones_like(step_input)
            if rate >= 1.0:
                return _ops.zeros_like(ones)
            u = self.seed_generator.uniform(list(step_input.shape), step_input.dtype)
            keep = _ops.cast(_ops.greater_equal(u, _ops.constant(rate, dtype=step_input.dtype)), step_input.dtype)
            return ones * keep * _ops.constant(1.0 / (1.0 - rate), dtype=step_input.dtype)

        count = getattr(self, "dropout_mask_count", None)
        return one() if count is None else [one() for _ in range(count)]

    def get_dropout_mask(self, step_input):
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            object.__setattr__(self, "_dropout_mask", self._create_dropout_mask(step_input, self.dropout))
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            object.__setattr__(
                self, "_recurrent_dropout_mask", self._create_dropout_mask(step_input, self.recurrent_dropout)
            )
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        object.__setattr__(self, "_dropout_mask", None)

    def reset_recurrent_dropout_mask(self):
        object.__setattr__(self, "_recurrent_dropout_mask", None)


def _check_units(units):
    if not isinstance(units, (int, np.integer)) or units <= 0:
        raise ValueError(f"Received an invalid value for argument `units`, expected a positive integer, got {units}.")


# Note [Fast cells]
# The built-in cells split their work in two: `_project(x, training)` applies input dropout and
# `x @ kernel + input_bias` to inputs of any leading shape (the RNN layer calls it once on the
# whole time-major sequence), `_time_inputs` cuts that into per-step pieces with a few ops, and
# `_step(xw_t, states, training, params)` does the recurrent part of one step. `params` holds the
# recurrent weights read once per sequence (`_step_params`): reading a Variable, or slicing one, at
# every step costs more than the step's small matmul. `call` is `_step(_project(x))`, so a cell used
# alone, in StackedRNNCells or in a subclass computes the same numbers. The RNN layer takes the fast
# route only for the built-in `call`.


class _FastCell(Layer, DropoutRNNCell):
    """Shared pieces of the built-in cells: weights, projection, config."""

    _gates = 1

    def _init_common(
        self,
        units,
        activation,
        use_bias,
        kernel_initializer,
        recurrent_initializer,
        bias_initializer,
        kernel_regularizer,
        recurrent_regularizer,
        bias_regularizer,
        kernel_constraint,
        recurrent_constraint,
        bias_constraint,
        dropout,
        recurrent_dropout,
        seed,
    ):
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(
            self,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
        )
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        object.__setattr__(self, "seed_generator", _SeedGenerator(seed))

    def _init_gated(self, recurrent_activation, implementation):
        """LSTMCell/GRUCell: the gates' activation; recurrent dropout forces Keras's implementation 1
        (one dropout mask per gate)."""
        self.implementation = implementation
        self.recurrent_activation = activations.get(recurrent_activation)
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = self._gates

    def _build_kernels(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the inputs to `{type(self).__name__}` should be defined. "
                f"Found None. Full input shape received: {tuple(input_shape)}"
            )
        g = self._gates * self.units
        self.kernel = self.add_weight(
            shape=(int(input_dim), g),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, g),
            name="recurrent_kernel",
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )

    def _build_bias(self, shape, initializer=None):
        """``self.bias`` of ``shape`` (None without ``use_bias``), from ``initializer`` or the cell's."""
        if not self.use_bias:
            self.bias = None
            return
        self.bias = self.add_weight(
            shape=shape,
            name="bias",
            initializer=self.bias_initializer if initializer is None else initializer,
            regularizer=self.bias_regularizer,
            constraint=self.bias_constraint,
        )

    def _build_lstm_bias(self):
        """The ``4 * units`` bias of LSTMCell/ConvLSTMCell (gates i, f, c, o); with ``unit_forget_bias``
        the forget gate's part starts at ones (Keras's initializer)."""
        initializer = None
        if self.unit_forget_bias:
            base, u = self.bias_initializer, self.units

            def initializer(shape, dtype=None):
                return _ops_shape.concat(
                    [
                        _ops.convert_to_tensor(base((u,), dtype=dtype)),
                        _ops.ones((u,), dtype=dtype),
                        _ops.convert_to_tensor(base((2 * u,), dtype=dtype)),
                    ],
                    axis=0,
                )

        self._build_bias((4 * self.units,), initializer)

    def _input_bias(self):
        return self.bias

    def _use_dropout(self, rate, training):
        return bool(training) and 0.0 < rate < 1.0

    def _project(self, x, training=False):
        """Input dropout, then ``x @ kernel + input_bias`` over any leading axes (See Note [Fast cells])."""
        lead = list(_ops_shape._shape(x)[:-1])  # sizes that vary are tensors (Note [Polymorphic traces])
        dim = x.shape[-1]
        mask = None
        if self._use_dropout(self.dropout, training):
            mask = self.get_dropout_mask(x if len(lead) == 1 else x[0])

        def flat(t):
            return t if len(lead) == 1 else _ops.reshape(t, [-1, dim])

        if isinstance(mask, list):  # one mask per gate (Keras's implementation 1)
            pieces = _ops_shape.split(self.kernel, len(mask), axis=1)
            z = _ops_shape.concat([_ops.matmul(flat(x * m), k) for m, k in zip(mask, pieces)], axis=1)
        else:
            z = _ops.matmul(flat(x if mask is None else x * mask), self.kernel)
        bias = self._input_bias() if self.use_bias else None
        if bias is not None:
            z = z + bias
        if len(lead) != 1:
            z = _ops.reshape(z, lead + [z.shape[-1]])
        return z

    def _step_params(self):
        return {"rk": _ops.identity(self.recurrent_kernel)}

    def _time_inputs(self, xw):
        """Per-step pieces of the projected time-major sequence ``[T, B, G]``."""
        return _ops_shape.unstack(xw, axis=0)

    def _recurrent_masks(self, h, training):
        if self._use_dropout(self.recurrent_dropout, training):
            return self.get_recurrent_dropout_mask(h)
        return None

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [_ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in sizes]

    def _cell_config(self, tail=None, **head):
        """Config of SimpleRNNCell/LSTMCell/GRUCell: units, activation, ``head``, the weights'
        options and dropouts, ``tail``, seed."""
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **head,
            **weight_options_config(self, ["kernel", "recurrent", "bias"]),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            **(tail or {}),
            "seed": self.seed,
        }

    def call(self, inputs, states, training=False):
        """One step: ``(output, new_states)`` for inputs ``[batch, features]``."""
        nested = isinstance(states, (list, tuple))
        state_list = list(states) if nested else [states]
        output, new_states = self._step(self._project(inputs, training), state_list, training)
        if not nested and len(new_states) == 1:
            return output, new_states[0]
        return output, new_states


class SimpleRNNCell(_FastCell):
    """Cell of a fully-connected RNN: ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``
    (``tf.keras.layers.SimpleRNNCell``)."""

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        _check_units(units)
        super().__init__(**kwargs)
        self._init_common(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
        )
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._build_kernels(input_shape)
        self._build_bias((self.units,))
        self.built = True

    def _use_dropout(self, rate, training):
        return bool(training) and rate > 0.0

    def _step(self, xw, states, training=False, params=None):
        rk = params["rk"] if params else self.recurrent_kernel
        h = states[0]
        rec = self._recurrent_masks(h, training)
        if rec is not None:
            h = h * rec
        out = xw + _ops.matmul(h, rk)
        if self.activation is not None:
            out = self.activation(out)
        return out, [out]

    def get_config(self):
        return self._cell_config(use_bias=self.use_bias)


class LSTMCell(_FastCell):
    """Cell of a Long Short-Term Memory layer (``tf.keras.layers.LSTMCell``): kernel
    ``[input_dim, 4 * units]`` with gates i, f, c, o; states ``[h, c]``."""

    _gates = 4

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        _check_units(units)
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self._init_common(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
        )
        self._init_gated(recurrent_activation, implementation)
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        self._build_kernels(input_shape)
        self._build_lstm_bias()
        self.built = True

    def _step(self, xw, states, training=False, params=None):
        rk = params["rk"] if params else self.recurrent_kernel
        h, c = states[0], states[1]
        rec = self._recurrent_masks(h, training)
        if rec is not None:
            pieces = _ops_shape.split(rk, 4, axis=1)
            z = xw + _ops_shape.concat([_ops.matmul(h * m, k) for m, k in zip(rec, pieces)], axis=1)
        else:
            z = xw + _ops.matmul(h, rk)
        zi, zf, zc, zo = _ops_shape.unstack(_ops.reshape(z, [-1, 4, self.units]), axis=1)
        ract = self.recurrent_activation
        c = ract(zf) * c + ract(zi) * self.activation(zc)
        h = ract(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return self._cell_config(
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            unit_forget_bias=self.unit_forget_bias,
        )


class GRUCell(_FastCell):
    """Cell of a Gated Recurrent Unit layer (``tf.keras.layers.GRUCell``): kernel
    ``[input_dim, 3 * units]`` with gates z, r, h; with ``reset_after`` (the default) the bias is
    ``(2, 3 * units)``: input bias, then recurrent bias, and the reset gate multiplies
    ``h @ recurrent_kernel`` (cuDNN's convention)."""

    _gates = 3

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        reset_after=True,
        seed=None,
        **kwargs,
    ):
        _check_units(units)
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self._init_common(
            units,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
        )
        self._init_gated(recurrent_activation, implementation)
        self.reset_after = reset_after
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._build_kernels(input_shape)
        self._build_bias((2, 3 * self.units) if self.reset_after else (3 * self.units,))
        self.built = True

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _step_params(self):
        params = {"rk": _ops.identity(self.recurrent_kernel)}
        if self.use_bias and self.reset_after:
            params["rb"] = self.bias[1]
        if not self.reset_after:
            params["rk_zr"] = params["rk"][:, : 2 * self.units]
            params["rk_h"] = params["rk"][:, 2 * self.units :]
        return params

    def _time_inputs(self, xw):
        t, b = xw.shape[0], xw.shape[1]
        gates = _ops_shape.unstack(_ops.reshape(xw, [t, b, 3, self.units]), axis=2)
        return list(zip(*[_ops_shape.unstack(g, axis=0) for g in gates]))

    def _step(self, xw, states, training=False, params=None):
        if params is None:
            params = self._step_params()
        h = states[0]
        u = self.units
        rk = params["rk"]
        rb = params.get("rb")
        x_z, x_r, x_h = xw if isinstance(xw, tuple) else _ops_shape.split(xw, 3, axis=1)
        ract = self.recurrent_activation
        rec = self._recurrent_masks(h, training)
        if rec is not None:
            k_z, k_r, k_h = _ops_shape.split(rk, 3, axis=1)
            r_z = _ops.matmul(h * rec[0], k_z)
            r_r = _ops.matmul(h * rec[1], k_r)
            if rb is not None:
                b_z, b_r, b_h = _ops_shape.split(rb, 3, axis=0)
                r_z, r_r = r_z + b_z, r_r + b_r
            z, r = ract(x_z + r_z), ract(x_r + r_r)
            if self.reset_after:
                r_h = _ops.matmul(h * rec[2], k_h)
                if rb is not None:
                    r_h = r_h + b_h
                r_h = r * r_h
            else:
                r_h = _ops.matmul(r * (h * rec[2]), k_h)
        elif self.reset_after:
            inner = _ops.matmul(h, rk)
            if rb is not None:
                inner = inner + rb
            r_z, r_r, r_h = _ops_shape.unstack(_ops.reshape(inner, [-1, 3, u]), axis=1)
            z, r = ract(x_z + r_z), ract(x_r + r_r)
            r_h = r * r_h
        else:
            inner = _ops.matmul(h, params["rk_zr"])
            r_z, r_r = _ops_shape.unstack(_ops.reshape(inner, [-1, 2, u]), axis=1)
            z, r = ract(x_z + r_z), ract(x_r + r_r)
            r_h = _ops.matmul(r * h, params["rk_h"])
        hh = self.activation(x_h + r_h)
        h = z * h + (1 - z) * hh
        return h, [h]

    def get_config(self):
        return self._cell_config(
            recurrent_activation=activations.serialize(self.recurrent_activation),
            use_bias=self.use_bias,
            tail={"reset_after": self.reset_after},
        )


_FAST_METHODS = ("call", "_step", "_project", "_time_inputs", "_step_params")


def _is_fast(cell):
    """True for a built-in cell whose methods are not overridden (See Note [Fast cells])."""
    for cls in _FAST_CELLS:
        if isinstance(cell, cls):
            return all(getattr(type(cell), m) is getattr(cls, m) for m in _FAST_METHODS)
    return False


class StackedRNNCells(Layer):
    """Runs a list of cells as one cell, each feeding the next (``tf.keras.layers.StackedRNNCells``)."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError(f"All cells must have a `call` method. Received cell without a `call` method: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError(
                    f"All cells must have a `state_size` attribute. Received cell without a `state_size`: {cell}"
                )
        self.cells = cells

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        last = self.cells[-1]
        if getattr(last, "output_size", None) is not None:
            return last.output_size
        if isinstance(last.state_size, (list, tuple)):
            return last.state_size[0]
        return last.state_size

    def get_initial_state(self, batch_size=None):
        out = []
        for cell in self.cells:
            fn = getattr(cell, "get_initial_state", None)
            if fn:
                out.append(fn(batch_size=batch_size))
            elif isinstance(cell.state_size, int):
                out.append(_ops.zeros((batch_size, cell.state_size), dtype=self.compute_dtype))
            else:
                out.append([_ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in cell.state_size])
        return out

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, st in zip(self.cells, states):
            state_is_list = isinstance(st, (list, tuple))
            st = list(st) if state_is_list else [st]
            if isinstance(cell, Layer) and cell._call_has_training_arg:
                kwargs["training"] = training
            else:
                kwargs.pop("training", None)
            fn = cell.call if _is_fast(cell) else cell
            inputs, st = fn(inputs, st, **kwargs)
            if not isinstance(st, (list, tuple)):
                st = [st]
            if len(st) == 1 and not state_is_list:
                st = st[0]
            new_states.append(st)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        batch = nest.flatten(input_shape)[0]
        for cell in self.cells:
            _build_sublayer(cell, input_shape)
            if getattr(cell, "output_size", None) is not None:
                dim = cell.output_size
            elif isinstance(cell.state_size, (list, tuple)):
                dim = cell.state_size[0]
            else:
                dim = cell.state_size
            input_shape = (batch, dim)
        self.built = True

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **_layer_kwargs(config))


def _layer_kwargs(config):
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
    return config


def _autocast(x, dtype):
    """Keras's input autocast: floating inputs take the layer's compute dtype."""
    if x is None:
        return None
    x = _ops.convert_to_tensor(x)
    if x.dtype.is_floating and x.dtype != dtype:
        return _ops.cast(x, dtype)
    return x


def _as_bool_mask(mask):
    if isinstance(mask, (list, tuple)):
        mask = nest.flatten(mask)[0]
    if mask is None:
        return None
    mask = _ops.convert_to_tensor(mask)
    if mask.dtype != _bool:
        mask = _ops.cast(mask, _bool)
    return mask


class RNN(Layer):
    """Runs a cell over the time axis of ``[batch, timesteps, features]`` inputs
    (``tf.keras.layers.RNN``). ``cell`` is a cell or a list of cells (stacked). Call with
    ``initial_state=`` (a tensor or list), ``mask=`` (``[batch, timesteps]``, True = use the step)
    and ``training=``; ``return_sequences``, ``return_state``, ``go_backwards`` (the returned sequence
    stays reversed, as Keras), ``stateful`` (``reset_state()``) and ``zero_output_for_mask`` as Keras.

    >>> import numpy as np, tapegrad as tg
    >>> layer = tg.keras.layers.RNN([tg.keras.layers.GRUCell(3), tg.keras.layers.GRUCell(2)])
    >>> layer(np.ones((4, 6, 5), np.float32)).shape
    TensorShape([4, 2])
    """

    def __init__(
        self,
        cell,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        zero_output_for_mask=False,
        **kwargs,
    ):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError(
                "The RNN cell should have a `state_size` attribute (single integer or list of "
                f"integers, one integer per RNN state). Received: cell={cell}"
            )
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = None
        object.__setattr__(self, "states", None)
        self._expected_batch_size = None
        state_size = getattr(self.cell, "state_size", None)
        if state_size is None:
            raise ValueError("state_size must be specified as property on the RNN cell.")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one for each state tensor).")
        if isinstance(state_size, int):
            self.state_size = [state_size]
            self.single_state = True
        else:
            self.state_size = list(state_size)
            self.single_state = False

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, length = sequences_shape[0], sequences_shape[1]
        states_shape = []
        for s in self.state_size:
            if isinstance(s, int):
                states_shape.append((batch, s))
            else:
                states_shape.append([(batch, d) for d in s])
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, int):
            raise ValueError("output_size must be an integer.")
        out = (batch, length, output_size) if self.return_sequences else (batch, output_size)
        if self.return_state:
            return out, *states_shape
        return out

    def compute_mask(self, _, mask):
        mask = nest.flatten(mask)[0] if isinstance(mask, (list, tuple)) else mask
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    def build(self, sequences_shape, initial_state_shape=None):
        shape = tuple(sequences_shape)
        if len(shape) < 3:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim>=3, '
                f"found ndim={len(shape)}. Full shape received: {shape}"
            )
        _build_sublayer(self.cell, (shape[0],) + shape[2:])
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if shape[0] is None:
                    raise ValueError(
                        "When using `stateful=True` in a RNN, the batch size must be static. Found "
                        f"dynamic batch size: sequence.shape={shape}"
                    )
                states = self.get_initial_state(shape[0])
                object.__setattr__(
                    self,
                    "states",
                    nest.pack_sequence_as(
                        states, [Variable(s, trainable=False, name="rnn_state") for s in nest.flatten(states)]
                    ),
                )
                self._expected_batch_size = shape[0]
        self.built = True

    def get_initial_state(self, batch_size):
        fn = getattr(self.cell, "get_initial_state", None)
        if fn:
            init = fn(batch_size=batch_size)
        else:
            return [_ops.zeros((batch_size, d), dtype=self.cell.compute_dtype) for d in self.state_size]
        if not isinstance(init, (list, tuple)):
            init = [init]
        return list(init)

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        """Sets the states of a stateful RNN back to zeros."""
        if self.states is not None:
            for v in nest.flatten(self.states):
                v.assign(np.zeros(tuple(v.shape), dtype=v.dtype.as_numpy_dtype))

    def call(self, sequences, initial_state=None, mask=None, training=False):
        sequences = _autocast(sequences, self.compute_dtype)
        if len(sequences.shape) < 3:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected ndim>=3, '
                f"found ndim={len(sequences.shape)}. Full shape received: {tuple(sequences.shape)}"
            )
        if initial_state is None:
            if self.stateful:
                initial_state = [_ops.identity(v) for v in nest.flatten(self.states)]
                initial_state = nest.pack_sequence_as(self.states, initial_state)
            else:
                initial_state = self.get_initial_state(batch_size=_ops_shape._shape(sequences)[0])
        if self.stateful and self._expected_batch_size is not None and sequences.shape[0] != self._expected_batch_size:
            raise ValueError(
                "If an RNN is stateful, the batch size of the input sequences must be the same as "
                f"the batch size of the initial state. \n- Expected batch size: "
                f"{self._expected_batch_size}\n- Received batch size: {sequences.shape[0]}"
            )
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        dtype = self.cell.compute_dtype if isinstance(self.cell, Layer) else sequences.dtype
        initial_state = nest.pack_sequence_as(
            initial_state, [_ops.cast(_ops.convert_to_tensor(s), dtype) for s in nest.flatten(initial_state)]
        )
        want = len(nest.flatten(self.state_size))
        if all(d >= 0 for d in nest.flatten(self.state_size)) and len(nest.flatten(initial_state)) != want:
            raise ValueError(
                f"Layer {self.name} expects {want} state(s), but it received "
                f"{len(nest.flatten(initial_state))} initial state(s). Input received: "
                f"{[tuple(s.shape) for s in nest.flatten(initial_state)]}"
            )
        _reset_dropout_masks(self.cell)
        try:
            last_output, outputs, states = self._loop(sequences, initial_state, _as_bool_mask(mask), training)
        finally:
            _reset_dropout_masks(self.cell)
        if self.stateful:
            for v, s in zip(nest.flatten(self.states), nest.flatten(states)):
                v.assign(s)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *states)
        return output

    def _loop(self, sequences, initial_state, mask, training):
        """Keras's ``backend.rnn`` (TF backend, while-loop semantics) over a Python loop."""
        cell = self.cell
        perm = [1, 0] + list(range(2, len(sequences.shape)))
        x_tm = _ops.transpose(sequences, perm)
        if _is_fast(cell):
            inputs = cell._time_inputs(cell._project(x_tm, training))
            params = cell._step_params()

            def step(x, states):
                return cell._step(x, states, training, params)
        else:
            inputs = _ops_shape.unstack(x_tm, axis=0)
            kwargs = {}
            if isinstance(cell, Layer) and cell._call_has_training_arg:
                kwargs["training"] = training
            fn = cell.call if isinstance(cell, StackedRNNCells) else cell

            def step(x, states):
                out, new_states = fn(x, states, **kwargs)
                if not isinstance(new_states, (list, tuple)):
                    new_states = [new_states]
                return out, new_states

        masks = None
        if mask is not None:
            masks = _ops_shape.unstack(_ops_shape.expand_dims(_ops.transpose(mask, [1, 0]), -1), axis=0)
            if len(sequences.shape) > 3:  # ConvLSTM: states [B, *spatial, filters] take a [B, 1, ..., 1] mask
                rank = len(sequences.shape) - 1
                masks = [_ops.reshape(m, [-1] + [1] * (rank - 1)) for m in masks]
        if self.go_backwards:
            inputs = inputs[::-1]
            if masks is not None:
                masks = masks[::-1]
        states = list(initial_state)
        outputs = []
        prev = None
        for t, x in enumerate(inputs):
            out, new_states = step(x, states)
            if masks is not None:
                m = masks[t]
                if prev is None or self.zero_output_for_mask:
                    prev = _ops.zeros_like(out)
                out = _ops.where(m, out, prev)
                flat_new = [_ops.where(m, n, s) for n, s in zip(nest.flatten(new_states), nest.flatten(states))]
                new_states = nest.pack_sequence_as(
                    list(new_states) if isinstance(new_states, tuple) else new_states, flat_new
                )
                prev = out
            states = list(new_states) if isinstance(new_states, tuple) else new_states
            if self.return_sequences:
                outputs.append(out)
        last_output = out
        seq = _ops_shape.stack(outputs, axis=1) if self.return_sequences else None
        return last_output, seq, states

    def get_config(self):
        config = {
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_layer(self.cell),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _layer_kwargs(config)
        cell = deserialize_layer(config.pop("cell"), custom_objects)
        return cls(cell, **config)


def _reset_dropout_masks(cell):
    if isinstance(cell, DropoutRNNCell):
        cell.reset_dropout_mask()
        cell.reset_recurrent_dropout_mask()
    if isinstance(cell, StackedRNNCells):
        for c in cell.cells:
            _reset_dropout_masks(c)


class _OneCellRNN(RNN):
    """An RNN over one built-in cell whose arguments it exposes (SimpleRNN/LSTM/GRU, ConvLSTM):
    the names in ``_cell_args`` read through to the cell, and the config lists ``_config_order``,
    taken from the cell's config (``activity_regularizer`` from the layer) instead of ``cell``."""

    _cell_args: tuple[str, ...] = ()
    _config_order: tuple[str, ...] = ()

    def __getattr__(self, name):
        # units, activation, initializers, ... read through to the cell (Keras's properties)
        cell = self.__dict__.get("cell")
        if cell is not None and name in type(self)._cell_args:
            return getattr(cell, name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        cell_config = self.cell.get_config()
        cell_config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        base = super().get_config()
        del base["cell"]
        return {**base, **{k: cell_config[k] for k in self._config_order}}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**_layer_kwargs(config))


class _CellLayer(_OneCellRNN):
    """SimpleRNN/LSTM/GRU: an RNN over one built-in cell, with Keras's ``use_cudnn`` check."""

    def __init__(self, cell, kwargs):
        use_cudnn = kwargs.pop("use_cudnn", "auto")
        super().__init__(cell, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Invalid valid received for argument `use_cudnn`. Expected one of {'auto', True, "
                f"False}}. Received: use_cudnn={use_cudnn}"
            )
        if use_cudnn is True:
            raise ValueError(
                "use_cudnn=True was specified, but cuDNN is not supported for this layer "
                "configuration with this backend. Pass use_cudnn='auto' to fallback to a non-cuDNN "
                "implementation."
            )
        self.use_cudnn = use_cudnn


_COMMON = (
    "kernel_initializer",
    "recurrent_initializer",
    "bias_initializer",
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "dropout",
    "recurrent_dropout",
)


def _cell_kwargs(kwargs, name):
    return {"dtype": kwargs.get("dtype", None), "trainable": kwargs.get("trainable", True), "name": name}


class SimpleRNN(_CellLayer):
    """Fully-connected RNN whose output is fed back as input (``tf.keras.layers.SimpleRNN``).

    >>> import numpy as np, tapegrad as tg
    >>> tg.keras.layers.SimpleRNN(4)(np.ones((2, 3, 5), np.float32)).shape
    TensorShape([2, 4])
    """

    _cell_args = ("units", "activation", "use_bias", "seed") + _COMMON
    _config_order = (
        "units",
        "activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
    )

    def __init__(
        self,
        units,
        activation="tanh",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        seed=None,
        **kwargs,
    ):
        cell = SimpleRNNCell(
            units,
            activation=activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            **_cell_kwargs(kwargs, "simple_rnn_cell"),
        )
        kwargs.update(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
        )
        super().__init__(cell, kwargs)


class LSTM(_CellLayer):
    """Long Short-Term Memory layer (Hochreiter 1997; ``tf.keras.layers.LSTM``).

    >>> import numpy as np, tapegrad as tg
    >>> tg.keras.layers.LSTM(4, return_sequences=True)(np.ones((2, 3, 5), np.float32)).shape
    TensorShape([2, 3, 4])
    """

    _cell_args = ("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias", "seed") + _COMMON
    _config_order = (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
    )

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        use_cudnn="auto",
        **kwargs,
    ):
        cell = LSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            implementation=kwargs.pop("implementation", 2),
            **_cell_kwargs(kwargs, "lstm_cell"),
        )
        kwargs.update(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            use_cudnn=use_cudnn,
        )
        super().__init__(cell, kwargs)


class GRU(_CellLayer):
    """Gated Recurrent Unit layer (Cho et al. 2014; ``tf.keras.layers.GRU``), cuDNN-compatible
    weights by default (``reset_after=True``).

    >>> import numpy as np, tapegrad as tg
    >>> layer = tg.keras.layers.GRU(4)
    >>> layer(np.ones((2, 3, 5), np.float32)).shape, layer.cell.bias.shape
    (TensorShape([2, 4]), TensorShape([2, 12]))
    """

    _cell_args = ("units", "activation", "recurrent_activation", "use_bias", "reset_after", "seed") + _COMMON
    _config_order = (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "reset_after",
        "seed",
    )

    def __init__(
        self,
        units,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        unroll=False,
        reset_after=True,
        use_cudnn="auto",
        **kwargs,
    ):
        cell = GRUCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            reset_after=reset_after,
            seed=seed,
            implementation=kwargs.pop("implementation", 2),
            **_cell_kwargs(kwargs, "gru_cell"),
        )
        kwargs.update(
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            activity_regularizer=activity_regularizer,
            use_cudnn=use_cudnn,
        )
        super().__init__(cell, kwargs)


# ---- convolutional LSTM -------------------------------------------------------------------------


def _tuple(value, n, name):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}")
    return value


def _conv_length(n, k, s, d, padding):
    if n is None:
        return None
    if padding == "same":
        return -(-n // s)
    return -(-(n - (k - 1) * d) // s)


class ConvLSTMCell(_FastCell):
    """Cell of a convolutional LSTM (Keras's ``ConvLSTMCell``): the input and recurrent
    transformations of an LSTM are convolutions; kernel ``kernel_size + (channels, 4 * filters)``,
    recurrent kernel ``kernel_size + (filters, 4 * filters)`` (gates i, f, c, o), recurrent
    convolutions with "same" padding and stride 1. One input convolution covers all time steps
    and one recurrent convolution each step (the four gates together)."""

    _gates = 4

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if rank > 3:
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. Received: rank={rank}")
        self._init_common(
            filters,
            activation,
            use_bias,
            kernel_initializer,
            recurrent_initializer,
            bias_initializer,
            kernel_regularizer,
            recurrent_regularizer,
            bias_regularizer,
            kernel_constraint,
            recurrent_constraint,
            bias_constraint,
            dropout,
            recurrent_dropout,
            seed,
        )
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size")
        self.strides = _tuple(strides, rank, "strides")
        self.padding = padding.lower()
        if self.padding not in ("valid", "same"):
            raise ValueError(
                'The `padding` argument must be a list/tuple or one of "valid", "same" (or '
                f'"causal", only for `Conv1D). Received padding={padding}'
            )
        self.data_format = data_format or "channels_last"
        if self.data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
                f"Received: data_format={data_format}"
            )
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "Specifying `strides > 1` is not compatible with `dilation_rate > 1`. Please provide "
                f"`strides=1` or `dilation_rate=1`. Received: strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}"
            )
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias
        self.dropout_mask_count = 4
        self.input_spec = InputSpec(ndim=rank + 2)
        self.state_size = -1

    def build(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        first = self.data_format == "channels_first"
        self.spatial_dims = inputs_shape[2:] if first else inputs_shape[1:-1]
        if None in self.spatial_dims:
            raise ValueError(
                "ConvLSTM layers only support static input shapes for the spatial dimension. Received "
                f"invalid input shape: input_shape={inputs_shape}"
            )
        input_dim = inputs_shape[1] if first else inputs_shape[-1]
        if input_dim is None:
            raise ValueError(
                "The channel dimension of the inputs (last axis) should be defined. Found None. Full "
                f"input shape received: input_shape={inputs_shape}"
            )
        self.input_dim = input_dim
        out = self.compute_output_shape(inputs_shape)[0]
        if any(d is not None and d <= 0 for d in out[1:]):
            raise ValueError(
                "Computed output size would be zero or negative. Received `inputs shape="
                f"{inputs_shape}`, `kernel shape={self.kernel_size + (input_dim, self.filters)}`, "
                f"`dilation_rate={list(self.dilation_rate)}`, `strides={self.strides}`, "
                f"`padding={self.padding}`."
            )
        self.kernel_shape = self.kernel_size + (input_dim, self.filters * 4)
        self.kernel = self.add_weight(
            shape=self.kernel_shape,
            initializer=self.kernel_initializer,
            name="kernel",
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, self.filters * 4),
            initializer=self.recurrent_initializer,
            name="recurrent_kernel",
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        self._build_lstm_bias()
        self.built = True

    def _to_last(self, x):
        if self.data_format == "channels_last":
            return x
        r = len(x.shape)
        return _ops.transpose(x, [0] + list(range(2, r)) + [1])

    def _to_first(self, x):
        if self.data_format == "channels_last":
            return x
        r = len(x.shape)
        return _ops.transpose(x, [0, r - 1] + list(range(1, r - 1)))

    def _conv(self, x, w, recurrent=False):
        if recurrent:
            return _nn().convolution(x, w, padding="SAME")
        return _nn().convolution(
            x, w, strides=list(self.strides), padding=self.padding.upper(), dilations=list(self.dilation_rate)
        )

    def _project(self, x, training=False):
        """The input convolution (channels-last) over any leading axes, all gates at once."""
        lead = list(x.shape[: len(x.shape) - self.rank - 1])
        step_shape = list(x.shape[len(lead) :])
        mask = None
        if self._use_dropout(self.dropout, training):
            mask = self.get_dropout_mask(x if len(lead) == 1 else x[0])
        flat = x if len(lead) == 1 else _ops.reshape(x, [-1] + step_shape)
        if mask is not None:
            pieces = _ops_shape.split(self.kernel, 4, axis=-1)
            z = _ops_shape.concat(
                [
                    self._conv(flat * m if len(lead) == 1 else _ops.reshape(x * m, [-1] + step_shape), k)
                    for m, k in zip(mask, pieces)
                ],
                axis=-1,
            )
        else:
            z = self._conv(flat, self.kernel)
        if self.use_bias:
            z = z + self.bias
        if len(lead) != 1:
            z = _ops.reshape(z, lead + list(z.shape[1:]))
        return z

    def _step(self, xw, states, training=False, params=None):
        rk = params["rk"] if params else self.recurrent_kernel
        h, c = states[0], states[1]
        rec = self._recurrent_masks(h, training)
        if rec is not None:
            pieces = _ops_shape.split(rk, 4, axis=-1)
            z = xw + _ops_shape.concat([self._conv(h * m, k, recurrent=True) for m, k in zip(rec, pieces)], axis=-1)
        else:
            z = xw + self._conv(h, rk, recurrent=True)
        zi, zf, zc, zo = _ops_shape.unstack(_ops.reshape(z, list(z.shape[:-1]) + [4, self.filters]), axis=-2)
        ract = self.recurrent_activation
        c = ract(zf) * c + ract(zi) * self.activation(zc)
        h = ract(zo) * self.activation(c)
        return h, [h, c]

    def call(self, inputs, states, training=False):
        """One step on ``data_format`` inputs: ``(h, [h, c])``."""
        states = [self._to_last(s) for s in states]
        h, (h, c) = self._step(self._project(self._to_last(inputs), training), states, training)
        h, c = self._to_first(h), self._to_first(c)
        return h, [h, c]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        first = self.data_format == "channels_first"
        spatial = inputs_shape[2:] if first else inputs_shape[1:-1]
        out = tuple(
            _conv_length(n, k, st, d, self.padding)
            for n, k, st, d in zip(spatial, self.kernel_size, self.strides, self.dilation_rate)
        )
        shape = (inputs_shape[0], self.filters) + out if first else (inputs_shape[0],) + out + (self.filters,)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        if self.data_format == "channels_last":
            input_shape = (batch_size,) + tuple(self.spatial_dims) + (self.input_dim,)
        else:
            input_shape = (batch_size, self.input_dim) + tuple(self.spatial_dims)
        shape = self.compute_output_shape(input_shape)[0]
        return [_ops.zeros(shape, dtype=self.compute_dtype), _ops.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        config = {
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
        return {**Layer.get_config(self), **config}


def _nn():
    from ... import nn  # noqa: PLC0415  (tapegrad.nn imports after keras)

    return nn


_FAST_CELLS = (SimpleRNNCell, LSTMCell, GRUCell, ConvLSTMCell)


class ConvLSTM(_OneCellRNN):
    """Base of ConvLSTM1D/2D/3D (Keras's ``ConvLSTM``): an RNN over a ``ConvLSTMCell`` whose inputs
    are ``(batch, time, *spatial, channels)`` (or channels first)."""

    _cell_args = (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
    )
    _config_order = (
        "filters",
        "kernel_size",
        "strides",
        "padding",
        "data_format",
        "dilation_rate",
        "activation",
        "recurrent_activation",
        "use_bias",
        "kernel_initializer",
        "recurrent_initializer",
        "bias_initializer",
        "unit_forget_bias",
        "kernel_regularizer",
        "recurrent_regularizer",
        "bias_regularizer",
        "activity_regularizer",
        "kernel_constraint",
        "recurrent_constraint",
        "bias_constraint",
        "dropout",
        "recurrent_dropout",
        "seed",
    )

    def __init__(
        self,
        rank,
        filters,
        kernel_size,
        strides=1,
        padding="valid",
        data_format=None,
        dilation_rate=1,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias=True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias=True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout=0.0,
        recurrent_dropout=0.0,
        seed=None,
        return_sequences=False,
        return_state=False,
        go_backwards=False,
        stateful=False,
        **kwargs,
    ):
        cell = ConvLSTMCell(
            rank=rank,
            filters=filters,
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            data_format=data_format,
            dilation_rate=dilation_rate,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            name="conv_lstm_cell",
            dtype=kwargs.get("dtype"),
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            **kwargs,
        )
        self.input_spec = InputSpec(ndim=rank + 3)

    def compute_mask(self, _, mask):
        mask = nest.flatten(mask)[0] if isinstance(mask, (list, tuple)) else mask
        output_mask = mask if self.return_sequences else None
        return [output_mask, None, None] if self.return_state else output_mask

    def _loop(self, sequences, initial_state, mask, training):
        cell = self.cell
        if cell.data_format == "channels_first":
            r = len(sequences.shape)
            sequences = _ops.transpose(sequences, [0, 1] + list(range(3, r)) + [2])
            initial_state = [cell._to_last(s) for s in initial_state]
        last, seq, states = super()._loop(sequences, initial_state, mask, training)
        if cell.data_format == "channels_first":
            last = cell._to_first(last)
            states = [cell._to_first(s) for s in states]
            if seq is not None:
                r = len(seq.shape)
                seq = _ops.transpose(seq, [0, 1, r - 1] + list(range(2, r - 1)))
        return last, seq, states

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch, steps = sequences_shape[0], sequences_shape[1]
        state_shape = self.cell.compute_output_shape((batch,) + sequences_shape[2:])[0][1:]
        out = (batch, steps) + state_shape if self.return_sequences else (batch,) + state_shape
        if self.return_state:
            return out, (batch,) + state_shape, (batch,) + state_shape
        return out


class ConvLSTM1D(ConvLSTM):
    """1-D convolutional LSTM (``tf.keras.layers.ConvLSTM1D``): inputs ``(batch, time, steps, channels)``.

    >>> import numpy as np, tapegrad as tg
    >>> tg.keras.layers.ConvLSTM1D(4, 3, padding="same")(np.ones((2, 5, 6, 3), np.float32)).shape
    TensorShape([2, 6, 4])
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(1, filters, kernel_size, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2-D convolutional LSTM (``tf.keras.layers.ConvLSTM2D``): inputs ``(batch, time, rows, cols,
    channels)``.

    >>> import numpy as np, tapegrad as tg
    >>> layer = tg.keras.layers.ConvLSTM2D(2, (3, 3), return_sequences=True)
    >>> layer(np.ones((1, 4, 5, 5, 3), np.float32)).shape, layer.cell.kernel.shape
    (TensorShape([1, 4, 3, 3, 2]), TensorShape([3, 3, 3, 8]))
    """

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(2, filters, kernel_size, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3-D convolutional LSTM (``tf.keras.layers.ConvLSTM3D``): inputs ``(batch, time, depth, rows,
    cols, channels)`` (channels_last)."""

    def __init__(self, filters, kernel_size, **kwargs):
        super().__init__(3, filters, kernel_size, **kwargs)


# ---- wrappers -------------------------------------------------------------------------------------


class Bidirectional(Layer):
    """Runs an RNN layer forwards and a copy of it backwards and merges the outputs
    (``tf.keras.layers.Bidirectional``): ``merge_mode`` is "concat", "sum", "mul", "ave" or None (a
    pair). With ``return_state`` the forward states come first, then the backward ones; an
    ``initial_state`` list is split in halves the same way.

    >>> import numpy as np, tapegrad as tg
    >>> layer = tg.keras.layers.Bidirectional(tg.keras.layers.LSTM(3, return_sequences=True))
    >>> layer(np.ones((2, 4, 5), np.float32)).shape
    TensorShape([2, 4, 6])
    >>> [w.path.split("/")[-2:] for w in layer.weights][:1]
    [['lstm_cell', 'kernel']]
    """

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `Bidirectional` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        if backward_layer is not None and not isinstance(backward_layer, Layer):
            raise ValueError(f"`backward_layer` need to be a `keras.layers.Layer` instance. Received: {backward_layer}")
        if merge_mode not in ["sum", "mul", "ave", "concat", None]:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        config = serialize_layer(layer)
        config["config"]["name"] = "forward_" + _removeprefix(layer.name, "forward_")
        self.forward_layer = deserialize_layer(config)
        if backward_layer is None:
            config = serialize_layer(layer)
            config["config"]["go_backwards"] = True
            config["config"]["name"] = "backward_" + _removeprefix(layer.name, "backward_")
            self.backward_layer = deserialize_layer(config)
        else:
            self.backward_layer = backward_layer
        if hasattr(layer, "use_cudnn"):
            self.forward_layer.use_cudnn = layer.use_cudnn
            self.backward_layer.use_cudnn = layer.use_cudnn
        self._verify_layer_config()
        for sub in (self.forward_layer, self.backward_layer):
            if getattr(sub, "zero_output_for_mask", None) is not None:
                sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        if weights:
            raise NotImplementedError(
                "Bidirectional(weights=...) is not supported: call set_weights() after the layer is built"
            )
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self.input_spec = layer.input_spec

    def _verify_layer_config(self):
        if self.forward_layer.go_backwards == self.backward_layer.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` value. "
                f"Received: forward_layer.go_backwards {self.forward_layer.go_backwards}, "
                f"backward_layer.go_backwards={self.backward_layer.go_backwards}"
            )
        for a in ("stateful", "return_sequences", "return_state"):
            fv, bv = getattr(self.forward_layer, a), getattr(self.backward_layer, a)
            if fv != bv:
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value for "
                    f'attribute "{a}", got "{fv}" for forward layer and "{bv}" for backward layer'
                )

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        output_shape = self.forward_layer.compute_output_shape(sequences_shape)
        if self.return_state:
            output_shape, state_shape = output_shape[0], tuple(output_shape[1:])
        if self.merge_mode == "concat":
            output_shape = list(output_shape)
            output_shape[-1] *= 2
            output_shape = tuple(output_shape)
        elif self.merge_mode is None:
            output_shape = [output_shape, output_shape]
        if self.return_state:
            if self.merge_mode is None:
                return tuple(output_shape) + state_shape + state_shape
            return (output_shape,) + state_shape + state_shape
        return tuple(output_shape)

    def build(self, sequences_shape, initial_state_shape=None):
        _build_sublayer(self.forward_layer, sequences_shape)
        _build_sublayer(self.backward_layer, sequences_shape)
        self.built = True

    def call(self, sequences, initial_state=None, mask=None, training=None):
        kwargs = {}
        if self.forward_layer._call_has_training_arg:
            kwargs["training"] = training
        if self.forward_layer._call_has_mask_arg:
            kwargs["mask"] = mask
        if initial_state is not None:
            initial_state = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        else:
            forward_state, backward_state = None, None
        y = self.forward_layer(sequences, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(sequences, initial_state=backward_state, **kwargs)
        if self.return_state:
            states = tuple(y[1:]) + tuple(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = _ops_shape.reverse(y_rev, [1])
        if self.merge_mode == "concat":
            output = _ops_shape.concat([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            output = y + y_rev
        elif self.merge_mode == "ave":
            output = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            output = y * y_rev
        else:
            output = (y, y_rev)
        if self.return_state:
            if self.merge_mode is None:
                return output + states
            return (output,) + states
        return output

    def compute_mask(self, _, mask):
        if isinstance(mask, list):
            mask = mask[0]
        if self.return_sequences:
            output_mask = (mask, mask) if not self.merge_mode else mask
        else:
            output_mask = (None, None) if not self.merge_mode else None
        if self.return_state and self.states is not None:
            n = len(self.states)
            if isinstance(output_mask, tuple):
                return output_mask + (None,) * n
            return (output_mask,) + (None,) * n
        return output_mask

    @property
    def states(self):
        if self.forward_layer.states and self.backward_layer.states:
            return tuple(nest.flatten(self.forward_layer.states) + nest.flatten(self.backward_layer.states))
        return None

    def reset_states(self):
        self.reset_state()

    def reset_state(self):
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def get_config(self):
        config = {
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _layer_kwargs(copy.deepcopy(config))
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize_layer(backward, custom_objects)
        return cls(**config)


def _removeprefix(text, prefix):
    return text[len(prefix) :] if text.startswith(prefix) else text


class TimeDistributed(Layer):
    """Applies a layer to every time step of ``[batch, timesteps, ...]`` inputs
    (``tf.keras.layers.TimeDistributed``): one call of the inner layer per step, as Keras 3.

    >>> import numpy as np, tapegrad as tg
    >>> layer = tg.keras.layers.TimeDistributed(tg.keras.layers.LSTM(2))  # [batch, time, time2, features]
    >>> layer(np.ones((3, 4, 5, 6), np.float32)).shape
    TensorShape([3, 4, 2])
    """

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Please initialize `TimeDistributed` layer with a `keras.layers.Layer` instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer
        self.supports_masking = True

    def _get_child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {input_shape}"
            )
        return (input_shape[0], *input_shape[2:])

    def compute_output_shape(self, input_shape):
        child = self._get_child_input_shape(tuple(input_shape))
        out = tuple(self.layer.compute_output_shape(child))
        return (out[0], input_shape[1], *out[1:])

    def build(self, input_shape):
        _build_sublayer(self.layer, self._get_child_input_shape(tuple(input_shape)))
        self.built = True

    def call(self, inputs, training=None, mask=None):
        inputs = _autocast(inputs, self.compute_dtype)
        self._get_child_input_shape(tuple(inputs.shape))
        if mask is not None:
            mask = _ops.convert_to_tensor(mask)
            ms, ins = tuple(mask.shape), tuple(inputs.shape)
            if len(ms) < 2:
                raise ValueError(
                    "The `mask` passed to the `TimeDistributed` layer must be at least 2D (e.g., "
                    f"`(batch_size, timesteps)`), but it has {len(ms)} dimension(s) with shape {ms}."
                )
            if ms[0] != ins[0] or ms[1] != ins[1]:
                raise ValueError(
                    f"The `mask` passed to the `TimeDistributed` layer has a shape {ms} that is "
                    f"incompatible with the input shape {ins}. The first two dimensions of the mask "
                    "(batch size and timesteps) must match the input's first two dimensions. "
                    f"Expected mask shape prefix: ({ins[0]}, {ins[1]})."
                )
        steps = _ops_shape.unstack(inputs, axis=1)
        masks = _ops_shape.unstack(mask, axis=1) if mask is not None else None
        outs = []
        for i, x in enumerate(steps):
            kwargs = {}
            if self.layer._call_has_mask_arg and masks is not None:
                kwargs["mask"] = masks[i]
            if self.layer._call_has_training_arg:
                kwargs["training"] = training
            outs.append(self.layer.call(x, **kwargs))
        return _ops_shape.stack(outs, axis=1)

    def get_config(self):
        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = _layer_kwargs(copy.deepcopy(config))
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)
