"""After TensorFlow's "Convolutional Neural Network (CNN)" tutorial and Keras's "Simple MNIST
convnet" example: uint8 images scaled to [0, 1] in a tf.data pipeline (map, batch, prefetch), a
Conv2D + MaxPooling2D + GlobalMaxPooling2D + Dense classifier built with Sequential, trained by fit
with validation data, evaluated, and a summary of layer output shapes and parameter counts."""
import numpy as np
import tensorflow as tf
from tensorflow.keras import layers, models

rng = np.random.default_rng(12)
num_classes = 4
# small "digits": noise images with a bright square in a class-dependent quadrant
train_labels = rng.integers(0, num_classes, 48)
test_labels = rng.integers(0, num_classes, 16)


def make_images(labels):
    images = rng.integers(0, 60, size=(len(labels), 12, 12, 1)).astype("uint8")
    for i, label in enumerate(labels):
        r, c = divmod(int(label), 2)
        images[i, r * 6 + 1:r * 6 + 5, c * 6 + 1:c * 6 + 5, 0] = 250
    return images


train_images, test_images = make_images(train_labels), make_images(test_labels)
print("train images:", train_images.shape, train_images.dtype, "max:", train_images.max())


def preprocess(image, label):
    return tf.cast(image, tf.float32) / 255.0, label


train_ds = (tf.data.Dataset.from_tensor_slices((train_images, train_labels))
            .map(preprocess, num_parallel_calls=tf.data.AUTOTUNE).batch(12).prefetch(tf.data.AUTOTUNE))
test_ds = tf.data.Dataset.from_tensor_slices((test_images, test_labels)).map(preprocess).batch(8)
images, labels = next(iter(train_ds))
print("batch:", images.shape, images.dtype, labels.dtype, "first label:", int(labels[0]))
print("pixel range:", round(float(tf.reduce_min(images)), 4), round(float(tf.reduce_max(images)), 4))

model = models.Sequential()
model.add(tf.keras.Input(shape=(12, 12, 1)))
model.add(layers.Conv2D(4, (3, 3), activation="relu"))
model.add(layers.MaxPooling2D((2, 2)))
model.add(layers.Conv2D(8, (3, 3), activation="relu", padding="same"))
model.add(layers.GlobalMaxPooling2D())
model.add(layers.Dense(8, activation="relu"))
model.add(layers.Dense(num_classes))
for layer in model.layers:
    print(f"{layer.name:<24}{str(layer.output.shape):<20}{layer.count_params()}")
print("Total params:", model.count_params())
model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])

model.compile(optimizer=tf.keras.optimizers.Adam(0.01),
              loss=tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
history = model.fit(train_ds, epochs=4, validation_data=test_ds, verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 4) for v in history.history[key]])
test_loss, test_acc = model.evaluate(test_ds, verbose=0)
print("test:", round(test_loss, 4), round(test_acc, 4))

probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
predictions = probability_model.predict(test_ds, verbose=0)
print("predictions:", predictions.shape, "row sums:", np.round(predictions.sum(axis=1)[:4], 4).tolist())
print("predicted classes:", np.argmax(predictions, axis=1).tolist())
print("true classes:     ", test_labels.tolist())
