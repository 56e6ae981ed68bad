"""``python -m benchmarks``: the benchmark suite (see run.py)."""

from . import _common  # noqa: F401  (before numpy: unsets the OpenBLAS variables)
from .run import main

main()
