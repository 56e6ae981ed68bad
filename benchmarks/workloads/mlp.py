"""MLP training step: 784-256-256-10, ReLU, softmax cross-entropy, batch 128, Adam (Keras defaults,
lr 1e-3). Each `make_*` builds a fresh model from the same numpy weights and returns `step()`, which
runs one training step and returns the loss before the update as a float; the memory workload
reuses them."""

import time

import numpy as np

from .._common import build_or_raiser

NAME = "mlp"
TITLE = "MLP 784-256-256-10 training step, Adam"
LR, BETA_1, BETA_2, EPS = 1e-3, 0.9, 0.999, 1e-7
NEEDS = ("keras.optimizers.Adam",)
LOSSES = ("nn.sparse_softmax_cross_entropy_with_logits", "keras.losses.SparseCategoricalCrossentropy")


def make_data(sizes=(784, 256, 256, 10), batch=128, seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append((rng.standard_normal((n_in, n_out)) * np.sqrt(2 / n_in)).astype(np.float32))
        params.append(np.zeros(n_out, np.float32))
    x = rng.standard_normal((batch, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], batch).astype(np.int32)
    return params, x, y


def missing_loss():
    """None when tapegrad has one of the sparse softmax cross-entropy forms, else what to install."""
    from .._common import tg_missing

    if tg_missing(LOSSES[0]) and tg_missing(LOSSES[1]):
        return f"tg.{LOSSES[0]} or tg.{LOSSES[1]}"
    return None


def tapegrad_loss(tg, labels):
    """Mean sparse softmax cross-entropy of logits against `labels`: the fused op, else the Keras loss."""
    from .._common import tg_missing

    if tg_missing(LOSSES[0]) is None:
        return lambda logits: tg.reduce_mean(
            tg.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
        )
    keras_loss = tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return lambda logits: keras_loss(labels, logits)


def missing_tapegrad():
    """The tapegrad feature this workload lacks, or None."""
    from .._common import tg_missing

    return tg_missing(*NEEDS) or missing_loss()


def make_tapegrad(params, x, y, function=False):
    import tapegrad as tg

    ws = [tg.Variable(p) for p in params]
    xt, yt = tg.constant(x), tg.constant(y)
    opt = tg.keras.optimizers.Adam(learning_rate=LR)
    loss_fn = tapegrad_loss(tg, yt)

    def train_step():
        with tg.GradientTape() as tape:
            h = xt
            for i in range(0, len(ws) - 2, 2):
                h = tg.nn.relu(tg.matmul(h, ws[i]) + ws[i + 1])
            loss = loss_fn(tg.matmul(h, ws[-2]) + ws[-1])
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))
        return loss

    traced = tg.function(train_step) if function else train_step
    return lambda: float(traced())


class _NumpyAdam:
    """Keras 3's Adam rule in place: m, v updated, p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps)."""

    def __init__(self, params):
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]
        self.t = 0

    def apply(self, params, grads):
        self.t += 1
        alpha = np.float32(LR * np.sqrt(1 - BETA_2**self.t) / (1 - BETA_1**self.t))
        for p, g, m, v in zip(params, grads, self.m, self.v):
            m += (g - m) * np.float32(1 - BETA_1)
            v += (g * g - v) * np.float32(1 - BETA_2)
            p -= alpha * m / (np.sqrt(v) + np.float32(EPS))


def make_numpy(params, x, y):
    ws = [p.copy() for p in params]
    opt = _NumpyAdam(ws)
    rows = np.arange(len(y))

    def step():
        acts, pre = [x], []
        for i in range(0, len(ws) - 2, 2):
            pre.append(acts[-1] @ ws[i] + ws[i + 1])
            acts.append(np.maximum(pre[-1], 0))
        z = acts[-1] @ ws[-2] + ws[-1]
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
        dz = e / s
        dz[rows, y] -= 1
        dz /= len(y)
        grads = [None] * len(ws)
        for i in range(len(ws) - 2, -1, -2):
            a = acts[i // 2]
            grads[i], grads[i + 1] = a.T @ dz, dz.sum(axis=0)
            if i:
                dz = (dz @ ws[i].T) * (pre[i // 2 - 1] > 0)
        opt.apply(ws, grads)
        return loss

    return step


def make_torch(torch, params, x, y, fused):
    ws = [torch.tensor(p, requires_grad=True) for p in params]
    xt, yt = torch.tensor(x), torch.tensor(y, dtype=torch.int64)
    opt = torch.optim.Adam(ws, lr=LR, fused=True) if fused else torch.optim.Adam(ws, lr=LR)

    def step():
        h = xt
        for i in range(0, len(ws) - 2, 2):
            h = torch.relu(h @ ws[i] + ws[i + 1])
        loss = torch.nn.functional.cross_entropy(h @ ws[-2] + ws[-1], yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach().item()

    return step


def make_tf(tf, params, x, y, function):
    ws = [tf.Variable(p) for p in params]
    xt, yt = tf.constant(x), tf.constant(y)
    opt = tf.keras.optimizers.Adam(learning_rate=LR)

    def train_step():
        with tf.GradientTape() as tape:
            h = xt
            for i in range(0, len(ws) - 2, 2):
                h = tf.nn.relu(tf.matmul(h, ws[i]) + ws[i + 1])
            logits = tf.matmul(h, ws[-2]) + ws[-1]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yt, logits=logits))
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))
        return loss

    fn = tf.function(train_step) if function else train_step
    return lambda: float(fn())


def make_jax(jax, params, x, y):
    import warnings

    jnp = jax.numpy

    def loss_fn(ws, x, y):
        h = x
        for i in range(0, len(ws) - 2, 2):
            h = jax.nn.relu(h @ ws[i] + ws[i + 1])
        logp = jax.nn.log_softmax(h @ ws[-2] + ws[-1])
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def train_step(ws, m, v, t, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(ws, x, y)
        t = t + 1
        alpha = LR * jnp.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        m = [mi + (g - mi) * (1 - BETA_1) for mi, g in zip(m, grads)]
        v = [vi + (g * g - vi) * (1 - BETA_2) for vi, g in zip(v, grads)]
        ws = [w - alpha * mi / (jnp.sqrt(vi) + EPS) for w, mi, vi in zip(ws, m, v)]
        return ws, m, v, t, loss

    jitted = jax.jit(train_step, donate_argnums=(0, 1, 2))
    state = [
        [jnp.asarray(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        jnp.zeros((), jnp.float32),
    ]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Some donated buffers were not usable")
            *state[:], loss = jitted(*state, xj, yj)
        return float(loss)

    return step


def run(ctx):
    missing = missing_tapegrad()
    if missing:
        ctx.skip("", "(all)", f"needs {missing}")
        return
    batch = ctx.pick(128, smoke=8)
    sizes = ctx.pick((784, 256, 256, 10), smoke=(20, 16, 16, 10))
    params, x, y = make_data(sizes, batch)
    case = f"batch {batch}"
    builders = []
    if ctx.peer("numpy") is not None:
        builders.append(("numpy by hand", lambda: make_numpy(params, x, y)))
    builders.append(("tapegrad", lambda: make_tapegrad(params, x, y)))
    builders.append(("tapegrad tf.function", lambda: make_tapegrad(params, x, y, function=True)))
    torch, tf, jax = ctx.peer("torch"), ctx.peer("tf"), ctx.peer("jax")
    if torch is not None:
        builders.append(("PyTorch eager", lambda: make_torch(torch, params, x, y, fused=False)))
        builders.append(("PyTorch eager, fused Adam", lambda: make_torch(torch, params, x, y, fused=True)))
    if tf is not None:
        builders.append(("TF eager tape", lambda: make_tf(tf, params, x, y, function=False)))
        builders.append(("TF tf.function", lambda: make_tf(tf, params, x, y, function=True)))
    if jax is not None:
        builders.append(("JAX jit", lambda: make_jax(jax, params, x, y)))
    for library, build in builders:
        if not ctx.wants(library):  # measured in another process
            continue
        step = build_or_raiser(build)
        ctx.bench(
            case,
            library,
            step,
            result=lambda step=step: [step() for _ in range(4)],
            rtol=2e-3,
            atol=1e-5,
            note="per step",
        )
    ctx.budget(case, "tapegrad tf.function <= 0.8x JAX jit", "JAX jit", 0.8, subject="tapegrad tf.function")
    # the first call of a new tf.function: its Variables and optimizer, AutoGraph's conversion of the
    # source (cached per code object, as TF: only the process's first one pays it) and the trace
    if ctx.wants("tapegrad tf.function"):
        first = f"{case}, first call (trace)"
        t0 = time.perf_counter()
        make_tapegrad(params, x, y, function=True)()
        t_first = time.perf_counter() - t0
        t = ctx.bench(first, "tapegrad tf.function", lambda: make_tapegrad(params, x, y, function=True)())
        if t is not None:
            ctx.rows[-1]["note"] = f"later functions (conversion cached); the first: {t_first * 1e3:.1f} ms"
            ctx.budget_result(
                first,
                "tapegrad tf.function trace under 50 ms",
                f"measured {t_first * 1e3:.1f} ms (the process's first, with AutoGraph's conversion)",
                t_first < 0.05,
            )
    ctx.budget(case, "tapegrad <= 0.8x PyTorch eager", "PyTorch eager", 0.8)
    ctx.budget(case, "tapegrad <= 0.8x PyTorch eager (with fused Adam)", "PyTorch eager, fused Adam", 0.8)
