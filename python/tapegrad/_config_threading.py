"""``tg.config.threading``: TF's names for the engine's thread counts.

tapegrad runs one op at a time, each op's kernels on one pool of threads that OpenBLAS shares
(Note [Threads] in cpp/tensor/parallel.cpp). The intra-op count is that pool's size; the inter-op
count is recorded and reported, as TF does, but has no effect. Unlike TF, both can be changed
after the first op runs.
"""
from . import _core

__all__ = ["get_inter_op_parallelism_threads", "get_intra_op_parallelism_threads",
           "set_inter_op_parallelism_threads", "set_intra_op_parallelism_threads"]

_DEFAULT_INTRA = _core.get_num_threads()  # the engine's own choice: hardware threads, at most 8
_settings = {"intra": 0, "inter": 0}


def _count(num_threads):
    n = int(num_threads)
    if n < 0:
        raise ValueError(f"num_threads must be non-negative, got {num_threads}")
    return n


def get_intra_op_parallelism_threads():
    """The number of threads one op may use; 0 means the system picks (``tf.config.threading``).

    >>> import tapegrad as tg
    >>> tg.config.threading.get_intra_op_parallelism_threads()
    0
    """
    return _settings["intra"]


def set_intra_op_parallelism_threads(num_threads):
    """Sets the number of threads one op may use (the engine's pool and OpenBLAS); 0 lets the
    system pick (``tf.config.threading``)."""
    n = _count(num_threads)
    _core.set_num_threads(n if n > 0 else _DEFAULT_INTRA)
    _settings["intra"] = n


def get_inter_op_parallelism_threads():
    """The number of threads for running independent ops; 0 means the system picks
    (``tf.config.threading``). Recorded only: tapegrad runs ops one at a time."""
    return _settings["inter"]


def set_inter_op_parallelism_threads(num_threads):
    """Sets the number of threads for running independent ops (``tf.config.threading``); recorded
    for ``get_inter_op_parallelism_threads`` only, as tapegrad runs ops one at a time."""
    _settings["inter"] = _count(num_threads)
