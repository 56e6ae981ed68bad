"""Training through Keras's `fit`: the `mlp` workload's MLP (784-256-256-10, batch 128) and the `cnn`
workload's CNN (conv 3x3x32 SAME + ReLU + dense head, batch 64), Adam lr 1e-3, sparse softmax
cross-entropy from logits, one epoch over a fixed synthetic data set per call (`shuffle=False`,
`verbose=0`). The table shows time per step; the note gives samples/s.

Peers: Keras 3 on TF (`jit_compile` False, the CPU default of "auto", and True), a PyTorch hand loop
over the same batches, a JAX jit step in a Python loop. Budget (issue 10): tapegrad's `fit` faster than
Keras-on-TF's default `fit` on both models.

tapegrad's model is `tg.keras.Sequential` of `Dense`/`Conv2D` layers when those exist, else the same
network written as a `Trainer` + `Layer` subclass with `add_weight` (identical arithmetic; `fit`,
`compile`, the loss and the optimizer are the same code either way)."""

import numpy as np

from .._common import build_or_raiser, tg_missing
from . import cnn as _cnn
from . import mlp as _mlp

NAME = "fit"
TITLE = "Keras fit: MLP and CNN, one epoch per call"
FAMILIES = ("tapegrad", "torch", "tf", "jax")  # the processes this workload runs in (benchmarks/_processes.py)
LR = 1e-3


# ---- tapegrad ---------------------------------------------------------------------------------------


def _tapegrad_model(tg, kind, params, x_shape):
    layers = tg.keras.layers
    if hasattr(tg.keras, "Sequential") and hasattr(layers, "Dense") and (kind == "mlp" or hasattr(layers, "Conv2D")):
        if kind == "mlp":
            stack = [layers.Dense(p.shape[1], activation="relu") for p in params[0:-2:2]]
            stack.append(layers.Dense(params[-2].shape[1]))
        else:
            stack = [
                layers.Conv2D(params[0].shape[-1], 3, padding="same", activation="relu"),
                layers.Flatten(),
                layers.Dense(params[2].shape[1]),
            ]
        model = tg.keras.Sequential([tg.keras.Input(x_shape[1:])] + stack)
        model.set_weights(params)
        return model
    from tapegrad.keras.layers import Layer
    from tapegrad.keras.trainers.trainer import Trainer

    class Net(Trainer, Layer):
        def __init__(self):
            super().__init__()
            self.ws = []
            for i, p in enumerate(params):
                w = self.add_weight(shape=p.shape, initializer="zeros", name=f"w{i}")
                w.assign(p)
                self.ws.append(w)

        def call(self, h):
            ws = self.ws
            if kind == "mlp":
                for i in range(0, len(ws) - 2, 2):
                    h = tg.nn.relu(tg.matmul(h, ws[i]) + ws[i + 1])
            else:
                h = tg.nn.relu(tg.nn.conv2d(h, ws[0], strides=1, padding="SAME") + ws[1])
                h = tg.reshape(h, [-1, int(np.prod(h.shape[1:]))])
            return tg.matmul(h, ws[-2]) + ws[-1]

    return Net()


def make_tapegrad(kind, params, x, y, batch):
    import tapegrad as tg

    model = _tapegrad_model(tg, kind, params, x.shape)
    model.compile(
        optimizer=tg.keras.optimizers.Adam(LR), loss=tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0).history["loss"][-1]


# ---- peers ------------------------------------------------------------------------------------------


def make_keras(tf, kind, params, x, y, batch, jit_compile):
    keras = tf.keras
    L = keras.layers
    if kind == "mlp":
        stack = [L.Dense(p.shape[1], activation="relu") for p in params[0:-2:2]] + [L.Dense(params[-2].shape[1])]
    else:
        stack = [
            L.Conv2D(params[0].shape[-1], 3, padding="same", activation="relu"),
            L.Flatten(),
            L.Dense(params[2].shape[1]),
        ]
    model = keras.Sequential([keras.Input(x.shape[1:])] + stack)
    model.set_weights(params)
    model.compile(
        optimizer=keras.optimizers.Adam(LR),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return lambda: model.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0).history["loss"][-1]


def _torch_forward(torch, kind, ws, xb):
    if kind == "mlp":
        h = xb
        for i in range(0, len(ws) - 2, 2):
            h = torch.relu(h @ ws[i] + ws[i + 1])
        return h @ ws[-2] + ws[-1]
    h = torch.relu(torch.nn.functional.conv2d(xb, ws[0], ws[1], padding=1))
    return h.permute(0, 2, 3, 1).reshape(xb.shape[0], -1) @ ws[2] + ws[3]


def make_torch(torch, kind, params, x, y, batch):
    """A hand-written epoch loop: the same batches in order, Adam, the epoch's sample-weighted mean loss."""
    if kind == "mlp":
        ws = [torch.tensor(p, requires_grad=True) for p in params]
        xt = torch.tensor(x)
    else:
        ws = [torch.tensor(params[0].transpose(3, 2, 0, 1).copy(), requires_grad=True)] + [
            torch.tensor(p, requires_grad=True) for p in params[1:]
        ]
        xt = torch.tensor(x.transpose(0, 3, 1, 2).copy())
    yt = torch.tensor(y, dtype=torch.int64)
    opt = torch.optim.Adam(ws, lr=LR)
    n = len(y)

    def epoch():
        total = 0.0
        for lo in range(0, n, batch):
            xb, yb = xt[lo : lo + batch], yt[lo : lo + batch]
            loss = torch.nn.functional.cross_entropy(_torch_forward(torch, kind, ws, xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach().item() * len(yb)
        return total / n

    return epoch


def make_jax(jax, kind, params, x, y, batch):
    jnp = jax.numpy
    B1, B2, EPS = _mlp.BETA_1, _mlp.BETA_2, _mlp.EPS

    def loss_fn(ws, xb, yb):
        if kind == "mlp":
            h = xb
            for i in range(0, len(ws) - 2, 2):
                h = jax.nn.relu(h @ ws[i] + ws[i + 1])
        else:
            h = jax.lax.conv_general_dilated(xb, ws[0], (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
            h = jax.nn.relu(h + ws[1]).reshape(xb.shape[0], -1)
        logp = jax.nn.log_softmax(h @ ws[-2] + ws[-1])
        return -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))

    def train_step(ws, m, v, t, xb, yb):
        loss, grads = jax.value_and_grad(loss_fn)(ws, xb, yb)
        t = t + 1
        alpha = LR * jnp.sqrt(1 - B2**t) / (1 - B1**t)
        m = [mi + (g - mi) * (1 - B1) for mi, g in zip(m, grads)]
        v = [vi + (g * g - vi) * (1 - B2) for vi, g in zip(v, grads)]
        return [w - alpha * mi / (jnp.sqrt(vi) + EPS) for w, mi, vi in zip(ws, m, v)], m, v, t, loss

    jitted = jax.jit(train_step)
    state = [
        [jnp.asarray(p) for p in params],
        [jnp.zeros_like(jnp.asarray(p)) for p in params],
        [jnp.zeros_like(jnp.asarray(p)) for p in params],
        jnp.zeros((), jnp.float32),
    ]
    n = len(y)
    batches = [(jnp.asarray(x[lo : lo + batch]), jnp.asarray(y[lo : lo + batch])) for lo in range(0, n, batch)]

    def epoch():
        losses = []
        for xb, yb in batches:
            *state[:], loss = jitted(*state, xb, yb)
            losses.append((loss, xb.shape[0]))
        return sum(float(lv) * k for lv, k in losses) / n

    return epoch


# ---- the workload -----------------------------------------------------------------------------------


def _cases(ctx):
    mlp_sizes = ctx.pick((784, 256, 256, 10), smoke=(20, 16, 16, 10))
    mlp_batch, mlp_steps = ctx.pick((128, 64), quick=(128, 16), smoke=(8, 2))
    params, _, _ = _mlp.make_data(mlp_sizes, mlp_batch)
    rng = np.random.default_rng(1)
    n = mlp_batch * mlp_steps
    x = rng.standard_normal((n, mlp_sizes[0])).astype(np.float32)
    y = rng.integers(0, mlp_sizes[-1], n).astype(np.int32)
    yield "mlp", f"MLP, batch {mlp_batch}, {mlp_steps} steps", params, x, y, mlp_batch, mlp_steps
    cnn_batch, hw, channels, cnn_steps = ctx.pick((64, 28, 32, 32), quick=(64, 28, 32, 8), smoke=(4, 8, 4, 2))
    params, _, _ = _cnn.make_data(cnn_batch, hw, channels)
    n = cnn_batch * cnn_steps
    x = rng.standard_normal((n, hw, hw, 1)).astype(np.float32)
    y = rng.integers(0, 10, n).astype(np.int32)
    yield "cnn", f"CNN, batch {cnn_batch}, {cnn_steps} steps", params, x, y, cnn_batch, cnn_steps


KERAS_DEFAULT = "Keras 3 on TF fit (jit_compile=False, the CPU default)"


def run(ctx):
    missing = tg_missing(
        "keras.optimizers.Adam", "keras.losses.SparseCategoricalCrossentropy", "keras.callbacks.History"
    )
    if missing:
        ctx.skip("", "(all)", f"needs {missing}")
        return
    torch, tf, jax = ctx.peer("torch"), ctx.peer("tf"), ctx.peer("jax")
    for kind, case, params, x, y, batch, steps in _cases(ctx):
        if kind == "cnn" and tg_missing("nn.conv2d"):
            ctx.skip(case, "(all)", "needs tg.nn.conv2d")
            continue
        builders = [("tapegrad", lambda: make_tapegrad(kind, params, x, y, batch))]
        if tf is not None:
            builders.append((KERAS_DEFAULT, lambda: make_keras(tf, kind, params, x, y, batch, False)))
            builders.append(
                ("Keras 3 on TF fit (jit_compile=True)", lambda: make_keras(tf, kind, params, x, y, batch, True))
            )
        if torch is not None:
            builders.append(("PyTorch hand loop", lambda: make_torch(torch, kind, params, x, y, batch)))
        if jax is not None:
            builders.append(("JAX jit step, Python loop", lambda: make_jax(jax, kind, params, x, y, batch)))
        for library, build in builders:
            if not ctx.wants(library):  # measured in another process
                continue
            epoch = build_or_raiser(build)
            # checked: the first epoch's loss (later epochs on random labels drift apart by more than
            # float32 summation order allows, the CNN's 25088-wide head most)
            seconds = ctx.bench(
                case,
                library,
                epoch,
                result=lambda epoch=epoch: [epoch()],
                rtol=2e-3,
                atol=1e-5,
                per=steps,
                note=f"per step of {batch}",
            )
            if seconds:
                ctx.rows[-1]["note"] += f"; {batch / seconds:,.0f} samples/s"
        ctx.budget(case, "tapegrad fit faster than Keras-on-TF's default fit", KERAS_DEFAULT, 1.0, strict=True)
