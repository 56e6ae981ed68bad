"""A/B of tapegrad builds or thread settings on a busy machine (issue 15): the `mlp` and `cnn`
training steps, each variant in fresh child processes, interleaved over rounds (A B B A A B ...),
with 0, 1 and 2 CPU-bound neighbour processes; prints each variant's median step time and CPU time
per step per phase, and the ratio of each variant to the first. Ratios within one run carry over;
absolute times on a shared machine do not.

    python benchmarks/ab_threads.py --variant old=/tmp/engA --variant new=/tmp/engB \
        [--variant spin0=/tmp/engB:TAPEGRAD_POOL_SPIN_US=0] [--rounds 4] [--busy 0,1,2] [--threads 2]

A variant is NAME=PYTHONPATH[:VAR=VALUE...]: the directory that holds the `tapegrad` package to test
(its own `_core` build) and environment variables for its children (an empty PYTHONPATH: the
installed tapegrad).
"""

import os
import sys

if not __package__:
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CHILD = r"""
import json, os, sys, time
sys.path.append({repo!r})
import benchmarks._common as common
import tapegrad as tg
from benchmarks.workloads import cnn, mlp
tg.config.set_num_threads({threads})
out = {{}}
for model in ("MLP", "CNN"):
    if model == "MLP":
        step = mlp.make_tapegrad(*mlp.make_data())
    else:
        step = cnn.make_tapegrad(*cnn.make_data(), True)
    for _ in range(3):
        step()
    c0, t0 = time.process_time(), time.perf_counter()
    sec = common.median_time(step, 5, min_time={min_time})
    calls = max(1, round((time.perf_counter() - t0) / sec))
    out[model] = [sec, (time.process_time() - c0) / calls]
print("AB " + json.dumps(out))
"""


def parse_variant(text):
    name, _, rest = text.partition("=")
    parts = rest.split(":")
    path, env = [], {}
    for p in parts:
        if "=" in p:
            k, v = p.split("=", 1)
            env[k] = v
        elif p:
            path.append(p)
    return name, os.pathsep.join(path), env


def run_child(path, env_extra, threads, min_time):
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (path, REPO) if p)
    env.update(env_extra)
    src = CHILD.format(repo=REPO, threads=threads, min_time=min_time)
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env, cwd="/", timeout=900)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("AB ")]
    if p.returncode != 0 or not lines:
        raise RuntimeError(p.stderr[-2000:])
    return json.loads(lines[-1][3:])


def main():
    from benchmarks.workloads.contention import Neighbours

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--variant", action="append", required=True)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--busy", default="0,1,2")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    variants = [parse_variant(v) for v in args.variant]
    phases = [int(n) for n in args.busy.split(",")]
    res = {}  # (variant, phase, model) -> [(wall, cpu)]
    print(f"load average before: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; threads {args.threads}", flush=True)
    for n in phases:
        with Neighbours(n):
            for r in range(args.rounds):
                order = variants if r % 2 == 0 else variants[::-1]
                for name, path, env in order:
                    got = run_child(path, env, args.threads, args.min_time)
                    for model, (wall, cpu) in got.items():
                        res.setdefault((name, n, model), []).append((wall, cpu))
                    print(
                        f"  {n} busy, round {r}, {name}: "
                        + ", ".join(f"{m} {w * 1e3:.2f} ms (cpu {c * 1e3:.2f})" for m, (w, c) in got.items()),
                        flush=True,
                    )
    base = variants[0][0]
    print(f"\nmedian step time over {args.rounds} rounds, ms (cpu ms per step); ratio to {base}")
    for model in ("MLP", "CNN"):
        for n in phases:
            cells = []
            for name, _, _ in variants:
                walls = [w for w, _ in res[(name, n, model)]]
                cpus = [c for _, c in res[(name, n, model)]]
                ratio = statistics.median(walls) / statistics.median([w for w, _ in res[(base, n, model)]])
                cells.append(
                    f"{name} {statistics.median(walls) * 1e3:.2f} ({statistics.median(cpus) * 1e3:.2f}) {ratio:.2f}x"
                )
            print(f"  {model} {n} busy: " + " | ".join(cells))
    for name, _, _ in variants:
        for model in ("MLP", "CNN"):
            idle = statistics.median([w for w, _ in res[(name, phases[0], model)]])
            print(
                f"  slowdown {name} {model}: "
                + ", ".join(
                    f"{n} busy {statistics.median([w for w, _ in res[(name, n, model)]]) / idle:.2f}x"
                    for n in phases[1:]
                )
            )


if __name__ == "__main__":
    main()
