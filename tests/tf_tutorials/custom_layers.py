"""After TF's "Custom layers" and Keras's "Making new layers and models via subclassing" guides."""
import numpy as np
import tensorflow as tf

rng = np.random.default_rng(1)


class MyDenseLayer(tf.keras.layers.Layer):
    def __init__(self, num_outputs):
        super().__init__()
        self.num_outputs = num_outputs

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=[int(input_shape[-1]), self.num_outputs])

    def call(self, inputs):
        return tf.matmul(inputs, self.kernel)


layer = MyDenseLayer(3)
_ = layer(tf.zeros([2, 5]))
layer.set_weights([rng.standard_normal((5, 3)).astype("float32")])
print("out:", layer(tf.ones([1, 5])).numpy())
print("names:", [v.name for v in layer.trainable_variables])


class ActivityRegularizationLayer(tf.keras.layers.Layer):
    def __init__(self, rate=1e-2):
        super().__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * tf.reduce_sum(inputs))
        return inputs


class OuterLayer(tf.keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.activity_reg = ActivityRegularizationLayer(1e-2)

    def call(self, inputs):
        return self.activity_reg(inputs)


outer = OuterLayer()
_ = outer(tf.zeros((1, 1)))
print("losses after zeros:", [float(v) for v in outer.losses])
_ = outer(tf.ones((1, 1)) * 3)
print("losses after threes:", [float(v) for v in outer.losses])


class ResnetIdentityBlock(tf.keras.Model):
    def __init__(self, filters):
        super().__init__(name="")
        self.d1 = tf.keras.layers.Dense(filters, kernel_regularizer=tf.keras.regularizers.l2(1e-3))
        self.bn = tf.keras.layers.BatchNormalization()
        self.d2 = tf.keras.layers.Dense(filters)

    def call(self, input_tensor, training=False):
        x = self.d1(input_tensor)
        x = self.bn(x, training=training)
        x = tf.nn.relu(x)
        x = self.d2(x)
        return tf.nn.relu(x + input_tensor)


block = ResnetIdentityBlock(4)
x = tf.constant(rng.standard_normal((3, 4)).astype("float32"))
_ = block(x)
block.set_weights([rng.random(w.shape).astype("float32") + 0.1 for w in block.get_weights()])
print("weights:", [(w.name, tuple(w.shape)) for w in block.weights])
print("trainable:", len(block.trainable_weights), "non-trainable:", len(block.non_trainable_weights))
with tf.GradientTape() as tape:
    y = block(x, training=True)
    loss = tf.reduce_sum(y ** 2) + tf.add_n(block.losses)
grads = tape.gradient(loss, block.trainable_weights)
print("loss:", float(loss))
print("inference:", np.round(block(x, training=False).numpy(), 4))
for w, g in zip(block.trainable_weights, grads):
    print(w.name, np.round(g.numpy(), 4).tolist())
