"""After TF's "Training checkpoints" guide: Checkpoint + CheckpointManager around a Keras model
and optimizer, deferred restoration, continuing training."""
import os
import tempfile

import numpy as np
import tensorflow as tf


class Net(tf.keras.Model):
    def __init__(self):
        super().__init__()
        self.l1 = tf.keras.layers.Dense(5)

    def call(self, x):
        return self.l1(x)


rng = np.random.default_rng(3)
inputs = rng.random((10, 1)).astype("float32")
labels = (inputs * 3.0 + 1.0).astype("float32")


def train_step(net, example, optimizer):
    with tf.GradientTape() as tape:
        output = net(example[0])
        loss = tf.reduce_mean(tf.abs(output - example[1]))
    gradients = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(gradients, net.trainable_variables))
    return loss


net = Net()
net(inputs[:1])
net.set_weights([np.full((1, 5), 0.5, "float32"), np.zeros(5, "float32")])
opt = tf.keras.optimizers.Adam(0.1)
ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=opt, net=net)
directory = tempfile.mkdtemp()
manager = tf.train.CheckpointManager(ckpt, directory, max_to_keep=3)
ckpt.restore(manager.latest_checkpoint)
print("Initializing from scratch." if not manager.latest_checkpoint else "restored")
for _ in range(10):
    loss = train_step(net, (inputs, labels), opt)
    ckpt.step.assign_add(1)
    if int(ckpt.step) % 2 == 0:
        save_path = manager.save()
        print(f"Saved checkpoint for step {int(ckpt.step)}: {os.path.basename(save_path)}; loss {loss.numpy():1.4f}")
print([os.path.basename(p) for p in manager.checkpoints])
print(os.path.basename(tf.train.latest_checkpoint(directory)))

new_net = Net()
new_opt = tf.keras.optimizers.Adam(0.1)
new_ckpt = tf.train.Checkpoint(step=tf.Variable(1), optimizer=new_opt, net=new_net)
new_net(inputs[:1])
status = new_ckpt.restore(manager.latest_checkpoint)
print("restored step:", int(new_ckpt.step))
print("same kernel:", np.allclose(new_net.l1.kernel.numpy(), net.l1.kernel.numpy()))
print("loss continues:", round(float(train_step(new_net, (inputs, labels), new_opt)), 4),
      round(float(train_step(net, (inputs, labels), opt)), 4))
