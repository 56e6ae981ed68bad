"""After Keras's "Working with preprocessing layers" guide and TF's "Basic training loops" guide:
Normalization.adapt on a NumPy array and on a tf.data dataset, Rescaling, Resizing and CenterCrop
inside a model, preprocessing in a tf.data map, then a tf.Module linear model trained by a plain
GradientTape loop and the same model as a keras.Model subclass trained by fit."""
import numpy as np
import tensorflow as tf
import keras
from keras import layers

rng = np.random.default_rng(17)

data = np.array([[0.1, 0.2, 0.3], [0.8, 0.9, 1.0], [1.5, 1.6, 1.7]], "float32")
layer = layers.Normalization()
layer.adapt(data)
normalized_data = layer(data)
print("Features mean: %.2f" % (normalized_data.numpy().mean()))
print("Features std: %.2f" % (normalized_data.numpy().std()))
print("adapted mean:", np.round(layer.mean.numpy(), 5).tolist(), "variance:",
      np.round(layer.variance.numpy(), 5).tolist())

features = rng.normal(3.0, 2.0, size=(50, 4)).astype("float32")
norm = layers.Normalization(axis=-1)
norm.adapt(tf.data.Dataset.from_tensor_slices(features).batch(8))
print("dataset-adapted mean:", np.round(norm.mean.numpy(), 4).tolist())
print("normalized row:", np.round(norm(features[:1]).numpy(), 4).tolist())
fixed = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
print("fixed stats:", fixed(np.array([[3.0, 3.0]], "float32")).numpy().tolist())
inverted = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0], invert=True)
print("inverted:", inverted(np.array([[1.0, 1.0]], "float32")).numpy().tolist())

images = rng.integers(0, 256, size=(2, 10, 12, 3)).astype("float32")
rescale = layers.Rescaling(scale=1.0 / 127.5, offset=-1)
out = rescale(images)
print("rescaled range:", round(float(tf.reduce_min(out)), 4) >= -1.0, round(float(tf.reduce_max(out)), 4) <= 1.0)
print("resized:", layers.Resizing(5, 6)(images).shape, "cropped:", layers.CenterCrop(4, 4)(images).shape)
print("resize value:", np.round(layers.Resizing(5, 6)(images).numpy()[0, 2, 3], 3).tolist())
print("crop value:", layers.CenterCrop(4, 4)(images).numpy()[1, 0, 0].tolist())

inputs = keras.Input(shape=(10, 12, 3))
x = layers.Rescaling(1.0 / 255)(inputs)
x = layers.CenterCrop(8, 8)(x)
x = layers.Conv2D(2, 3)(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
print("model with preprocessing:", model.count_params(), np.round(model(images).numpy(), 4).tolist())

ds = tf.data.Dataset.from_tensor_slices((features, features.sum(axis=1))).batch(10)
ds = ds.map(lambda x, y: (norm(x), y))
for x, y in ds.take(1):
    print("mapped batch:", x.shape, round(float(tf.reduce_mean(x)), 4))

# "Basic training loops": a tf.Module model and a loop
TRUE_W, TRUE_B = 3.0, 2.0
NUM_EXAMPLES = 201
xs = tf.linspace(-2, 2, NUM_EXAMPLES)
xs = tf.cast(xs, tf.float32)
noise = tf.constant(rng.normal(size=NUM_EXAMPLES).astype("float32"))
ys = xs * TRUE_W + TRUE_B + noise


class MyModel(tf.Module):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = tf.Variable(5.0)
        self.b = tf.Variable(0.0)

    def __call__(self, x):
        return self.w * x + self.b


def loss(target_y, predicted_y):
    return tf.reduce_mean(tf.square(target_y - predicted_y))


def train(model, x, y, learning_rate):
    with tf.GradientTape() as t:
        current_loss = loss(y, model(x))
    dw, db = t.gradient(current_loss, [model.w, model.b])
    model.w.assign_sub(learning_rate * dw)
    model.b.assign_sub(learning_rate * db)


model = MyModel()
print("Variables:", [float(v.numpy()) for v in model.variables])
print("Current loss: %1.6f" % loss(ys, model(xs)).numpy())
for epoch in range(10):
    train(model, xs, ys, learning_rate=0.1)
    if epoch % 3 == 0:
        print("Epoch %2d: W=%1.2f b=%1.2f, loss=%2.5f" % (epoch, model.w.numpy(), model.b.numpy(),
                                                        loss(ys, model(xs)).numpy()))


class MyKerasModel(keras.Model):
    # Keras 3 tracks its own variables only: add_weight (a tf.Variable attribute is not a weight)
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.w = self.add_weight(shape=(), initializer=keras.initializers.Constant(5.0))
        self.b = self.add_weight(shape=(), initializer="zeros")

    def call(self, x):
        return self.w * x + self.b


keras_model = MyKerasModel()
keras_model.compile(run_eagerly=False, optimizer=keras.optimizers.SGD(learning_rate=0.1),
                    loss=keras.losses.mean_squared_error)
print("keras model weights:", len(keras_model.trainable_weights))
history = keras_model.fit(xs, ys, epochs=4, batch_size=1000, verbose=0)
print("keras loss:", [round(v, 5) for v in history.history["loss"]])
print("keras W, b:", round(float(keras_model.w.numpy()), 4), round(float(keras_model.b.numpy()), 4))
