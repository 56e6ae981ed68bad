"""Keras SGD (momentum, nesterov) with a fused C++ update."""
from ... import _core
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum, Keras's update rule:

    ``m = momentum * m - lr * g; v += m`` (nesterov: ``v += momentum * m - lr * g``);
    with momentum 0, ``v -= lr * g``.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> opt = tg.keras.optimizers.SGD(learning_rate=0.1)
    >>> _ = opt.apply_gradients([(tg.constant(2.0), v)])
    >>> round(float(v), 6)
    0.8
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._slot_names = ("momentum",) if self.momentum != 0 else ()

    def _update(self, variables, grads, indices, lr):
        moms = self._slot_lists(indices)[0] if self._slot_names else []
        _core.sgd_update(variables, grads, moms, lr, self.momentum, self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
