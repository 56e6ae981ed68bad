"""``tf.data``: input pipelines over numpy arrays and Python generators (``tg.data.Dataset``).

Batches arrive as tapegrad Tensors; inside, slices stay numpy arrays and a batch over arrays is one
fancy index per component plus one copy into a Tensor. Shuffling follows TF's buffer semantics and
seed rules (``seed=``, ``tg.random.set_seed``) and is reproducible, but the random orders are not
TF's. See _dataset.py for the other documented differences.

>>> import tapegrad as tg
>>> ds = tg.data.Dataset.from_tensor_slices(([1.0, 2.0, 3.0], [0, 1, 0])).batch(2)
>>> [(x.numpy().tolist(), y.numpy().tolist()) for x, y in ds]
[([1.0, 2.0], [0, 1]), ([3.0], [0])]
"""

from . import experimental
from ._dataset import AUTOTUNE, Dataset, Options, ThreadingOptions
from ._dataset import INFINITE as INFINITE_CARDINALITY
from ._dataset import UNKNOWN as UNKNOWN_CARDINALITY

__all__ = [
    "AUTOTUNE",
    "Dataset",
    "INFINITE_CARDINALITY",
    "Options",
    "ThreadingOptions",
    "UNKNOWN_CARDINALITY",
    "experimental",
]
