"""After Keras's "Writing your own callbacks" guide and the metrics part of "Training & evaluation
with the built-in methods": a custom Callback printing the hooks it sees with their logs, a
LearningRateScheduler, ReduceLROnPlateau, LambdaCallback, standalone metrics (Mean,
SparseCategoricalAccuracy, AUC, Precision/Recall) with update_state/result/reset_state, and a
custom stateful Metric subclass used in compile."""
import numpy as np
import tensorflow as tf
from tensorflow import keras

rng = np.random.default_rng(8)
x_train = rng.random((40, 6)).astype("float32")
y_train = rng.integers(0, 3, 40)
x_val = rng.random((12, 6)).astype("float32")
y_val = rng.integers(0, 3, 12)


def get_model(lr=0.1):
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3)])
    model.set_weights([np.random.default_rng(1).normal(0, 0.4, w.shape).astype("float32")
                       for w in model.get_weights()])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    return model


def fmt(logs):
    return {k: round(float(v), 4) for k, v in sorted((logs or {}).items())}


class CustomCallback(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        print("Starting training; got log keys:", sorted((logs or {}).keys()))

    def on_train_end(self, logs=None):
        print("Stop training;", fmt(logs))

    def on_epoch_begin(self, epoch, logs=None):
        print(f"Start epoch {epoch} of training")

    def on_epoch_end(self, epoch, logs=None):
        print(f"End epoch {epoch} of training;", fmt(logs))

    def on_test_begin(self, logs=None):
        print("Start testing")

    def on_test_end(self, logs=None):
        print("Stop testing;", fmt(logs))

    def on_predict_begin(self, logs=None):
        print("Start predicting")

    def on_predict_end(self, logs=None):
        print("Stop predicting")

    def on_train_batch_end(self, batch, logs=None):
        print(f"...Training: end of batch {batch};", fmt(logs))

    def on_test_batch_end(self, batch, logs=None):
        print(f"...Evaluating: end of batch {batch};", fmt(logs))

    def on_predict_batch_end(self, batch, logs=None):
        print(f"...Predicting: end of batch {batch}; outputs", sorted(logs.keys()))


model = get_model()
model.fit(x_train, y_train, batch_size=16, epochs=1, verbose=0, shuffle=False, validation_split=0.25,
          callbacks=[CustomCallback()])
res = model.evaluate(x_val, y_val, batch_size=8, verbose=0, callbacks=[CustomCallback()])
print("evaluate:", [round(v, 4) for v in res])
res = model.predict(x_val, batch_size=8, callbacks=[CustomCallback()], verbose=0)
print("predict:", res.shape)


def scheduler(epoch, lr):
    if epoch < 2:
        return lr
    return lr * 0.5


model = get_model()
lr_cb = keras.callbacks.LearningRateScheduler(scheduler)
seen = []
history = model.fit(x_train, y_train, epochs=4, batch_size=10, shuffle=False, verbose=0,
                    callbacks=[lr_cb, keras.callbacks.LambdaCallback(
                        on_epoch_end=lambda epoch, logs: seen.append(round(float(model.optimizer.learning_rate), 5)))])
print("learning rates:", seen, "history lr:", [round(v, 5) for v in history.history["learning_rate"]])
print("loss:", [round(v, 5) for v in history.history["loss"]])

model = get_model(lr=0.5)
plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_delta=0.05, min_lr=0.05)
history = model.fit(x_train, y_train, epochs=5, batch_size=20, shuffle=False, verbose=0, callbacks=[plateau])
print("plateau lr:", [round(v, 5) for v in history.history["learning_rate"]])
print("plateau loss:", [round(v, 5) for v in history.history["loss"]])

# standalone metrics
m = keras.metrics.Mean()
m.update_state([1, 3, 5, 7])
print("mean:", float(m.result()))
m.update_state([2.0], sample_weight=[3.0])
print("weighted mean:", round(float(m.result()), 5))
m.reset_state()
print("after reset:", float(m.result()), [v.numpy().tolist() for v in m.variables])

acc = keras.metrics.SparseCategoricalAccuracy()
acc.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
print("sparse categorical accuracy:", float(acc.result()))
auc = keras.metrics.AUC(num_thresholds=5)
auc.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
print("auc:", round(float(auc.result()), 5))
precision = keras.metrics.Precision()
recall = keras.metrics.Recall()
y_true, y_pred = [0, 1, 1, 1, 0], [1, 0, 1, 1, 0]
precision.update_state(y_true, y_pred)
recall.update_state(y_true, y_pred)
print("precision:", round(float(precision.result()), 5), "recall:", round(float(recall.result()), 5))


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.reshape(tf.argmax(y_pred, axis=1), shape=(-1, 1))
        values = tf.cast(tf.reshape(y_true, (-1, 1)), "int32") == tf.cast(y_pred, "int32")
        values = tf.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = tf.cast(sample_weight, "float32")
            values = tf.multiply(values, sample_weight)
        self.true_positives.assign_add(tf.reduce_sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


model = get_model()
model.compile(optimizer=keras.optimizers.SGD(0.1),
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=[CategoricalTruePositives(), "sparse_categorical_accuracy"])
history = model.fit(x_train, y_train, batch_size=8, epochs=3, shuffle=False, verbose=0,
                    validation_data=(x_val, y_val))
for key in sorted(history.history):
    print(key, [round(v, 4) for v in history.history[key]])
print("metrics:", [m.name for m in model.metrics])

# fault tolerance: BackupAndRestore resumes an interrupted fit at the epoch it reached
import os  # noqa: E402
import tempfile  # noqa: E402


class InterruptingCallback(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise RuntimeError("Interrupting!")


backup_dir = os.path.join(tempfile.mkdtemp(), "backup")
callback = keras.callbacks.BackupAndRestore(backup_dir=backup_dir)
model = get_model()
try:
    model.fit(x_train, y_train, epochs=5, batch_size=8, shuffle=False, verbose=0,
              callbacks=[callback, InterruptingCallback()])
except RuntimeError as e:
    print("fit interrupted:", e)
print("backup files:", sorted(os.listdir(backup_dir)))
model = get_model()
history = model.fit(x_train, y_train, epochs=5, batch_size=8, shuffle=False, verbose=0, callbacks=[callback])
print("resumed epochs:", history.epoch, [round(v, 5) for v in history.history["loss"]])
print("iterations:", int(model.optimizer.iterations.numpy()), "backup kept:", os.path.exists(backup_dir))
