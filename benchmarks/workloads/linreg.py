"""The tutorial's linear regression (examples/linear_regression.py): 1000 points y = 3x + 2 + noise,
model w*x + b from w = 5, b = 0, MSE, SGD lr 0.1; time per step over a loop of 1000 steps."""

import numpy as np

from .._common import build_or_raiser

NAME = "linreg"
TITLE = "tutorial linear regression, per step"
LR = 0.1


def make_data(n=1000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(n).astype(np.float32)
    noise = rng.standard_normal(n).astype(np.float32)
    return x, x * 3.0 + 2.0 + noise


def make_tapegrad(x, y, function=False):
    import tapegrad as tg

    xt, yt = tg.constant(x), tg.constant(y)
    w, b = tg.Variable(5.0), tg.Variable(0.0)
    loss_fn = tg.keras.losses.MeanSquaredError()
    opt = tg.keras.optimizers.SGD(learning_rate=LR)

    def train_step():
        with tg.GradientTape() as tape:
            loss = loss_fn(yt, w * xt + b)
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))

    step = tg.function(train_step) if function else train_step

    def steps(n):
        for _ in range(n):
            step()
        return [w.numpy(), b.numpy()]

    return steps


def make_numpy(x, y):
    wb = np.array([5.0, 0.0], np.float32)
    lr = np.float32(LR)

    def steps(n):
        for _ in range(n):
            err = wb[0] * x + wb[1] - y
            wb[0] -= lr * 2 * np.mean(err * x)
            wb[1] -= lr * 2 * np.mean(err)
        return list(wb)

    return steps


def make_torch(torch, x, y):
    xt, yt = torch.tensor(x), torch.tensor(y)
    w, b = torch.tensor(5.0, requires_grad=True), torch.tensor(0.0, requires_grad=True)
    opt = torch.optim.SGD([w, b], lr=LR)
    mse = torch.nn.MSELoss()

    def steps(n):
        for _ in range(n):
            loss = mse(w * xt + b, yt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        return [w.item(), b.item()]

    return steps


def make_tf(tf, x, y, function):
    xt, yt = tf.constant(x), tf.constant(y)
    w, b = tf.Variable(5.0), tf.Variable(0.0)
    loss_fn = tf.keras.losses.MeanSquaredError()
    opt = tf.keras.optimizers.SGD(learning_rate=LR)

    def train_step():
        with tf.GradientTape() as tape:
            loss = loss_fn(yt, w * xt + b)
        opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))

    step = tf.function(train_step) if function else train_step

    def steps(n):
        for _ in range(n):
            step()
        return [w.numpy(), b.numpy()]

    return steps


def make_jax(jax, x, y):
    jnp = jax.numpy

    def loss_fn(wb, x, y):
        return jnp.mean((wb[0] * x + wb[1] - y) ** 2)

    step = jax.jit(lambda wb, x, y: wb - LR * jax.grad(loss_fn)(wb, x, y))
    state = [jnp.asarray([5.0, 0.0], jnp.float32)]
    xj, yj = jnp.asarray(x), jnp.asarray(y)

    def steps(n):
        wb = state[0]
        for _ in range(n):
            wb = step(wb, xj, yj)
        state[0] = wb.block_until_ready()
        return list(np.asarray(wb))

    return steps


def run(ctx):
    n_points = ctx.pick(1000, smoke=50)
    n_steps = ctx.pick(1000, quick=200, smoke=3)
    x, y = make_data(n_points)
    case = f"{n_points} points, {n_steps}-step loop"
    builders = []
    if ctx.peer("numpy") is not None:
        builders.append(("numpy by hand", lambda: make_numpy(x, y)))
    builders.append(("tapegrad", lambda: make_tapegrad(x, y)))
    builders.append(("tapegrad tf.function", lambda: make_tapegrad(x, y, function=True)))
    torch, tf, jax = ctx.peer("torch"), ctx.peer("tf"), ctx.peer("jax")
    if torch is not None:
        builders.append(("PyTorch eager", lambda: make_torch(torch, x, y)))
    if tf is not None:
        builders.append(("TF eager tape", lambda: make_tf(tf, x, y, function=False)))
        builders.append(("TF tf.function", lambda: make_tf(tf, x, y, function=True)))
    if jax is not None:
        builders.append(("JAX jit", lambda: make_jax(jax, x, y)))
    for library, build in builders:
        if not ctx.wants(library):  # measured in another process
            continue
        steps = build_or_raiser(build)
        # w, b after 5 steps from the tutorial's start agree across libraries; then time the loop
        ctx.bench(
            case,
            library,
            lambda steps=steps: steps(n_steps),
            result=lambda steps=steps: steps(5),
            rtol=1e-4,
            atol=1e-5,
            per=n_steps,
            note="per step",
        )
    ctx.budget(case, "tapegrad <= 0.35x PyTorch eager", "PyTorch eager", 0.35)
    ctx.budget(case, "tapegrad tf.function <= 0.5x JAX jit", "JAX jit", 0.5, subject="tapegrad tf.function")
