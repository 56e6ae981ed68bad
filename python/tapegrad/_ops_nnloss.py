"""Python side of softmax, log_softmax and the fused cross-entropy ops (``tg.nn`` and ``tg.math``
import them from the engine).

The functions are the engine's own (one call each), with TF's names, keywords and errors:

>>> import tapegrad as tg
>>> tg.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0]], logits=[[1000.0, -1000.0]]).numpy()
array([2000.], dtype=float32)
"""

from ._core import (  # noqa: F401
    log_softmax,
    sigmoid_cross_entropy_with_logits,
    softmax,
    softmax_cross_entropy_with_logits,
    sparse_softmax_cross_entropy_with_logits,
)
