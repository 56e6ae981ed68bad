"""After TF's guides on higher-order functions (tf.map_fn, tf.scan, tf.foldl), tf.py_function and
tf.debugging, eagerly and inside tf.function."""
import numpy as np
import tensorflow as tf


def show(label, value):
    print(label, np.round(np.asarray(value), 5).tolist())


x = tf.constant(np.arange(12, dtype=np.float32).reshape(4, 3) / 10.0)

# map_fn / scan / foldl / foldr, eagerly and traced
show("map_fn", tf.map_fn(lambda r: tf.reduce_sum(r * r), x))
show("map_fn pair", tf.map_fn(lambda t: t[0] * t[1], (x, x + 1.0), fn_output_signature=tf.float32))
show("scan", tf.scan(lambda acc, r: acc + r, x))
show("scan reverse", tf.scan(lambda acc, r: acc * 0.5 + r, x, initializer=tf.zeros([3]), reverse=True))
show("foldl", tf.foldl(lambda acc, r: acc + tf.reduce_max(r), x, initializer=tf.constant(0.0)))
show("foldr", tf.foldr(lambda acc, r: acc * 2.0 + r[0], x, initializer=tf.constant(1.0)))


@tf.function
def traced_scan(t):
    return tf.scan(lambda acc, r: tf.tanh(acc + r), t, initializer=tf.zeros([3]))


show("traced scan", traced_scan(x))
show("traced scan again", traced_scan(x * 2.0))

w = tf.Variable([0.5, -1.0, 2.0])
with tf.GradientTape() as tape:
    y = tf.reduce_sum(tf.map_fn(lambda r: tf.reduce_sum(tf.sin(r * w)), x))
show("map_fn gradient", tape.gradient(y, w))


# py_function: Python on every call, gradients through it
def py_scale(t, s):
    return t * float(s.numpy())


@tf.function
def uses_py(t, s):
    return tf.py_function(py_scale, [t, s], tf.float32) + 1.0


show("py_function", uses_py(x[0], tf.constant(3.0)))
show("py_function again", uses_py(x[1], tf.constant(-2.0)))
show("numpy_function", tf.numpy_function(lambda a: (a * 2).astype(np.float32), [x[0]], tf.float32))

# tf.debugging: passing checks return None; failing ones raise InvalidArgumentError
print("assert_equal ok:", tf.debugging.assert_equal(x, x) is None)
for label, check in [
    ("assert_positive", lambda: tf.debugging.assert_positive(x - 0.5)),
    ("assert_less", lambda: tf.debugging.assert_less(x, 0.5)),
    ("assert_rank", lambda: tf.debugging.assert_rank(x, 3)),
    ("check_numerics", lambda: tf.debugging.check_numerics(tf.math.log(x), "log")),
]:
    try:
        check()
        print(label, "passed")
    except (tf.errors.InvalidArgumentError, ValueError) as e:
        print(label, type(e).__name__)


@tf.function
def checked_sqrt(t):
    tf.debugging.assert_non_negative(t, message="negative input")
    return tf.sqrt(t)


show("checked sqrt", checked_sqrt(tf.constant([4.0, 9.0])))
try:
    checked_sqrt(tf.constant([4.0, -9.0]))
except tf.errors.InvalidArgumentError as e:
    print("checked sqrt raised:", "negative input" in str(e))

# TensorArray in a traced loop
@tf.function
def running_max(t):
    ta = tf.TensorArray(tf.float32, size=tf.shape(t)[0])
    best = t[0]
    for i in tf.range(tf.shape(t)[0]):
        best = tf.maximum(best, t[i])
        ta = ta.write(i, best)
    return ta.stack()


show("running max", running_max(tf.constant([1.0, 3.0, 2.0, 5.0, 4.0])))
show("running max again", running_max(tf.constant([2.0, 1.0, 7.0, 0.0, 1.0])))
