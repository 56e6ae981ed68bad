"""Shared by the benchmark scripts: peer discovery, thread settings, timing."""
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


def set_threads(n, torch=None, tf=None):
    import tapegrad as tg

    tg.config.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    if tf is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
            tf.config.threading.set_inter_op_parallelism_threads(n)
        except RuntimeError:
            pass  # already initialised


def median_time(fn, repeat=7, number=None, min_time=0.2):
    """Median seconds per call of fn over `repeat` rounds of `number` calls (auto-sized)."""
    fn()  # warm up
    if number is None:
        number = 1
        while True:
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            if time.perf_counter() - t0 >= min_time / repeat or number >= 1 << 20:
                break
            number *= 2
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return statistics.median(times)
