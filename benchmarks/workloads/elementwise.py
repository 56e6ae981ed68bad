"""Large elementwise ops and full reductions on float32 (1M and 16M elements) against numpy and
PyTorch: add, multiply, exp, tanh, reduce_sum, reduce_max."""

import numpy as np

import tapegrad as tg

from .._common import to_numpy

NAME = "elementwise"
TITLE = "elementwise ops and reductions"
FAMILIES = ("numpy", "tapegrad", "torch")  # the processes this workload runs in (benchmarks/_processes.py)

# name: (tapegrad, numpy, torch name, arity)
OPS = {
    "add": (tg.add, np.add, "add", 2),
    "mul": (tg.multiply, np.multiply, "mul", 2),
    "exp": (tg.exp, np.exp, "exp", 1),
    "tanh": (tg.tanh, np.tanh, "tanh", 1),
    "reduce_sum": (tg.reduce_sum, np.sum, "sum", 1),
    "reduce_max": (tg.reduce_max, np.max, "amax", 1),
}


def run(ctx):
    rng = np.random.default_rng(0)
    np_, torch = ctx.peer("numpy"), ctx.peer("torch")
    for n in ctx.pick((1 << 20, 1 << 24), smoke=(1000,)):
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        ta, tb = (tg.constant(a), tg.constant(b)) if ctx.wants("tapegrad") else (None, None)
        xa, xb = (torch.from_numpy(a), torch.from_numpy(b)) if torch is not None else (None, None)
        size = f"{n / (1 << 20):g}M" if n >= 1 << 20 else str(n)
        for name, (tg_fn, np_fn, torch_name, arity) in OPS.items():
            case = f"{name} {size}"
            calls = [("tapegrad", tg_fn, (ta, tb))]
            if np_ is not None:
                calls.insert(0, ("numpy", np_fn, (a, b)))
            if torch is not None:
                calls.append(("PyTorch", getattr(torch, torch_name), (xa, xb)))
            for library, fn, args in calls:
                args = args[:arity]
                # float32 sums of 16M terms differ by summation order: rtol 1e-3
                ctx.bench(
                    case,
                    library,
                    lambda fn=fn, args=args: fn(*args),
                    result=lambda fn=fn, args=args: to_numpy(fn(*args)),
                    rtol=1e-3,
                    atol=1e-4,
                )
            if ctx.threads >= 2:
                ctx.budget(
                    case, f"tapegrad < 1.0x numpy (faster with {ctx.threads} threads)", "numpy", 1.0, strict=True
                )
            else:
                ctx.budget(case, "tapegrad <= 1.0x numpy", "numpy", 1.0)
