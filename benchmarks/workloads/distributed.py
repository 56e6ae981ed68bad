"""Data parallelism over MPI (tapegrad.distribute). The suite process launches ``mpiexec`` itself:

- MLP and CNN training steps (the suite's models, batch per rank as in mlp/cnn) on 1 rank x 1
  thread and on 2 ranks x 1 thread: throughput (examples/s over all ranks) and scaling efficiency;
- (one 2-rank job) allreduce bandwidth by message size, ``hvd.allreduce`` on a tensor against raw mpi4py
  ``Allreduce`` on numpy arrays, interleaved in one run (our overhead);
- (the same job) backward + allreduce of a 4-layer 1024-wide MLP's gradients (16 MiB in 4 MiB buckets) with and
  without overlap, beside the backward alone and the allreduces alone: how much of the
  communication the overlap hides.

Each measurement runs in the child, ``python -m benchmarks.workloads.distributed --child WHAT``,
under ``mpiexec -n N``; rank 0 prints one JSON line."""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np

from . import cnn, mlp

NAME = "distributed"
OWN_PROCESSES = True  # runs each library in a child of its own: the suite runs it in its parent
TITLE = "data-parallel training over MPI (tapegrad.distribute)"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# --- the child (runs under mpiexec) ---------------------------------------------------------------------
def _median_times(fn, steps, warmup, hvd):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        hvd.barrier()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    # every rank's median; the job is as slow as its slowest rank
    return max(hvd.allgather_object(float(np.median(times))))


def _interleaved_medians(fns, steps, hvd):
    """Median seconds of each fn, the fns taking turns (so that a busy phase of the machine hits
    them all alike); the slowest rank's median."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(steps):
        for k, fn in fns.items():
            hvd.barrier()
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    meds = hvd.allgather_object({k: float(np.median(v)) for k, v in times.items()})
    return {k: max(m[k] for m in meds) for k in fns}


def _train_step(tg, hvd, model, smoke, raw=False):
    if model == "mlp":
        params, x, y = mlp.make_data((20, 16, 16, 10), 8) if smoke else mlp.make_data()
    else:
        params, x, y = cnn.make_data(batch=8, hw=8, channels=4) if smoke else cnn.make_data()
    ws = [tg.Variable(p) for p in params]
    xt, yt = tg.constant(x), tg.constant(y)
    opt = tg.keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = mlp.tapegrad_loss(tg, yt)

    def forward():
        if model == "mlp":
            h = xt
            for i in range(0, len(ws) - 2, 2):
                h = tg.nn.relu(tg.matmul(h, ws[i]) + ws[i + 1])
            return loss_fn(tg.matmul(h, ws[-2]) + ws[-1])
        h = tg.nn.relu(tg.nn.conv2d(xt, ws[0], strides=1, padding="SAME") + ws[1])
        h = tg.reshape(h, [x.shape[0], -1])
        return loss_fn(tg.matmul(h, ws[2]) + ws[3])

    def step():
        with tg.GradientTape() as tape:
            loss = forward()
        tape = hvd.DistributedGradientTape(tape)
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))
        return loss

    if not raw:
        return step, x.shape[0]
    # the floor: the plain tape, then the gradients packed by hand into one numpy buffer and
    # all-reduced with mpi4py (no check, no thread, no fresh output tensors)
    from mpi4py import MPI

    buf = np.zeros(sum(p.size for p in params), np.float32)

    def raw_step():
        with tg.GradientTape() as tape:
            loss = forward()
        grads = tape.gradient(loss, ws)
        off = 0
        for g in grads:
            a = g._array_view().reshape(-1)
            buf[off : off + a.size] = a
            off += a.size
        MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, buf)
        np.multiply(buf, np.float32(1 / MPI.COMM_WORLD.Get_size()), out=buf)
        off, out = 0, []
        for g in grads:
            out.append(tg.constant(buf[off : off + g.shape.num_elements()].reshape(tuple(g.shape))))
            off += g.shape.num_elements()
        opt.apply_gradients(zip(out, ws))
        return loss

    return raw_step, x.shape[0]


def child_step(model, steps, smoke, raw=False):
    import tapegrad as tg
    import tapegrad.distribute as hvd

    tg.config.set_num_threads(1)
    hvd.init()
    step, batch = _train_step(tg, hvd, model, smoke, raw)
    seconds = _median_times(step, steps, 3, hvd)
    return {"ranks": hvd.size(), "seconds": seconds, "examples": batch * hvd.size()}


def child_bandwidth(sizes, reps):
    from mpi4py import MPI

    import tapegrad as tg
    import tapegrad.distribute as hvd

    tg.config.set_num_threads(1)
    hvd.init()
    comm = MPI.COMM_WORLD
    out = []
    for nbytes in sizes:
        n = nbytes // 4
        a = np.random.default_rng(hvd.rank()).standard_normal(n).astype(np.float32)
        b = np.empty_like(a)
        t = tg.constant(a)
        ours = hvd.allreduce(t, op=hvd.Sum).numpy()
        comm.Allreduce(a, b)
        assert np.array_equal(ours, b), "hvd.allreduce differs from mpi4py's Allreduce"
        raw_t, our_t, check_t, py_t = [], [], [], []
        eng = hvd._engine_state
        native = eng.native  # None where the MPI library was not found: both columns then time the Python path
        for _ in range(reps):  # interleaved, so that a slow phase of the machine hits all alike
            comm.Barrier()
            t0 = time.perf_counter()
            comm.Allreduce(a, b)
            raw_t.append(time.perf_counter() - t0)
            comm.Barrier()
            t0 = time.perf_counter()
            result = hvd.allreduce(t, op=hvd.Sum)
            our_t.append(time.perf_counter() - t0)
            del result  # (releasing a tensor is the allocator's business, not the allreduce's)
            comm.Barrier()
            # the Python path (mpi4py for the check and the data), as before Note [Native collectives]
            eng.native = None
            t0 = time.perf_counter()
            result = hvd.allreduce(t, op=hvd.Sum)
            py_t.append(time.perf_counter() - t0)
            eng.native = native
            del result
            comm.Barrier()
            t0 = time.perf_counter()
            with eng.lock:
                eng.check(("bench", nbytes), "bench")  # the cross-rank check alone
            check_t.append(time.perf_counter() - t0)
        meds = hvd.allgather_object([float(np.median(x)) for x in (raw_t, our_t, check_t, py_t)])
        raw, ours, check, python_path = (max(m[k] for m in meds) for k in range(4))
        out.append({"bytes": nbytes, "raw": raw, "ours": ours, "check": check, "python": python_path})
    return {"ranks": hvd.size(), "sizes": out}


def child_overlap(steps, smoke):
    import tapegrad as tg
    import tapegrad.distribute as hvd

    tg.config.set_num_threads(1)
    width, layers, batch = (64, 4, 16) if smoke else (1024, 4, 64)
    hvd.init()
    eng = hvd._engine_state
    eng.fusion_threshold = width * width * 4  # one bucket per layer's gradient
    rng = np.random.default_rng(0)
    ws = [tg.Variable((rng.standard_normal((width, width)) / np.sqrt(width)).astype(np.float32)) for _ in range(layers)]
    x = tg.constant(rng.standard_normal((batch, width)).astype(np.float32))

    def tape_and_loss():
        with tg.GradientTape() as tape:
            h = x
            for w in ws:
                h = tg.nn.relu(tg.matmul(h, w))
            loss = tg.reduce_sum(h * h)
        return tape, loss

    def backward_only():
        tape, loss = tape_and_loss()
        tape.gradient(loss, ws)

    def with_reduce(overlap):
        def run():
            eng.overlap = overlap
            tape, loss = tape_and_loss()
            hvd.DistributedGradientTape(tape).gradient(loss, ws)

        return run

    grads = [tg.constant(rng.standard_normal(tuple(w.shape)).astype(np.float32)) for w in ws]

    def reduce_only():
        hvd.grouped_allreduce(grads)

    def forward_only():
        tape_and_loss()

    res = _interleaved_medians(
        {
            "forward": forward_only,
            "backward": backward_only,
            "allreduce": reduce_only,
            "no_overlap": with_reduce(False),
            "overlap": with_reduce(True),
        },
        steps,
        hvd,
    )
    res["ranks"], res["grad_mb"] = hvd.size(), layers * width * width * 4 / 2**20
    eng.overlap = True
    res["buckets"] = len(
        hvd._gradients._GradientReduction(
            eng, ws, hvd.Average, hvd.Compression.none, 1.0, 1.0, set(), True, None
        ).buckets
    )
    return res


# --- the suite side ----------------------------------------------------------------------------------------
def _launch(ctx, n, what, args, timeout=600):
    cmd = ["mpiexec", "-n", str(n), sys.executable, "-m", "benchmarks.workloads.distributed", "--child", what] + args
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p),
        OPENBLAS_NUM_THREADS="1",
    )
    ctx.progress.describe(f"distributed: {what} on {n} rank(s)")
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:4])} {what} failed (exit {proc.returncode}): "
            + (proc.stderr.strip().splitlines() or ["no output"])[-1][:300]
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def missing():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py (pip install 'tapegrad[mpi]')"
    if shutil.which("mpiexec") is None:
        return "mpiexec on PATH"
    return mlp.missing_tapegrad()


def run(ctx):
    why = missing()
    if why:
        ctx.skip("", "tapegrad", f"needs {why}")
        return
    smoke = ["--smoke"] if ctx.smoke else []
    steps = str(ctx.pick(30, quick=15, smoke=2))
    # 1. training steps, 1 rank x 1 thread against 2 ranks x 1 thread
    rows = []
    for model in ("mlp",) if ctx.smoke else ("mlp", "cnn"):
        try:
            one = _launch(ctx, 1, "step", ["--model", model, "--steps", steps] + smoke)
            two = _launch(ctx, 2, "step", ["--model", model, "--steps", steps] + smoke)
            floor = _launch(ctx, 2, "step", ["--model", model, "--steps", steps, "--raw"] + smoke)
        except Exception as e:  # noqa: BLE001
            ctx.skip(f"{model} step", "tapegrad", str(e))
            continue
        tp1, tp2 = one["examples"] / one["seconds"], two["examples"] / two["seconds"]
        speedup = tp2 / tp1
        raw_speedup = floor["examples"] / floor["seconds"] / tp1
        rows.append(
            (
                model.upper(),
                f"{one['seconds'] * 1e3:.2f}",
                f"{two['seconds'] * 1e3:.2f}",
                f"{tp1:,.0f}",
                f"{tp2:,.0f}",
                f"{speedup:.2f}x",
                f"{speedup / 2:.0%}",
                f"{floor['seconds'] * 1e3:.2f} ms, {raw_speedup:.2f}x",
            )
        )
        ctx._row(f"{model.upper()} step, 1 rank x 1 thread", "tapegrad", one["seconds"], "", "ok")
        ctx._row(
            f"{model.upper()} step, 2 ranks x 1 thread",
            "tapegrad",
            two["seconds"],
            f"{speedup:.2f}x the 1-rank throughput",
            "ok",
        )
        if model == "mlp":
            ctx.budget_result(
                "MLP step, 2 ranks x 1 thread",
                "2 ranks x 1 thread give >= 1.8x the MLP throughput of 1 rank x 1 thread",
                f"measured {speedup:.2f}x",
                speedup >= 1.8,
            )
    if rows:
        ctx.table(
            "Data-parallel training steps (batch per rank as in the mlp/cnn workloads; Adam)",
            [
                "model",
                "1 rank: ms/step",
                "2 ranks: ms/step",
                "1 rank: examples/s",
                "2 ranks: examples/s",
                "speedup",
                "scaling efficiency",
                "2 ranks, plain tape + raw mpi4py Allreduce",
            ],
            rows,
        )
    # 2. allreduce bandwidth against raw mpi4py
    sizes = [2**12, 2**16, 2**20, 2**22, 2**24] if not ctx.smoke else [2**12, 2**20]
    try:
        both = _launch(
            ctx,
            2,
            "comm",
            [
                "--sizes",
                ",".join(map(str, sizes)),
                "--reps",
                str(ctx.pick(41, quick=21, smoke=3)),
                "--steps",
                str(ctx.pick(15, quick=9, smoke=2)),
            ]
            + smoke,
        )
    except Exception as e:  # noqa: BLE001
        ctx.skip("allreduce bandwidth and overlap", "tapegrad", str(e))
        return
    bw, ov = both["bandwidth"], both["overlap"]
    rows, worst = [], 0.0
    for s in bw["sizes"]:
        over = s["ours"] / s["raw"] - 1
        if s["bytes"] >= 2**20:
            worst = max(worst, over)
        rows.append(
            (
                _size_text(s["bytes"]),
                f"{s['raw'] * 1e6:.0f}",
                f"{s['ours'] * 1e6:.0f}",
                f"{s['bytes'] / s['raw'] / 1e9:.2f}",
                f"{s['bytes'] / s['ours'] / 1e9:.2f}",
                f"{over:+.1%}",
                f"{s['check'] * 1e6:.0f}",
                f"{s['python'] * 1e6:.0f} ({s['python'] / s['raw'] - 1:+.1%})",
            )
        )
    ctx.table(
        "Allreduce (Sum, float32) on 2 ranks: hvd.allreduce on a tensor against mpi4py Allreduce on numpy "
        "(preallocated output)",
        [
            "message",
            "mpi4py us",
            "hvd us",
            "mpi4py GB/s",
            "hvd GB/s",
            "overhead",
            "the check alone (mpi4py) us",
            "hvd, Python path us (overhead)",
        ],
        rows,
    )
    ctx.budget_result(
        "allreduce >= 1 MB",
        "hvd.allreduce overhead over raw mpi4py Allreduce <= 5% for messages >= 1 MB",
        f"worst {worst:+.1%}",
        worst <= 0.05,
    )
    # 3. overlap
    comm = ov["no_overlap"] - ov["backward"]
    hidden = (ov["no_overlap"] - ov["overlap"]) / comm if comm > 0 else float("nan")
    ctx.table(
        f"Backward + allreduce, 4-layer MLP, {ov['grad_mb']:.0f} MiB of gradients in {ov['buckets']} "
        "buckets, 2 ranks x 1 thread (ms)",
        [
            "forward",
            "forward + backward",
            "allreduces alone",
            "fwd + bwd, then allreduce",
            "fwd + bwd overlapped",
            "communication hidden",
        ],
        [
            (
                f"{ov['forward'] * 1e3:.1f}",
                f"{ov['backward'] * 1e3:.1f}",
                f"{ov['allreduce'] * 1e3:.1f}",
                f"{ov['no_overlap'] * 1e3:.1f}",
                f"{ov['overlap'] * 1e3:.1f}",
                f"{hidden:.0%}",
            )
        ],
    )


def _size_text(n):
    return f"{n // 2**20} MiB" if n >= 2**20 else f"{n // 2**10} KiB"


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=("step", "comm"), required=True)
    ap.add_argument("--model", default="mlp")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--sizes", default="1048576")
    ap.add_argument("--reps", type=int, default=21)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--raw", action="store_true", help="step: plain tape + mpi4py Allreduce by hand")
    a = ap.parse_args()
    if a.child == "step":
        res = child_step(a.model, a.steps, a.smoke, a.raw)
    else:
        res = {
            "bandwidth": child_bandwidth([int(s) for s in a.sizes.split(",")], a.reps),
            "overlap": child_overlap(a.steps, a.smoke),
        }
    import tapegrad.distribute as hvd

    if hvd.rank() == 0:
        print(json.dumps(res), flush=True)
