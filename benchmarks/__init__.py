"""tapegrad's benchmark suite (``python -m benchmarks``); see README.md.

Importing the package first imports `_common`, which unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
before numpy or any peer loads OpenBLAS.
"""

from . import _common  # noqa: F401
