"""Input pipeline: one epoch over N rows x 784 float32 (1M rows in the full run) in batches of 128,
shuffled (buffer 10,000), mapped (x * 2) and prefetched, as rows per second.

    tapegrad  Dataset.from_tensor_slices(x).shuffle(10_000, seed=0).batch(128).map(lambda b: b * 2)
              .prefetch(AUTOTUNE)
    TF        the same tf.data pipeline
    PyTorch   DataLoader(TensorDataset(x), batch_size=128, shuffle=True), b * 2 in the loop
              (num_workers=0: worker processes would pickle every batch through a pipe); and the
              batched-sampler form (sampler=BatchSampler(RandomSampler), batch_size=None), which
              fetches a batch with one fancy index as tapegrad does.

Each library runs in its own child process (`python -m benchmarks.workloads.data --child LIB`), which
imports only that library, builds the data (column 0 holds the row number), runs one checking epoch
(every row exactly once, doubled) and then times whole epochs. PyTorch's shuffles are permutations
(TF's and tapegrad's 10,000-element buffer mixes only nearby rows): the work per row differs, which
is what users choose between.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

NAME = "data"
OWN_PROCESSES = True  # runs each library in a child of its own: the suite runs it in its parent
TITLE = "tf.data pipeline: shuffle + map + prefetch, batches of 128"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BATCH = 128
BUFFER = 10_000
LIBRARIES = {
    "tapegrad": None,
    "TF tf.data": "tf",
    "PyTorch DataLoader": "torch",
    "PyTorch DataLoader, batched sampler": "torch",
}


def make_data(rows, features):
    x = np.random.default_rng(0).random((rows, features), dtype=np.float32)
    x[:, 0] = np.arange(rows, dtype=np.float32)  # row numbers (exact in float32 below 2**24)
    return x


def _epoch_tapegrad(x, threads):
    import tapegrad as tg

    tg.config.set_num_threads(threads)
    ds = (
        tg.data.Dataset.from_tensor_slices(x)
        .shuffle(BUFFER, seed=0)
        .batch(BATCH)
        .map(lambda b: b * 2.0)
        .prefetch(tg.data.AUTOTUNE)
    )
    return lambda: iter(ds), lambda b: np.asarray(b)


def _epoch_tf(x, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    ds = (
        tf.data.Dataset.from_tensor_slices(x)
        .shuffle(BUFFER, seed=0)
        .batch(BATCH)
        .map(lambda b: b * 2.0)
        .prefetch(tf.data.AUTOTUNE)
    )
    return lambda: iter(ds), lambda b: b.numpy()


def _epoch_torch(x, threads, batched_sampler):
    import torch
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    data = TensorDataset(torch.from_numpy(x))
    if batched_sampler:
        loader = DataLoader(data, sampler=BatchSampler(RandomSampler(data), BATCH, drop_last=False), batch_size=None)
    else:
        loader = DataLoader(data, batch_size=BATCH, shuffle=True)

    def epoch():
        for (b,) in loader:
            yield b * 2.0

    return epoch, lambda b: b.numpy()


def child(library, rows, features, threads, epochs):
    x = make_data(rows, features)
    if library == "tapegrad":
        start, to_np = _epoch_tapegrad(x, threads)
    elif library == "TF tf.data":
        start, to_np = _epoch_tf(x, threads)
    else:
        start, to_np = _epoch_torch(x, threads, library.endswith("batched sampler"))
    seen = np.concatenate([to_np(b)[:, 0].copy() for b in start()]) / 2.0  # copies: no batch kept alive
    check = (
        "ok"
        if np.array_equal(np.sort(seen), np.arange(rows, dtype=np.float32))
        else (f"the epoch's rows are not a permutation ({len(seen)} rows seen, {len(np.unique(seen))} distinct)")
    )
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        count = 0
        for _batch in start():
            count += 1
        times.append(time.perf_counter() - t0)
    batches = -(-rows // BATCH)
    if count != batches:
        check = f"{count} batches in an epoch, expected {batches}"
    return {"library": library, "seconds": statistics.median(times), "batches": batches, "check": check}


def run(ctx):
    rows = ctx.pick(1_000_000, quick=100_000, smoke=2_000)
    features = 784
    epochs = ctx.pick(3, quick=2, smoke=1)
    case = f"{rows // 1000}k x {features} float32"
    libs = ["tapegrad"]
    if ctx.peer("tf") is not None:
        libs.append("TF tf.data")
    if ctx.peer("torch") is not None:
        libs += ["PyTorch DataLoader", "PyTorch DataLoader, batched sampler"]
    for lib in libs:
        ctx.progress.describe(f"data: {lib} (child process)")
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.workloads.data",
            "--child",
            lib,
            "--rows",
            str(rows),
            "--features",
            str(features),
            "--threads",
            str(ctx.threads),
            "--epochs",
            str(epochs),
        ]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
        proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1][:120]
            ctx._row(
                case, lib, None, f"ERROR child process (exit {proc.returncode}): {tail}", "error", detail=proc.stderr
            )
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        if r["check"] != "ok":
            ctx._row(case, lib, None, f"MISMATCH: {r['check']}", "mismatch")
            continue
        per_batch = r["seconds"] / r["batches"]
        ctx._row(case, lib, per_batch, f"per batch of {BATCH}; {rows / r['seconds'] / 1e6:.2f}M rows/s", "ok")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", choices=tuple(LIBRARIES), required=True)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--features", type=int, default=784)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    print(json.dumps(child(a.child, a.rows, a.features, a.threads, a.epochs)))
