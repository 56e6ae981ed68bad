"""Keras 3's surface beside the layers, after keras.io's "Customizing what happens in fit()",
"Variational AutoEncoder" (a sampling layer with `keras.random` and a `SeedGenerator`), "Save,
serialize, and export models" and "Working with RNNs"' `pad_sequences`: `keras.ops` in a custom
layer, `keras.utils` (`to_categorical`, `pad_sequences`, `PyDataset`), `model.save(".keras")` and
`keras.models.load_model` with a registered custom layer, `tf.version.VERSION`."""
import os

import numpy as np
import tensorflow as tf
import keras
from keras import layers, ops

print("TF major version:", tf.version.VERSION.split(".")[0], tf.__version__ == tf.version.VERSION)

x = np.arange(12, dtype="float32").reshape(3, 4) / 10.0
print("softmax:", ops.convert_to_numpy(ops.softmax(x)).round(5).tolist())
print("argmax:", ops.convert_to_numpy(ops.argmax(x, axis=-1)).tolist())
print("mean/sum:", float(ops.mean(ops.square(x))), int(ops.sum(ops.cast(x > 0.5, "int32"))))
print("one_hot:", ops.convert_to_numpy(ops.one_hot(np.array([0, 2]), 3)).tolist())
print("stack/reshape:", ops.shape(ops.reshape(ops.stack([x, x]), (2, -1))))
print("to_categorical:", keras.utils.to_categorical([0, 2, 1], 3).tolist())
print("pad_sequences:", keras.utils.pad_sequences([[1, 2, 3], [4]], maxlen=2).tolist())

noise = keras.random.normal((2, 3), seed=keras.random.SeedGenerator(1337))
print("random normal:", tuple(noise.shape), noise.dtype.name)


@keras.saving.register_keras_serializable(package="tutorial")
class Sampling(layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps ~ N(0, 1) scaled by `scale` (0 keeps it deterministic)."""

    def __init__(self, scale=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        eps = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * eps * self.scale

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class Batches(keras.utils.PyDataset):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        rng = np.random.default_rng(i)
        xb = rng.random((8, 4)).astype("float32")
        return xb, keras.utils.to_categorical((xb.sum(1) > 2).astype("int32"), 2)


inputs = keras.Input((4,))
h = layers.Dense(3)(inputs)
z = Sampling()([h, h])
outputs = layers.Dense(2, activation="softmax")(z)
model = keras.Model(inputs, outputs)
rng = np.random.default_rng(0)
model.set_weights([rng.standard_normal(w.shape).astype("float32") * 0.5 for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy", metrics=["accuracy"])
hist = model.fit(Batches(workers=2), epochs=3, shuffle=False, verbose=0)
print("losses:", [round(v, 5) for v in hist.history["loss"]])

path = os.path.join(os.getcwd(), "tutorial_model.keras")
model.save(path)
again = keras.models.load_model(path)
probe = np.linspace(0, 1, 8, dtype="float32").reshape(2, 4)
print("reloaded predictions:", again.predict(probe, verbose=0).round(5).tolist())
print("same as saved:", bool(np.allclose(again.predict(probe, verbose=0), model.predict(probe, verbose=0))))
print("custom layer:", type(again.layers[2]).__name__, again.layers[2].scale)
print("optimizer iterations:", int(again.optimizer.iterations.numpy()))
config = model.get_config()
clone = keras.Model.from_config(config)
print("from_config layers:", [type(layer).__name__ for layer in clone.layers])
