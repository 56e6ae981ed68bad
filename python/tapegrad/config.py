"""Engine settings (``tg.config``)."""
from . import _config_threading as threading
from ._core import get_num_threads, set_num_threads
from .function import functions_run_eagerly, run_functions_eagerly

__all__ = ["functions_run_eagerly", "get_num_threads", "run_functions_eagerly", "set_num_threads", "threading"]
