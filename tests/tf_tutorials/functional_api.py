"""After Keras's "The Functional API" guide: a multi-input, multi-output ticket-ranking model
(text and tag inputs, Embedding + LSTM branches, concatenation, two named heads), layer-graph
inspection (summary parameter counts, inputs/outputs), shared layers, a small ResNet-style block,
and training with per-output losses and loss weights from dicts."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

rng = np.random.default_rng(11)


def fix_weights(model, scale=0.2):
    model.set_weights([rng.normal(0, scale, w.shape).astype("float32") for w in model.get_weights()])


# --- basic model: the encoder of the guide's MNIST example, as a graph of layers
inputs = keras.Input(shape=(16,))
print("input:", inputs.shape, inputs.dtype)
dense = layers.Dense(8, activation="relu")
x = dense(inputs)
x = layers.Dense(8, activation="relu")(x)
outputs = layers.Dense(3)(x)
model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
print(model.name, "params:", model.count_params(), "layers:", [layer.name for layer in model.layers][1:])
print("trainable weights:", len(model.trainable_weights))

# --- multi-input, multi-output
num_tags, num_words, num_departments = 6, 20, 3
title_input = keras.Input(shape=(None,), name="title")
body_input = keras.Input(shape=(None,), name="body")
tags_input = keras.Input(shape=(num_tags,), name="tags")
title_features = layers.Embedding(num_words, 4)(title_input)
body_features = layers.Embedding(num_words, 4)(body_input)
title_features = layers.LSTM(5)(title_features)
body_features = layers.LSTM(3)(body_features)
x = layers.concatenate([title_features, body_features, tags_input])
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(num_departments, name="department")(x)
model = keras.Model(inputs=[title_input, body_input, tags_input], outputs={"priority": priority_pred,
                                                                          "department": department_pred})
print("ticket model params:", model.count_params(), "trainable:", len(model.trainable_weights))
model.summary()
print("input names:", [t.name for t in model.inputs])
fix_weights(model)
model.compile(
    # SGD with momentum (the guide uses RMSprop): TF hands Embedding gradients to the optimizer as
    # IndexedSlices, and Keras squares each slice before summing repeated ids
    optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
    loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
          "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
    loss_weights={"priority": 1.0, "department": 0.2},
)
n = 24
title_data = rng.integers(0, num_words, size=(n, 5))
body_data = rng.integers(0, num_words, size=(n, 7))
tags_data = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
priority_targets = rng.random(size=(n, 1)).astype("float32")
dept_targets = np.eye(num_departments, dtype="float32")[rng.integers(0, num_departments, n)]
history = model.fit({"title": title_data, "body": body_data, "tags": tags_data},
                    {"priority": priority_targets, "department": dept_targets},
                    epochs=3, batch_size=8, shuffle=False, verbose=0)
for key in sorted(history.history):
    print(key, [round(v, 4) for v in history.history[key]])
pred = model.predict({"title": title_data[:2], "body": body_data[:2], "tags": tags_data[:2]}, verbose=0)
print("predict keys:", sorted(pred), "priority:", np.round(pred["priority"], 4).tolist())

# --- a toy ResNet block with add
inputs = keras.Input(shape=(8, 8, 2), name="img")
x = layers.Conv2D(4, 3, activation="relu")(inputs)
block_1_output = layers.MaxPooling2D(2)(x)
x = layers.Conv2D(4, 3, activation="relu", padding="same")(block_1_output)
x = layers.Conv2D(4, 3, activation="relu", padding="same")(x)
block_2_output = layers.add([x, block_1_output])
x = layers.GlobalAveragePooling2D()(block_2_output)
outputs = layers.Dense(2)(x)
resnet = keras.Model(inputs, outputs, name="toy_resnet")
print("toy resnet params:", resnet.count_params(), "output shape:", resnet.output_shape)
resnet.summary()
fix_weights(resnet)
images = rng.random((2, 8, 8, 2)).astype("float32")
print("toy resnet out:", np.round(resnet(images).numpy(), 4).tolist())

# --- shared layers and reusing a layer's graph
shared_embedding = layers.Embedding(10, 3)
text_input_a = keras.Input(shape=(None,), dtype="int32")
text_input_b = keras.Input(shape=(None,), dtype="int32")
encoded_input_a = shared_embedding(text_input_a)
encoded_input_b = shared_embedding(text_input_b)
merged = layers.Concatenate(axis=1)([encoded_input_a, encoded_input_b])
shared = keras.Model([text_input_a, text_input_b], merged)
print("shared embedding weights:", len(shared.weights), "params:", shared.count_params())
shared_embedding.set_weights([np.arange(30, dtype="float32").reshape(10, 3) / 10])
out = shared([np.array([[1, 2]]), np.array([[3]])])
print("shared out:", out.shape, np.round(out.numpy(), 4).tolist())
