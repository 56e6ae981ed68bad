"""Keras 3's LossScaleOptimizer: dynamic loss scaling around another optimizer
(keras/src/optimizers/loss_scale_optimizer.py). The inner optimizer's fused step does the update;
this wrapper only checks the gradients, unscales them and moves the scale."""

from collections.abc import Sequence
from typing import Any, Optional

import numpy as np

from ... import _ops
from ..._dtypes import float32
from ..._tensor import StateVariable, Tensor, Variable
from .base import Optimizer

# The base-optimizer arguments LossScaleOptimizer accepts only at their defaults (Keras reads them
# from configs written by older versions).
_BASE_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """An optimizer that dynamically scales the loss to prevent underflow (Keras 3's rule).

    ``scale_loss(loss)`` multiplies the loss by the current scale; ``apply`` /
    ``apply_gradients`` then check the gradients: when any is non-finite (inf or NaN) the step
    is skipped, the scale is halved and the counter reset; otherwise the gradients are divided by
    the scale and handed to `inner_optimizer`, and after `dynamic_growth_steps` finite steps in
    a row the scale doubles. ``learning_rate`` and ``iterations`` are the inner optimizer's.

    Args:
        inner_optimizer: the `tg.keras.optimizers.Optimizer` to wrap (its ``loss_scale_factor``
            is cleared so the gradients are not unscaled twice).
        initial_scale: the starting loss scale (default ``2**15``).
        dynamic_growth_steps: finite steps between two doublings of the scale (default 2000).

    >>> import tapegrad as tg
    >>> opt = tg.keras.optimizers.LossScaleOptimizer(tg.keras.optimizers.SGD(0.5), initial_scale=4.0)
    >>> v = tg.Variable([1.0])
    >>> with tg.GradientTape() as tape:
    ...     loss = opt.scale_loss(3.0 * v[0])
    >>> _ = opt.apply_gradients([(tape.gradient(loss, v), v)])  # the gradient 12 is unscaled to 3
    >>> v.numpy().tolist(), float(opt.dynamic_scale)
    ([-0.5], 4.0)
    >>> _ = opt.apply_gradients([(tg.constant([float("inf")]), v)])  # skipped; the scale halves
    >>> v.numpy().tolist(), float(opt.dynamic_scale), int(opt.iterations)
    ([-0.5], 2.0, 1)
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: Optional[str] = None,
        **kwargs: Any,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for arg_name, default_value in _BASE_DEFAULTS.items():
            if arg_name not in kwargs:
                continue
            arg_value = kwargs.pop(arg_name)
            if (default_value is None and arg_value is not None) or arg_value != default_value:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{arg_name}`. Instead, set `{arg_name}` on the "
                    "`inner_optimizer`."
                )
        if kwargs:
            raise ValueError(f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs.keys())}`.")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer expects a `keras.optimizers.Optimizer` instance as `inner_optimizer`. "
                f"Received: inner_optimizer={inner_optimizer!r}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        # Disable the inner optimizer's loss scaling, otherwise gradients are unscaled twice.
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list: Sequence[Variable]) -> None:
        """Creates ``step_counter`` and ``dynamic_scale`` and builds the inner optimizer."""
        if self.built:
            return
        self.step_counter = StateVariable(np.int64(0), name="step_counter", trainable=False)
        self.dynamic_scale = StateVariable(np.float32(self.initial_scale), name="dynamic_scale", trainable=False)
        self._extra_variables = [self.step_counter, self.dynamic_scale]
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self) -> list[Variable]:
        """This optimizer's own variables (iteration, learning_rate, step_counter, dynamic_scale),
        then the inner optimizer's, in Keras's order."""
        return super().variables + self.inner_optimizer.variables

    def apply(self, grads: Sequence[Any], trainable_variables: Optional[Sequence[Variable]] = None) -> None:
        """Applies the unscaled gradients through the inner optimizer when all are finite; otherwise
        skips the step and halves the scale."""
        with self._step_lock:
            grads = list(grads)
            if not self.built:
                if trainable_variables is None:
                    raise ValueError(
                        "When passing `grads` without `variables`, the optimizer must already be built "
                        "on a list of variables. Call `optimizer.build(trainable_variables)` first."
                    )
                self.build(list(trainable_variables))
            if self.check_finite(grads):
                self._handle_finite_grads(grads, trainable_variables)
            else:
                self.step_counter.assign(np.int64(0))
                self.dynamic_scale.assign(np.float32(self.dynamic_scale._item()) * np.float32(0.5))

    def _handle_finite_grads(self, grads, trainable_variables):
        scale = self.dynamic_scale._item()
        tvs = list(trainable_variables) if trainable_variables is not None else self._trainable_variables
        unscaled = [
            g if g is None or getattr(v, "overwrite_with_gradient", False) else _as_tensor(g) / scale
            for g, v in zip(grads, tvs)
        ]
        self.inner_optimizer.apply(unscaled, trainable_variables=trainable_variables)
        if int(self.step_counter._item()) == self.dynamic_growth_steps - 1:
            self.step_counter.assign(np.int64(0))
            self.dynamic_scale.assign(np.float32(scale) * np.float32(2.0))
        else:
            self.step_counter._assign_add(1)

    def check_finite(self, grads: Sequence[Any]) -> bool:
        """True when every gradient that is not None holds only finite values."""
        for g in grads:
            if g is None:
                continue
            values = getattr(g, "values", None) if hasattr(g, "indices") else None  # IndexedSlices
            array = np.asarray((values if values is not None else g).numpy() if hasattr(g, "numpy") else g)
            if array.dtype.kind in "fc" and not np.isfinite(array).all():
                return False
        return True

    @property
    def learning_rate(self) -> Any:
        """The inner optimizer's learning rate (settable)."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate: Any) -> None:
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self) -> Any:
        """The inner optimizer's step count (skipped steps do not count)."""
        return self.inner_optimizer.iterations

    def scale_loss(self, loss: Any) -> Any:
        """``loss`` times the current scale (``initial_scale`` before the optimizer is built)."""
        scale = self.dynamic_scale if self.built else self.initial_scale
        loss = _as_tensor(loss, float32 if not isinstance(loss, (Tensor, Variable)) else None)
        if loss.dtype.name in ("float16", "bfloat16") or not loss.dtype.is_floating:  # Keras's type promotion
            loss = _ops.cast(loss, float32)
        factor: Any = scale
        if isinstance(scale, Variable):
            factor = scale.read_value()
            if factor.dtype != loss.dtype:
                factor = _ops.cast(factor, loss.dtype)
        return loss * factor

    def finalize_variable_values(self, var_list: Sequence[Variable]) -> None:
        """Delegates to the inner optimizer (its EMA averages)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict[str, Any]:
        from . import serialize

        return {
            "name": self.name,
            "inner_optimizer": serialize(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Optional[dict[str, Any]] = None) -> "Optimizer":
        from . import deserialize

        config = dict(config)
        inner = config.pop("inner_optimizer")
        if isinstance(inner, dict):
            inner = deserialize(inner, custom_objects=custom_objects)
        return cls(inner, **config)


def _as_tensor(x, dtype=None):
    if isinstance(x, Variable):
        return x.read_value()
    if isinstance(x, Tensor):
        return x
    return _ops.convert_to_tensor(x, dtype=dtype) if dtype is not None else _ops.convert_to_tensor(x)
