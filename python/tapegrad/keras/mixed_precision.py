"""``tg.keras.mixed_precision``: Keras 3's loss-scaling optimizer. The dtype policies of Keras's
namespace (``Policy``, ``set_global_policy``, ...) are not provided yet.

>>> import tapegrad as tg
>>> tg.keras.mixed_precision.LossScaleOptimizer is tg.keras.optimizers.LossScaleOptimizer
True
"""

from .optimizers.loss_scale import LossScaleOptimizer

__all__ = ["LossScaleOptimizer"]
