"""Keras SGD (momentum, nesterov), RMSprop and Lion with fused C++ updates."""

from ... import _core
from .base import Optimizer, _hyper


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, Keras's update rule:

    ``m = momentum * m - lr * g; v += m`` (nesterov: ``v += momentum * m - lr * g``);
    with momentum 0, ``v -= lr * g``. See `Optimizer` for the shared arguments and for saving.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> opt = tg.keras.optimizers.SGD(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 6)
    0.8
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov
        self._slot_names = ("momentum",) if self.momentum != 0 else ()

    def _step_args(self, lr, t):
        if self.momentum == 0:
            return _core.OptimizerRule.sgd, _hyper(learning_rate=lr)
        rule = _core.OptimizerRule.sgd_nesterov if self.nesterov else _core.OptimizerRule.sgd_momentum
        return rule, _hyper(learning_rate=lr, momentum=float(self.momentum))

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config


class RMSprop(Optimizer):
    """Keras RMSprop: ``v = rho * v + (1 - rho) * g^2``; centered: ``a = rho * a + (1 - rho) * g``
    and ``den = v - a^2 + eps``, else ``den = v + eps``; ``inc = lr * g / sqrt(den)``; with momentum
    ``mom = momentum * mom + inc; var -= mom``, else ``var -= inc``. See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.RMSprop(learning_rate=0.1).apply_gradients([(tg.constant(1.0), v)])
    >>> round(float(v), 4)
    0.6838
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho=0.9,
        momentum=0.0,
        epsilon=1e-07,
        centered=False,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        names = ["velocity"]
        if momentum > 0:
            names.append("momentum")
        if centered:
            names.append("average_gradient")
        self._slot_names = tuple(names)
        self._rule = getattr(
            _core.OptimizerRule, "rmsprop" + ("_centered" if centered else "") + ("_momentum" if momentum > 0 else "")
        )

    def _step_args(self, lr, t):
        return self._rule, _hyper(
            learning_rate=lr, rho=float(self.rho), momentum=float(self.momentum), epsilon=float(self.epsilon)
        )

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered})
        return config


class Lion(Optimizer):
    """Keras Lion: ``var -= lr * sign(beta_1 * m + (1 - beta_1) * g)``; ``m = beta_2 * m + (1 - beta_2) * g``.
    See `Optimizer`.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = tg.keras.optimizers.Lion(learning_rate=0.1).apply_gradients([(tg.constant(-3.0), v)])
    >>> round(float(v), 6)
    1.1
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.99,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
        loss_scale_factor=None,
        gradient_accumulation_steps=None,
        name=None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            **kwargs,
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer degenerates "
                f"to SignSGD. Received: beta_1={beta_1}."
            )

    _slot_names = ("momentum",)

    def _step_args(self, lr, t):
        return _core.OptimizerRule.lion, _hyper(learning_rate=lr, beta_1=float(self.beta_1), beta_2=float(self.beta_2))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
