"""Embedding training step with sparse gradients: tapegrad's tf.IndexedSlices path against a
densified gradient, and PyTorch's nn.Embedding(sparse=True) + SparseAdam and dense Adam.

One step = look up a batch of ids in a float32 table (default 1,000,000 x 64), loss = sum of
squares of the looked-up rows, backward, optimizer update. Reported per implementation: the median
step time and the median update time alone. The table size is then varied (--scaling) with the
batch fixed, to show what each step costs: O(rows touched) or O(table).

Semantics differ: Keras 3's Adam on an IndexedSlices gradient decays m and v on every row (its
`m += (g - m) * (1 - beta_1)` densifies g); tapegrad gives Keras's numbers but visits only rows
whose m, v are nonzero (a zero row is a fixed point), i.e. the rows touched so far, so its cost
grows with the rows seen, not with the table. PyTorch's SparseAdam is "lazy" Adam (only this
batch's rows move: different numbers). SGD and Adagrad scatter in Keras: O(rows touched).

    python -m benchmarks.embedding_sparse [--rows 1000000] [--dim 64] [--batch 256] [--steps 20]
                                          [--threads 2] [--no-torch] [--quick]
"""

import os
import sys

if not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Timed one after another: OpenMP threads that spin after a parallel region would steal the cores
# from whichever implementation runs next, so PyTorch's OpenMP waits passively.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import benchmarks._common as _common  # noqa: E402,I001  (unsets the OpenBLAS variables before numpy loads)

import argparse  # noqa: E402
import gc  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402


def parse(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=20, help="timed steps per implementation")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--no-scaling", action="store_true", help="skip the table-size sweep")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    return ap.parse_args(argv)


def batches(rows, batch, n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, rows, size=batch).astype(np.int64) for _ in range(n)]


def table(rows, dim, seed=1):
    return np.random.default_rng(seed).standard_normal((rows, dim), dtype=np.float32) * 0.01


# --- implementations: each returns (step, update_only) closures over fresh state ---------------
def tg_impl(opt_name, rows, dim, sparse):
    emb = tg.Variable(table(rows, dim), name="embeddings")
    opt = getattr(tg.keras.optimizers, opt_name)(learning_rate=1e-3)
    opt.build([emb])

    def grad(ids):
        with tg.GradientTape() as tape:
            e = tg.nn.embedding_lookup(emb, ids)
            loss = tg.reduce_sum(e * e)
        g = tape.gradient(loss, emb)
        return g if sparse else tg.convert_to_tensor(g)

    def step(ids):
        opt.apply([grad(ids)], [emb])

    def update(ids, g=None):
        opt.apply([g], [emb])

    return step, update, grad


def torch_impl(torch, opt_name, rows, dim, sparse):
    emb = torch.nn.Embedding(rows, dim, sparse=sparse)
    with torch.no_grad():
        emb.weight.copy_(torch.from_numpy(table(rows, dim)))
    if opt_name == "Adam":
        opt = (
            torch.optim.SparseAdam(emb.parameters(), lr=1e-3) if sparse else torch.optim.Adam(emb.parameters(), lr=1e-3)
        )
    elif opt_name == "SGD":
        opt = torch.optim.SGD(emb.parameters(), lr=1e-3)
    else:
        opt = torch.optim.Adagrad(emb.parameters(), lr=1e-3)

    def grad(ids):
        opt.zero_grad(set_to_none=True)
        e = emb(torch.from_numpy(ids))
        (e * e).sum().backward()
        return emb.weight.grad

    def step(ids):
        grad(ids)
        opt.step()

    def update(ids, g=None):
        opt.step()

    return step, update, grad


def time_impl(make, ids_list, steps):
    """Median seconds of a whole step and of the update alone (gradient computed untimed first)."""
    step, update, grad = make()
    step(ids_list[0])  # warm-up: slots, caches
    t_step = []
    for ids in ids_list[1 : steps + 1]:
        t0 = time.perf_counter()
        step(ids)
        t_step.append(time.perf_counter() - t0)
    t_upd = []
    for ids in ids_list[1 : steps + 1]:
        g = grad(ids)
        t0 = time.perf_counter()
        update(ids, g)
        t_upd.append(time.perf_counter() - t0)
    del step, update, grad
    gc.collect()
    return statistics.median(t_step), statistics.median(t_upd)


def fmt(s):
    return _common.format_time(s)


def main(argv=None):
    a = parse(argv)
    if a.quick:
        a.rows, a.steps = 20_000, 5
    torch = None if a.no_torch else _common.import_peer("torch")
    _common.set_threads(a.threads, torch=torch)
    ids_list = batches(a.rows, a.batch, a.steps + 1)
    print(
        f"Embedding {a.rows:,} x {a.dim} float32, batches of {a.batch} ids, {a.threads} threads, "
        f"median of {a.steps} steps"
    )
    impls = [
        ("tapegrad Adam, IndexedSlices (Keras numbers; rows with state)", lambda: tg_impl("Adam", a.rows, a.dim, True)),
        ("tapegrad Adam, densified gradient", lambda: tg_impl("Adam", a.rows, a.dim, False)),
        ("tapegrad SGD, IndexedSlices (rows touched only)", lambda: tg_impl("SGD", a.rows, a.dim, True)),
        ("tapegrad SGD, densified gradient", lambda: tg_impl("SGD", a.rows, a.dim, False)),
        ("tapegrad Adagrad, IndexedSlices (rows touched only)", lambda: tg_impl("Adagrad", a.rows, a.dim, True)),
        ("tapegrad Adagrad, densified gradient", lambda: tg_impl("Adagrad", a.rows, a.dim, False)),
    ]
    if torch is not None:
        impls += [
            (
                "torch nn.Embedding(sparse=True) + SparseAdam (lazy Adam)",
                lambda: torch_impl(torch, "Adam", a.rows, a.dim, True),
            ),
            ("torch nn.Embedding + Adam (dense)", lambda: torch_impl(torch, "Adam", a.rows, a.dim, False)),
            ("torch nn.Embedding(sparse=True) + SGD", lambda: torch_impl(torch, "SGD", a.rows, a.dim, True)),
            ("torch nn.Embedding(sparse=True) + Adagrad", lambda: torch_impl(torch, "Adagrad", a.rows, a.dim, True)),
        ]
    else:
        print("(PyTorch not installed: its rows are skipped)")
    width = max(len(n) for n, _ in impls)
    print(f"{'implementation':<{width}}  {'step':>10}  {'update':>10}")
    for name, make in impls:
        ts, tu = time_impl(make, ids_list, a.steps)
        print(f"{name:<{width}}  {fmt(ts):>10}  {fmt(tu):>10}", flush=True)
    if a.no_scaling:
        return
    # The same batch on tables 10x apart: O(rows touched) keeps the update time, O(table) scales it.
    small = max(a.rows // 10, a.batch)
    print(f"\nUpdate time vs table size (same {a.batch}-id batches): {small:,} rows -> {a.rows:,} rows")
    sweep = [
        ("tapegrad SGD, IndexedSlices", "SGD"),
        ("tapegrad Adagrad, IndexedSlices", "Adagrad"),
        ("tapegrad Adam, IndexedSlices", "Adam"),
    ]
    for name, opt in sweep:
        times = []
        for rows in (small, a.rows):
            ids = batches(rows, a.batch, a.steps + 1)
            times.append(time_impl(lambda rows=rows, opt=opt: tg_impl(opt, rows, a.dim, True), ids, a.steps)[1])
        print(f"{name:<{width}}  {fmt(times[0]):>10} -> {fmt(times[1]):>10}  (x{times[1] / times[0]:.1f})", flush=True)
    if torch is not None:
        times = []
        for rows in (small, a.rows):
            ids = batches(rows, a.batch, a.steps + 1)
            times.append(time_impl(lambda rows=rows: torch_impl(torch, "Adam", rows, a.dim, True), ids, a.steps)[1])
        name = "torch SparseAdam"
        print(f"{name:<{width}}  {fmt(times[0]):>10} -> {fmt(times[1]):>10}  (x{times[1] / times[0]:.1f})", flush=True)


if __name__ == "__main__":
    main()
