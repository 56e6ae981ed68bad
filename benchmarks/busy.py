"""A busy machine (issue 15): the same MLP training script with `import tapegrad as tf` and with
`import tensorflow as tf` (and PyTorch's transcription when installed), each in a fresh child
process, first on the machine as it is, then with BUSY CPU-bound neighbour processes started for
the run. Prints wall and CPU seconds and the slowdown factor busy / idle per library.

    python benchmarks/busy.py [--busy 2] [--steps 300] [--libs tapegrad,tf,torch] [--env K=V ...]

Threads: each library's defaults (no setting), as a user's script would run. `--env` adds
variables to the children (e.g. TAPEGRAD_CONTENTION=0 or OPENBLAS_NUM_THREADS=1 for A/B).
"""

import argparse
import os
import subprocess
import sys
import time

SCRIPT_TF = r"""
import time, numpy as np
import {module} as tf
rng = np.random.default_rng(0)
x = rng.standard_normal((1024, 784)).astype("float32")
y = rng.integers(0, 10, 1024).astype("int32")
sizes = [784, 256, 256, 10]
ws = [tf.Variable((rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype("float32")) for a, b in zip(sizes, sizes[1:])]
bs = [tf.Variable(np.zeros(b, "float32")) for b in sizes[1:]]
t0 = time.perf_counter()
for step in range({steps}):
    lo = (step * 128) % 1024
    xb, yb = tf.constant(x[lo:lo + 128]), tf.constant(y[lo:lo + 128])
    with tf.GradientTape() as tape:
        h = xb
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = tf.matmul(h, w) + b
            if i < len(ws) - 1:
                h = tf.nn.relu(h)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=h))
    grads = tape.gradient(loss, ws + bs)
    for v, g in zip(ws + bs, grads):
        v.assign_sub(0.01 * g)
print("LOSS", float(loss), "TIME", time.perf_counter() - t0)
"""

SCRIPT_TORCH = r"""
import time, numpy as np, torch
rng = np.random.default_rng(0)
x = torch.tensor(rng.standard_normal((1024, 784)).astype("float32"))
y = torch.tensor(rng.integers(0, 10, 1024).astype("int64"))
sizes = [784, 256, 256, 10]
ws = [torch.tensor((rng.standard_normal((a, b)) * np.sqrt(2 / a)).astype("float32"), requires_grad=True)
      for a, b in zip(sizes, sizes[1:])]
bs = [torch.zeros(b, requires_grad=True) for b in sizes[1:]]
t0 = time.perf_counter()
for step in range({steps}):
    lo = (step * 128) % 1024
    xb, yb = x[lo:lo + 128], y[lo:lo + 128]
    h = xb
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w + b
        if i < len(ws) - 1:
            h = torch.relu(h)
    loss = torch.nn.functional.cross_entropy(h, yb)
    for p in ws + bs:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in ws + bs:
            p -= 0.01 * p.grad
print("LOSS", float(loss), "TIME", time.perf_counter() - t0)
"""


def run_child(lib, steps, env):
    src = (
        SCRIPT_TORCH.format(steps=steps)
        if lib == "torch"
        else SCRIPT_TF.format(module="tapegrad" if lib == "tapegrad" else "tensorflow", steps=steps)
    )
    t0 = time.perf_counter()
    r0 = os.times()
    p = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True, env=env)
    r1 = os.times()
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        return None, None, None, p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "failed"
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("LOSS")][-1]
    loop = float(line.split("TIME")[1])
    cpu = (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
    return wall, loop, cpu, line.split("TIME")[0].strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--busy", type=int, default=2)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--libs", default="tapegrad,tf,torch")
    ap.add_argument("--env", nargs="*", default=[])
    args = ap.parse_args()
    env = dict(os.environ)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # they halve OpenBLAS speed here (benchmarks/README.md)
        env.pop(var, None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    for kv in args.env:
        k, v = kv.split("=", 1)
        env[k] = v
    libs = []
    for lib in args.libs.split(","):
        mod = {"tf": "tensorflow"}.get(lib, lib)
        if subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, env=env).returncode == 0:
            libs.append(lib)
        else:
            print(f"skipped {lib}: not installed")
    print(
        f"load average before: {os.getloadavg()[0]:.1f}; {os.cpu_count()} cores; {args.steps} steps; "
        f"busy neighbours: {args.busy}; extra env: {' '.join(args.env) or '-'}"
    )
    results = {}
    for phase in ("idle", "busy"):
        hogs = []
        if phase == "busy":
            hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.busy)]
            time.sleep(0.5)
        try:
            for lib in libs:
                results[(phase, lib)] = run_child(lib, args.steps, env)
                wall, loop, cpu, note = results[(phase, lib)]
                if wall is None:
                    print(f"{phase:5s} {lib:9s} ERROR {note}")
                else:
                    print(
                        f"{phase:5s} {lib:9s} loop {loop:7.2f} s  process wall {wall:7.2f} s  cpu {cpu:7.2f} s  {note}",
                        flush=True,
                    )
        finally:
            for h in hogs:
                h.kill()
                h.wait()
    print("slowdown busy / idle (training loop wall time):")
    for lib in libs:
        a, b = results.get(("idle", lib)), results.get(("busy", lib))
        if a and b and a[1] and b[1]:
            print(f"  {lib:9s} {b[1] / a[1]:6.2f}x   (idle {a[1]:.2f} s, busy {b[1]:.2f} s)")


if __name__ == "__main__":
    main()
