"""Hessian-vector products of an MLP loss, forward-over-reverse: tapegrad's ForwardAccumulator
around a GradientTape, against torch.func.jvp(torch.func.grad(f)) and jax.jvp(jax.grad(f)) (eager
and jitted), plus tapegrad's reverse-over-reverse and its forward mode with every JVP computed by
transposing the op's VJP ("double back"), to show what the explicit JVP rules save. Then single
primitives' JVPs, explicit rule vs double back. Every result is checked against tapegrad's
reverse-over-reverse HVP. One thread each, in one process; the variants take turns, and each one's
best round counts (the machine may be shared).

    python -m benchmarks.hvp [--batch 128] [--hidden 256] [--threads 1]
"""

import argparse
import os
import sys

if __package__:
    from ._common import import_peer, set_threads
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import import_peer, set_threads  # noqa: E402

import time  # noqa: E402

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402
from tapegrad import _core  # noqa: E402

N_IN, N_OUT = 784, 10


def make_data(batch, hidden, seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(N_IN, hidden), (hidden,), (hidden, N_OUT), (N_OUT,)]
    params = [(rng.standard_normal(s) * 0.05).astype(np.float32) for s in shapes]
    vs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    x = rng.standard_normal((batch, N_IN)).astype(np.float32)
    y = rng.integers(0, N_OUT, size=batch).astype(np.int64)
    return params, vs, x, y


def tg_loss(params, x, y):
    w1, b1, w2, b2 = params
    h = tg.tanh(tg.matmul(x, w1) + b1)
    logits = tg.matmul(h, w2) + b2
    return tg.reduce_mean(tg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def tg_hvp_fwd_rev(params, vs, x, y):
    with tg.autodiff.ForwardAccumulator(params, vs) as acc:
        with tg.GradientTape() as tape:
            tape.watch(params)
            loss = tg_loss(params, x, y)
        grads = tape.gradient(loss, params)
    return acc.jvp(grads)


def tg_hvp_rev_rev(params, vs, x, y):
    with tg.GradientTape() as outer:
        outer.watch(params)
        with tg.GradientTape() as inner:
            inner.watch(params)
            loss = tg_loss(params, x, y)
        grads = inner.gradient(loss, params)
        gv = tg.add_n([tg.reduce_sum(g * v) for g, v in zip(grads, vs)])
    return outer.gradient(gv, params)


def make_torch(torch):
    from torch.func import grad, jvp

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = torch.tanh(x @ w1 + b1)
        return torch.nn.functional.cross_entropy(h @ w2 + b2, y)

    def hvp(params, vs, x, y):
        return jvp(lambda p: grad(loss)(p, x, y), (params,), (vs,))[1]

    return hvp


def make_jax(jax):
    import jax.numpy as jnp

    def loss(params, x, y):
        w1, b1, w2, b2 = params
        h = jnp.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        logp = jax.nn.log_softmax(logits)
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def hvp(params, vs, x, y):
        return jax.jvp(lambda p: jax.grad(loss)(p, x, y), (params,), (vs,))[1]

    return hvp, jax.jit(hvp)


def interleaved_min(fns, rounds=7, min_time=0.05):
    """Seconds per call of each fn: the best of `rounds` rounds, the fns taking turns within each
    round (on a shared machine, load then hits them alike, and the minimum is the least disturbed)."""
    numbers = []
    for fn in fns:
        fn()  # warm up
        t0 = time.perf_counter()
        fn()
        numbers.append(max(1, int(min_time / max(time.perf_counter() - t0, 1e-9))))
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, (fn, number) in enumerate(zip(fns, numbers)):
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            best[i] = min(best[i], (time.perf_counter() - t0) / number)
    return best


def _with_double_back(fn):
    def run():
        _core._set_force_double_back(True)
        try:
            return fn()
        finally:
            _core._set_force_double_back(False)

    return run


def _close(got, want, name):
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-3, atol=2e-5, err_msg=name)


def bench_hvp(batch, hidden, threads):
    params_np, vs_np, x_np, y_np = make_data(batch, hidden)
    torch, jax = import_peer("torch"), import_peer("jax")
    set_threads(threads, torch=torch)
    params, vs = [tg.constant(p) for p in params_np], [tg.constant(v) for v in vs_np]
    x, y = tg.constant(x_np), tg.constant(y_np)
    want = [g.numpy() for g in tg_hvp_rev_rev(params, vs, x, y)]
    cases = []

    def run(name, fn, convert=lambda r: [np.asarray(t) for t in r]):
        _close(convert(fn()), want, name)
        cases.append((name, fn))

    as_numpy = lambda r: [t.numpy() for t in r]  # noqa: E731
    run("tapegrad fwd-over-rev", lambda: tg_hvp_fwd_rev(params, vs, x, y), as_numpy)
    run(
        "tapegrad fwd-over-rev, double back only",
        _with_double_back(lambda: tg_hvp_fwd_rev(params, vs, x, y)),
        as_numpy,
    )
    run("tapegrad rev-over-rev", lambda: tg_hvp_rev_rev(params, vs, x, y), as_numpy)
    if torch is not None:
        tp = tuple(torch.from_numpy(p) for p in params_np)
        tv = tuple(torch.from_numpy(v) for v in vs_np)
        tx, ty = torch.from_numpy(x_np), torch.from_numpy(y_np)
        torch_hvp = make_torch(torch)
        run("torch.func.jvp(grad)", lambda: torch_hvp(tp, tv, tx, ty), lambda r: [t.detach().numpy() for t in r])
    if jax is not None:
        jax.config.update("jax_platforms", "cpu")
        jp, jv = tuple(jax.numpy.asarray(p) for p in params_np), tuple(jax.numpy.asarray(v) for v in vs_np)
        jx, jy = jax.numpy.asarray(x_np), jax.numpy.asarray(y_np.astype(np.int32))
        jax_hvp, hvp_jit = make_jax(jax)
        run("jax.jvp(grad), eager", lambda: jax.block_until_ready(jax_hvp(jp, jv, jx, jy)))
        run("jax.jvp(grad), jit", lambda: jax.block_until_ready(hvp_jit(jp, jv, jx, jy)))
    times = interleaved_min([fn for _, fn in cases], min_time=0.1)
    rows = [(name, t) for (name, _), t in zip(cases, times)]
    return rows


OPS = {  # name: (function of (a, b), shapes)
    "matmul": (lambda a, b: tg.matmul(a, b), [(128, 256), (256, 256)]),
    "add": (lambda a, b: a + b, [(128, 256), (256,)]),
    "mul": (lambda a, b: a * b, [(128, 256), (128, 256)]),
    "tanh": (lambda a, b: tg.tanh(a), [(128, 256), (1,)]),
    "softmax": (lambda a, b: tg.nn.softmax(a), [(128, 256), (1,)]),
    "reduce_sum": (lambda a, b: tg.reduce_sum(a, axis=1), [(128, 256), (1,)]),
}


def bench_ops():
    rng = np.random.default_rng(0)
    rows = []
    for name, (fn, shapes) in OPS.items():
        args = [tg.constant(rng.standard_normal(s).astype(np.float32)) for s in shapes]
        tans = [tg.constant(rng.standard_normal(s).astype(np.float32)) for s in shapes]

        def jvp():
            with tg.autodiff.ForwardAccumulator(args, tans) as acc:
                out = fn(*args)
            return acc.jvp(out)

        explicit_value = jvp().numpy()
        double = _with_double_back(jvp)
        np.testing.assert_allclose(double().numpy(), explicit_value, rtol=1e-4, atol=1e-4)
        t_explicit, t_double = interleaved_min([jvp, double])
        rows.append((name, t_explicit, t_double))
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args(argv)
    print(
        f"HVP of an MLP loss ({N_IN}-{a.hidden}-{N_OUT}, tanh, sparse softmax cross-entropy, batch {a.batch}), "
        f"float32, {a.threads} thread(s); every result checked against tapegrad's reverse-over-reverse"
    )
    rows = bench_hvp(a.batch, a.hidden, a.threads)
    base = rows[0][1]
    print(f"{'':42s} {'ms':>9s} {'vs tapegrad fwd-over-rev':>26s}")
    for name, t in rows:
        print(f"{name:42s} {t * 1e3:9.3f} {t / base:25.2f}x")
    print("\nJVP of one primitive inside an accumulator (forward + tangent), explicit rule vs double back")
    print(f"{'op':12s} {'explicit us':>12s} {'double back us':>15s} {'saved':>7s}")
    for name, te, td in bench_ops():
        print(f"{name:12s} {te * 1e6:12.1f} {td * 1e6:15.1f} {1 - te / td:7.0%}")


if __name__ == "__main__":
    main()
