"""The closing example of TensorFlow's "Basic training loops" tutorial, with `import tapegrad as tf`.

Fits y = 3x + 2 + noise with a GradientTape, the MSE loss and the SGD optimizer, printing the loss
as it falls; ends with w close to 3 and b close to 2. With `--function` the training step is a
`@tf.function`: traced on the first epoch, replayed by the engine after (the same numbers).
"""

import argparse

import numpy as np

import tapegrad as tf

TRUE_W, TRUE_B = 3.0, 2.0
NUM_EXAMPLES = 1000


def make_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(NUM_EXAMPLES).astype("float32")
    noise = rng.standard_normal(NUM_EXAMPLES).astype("float32")
    return tf.constant(x), tf.constant(x * TRUE_W + TRUE_B + noise)


class MyModel:
    """y = w * x + b with the tutorial's initial values w = 5, b = 0."""

    def __init__(self):
        self.w = tf.Variable(5.0, name="w")
        self.b = tf.Variable(0.0, name="b")

    def __call__(self, x):
        return self.w * x + self.b

    @property
    def trainable_variables(self):
        return [self.w, self.b]


def train(epochs=40, learning_rate=0.1, verbose=True, function=False):
    x, y = make_data()
    model = MyModel()
    loss_fn = tf.keras.losses.MeanSquaredError()
    optimizer = tf.keras.optimizers.SGD(learning_rate=learning_rate)

    def train_step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    step = tf.function(train_step) if function else train_step
    losses = []
    for epoch in range(epochs):
        loss = step(x, y)
        losses.append(float(loss))
        if verbose and (epoch % 5 == 0 or epoch == epochs - 1):
            print(f"Epoch {epoch:2d}: W={float(model.w):1.2f} b={float(model.b):1.2f}, loss={float(loss):2.5f}")
    return model, losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--function", action="store_true", help="run the training step as a @tf.function")
    model, losses = train(function=parser.parse_args().function)
    print(f"Final: w = {float(model.w):.3f} (true {TRUE_W}), b = {float(model.b):.3f} (true {TRUE_B})")
