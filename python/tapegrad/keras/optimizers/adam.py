"""Keras Adam, AdamW, Adamax, Nadam and Lamb with fused C++ updates. Shared arguments (weight
decay, clipping, EMA, accumulation, name) go through ``**kwargs`` to `Optimizer`."""

from typing import Optional

import numpy as np

from ... import _core
from ..._tensor import StateVariable
from .base import Optimizer, _hyper


class _AdamFamily(Optimizer):
    """Shared by the optimizers with arguments (beta_1, beta_2, epsilon): their state, their
    kernel hyper-parameters and their config."""

    _rule: "Optional[_core.OptimizerRule]" = None  # the fused kernel's rule

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _moment_args(self, lr, t, **extra):
        return _hyper(
            learning_rate=lr,
            beta_1=float(self.beta_1),
            beta_2=float(self.beta_2),
            epsilon=float(self.epsilon),
            local_step=float(t),
            **extra,
        )

    def _step_args(self, lr, t):
        return self._rule, self._moment_args(lr, t)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Adam(_AdamFamily):
    """Keras Adam: ``m += (g - m)(1 - beta_1)``; ``v += (g^2 - v)(1 - beta_2)``;
    ``alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)``; ``var -= alpha * m / (sqrt(v) + epsilon)``
    (amsgrad: ``v_hat = max(v_hat, v)`` in place of ``v``). See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Adam(learning_rate=0.1).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.9
    """

    def __init__(
        self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, amsgrad=False, name=None, **kwargs
    ):
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, name=name, **kwargs
        )
        self.amsgrad = amsgrad
        self._slot_names = ("momentum", "velocity", "velocity_hat") if amsgrad else ("momentum", "velocity")

    def _step_args(self, lr, t):
        rule = _core.OptimizerRule.adam_amsgrad if self.amsgrad else _core.OptimizerRule.adam
        return rule, self._moment_args(lr, t)

    def get_config(self):
        config = super().get_config()
        config["amsgrad"] = self.amsgrad
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004): ``var -= var * weight_decay * lr`` first.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.85
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay=0.004,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-07,
        amsgrad=False,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            name=name,
            weight_decay=weight_decay,
            **kwargs,
        )
        if self.weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")


class Adamax(_AdamFamily):
    """Keras Adamax: ``m += (g - m)(1 - beta_1)``; ``u = max(beta_2 * u, |g|)``;
    ``var -= lr * m / ((1 - beta_1^t)(u + epsilon))``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Adamax(learning_rate=0.1).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.9
    """

    _slot_names = ("momentum", "norm")

    _rule = _core.OptimizerRule.adamax


class Nadam(_AdamFamily):
    """Keras Nadam (momentum cache ``mu_t = beta_1 (1 - 0.5 * 0.96^t)``, product ``u_product``
    kept as an optimizer variable, in float64). See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Nadam(learning_rate=0.1).apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 4)
    0.8937
    """

    _slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07, name=None, **kwargs):
        super().__init__(
            learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, name=name, **kwargs
        )
        self._pending_u_product = None

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._u_product = StateVariable(np.array(1.0, np.float64), name="u_product", trainable=False)
        self._extra_variables = [self._u_product]

    def _step_args(self, lr, t):
        up = self._u_product._item() * self.beta_1 * (1.0 - 0.5 * 0.96**t)
        self._pending_u_product = up
        return _core.OptimizerRule.nadam, self._moment_args(lr, t, u_product=up)

    def _after_step(self):
        self._u_product.assign(np.array(self._pending_u_product, np.float64))


class Lamb(_AdamFamily):
    """Keras Lamb: Adam moments, ``r = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)``,
    ``var -= (||var|| / ||r||) * lr * r`` (ratio 1 when a norm is 0). Two passes in one call.

    >>> import tapegrad as tg
    >>> v = tg.Variable([3.0, 4.0])
    >>> _ = tg.keras.optimizers.Lamb(learning_rate=0.1).apply_gradients([(tg.constant([1.0, 0.0]), v)])
    >>> [round(x, 4) for x in v.numpy().tolist()]
    [2.5, 4.0]
    """

    _slot_names = ("momentum", "velocity")

    _rule = _core.OptimizerRule.lamb
