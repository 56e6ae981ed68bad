"""Optimizer step alone: Adam (Keras defaults, lr 1e-3) on one 10M-element float32 variable and on
200 variables of 50k, with effective GB/s (Adam reads param, grad, m, v and writes param, m, v:
28 bytes per element) against copy probes run in the same process.

If benchmarks/optimizer_step.py (issue 4) defines `suite_rows(quick, threads)` returning dicts with
keys case, library, seconds and optionally gbps, its rows are shown instead of this module's.
"""

import importlib.util

import numpy as np

from .._common import build_or_raiser, tg_missing, to_numpy

NAME = "adam"
TITLE = "Adam step alone"
LR, BETA_1, BETA_2, EPS = 1e-3, 0.9, 0.999, 1e-7
BYTES_PER_ELEMENT = 28


def _external_rows(ctx):
    if importlib.util.find_spec(f"{__package__.rpartition('.')[0]}.optimizer_step") is None:
        return False
    try:
        from .. import optimizer_step
    except Exception as e:  # noqa: BLE001  (present but broken: say so, then measure here)
        ctx.skip("", "optimizer_step.py", f"could not be imported ({type(e).__name__}: {e}); measured here instead")
        return False
    fn = getattr(optimizer_step, "suite_rows", None)
    if not callable(fn):
        return False
    for r in fn(quick=ctx.quick or ctx.smoke, threads=ctx.threads):
        note = f"{r['gbps']:.1f} GB/s (from optimizer_step.py)" if r.get("gbps") else "from optimizer_step.py"
        ctx._row(r["case"], r["library"], r["seconds"], note, "ok")
    return True


def make_numpy(params, grads):
    ps = [p.copy() for p in params]
    ms, vs = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    tmp = np.empty(max(p.size for p in ps), np.float32)
    t = [0]

    def step():
        t[0] += 1
        alpha = np.float32(LR * np.sqrt(1 - BETA_2 ** t[0]) / (1 - BETA_1 ** t[0]))
        for p, g, m, v in zip(ps, grads, ms, vs):
            buf = tmp[: p.size].reshape(p.shape)
            np.subtract(g, m, out=buf)
            buf *= np.float32(1 - BETA_1)
            m += buf
            np.multiply(g, g, out=buf)
            buf -= v
            buf *= np.float32(1 - BETA_2)
            v += buf
            np.sqrt(v, out=buf)
            buf += np.float32(EPS)
            np.divide(m, buf, out=buf)
            buf *= alpha
            p -= buf
        return ps

    return step


def make_tapegrad(params, grads):
    import tapegrad as tg

    vs = [tg.Variable(p) for p in params]
    gs = [tg.constant(g) for g in grads]
    opt = tg.keras.optimizers.Adam(learning_rate=LR)

    def step():
        opt.apply_gradients(zip(gs, vs))
        return vs

    return step


def make_torch(torch, params, grads, impl):
    ps = [torch.tensor(p, requires_grad=True) for p in params]
    for p, g in zip(ps, grads):
        p.grad = torch.tensor(g)
    kwargs = {"for-loop": dict(foreach=False), "foreach": dict(foreach=True), "fused": dict(fused=True)}[impl]
    opt = torch.optim.Adam(ps, lr=LR, **kwargs)

    def step():
        opt.step()
        return ps

    return step


def make_tf(tf, params, grads):
    vs = [tf.Variable(p) for p in params]
    gs = [tf.constant(g) for g in grads]
    opt = tf.keras.optimizers.Adam(learning_rate=LR)

    def step():
        opt.apply_gradients(zip(gs, vs))
        return vs

    return step


def make_jax(jax, params, grads):
    import warnings

    jnp = jax.numpy

    def update(ps, ms, vs, t, gs):
        t = t + 1
        alpha = LR * jnp.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        ms = [m + (g - m) * (1 - BETA_1) for m, g in zip(ms, gs)]
        vs = [v + (g * g - v) * (1 - BETA_2) for v, g in zip(vs, gs)]
        ps = [p - alpha * m / (jnp.sqrt(v) + EPS) for p, m, v in zip(ps, ms, vs)]
        return ps, ms, vs, t

    jitted = jax.jit(update, donate_argnums=(0, 1, 2))
    state = [
        [jnp.asarray(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        jnp.zeros((), jnp.float32),
    ]
    gs = [jnp.asarray(g) for g in grads]

    def step():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            state[:] = jitted(*state, gs)
        jax.block_until_ready(state[0])
        return state[0]

    return step


def _first_last(ps):
    return [to_numpy(ps[0]), to_numpy(ps[-1])]


def _probes(ctx, case, n):
    """Copy probes with Adam's bytes (read p, g, m, v; write p, m, v: 28 bytes per element, no math)
    and a triad. Returns the GB/s of the one-pass probe, the budget's roof.

    The one-pass probe moves all seven streams in one loop, as a fused Adam step does: it is
    tapegrad's C++ (`_core._copy_probe`, on tapegrad's thread pool) because no peer has a one-pass
    7-stream kernel. The numpy and PyTorch probes move the same bytes in three passes of 3, 2 and 2
    streams (`add_`, `mul_`, `mul_`): shown for reference (on these VMs they run 4-40% slower than
    the one-pass probe)."""
    rng = np.random.default_rng(1)
    a, m, v = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    # written, not np.zeros: calloc'd pages that were never written all map the kernel's zero page,
    # and reading them costs no memory bandwidth (the probes read 4 bytes/element less than Adam)
    zero = np.empty(n, np.float32)
    zero.fill(0.0)

    def copy7_numpy():
        np.add(a, zero, out=a)
        np.multiply(m, np.float32(1), out=m)
        np.multiply(v, np.float32(1), out=v)

    if ctx.peer("numpy") is not None:
        ctx.bench(
            case, "copy probe, 7 streams in 3 passes (numpy, 1 thread)", copy7_numpy, bytes_moved=BYTES_PER_ELEMENT * n
        )
    torch = ctx.peer("torch")
    if torch is not None:
        ta, tm, tv, tz = (torch.from_numpy(x) for x in (a, m, v, zero))
        out = torch.empty(n)

        def copy7_torch():
            ta.add_(tz)
            tm.mul_(1.0)
            tv.mul_(1.0)

        ctx.bench(
            case,
            f"copy probe, 7 streams in 3 passes (torch, {ctx.threads} threads)",
            copy7_torch,
            bytes_moved=BYTES_PER_ELEMENT * n,
        )
        ctx.bench(
            case,
            f"triad a = b + s*c (torch, {ctx.threads} threads)",
            lambda: torch.add(tm, tv, alpha=0.5, out=out),
            bytes_moved=12 * n,
        )
    import tapegrad as tg

    t = ctx.bench(
        case,
        f"copy probe, 7 streams in 1 pass (tapegrad C++, {ctx.threads} threads)",
        lambda: tg._core._copy_probe(a, zero, m, v),
        bytes_moved=BYTES_PER_ELEMENT * n,
    )
    return BYTES_PER_ELEMENT * n / t if t else None


def run(ctx):
    if _external_rows(ctx):
        return
    rng = np.random.default_rng(0)
    shapes = ctx.pick([(1, 10_000_000), (200, 50_000)], quick=[(1, 10_000_000)], smoke=[(1, 1000), (3, 100)])
    if ctx.quick:
        ctx.skip("200 x 50,000", "(all)", "full run only (not in --quick)")
    no_adam = tg_missing("keras.optimizers.Adam")
    if no_adam:
        ctx.skip("", "tapegrad", f"needs {no_adam}: tapegrad has no time here, only the peers and probes")
    torch, tf, jax = ctx.peer("torch"), ctx.peer("tf"), ctx.peer("jax")
    for count, size in shapes:
        case = f"{count} x {size:,}" if count > 1 else f"{size:,} float32"
        params = [rng.standard_normal(size).astype(np.float32) for _ in range(count)]
        # |g| >= 0.5: PyTorch adds eps to sqrt(v_hat), Keras to sqrt(v); away from 0 that does not show
        grads = [(rng.uniform(0.5, 1.5, size) * rng.choice([-1, 1], size)).astype(np.float32) for _ in range(count)]
        builders = []
        if ctx.peer("numpy") is not None:
            builders.append(("numpy by hand", lambda: make_numpy(params, grads)))
        if not no_adam:
            builders.append(("tapegrad", lambda: make_tapegrad(params, grads)))
        if torch is not None:
            for impl in ("for-loop", "foreach", "fused"):
                builders.append((f"PyTorch Adam {impl}", lambda impl=impl: make_torch(torch, params, grads, impl)))
        if tf is not None:
            builders.append(("TF Keras Adam, eager", lambda: make_tf(tf, params, grads)))
        if jax is not None:
            builders.append(("JAX jit, donated", lambda: make_jax(jax, params, grads)))
        for library, build in builders:
            if not ctx.wants(library):  # measured in another process
                continue
            step = build_or_raiser(build)

            def three_steps(step=step):
                for _ in range(2):
                    step()
                return _first_last(step())

            ctx.bench(
                case,
                library,
                step,
                result=three_steps,
                rtol=1e-4,
                atol=1e-6,
                bytes_moved=BYTES_PER_ELEMENT * count * size,
            )
            del step, build
        roof = _probes(ctx, case, size) if count == 1 else None
        if count == 1:
            ctx.budget(case, "tapegrad <= 0.8x PyTorch fused=True", "PyTorch Adam fused", 0.8)
            t_tg = ctx.time_of(case, "tapegrad")
            text = "tapegrad >= 90% of the one-pass 7-stream copy probe's GB/s"
            if t_tg is None or roof is None:
                ctx.budget_result(
                    case, text, "not measured (" + ("no tapegrad time" if t_tg is None else "no probe time") + ")", None
                )
            else:
                frac = BYTES_PER_ELEMENT * size / t_tg / roof
                ctx.budget_result(case, text, f"measured {frac:.0%} of {roof / 1e9:.1f} GB/s", frac >= 0.9)
