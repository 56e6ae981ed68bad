"""After TF's "Better performance with tf.function" guide ("Accumulating values in a loop") and the
tf.TensorArray reference examples: writing, reading and stacking eagerly, TensorArrays in
tf.function loops (Python-unrolled, tf.range, tf.while_loop), gradients through them."""
import numpy as np
import tensorflow as tf

# Plain reading and writing (the reference's example 1).
ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, clear_after_read=False)
ta = ta.write(0, 10)
ta = ta.write(1, 20)
ta = ta.write(2, 30)
print(ta.read(0).numpy(), ta.read(1).numpy(), ta.read(2).numpy())
print(ta.stack().numpy().tolist(), ta.size().numpy())

ta = tf.TensorArray(tf.int32, size=3)
ta = ta.write(0, tf.constant([1, 2]))
ta = ta.write(1, tf.constant([3, 4]))
ta = ta.write(2, tf.constant([5, 6]))
print(ta.stack().numpy().tolist(), ta.element_shape)

parts = tf.TensorArray(tf.float32, size=3).split(tf.range(6, dtype=tf.float32), [1, 2, 3])
print(parts.concat().numpy().tolist(), parts.read(2).numpy().tolist())
rows = tf.TensorArray(tf.float32, size=3).unstack([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
print(rows.gather([2, 0]).numpy().tolist())

try:
    tf.TensorArray(tf.float32, size=2).write(2, 1.0)
except tf.errors.OutOfRangeError as e:
    print("OutOfRangeError:", e)
try:
    tf.TensorArray(tf.float32, size=2).write(0, tf.constant(1))
except tf.errors.InvalidArgumentError as e:
    print("InvalidArgumentError:", e)


# Fibonacci (the reference's example 2): a Python loop that tf.function unrolls.
@tf.function
def fibonacci(n):
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    ta = ta.unstack([0.0, 1.0])
    for i in range(2, n):
        ta = ta.write(i, ta.read(i - 1) + ta.read(i - 2))
    return ta.stack()


print(fibonacci(7).numpy().tolist())

# A tf.range loop with a Variable (the reference's example 3).
v = tf.Variable(1)


@tf.function
def f(x):
    ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in tf.range(x):
        v.assign_add(i)
        ta = ta.write(i, v)
    return ta.stack()


print(f(5).numpy().tolist())


# The guide's RNN: states accumulated in a TensorArray inside a tf.range loop.
batch_size, seq_len, feature_size = 2, 3, 4


def rnn_step(inp, state):
    return inp + state


@tf.function
def dynamic_rnn(rnn_step, input_data, initial_state):
    # [batch, time, features] -> [time, batch, features]
    input_data = tf.transpose(input_data, [1, 0, 2])
    max_seq_len = input_data.shape[0]

    states = tf.TensorArray(tf.float32, size=max_seq_len)
    state = initial_state
    for i in tf.range(max_seq_len):
        state = rnn_step(input_data[i], state)
        states = states.write(i, state)
    return tf.transpose(states.stack(), [1, 0, 2])


inputs = tf.constant(np.arange(batch_size * seq_len * feature_size, dtype=np.float32).reshape(2, 3, 4) / 10)
out = dynamic_rnn(rnn_step, inputs, tf.zeros([batch_size, feature_size]))
print(out.shape, np.round(out.numpy()[:, :, 0], 4).tolist())
out = dynamic_rnn(rnn_step, inputs * 2, tf.ones([batch_size, feature_size]))
print(np.round(out.numpy()[:, :, 1], 4).tolist())


# tf.while_loop carrying a TensorArray, and a gradient through it.
@tf.function
def powers(x, n):
    ta = tf.TensorArray(tf.float32, size=4, element_shape=[2])

    def body(i, p, ta):
        return i + 1, p * x, ta.write(i, p)

    _, _, ta = tf.while_loop(lambda i, p, ta: i < n, body, [tf.constant(0), tf.ones_like(x), ta])
    return ta.stack()


x = tf.Variable([1.5, -0.5])
with tf.GradientTape() as tape:
    p = powers(x, tf.constant(4))
    loss = tf.reduce_sum(p * tf.constant([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0], [4.0, 4.0]]))
print(p.numpy().tolist())
print(np.round(tape.gradient(loss, x).numpy(), 4).tolist())
print(powers(x, tf.constant(2)).numpy().tolist())
