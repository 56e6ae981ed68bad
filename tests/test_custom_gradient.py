"""tg.custom_gradient: TF's documented examples, the variables= form, nested tapes, errors."""

import gc

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.errors import InvalidArgumentError


def clip_by_norm(t, clip):
    norm = tg.sqrt(tg.reduce_sum(t * t))
    return t * tg.minimum(clip / norm, 1.0)


def test_doc_anchor_clip_gradients():
    @tg.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            return clip_by_norm(dy, 0.5)

        return y, backward

    v = tg.Variable(2.0)
    with tg.GradientTape() as t:
        output = clip_gradients(v * v)
    assert float(t.gradient(output, v)) == 2.0  # 4 clipped to 2


def test_doc_anchor_log1pexp_is_stable():
    @tg.custom_gradient
    def log1pexp(x):
        e = tg.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))

        return tg.log(1 + e), grad

    x = tg.constant(100.0)
    with tg.GradientTape() as t:
        t.watch(x)
        y = log1pexp(x)
    assert float(t.gradient(y, x)) == 1.0
    assert log1pexp.__name__ == "log1pexp"


def test_multiple_inputs_outputs_and_none():
    @tg.custom_gradient
    def f(a, b):
        def grad(da, db):
            return da * 10.0 + db, None

        return (a * b, a + b), grad

    a, b = tg.constant([1.0, 2.0]), tg.constant([3.0, 4.0])
    with tg.GradientTape(persistent=True) as t:
        t.watch([a, b])
        p, s = f(a, b)
        z = tg.reduce_sum(p * 2.0) + tg.reduce_sum(s)
    ga, gb = t.gradient(z, [a, b])
    assert ga.numpy().tolist() == [21.0, 21.0] and gb is None
    # only one output used: the other output's gradient arrives as zeros
    assert t.gradient(s, a).numpy().tolist() == [1.0, 1.0]
    # python scalars as arguments and outputs
    out = f(2.0, 3.0)
    assert float(out[0]) == 6.0 and isinstance(out, tuple)


def test_grad_fn_gradients_are_used_in_second_order():
    @tg.custom_gradient
    def cube(x):
        def grad(dy):
            return dy * x  # deliberately not 3x^2: the second derivative must follow it

        return x * x * x, grad

    x = tg.constant(1.5, tg.float64)
    with tg.GradientTape() as outer:
        outer.watch(x)
        with tg.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        g = inner.gradient(y, x)
    assert float(g) == 1.5
    assert float(outer.gradient(g, x)) == 1.0
    with tg.GradientTape() as t:
        t.watch(x)
        y = cube(x) * x
    assert float(t.gradient(y, x)) == pytest.approx(1.5 * 1.5 + 1.5**3)


def test_variables_keyword_form():
    w = tg.Variable(3.0)
    frozen = tg.Variable(5.0, trainable=False)

    @tg.custom_gradient
    def scale(x):
        def grad(dy, variables=None):
            assert len(variables) == 1 and variables[0] is w
            return dy * w * 100.0, [dy * x * 1000.0]

        return x * w * frozen, grad

    x = tg.constant(2.0)
    with tg.GradientTape() as t:
        t.watch(x)
        y = scale(x)
    gx, gw = t.gradient(y, [x, w])
    assert float(y) == 30.0 and float(gx) == 300.0 and float(gw) == 2000.0

    @tg.custom_gradient
    def no_kw(x):
        return x * w, lambda dy: dy

    with pytest.raises(TypeError, match="grad_fn must accept keyword argument 'variables'"):
        no_kw(x)

    @tg.custom_gradient
    def wrong_count(x):
        def grad(dy, variables=None):
            return dy, []

        return x * w, grad

    with tg.GradientTape() as t:
        t.watch(x)
        y = wrong_count(x)
    with pytest.raises(ValueError, match="Must return gradient for each variable"):
        t.gradient(y, x)


def test_variable_argument_is_an_input_not_a_captured_variable():
    v = tg.Variable([1.0, 2.0])

    @tg.custom_gradient
    def f(a):
        return a * 2.0, lambda dy: dy * 7.0

    with tg.GradientTape() as t:
        y = f(v)
    assert t.gradient(y, v).numpy().tolist() == [7.0, 7.0]


def test_errors_from_grad_fn():
    x = tg.constant([1.0, 2.0])

    @tg.custom_gradient
    def two_grads(a):
        return a * 1.0, lambda dy: (dy, dy)

    with tg.GradientTape() as t:
        t.watch(x)
        y = two_grads(x)
    with pytest.raises(ValueError, match="expected to return 1 gradients, but returned 2 instead"):
        t.gradient(y, x)

    @tg.custom_gradient
    def bad_shape(a):
        return a * 1.0, lambda dy: tg.ones([3])

    with tg.GradientTape() as t:
        t.watch(x)
        y = bad_shape(x)
    with pytest.raises(InvalidArgumentError):
        t.gradient(y, x)

    @tg.custom_gradient
    def raises(a):
        def grad(dy):
            raise KeyError("boom in grad_fn")

        return a * 1.0, grad

    with tg.GradientTape() as t:
        t.watch(x)
        y = raises(x)
    with pytest.raises(KeyError, match="boom in grad_fn"):
        t.gradient(y, x)
    gc.collect()


def test_broadcast_gradient_and_jacobian_through_custom():
    @tg.custom_gradient
    def f(a):
        return a * a, lambda dy: 2.0 * a * dy

    x = tg.constant([1.0, 2.0, 3.0])
    with tg.GradientTape() as t:
        t.watch(x)
        y = f(x)
    np.testing.assert_array_equal(t.jacobian(y, x).numpy(), np.diag([2.0, 4.0, 6.0]))

    @tg.custom_gradient
    def scalar_grad(a):
        return tg.reduce_sum(a), lambda dy: tg.constant(3.0)

    with tg.GradientTape() as t:
        t.watch(x)
        y = scalar_grad(x)
    assert t.gradient(y, x).numpy().tolist() == [3.0, 3.0, 3.0]


def test_no_tape_and_decorator_factory():
    @tg.custom_gradient()
    def f(a):
        return a + 1.0, lambda dy: dy

    assert float(f(tg.constant(1.0))) == 2.0


def test_method_decorator_binds_self():
    class Layer:
        scale = 4.0

        @tg.custom_gradient
        def __call__(self, a):
            return a * self.scale, lambda dy: dy * self.scale * 10.0

    x = tg.constant(1.0)
    with tg.GradientTape() as t:
        t.watch(x)
        y = Layer()(x)
    assert float(y) == 4.0 and float(t.gradient(y, x)) == 40.0


def test_a_broadcast_shaped_gradient_of_equal_size_is_summed_back():
    # grad_fn returns shape [1] for a scalar input (same element count): the backward pass sums it
    # back to the input's shape, as it does for larger broadcast shapes
    @tg.custom_gradient
    def f(x):
        def grad(dy):
            return tg.ones([1]) * 3.0

        return x * 2.0, grad

    x = tg.constant(1.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    g = tape.gradient(y, x)
    assert g.shape == [] and float(g) == 3.0
