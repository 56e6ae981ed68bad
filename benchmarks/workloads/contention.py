"""A busy machine (issue 15): the `mlp` and `cnn` training steps timed on the machine as it is, then
with 1 and 2 CPU-bound neighbour processes started for the measurement (an ordinary shared
workstation or CI runner). Each library keeps the suite's thread count. Shown: each step's time per
phase; the slowdown table (time with neighbours / time without); budgets: tapegrad's slowdown at
most every peer's, and tapegrad never slower than PyTorch with neighbours."""

import os
import subprocess
import sys
import time

from .._common import build_or_raiser
from . import cnn, mlp

NAME = "contention"
TITLE = "MLP and CNN steps with CPU-bound neighbour processes"
FAMILIES = ("tapegrad", "torch", "tf")  # the comparisons of the issue; JAX and numpy are not run here

# a neighbour: pure Python arithmetic, no memory traffic; it ends when its parent does (a child of
# the suite that dies without cleaning up leaves no spinner behind)
_HOG = (
    "import os\nppid = os.getppid()\nwhile True:\n"
    "    for _ in range(2_000_000):\n        pass\n"
    "    if os.getppid() != ppid:\n        break\n"
)


class Neighbours:
    """`with Neighbours(n):` runs n CPU-bound processes for the duration of the block."""

    def __init__(self, n):
        self.n, self.procs = n, []

    def __enter__(self):
        self.procs = [subprocess.Popen([sys.executable, "-c", _HOG]) for _ in range(self.n)]
        if self.procs:
            time.sleep(0.3)  # let them reach the run queue
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()
        return False


def phase_name(n):
    return "idle" if n == 0 else f"{n} busy"


def _builders(ctx, smoke):
    """[(model, library, build)] for this process's libraries."""
    mlp_sizes = (20, 16, 16, 10) if smoke else (784, 256, 256, 10)
    mp, mx, my = mlp.make_data(mlp_sizes, 8 if smoke else 128)
    cp, cx, cy = cnn.make_data(*((4, 8, 4) if smoke else (64, 28, 32)))
    out = []
    if ctx.wants("tapegrad") and not mlp.missing_tapegrad():
        out.append(("MLP", "tapegrad", lambda: mlp.make_tapegrad(mp, mx, my)))
        if not cnn.tg_missing("nn.conv2d"):
            out.append(("CNN", "tapegrad", lambda: cnn.make_tapegrad(cp, cx, cy, True)))
    torch, tf = ctx.peer("torch"), ctx.peer("tf")
    if torch is not None:
        out.append(("MLP", "PyTorch eager", lambda: mlp.make_torch(torch, mp, mx, my, fused=False)))
        out.append(("CNN", "PyTorch eager", lambda: cnn.make_torch(torch, cp, cx, cy, True)))
    if tf is not None:
        for function, lib in ((False, "TF eager tape"), (True, "TF tf.function")):
            out.append(("MLP", lib, lambda function=function: mlp.make_tf(tf, mp, mx, my, function=function)))
            out.append(("CNN", lib, lambda function=function: cnn.make_tf(tf, cp, cx, cy, True, function=function)))
    return out


def run(ctx):
    if ctx.wants("tapegrad"):
        missing = mlp.missing_tapegrad()
        if missing:
            ctx.skip("", "tapegrad", f"needs {missing}")
    phases = ctx.pick((0, 1, 2), smoke=(0, 1))
    steps = {}
    for model, library, build in _builders(ctx, ctx.smoke):
        steps[(model, library)] = build_or_raiser(build)
    for n in phases:
        with Neighbours(n):
            for (model, library), step in steps.items():
                ctx.bench(
                    f"{model} step, {phase_name(n)}",
                    library,
                    step,
                    # checked once, without neighbours; the steps go on from there in every phase
                    result=(lambda step=step: [step() for _ in range(3)]) if n == 0 else None,
                    rtol=2e-3,
                    atol=1e-5,
                    note=f"{os.cpu_count()} cores, {n} neighbour(s)",
                )
    for n in phases[1:]:
        for model in ("MLP", "CNN"):
            ctx.budget(
                f"{model} step, {phase_name(n)}",
                "tapegrad never slower than PyTorch with neighbours",
                "PyTorch eager",
                1.0,
            )


def finish(ctx):
    """In the parent, once every library has its times: slowdown table and budgets."""
    phases = sorted(
        {int(r["case"].split(", ")[1].split()[0]) for r in ctx.rows if r["workload"] == NAME and "busy" in r["case"]}
    )
    libs = []
    for r in ctx.rows:
        if r["workload"] == NAME and r["library"] not in libs:
            libs.append(r["library"])
    rows = []
    for model in ("MLP", "CNN"):
        idle = {lib: ctx.time_of(f"{model} step, idle", lib, NAME) for lib in libs}
        for n in phases:
            case = f"{model} step, {phase_name(n)}"
            slow, busy = {}, {}
            for lib in libs:
                t = ctx.time_of(case, lib, NAME)
                if t is not None:
                    busy[lib] = t
                    if idle[lib]:
                        slow[lib] = t / idle[lib]
            # the time itself, against the fastest peer with the same neighbours (reported, not a
            # budget: the slowdown ratio penalises a library that is fast when idle)
            fastest = min((t for lib, t in busy.items() if lib != "tapegrad"), default=None)
            against = f"{busy['tapegrad'] / fastest:.2f}x" if fastest and "tapegrad" in busy else "-"
            rows.append([model, n] + [f"{slow[lib]:.2f}x" if lib in slow else "-" for lib in libs] + [against])
            peers = [lib for lib in libs if lib != "tapegrad" and lib in slow]
            text = "tapegrad's slowdown (time with neighbours / without) at most every peer's"
            if "tapegrad" not in slow or not peers:
                ctx.budget_result(case, text, "not measured (no slowdown for tapegrad or for any peer)", None)
                continue
            measured = f"measured tapegrad {slow['tapegrad']:.2f}x; " + ", ".join(f"{p} {slow[p]:.2f}x" for p in peers)
            ctx.budget_result(case, text, measured, slow["tapegrad"] <= min(slow[p] for p in peers))
    if rows:
        ctx.table(
            "Contention: slowdown, step time with N CPU-bound neighbours / time without; last column: "
            "tapegrad's step time with the neighbours / the fastest peer's",
            ["model", "neighbours"] + libs + ["tapegrad / fastest peer"],
            rows,
        )
