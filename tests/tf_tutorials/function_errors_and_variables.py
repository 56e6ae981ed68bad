"""After TF's "Introduction to graphs and tf.function" and "Better performance with tf.function"
guides: what a traced function may not do with a tensor's value, Variables created inside a
function, Python side effects against tf.print, and retracing."""
import numpy as np
import tensorflow as tf


def report(label, fn, *args):
    try:
        out = fn(*args)
        print(label, "ok", np.round(np.asarray(out), 5).tolist())
    except Exception as e:  # noqa: BLE001  (the guide shows which error each misuse gives)
        print(label, type(e).__name__)


x = tf.constant([0.5, -1.5, 2.0])

# A tensor used where Python needs a value: TF's errors when AutoGraph does not convert it.
report("bool", tf.function(lambda t: t * 2.0 if bool(tf.reduce_sum(t) > 0) else -t, autograph=False), x)
report("float", tf.function(lambda t: t * float(tf.reduce_max(t)), autograph=False), x)
report("int", tf.function(lambda t: t * int(tf.reduce_max(t)), autograph=False), x)
report("numpy", tf.function(lambda t: (t * 2.0).numpy(), autograph=False), x)
report("np.asarray", tf.function(lambda t: np.asarray(t * 2.0), autograph=False), x)


# ... and the same branch converted by AutoGraph runs as a graph conditional.
@tf.function
def relu_or_negate(t):
    if tf.reduce_sum(t) > 0:
        return tf.nn.relu(t)
    return -t


report("autograph if", relu_or_negate, x)
report("autograph if, other branch", relu_or_negate, -x)
print("traces:", relu_or_negate.experimental_get_tracing_count())


@tf.function
def count_down(n):
    total = tf.constant(0)
    while n > 0:
        total += n
        n -= 1
    return total


report("autograph while", count_down, tf.constant(5))
report("autograph while, again", count_down, tf.constant(3))

# Variables: created once, outside the function or on its first call only.
v = tf.Variable(2.0)


@tf.function
def scale(t):
    v.assign_add(1.0)
    return t * v


report("scale", scale, x)
report("scale again", scale, x)
print("v:", v.numpy())


@tf.function
def makes_a_variable_every_call(t):
    w = tf.Variable(1.0)
    return t * w


report("new variable each call", makes_a_variable_every_call, x)


class Counter(tf.Module):
    def __init__(self):
        self.count = None

    @tf.function
    def __call__(self):
        if self.count is None:
            self.count = tf.Variable(0)
        return self.count.assign_add(1)


c = Counter()
print("counter:", [int(c()) for _ in range(3)])


# Python side effects happen while tracing only; tf.print on every call.
@tf.function
def noisy(t):
    print("traced with", t.shape)
    tf.print("running with", tf.reduce_sum(t))
    return t + 1.0


noisy(tf.constant([1.0, 2.0]))
noisy(tf.constant([3.0, 4.0]))
noisy(tf.constant([1.0, 2.0, 3.0]))
print("noisy traces:", noisy.experimental_get_tracing_count())

# Python arguments are part of the signature: each new value traces again.
power = tf.function(lambda t, k: t**k)
for k in (1, 2, 2, 3):
    report(f"power {k}", power, x, k)
print("power traces:", power.experimental_get_tracing_count())

# Gradients through a traced function, and inside one.
w = tf.Variable([1.0, -2.0, 0.5])


@tf.function
def loss_fn(t):
    return tf.reduce_sum(tf.square(w * t - 1.0))


with tf.GradientTape() as tape:
    loss = loss_fn(x)
print("loss:", round(float(loss), 5), "grad:", np.round(tape.gradient(loss, w).numpy(), 5).tolist())


@tf.function
def grad_inside(t):
    with tf.GradientTape() as g:
        g.watch(t)
        y = tf.reduce_sum(tf.sin(t) * t)
    return g.gradient(y, t)


report("grad inside", grad_inside, x)
report("grad inside again", grad_inside, x * 2.0)
