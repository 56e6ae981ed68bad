"""A functional Keras model with two inputs and two outputs, after Keras's "Functional API"
guide (the ticket-ranking example), with `import tapegrad as tf` and synthetic data: a title
(word ids) and tags (multi-hot) predict a priority score and a department.

    python examples/functional_two_inputs.py               # 3 epochs
    python examples/functional_two_inputs.py --epochs 1 --samples 500
"""

import argparse
import os
import tempfile

import numpy as np

import tapegrad as tf

NUM_WORDS, NUM_TAGS, NUM_DEPARTMENTS, TITLE_LEN = 1000, 12, 4, 10


def make_tickets(n, seed=0):
    rng = np.random.default_rng(seed)
    title = rng.integers(1, NUM_WORDS, size=(n, TITLE_LEN))
    tags = (rng.random((n, NUM_TAGS)) < 0.2).astype("float32")
    department = tags[:, :NUM_DEPARTMENTS].argmax(1)
    priority = ((title[:, :3].mean(1) / NUM_WORDS) * 0.5 + tags[:, :3].mean(1) * 0.5).astype("float32")
    return {"title": title, "tags": tags}, {"priority": priority[:, None], "department": department}


def build_model():
    title_input = tf.keras.Input(shape=(TITLE_LEN,), name="title", dtype="int32")
    tags_input = tf.keras.Input(shape=(NUM_TAGS,), name="tags")
    title_features = tf.keras.layers.Embedding(NUM_WORDS, 32)(title_input)
    title_features = tf.keras.layers.GlobalAveragePooling1D()(title_features)
    x = tf.keras.layers.concatenate([title_features, tags_input])
    x = tf.keras.layers.Dense(32, activation="relu")(x)
    priority = tf.keras.layers.Dense(1, name="priority")(x)
    department = tf.keras.layers.Dense(NUM_DEPARTMENTS, name="department")(x)
    return tf.keras.Model(inputs=[title_input, tags_input], outputs={"priority": priority, "department": department})


def main(epochs=3, samples=3000, verbose=2):
    tf.keras.utils.set_random_seed(0)
    x, y = make_tickets(samples)
    model = build_model()
    model.summary()
    model.compile(
        optimizer=tf.keras.optimizers.Adam(1e-3),
        loss={
            "priority": tf.keras.losses.MeanSquaredError(),
            "department": tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"department": ["accuracy"]},
    )
    history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2, verbose=verbose)
    path = os.path.join(tempfile.mkdtemp(prefix="tapegrad_"), "tickets.weights.h5")
    model.save_weights(path)
    again = build_model()
    again.load_weights(path)
    sample = {"title": x["title"][:4], "tags": x["tags"][:4]}
    same = np.allclose(again.predict(sample, verbose=0)["department"], model.predict(sample, verbose=0)["department"])
    print(f"Weights saved to {path}; reloaded model gives the same predictions: {same}")
    return history, same


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--verbose", type=int, default=2)
    a = p.parse_args()
    main(a.epochs, a.samples, a.verbose)
