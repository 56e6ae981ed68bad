"""Try every Keras optimizer on the tutorial's linear regression and compare them.

The tutorial (TensorFlow's "Basic training loops") fits y = 3x + 2 + noise with a GradientTape, the
MSE loss and SGD, then invites the reader to try the other optimizers. This does that: each
optimizer trains the same model (w = 5, b = 0 to start) on the same 1000 points, first at a
sensible learning rate, then in a small sweep around it. The table gives the final loss, the
number of steps to get within 5% of the best possible loss (the least-squares fit), and the wall
time; with matplotlib installed (``pip install tapegrad[plot]``) the loss curves go to a PNG.

    python examples/compare_optimizers.py [--steps 200] [--out compare_optimizers.png]
"""

import argparse
import time

import numpy as np

import tapegrad as tf

TRUE_W, TRUE_B = 3.0, 2.0
NUM_EXAMPLES = 1000

# (label, optimizer class name, sensible learning rate, extra constructor arguments)
CANDIDATES = [
    ("SGD", "SGD", 0.1, {}),
    ("SGD momentum", "SGD", 0.05, {"momentum": 0.9}),
    ("SGD nesterov", "SGD", 0.05, {"momentum": 0.9, "nesterov": True}),
    ("RMSprop", "RMSprop", 0.05, {}),
    ("Adam", "Adam", 0.2, {}),
    ("AdamW", "AdamW", 0.2, {}),
    ("Adam amsgrad", "Adam", 0.2, {"amsgrad": True}),
    ("Adagrad", "Adagrad", 1.0, {}),
    ("Adadelta", "Adadelta", 30.0, {}),
    ("Adamax", "Adamax", 0.3, {}),
    ("Nadam", "Nadam", 0.2, {}),
    ("Ftrl", "Ftrl", 1.0, {}),
    ("Lion", "Lion", 0.03, {}),
    ("Lamb", "Lamb", 0.05, {}),
    ("Adafactor", "Adafactor", 0.3, {}),
]
SWEEP = (0.3, 1.0, 3.0)  # multiples of the sensible learning rate


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(NUM_EXAMPLES).astype("float32")
    noise = rng.standard_normal(NUM_EXAMPLES).astype("float32")
    return x, x * TRUE_W + TRUE_B + noise


def best_loss(x, y):
    """The least-squares optimum: the floor any optimizer can reach."""
    a = np.stack([x, np.ones_like(x)], axis=1).astype(np.float64)
    coef, *_ = np.linalg.lstsq(a, y.astype(np.float64), rcond=None)
    return float(np.mean((a @ coef - y) ** 2))


def train(cls_name, lr, extra, x, y, steps):
    w = tf.Variable(5.0, name="w")
    b = tf.Variable(0.0, name="b")
    loss_fn = tf.keras.losses.MeanSquaredError()
    opt = getattr(tf.keras.optimizers, cls_name)(learning_rate=float(lr), **extra)
    losses = []
    t0 = time.perf_counter()
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, w * x + b)
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
        losses.append(float(loss))
    wall = time.perf_counter() - t0
    with tf.GradientTape():
        final = float(loss_fn(y, w * x + b))
    return losses + [final], wall, float(w), float(b)


def steps_to(losses, threshold):
    for k, v in enumerate(losses):
        if v <= threshold:
            return k
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--out", default="compare_optimizers.png")
    args = ap.parse_args()
    xn, yn = make_data()
    x, y = tf.constant(xn), tf.constant(yn)
    floor = best_loss(xn, yn)
    threshold = 1.05 * floor
    print(
        f"{NUM_EXAMPLES} points, {args.steps} steps each; best possible loss {floor:.4f}, "
        f"threshold {threshold:.4f} (within 5%)\n"
    )
    header = f"{'optimizer':<15}{'lr':>8}{'final loss':>12}{'steps to thr':>14}{'w':>7}{'b':>7}{'wall ms':>9}"
    print(header)
    print("-" * len(header))
    curves = {}
    total = time.perf_counter()
    for label, cls_name, lr0, extra in CANDIDATES:
        for mult in SWEEP:
            lr = lr0 * mult
            losses, wall, w, b = train(cls_name, lr, extra, x, y, args.steps)
            n = steps_to(losses, threshold)
            mark = " *" if mult == 1.0 else ""
            print(
                f"{label + mark:<15}{lr:>8.3g}{losses[-1]:>12.4f}{(str(n) if n is not None else 'never'):>14}"
                f"{w:>7.2f}{b:>7.2f}{wall * 1e3:>9.1f}"
            )
            if mult == 1.0:
                curves[label] = losses
        print()
    print(f"* the sensible learning rate; total {time.perf_counter() - total:.1f} s")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed (pip install tapegrad[plot]): the plot was skipped")
        return
    fig, ax = plt.subplots(figsize=(9, 6))
    for i, (label, losses) in enumerate(curves.items()):
        ax.plot(
            np.maximum(np.array(losses) - floor, 1e-8),
            label=label,
            color=plt.cm.tab20(i % 20),
            linestyle=("-", "--", ":")[i % 3],
        )
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("loss - best possible loss")
    ax.set_title("Linear regression y = 3x + 2 + noise: Keras optimizers at a sensible learning rate")
    ax.legend(ncol=3, fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"loss curves saved to {args.out}")


if __name__ == "__main__":
    main()
