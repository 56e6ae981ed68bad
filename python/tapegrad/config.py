"""Engine settings (``tg.config``)."""
from ._core import get_num_threads, set_num_threads

__all__ = ["get_num_threads", "set_num_threads"]
