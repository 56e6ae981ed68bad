"""Every differentiable op of the foundation against central finite differences (float64), first
and second order, on random broadcasting shapes."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad.testing import check_gradients

shapes = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def broadcast_pair(draw):
    """Two shapes that broadcast together (some dims stretched, some missing)."""
    out = draw(st.lists(st.integers(1, 4), min_size=0, max_size=3))
    a = [d if draw(st.booleans()) else 1 for d in out]
    b = [d if draw(st.booleans()) else 1 for d in out]
    a = a[draw(st.integers(0, len(a))) :]
    return tuple(a), tuple(b)


def values(shape, seed, low=-2.0, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, size=shape)


UNARY = {
    "negative": (tg.negative, (-2, 2)),
    "square": (tg.square, (-2, 2)),
    "sqrt": (tg.sqrt, (0.5, 3)),
    "exp": (tg.exp, (-2, 2)),
    "log": (tg.log, (0.5, 3)),
    "sin": (tg.sin, (-3, 3)),
    "cos": (tg.cos, (-3, 3)),
    "tanh": (tg.tanh, (-2, 2)),
    "abs": (tg.abs, (0.2, 2)),
    "relu": (tg.nn.relu, (0.2, 2)),
    "sigmoid": (tg.nn.sigmoid, (-3, 3)),
    "math.sigmoid": (tg.math.sigmoid, (-3, 3)),
    "neg_relu_region": (tg.nn.relu, (-2, -0.2)),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_unary(name, shape, seed):
    fn, (lo, hi) = UNARY[name]
    check_gradients(fn, [values(shape, seed, lo, hi)], order=2)


BINARY = {
    "add": (tg.add, None),
    "subtract": (tg.subtract, None),
    "multiply": (tg.multiply, None),
    "divide": (tg.divide, (0.5, 2)),
    "maximum": (tg.maximum, None),
    "minimum": (tg.minimum, None),
    "op+": (lambda a, b: a + b, None),
    "op*": (lambda a, b: a * b, None),
    "op/": (lambda a, b: a / b, (0.5, 2)),
    "op-": (lambda a, b: a - b, None),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(pair=broadcast_pair(), seed=st.integers(0, 2**16))
def test_binary_broadcasting(name, pair, seed):
    fn, rng_b = BINARY[name]
    a = values(pair[0], seed)
    b = values(pair[1], seed + 1, *(rng_b or (-2, 2)))
    if name in ("maximum", "minimum"):  # keep away from the kink: |a| >= 5 > |b|
        a = a + 5.0 * np.sign(a + 1e-3)
    check_gradients(fn, [a, b], order=2)


@given(pair=broadcast_pair(), seed=st.integers(0, 2**16))
def test_pow(pair, seed):
    a = values(pair[0], seed, 0.5, 2.0)
    b = values(pair[1], seed + 1, -1.5, 1.5)
    check_gradients(tg.pow, [a, b], order=2)
    check_gradients(lambda x: x**3.0, [a], order=2)


def test_pow_gradient_at_nonpositive_base_is_finite():
    x = tg.constant([0.0, -2.0, 3.0], dtype=tg.float64)
    y = tg.constant([2.0, 2.0, 2.0], dtype=tg.float64)
    with tg.GradientTape() as tape:
        tape.watch([x, y])
        z = x**y
    dx, dy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(dx.numpy(), [0.0, -4.0, 6.0])
    np.testing.assert_allclose(dy.numpy(), [0.0, 0.0, 9.0 * np.log(3.0)])  # TF: 0 where x <= 0


@pytest.mark.parametrize("reduce", [tg.reduce_sum, tg.reduce_mean, tg.reduce_max])
@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(reduce, axis, keepdims):
    a = values((2, 3, 4), 7)
    check_gradients(lambda x: reduce(x, axis=axis, keepdims=keepdims), [a], order=2)


def test_reduce_max_ties_share_the_gradient():
    x = tg.constant([1.0, 3.0, 3.0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.reduce_max(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.0, 0.5, 0.5])


@pytest.mark.parametrize("ta", [False, True])
@pytest.mark.parametrize("tb", [False, True])
@pytest.mark.parametrize(
    "shapes",
    [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2))],
)
def test_matmul(ta, tb, shapes):
    sa, sb = shapes
    if ta:
        sa = sa[:-2] + (sa[-1], sa[-2])
    if tb:
        sb = sb[:-2] + (sb[-1], sb[-2])
    a, b = values(sa, 1), values(sb, 2)
    check_gradients(lambda x, y: tg.matmul(x, y, transpose_a=ta, transpose_b=tb), [a, b], order=2)
    ea = np.swapaxes(a, -1, -2) if ta else a
    eb = np.swapaxes(b, -1, -2) if tb else b
    np.testing.assert_allclose(tg.matmul(a, b, transpose_a=ta, transpose_b=tb).numpy(), ea @ eb, rtol=1e-12)


def test_shape_ops():
    a = values((2, 3, 4), 3)
    check_gradients(lambda x: tg.reshape(x, [4, 6]) * tg.reshape(x, [4, 6]), [a], order=2)
    check_gradients(lambda x: tg.transpose(x, [2, 0, 1]) ** 2.0, [a], order=2)
    check_gradients(
        lambda x: tg.cast(tg.cast(x, tg.float32), tg.float64) * 2.0, [a], order=1, eps=1e-2, rtol=1e-4, atol=1e-4
    )
    check_gradients(lambda x: tg.broadcast_to(x, [5, 2, 3, 4]) ** 2.0, [a], order=2)
    check_gradients(lambda x: tg.where(x > 0.0, x * x, -x), [a], order=2)


def test_composite_expression():
    def f(x, w, b):
        h = tg.tanh(tg.matmul(x, w) + b)
        return tg.reduce_mean(tg.square(h - 0.5)) + tg.reduce_sum(tg.exp(-tg.abs(w)))

    check_gradients(f, [values((5, 3), 1), values((3, 2), 2), values((2,), 3)], order=2)


def test_check_gradients_detects_a_wrong_gradient():
    # A function whose tape gradient is wrong on purpose: stop_gradient hides a dependence.
    def wrong(x):
        return x * tg.stop_gradient(x)

    with pytest.raises(AssertionError, match="gradient check failed"):
        check_gradients(wrong, [values((3,), 1)], order=1)
