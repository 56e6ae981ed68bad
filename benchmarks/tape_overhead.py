"""Tape overhead: a chain of 100 elementwise ops on a 16-element float32 vector, forward plus
gradient, in microseconds per op, for tapegrad and (when installed) PyTorch eager autograd and
TensorFlow's eager GradientTape, run in one process with one thread each.

    python benchmarks/tape_overhead.py
"""

import argparse
import os
import sys

if __package__:
    from ._common import import_peer, median_time, set_threads
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import import_peer, median_time, set_threads  # noqa: E402

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402

N_OPS = 100  # 25 rounds of (mul, add, tanh, mul)
SIZE = 16


def chain_tapegrad(x0):
    with tg.GradientTape() as tape:
        tape.watch(x0)
        x = x0
        for _ in range(N_OPS // 4):
            x = x * 1.01
            x = x + 0.1
            x = tg.tanh(x)
            x = x * x
    return tape.gradient(x, x0, output_gradients=tg.ones_like(x))


def make_torch(torch):
    def chain(x0):
        x = x0
        for _ in range(N_OPS // 4):
            x = x * 1.01
            x = x + 0.1
            x = torch.tanh(x)
            x = x * x
        return torch.autograd.grad(x, x0, grad_outputs=torch.ones_like(x))[0]

    return chain


def make_tf(tf):
    def chain(x0):
        with tf.GradientTape() as tape:
            tape.watch(x0)
            x = x0
            for _ in range(N_OPS // 4):
                x = x * 1.01
                x = x + 0.1
                x = tf.tanh(x)
                x = x * x
        return tape.gradient(x, x0, output_gradients=tf.ones_like(x))

    return chain


def make_numpy():
    """The same chain by hand in numpy: forward keeping what the backward needs, then the VJPs."""

    def chain(x0):
        saved = []
        x = x0
        for _ in range(N_OPS // 4):
            x = x * np.float32(1.01)
            x = x + np.float32(0.1)
            x = np.tanh(x)
            saved.append(x)
            x = x * x
        g = np.ones_like(x)
        for t in reversed(saved):
            g = g * (t + t)
            g = g * (1 - t * t)
            g = g * np.float32(1.01)
        return g

    return chain


def make_tf_function(tf):
    return tf.function(make_tf(tf))


def make_jax(jax):
    import jax.numpy as jnp

    def forward(x):
        for _ in range(N_OPS // 4):
            x = jnp.tanh(x * 1.01 + 0.1)
            x = x * x
        return x

    grad = jax.jit(lambda x: jax.vjp(forward, x)[1](jnp.ones_like(x))[0])
    return lambda x0: grad(x0).block_until_ready()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    torch, tf = import_peer("torch"), import_peer("tensorflow")
    set_threads(1, torch, tf)
    x = np.linspace(-1, 1, SIZE).astype(np.float32)
    rows = []
    ref = chain_tapegrad(tg.constant(x)).numpy()
    rows.append(("tapegrad", median_time(lambda: chain_tapegrad(tg.constant(x)), args.repeat)))
    if torch is not None:
        tx = torch.tensor(x, requires_grad=True)
        f = make_torch(torch)
        np.testing.assert_allclose(f(tx).numpy(), ref, rtol=1e-4, atol=1e-5)
        rows.append(("PyTorch eager", median_time(lambda: f(tx), args.repeat)))
    if tf is not None:
        tfx = tf.constant(x)
        f = make_tf(tf)
        np.testing.assert_allclose(f(tfx).numpy(), ref, rtol=1e-4, atol=1e-5)
        rows.append(("TF eager tape", median_time(lambda: f(tfx), args.repeat)))
    base = rows[0][1]
    print(f"{N_OPS}-op elementwise chain on {SIZE} float32, forward + gradient, 1 thread")
    print(f"{'library':<16}{'us/op':>10}{'time / tapegrad':>18}")
    for name, t in rows:
        print(f"{name:<16}{t / N_OPS * 1e6:>10.2f}{t / base:>17.2f}x")
    return rows


if __name__ == "__main__":
    main()
