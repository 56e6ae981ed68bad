"""The Keras 3 optimizer pipeline (BaseOptimizer.apply), with the update itself in C++."""
import numbers
import warnings

import numpy as np

from ... import _core
from ..._tensor import Variable


class Optimizer:
    """Base class: builds slots on first use, filters None gradients, then calls `_update`
    once for all variables (one fused C++ kernel call) and increments `iterations`.

    Subclasses set `_slot_names` and implement `_update(variables, grads, lr)`.
    """

    _slot_names = ()

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        self.name = name or type(self).__name__.lower()
        self._learning_rate = self._check_learning_rate(learning_rate)
        for arg, value in (("weight_decay", weight_decay), ("clipnorm", clipnorm), ("clipvalue", clipvalue),
                           ("global_clipnorm", global_clipnorm), ("loss_scale_factor", loss_scale_factor),
                           ("gradient_accumulation_steps", gradient_accumulation_steps)):
            if value is not None:
                raise NotImplementedError(
                    f"tapegrad: `{arg}` is not implemented yet for {type(self).__name__} (see the optimizers issue)")
        if use_ema:
            raise NotImplementedError("tapegrad: `use_ema` is not implemented yet (see the optimizers issue)")
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._iterations = Variable(np.int64(0), name="iteration", trainable=False)
        self._variables = None  # list of trainable variables, once built
        self._index = {}
        self._slots = {}

    @staticmethod
    def _check_learning_rate(lr):
        if isinstance(lr, float) or callable(lr) or isinstance(lr, np.floating):
            return lr
        raise ValueError(
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, or a callable "
            f"(that takes in the current iteration value and returns the corresponding learning rate value). "
            f"Received instead: learning_rate={lr!r}")

    # --- state ---------------------------------------------------------------------------------
    @property
    def iterations(self):
        return self._iterations

    @property
    def learning_rate(self):
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = self._check_learning_rate(value)

    def _current_learning_rate(self):
        lr = self._learning_rate
        if callable(lr):
            try:
                return float(lr(int(self._iterations)))
            except TypeError:
                return float(lr())
        return float(lr)

    @property
    def variables(self):
        out = [self._iterations]
        for name in self._slot_names:
            out.extend(self._slots.get(name, []))
        return out

    def build(self, var_list):
        """Creates the slot variables (zeros, one per variable and slot) for `var_list`."""
        var_list = list(var_list)
        self._variables = var_list
        self._index = {id(v): i for i, v in enumerate(var_list)}
        for name in self._slot_names:
            self._slots[name] = [self._make_slot(v, name) for v in var_list]

    def _make_slot(self, var, slot_name):
        return Variable(np.zeros(var.shape, dtype=var.dtype.as_numpy_dtype), name=f"{var.name}_{slot_name}",
                        trainable=False)

    # --- apply ---------------------------------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Applies gradients to variables; returns `iterations`."""
        grads_and_vars = list(grads_and_vars)
        if not grads_and_vars:
            return self._iterations
        grads, variables = zip(*grads_and_vars)
        self.apply(list(grads), list(variables))
        return self._iterations

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if trainable_variables is None:
            if self._variables is None:
                raise ValueError("When passing `grads` without `variables`, the optimizer must already be built.")
            trainable_variables = self._variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(f"Got {len(grads)} gradients for {len(trainable_variables)} variables")
        if not trainable_variables:
            return
        if self._variables is None:
            self.build(trainable_variables)
        for v in trainable_variables:
            if id(v) not in self._index:
                raise ValueError(
                    f"Unknown variable: {v!r}. This optimizer can only be called for the variables it was "
                    "originally built with. When working with a new set of variables, you should recreate a new "
                    "optimizer instance.")
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if len(pairs) < len(grads):
            missing = [v.name for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(
                f"Gradients do not exist for variables {missing} when minimizing the loss. If using "
                "`model.compile()`, did you forget to provide a `loss` argument?", UserWarning, stacklevel=2)
        gs = [g for g, _ in pairs]
        vs = [v for _, v in pairs]
        lr = self._current_learning_rate()
        self._update(vs, gs, [self._index[id(v)] for v in vs], lr)
        self._iterations._assign_add(1)

    def _slot_lists(self, indices):
        return [[self._slots[name][i] for i in indices] for name in self._slot_names]

    def _update(self, variables, grads, indices, lr):
        raise NotImplementedError

    # --- config --------------------------------------------------------------------------------
    def get_config(self):
        lr = self._learning_rate
        if hasattr(lr, "get_config"):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {
            "name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
            "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)


def _is_number(x):
    return isinstance(x, numbers.Real)
