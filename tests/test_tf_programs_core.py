"""The porting claim for the foundation: small TF programs run twice, with `tensorflow` and with
`tapegrad` as the module, and every result compared. Skips cleanly without TensorFlow."""

import numpy as np
import pytest

import tapegrad

tf = pytest.importorskip("tensorflow")


def prog_mlp_gradients(m):
    rng = np.random.default_rng(0)
    w1 = m.Variable(rng.standard_normal((4, 8)).astype("float32"), name="w1")
    b1 = m.Variable(m.zeros([8]), name="b1")
    w2 = m.Variable(rng.standard_normal((8, 3)).astype("float32"), name="w2")
    x = m.constant(rng.standard_normal((5, 4)).astype("float32"))
    with m.GradientTape() as tape:
        h = m.nn.relu(m.matmul(x, w1) + b1)
        out = m.nn.sigmoid(h @ w2)
        loss = m.reduce_mean(m.square(out - 0.5)) + 0.01 * m.reduce_sum(w1**2)
    grads = tape.gradient(loss, {"w1": w1, "b1": b1, "w2": w2})
    return [loss, grads["w1"], grads["b1"], grads["w2"]]


def prog_elementwise_chain(m):
    x = m.constant(np.linspace(0.1, 2.0, 7), dtype=m.float64)
    with m.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = m.exp(m.sin(x)) * m.math.log(x) + m.sqrt(x) / (1.0 + m.tanh(x)) - m.abs(m.cos(x)) ** 1.5
        z = m.reduce_max(m.maximum(y, 0.2) * m.minimum(x, 1.0))
    return [y, z, tape.gradient(y, x), tape.gradient(z, x)]


def prog_batched_matmul_broadcast(m):
    rng = np.random.default_rng(1)
    a = m.constant(rng.standard_normal((2, 1, 3, 4)))
    b = m.constant(rng.standard_normal((5, 4, 2)))
    with m.GradientTape() as tape:
        tape.watch([a, b])
        c = m.matmul(a, b, transpose_a=False)
        s = m.reduce_sum(c * c, axis=[0, -1], keepdims=True)
    ga, gb = tape.gradient(s, [a, b])
    return [c, s, ga, gb]


def prog_reductions_and_shapes(m):
    x = m.Variable(np.arange(24, dtype="float64").reshape(2, 3, 4) / 10.0)
    with m.GradientTape() as tape:
        y = m.transpose(m.reshape(x, [4, 6]), [1, 0])
        s = m.reduce_mean(y, axis=0) + m.cast(m.reduce_sum(m.cast(y, m.float32), axis=0), m.float64) * 0.5
        t = m.reduce_sum(s * m.broadcast_to(m.constant([1.0], dtype=m.float64), [4]))
    return [y, s, t, tape.gradient(t, x)]


def prog_second_derivative(m):
    x = m.Variable(1.3, dtype=m.float64)
    with m.GradientTape() as t2:
        with m.GradientTape() as t1:
            y = m.tanh(x) * m.exp(x) + x**3
        dy = t1.gradient(y, x)
    return [y, dy, t2.gradient(dy, x)]


def prog_linear_regression_sgd(m):
    rng = np.random.default_rng(0)
    xs = rng.standard_normal(100).astype("float32")
    ys = (3 * xs + 2 + 0.1 * rng.standard_normal(100)).astype("float32")
    w, b = m.Variable(5.0), m.Variable(0.0)
    opt = m.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    loss_fn = m.keras.losses.MeanSquaredError()
    history = []
    for _ in range(5):
        with m.GradientTape() as tape:
            loss = loss_fn(ys, w * xs + b)
        grads = tape.gradient(loss, [w, b])
        opt.apply_gradients(zip(grads, [w, b]))
        history.append(loss)
    return history + [w, b, opt.iterations]


PROGRAMS = [
    prog_mlp_gradients,
    prog_elementwise_chain,
    prog_batched_matmul_broadcast,
    prog_reductions_and_shapes,
    prog_second_derivative,
    prog_linear_regression_sgd,
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_same_numbers_as_tensorflow(program):
    expected = program(tf)
    got = program(tapegrad)
    assert len(expected) == len(got)
    for e, g in zip(expected, got):
        e, g = np.asarray(e), np.asarray(g)
        assert e.shape == g.shape and e.dtype == g.dtype, (e.shape, g.shape, e.dtype, g.dtype)
        tol = 2e-4 if e.dtype == np.float32 else 1e-9
        np.testing.assert_allclose(g, e, rtol=tol, atol=tol)
