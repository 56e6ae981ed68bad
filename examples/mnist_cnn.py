"""An MNIST-style CNN classifier with `Sequential` + `fit`, as in Keras's "Simple MNIST convnet"
example, with `import tapegrad as tf` and synthetic digits (no download): each class is a fixed
random 28x28 stroke pattern, and every sample is its class's pattern shifted by up to one pixel
plus noise, stored as uint8 like MNIST.

    python examples/mnist_cnn.py                 # 6000 samples, 3 epochs, progress bar
    python examples/mnist_cnn.py --samples 1000 --epochs 1
"""

import argparse

import numpy as np

import tapegrad as tf

NUM_CLASSES = 10


def make_digits(n, seed=0):
    """(x uint8 [n, 28, 28], y int64 [n]): shifted class patterns plus noise."""
    rng = np.random.default_rng(seed)
    patterns = (rng.random((NUM_CLASSES, 28, 28)) < 0.15).astype(np.float32)
    y = rng.integers(0, NUM_CLASSES, size=n)
    shifts = rng.integers(-1, 2, size=(n, 2))
    x = np.empty((n, 28, 28), np.float32)
    for i in range(n):
        x[i] = np.roll(patterns[y[i]], tuple(shifts[i]), axis=(0, 1))
    x = np.clip(x * 200 + rng.normal(0, 30, x.shape), 0, 255)
    return x.astype(np.uint8), y


def build_model():
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(28, 28, 1)),
            tf.keras.layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
            tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
            tf.keras.layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            tf.keras.layers.MaxPooling2D(pool_size=(2, 2)),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dropout(0.25),
            tf.keras.layers.Dense(NUM_CLASSES, activation="softmax"),
        ]
    )


def main(samples=6000, epochs=3, batch_size=128, verbose=1):
    tf.keras.utils.set_random_seed(0)
    x, y = make_digits(samples)
    x = np.expand_dims(x.astype("float32") / 255.0, -1)  # as the Keras example does
    split = samples * 5 // 6
    x_train, y_train, x_test, y_test = x[:split], y[:split], x[split:], y[split:]

    model = build_model()
    model.summary()
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_split=0.1, verbose=verbose)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"Test loss: {loss:.4f}")
    print(f"Test accuracy: {accuracy:.4f}")
    return history, accuracy


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--verbose", type=int, default=1)
    a = p.parse_args()
    main(a.samples, a.epochs, a.batch_size, a.verbose)
