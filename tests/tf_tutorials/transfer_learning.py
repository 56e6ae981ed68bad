"""After Keras's "Transfer learning & fine-tuning" guide: trainable vs non-trainable weights,
freezing layers (`trainable = False`) and models, BatchNormalization kept in inference mode
(`training=False`) under a frozen base, training the new head, then unfreezing and fine-tuning
with a low learning rate (recompiling after changing `trainable`)."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(3)

layer = keras.layers.Dense(3)
layer.build((None, 4))
print("weights:", len(layer.weights), "trainable_weights:", len(layer.trainable_weights),
      "non_trainable_weights:", len(layer.non_trainable_weights))

layer = keras.layers.BatchNormalization()
layer.build((None, 4))
print("weights:", len(layer.weights), "trainable_weights:", len(layer.trainable_weights),
      "non_trainable_weights:", len(layer.non_trainable_weights))

layer = keras.layers.Dense(3)
layer.build((None, 4))
layer.trainable = False
print("frozen weights:", len(layer.weights), "trainable_weights:", len(layer.trainable_weights),
      "non_trainable_weights:", len(layer.non_trainable_weights))

# frozen layers do not move during training
layer1 = keras.layers.Dense(3, activation="relu")
layer2 = keras.layers.Dense(3, activation="sigmoid")
model = keras.Sequential([keras.Input(shape=(3,)), layer1, layer2])
model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
layer1.trainable = False
initial_layer1_weights_values = layer1.get_weights()
model.compile(optimizer="adam", loss="mse")
model.fit(rng.random((8, 3)).astype("float32"), rng.random((8, 3)).astype("float32"), verbose=0, shuffle=False)
final_layer1_weights_values = layer1.get_weights()
print("layer1 unchanged:", all(np.array_equal(a, b) for a, b in
                               zip(initial_layer1_weights_values, final_layer1_weights_values)))

# recursive setting of trainable
inner_model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(3, activation="relu"),
                                keras.layers.Dense(3, activation="relu")])
model = keras.Sequential([keras.Input(shape=(3,)), inner_model, keras.layers.Dense(3, activation="sigmoid")])
model.trainable = False
assert inner_model.trainable_weights == []
assert inner_model.layers[0].trainable is False
print("recursively frozen:", len(model.trainable_weights), len(model.non_trainable_weights))

# a "pretrained" base with BatchNormalization, a new head, train, then fine-tune
base_inputs = keras.Input(shape=(6, 6, 2))
h = keras.layers.Conv2D(4, 3, use_bias=False)(base_inputs)
h = keras.layers.BatchNormalization()(h)
h = keras.layers.Activation("relu")(h)
base_model = keras.Model(base_inputs, h, name="base")
kernel = rng.normal(0, 0.4, (3, 3, 2, 4)).astype("float32")
gamma, beta = np.full(4, 1.5, "float32"), np.full(4, 0.1, "float32")
moving_mean, moving_var = rng.normal(0, 0.1, 4).astype("float32"), np.full(4, 0.8, "float32")
base_model.set_weights([kernel, gamma, beta, moving_mean, moving_var])
base_model.trainable = False

inputs = keras.Input(shape=(6, 6, 2))
x = base_model(inputs, training=False)
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(1)(x)
model = keras.Model(inputs, outputs)
model.layers[-1].set_weights([rng.normal(0, 0.5, (4, 1)).astype("float32"), np.zeros(1, "float32")])
print("trainable:", len(model.trainable_weights), "non-trainable:", len(model.non_trainable_weights))

xs = rng.random((32, 6, 6, 2)).astype("float32")
ys = (xs.mean(axis=(1, 2, 3)) > 0.5).astype("float32")[:, None]
train_ds = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(8)
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
history = model.fit(train_ds, epochs=3, verbose=0)
print("head loss:", [round(v, 5) for v in history.history["loss"]])
print("head acc:", [round(v, 5) for v in history.history["binary_accuracy"]])
bn = base_model.layers[2]
print("bn moving mean unchanged:", np.allclose(bn.moving_mean.numpy(), moving_mean))

base_model.trainable = True
print("unfrozen trainable:", len(model.trainable_weights), "non-trainable:", len(model.non_trainable_weights))
model.compile(optimizer=keras.optimizers.Adam(1e-4), loss=keras.losses.BinaryCrossentropy(from_logits=True),
              metrics=[keras.metrics.BinaryAccuracy()])
history = model.fit(train_ds, epochs=2, verbose=0)
print("fine-tune loss:", [round(v, 5) for v in history.history["loss"]])
print("bn moving mean still unchanged:", np.allclose(bn.moving_mean.numpy(), moving_mean))
print("kernel moved:", not np.allclose(base_model.layers[1].kernel.numpy(), kernel))
print("eval:", [round(v, 5) for v in model.evaluate(train_ds, verbose=0)])


# Keras 3 tracks its own variables: a tf.Variable attribute of a Model is not one of its weights
class WithTFVariable(keras.Model):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable(5.0)
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x) * self.w


m = WithTFVariable()
m(np.ones((1, 2), "float32"))
print("tf.Variable attribute:", len(m.weights), len(m.trainable_weights))
