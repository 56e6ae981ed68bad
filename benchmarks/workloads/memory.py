"""Memory: the MLP training step's peak resident memory, tapegrad against PyTorch. Each library runs
in its own child process (`python -m benchmarks.workloads.memory --child LIB`), which imports only
that library, records its RSS after import, runs 20 steps, and reports the peak RSS.

The peak is VmHWM from /proc/self/status: ru_maxrss would do on a fresh process, but Linux carries
it over fork + exec, so a child of the (large) suite process would report the suite's size.
ru_maxrss is the fallback where /proc is missing."""

import argparse
import json
import os
import resource
import subprocess
import sys

from . import mlp

NAME = "memory"
OWN_PROCESSES = True  # runs each library in a child of its own: the suite runs it in its parent
TITLE = "MLP step, peak resident memory"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _status_mb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _rss_mb():
    return _status_mb("VmRSS")


def _peak_mb():
    return _status_mb("VmHWM")


def child(library, steps, threads, smoke):
    if library == "tapegrad":
        import tapegrad as tg

        tg.config.set_num_threads(threads)
    else:
        import torch

        torch.set_num_threads(threads)
    after_import = _rss_mb()
    if smoke:
        params, x, y = mlp.make_data((20, 16, 16, 10), 8)
    else:
        params, x, y = mlp.make_data()
    step = mlp.make_tapegrad(params, x, y) if library == "tapegrad" else mlp.make_torch(torch, params, x, y, False)
    for _ in range(steps):
        step()
    return {"library": library, "after_import_mb": after_import, "peak_mb": _peak_mb(), "steps": steps}


def run(ctx):
    libs = []
    missing = mlp.missing_tapegrad()
    if missing:
        ctx.skip("", "tapegrad", f"needs {missing}")
    else:
        libs.append("tapegrad")
    if ctx.peer("torch") is not None:
        libs.append("torch")
    steps = ctx.pick(20, smoke=2)
    results = []
    for lib in libs:
        ctx.progress.describe(f"memory: {lib} (child process)")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.workloads.memory",
            "--child",
            lib,
            "--steps",
            str(steps),
            "--threads",
            str(ctx.threads),
        ] + (["--smoke"] if ctx.smoke else [])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            ctx.skip(
                "",
                lib,
                f"child process failed (exit {proc.returncode}): "
                + (proc.stderr.strip().splitlines() or ["no output"])[-1][:200],
            )
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    if not results:
        return
    base = next((r for r in results if r["library"] == "tapegrad"), None)
    rows = []
    for r in results:
        inc = r["peak_mb"] - r["after_import_mb"]
        ratio = "-"
        if base is not None:
            base_inc = base["peak_mb"] - base["after_import_mb"]
            ratio = f"{inc / base_inc:.2f}x" if base_inc > 0 else "-"
        rows.append((r["library"], f"{r['after_import_mb']:.1f}", f"{r['peak_mb']:.1f}", f"{inc:.1f}", ratio))
    ctx.table(
        f"Memory: MLP training step, {steps} steps, each library in its own process (MB)",
        ["library", "RSS after import", "peak RSS", "increase", "increase / tapegrad's"],
        rows,
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=("tapegrad", "torch"), required=True)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--smoke", action="store_true")
    a = ap.parse_args()
    print(json.dumps(child(a.child, a.steps, a.threads, a.smoke)))
