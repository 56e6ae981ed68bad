"""After TF's "Better performance with tf.function" guide (the parts whose output is the same
eagerly and traced): decorated functions, control flow, tracing counts, input signatures."""
import tensorflow as tf


@tf.function
def add(a, b):
    return a + b


print(add(tf.ones([2, 2]), tf.ones([2, 2])).numpy().tolist())
v = tf.Variable(1.0)
with tf.GradientTape() as tape:
    result = add(v, 1.0)
print(tape.gradient(result, v).numpy())


@tf.function
def double(a):
    return a + a


print(double(tf.constant(1)).numpy())
print(double(tf.constant(1.1)).numpy())
print(double(tf.constant(2)).numpy())
print(double(3).numpy())
print("traces:", double.experimental_get_tracing_count())


@tf.function(input_signature=(tf.TensorSpec(shape=[None], dtype=tf.int32),))
def next_collatz(x):
    return tf.where(x % 2 == 0, x // 2, 3 * x + 1)


print(next_collatz(tf.constant([1, 2])).numpy().tolist())
try:
    next_collatz(tf.constant([[1, 2], [3, 4]]))
except TypeError as e:
    print("TypeError raised")


def collatz(a):
    counter = tf.constant(0)
    while_result = tf.while_loop(lambda a, c: a != 1,
                                 lambda a, c: (tf.cond(a % 2 == 0, lambda: a // 2, lambda: 3 * a + 1), c + 1),
                                 [a, counter])
    return while_result[1]


print("collatz(27) steps:", tf.function(collatz)(tf.constant(27)).numpy())

x = tf.Variable(2.0)
with tf.GradientTape() as tape:
    y = tf.cond(x > 1.0, lambda: x ** 3, lambda: x)
print("cond grad:", tape.gradient(y, x).numpy())
r = tf.switch_case(tf.constant(1), [lambda: tf.constant(10), lambda: tf.constant(20)])
print("switch_case:", r.numpy())
tf.print("printed:", tf.constant([1.5, 2.0]))
