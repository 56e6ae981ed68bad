"""After TensorFlow's "Intro to Autoencoders" tutorial: a dense autoencoder and a convolutional
denoiser written as keras.Model subclasses whose encoder and decoder are Sequential models (built on
first call), trained by fit(x, x) with validation data, then an anomaly-detection threshold from
the reconstruction errors."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, losses
from tensorflow.keras.models import Model

rng = np.random.default_rng(41)
x_train = rng.random((32, 8, 8)).astype("float32")
x_test = rng.random((8, 8, 8)).astype("float32")
print(x_train.shape, x_test.shape)


def fix_weights(model, scale=0.3):
    model.set_weights([rng.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()])


class Autoencoder(Model):
    def __init__(self, latent_dim, shape):
        super().__init__()
        self.latent_dim = latent_dim
        self.shape = shape
        self.encoder = tf.keras.Sequential([
            layers.Flatten(),
            layers.Dense(latent_dim, activation="relu"),
        ])
        self.decoder = tf.keras.Sequential([
            layers.Dense(int(tf.math.reduce_prod(shape)), activation="sigmoid"),
            layers.Reshape(shape),
        ])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


shape = x_test.shape[1:]
autoencoder = Autoencoder(4, shape)
autoencoder(x_train[:1])
fix_weights(autoencoder)
print("autoencoder weights:", [tuple(w.shape) for w in autoencoder.weights])
autoencoder.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss=losses.MeanSquaredError())
history = autoencoder.fit(x_train, x_train, epochs=3, batch_size=8, shuffle=False, validation_data=(x_test, x_test),
                          verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 5) for v in history.history[key]])
encoded_imgs = autoencoder.encoder(x_test).numpy()
decoded_imgs = autoencoder.decoder(encoded_imgs).numpy()
print("encoded:", encoded_imgs.shape, "decoded:", decoded_imgs.shape, round(float(decoded_imgs.mean()), 5))

noise_factor = 0.2
x_train_noisy = tf.clip_by_value(x_train[..., None] + noise_factor * rng.normal(size=(32, 8, 8, 1)).astype("float32"),
                                 clip_value_min=0.0, clip_value_max=1.0)
x_test_noisy = tf.clip_by_value(x_test[..., None] + noise_factor * rng.normal(size=(8, 8, 8, 1)).astype("float32"),
                                clip_value_min=0.0, clip_value_max=1.0)


class Denoise(Model):
    def __init__(self):
        super().__init__()
        self.encoder = tf.keras.Sequential([
            layers.Input(shape=(8, 8, 1)),
            layers.Conv2D(4, (3, 3), activation="relu", padding="same", strides=2),
            layers.Conv2D(2, (3, 3), activation="relu", padding="same", strides=2)])
        self.decoder = tf.keras.Sequential([
            layers.Conv2DTranspose(2, kernel_size=3, strides=2, activation="relu", padding="same"),
            layers.Conv2DTranspose(4, kernel_size=3, strides=2, activation="relu", padding="same"),
            layers.Conv2D(1, kernel_size=(3, 3), activation="sigmoid", padding="same")])

    def call(self, x):
        encoded = self.encoder(x)
        decoded = self.decoder(encoded)
        return decoded


denoiser = Denoise()
denoiser(x_train_noisy[:1])
fix_weights(denoiser)
print("encoder output:", denoiser.encoder.output_shape)
denoiser.compile(optimizer=tf.keras.optimizers.Adam(0.01), loss=losses.MeanSquaredError())
history = denoiser.fit(x_train_noisy, x_train[..., None], epochs=3, batch_size=8, shuffle=False,
                       validation_data=(x_test_noisy, x_test[..., None]), verbose=0)
print("denoise loss:", [round(v, 5) for v in history.history["loss"]])
reconstructions = denoiser.predict(x_test_noisy, verbose=0)
test_loss = tf.keras.losses.mae(reconstructions.reshape(8, -1), x_test.reshape(8, -1))
threshold = np.mean(test_loss) + np.std(test_loss)
print("threshold:", round(float(threshold), 5))
preds = tf.math.less(test_loss, threshold)
print("normal:", preds.numpy().tolist())
print("accuracy vs all-normal:", round(float(np.mean(preds.numpy())), 5))
