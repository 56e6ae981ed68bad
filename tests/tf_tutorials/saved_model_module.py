"""After TensorFlow's "Using the SavedModel format" guide: a tf.Module with variables and
tf.function methods (one with an input_signature of tf.TensorSpec), exported with
tf.saved_model.save (signatures included), loaded back with tf.saved_model.load, called, its
variables inspected and trained further with a GradientTape."""
import os
import tempfile

import numpy as np
import tensorflow as tf


class CustomModule(tf.Module):
    def __init__(self):
        super().__init__()
        self.v = tf.Variable(1.0)
        self.w = tf.Variable(np.array([[0.5, -1.0], [2.0, 0.25]], "float32"), name="w")

    @tf.function
    def __call__(self, x):
        return x * self.v

    @tf.function(input_signature=[tf.TensorSpec(shape=[None, 2], dtype=tf.float32)])
    def project(self, x):
        return tf.matmul(x, self.w) + self.v

    @tf.function(input_signature=[tf.TensorSpec([], tf.float32)])
    def mutate(self, new_v):
        self.v.assign(new_v)


module = CustomModule()
print("trainable variables:", len(module.trainable_variables))
print("call:", module(tf.constant(2.0)).numpy())
print("call again:", module(tf.constant(3.0)).numpy())
print("traces:", module.__call__.experimental_get_tracing_count())
print("project:", module.project(tf.constant([[1.0, 2.0]])).numpy().tolist())

module_no_signatures_path = os.path.join(tempfile.mkdtemp(), "module_no_signatures")
module(tf.constant(0.0))
print("Saving model...")
tf.saved_model.save(module, module_no_signatures_path)
imported = tf.saved_model.load(module_no_signatures_path)
print("imported v:", imported.v.numpy())
print("imported call:", imported(tf.constant(3.0)).numpy())
print("imported project:", imported.project(tf.constant([[1.0, 2.0], [0.0, -1.0]])).numpy().tolist())
imported.mutate(tf.constant(2.0))
print("after mutate:", imported(tf.constant(3.0)).numpy(), "original v:", module.v.numpy())
print("imported variables:", [v.shape.as_list() for v in (imported.v, imported.w)])

# exporting with an explicit serving signature
call = module.__call__.get_concrete_function(tf.TensorSpec(None, tf.float32))
signature_path = os.path.join(tempfile.mkdtemp(), "module_with_signature")
tf.saved_model.save(module, signature_path, signatures=call)
imported_with_signatures = tf.saved_model.load(signature_path)
print("signature keys:", list(imported_with_signatures.signatures.keys()))
serving = imported_with_signatures.signatures["serving_default"]
out = serving(x=tf.constant([1.0, 4.0]))
print("serving outputs:", {k: v.numpy().tolist() for k, v in out.items()})

# fine-tuning the loaded variables
optimizer = tf.keras.optimizers.SGD(0.1)
x = tf.constant([[1.0, 1.0], [2.0, -1.0]])
target = tf.constant([[1.0, 0.0], [0.0, 1.0]])
for step in range(3):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((imported.project(x) - target) ** 2)
    grads = tape.gradient(loss, [imported.v, imported.w])
    optimizer.apply_gradients(zip(grads, [imported.v, imported.w]))
    print("step", step, "loss", round(float(loss), 5))
print("tuned v:", round(float(imported.v.numpy()), 5))

# a Keras model in a tf.Module wrapper, exported and reloaded
keras_model = tf.keras.Sequential([tf.keras.Input(shape=(3,)), tf.keras.layers.Dense(2, activation="relu"),
                                   tf.keras.layers.Dense(1)])
keras_model.set_weights([np.linspace(-1, 1, w.size).reshape(w.shape).astype("float32")
                         for w in keras_model.get_weights()])


class Exporter(tf.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def serve(self, x):
        return {"score": self.model(x)}


exporter = Exporter(keras_model)
path = os.path.join(tempfile.mkdtemp(), "exporter")
tf.saved_model.save(exporter, path, signatures={"serving_default": exporter.serve})
reloaded = tf.saved_model.load(path)
batch = tf.constant([[1.0, 2.0, 3.0], [-1.0, 0.5, 0.0]])
print("reloaded serve:", np.round(reloaded.serve(batch)["score"].numpy(), 5).tolist())
print("reloaded signature:", np.round(reloaded.signatures["serving_default"](x=batch)["score"].numpy(), 5).tolist())
