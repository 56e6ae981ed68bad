"""After TensorFlow's "Basic text classification" tutorial: integer-encoded reviews in a tf.data
pipeline (from_tensor_slices, batch, cache, prefetch), a model of Embedding + Dropout +
GlobalAveragePooling1D + Dense, trained by fit with validation_data from a dataset, then evaluated,
and an export model that ends in a sigmoid."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, losses

rng = np.random.default_rng(9)
max_features, sequence_length, embedding_dim = 50, 10, 8

# "reviews": token ids; the label says whether the "good" tokens (< 25) are the majority
def make_split(n):
    x = rng.integers(1, max_features, size=(n, sequence_length)).astype("int64")
    y = ((x < 25).sum(axis=1) > sequence_length // 2).astype("float32")
    return x, y


train_x, train_y = make_split(96)
val_x, val_y = make_split(32)
test_x, test_y = make_split(32)
print("label balance:", int(train_y.sum()), int(val_y.sum()), int(test_y.sum()))

AUTOTUNE = tf.data.AUTOTUNE
raw_train_ds = tf.data.Dataset.from_tensor_slices((train_x, train_y)).batch(16)
val_ds = tf.data.Dataset.from_tensor_slices((val_x, val_y)).batch(16).cache().prefetch(buffer_size=AUTOTUNE)
test_ds = tf.data.Dataset.from_tensor_slices((test_x, test_y)).batch(16)
train_ds = raw_train_ds.cache().prefetch(buffer_size=AUTOTUNE)
print("cardinality:", int(train_ds.cardinality()), int(val_ds.cardinality()))
for text_batch, label_batch in raw_train_ds.take(1):
    print("review", text_batch.numpy()[0].tolist(), "label", float(label_batch.numpy()[0]))
print("element_spec:", train_ds.element_spec)

model = tf.keras.Sequential([
    tf.keras.Input(shape=(sequence_length,), dtype="int64"),
    layers.Embedding(max_features, embedding_dim),
    layers.Dropout(0.0),
    layers.GlobalAveragePooling1D(),
    layers.Dropout(0.0),
    layers.Dense(1)])
model.set_weights([rng.normal(0, 0.2, w.shape).astype("float32") for w in model.get_weights()])
print("params:", model.count_params(), [layer.__class__.__name__ for layer in model.layers])
model.compile(loss=losses.BinaryCrossentropy(from_logits=True),
              optimizer=tf.keras.optimizers.SGD(1.0),
              metrics=[tf.metrics.BinaryAccuracy(threshold=0.0)])
history = model.fit(train_ds, validation_data=val_ds, epochs=4, verbose=0)
history_dict = history.history
print("history keys:", sorted(history_dict.keys()))
for key in sorted(history_dict):
    print(key, [round(v, 5) for v in history_dict[key]])
loss, accuracy = model.evaluate(test_ds, verbose=0)
print("test loss:", round(loss, 5), "test accuracy:", round(accuracy, 5))

export_model = tf.keras.Sequential([model, layers.Activation("sigmoid")])
export_model.compile(loss=losses.BinaryCrossentropy(from_logits=False), optimizer="adam", metrics=["accuracy"])
metrics = export_model.evaluate(test_ds, return_dict=True, verbose=0)
print("export metrics:", {k: round(v, 5) for k, v in sorted(metrics.items())})
examples = tf.constant(test_x[:3])
print("export predictions:", np.round(export_model.predict(examples, verbose=0), 5).tolist())
