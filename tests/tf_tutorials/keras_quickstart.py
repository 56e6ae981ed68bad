"""After TF's "TensorFlow 2 quickstart for beginners": Sequential, compile, fit, evaluate and a
probability model, on synthetic MNIST-shaped data with fixed initial weights."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)
x_train = rng.integers(0, 256, size=(512, 28, 28)).astype("uint8")
y_train = (x_train[:, 10:18, 10:18].mean(axis=(1, 2)) // 26).astype("int64") % 10
x_test, y_test = x_train[:64], y_train[:64]
x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential([
    tf.keras.layers.Input(shape=(28, 28)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(64, activation="relu"),
    tf.keras.layers.Dense(10),
])
model.set_weights([rng.normal(0, 0.05, w.shape).astype("float32") for w in model.get_weights()])

predictions = model(x_train[:1]).numpy()
print("logits:", np.round(predictions, 5))
print("softmax:", np.round(tf.nn.softmax(predictions).numpy(), 5))
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
print(f"initial loss: {loss_fn(y_train[:1], predictions).numpy():.5f}")

model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=3, batch_size=32, shuffle=False, verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 4) for v in history.history[key]])
loss, acc = model.evaluate(x_test, y_test, verbose=0)
print(f"evaluate: loss {loss:.4f} accuracy {acc:.4f}")

probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
print("probabilities:", np.round(probability_model(x_test[:2]).numpy(), 4))
print("params:", model.count_params())
