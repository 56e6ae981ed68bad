"""After TensorFlow's "TensorFlow 2 quickstart for experts": a subclassed keras.Model (Conv2D,
Flatten, Dense), tf.data pipelines with batch, a tf.function train step and test step using
GradientTape, and keras.metrics.Mean / SparseCategoricalAccuracy objects called directly and reset
each epoch; images and initial weights are fixed."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import Model
from tensorflow.keras.layers import Conv2D, Dense, Flatten

rng = np.random.default_rng(51)
x_train = rng.integers(0, 256, size=(40, 10, 10)).astype("uint8")
y_train = rng.integers(0, 3, 40).astype("uint8")
x_test = rng.integers(0, 256, size=(12, 10, 10)).astype("uint8")
y_test = rng.integers(0, 3, 12).astype("uint8")
x_train, x_test = x_train / 255.0, x_test / 255.0
x_train = x_train[..., tf.newaxis].astype("float32")
x_test = x_test[..., tf.newaxis].astype("float32")
print("shapes:", x_train.shape, x_test.shape, y_train.dtype)

train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(8)
test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(8)


class MyModel(Model):
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2D(4, 3, activation="relu")
        self.flatten = Flatten()
        self.d1 = Dense(16, activation="relu")
        self.d2 = Dense(3)

    def call(self, x):
        x = self.conv1(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)


model = MyModel()
model(x_train[:1])
model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") for w in model.get_weights()])
print("layers:", [layer.name for layer in model.layers], "params:", model.count_params())

loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam(learning_rate=0.01)
train_loss = tf.keras.metrics.Mean(name="train_loss")
train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")
test_loss = tf.keras.metrics.Mean(name="test_loss")
test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    train_loss(loss)
    train_accuracy(labels, predictions)


@tf.function
def test_step(images, labels):
    predictions = model(images, training=False)
    t_loss = loss_object(labels, predictions)
    test_loss(t_loss)
    test_accuracy(labels, predictions)


EPOCHS = 3
for epoch in range(EPOCHS):
    train_loss.reset_state()
    train_accuracy.reset_state()
    test_loss.reset_state()
    test_accuracy.reset_state()
    for images, labels in train_ds:
        train_step(images, labels)
    for test_images, test_labels in test_ds:
        test_step(test_images, test_labels)
    print(
        f"Epoch {epoch + 1}, "
        f"Loss: {train_loss.result():0.4f}, "
        f"Accuracy: {train_accuracy.result() * 100:0.2f}, "
        f"Test Loss: {test_loss.result():0.4f}, "
        f"Test Accuracy: {test_accuracy.result() * 100:0.2f}"
    )
print("metric names:", train_loss.name, train_accuracy.name, [v.name for v in train_loss.variables])
print("optimizer iterations:", int(optimizer.iterations))
