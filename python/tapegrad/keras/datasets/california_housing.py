"""``tf.keras.datasets.california_housing``: 20,640 California districts of the 1990 census, 8
features each, and their median house value (Pace & Barry, 1997; Keras's copy)."""

import numpy as np

from ..utils.file_utils import get_file
from ._formats import check_test_split, shuffled_split

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/california_housing.npz"
_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """``(x_train, y_train), (x_test, y_test)``: features [n, 8] and targets [n]; ``version="small"``
    keeps the first 600 districts. Shuffled with `seed` and split as Keras does."""
    check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(f"Argument `version` must be one of 'small', 'large'. Received: version={version}")
    path = get_file(path, origin=_ORIGIN, file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        x, y = f["x"], f["y"]
    if version == "small":
        x, y = x[:600], y[:600]
    return shuffled_split(x, y, test_split, seed)
