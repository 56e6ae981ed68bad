"""A subclassed Keras model trained in a custom GradientTape loop fed by `tf.data`, with Keras
metrics, a `tf.function` step and checkpoints: the pattern of TF's "Writing a training loop from
scratch" guide, with `import tapegrad as tf` and synthetic data (three Gaussian blobs in 20-D).

    python examples/custom_training_loop.py               # 5 epochs, checkpoints in a temp dir
    python examples/custom_training_loop.py --epochs 2 --ckpt-dir /tmp/ckpts
"""

import argparse
import tempfile

import numpy as np

import tapegrad as tf


class Classifier(tf.keras.Model):
    """Two hidden layers with dropout; returns logits."""

    def __init__(self, num_classes=3):
        super().__init__()
        self.hidden1 = tf.keras.layers.Dense(64, activation="relu")
        self.hidden2 = tf.keras.layers.Dense(64, activation="relu")
        self.dropout = tf.keras.layers.Dropout(0.1)
        self.out = tf.keras.layers.Dense(num_classes)

    def call(self, inputs, training=False):
        x = self.hidden1(inputs)
        x = self.dropout(x, training=training)
        x = self.hidden2(x)
        return self.out(x)


def make_blobs(n, dim=20, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2.0, size=(classes, dim)).astype("float32")
    y = rng.integers(0, classes, size=n).astype("int64")
    x = centers[y] + rng.normal(0, 1.5, size=(n, dim)).astype("float32")
    return x, y


def main(epochs=5, batch_size=64, samples=4000, ckpt_dir=None):
    tf.random.set_seed(0)
    x, y = make_blobs(samples)
    split = samples * 4 // 5
    train_ds = (
        tf.data.Dataset.from_tensor_slices((x[:split], y[:split]))
        .shuffle(1024, seed=0)
        .batch(batch_size)
        .prefetch(tf.data.AUTOTUNE)
    )
    val_ds = tf.data.Dataset.from_tensor_slices((x[split:], y[split:])).batch(256)

    model = Classifier()
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    train_loss = tf.keras.metrics.Mean(name="train_loss")
    train_acc = tf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")
    val_acc = tf.keras.metrics.SparseCategoricalAccuracy(name="val_accuracy")

    ckpt_dir = ckpt_dir or tempfile.mkdtemp(prefix="tapegrad_ckpt_")
    ckpt = tf.train.Checkpoint(step=tf.Variable(0, dtype=tf.int64), optimizer=optimizer, model=model)
    manager = tf.train.CheckpointManager(ckpt, ckpt_dir, max_to_keep=3)

    @tf.function
    def train_step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss = loss_fn(yb, logits)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        train_loss.update_state(loss)
        train_acc.update_state(yb, logits)

    for epoch in range(epochs):
        for metric in (train_loss, train_acc, val_acc):
            metric.reset_state()
        for xb, yb in train_ds:
            train_step(xb, yb)
            ckpt.step.assign_add(1)
        for xb, yb in val_ds:
            val_acc.update_state(yb, model(xb, training=False))
        path = manager.save()
        print(
            f"Epoch {epoch + 1}: loss {train_loss.result():.4f}, accuracy {train_acc.result():.4f}, "
            f"val accuracy {val_acc.result():.4f}, saved {path}"
        )

    restored = Classifier()
    restored(x[:1])  # build the variables, then restore into them
    tf.train.Checkpoint(model=restored).restore(manager.latest_checkpoint).expect_partial()
    same = np.allclose(restored(x[:8]).numpy(), model(x[:8]).numpy())
    print(f"Restored from {manager.latest_checkpoint}: same predictions: {same}")
    return float(val_acc.result()), same


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--samples", type=int, default=4000)
    p.add_argument("--ckpt-dir", default=None)
    a = p.parse_args()
    main(a.epochs, a.batch_size, a.samples, a.ckpt_dir)
