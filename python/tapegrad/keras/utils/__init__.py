"""``tg.keras.utils``: ``Progbar``, ``unpack_x_y_sample_weight``, ``pack_x_y_sample_weight``,
``to_categorical``, ``set_random_seed``."""
import random as _py_random

import numpy as np

from .dataset_utils import split_dataset, timeseries_dataset_from_array  # noqa: F401
from .file_utils import get_file  # noqa: F401
from .progbar import Progbar
from .py_dataset import PyDataset, Sequence  # noqa: F401
from .sequence_utils import pad_sequences  # noqa: F401
from .serialization import *  # noqa: F401,F403
from .serialization import __all__ as _serialization_all

__all__ = ["Progbar", "PyDataset", "Sequence", "get_file", "pad_sequences", "split_dataset",
           "timeseries_dataset_from_array", "pack_x_y_sample_weight", "set_random_seed",
           "to_categorical", "unpack_x_y_sample_weight"] + _serialization_all


def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global generator and tapegrad's global seed
    (``tf.random.set_seed``), as ``keras.utils.set_random_seed`` does for its backend.

    >>> import numpy as np, tapegrad as tg
    >>> tg.keras.utils.set_random_seed(3); a = np.random.rand()
    >>> tg.keras.utils.set_random_seed(3); a == np.random.rand()
    True
    """
    if not isinstance(seed, int):
        raise ValueError(f"Expected `seed` argument to be an integer. Received: seed={seed} (of type {type(seed)})")
    from ... import random as _tg_random  # noqa: PLC0415
    _py_random.seed(seed)
    np.random.seed(seed)
    _tg_random.set_seed(seed)
    from .. import random as _keras_random  # noqa: PLC0415
    _keras_random._reset_global_seed_generator()


def unpack_x_y_sample_weight(data):
    """Splits a batch into ``(x, y, sample_weight)``; missing parts are None. A tuple or list of 1-3
    elements is ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``; anything else is ``x``.

    >>> import tapegrad as tg
    >>> tg.keras.utils.unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    >>> tg.keras.utils.unpack_x_y_sample_weight({"a": 1})
    ({'a': 1}, None, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                     f"found: {data}")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The inverse of `unpack_x_y_sample_weight`: ``x`` alone (as a 1-tuple if it is a tuple),
    ``(x, y)`` or ``(x, y, sample_weight)``.

    >>> import tapegrad as tg
    >>> tg.keras.utils.pack_x_y_sample_weight(1, 2)
    (1, 2)
    """
    if y is None:
        if not isinstance(x, (tuple, list)):
            return x
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def to_categorical(x, num_classes=None):
    """One-hot encodes integer class ids (a trailing axis of size 1 is dropped first); the result is
    float32 with ``num_classes`` (default ``max(x) + 1``) columns.

    >>> import tapegrad as tg
    >>> tg.keras.utils.to_categorical([0, 2], 3).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    x = np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    n = x.shape[0]
    out = np.zeros((n, num_classes), dtype="float32")
    out[np.arange(n), x] = 1
    return out.reshape(input_shape + (num_classes,))
