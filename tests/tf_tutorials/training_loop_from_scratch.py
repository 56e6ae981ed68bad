"""After Keras's "Writing a training loop from scratch" guide (TensorFlow backend): a functional
model, a batched tf.data pipeline, a tf.function train step with GradientTape, the optimizer's
`apply`, train/validation metrics updated per batch and reset per epoch, and a layer that adds an
activity-regularization loss through `add_loss` (collected from `model.losses`)."""
import numpy as np
import tensorflow as tf
import keras

rng = np.random.default_rng(21)


class ActivityRegularizationLayer(keras.layers.Layer):
    def call(self, inputs):
        self.add_loss(1e-2 * tf.reduce_sum(inputs))
        return inputs


def get_model():
    inputs = keras.Input(shape=(10,), name="digits")
    x1 = keras.layers.Dense(16, activation="relu")(inputs)
    x2 = keras.layers.Dense(16, activation="relu")(x1)
    x2 = ActivityRegularizationLayer()(x2)
    outputs = keras.layers.Dense(4, name="predictions")(x2)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.get_weights()])
    return model


x_train = rng.random((60, 10)).astype("float32")
y_train = (x_train[:, :4].argmax(axis=1)).astype("int64")
x_val = rng.random((20, 10)).astype("float32")
y_val = (x_val[:, :4].argmax(axis=1)).astype("int64")
batch_size = 16
train_dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(batch_size)
val_dataset = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(batch_size)

model = get_model()
optimizer = keras.optimizers.Adam(learning_rate=1e-2)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
train_acc_metric = keras.metrics.SparseCategoricalAccuracy()
val_acc_metric = keras.metrics.SparseCategoricalAccuracy()
print("regularization losses before a call:", len(model.losses))


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss_value = loss_fn(y, logits)
        loss_value += sum(model.losses)
    grads = tape.gradient(loss_value, model.trainable_weights)
    optimizer.apply(grads, model.trainable_weights)
    train_acc_metric.update_state(y, logits)
    return loss_value


@tf.function
def test_step(x, y):
    val_logits = model(x, training=False)
    val_acc_metric.update_state(y, val_logits)


for epoch in range(3):
    print(f"Start of epoch {epoch}")
    for step, (x_batch_train, y_batch_train) in enumerate(train_dataset):
        loss_value = train_step(x_batch_train, y_batch_train)
        if step % 2 == 0:
            print(f"Training loss (for 1 batch) at step {step}: {float(loss_value):.4f}")
            print(f"Seen so far: {(step + 1) * batch_size} samples")
    train_acc = train_acc_metric.result()
    print(f"Training acc over epoch: {float(train_acc):.4f}")
    train_acc_metric.reset_state()
    for x_batch_val, y_batch_val in val_dataset:
        test_step(x_batch_val, y_batch_val)
    val_acc = val_acc_metric.result()
    val_acc_metric.reset_state()
    print(f"Validation acc: {float(val_acc):.4f}")

print("final logits:", np.round(model(x_val[:2]).numpy(), 4).tolist())
print("regularization losses of that call:", len(model.losses), round(float(model.losses[0]), 4))
print("optimizer iterations:", int(optimizer.iterations.numpy()))
print("optimizer variables:", len(optimizer.variables))
