"""Data-parallel training with Horovod's API on tapegrad: every rank trains on its own shard of the
data, gradients are averaged over the ranks by MPI, rank 0 prints the loss and saves the checkpoint.
A Horovod TF-2 script becomes this one by changing its two imports.

    mpiexec -n 2 python examples/distributed_training.py
    python examples/distributed_training.py                  # the same script, one process
    mpiexec -n 4 python examples/distributed_training.py --steps 100 --ckpt-dir /tmp/ckpt

Needs the mpi extra: pip install "tapegrad[mpi]". Synthetic data: three Gaussian blobs in 20-D.
"""

import argparse
import os
import tempfile

import numpy as np

import tapegrad as tf
import tapegrad.distribute as hvd


def make_blobs(n, dim=20, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2.0, size=(classes, dim)).astype("float32")
    y = rng.integers(0, classes, size=n).astype("int32")
    x = centers[y] + rng.normal(0, 1.5, size=(n, dim)).astype("float32")
    return x, y


def main(steps=60, batch_size=32, samples=4096, ckpt_dir=None):
    hvd.init()
    tf.config.set_num_threads(max(1, (os.cpu_count() or 1) // hvd.local_size()))  # share the cores

    # every rank makes the same data set and keeps its shard
    x, y = make_blobs(samples)
    x, y = x[hvd.rank() :: hvd.size()], y[hvd.rank() :: hvd.size()]

    tf.random.set_seed(hvd.rank())  # different initial weights per rank: the broadcast below fixes that
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(64, activation="relu"),
            tf.keras.layers.Dense(3),
        ]
    )
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt = tf.keras.optimizers.Adam(1e-3 * hvd.size())  # Horovod's rule: scale the learning rate by size

    rng = np.random.default_rng(hvd.rank())
    for step in range(steps):
        idx = rng.integers(0, len(x), batch_size)
        xb, yb = tf.constant(x[idx]), tf.constant(y[idx])
        with tf.GradientTape() as tape:
            loss = loss_fn(yb, model(xb, training=True))
        tape = hvd.DistributedGradientTape(tape)
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        if step == 0:
            # start every rank from rank 0's weights and optimizer state (after the first step, when
            # the optimizer's slots exist), as Horovod's examples do
            hvd.broadcast_variables(model.variables, root_rank=0)
            hvd.broadcast_variables(opt.variables, root_rank=0)
        if step % 10 == 0 or step == steps - 1:
            mean_loss = float(hvd.allreduce(loss))  # the loss averaged over the ranks
            if hvd.rank() == 0:
                print(f"step {step:4d}  loss {mean_loss:.4f}  ({hvd.size()} ranks x {batch_size} examples)", flush=True)

    if hvd.rank() == 0:  # one writer
        ckpt_dir = ckpt_dir or tempfile.mkdtemp(prefix="tapegrad_dist_")
        path = tf.train.Checkpoint(model=model, optimizer=opt).save(os.path.join(ckpt_dir, "ckpt"))
        print(f"saved checkpoint {path}")
    return model


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=32, help="examples per rank and step")
    ap.add_argument("--ckpt-dir", default=None)
    a = ap.parse_args()
    main(a.steps, a.batch_size, ckpt_dir=a.ckpt_dir)
