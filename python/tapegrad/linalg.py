"""``tg.linalg``: matrix products."""
from ._core import matmul  # noqa: F401

__all__ = ["matmul"]
