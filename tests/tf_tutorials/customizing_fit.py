"""After Keras's "Customizing what happens in fit()" guide: a Model subclass with its own
train_step and metrics, trained by fit on fixed data."""
import numpy as np
import tensorflow as tf
import keras

rng = np.random.default_rng(2)
x = rng.random((256, 32)).astype("float32")
y = rng.random((256, 1)).astype("float32")


class CustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, y_pred))
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


inputs = keras.Input(shape=(32,))
hidden = keras.layers.Dense(16, activation="tanh")(inputs)
outputs = keras.layers.Dense(1)(hidden)
model = CustomModel(inputs, outputs)
model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") for w in model.get_weights()])
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05))
history = model.fit(x, y, epochs=4, batch_size=32, shuffle=False, verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 5) for v in history.history[key]])
print("prediction:", np.round(model.predict(x[:3], verbose=0), 5).tolist())
