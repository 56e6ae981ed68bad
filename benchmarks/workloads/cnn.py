"""A small CNN training step: NHWC 28x28x1 input, batch 64, conv2d 3x3 SAME with 32 channels + bias,
ReLU, flatten, dense head to 10 classes, softmax cross-entropy; Adam (Keras defaults, lr 1e-3) when
tapegrad has it, else SGD lr 0.01, the same for every library."""

import numpy as np

from .._common import build_or_raiser, tg_missing
from .mlp import BETA_1, BETA_2, EPS, missing_loss, tapegrad_loss

NAME = "cnn"
TITLE = "small CNN training step"
FAMILIES = ("tapegrad", "torch", "tf", "jax")  # the processes this workload runs in (benchmarks/_processes.py)
SGD_LR, ADAM_LR = 0.01, 1e-3


def make_data(batch=64, hw=28, channels=32, classes=10, seed=0):
    rng = np.random.default_rng(seed)
    k = (rng.standard_normal((3, 3, 1, channels)) * np.sqrt(2 / 9)).astype(np.float32)
    w = (rng.standard_normal((hw * hw * channels, classes)) * np.sqrt(1 / (hw * hw * channels))).astype(np.float32)
    params = [k, np.zeros(channels, np.float32), w, np.zeros(classes, np.float32)]
    x = rng.standard_normal((batch, hw, hw, 1)).astype(np.float32)
    y = rng.integers(0, classes, batch).astype(np.int32)
    return params, x, y


def make_tapegrad(params, x, y, adam, function=False):
    import tapegrad as tg

    ws = [tg.Variable(p) for p in params]
    xt, yt = tg.constant(x), tg.constant(y)
    opt = tg.keras.optimizers.Adam(learning_rate=ADAM_LR) if adam else tg.keras.optimizers.SGD(learning_rate=SGD_LR)
    loss_fn = tapegrad_loss(tg, yt)

    def train_step():
        with tg.GradientTape() as tape:
            h = tg.nn.relu(tg.nn.conv2d(xt, ws[0], strides=1, padding="SAME") + ws[1])
            h = tg.reshape(h, [x.shape[0], -1])
            loss = loss_fn(tg.matmul(h, ws[2]) + ws[3])
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))
        return loss

    traced = tg.function(train_step) if function else train_step
    return lambda: float(traced())


def make_torch(torch, params, x, y, adam):
    k, b, w, c = params
    ws = [torch.tensor(k.transpose(3, 2, 0, 1).copy(), requires_grad=True)] + [
        torch.tensor(p, requires_grad=True) for p in (b, w, c)
    ]
    xt, yt = torch.tensor(x.transpose(0, 3, 1, 2).copy()), torch.tensor(y, dtype=torch.int64)
    opt = torch.optim.Adam(ws, lr=ADAM_LR) if adam else torch.optim.SGD(ws, lr=SGD_LR)

    def step():
        h = torch.relu(torch.nn.functional.conv2d(xt, ws[0], ws[1], padding=1))
        h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # NHWC order, as the other libraries flatten
        loss = torch.nn.functional.cross_entropy(h @ ws[2] + ws[3], yt)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.detach().item()

    return step


def make_tf(tf, params, x, y, adam, function):
    ws = [tf.Variable(p) for p in params]
    xt, yt = tf.constant(x), tf.constant(y)
    opt = tf.keras.optimizers.Adam(learning_rate=ADAM_LR) if adam else tf.keras.optimizers.SGD(learning_rate=SGD_LR)

    def train_step():
        with tf.GradientTape() as tape:
            h = tf.nn.relu(tf.nn.conv2d(xt, ws[0], strides=1, padding="SAME") + ws[1])
            h = tf.reshape(h, [x.shape[0], -1])
            logits = tf.matmul(h, ws[2]) + ws[3]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=yt, logits=logits))
        opt.apply_gradients(zip(tape.gradient(loss, ws), ws))
        return loss

    fn = tf.function(train_step) if function else train_step
    return lambda: float(fn())


def make_jax(jax, params, x, y, adam):
    jnp = jax.numpy

    def loss_fn(ws, x, y):
        h = jax.lax.conv_general_dilated(x, ws[0], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        h = jax.nn.relu(h + ws[1]).reshape(x.shape[0], -1)
        logp = jax.nn.log_softmax(h @ ws[2] + ws[3])
        return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

    def train_step(ws, m, v, t, x, y):
        loss, grads = jax.value_and_grad(loss_fn)(ws, x, y)
        if not adam:
            return [p - SGD_LR * g for p, g in zip(ws, grads)], m, v, t, loss
        t = t + 1
        alpha = ADAM_LR * jnp.sqrt(1 - BETA_2**t) / (1 - BETA_1**t)
        m = [mi + (g - mi) * (1 - BETA_1) for mi, g in zip(m, grads)]
        v = [vi + (g * g - vi) * (1 - BETA_2) for vi, g in zip(v, grads)]
        return [p - alpha * mi / (jnp.sqrt(vi) + EPS) for p, mi, vi in zip(ws, m, v)], m, v, t, loss

    jitted = jax.jit(train_step)
    state = [
        [jnp.asarray(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        [jnp.zeros_like(p) for p in params],
        jnp.zeros((), jnp.float32),
    ]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def step():
        *state[:], loss = jitted(*state, xj, yj)
        return float(loss)

    return step


def run(ctx):
    missing = tg_missing("nn.conv2d") or missing_loss()
    if missing:
        ctx.skip("", "(all)", f"needs {missing}")
        return
    adam = tg_missing("keras.optimizers.Adam") is None
    batch, hw, channels = ctx.pick((64, 28, 32), smoke=(4, 8, 4))
    params, x, y = make_data(batch, hw, channels)
    case = f"batch {batch}, {'Adam' if adam else 'SGD'}"
    builders = [
        ("tapegrad", lambda: make_tapegrad(params, x, y, adam)),
        ("tapegrad tf.function", lambda: make_tapegrad(params, x, y, adam, function=True)),
    ]
    torch, tf, jax = ctx.peer("torch"), ctx.peer("tf"), ctx.peer("jax")
    if ctx.peer("numpy") is not None:
        ctx.skip("", "numpy by hand", "not written (a by-hand conv2d backward)")
    if torch is not None:
        builders.append(("PyTorch eager", lambda: make_torch(torch, params, x, y, adam)))
    if tf is not None:
        builders.append(("TF eager tape", lambda: make_tf(tf, params, x, y, adam, function=False)))
        builders.append(("TF tf.function", lambda: make_tf(tf, params, x, y, adam, function=True)))
    if jax is not None:
        builders.append(("JAX jit", lambda: make_jax(jax, params, x, y, adam)))
    for library, build in builders:
        if not ctx.wants(library):  # measured in another process
            continue
        step = build_or_raiser(build)
        ctx.bench(
            case,
            library,
            step,
            result=lambda step=step: [step() for _ in range(3)],
            rtol=2e-3,
            atol=1e-5,
            note="per step",
        )
    ctx.budget_result(case, "none in benchmarks/README.md", "reported for reference", None)
