"""``tf.keras.datasets.cifar10``: 50,000 training and 10,000 test 32x32 colour images in 10
classes (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck)."""

import os

import numpy as np

from ..utils.file_utils import get_file
from ._formats import read_cifar_batch

# The University of Toronto's archive, as Keras fetches it, and its SHA-256 (Keras's value).
_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data():
    """``(x_train, y_train), (x_test, y_test)``: uint8 images [n, 32, 32, 3] (channels last) and
    labels [n, 1], n = 50000 and 10000; downloaded and extracted once into the Keras cache."""
    path = get_file(fname="cifar-10-batches-py-target", origin=_ORIGIN, extract=True, file_hash=_SHA256)
    path = os.path.join(path, "cifar-10-batches-py")
    parts = [read_cifar_batch(os.path.join(path, f"data_batch_{i}"), "labels") for i in range(1, 6)]
    x_train = np.concatenate([x for x, _ in parts])
    y_train = np.concatenate([y for _, y in parts])
    x_test, y_test = read_cifar_batch(os.path.join(path, "test_batch"), "labels")
    return _layout(x_train, y_train), _layout(x_test, y_test)


def _layout(x, y):
    """Channels last (Keras's image_data_format default) and labels as a column, as Keras returns."""
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1)), y.reshape(len(y), 1)
