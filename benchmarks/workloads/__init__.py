"""The suite's workloads, in the order they run. Each module has NAME, TITLE and run(ctx); see
benchmarks/run.py (Context) for what ctx offers. Loaded lazily, so that the memory workload's child
process imports only the library it measures."""

import importlib

NAMES = (
    "tape",
    "mlp",
    "linreg",
    "adam",
    "elementwise",
    "matmul",
    "cnn",
    "fit",
    "contention",
    "memory",
    "data",
    "distributed",
)


def load(names=NAMES):
    return [importlib.import_module(f"{__name__}.{name}") for name in names]
