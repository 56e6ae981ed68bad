"""Keras Adagrad, Adadelta, Ftrl and Adafactor with fused C++ updates. Shared arguments go through
``**kwargs`` to `Optimizer`."""

import numpy as np

from ... import _core
from ..._tensor import StateVariable
from .base import Optimizer, _hyper


class Adagrad(Optimizer):
    """Keras Adagrad: ``acc += g^2; var -= lr * g / sqrt(acc + epsilon)``, ``acc`` starting at
    ``initial_accumulator_value``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Adagrad(learning_rate=0.1, initial_accumulator_value=0.0).apply_gradients(
    ...     [(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.9
    """

    _slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-07, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._slot_init = {"accumulator": float(initial_accumulator_value)}

    def _step_args(self, lr, t):
        return _core.OptimizerRule.adagrad, _hyper(learning_rate=lr, epsilon=float(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon})
        return config


class Adadelta(Optimizer):
    """Keras Adadelta: ``Eg = rho Eg + (1 - rho) g^2``; ``d = -sqrt(Edx + eps) g / sqrt(Eg + eps)``;
    ``Edx = rho Edx + (1 - rho) d^2``; ``var += lr * d``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Adadelta(learning_rate=1.0).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 6)
    0.998586
    """

    _slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-07, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _step_args(self, lr, t):
        return _core.OptimizerRule.adadelta, _hyper(learning_rate=lr, rho=float(self.rho), epsilon=float(self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config


class Ftrl(Optimizer):
    """Keras FTRL-proximal with L1, L2, L2-shrinkage regularisation and ``beta``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Ftrl(learning_rate=0.1).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.7451
    """

    _slot_names = ("accumulator", "linear")

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power=-0.5,
        initial_accumulator_value=0.1,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        l2_shrinkage_regularization_strength=0.0,
        beta=0.0,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if initial_accumulator_value < 0.0:
            raise ValueError(
                "`initial_accumulator_value` needs to be positive or zero. Received: "
                f"initial_accumulator_value={initial_accumulator_value}."
            )
        if learning_rate_power > 0.0:
            raise ValueError(
                "`learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        if l1_regularization_strength < 0.0:
            raise ValueError(
                "`l1_regularization_strength` needs to be positive or zero. Received: "
                f"l1_regularization_strength={l1_regularization_strength}."
            )
        if l2_regularization_strength < 0.0:
            raise ValueError(
                "`l2_regularization_strength` needs to be positive or zero. Received: "
                f"l2_regularization_strength={l2_regularization_strength}."
            )
        if l2_shrinkage_regularization_strength < 0.0:
            raise ValueError(
                "`l2_shrinkage_regularization_strength` needs to be positive or zero. Received: "
                f"l2_shrinkage_regularization_strength={l2_shrinkage_regularization_strength}."
            )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._slot_init = {"accumulator": float(initial_accumulator_value)}

    def _step_args(self, lr, t):
        return _core.OptimizerRule.ftrl, _hyper(
            learning_rate=lr,
            learning_rate_power=float(self.learning_rate_power),
            l1_regularization_strength=float(self.l1_regularization_strength),
            l2_regularization_strength=float(self.l2_regularization_strength),
            l2_shrinkage_regularization_strength=float(self.l2_shrinkage_regularization_strength),
            beta=float(self.beta),
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta,
            }
        )
        return config


class Adafactor(Optimizer):
    """Keras Adafactor: factored second moments (row means ``r``, column means ``c`` of
    ``g^2 + epsilon_1`` over the last two axes) for rank >= 2, a full ``velocity`` otherwise;
    ``var -= max(epsilon_2, RMS(var)) * min(lr, 1/sqrt(t)) * u / max(1, RMS(u) / clip_threshold)``
    with ``u = g / sqrt(v)``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable([1.0, 1.0])
    >>> _ = tg.keras.optimizers.Adafactor(learning_rate=0.1).apply_gradients([(tg.constant([2.0, 2.0]), v)])
    >>> [round(x, 4) for x in v.numpy().tolist()]
    [0.9, 0.9]
    """

    _slot_names = ("r", "c", "velocity")

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay=-0.8,
        epsilon_1=1e-30,
        epsilon_2=1e-3,
        clip_threshold=1.0,
        relative_step=True,
        name=None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def _build_slots(self, var_list):
        r, c, v = [], [], []
        for var in var_list:
            shape = tuple(var.shape)
            if len(shape) < 2:  # placeholders, as in Keras
                r.append(
                    StateVariable(np.zeros((), var.dtype.as_numpy_dtype), name=f"r/{var._shared_name}", trainable=False)
                )
                c.append(
                    StateVariable(np.zeros((), var.dtype.as_numpy_dtype), name=f"c/{var._shared_name}", trainable=False)
                )
            else:
                r.append(self._zeros_like(var, "r", shape=shape[:-1]))
                c.append(self._zeros_like(var, "c", shape=shape[:-2] + shape[-1:]))
            v.append(self._zeros_like(var, "velocity"))
        self._slots = {"r": r, "c": c, "velocity": v}

    def _step_args(self, lr, t):
        relative = bool(self.relative_step and not callable(self._learning_rate))
        return _core.OptimizerRule.adafactor, _hyper(
            learning_rate=lr,
            beta_2_decay=float(self.beta_2_decay),
            epsilon_1=float(self.epsilon_1),
            epsilon_2=float(self.epsilon_2),
            clip_threshold=float(self.clip_threshold),
            local_step=float(t),
            relative_step=relative,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1,
                "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold,
                "relative_step": self.relative_step,
            }
        )
        return config
