"""``tf.keras.datasets``: Keras 3's datasets (MNIST, Fashion-MNIST, CIFAR-10, CIFAR-100, IMDB,
Reuters, Boston and California housing), downloaded once into the Keras cache (``$KERAS_HOME`` or
``~/.keras``, ``datasets/``) from Keras's own URLs and in its layout, so a cache that Keras filled
serves tapegrad too and the other way round; shuffles, splits and word-index encodings are
Keras's, so the arrays are the same."""

from . import boston_housing, california_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters

__all__ = [
    "boston_housing",
    "california_housing",
    "cifar10",
    "cifar100",
    "fashion_mnist",
    "imdb",
    "mnist",
    "reuters",
]
