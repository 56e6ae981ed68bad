"""A traced tape.gradient recorded as the backward walk's steps (Note [Unrolled gradient],
cpp/graph/unroll.cpp). Every replay is compared with the same Python function run eagerly on the
same values, bit for bit where the kernels are the same (the steps run the walk's rules in the
walk's order); the node names show whether the gradient was unrolled or kept as one walk."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threads_helper import replay_in_threads

import tapegrad as tg
from tapegrad import _core

RNG = np.random.default_rng(7)


def arr(*shape):
    return tg.constant(RNG.normal(size=shape).astype(np.float32))


def names(f):
    (trace,) = f._traces.values()
    assert trace.graph.poison == ""
    return trace.graph.node_names


def fused(f):
    return [x for x in names(f) if x.startswith("fused_elementwise")]


def unrolled(f):
    n = names(f)
    walk = any(x.startswith("gradient_sparse") or x == "gradient_dense" for x in n)
    return not walk and "push_tape" not in n and ("gradient_seed" in n or bool(fused(f)))


def kept_as_walk(f):
    n = names(f)
    return "gradient_sparse" in n and "gradient_seed" not in n


def same(a, b):
    for x, y in zip(tg.nest.flatten(a), tg.nest.flatten(b)):
        assert (x is None) == (y is None)
        if x is not None:
            np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def eager_and_traced(fn, *args, calls=3):
    """fn eagerly and traced on the same arguments, `calls` times; returns the traced function."""
    traced = tg.function(fn)
    for _ in range(calls):
        same(traced(*args), fn(*args))
    return traced


def keras_step(m, opt):
    """A custom training step: sparse cross entropy from logits, the tape's gradient, `opt`."""
    loss_fn = tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step(x, y):
        with tg.GradientTape() as tape:
            loss = loss_fn(y, m(x, training=True))
        opt.apply_gradients(zip(tape.gradient(loss, m.trainable_variables), m.trainable_variables))
        return loss

    return step


def train_eager_and_traced(make, x, y, steps):
    """Two models from make() (-> (step, model)): one steps eagerly, one traced; losses and every
    weight must be equal after each step. Returns the traced step."""
    eager, em = make()
    f, tm = make()
    traced = tg.function(f)
    for _ in range(steps):
        same(traced(x, y), eager(x, y))
        same([v.numpy() for v in tm.weights], [v.numpy() for v in em.weights])
    return traced


# ---- what unrolls, and gives the walk's bits ---------------------------------------------------------


def test_linear_regression_step_unrolls_and_tracks_eager_bit_for_bit():
    x, y = arr(200), arr(200)

    def make():
        w, b = tg.Variable(5.0), tg.Variable(0.0)
        opt = tg.keras.optimizers.SGD(learning_rate=0.05)
        loss_fn = tg.keras.losses.MeanSquaredError()

        def step():
            with tg.GradientTape() as tape:
                loss = loss_fn(y, w * x + b)
            opt.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))

        return step, (w, b)

    eager, ev = make()
    f, tv = make()
    traced = tg.function(f)
    for _ in range(6):
        eager()
        traced()
        same([v.numpy() for v in tv], [v.numpy() for v in ev])
    assert unrolled(traced)
    n = names(traced)
    # no tape at replay, and the unreturned loss (its mean and square) is not computed
    assert "Tape" not in n and "push_tape" not in n and "ops::reduce" not in n
    assert _core._trace_unroll_refusal() == ""


def test_keras_mlp_with_adam_and_sparse_crossentropy_matches_eager():
    x = RNG.normal(size=(16, 12)).astype(np.float32)
    y = RNG.integers(0, 4, size=16)

    def make():
        tg.keras.utils.set_random_seed(3)
        m = tg.keras.Sequential(
            [tg.keras.Input((12,)), tg.keras.layers.Dense(8, activation="relu"), tg.keras.layers.Dense(4)]
        )
        opt = tg.keras.optimizers.Adam(1e-2)
        return keras_step(m, opt), m

    traced = train_eager_and_traced(make, x, y, steps=5)
    assert unrolled(traced)
    assert "vjp:SparseSoftmaxCrossEntropyWithLogits" in names(traced)


def test_conv_batchnorm_model_matches_eager():
    # BatchNormalization writes its moving statistics inside the tape: the kernels read before
    # those writes are still the values the sources are (writes are tracked per Variable)
    x = RNG.normal(size=(4, 6, 6, 2)).astype(np.float32)
    y = RNG.integers(0, 3, size=4)

    def make():
        tg.keras.utils.set_random_seed(5)
        m = tg.keras.Sequential(
            [
                tg.keras.Input((6, 6, 2)),
                tg.keras.layers.Conv2D(3, 3, activation="relu"),
                tg.keras.layers.MaxPooling2D(),
                tg.keras.layers.Flatten(),
                tg.keras.layers.Dense(5),
                tg.keras.layers.BatchNormalization(),
                tg.keras.layers.Dense(3),
            ]
        )
        opt = tg.keras.optimizers.SGD(0.1, momentum=0.9)
        return keras_step(m, opt), m

    traced = train_eager_and_traced(make, x, y, steps=4)
    assert unrolled(traced)


def test_chain_with_output_gradients_and_broadcasting():
    def f(x, b):
        with tg.GradientTape() as tape:
            tape.watch([x, b])
            y = x
            for _ in range(5):
                y = tg.tanh(y * 1.01 + b) * y
            z = tg.reduce_sum(y, axis=1)
        return tape.gradient([y, z], [x, b], output_gradients=[tg.ones([1, 3]) * 0.5, None])

    traced = eager_and_traced(f, arr(4, 3), arr(3))
    assert unrolled(traced)


def test_sources_twice_intermediates_and_unconnected():
    def f(x):
        with tg.GradientTape() as tape:
            tape.watch(x)
            h = tg.exp(x)
            y = tg.reduce_sum(h * h)
            unused = x * 1.0
        none_grad = tape.gradient(y, [x, h, x, unused, tg.constant(1.0)])
        return none_grad

    traced = eager_and_traced(f, arr(5))
    assert unrolled(traced)
    out = traced(arr(5))
    assert out[3] is None and out[4] is None

    def g(x):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.reduce_sum(x * 2.0)
            u = x * 3.0
        return tape.gradient(y, [x, u], unconnected_gradients=tg.UnconnectedGradients.ZERO)

    traced = eager_and_traced(g, arr(3))
    assert unrolled(traced)
    np.testing.assert_array_equal(traced(arr(3))[1].numpy(), np.zeros(3, np.float32))


def test_gradient_of_a_target_with_respect_to_itself():
    def f(x):
        with tg.GradientTape() as tape:
            y = x * 2.0  # x is not watched: y is unknown to the tape, yet gradient(y, y) is ones
        return tape.gradient(y, [y, x])

    traced = eager_and_traced(f, arr(3))
    got = traced(arr(3))
    np.testing.assert_array_equal(got[0].numpy(), np.ones(3, np.float32))
    assert got[1] is None


def test_stop_recording_and_gradient_inside_the_block():
    def f(x):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = x * x
            with tape.stop_recording():
                c = tg.sin(y)
            z = y * c
            g = tape.gradient(z, x)
        return g

    traced = eager_and_traced(f, arr(4))
    assert unrolled(traced)


def test_outer_tape_differentiates_through_the_unrolled_steps():
    # second order: a tape outside the traced function records the replayed backward steps
    def f(x):
        with tg.GradientTape() as inner:
            inner.watch(x)
            y = tg.reduce_sum(x**3 + tg.sin(x))
        return inner.gradient(y, x)

    traced = tg.function(f)
    x = arr(4)
    for fn in (f, traced, traced):
        with tg.GradientTape() as outer:
            outer.watch(x)
            g = fn(x)
        gg = outer.gradient(g, x)
        np.testing.assert_allclose(gg.numpy(), 6 * x.numpy() - np.sin(x.numpy()), rtol=1e-5, atol=1e-6)
    assert unrolled(traced)


def test_nested_tapes_inside_the_function():
    # the inner gradient unrolls; the outer tape, which recorded the inner walk, stays a walk
    def f(x):
        with tg.GradientTape() as outer:
            outer.watch(x)
            with tg.GradientTape() as inner:
                inner.watch(x)
                y = tg.reduce_sum(tg.tanh(x) * x)
            g = inner.gradient(y, x)
            s = tg.reduce_sum(g * g)
        return g, outer.gradient(s, x)

    traced = eager_and_traced(f, arr(5))
    n = names(traced)
    assert "gradient_seed" in n and "gradient_sparse" in n


def test_four_threads_replay_one_unrolled_function():
    w = tg.Variable(RNG.normal(size=(6, 3)).astype(np.float32))

    def f(x):
        with tg.GradientTape() as tape:
            loss = tg.reduce_mean(tg.nn.relu(x @ w) ** 2)
        return tape.gradient(loss, w)

    traced = tg.function(f)
    xs = [arr(8, 6) for _ in range(4)]
    want = [f(x).numpy() for x in xs]
    traced(xs[0])
    assert unrolled(traced)
    replay_in_threads(traced, xs, want, calls=50)


# ---- what is kept as one walk, and still right -------------------------------------------------------


def test_persistent_tape_is_kept_as_a_walk():
    def f(x):
        with tg.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = x * x
            z = tg.sin(y)
        return tape.gradient(z, x), tape.gradient(y, x)

    traced = eager_and_traced(f, arr(3))
    assert kept_as_walk(traced)
    assert _core._trace_unroll_refusal() == "the tape is persistent"


@pytest.mark.parametrize("first", [True, False])
def test_gradient_through_a_cond_takes_the_replays_branch(first):
    def f(x, p):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.cond(p, lambda: x * 3.0, lambda: tg.sin(x))
            z = tg.reduce_sum(y * x)
        return tape.gradient(z, x)

    traced = tg.function(f)
    x = arr(4)
    for p in (first, not first, first, not first):
        same(traced(x, tg.constant(p)), f(x, tg.constant(p)))
    assert kept_as_walk(traced)
    assert "not a top-level tensor" in _core._trace_unroll_refusal()


def test_tape_watch_inside_a_branch_is_kept_as_a_walk():
    def f(x, p):
        with tg.GradientTape() as tape:

            def yes():
                tape.watch(x)
                return x + 0.0

            y = tg.cond(p, yes, lambda: x + 0.0)
            z = tg.reduce_sum(x * x)
        return tape.gradient(z, x, unconnected_gradients="zero"), y

    traced = tg.function(f)
    x = arr(3)
    for p in (True, False, True):
        same(traced(x, tg.constant(p)), f(x, tg.constant(p)))


def test_variable_read_again_after_a_write_is_not_a_source_of_stale_values():
    v = tg.Variable([1.0, 2.0, 3.0])

    def f(x):
        with tg.GradientTape() as tape:
            a = tg.reduce_sum(v * x)  # reads v
            v.assign_add(x)  # writes it
            b = tg.reduce_sum(v * v)  # reads it again: the same id, another value
            loss = a + b
        return tape.gradient(loss, v)

    traced = tg.function(f)
    v2 = tg.Variable([1.0, 2.0, 3.0])

    def g(x):
        with tg.GradientTape() as tape:
            a = tg.reduce_sum(v2 * x)
            v2.assign_add(x)
            b = tg.reduce_sum(v2 * v2)
            loss = a + b
        return tape.gradient(loss, v2)

    x = tg.constant([0.5, -1.0, 2.0])
    for _ in range(3):
        same(traced(x), g(x))
    same(v.numpy(), v2.numpy())
    assert kept_as_walk(traced)


def test_gather_may_make_a_sparse_gradient_and_is_kept_as_a_walk():
    table = tg.Variable(RNG.normal(size=(6, 2)).astype(np.float32))

    def f(ids):
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(tg.gather(table, ids) ** 2)
        g = tape.gradient(loss, table)
        return g.values, g.indices

    traced = eager_and_traced(f, tg.constant([1, 3, 1]))
    assert kept_as_walk(traced)
    assert "sparse" in _core._trace_unroll_refusal()


# ---- random programs --------------------------------------------------------------------------------

UNARY = [tg.tanh, tg.sin, tg.exp, tg.square, tg.nn.relu, tg.sigmoid, lambda t: t * 0.5, tg.abs]
BINARY = [tg.add, tg.multiply, tg.subtract, lambda a, b: a / (tg.abs(b) + 1.0), tg.maximum]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prog=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 7), st.integers(0, 4), st.integers(0, 1)), max_size=12),
    reduce_axis=st.sampled_from([None, 0, 1]),
)
def test_random_programs_match_the_eager_walk_bit_for_bit(prog, reduce_axis):
    # each step applies a unary op, a binary op with a row or column (broadcast: the choke point's
    # sum_to), or reuses an earlier value (accumulated gradients)
    def f(x, r, c):
        with tg.GradientTape() as tape:
            tape.watch([x, r, c])
            vals = [x]
            for kind, u, b, which in prog:
                cur = vals[-1]
                if kind == 0:
                    nxt = UNARY[u](cur)
                elif kind == 1:
                    nxt = BINARY[b](cur, r if which else c)
                else:
                    nxt = BINARY[b](cur, vals[u % len(vals)])
                vals.append(nxt)
            loss = tg.reduce_sum(vals[-1], axis=reduce_axis)
        return tape.gradient(loss, [x, r, c])

    x, r, c = arr(3, 4), arr(4), arr(3, 1)
    traced = tg.function(f)
    for _ in range(2):
        same(traced(x, r, c), f(x, r, c))
    assert unrolled(traced)


def test_the_dense_gradient_call_unrolls_too():
    # compute_gradient (tapegrad.distribute's call) takes the same path as compute_gradient_sparse
    class DenseTape(tg.GradientTape):
        def _compute_gradient(self, tape, flat_targets, flat_sources, flat_og, zero_unconnected):
            return _core.compute_gradient(tape, flat_targets, flat_sources, flat_og, zero_unconnected)

    w = tg.Variable(RNG.normal(size=(4, 2)).astype(np.float32))

    def f(x):
        with DenseTape() as tape:
            loss = tg.reduce_sum(tg.tanh(x @ w))
        return tape.gradient(loss, [w, x])

    traced = eager_and_traced(f, arr(3, 4))
    assert unrolled(traced) and "gradient_dense" not in names(traced)


# ---- Note [Fused elementwise] -----------------------------------------------------------------------


def chain(x0):
    with tg.GradientTape() as tape:
        tape.watch(x0)
        x = x0
        for _ in range(10):
            x = tg.tanh(x * 1.01 + 0.1)
            x = x * x
    return tape.gradient(x, x0, output_gradients=tg.ones_like(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_elementwise_chain_and_its_gradient_run_as_one_fused_node(dtype):
    x = tg.constant(np.linspace(-1, 1, 16).astype(dtype))
    traced = eager_and_traced(chain, x)
    assert len(names(traced)) == 1 and names(traced)[0].startswith("fused_elementwise(")


def test_fused_rules_with_constants_and_two_inputs():
    # Square's and Sub's rules make constants and negations; Div's reads both inputs
    def f(x, y):
        with tg.GradientTape() as tape:
            tape.watch([x, y])
            z = tg.square(x - y) / (y * y + 1.0) + tg.exp(-x) * tg.sigmoid(y) - tg.sin(x) * 0.5
            w = tg.sqrt(tg.abs(z) + 1.0)
        return tape.gradient(w, [x, y])

    traced = eager_and_traced(f, arr(7), arr(7))
    assert fused(traced)
    assert unrolled(traced)


def test_a_node_that_is_not_elementwise_splits_the_fused_runs():
    def f(x):
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.tanh(x * 2.0) * x
            s = tg.reduce_sum(y)  # not elementwise
            z = tg.exp(x) * s
        return tape.gradient(z, x, output_gradients=tg.ones_like(z))

    traced = eager_and_traced(f, arr(8))
    n = names(traced)
    assert len(fused(traced)) >= 2 and "ops::reduce" in n


def test_large_tensors_are_not_fused():
    traced = eager_and_traced(chain, arr(20000))
    assert not fused(traced) and "vjp:Tanh" in names(traced)


def test_a_rule_that_reads_its_inputs_data_outside_recorded_ops_is_not_fused():
    # Maximum's rule compares x >= y with an unrecorded kernel and selects: it stays a step (and
    # stays right); Relu's is one recorded ReluGrad: fused
    def f(x, y):
        with tg.GradientTape() as tape:
            tape.watch([x, y])
            z = tg.maximum(x * 3.0, y) * tg.nn.relu(x)
        return tape.gradient(z, [x, y], output_gradients=tg.ones_like(z))

    traced = eager_and_traced(f, arr(9), arr(9))
    assert "vjp:Maximum" in names(traced) and "vjp:Relu" not in names(traced)
    assert fused(traced)


def test_fused_node_under_an_outer_tape_and_forward_accumulator_runs_its_ops():
    x = arr(16)
    traced = tg.function(chain)
    traced(x)
    assert fused(traced)
    with tg.GradientTape() as outer:
        outer.watch(x)
        g = traced(x)
    with tg.GradientTape() as outer2:
        outer2.watch(x)
        ge = chain(x)
    same(outer.gradient(g, x), outer2.gradient(ge, x))
    v = arr(16)
    with tg.autodiff.ForwardAccumulator(x, v) as acc:
        g = traced(x)
    with tg.autodiff.ForwardAccumulator(x, v) as acc2:
        ge = chain(x)
    same(acc.jvp(g), acc2.jvp(ge))


def test_four_threads_replay_one_fused_function():
    traced = tg.function(chain)
    xs = [arr(16) for _ in range(4)]
    want = [chain(x).numpy() for x in xs]
    traced(xs[0])
    assert fused(traced)
    replay_in_threads(traced, xs, want, calls=200)


FUSABLE_UNARY = [tg.tanh, tg.sin, tg.exp, tg.square, tg.sigmoid, tg.negative, lambda t: t * 0.5, lambda t: 2.0 - t]
FUSABLE_BINARY = [tg.add, tg.multiply, tg.subtract, lambda a, b: a / (b * b + 1.0), tg.maximum, tg.minimum]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prog=st.lists(st.tuples(st.booleans(), st.integers(0, 7), st.integers(0, 5), st.integers(0, 20)), max_size=14),
    n=st.sampled_from([1, 5, 16, 33]),
)
def test_random_fused_programs_match_eager_bit_for_bit(prog, n):
    def f(x, y):
        with tg.GradientTape() as tape:
            tape.watch([x, y])
            vals = [x, y]
            for unary, u, b, k in prog:
                cur = vals[-1]
                vals.append(FUSABLE_UNARY[u](cur) if unary else FUSABLE_BINARY[b](cur, vals[k % len(vals)]))
            out = vals[-1] * x
        return tape.gradient(out, [x, y], output_gradients=tg.ones_like(out))

    x, y = arr(n), arr(n)
    traced = tg.function(f)
    for _ in range(2):
        same(traced(x, y), f(x, y))
    assert fused(traced)
