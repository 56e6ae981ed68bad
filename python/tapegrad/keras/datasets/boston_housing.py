"""``tf.keras.datasets.boston_housing``: 506 houses, 13 features each, and their median value in
thousands of dollars (Harrison & Rubinfeld, 1978; Keras's copy)."""

import numpy as np

from ..utils.file_utils import get_file
from ._formats import check_test_split, shuffled_split

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/boston_housing.npz"
_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: float64 features [n, 13] and targets [n], the rows
    shuffled with `seed` and split as Keras does (404 / 102 at the defaults)."""
    check_test_split(test_split)
    path = get_file(path, origin=_ORIGIN, file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    return shuffled_split(x, y, test_split, seed)
