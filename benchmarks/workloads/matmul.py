"""Square float32 matmul (256 and 1024) against numpy and PyTorch, under the same OpenBLAS settings
(OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE unset for all, same thread count)."""

import numpy as np

import tapegrad as tg

from .._common import to_numpy

NAME = "matmul"
TITLE = "square matmul, float32"
FAMILIES = ("numpy", "tapegrad", "torch")  # the processes this workload runs in (benchmarks/_processes.py)


def run(ctx):
    rng = np.random.default_rng(0)
    np_, torch = ctx.peer("numpy"), ctx.peer("torch")
    for n in ctx.pick((256, 1024), smoke=(16,)):
        a = rng.standard_normal((n, n)).astype(np.float32)
        b = rng.standard_normal((n, n)).astype(np.float32)
        case = f"{n}x{n}"
        calls = [("tapegrad", tg.matmul, (tg.constant(a), tg.constant(b)))]
        if np_ is not None:
            calls.insert(0, ("numpy", np.matmul, (a, b)))
        if torch is not None:
            calls.append(("PyTorch", torch.matmul, (torch.from_numpy(a), torch.from_numpy(b))))
        for library, fn, args in calls:
            ctx.bench(
                case,
                library,
                lambda fn=fn, args=args: fn(*args),
                result=lambda fn=fn, args=args: to_numpy(fn(*args)),
                rtol=1e-3,
                atol=1e-3,
            )
            t = ctx.time_of(case, library)
            if t:
                ctx.rows[-1]["note"] = f"{2 * n**3 / t / 1e9:.1f} GFLOP/s"
        ctx.budget(case, "tapegrad <= 1.05x numpy (within 5%)", "numpy", 1.05)
