"""Backward + allreduce of an embedding model with a large dense part on 2 ranks x 1 thread:
DistributedGradientTape(sparse_as_dense=False) with the sparse-keeping backward pass overlapped
(dense buckets reduced while the walk runs; Note [Sparse gradients across ranks]) against the
previous path (the whole backward pass first, then the reduction: SPARSE_OVERLAP off), beside the
forward alone, forward + backward, and the collectives alone. Medians of interleaved runs, the slowest rank's.

    python -m benchmarks.distributed_sparse_overlap [--steps 15] [--width 1024] [--layers 4]
                                                    [--rows 100000] [--dim 64] [--batch 64]
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def child(a):
    import tapegrad as tg
    import tapegrad.distribute as hvd
    from tapegrad.distribute import _gradients

    from .workloads.distributed import _interleaved_medians

    tg.config.set_num_threads(1)
    hvd.init()
    eng = hvd._engine_state
    eng.fusion_threshold = a.width * a.width * 4  # one bucket per dense layer's gradient
    rng = np.random.default_rng(hvd.rank())
    table = tg.Variable((0.1 * rng.standard_normal((a.rows, a.dim))).astype(np.float32), name="table")
    proj = tg.Variable((rng.standard_normal((a.dim, a.width)) / np.sqrt(a.dim)).astype(np.float32), name="proj")
    ws = [
        tg.Variable((rng.standard_normal((a.width, a.width)) / np.sqrt(a.width)).astype(np.float32), name=f"w{i}")
        for i in range(a.layers)
    ]
    sources = [table, proj, *ws]
    ids = tg.constant(rng.integers(0, a.rows, (a.batch, 8)).astype(np.int32))

    def tape_and_loss():
        with tg.GradientTape() as tape:
            h = tg.matmul(tg.reduce_mean(tg.gather(table, ids), axis=1), proj)
            for w in ws:
                h = tg.nn.relu(tg.matmul(h, w))
            loss = tg.reduce_sum(h * h)
        return tape, loss

    xd = tg.constant(rng.standard_normal((a.batch, a.dim)).astype(np.float32))

    def dense_reduced(overlap):  # the reference: the same dense part without the table (no sparse gradient)
        def run():
            eng.overlap = overlap
            try:
                with tg.GradientTape() as tape:
                    h = tg.matmul(xd, proj)
                    for w in ws:
                        h = tg.nn.relu(tg.matmul(h, w))
                    loss = tg.reduce_sum(h * h)
                hvd.DistributedGradientTape(tape).gradient(loss, sources[1:])
            finally:
                eng.overlap = True

        return run

    def forward():
        tape_and_loss()

    def backward():
        tape, loss = tape_and_loss()
        tape.gradient(loss, sources)

    def reduced(overlap):
        def run():
            _gradients.SPARSE_OVERLAP = overlap
            tape, loss = tape_and_loss()
            g = hvd.DistributedGradientTape(tape).gradient(loss, sources)
            assert isinstance(g[0], tg.IndexedSlices)

        return run

    tape, loss = tape_and_loss()
    grads = tape.gradient(loss, sources)

    def reduce_only():  # the collectives alone: the dense buckets, then the table's allgathers
        hvd.grouped_allreduce(grads[1:])
        hvd.allreduce(grads[0])

    fns = {
        "forward": forward,
        "backward": backward,
        "reduce_only": reduce_only,
        "whole_first": reduced(False),
        "overlapped": reduced(True),
        "dense_whole_first": dense_reduced(False),
        "dense_overlapped": dense_reduced(True),
    }
    before = dict(_gradients.counters)
    res = _interleaved_medians(fns, a.steps, hvd)  # one warm-up round, then a.steps timed rounds
    res["started_during_backward_per_step"] = (
        _gradients.counters["started_during_backward"] - before["started_during_backward"]
    ) / (a.steps + 1)
    res["dense_mib"] = (a.dim * a.width + a.layers * a.width * a.width) * 4 / 2**20
    res["ranks"] = hvd.size()
    if hvd.rank() == 0:
        print(json.dumps(res), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--rows", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    if a.child:
        return child(a)
    args = [f"--{k}={v}" for k, v in vars(a).items() if k != "child"]
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (REPO, env.get("PYTHONPATH")) if p)
    cmd = ["mpiexec", "-n", "2", sys.executable, "-m", "benchmarks.distributed_sparse_overlap", "--child", *args]
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    print(
        f"2 ranks x 1 thread, embedding {a.rows}x{a.dim} + {r['dense_mib']:.1f} MiB dense gradients "
        f"({a.layers + 1} buckets), medians of {a.steps} interleaved steps (ms):"
    )
    for k in ("forward", "backward", "reduce_only", "whole_first", "overlapped"):
        print(f"  {k:12s} {r[k] * 1e3:8.1f}")
    for k in ("dense_whole_first", "dense_overlapped"):
        print(f"  {k:12s} {r[k] * 1e3:8.1f}  (the dense part alone, no table: eng.overlap off / on)")
    comm = r["whole_first"] - r["backward"]
    hidden = (r["whole_first"] - r["overlapped"]) / comm if comm > 0 else float("nan")
    dense_gain = r["dense_whole_first"] - r["dense_overlapped"]
    print(f"  dense reference: overlap saves {dense_gain * 1e3:.1f} ms per step")
    print(
        f"  communication hidden: {hidden:.0%}; bucket reductions started during the walk per step: "
        f"{r['started_during_backward_per_step']:.1f}"
    )


if __name__ == "__main__":
    main()
