"""Optimizer step benchmark: tapegrad's fused multi-tensor kernels against PyTorch (for-loop,
foreach, fused=True on CPU), Keras 3 (TensorFlow backend) and numpy, with a 7-stream copy probe
(read 4 arrays, write 3: Adam's memory traffic with no math) as the bandwidth roof.

Workloads: one 10,000,000-element float32 variable, and 200 variables of 50,000 elements.
Every peer runs in this process with the same thread count and the same data; implementations are
timed round-robin (each round times every implementation), and the median over rounds is
reported, because memory bandwidth on these machines drifts between levels over minutes.

    python benchmarks/optimizer_step.py [--threads 2] [--rounds 15] [--steps 3] [--quick]

Budget (benchmarks/README.md, the `adam` row): tapegrad Adam on 10M float32 at most 0.8x the time of PyTorch
fused=True Adam, and at least 90% of the probe's bandwidth.
"""

import os

# Benchmarks unset these for every peer (see benchmarks/README.md), before numpy/torch load OpenBLAS.
for _k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
    os.environ.pop(_k, None)
# Peers are timed round-robin; OpenMP threads that spin after a parallel region would steal the
# cores from whichever implementation runs next, so PyTorch's OpenMP waits passively.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402

BYTES = {"adam": 28, "sgd_momentum": 20, "rmsprop": 20}  # bytes moved per element and step


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--steps", type=int, default=3, help="steps per timed sample")
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--no-peers", action="store_true")
    return ap.parse_args()


def try_import(name):
    try:
        return __import__(name)
    except Exception:  # noqa: BLE001 - a missing or broken peer is skipped
        return None


# --- implementations: each returns step() over fresh state of the given sizes ------------------
def make_data(sizes, seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(n).astype(np.float32) for n in sizes]
    grads = [(rng.standard_normal(n) * 0.1).astype(np.float32) for n in sizes]
    return params, grads


def tg_impl(kind, sizes):
    params, grads = make_data(sizes)
    vs = [tg.Variable(p, name=f"v{i}") for i, p in enumerate(params)]
    gs = [tg.constant(g) for g in grads]
    opt = {
        "adam": lambda: tg.keras.optimizers.Adam(learning_rate=1e-3),
        "sgd_momentum": lambda: tg.keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
        "rmsprop": lambda: tg.keras.optimizers.RMSprop(learning_rate=1e-3),
    }[kind]()
    pairs = list(zip(gs, vs))
    opt.apply_gradients(pairs)  # build
    return lambda: opt.apply_gradients(pairs)


def probe_impl(sizes):
    n = sum(sizes)
    a, b, c, d = (np.full(n, x, np.float32) for x in (1.0, 2.0, 3.0, 4.0))
    return lambda: tg._core._copy_probe(a, b, c, d)


def torch_impl(torch, kind, sizes, mode):
    params, grads = make_data(sizes)
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = torch.tensor(g)
    flags = {"for-loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[mode]
    if kind == "adam":
        opt = torch.optim.Adam(ps, lr=1e-3, eps=1e-7, **flags)
    elif kind == "sgd_momentum":
        opt = torch.optim.SGD(ps, lr=1e-3, momentum=0.9, **flags)
    else:
        if mode == "fused":
            return None
        opt = torch.optim.RMSprop(ps, lr=1e-3, alpha=0.9, eps=1e-7, **flags)
    opt.step()
    return opt.step


def keras_impl(keras, kind, sizes):
    params, grads = make_data(sizes)
    vs = [keras.Variable(p) for p in params]
    gs = [keras.ops.convert_to_tensor(g) for g in grads]
    opt = {
        "adam": lambda: keras.optimizers.Adam(learning_rate=1e-3),
        "sgd_momentum": lambda: keras.optimizers.SGD(learning_rate=1e-3, momentum=0.9),
        "rmsprop": lambda: keras.optimizers.RMSprop(learning_rate=1e-3),
    }[kind]()
    opt.apply_gradients(zip(gs, vs))
    return lambda: opt.apply_gradients(zip(gs, vs))


def numpy_impl(kind, sizes):
    """Keras's rules in numpy, in place with out= (no temporaries beyond one scratch per variable)."""
    params, grads = make_data(sizes)
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    tmp = [np.empty_like(p) for p in params]
    state = {"t": 0}
    lr, b1, b2, eps, mu, rho = 1e-3, 0.9, 0.999, 1e-7, 0.9, 0.9

    def adam():
        state["t"] += 1
        t = state["t"]
        alpha = np.float32(lr * np.sqrt(1 - b2**t) / (1 - b1**t))
        for p, g, mi, vi, s in zip(params, grads, m, v, tmp):
            np.subtract(g, mi, out=s)
            s *= np.float32(1 - b1)
            mi += s
            np.multiply(g, g, out=s)
            s -= vi
            s *= np.float32(1 - b2)
            vi += s
            np.sqrt(vi, out=s)
            s += np.float32(eps)
            np.divide(mi, s, out=s)
            s *= alpha
            p -= s

    def sgd():
        for p, g, mi, s in zip(params, grads, m, tmp):
            mi *= np.float32(mu)
            np.multiply(g, np.float32(lr), out=s)
            mi -= s
            p += mi

    def rmsprop():
        for p, g, vi, s in zip(params, grads, v, tmp):
            vi *= np.float32(rho)
            np.multiply(g, g, out=s)
            s *= np.float32(1 - rho)
            vi += s
            np.add(vi, np.float32(eps), out=s)
            np.sqrt(s, out=s)
            np.divide(g, s, out=s)
            s *= np.float32(lr)
            p -= s

    return {"adam": adam, "sgd_momentum": sgd, "rmsprop": rmsprop}[kind]


# --- timing -------------------------------------------------------------------------------------
def bench(impls, rounds, steps):
    """Round-robin: each round times `steps` calls of every implementation; (median, best) per step (s)."""
    samples = {label: [] for label, _ in impls}
    for fn in (f for _, f in impls):
        fn()  # warm-up
    for _ in range(rounds):
        for label, fn in impls:
            t0 = time.perf_counter()
            for _ in range(steps):
                fn()
            samples[label].append((time.perf_counter() - t0) / steps)
    return {label: (statistics.median(s), min(s)) for label, s in samples.items()}


def main():
    args = parse()
    tg.config.set_num_threads(args.threads)
    torch = None if args.no_peers else try_import("torch")
    if torch is not None:
        torch.set_num_threads(args.threads)
    keras = None
    if not args.no_peers:
        tf = try_import("tensorflow")
        if tf is not None:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(args.threads)
                tf.config.threading.set_inter_op_parallelism_threads(args.threads)
            except RuntimeError:
                pass
            keras = try_import("keras")
    big = 10_000_000 if not args.quick else 200_000
    many = (200, 50_000) if not args.quick else (20, 5_000)
    workloads = [(f"1 x {big:,}", [big]), (f"{many[0]} x {many[1]:,}", [many[1]] * many[0])]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"cpus={os.cpu_count()} load={load:.1f} threads={args.threads} rounds={args.rounds} steps/sample={args.steps} "
        f"torch={'yes ' + torch.__version__ if torch else 'no'} keras={'yes ' + keras.__version__ if keras else 'no'}"
    )
    summary = []
    for wname, sizes in workloads:
        n = sum(sizes)
        for kind in ("adam", "sgd_momentum", "rmsprop"):
            impls = [("probe (7 streams)", probe_impl(sizes)), ("tapegrad", tg_impl(kind, sizes))]
            if torch is not None:
                for mode in ("for-loop", "foreach", "fused"):
                    fn = torch_impl(torch, kind, sizes, mode)
                    if fn is not None:
                        impls.append((f"torch {mode}", fn))
            if keras is not None and kind == "adam":
                impls.append(("keras 3 (tf)", keras_impl(keras, kind, sizes)))
            impls.append(("numpy", numpy_impl(kind, sizes)))
            slow = {"keras 3 (tf)", "numpy", "torch for-loop"}
            fast = [(lbl, f) for lbl, f in impls if lbl not in slow]
            res = bench(fast, args.rounds, args.steps)
            rest = [(lbl, f) for lbl, f in impls if lbl in slow]
            if rest:
                res.update(bench(rest, max(3, args.rounds // 2), max(1, args.steps // 3)))
            best = {k: v[1] for k, v in res.items()}
            res = {k: v[0] for k, v in res.items()}
            probe_t = res["probe (7 streams)"]
            ref_t = res.get("torch fused")
            nbytes = BYTES[kind] * n
            print(f"\n{kind} step, {wname} float32 elements ({BYTES[kind]} bytes/element moved)")
            print(f"  {'implementation':<20}{'ms/step':>10}{'(best)':>9}{'GB/s':>9}{'% probe':>9}{'x torch fused':>15}")
            for label, _ in impls:
                t = res[label]
                gbs = (28 * n if label.startswith("probe") else nbytes) / t / 1e9
                pct = (
                    100
                    * (28 * n / probe_t / 1e9 if label.startswith("probe") else nbytes / t / 1e9)
                    / (28 * n / probe_t / 1e9)
                )
                ratio = f"{t / ref_t:.2f}x" if ref_t else "-"
                print(f"  {label:<20}{t * 1e3:>10.3f}{best[label] * 1e3:>9.3f}{gbs:>9.1f}{pct:>8.0f}%{ratio:>15}")
            if kind == "adam":
                summary.append((wname, res["tapegrad"], probe_t, ref_t, n))
            del impls, fast, rest
    print("\nBudget (Adam): tapegrad <= 0.8x torch fused time and >= 90% of the probe's bandwidth")
    for wname, t, probe_t, ref_t, n in summary:
        frac = (28 * n / t) / (28 * n / probe_t)
        vs = f"{t / ref_t:.2f}x torch fused" if ref_t else "torch not installed"
        print(f"  {wname}: {t * 1e3:.3f} ms, {vs}, {100 * frac:.0f}% of probe bandwidth")


if __name__ == "__main__":
    main()
