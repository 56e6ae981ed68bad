"""``tf.keras.datasets.mnist``: 60,000 training and 10,000 test 28x28 grayscale digits."""

import numpy as np

from ..utils.file_utils import get_file

# Keras's copy of the data (storage.googleapis.com/tensorflow/tf-keras-datasets) and its SHA-256.
_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path="mnist.npz"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,),
    (10000, 28, 28) and (10000,). ``path`` is the file's name in the Keras cache's ``datasets``
    folder; the file is downloaded there once and checked against its SHA-256."""
    path = get_file(fname=path, origin=_ORIGIN, file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
