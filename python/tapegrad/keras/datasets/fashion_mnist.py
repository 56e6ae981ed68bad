"""``tf.keras.datasets.fashion_mnist``: 60,000 training and 10,000 test 28x28 grayscale images of
10 kinds of clothing (labels 0-9: T-shirt/top, trouser, pullover, dress, coat, sandal, shirt,
sneaker, bag, ankle boot)."""

import os

from ..utils.file_utils import get_file
from ._formats import read_idx_gz

# Keras's copy of Zalando's files; Keras gives no hashes for them (the IDX headers are checked).
_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 arrays of shapes (60000, 28, 28), (60000,),
    (10000, 28, 28) and (10000,), downloaded once into the Keras cache's ``datasets/fashion-mnist``."""
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(name, origin=_BASE + name, cache_subdir=subdir) for name in _FILES]
    y_train, x_train = read_idx_gz(paths[0], 1), read_idx_gz(paths[1], 3)
    y_test, x_test = read_idx_gz(paths[2], 1), read_idx_gz(paths[3], 3)
    for x, y, part in ((x_train, y_train, "training"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise ValueError(f"fashion_mnist: {len(x)} {part} images but {len(y)} labels.")
    return (x_train, y_train), (x_test, y_test)
