"""``tf.data.experimental``: the constants TF still exports here."""

from ._dataset import (  # noqa: F401
    AUTOTUNE,
    AutoShardPolicy,
    AutotuneOptions,
    DistributeOptions,
    OptimizationOptions,
    ThreadingOptions,
)
from ._dataset import INFINITE as INFINITE_CARDINALITY
from ._dataset import UNKNOWN as UNKNOWN_CARDINALITY


def cardinality(dataset):
    """The dataset's cardinality as an int64 scalar (TF's older spelling of Dataset.cardinality)."""
    return dataset.cardinality()


__all__ = [
    "AUTOTUNE",
    "AutoShardPolicy",
    "AutotuneOptions",
    "DistributeOptions",
    "INFINITE_CARDINALITY",
    "OptimizationOptions",
    "ThreadingOptions",
    "UNKNOWN_CARDINALITY",
    "cardinality",
]
