"""``tg.linalg``: matrix products."""
from ._core import matmul  # noqa: F401

from ._namespaces import exported as _exported

globals().update(_exported("linalg"))
