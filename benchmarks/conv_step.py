"""Conv training step: conv2d 3x3 SAME on 28x28 images, batch 64 (1->32 and 32->32 channels),
forward + gradient w.r.t. input and filters, a depthwise 3x3 step and a 2x2 max pool step, in ms, for tapegrad and
(when installed) TF eager and PyTorch eager, one process, same threads, same data.

    python benchmarks/conv_step.py [--threads 2]
"""

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # they halve OpenBLAS speed here (benchmarks/README.md)
    os.environ.pop(_var, None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402


def median_ms(fn, repeat=7, number=3):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return 1e3 * statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    cases = {"conv 1->32": ((64, 28, 28, 1), (3, 3, 1, 32)), "conv 32->32": ((64, 28, 28, 32), (3, 3, 32, 32))}
    tg.config.set_num_threads(args.threads)
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None
    try:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    except ImportError:
        tf = None

    rows = []
    for name, (xs, ws) in cases.items():
        x = rng.standard_normal(xs).astype("float32")
        w = (rng.standard_normal(ws) * 0.1).astype("float32")
        res = {}

        xt, wt = tg.constant(x), tg.Variable(w)

        def step_tg():
            with tg.GradientTape() as tape:
                tape.watch(xt)
                loss = tg.reduce_sum(tg.nn.relu(tg.nn.conv2d(xt, wt, 1, "SAME")))
            return tape.gradient(loss, [xt, wt])

        res["tapegrad"] = median_ms(step_tg)

        if tf is not None:
            xf, wf = tf.constant(x), tf.Variable(w)

            def step_tf():
                with tf.GradientTape() as tape:
                    tape.watch(xf)
                    loss = tf.reduce_sum(tf.nn.relu(tf.nn.conv2d(xf, wf, 1, "SAME")))
                return tape.gradient(loss, [xf, wf])

            res["tf"] = median_ms(step_tf)
        if torch is not None:
            xp = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
            wp = torch.tensor(w.transpose(3, 2, 0, 1).copy(), requires_grad=True)

            def step_torch():
                xp.grad = None
                wp.grad = None
                loss = torch.relu(torch.nn.functional.conv2d(xp, wp, padding=1)).sum()
                loss.backward()

            res["torch"] = median_ms(step_torch)
        rows.append((name, res))

    x = rng.standard_normal((64, 28, 28, 32)).astype("float32")
    w = (rng.standard_normal((3, 3, 32, 1)) * 0.1).astype("float32")
    res = {}
    xt, wt = tg.constant(x), tg.Variable(w)

    def dw_tg():
        with tg.GradientTape() as tape:
            tape.watch(xt)
            loss = tg.reduce_sum(tg.nn.depthwise_conv2d(xt, wt, [1, 1, 1, 1], "SAME"))
        return tape.gradient(loss, [xt, wt])

    res["tapegrad"] = median_ms(dw_tg)
    if tf is not None:
        xf, wf = tf.constant(x), tf.Variable(w)

        def dw_tf():
            with tf.GradientTape() as tape:
                tape.watch(xf)
                loss = tf.reduce_sum(tf.nn.depthwise_conv2d(xf, wf, [1, 1, 1, 1], "SAME"))
            return tape.gradient(loss, [xf, wf])

        res["tf"] = median_ms(dw_tf)
    if torch is not None:
        xp = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)
        wp = torch.tensor(w.transpose(2, 3, 0, 1).copy(), requires_grad=True)

        def dw_torch():
            xp.grad = None
            wp.grad = None
            torch.nn.functional.conv2d(xp, wp, padding=1, groups=32).sum().backward()

        res["torch"] = median_ms(dw_torch)
    rows.append(("depthwise 3x3 (32ch)", res))

    res = {}
    xt = tg.constant(x)

    def pool_tg():
        with tg.GradientTape() as tape:
            tape.watch(xt)
            loss = tg.reduce_sum(tg.nn.max_pool2d(xt, 2, 2, "VALID"))
        return tape.gradient(loss, xt)

    res["tapegrad"] = median_ms(pool_tg)
    if tf is not None:
        xf = tf.constant(x)

        def pool_tf():
            with tf.GradientTape() as tape:
                tape.watch(xf)
                loss = tf.reduce_sum(tf.nn.max_pool2d(xf, 2, 2, "VALID"))
            return tape.gradient(loss, xf)

        res["tf"] = median_ms(pool_tf)
    if torch is not None:
        xp = torch.tensor(x.transpose(0, 3, 1, 2).copy(), requires_grad=True)

        def pool_torch():
            xp.grad = None
            torch.nn.functional.max_pool2d(xp, 2, 2).sum().backward()

        res["torch"] = median_ms(pool_torch)
    rows.append(("max_pool 2x2 (32ch)", res))

    print(f"threads={args.threads}; ms per forward+gradient step (median); ratio = tapegrad / peer")
    print(f"{'workload':22s} {'tapegrad':>9s} {'tf':>9s} {'torch':>9s} {'vs tf':>7s} {'vs torch':>8s}")
    for name, r in rows:
        t = r["tapegrad"]
        f = r.get("tf", float("nan"))
        p = r.get("torch", float("nan"))
        print(f"{name:22s} {t:9.2f} {f:9.2f} {p:9.2f} {t / f:7.2f} {t / p:8.2f}")


if __name__ == "__main__":
    main()
