"""``tf.keras.datasets.cifar100``: 50,000 training and 10,000 test 32x32 colour images labelled
with 100 fine classes grouped into 20 coarse ones."""

import os

from ..utils.file_utils import get_file
from ._formats import read_cifar_batch
from .cifar10 import _layout

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
_SHA256 = "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"


def load_data(label_mode="fine"):
    """``(x_train, y_train), (x_test, y_test)``: uint8 images [n, 32, 32, 3] and labels [n, 1] (0-99
    for ``label_mode="fine"``, 0-19 for ``"coarse"``), n = 50000 and 10000."""
    if label_mode not in ["fine", "coarse"]:
        raise ValueError(f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: label_mode={label_mode}.')
    path = get_file(fname="cifar-100-python-target", origin=_ORIGIN, extract=True, file_hash=_SHA256)
    path = os.path.join(path, "cifar-100-python")
    key = f"{label_mode}_labels"
    return (
        _layout(*read_cifar_batch(os.path.join(path, "train"), key)),
        _layout(*read_cifar_batch(os.path.join(path, "test"), key)),
    )
