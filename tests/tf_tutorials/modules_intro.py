"""After TF's "Introduction to modules" guide: tf.Module layers, submodules, variables, name scopes,
and a checkpoint round trip."""
import os
import tempfile

import numpy as np
import tensorflow as tf

rng = np.random.default_rng(0)


class Dense(tf.Module):
    def __init__(self, in_features, out_features, name=None):
        super().__init__(name=name)
        self.w = tf.Variable(rng.random((in_features, out_features)).astype("float32"), name="w")
        self.b = tf.Variable(tf.zeros([out_features]), name="b")

    def __call__(self, x):
        y = tf.matmul(x, self.w) + self.b
        return tf.nn.relu(y)


class SequentialModule(tf.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.dense_1 = Dense(in_features=3, out_features=3)
        self.dense_2 = Dense(in_features=3, out_features=2)

    def __call__(self, x):
        x = self.dense_1(x)
        return self.dense_2(x)


my_model = SequentialModule(name="the_model")
print("Model results:", my_model(tf.constant([[2.0, 2.0, 2.0]])).numpy())
print("Results:", my_model(tf.constant([[2.0, -1.0, 0.5]])).numpy())
print("Submodules:", len(my_model.submodules))
for var in my_model.variables:
    print(var.name, var.shape, np.round(var.numpy(), 4).tolist())
print("trainable:", len(my_model.trainable_variables))

chkp_path = os.path.join(tempfile.mkdtemp(), "my_checkpoint")
checkpoint = tf.train.Checkpoint(model=my_model)
checkpoint.write(chkp_path)
new_model = SequentialModule()
new_checkpoint = tf.train.Checkpoint(model=new_model)
new_checkpoint.restore(chkp_path)
print("Restored results:", new_model(tf.constant([[2.0, 2.0, 2.0]])).numpy())


class MLP(tf.Module):
    def __init__(self, sizes, name=None):
        super().__init__(name=name)
        self.layers = []
        with self.name_scope:
            for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
                self.layers.append(Dense(a, b, name=f"dense_{i}"))

    @tf.Module.with_name_scope
    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


mlp = MLP([3, 4, 2], name="mlp")
print("MLP:", mlp(tf.ones([1, 3])).numpy(), len(mlp.trainable_variables), len(mlp.submodules))
