"""``tf.keras.datasets``: MNIST, Fashion-MNIST, CIFAR-10 and CIFAR-100, downloaded once into the Keras cache
(``$KERAS_HOME`` or ``~/.keras``, ``datasets/``) from Keras's own URLs, so a cache that Keras filled
serves tapegrad too and the other way round. The other Keras datasets (IMDB, Reuters, the housing
sets) raise NotInTapegradError."""

from typing import TYPE_CHECKING as _TYPE_CHECKING

from . import cifar10, cifar100, fashion_mnist, mnist

__all__ = ["cifar10", "cifar100", "fashion_mnist", "mnist"]

if not _TYPE_CHECKING:
    from ..._missing import module_getattr as _module_getattr

    __getattr__ = _module_getattr(
        __name__,
        "tf.keras.datasets",
        ("boston_housing", "california_housing", "imdb", "reuters"),
        "Load the arrays with the keras package (keras.datasets) or numpy and pass them to fit or "
        "tf.data.Dataset.from_tensor_slices.",
    )
