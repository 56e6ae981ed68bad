"""Shared by the benchmark scripts: peer discovery, thread settings, timing.

Importing this module unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE; every entry point imports it
before numpy, torch or tensorflow (see benchmarks/README.md).
"""

import os

# The brief: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE halve OpenBLAS speed here; benchmarks unset both
# for every peer, before any library that loads OpenBLAS is imported.
for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_var, None)

import statistics  # noqa: E402
import time  # noqa: E402


def import_peer(name):
    """The module, or None when the peer is not installed."""
    try:
        if name == "torch":
            import torch

            return torch
        if name == "tensorflow":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            import tensorflow

            return tensorflow
        if name == "jax":
            import jax

            return jax
    except Exception:  # noqa: BLE001  (a broken peer install is reported as absent)
        return None
    raise ValueError(name)


def set_threads(n, torch=None, tf=None, tapegrad=True):
    """Sets n threads for tapegrad (unless tapegrad=False), torch and TF; returns a note when TF could
    not be set."""
    if tapegrad:
        import tapegrad as tg

        tg.config.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    if tf is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:
            return "TensorFlow was already initialised: its thread count could not be set"
    return None


def tg_missing(*paths):
    """The first tapegrad feature (dotted path under `tapegrad`) that does not exist, or None.

    >>> tg_missing("nn.relu") is None
    True
    """
    import tapegrad as tg

    for path in paths:
        obj = tg
        for part in path.split("."):
            if not hasattr(obj, part):
                return "tg." + path
            obj = getattr(obj, part)
    return None


def median_time(fn, repeat=7, number=None, min_time=0.2, slow=None):
    """Median seconds per call of fn over `repeat` rounds of `number` calls (auto-sized so that all
    rounds together take about min_time). When the warm-up call takes over `slow` seconds, at most
    3 rounds."""
    t0 = time.perf_counter()
    fn()  # warm up
    first = time.perf_counter() - t0
    if slow is not None and first > slow:
        repeat = min(repeat, 3)
    if number is None:
        number = 1
        while first < min_time / repeat and number < 1 << 20:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - t0 >= min_time / repeat:
                break
            number *= 2
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)


def clock_time(fn, clock, repeat=5, min_time=0.02):
    """Seconds per call of fn for the shape scripts (gemm_shapes, conv_shapes): `repeat` loops of
    about `min_time` seconds each; the minimum under the CPU clock (`clock` is time.process_time:
    what the machine's other load adds is not ours), else their median under the wall clock."""
    fn()
    t0 = clock()
    fn()
    one = max(clock() - t0, 1e-7)
    number = max(1, int(min_time / one))
    times = []
    for _ in range(repeat):
        t0 = clock()
        for _ in range(number):
            fn()
        times.append((clock() - t0) / number)
    return min(times) if clock is time.process_time else statistics.median(times)


def format_time(seconds):
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def to_numpy(value):
    """A numpy array from a tapegrad/numpy/torch/TF/JAX value (detached from any autograd graph)."""
    import numpy as np

    if hasattr(value, "detach"):
        value = value.detach()
    return np.asarray(value)


def build_or_raiser(build):
    """build(), or, when building fails, a callable that raises the same error each time it is
    called: the benchmark then shows it in the table as that library's ERROR row."""
    try:
        return build()
    except Exception as e:  # noqa: BLE001  (shown in the table by bench)

        def raiser(*args, e=e):
            raise e

        return raiser
