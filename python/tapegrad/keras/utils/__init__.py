"""``tg.keras.utils``: ``Progbar``, ``unpack_x_y_sample_weight``, ``pack_x_y_sample_weight``,
``to_categorical``, ``set_random_seed``."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

import random as _py_random

import numpy as _np

from .dataset_utils import split_dataset, timeseries_dataset_from_array
from .file_utils import get_file
from .progbar import Progbar
from .py_dataset import PyDataset, Sequence
from .sequence_utils import pad_sequences
from .serialization import (
    CustomObjectScope,
    clear_session,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    is_keras_tensor,
    normalize,
    register_keras_serializable,
    serialize_keras_object,
    standardize_dtype,
)

__all__ = [
    "CustomObjectScope",
    "Progbar",
    "PyDataset",
    "Sequence",
    "clear_session",
    "custom_object_scope",
    "deserialize_keras_object",
    "get_custom_objects",
    "get_file",
    "get_registered_name",
    "get_registered_object",
    "is_keras_tensor",
    "normalize",
    "pack_x_y_sample_weight",
    "pad_sequences",
    "register_keras_serializable",
    "serialize_keras_object",
    "set_random_seed",
    "split_dataset",
    "standardize_dtype",
    "timeseries_dataset_from_array",
    "to_categorical",
    "unpack_x_y_sample_weight",
]


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
    _np.random.seed(seed)
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
    raise ValueError(
        f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: {data}"
    )


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
    x = _np.array(x, dtype="int64")
    input_shape = x.shape
    if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
        input_shape = tuple(input_shape[:-1])
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(_np.max(x)) + 1
    n = x.shape[0]
    out = _np.zeros((n, num_classes), dtype="float32")
    out[_np.arange(n), x] = 1
    return out.reshape(input_shape + (num_classes,))


# Keras 3 utilities not written yet (NotInTapegradError; see tapegrad/_missing.py).
if not _TYPE_CHECKING:
    from ..._missing import module_getattr as _module_getattr

    __getattr__ = _module_getattr(
        __name__,
        "tf.keras.utils",
        (
            "array_to_img",
            "img_to_array",
            "load_img",
            "save_img",
            "audio_dataset_from_directory",
            "image_dataset_from_directory",
            "text_dataset_from_directory",
            "FeatureSpace",
            "bounding_boxes",
            "model_to_dot",
            "plot_model",
        ),
        "tapegrad decodes no image, audio or text files and draws no model graphs; load files with "
        "numpy (or PIL) and pass the arrays to fit or tf.data.Dataset.from_tensor_slices.",
    )
