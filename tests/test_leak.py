"""Training loops do not leak (issue 14): 20k steps of GradientTape + Adam on a small MLP, and Keras
`train_on_batch` steps, each grow the resident set by less than 1 MB after a warm-up.

Each loop runs in a child process, so that memory the rest of the suite holds or frees meanwhile
does not count. RSS is read from /proc/self/statm (Linux); the warm-up fills the buffer pools,
the optimizer's slots and Python's free lists first."""

import json
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not pathlib.Path("/proc/self/statm").exists(), reason="needs /proc/self/statm")

CHILD = r"""
import gc, json, os, sys
import numpy as np
import tapegrad as tf

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def growth(step, warm, n):
    for _ in range(warm):
        step()
    gc.collect()
    before = rss()
    for _ in range(n):
        step()
    gc.collect()
    return rss() - before


rng = np.random.default_rng(0)
x = tf.constant(rng.normal(size=(32, 16)).astype(np.float32))
y = tf.constant(rng.integers(0, 4, 32).astype(np.int32))
w1 = tf.Variable(rng.normal(size=(16, 32)).astype(np.float32) * 0.1)
b1 = tf.Variable(np.zeros(32, np.float32))
w2 = tf.Variable(rng.normal(size=(32, 4)).astype(np.float32) * 0.1)
b2 = tf.Variable(np.zeros(4, np.float32))
variables = [w1, b1, w2, b2]
opt = tf.keras.optimizers.Adam(1e-3)


def tape_step():
    with tf.GradientTape() as tape:
        h = tf.nn.relu(x @ w1 + b1)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=h @ w2 + b2))
    opt.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


first = float(tape_step())
out = {"tape": growth(tape_step, 2000, int(sys.argv[1]))}
out["tape_loss"] = [first, float(tape_step())]

model = tf.keras.Sequential([tf.keras.Input((16,)), tf.keras.layers.Dense(32, activation="relu"),
                             tf.keras.layers.Dense(4)])
model.compile(optimizer="adam", loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
xn, yn = x.numpy(), y.numpy()
first = float(model.train_on_batch(xn, yn))
out["keras"] = growth(lambda: model.train_on_batch(xn, yn), 500, int(sys.argv[2]))
out["keras_loss"] = [first, float(model.train_on_batch(xn, yn))]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def measured():
    r = subprocess.run([sys.executable, "-c", CHILD, "20000", "3000"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_20k_tape_and_adam_steps_do_not_grow_rss(measured):
    first, last = measured["tape_loss"]
    assert last < first  # the loop trains: each step really ran
    assert measured["tape"] < 1 << 20, f"RSS grew by {measured['tape'] / 1e6:.2f} MB over 20k steps"


def test_keras_train_on_batch_does_not_grow_rss(measured):
    first, last = measured["keras_loss"]
    assert last < first
    assert measured["keras"] < 1 << 20, f"RSS grew by {measured['keras'] / 1e6:.2f} MB over 3k train_on_batch"
