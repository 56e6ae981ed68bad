"""tf.function's tracer (Note [Traced functions]): the first call records the engine calls, later
calls with the same signature replay them in C++. Every replayed result is checked against the
same Python function run eagerly on the same values; `experimental_get_graph_status()` shows that
the calls were replays and not an eager fallback."""

import threading

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core

RNG = np.random.default_rng(0)


def arr(*shape, dtype=np.float32):
    return tg.constant(RNG.normal(size=shape).astype(dtype))


def replayed(f):
    """Asserts every trace of `f` is replayable."""
    status = f.experimental_get_graph_status()
    assert status and all(s == "" for s in status), status


def check_against_eager(fn, *arg_sets, rtol=1e-6, atol=1e-6):
    """Runs tg.function(fn) and fn on each argument set; the results must match."""
    traced = tg.function(fn)
    for args in arg_sets:
        got = tg.nest.flatten(traced(*args))
        want = tg.nest.flatten(fn(*args))
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert (g is None) == (w is None)
            if w is not None:
                np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=rtol, atol=atol)
    replayed(traced)
    return traced


# ---- values -----------------------------------------------------------------------------------------


PROGRAMS = {
    "arithmetic": (lambda x, y: (x * y + 2.0 - x / (tg.abs(y) + 1.0)) ** 2, [(3, 4), (3, 4)]),
    "unary": (lambda x, y: tg.exp(tg.tanh(x)) + tg.math.log1p(tg.square(y)) + tg.nn.relu(x - y), [(5,), (5,)]),
    "reductions": (
        lambda x, y: (tg.reduce_sum(x, axis=1), tg.reduce_mean(y), tg.reduce_max(x * y, axis=0, keepdims=True)),
        [(4, 3), (4, 3)],
    ),
    "matmul": (lambda x, y: tg.matmul(x, y, transpose_b=True) @ x, [(3, 5), (3, 5)]),
    "shapes": (
        lambda x, y: tg.concat([tg.reshape(x, [-1]), tg.transpose(y)[0], tg.squeeze(tg.expand_dims(x, 0))[1]], 0),
        [(2, 3), (2, 3)],
    ),
    "slicing": (lambda x, y: x[1:, ::2] + y[:-1, 1::2] * tg.gather(x, [0, 0], axis=0)[:, ::2], [(3, 4), (3, 4)]),
    "nn": (
        lambda x, y: (
            tg.nn.softmax(x),
            tg.nn.log_softmax(y),
            tg.nn.sigmoid_cross_entropy_with_logits(tg.nn.sigmoid(y), x),
        ),
        [(4, 5), (4, 5)],
    ),
    "conv": (
        lambda x, y: tg.nn.conv2d(x, tg.reshape(y[0, :, :, :1], [3, 3, 1, 1]) * tg.ones([3, 3, 1, 2]), 1, "SAME"),
        [(2, 6, 6, 1), (1, 3, 3, 1)],
    ),
    "comparisons_and_where": (lambda x, y: tg.where(x > y, x, y) + tg.cast(tg.equal(x, x), tg.float32), [(6,), (6,)]),
    "constants": (lambda x, y: x + tg.constant([1.0, 2.0, 3.0]) + tg.ones_like(y) * tg.fill([3], 0.5), [(3,), (3,)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_replay_matches_eager(name):
    fn, shapes = PROGRAMS[name]
    arg_sets = [tuple(arr(*s) for s in shapes) for _ in range(3)]
    check_against_eager(fn, *arg_sets)


def test_python_side_effects_run_only_while_tracing_and_tf_print_every_call(capfd):
    calls = []

    @tg.function
    def f(x):
        calls.append(1)
        tg.print("x is", x)
        return x + 1.0

    for v in (1.0, 2.0, 3.0):
        assert float(f(tg.constant(v))) == v + 1.0
    assert calls == [1]
    assert capfd.readouterr().err.splitlines() == ["x is 1", "x is 2", "x is 3"]
    replayed(f)


def test_one_trace_per_signature_and_python_values_baked_in():
    traces = []

    @tg.function
    def f(x, n):
        traces.append(n)
        return x * n

    x = tg.constant([1.0, 2.0])
    assert f(x, 2).numpy().tolist() == [2.0, 4.0]
    assert f(x, 3).numpy().tolist() == [3.0, 6.0]
    assert f(x * 5.0, 2).numpy().tolist() == [10.0, 20.0]
    assert f(tg.constant([1.0, 2.0, 3.0]), 2).numpy().tolist() == [2.0, 4.0, 6.0]
    assert traces == [2, 3, 2]
    assert f.experimental_get_tracing_count() == 3
    replayed(f)


def test_numpy_arguments_are_inputs_not_constants():
    f = tg.function(lambda a: a * 2.0)
    assert f(np.array([1.0, 2.0], np.float32)).numpy().tolist() == [2.0, 4.0]
    assert f(np.array([5.0, 6.0], np.float32)).numpy().tolist() == [10.0, 12.0]
    replayed(f)


def test_closure_tensors_are_captured_by_value_variables_by_reference():
    c = tg.constant(10.0)
    v = tg.Variable(1.0)

    @tg.function
    def f(x):
        return x + c + v

    assert float(f(tg.constant(1.0))) == 12.0
    v.assign(5.0)
    assert float(f(tg.constant(1.0))) == 16.0
    replayed(f)


def test_variable_assignments_happen_on_every_call():
    v = tg.Variable([0.0, 0.0])

    @tg.function
    def f(x):
        v.assign_add(x)
        v.assign(v * 2.0)
        return v.read_value()

    for _ in range(3):
        out = f(tg.constant([1.0, 2.0]))
    # v = ((0+x)*2 + x)*2 + x)*2 = 14x
    np.testing.assert_allclose(v.numpy(), [14.0, 28.0])
    np.testing.assert_allclose(out.numpy(), v.numpy())
    replayed(f)


# ---- gradients --------------------------------------------------------------------------------------


def test_tape_inside_the_function():
    w = tg.Variable(arr(3, 2))

    def grads(x):
        with tg.GradientTape() as t:
            loss = tg.reduce_mean(tg.square(tg.tanh(x @ w)))
        return loss, t.gradient(loss, w)

    check_against_eager(grads, (arr(4, 3),), (arr(4, 3),), (arr(4, 3),))


def test_second_order_gradients_inside_the_function():
    def hvp(x):
        with tg.GradientTape() as outer:
            outer.watch(x)
            with tg.GradientTape() as inner:
                inner.watch(x)
                y = tg.reduce_sum(tg.sin(x) * x**3)
            g = inner.gradient(y, x)
        return g, outer.gradient(g, x)

    check_against_eager(hvp, (arr(5),), (arr(5),))


def test_tape_outside_the_function_sees_the_replayed_ops():
    w = tg.Variable(arr(3))
    f = tg.function(lambda x: tg.reduce_sum(tg.exp(x * w)))
    for _ in range(3):
        x = arr(3)
        with tg.GradientTape() as t:
            t.watch(x)
            y = f(x)
        gx, gw = t.gradient(y, [x, w])
        e = np.exp(x.numpy() * w.numpy())
        np.testing.assert_allclose(gx.numpy(), e * w.numpy(), rtol=1e-6)
        np.testing.assert_allclose(gw.numpy(), e * x.numpy(), rtol=1e-6)
    replayed(f)


def test_sparse_gradients_inside_the_function():
    emb = tg.Variable(arr(10, 3))

    def g(ids):
        with tg.GradientTape() as t:
            loss = tg.reduce_sum(tg.nn.embedding_lookup(emb, ids) ** 2)
        s = t.gradient(loss, emb)
        return s.values, s.indices

    check_against_eager(g, (tg.constant([1, 4, 4]),), (tg.constant([0, 9, 2]),))


# ---- training ---------------------------------------------------------------------------------------


def make_model(seed):
    tg.keras.utils.set_random_seed(seed)
    return tg.keras.Sequential(
        [tg.keras.Input((6,)), tg.keras.layers.Dense(8, activation="relu"), tg.keras.layers.Dense(3)]
    )


OPTIMIZERS = {
    "sgd": lambda: tg.keras.optimizers.SGD(0.1),
    "sgd_nesterov": lambda: tg.keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    "adam": lambda: tg.keras.optimizers.Adam(0.01),
    "adam_amsgrad_clipnorm": lambda: tg.keras.optimizers.Adam(0.01, amsgrad=True, clipnorm=0.5),
    "adamw": lambda: tg.keras.optimizers.AdamW(0.01, weight_decay=0.1),
    "rmsprop_centered": lambda: tg.keras.optimizers.RMSprop(0.01, centered=True, global_clipnorm=1.0),
    "nadam": lambda: tg.keras.optimizers.Nadam(0.01),
    "adamax_clipvalue": lambda: tg.keras.optimizers.Adamax(0.01, clipvalue=0.1),
    "adagrad": lambda: tg.keras.optimizers.Adagrad(0.1),
    "adadelta": lambda: tg.keras.optimizers.Adadelta(1.0),
    "ftrl": lambda: tg.keras.optimizers.Ftrl(0.1, l1_regularization_strength=0.01),
    "lion": lambda: tg.keras.optimizers.Lion(0.001),
    "lamb": lambda: tg.keras.optimizers.Lamb(0.01),
    "adafactor": lambda: tg.keras.optimizers.Adafactor(0.01),
    "schedule": lambda: tg.keras.optimizers.SGD(tg.keras.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)),
    "ema": lambda: tg.keras.optimizers.Adam(0.01, use_ema=True, ema_overwrite_frequency=3),
    "accumulate": lambda: tg.keras.optimizers.SGD(0.1, gradient_accumulation_steps=2),
}


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_training_step_replays_match_eager_steps(opt):
    x = arr(16, 6)
    y = tg.constant(RNG.integers(0, 3, 16))
    loss_fn = tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    models = [make_model(3), make_model(3)]
    opts = [OPTIMIZERS[opt](), OPTIMIZERS[opt]()]

    def step(model, optimizer, x, y):
        with tg.GradientTape() as t:
            loss = loss_fn(y, model(x, training=True))
        g = t.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(g, model.trainable_variables))
        return loss

    traced = tg.function(lambda x, y: step(models[0], opts[0], x, y))
    for k in range(6):
        if k == 3 and isinstance(opts[0]._learning_rate, tg.Variable):  # read at every replay
            for o in opts:
                o.learning_rate.assign(o.learning_rate * 0.5)
        lt = traced(x, y)
        le = step(models[1], opts[1], x, y)
        np.testing.assert_allclose(lt.numpy(), le.numpy(), rtol=1e-6)
    for a, b in zip(models[0].get_weights() + opts[0].variables, models[1].get_weights() + opts[1].variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    assert int(opts[0].iterations) == int(opts[1].iterations)
    replayed(traced)
    names = traced._traces[next(iter(traced._traces))].graph.node_names
    # a step whose hyper-parameters depend only on iterations and the learning rate is a C++ node
    in_cpp = opt not in ("nadam", "schedule", "ema", "accumulate")
    assert ("optimizer_step" in names, "host_call" in names) == (in_cpp, not in_cpp)


def test_keras_fit_replays_its_train_step():
    x = RNG.normal(size=(32, 6)).astype(np.float32)
    y = RNG.integers(0, 3, 32)
    a, b = make_model(5), make_model(5)
    a.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    b.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    ha = a.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False)
    hb = b.fit(x, y, epochs=3, batch_size=8, verbose=0, shuffle=False)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-5)
    replayed(a.train_function)


def test_random_draws_are_new_on_every_call():
    f = tg.function(lambda x: x + tg.random.normal([4]))
    draws = [f(tg.zeros([4])).numpy() for _ in range(3)]
    assert not np.allclose(draws[1], draws[2])
    replayed(f)
    d = tg.function(lambda x: tg.nn.dropout(x, 0.5))
    masks = [d(tg.ones([64])).numpy() for _ in range(3)]
    assert not np.array_equal(masks[1], masks[2])
    replayed(d)


def test_variables_made_on_the_first_trace_only():
    class Holder(tg.Module):
        def __init__(self):
            super().__init__()
            self.v = None

        @tg.function
        def __call__(self, x):
            if self.v is None:
                self.v = tg.Variable(tg.ones_like(x))
            return self.v * x

    h = Holder()
    assert h(tg.constant([2.0, 3.0])).numpy().tolist() == [2.0, 3.0]
    assert h(tg.constant([4.0, 5.0])).numpy().tolist() == [4.0, 5.0]
    replayed(h.__call__)
    # a Variable made anew on every call: TF's singleton error on the first call
    f = tg.function(lambda x: tg.Variable(1.0) * x)
    with pytest.raises(ValueError, match="only supports singleton tf.Variables created on the first call"):
        f(tg.constant(1.0))
    assert not f._traces and not _core._tracing()
    # one kept by the function: allowed on the first trace, TF's error when a later trace makes another
    kept = []
    g = tg.function(lambda x: kept.append(tg.Variable(1.0)) or kept[-1] * x)
    g(tg.constant(1.0))
    g(tg.constant(2.0))  # a replay: no new Variable
    assert len(kept) == 1
    with pytest.raises(ValueError, match="Creating variables on a non-first call"):
        g(tg.constant([1.0]))


# ---- what a trace cannot replay runs eagerly ----------------------------------------------------------


def test_value_reads_fall_back_to_eager_with_a_reason():
    @tg.function
    def f(x):
        if float(tg.reduce_sum(x)) > 0:  # a data-dependent Python branch
            return x * 2.0
        return -x

    assert f(tg.constant([1.0])).numpy().tolist() == [2.0]
    assert f(tg.constant([-1.0])).numpy().tolist() == [1.0]  # same signature: not baked in
    (reason,) = f.experimental_get_graph_status()
    assert "read the value of a tensor computed in the function" in reason


def test_replay_checks_its_arguments():
    x = tg.constant([1.0, 2.0])
    _core._trace_begin()
    _core._trace_input(x)
    graph = _core._trace_end([x * 3.0])
    assert graph.replayable and graph.node_names == ["ops::binary"]
    assert graph.run([tg.constant([2.0, 4.0])])[0].numpy().tolist() == [6.0, 12.0]
    with pytest.raises(tg.errors.InvalidArgumentError, match="argument 0 has dtype float32 and shape"):
        graph.run([tg.constant([1.0, 2.0, 3.0])])
    with pytest.raises(tg.errors.InvalidArgumentError, match="expected 1 tensor arguments, got 0"):
        graph.run([])


def test_exception_while_tracing_leaves_no_trace_behind():
    @tg.function
    def f(x):
        if float(tg.reduce_sum(x * 2.0)) < 100:  # recorded calls, then a raise
            raise RuntimeError("boom")
        return x

    with pytest.raises(RuntimeError, match="boom"):
        f(tg.constant(1.0))
    assert not _core._tracing()
    assert float(tg.constant(1.0) + 1.0) == 2.0


# ---- threads ------------------------------------------------------------------------------------------


def test_threads_share_one_traced_function():
    w = tg.Variable(arr(8, 8))
    f = tg.function(lambda x: tg.tanh(x @ w) @ w)
    xs = [arr(4, 8) for _ in range(4)]
    want = [tg.tanh(x @ w) @ w for x in xs]
    f(xs[0])
    errors = []

    def work(i):
        try:
            for _ in range(50):
                np.testing.assert_allclose(f(xs[i]).numpy(), want[i].numpy(), rtol=1e-6)
        except AssertionError as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    replayed(f)


# ---- control flow (Note [Traced control flow]) -------------------------------------------------------


def test_cond_replays_either_branch():
    @tg.function
    def f(x):
        return tg.cond(tg.reduce_sum(x) > 0, lambda: x * 2.0, lambda: (-x, x)[0])

    for v in ([1.0, 2.0], [-3.0, 1.0], [0.5, 0.5], [-1.0, -1.0]):
        x = tg.constant(v)
        want = np.asarray(v) * (2.0 if sum(v) > 0 else -1.0)
        np.testing.assert_allclose(f(x).numpy(), want)
    replayed(f)
    assert "cond" in f._traces[next(iter(f._traces))].graph.node_names


def test_cond_branch_not_taken_at_trace_writes_nothing_then():
    v = tg.Variable(0.0)

    def up():
        v.assign_add(1.0)
        return v.read_value()

    def down():
        v.assign_sub(10.0)
        return v.read_value()

    f = tg.function(lambda x: tg.cond(x > 0, up, down))
    assert float(f(tg.constant(1.0))) == 1.0 and float(v) == 1.0
    assert float(f(tg.constant(-1.0))) == -9.0 and float(v) == -9.0
    assert float(f(tg.constant(1.0))) == -8.0
    replayed(f)


def test_cond_branches_must_match():
    f = tg.function(lambda x: tg.cond(x > 0, lambda: x, lambda: (x, x)))
    with pytest.raises(ValueError, match="must have the same number, type, and overall structure"):
        f(tg.constant(1.0))
    g = tg.function(lambda x: tg.cond(x > 0, lambda: x, lambda: tg.cast(x, tg.float64)))
    with pytest.raises(ValueError, match="must have the same number, type"):
        g(tg.constant(1.0))


def count_to(n):
    return tg.while_loop(
        lambda i, s: i < n, lambda i, s: (i + 1, s + tg.cast(i, tg.float32) ** 2), (tg.constant(0), tg.constant(0.0))
    )


@pytest.mark.parametrize("first", [0, 4])
def test_while_loop_replays_any_number_of_iterations(first):
    f = tg.function(count_to)
    for n in (first, 6, 0, 1, 9):
        i, s = f(tg.constant(n))
        assert int(i) == n and float(s) == sum(k * k for k in range(n))
    replayed(f)
    names = f._traces[next(iter(f._traces))].graph.node_names
    assert "while_loop" in names and "ops::binary" not in names[names.index("while_loop") + 1 :]


def test_while_loop_maximum_iterations_and_writes_each_iteration():
    v = tg.Variable(0.0)

    def body(i):
        v.assign_add(1.0)
        return (i + 1,)

    f = tg.function(lambda n: tg.while_loop(lambda i: i < n, body, [tg.constant(0)], maximum_iterations=5))
    assert int(f(tg.constant(3))[0]) == 3 and float(v) == 3.0
    assert int(f(tg.constant(10))[0]) == 5 and float(v) == 8.0
    replayed(f)


def test_gradients_through_traced_control_flow_match_eager_and_finite_differences():
    def g(x, n):
        with tg.GradientTape() as t:
            t.watch(x)
            _, y = tg.while_loop(
                lambda i, y: i < n,
                lambda i, y: (i + 1, tg.cond(tg.reduce_sum(y) > 0, lambda: tg.sin(y) * x, lambda: y * y + x)),
                (tg.constant(0), x),
            )
            loss = tg.reduce_sum(y)
        return loss, t.gradient(loss, x)

    x64 = tg.constant(RNG.normal(size=3))
    traced = check_against_eager(g, (x64, tg.constant(3)), (x64 * 0.5, tg.constant(5)), (-x64, tg.constant(0)))
    eps, n = 1e-6, tg.constant(4)
    _, grad = traced(x64, n)
    for k in range(3):
        d = np.zeros(3)
        d[k] = eps
        fd = (float(g(x64 + d, n)[0]) - float(g(x64 - d, n)[0])) / (2 * eps)
        np.testing.assert_allclose(grad.numpy()[k], fd, rtol=1e-5, atol=1e-7)


def test_untaken_branch_that_raises_falls_back_to_eager():
    x = tg.constant([1.0, 2.0, 3.0])

    @tg.function
    def f(i):
        return tg.cond(i < 3, lambda: tg.gather(x, i), lambda: tg.constant(0.0))

    assert float(f(tg.constant(1))) == 2.0
    assert float(f(tg.constant(7))) == 0.0
    # the untaken branch raised at trace time (out of range on the trace's value)
    f2 = tg.function(lambda i: tg.cond(i >= 3, lambda: tg.constant(0.0), lambda: tg.gather(x, i)))
    assert float(f2(tg.constant(5))) == 0.0 and float(f2(tg.constant(2))) == 3.0


def test_run_functions_eagerly_runs_python_every_call():
    calls = []

    @tg.function
    def f(x):
        calls.append(1)
        return x + 1.0

    tg.config.run_functions_eagerly(True)
    try:
        assert tg.config.functions_run_eagerly()
        f(tg.constant(1.0))
        f(tg.constant(2.0))
    finally:
        tg.config.run_functions_eagerly(False)
    assert calls == [1, 1] and not f._traces
    f(tg.constant(1.0))
    f(tg.constant(2.0))
    assert calls == [1, 1, 1]


def test_linear_algebra_in_a_trace():
    def f(a):
        e = tg.linalg.eigvals(a)
        return tg.math.real(e) * 2.0, tg.linalg.inv(a) @ a, tg.linalg.det(a)

    check_against_eager(f, (arr(3, 3, dtype=np.float64),), (arr(3, 3, dtype=np.float64),), rtol=1e-9, atol=1e-9)


# ---- every differentiable primitive: traced value and gradient against eager ---------------------------


def _forward_mode_programs():
    from test_forward_mode import PROGRAMS  # noqa: PLC0415  (one program per differentiable primitive)

    return PROGRAMS


@pytest.mark.parametrize("name", sorted(_forward_mode_programs()))
def test_every_primitive_replays_value_and_gradient(name):
    f, args, *_ = _forward_mode_programs()[name]
    args = [a if isinstance(a, tg.Tensor) else tg.constant(a) for a in args]

    def value_and_grad(*xs):
        with tg.GradientTape() as t:
            for x in xs:
                t.watch(x)
            y = f(*xs)
        return y, t.gradient(tg.reduce_sum(y * y), list(xs))

    wiggle = [a * tg.cast(1.0 + 0.01 * RNG.uniform(size=a.shape), a.dtype) for a in args]
    sets = (tuple(args), tuple(wiggle), tuple(args))
    if name == "IdentityN":  # its program calls x.numpy() on an argument: TF's error in a trace
        with pytest.raises(AttributeError, match="'SymbolicTensor' object has no attribute 'numpy'"):
            check_against_eager(value_and_grad, *sets, rtol=1e-7, atol=1e-9)
    else:
        check_against_eager(value_and_grad, *sets, rtol=1e-7, atol=1e-9)


# ---- constant folding (Note [Constant folding]) and strict mode -----------------------------------------


def test_shapes_are_constants_of_a_trace():
    @tg.function
    def f(x):
        n = tg.shape(x)[-1]
        return x * tg.cast(tg.range(0, n), x.dtype) + float(tg.reduce_sum(tg.ones([3])))  # no input read

    for k in (3, 3, 5, 5):
        x = arr(2, k)
        np.testing.assert_allclose(f(x).numpy(), x.numpy() * np.arange(k) + 3.0, rtol=1e-6)
    replayed(f)
    names = f._traces[next(iter(f._traces))].graph.node_names
    assert names == ["ops::binary", "ops::binary"]  # the range, cast and sum were folded


def test_watched_constants_are_not_folded():
    @tg.function
    def f(x):
        c = tg.constant([1.0, 2.0])
        with tg.GradientTape() as t:
            t.watch(c)
            y = tg.reduce_sum(c * c * x)
        return t.gradient(y, c)

    for v in (1.0, 3.0):
        np.testing.assert_allclose(f(tg.constant(v)).numpy(), [2.0 * v, 4.0 * v])
    replayed(f)


def test_keras_random_draws_replay():
    gen = tg.keras.random.SeedGenerator(1)
    f = tg.function(lambda x: x + tg.keras.random.normal([4], seed=gen) + tg.keras.random.dropout(x, 0.5, seed=gen))
    draws = [f(tg.ones([4])).numpy() for _ in range(3)]
    assert not np.allclose(draws[1], draws[2])
    replayed(f)


def test_strict_mode_raises_where_a_trace_would_fall_back(monkeypatch):
    import importlib

    monkeypatch.setattr(importlib.import_module("tapegrad.function"), "_STRICT", True)
    f = tg.function(lambda x: tg.gather(x, tg.where(x > 0)[:, 0]))  # tapegrad's own read: a fallback
    with pytest.raises(ValueError, match="cannot be traced .*tf.where with one argument .* read the value"):
        f(tg.constant([1.0]))
    assert not _core._tracing()


def test_switch_case_and_case_replay():
    def sw(i, x):
        return tg.switch_case(i, [lambda: x + 1.0, lambda: x * 2.0, lambda: -x])

    def sw_default(i, x):
        return tg.switch_case(i, {0: lambda: x + 1.0, 1: lambda: x * 2.0}, default=lambda: x * 0.0)

    def cs(x):
        return tg.case([(x > 10.0, lambda: x - 10.0), (x > 0.0, lambda: x * 3.0)], default=lambda: -x)

    args = [(tg.constant(k), tg.constant(1.5)) for k in (0, 1, 2, 5, -1, 1)]
    check_against_eager(sw, *args)
    check_against_eager(sw_default, *args)
    check_against_eager(cs, *[(tg.constant(v),) for v in (12.0, 3.0, -2.0, 0.5)])


def test_forward_accumulator_around_a_replayed_call():
    f = tg.function(lambda x: tg.sin(x) * x)
    x, u = tg.constant([0.5, 1.0]), tg.constant([1.0, -2.0])
    for _ in range(3):
        with tg.autodiff.ForwardAccumulator(x, u) as acc:
            y = f(x)
        want = (np.cos(x.numpy()) * x.numpy() + np.sin(x.numpy())) * u.numpy()
        np.testing.assert_allclose(acc.jvp(y).numpy(), want, rtol=1e-6)
    replayed(f)


def test_frequent_retracing_warning(caplog):
    def sq(x):
        return x * x

    f = tg.function(sq)
    with caplog.at_level("WARNING", logger="tensorflow"):
        for n in range(1, 8):
            f(tg.ones([n]))
    msgs = [r.getMessage() for r in caplog.records if "triggered tf.function retracing" in r.getMessage()]
    assert len(msgs) == 2 and msgs[0].startswith("5 out of the last 5 calls to <function")


# ---- autograph (tapegrad.autograph) with traced control flow ------------------------------------------


def test_autograph_if_and_while_become_nodes():
    @tg.function
    def collatz(n):
        steps = tg.constant(0)
        while n != 1:
            if n % 2 == 0:
                n = n // 2
            else:
                n = 3 * n + 1
            steps += 1
        return steps

    for n, want in ((6, 8), (7, 16), (27, 111), (1, 0)):
        assert int(collatz(tg.constant(n))) == want
    replayed(collatz)
    assert collatz._traces[next(iter(collatz._traces))].graph.node_names[-1] == "while_loop"


def test_autograph_for_over_a_tensor_range_with_break_and_tensor_indexing():
    def first_rows(x, k):
        s = tg.zeros_like(x[0])
        for i in tg.range(tg.shape(x)[0]):
            if i >= k:
                break
            s += x[i] * tg.cast(i + 1, x.dtype)
        return s

    x = arr(5, 3)
    check_against_eager(first_rows, (x, tg.constant(2)), (x * 2.0, tg.constant(4)), (x, tg.constant(0)))
    check_against_eager(lambda x, i: x[i, -1] + x[1:, i][0], (x, tg.constant(1)), (x, tg.constant(-2)))


def test_a_replay_that_raises_leaves_variables_as_eager_would():
    v, w = tg.Variable(0.0), tg.Variable(0.0)
    table = tg.constant([1.0, 2.0, 3.0])

    def step(i):
        v.assign_add(1.0)
        x = tg.gather(table, i)  # out of range at replay: InvalidArgumentError
        w.assign_add(x)
        return x

    f = tg.function(step)
    assert float(f(tg.constant(1))) == 2.0 and (float(v), float(w)) == (1.0, 2.0)
    with pytest.raises(tg.errors.InvalidArgumentError):
        f(tg.constant(7))
    after_traced = (float(v), float(w))
    with pytest.raises(tg.errors.InvalidArgumentError):
        step(tg.constant(7))
    assert after_traced == (2.0, 2.0) and (float(v), float(w)) == (3.0, 2.0)  # eager did the same
    assert float(f(tg.constant(2))) == 3.0 and (float(v), float(w)) == (4.0, 5.0)
    replayed(f)


def test_a_dataset_iterated_inside_falls_back_instead_of_baking_a_batch():
    ds = tg.data.Dataset.from_tensor_slices(np.arange(6, dtype=np.float32)).batch(2)
    it = iter(ds)

    @tg.function
    def next_sum():
        return tg.reduce_sum(next(it))

    assert [float(next_sum()) for _ in range(3)] == [1.0, 5.0, 9.0]
    assert "tf.data iterator" in next_sum.experimental_get_graph_status()[0]


# ---- the fast path (a call with the same tensor signature as the last replay) -----------------------


def test_fast_path_switches_between_signatures_and_argument_kinds():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0 + 1.0

    traced = tg.function(f)
    a, b = arr(3), arr(2, 2)
    v = tg.Variable(np.ones(3, np.float32))
    for x in [a, a, b, b, a, b, v, a, v, tg.constant(np.arange(3.0))]:
        np.testing.assert_allclose(traced(x).numpy(), f(x).numpy(), rtol=1e-6)
    # float32 (3,), float32 (2, 2), the Variable (by identity) and float64 (3,): four traces
    assert traced.experimental_get_tracing_count() == 4
    assert len(calls) == 4 + 10  # 4 traces, and the 10 eager reference calls
    replayed(traced)


def test_fast_path_is_not_taken_inside_an_outer_trace():
    v = tg.Variable(1.0)
    inner = tg.function(lambda x: x * v)
    x = arr(3)
    inner(x)
    inner(x)  # the inner function's fast path is now set

    @tg.function
    def outer(x):
        return inner(x) + 1.0

    outer(x)
    v.assign(3.0)
    np.testing.assert_allclose(outer(x).numpy(), x.numpy() * 3.0 + 1.0, rtol=1e-6)
    replayed(outer)
    assert "read_variable" in outer._traces[next(iter(outer._traces))].graph.node_names


def test_fast_path_respects_run_functions_eagerly():
    seen = []

    @tg.function
    def f(x):
        seen.append(1)
        return x + 1.0

    x = arr(2)
    f(x)
    f(x)
    assert len(seen) == 1
    tg.config.run_functions_eagerly(True)
    try:
        f(x)
        f(x)
    finally:
        tg.config.run_functions_eagerly(False)
    assert len(seen) == 3
    f(x)
    assert len(seen) == 3


def test_fast_path_keeps_the_argument_checks_of_input_signature():
    f = tg.function(lambda x: x + 1.0, input_signature=[tg.TensorSpec([None], tg.float32)])
    f(arr(3))
    f(arr(3))
    with pytest.raises(TypeError):
        f(tg.constant(np.ones(3, np.int32)))
    with pytest.raises((TypeError, ValueError)):
        f(arr(3, 2))


def test_fast_path_calls_count_toward_the_retracing_warning(caplog):
    import logging

    f = tg.function(lambda x: x + 1.0)
    with caplog.at_level(logging.WARNING, logger="tensorflow"):
        for n in range(1, 7):  # 6 traces, each followed by 5 replays: at most 2 in any 10 calls
            for _ in range(6):
                f(arr(n))
        assert "retracing" not in caplog.text
        for n in range(7, 12):  # 5 traces in a row: TF's warning
            f(arr(n))
    assert "5 out of the last" in caplog.text


# ---- Note [Symbolic reads]: user code reading a traced tensor's value gets TF's graph-mode error ----------

SYMBOLIC_READS = {
    "bool": (lambda tf, x: x * 2.0 if bool(tf.reduce_sum(x) > 0) else -x, "OperatorNotAllowedInGraphError"),
    "float": (lambda tf, x: x * float(tf.reduce_sum(x)), "TypeError"),
    "int": (lambda tf, x: x * int(tf.reduce_sum(x)), "TypeError"),
    "index": (lambda tf, x: x * [1.0, 2.0, 3.0][tf.cast(tf.reduce_sum(x), tf.int32)], "TypeError"),
    "numpy": (lambda tf, x: x * (x * 2.0).numpy(), "AttributeError"),
    "np.asarray": (lambda tf, x: x * np.asarray(x * 2.0).sum(), "NotImplementedError"),
}


@pytest.mark.parametrize("name", sorted(SYMBOLIC_READS))
@pytest.mark.parametrize("autograph", [True, False])
def test_user_reads_of_traced_values_raise_tfs_error(name, autograph):
    fn, error = SYMBOLIC_READS[name]
    x = tg.constant([0.5, 0.25])
    fn(tg, x)  # eagerly: a Python value, no error
    f = tg.function(lambda x: fn(tg, x), autograph=autograph)
    with pytest.raises(Exception) as e:
        f(x)
    assert type(e.value).__name__ == error, e.value
    assert not _core._tracing()
    if error == "OperatorNotAllowedInGraphError":
        assert isinstance(e.value, TypeError) and isinstance(e.value, tg.errors.OperatorNotAllowedInGraphError)
        assert str(e.value).startswith("Using a symbolic `tf.Tensor` as a Python `bool` is not allowed.")
    np.testing.assert_allclose(tg.function(lambda x: x + 1.0)(x).numpy(), [1.5, 1.25])  # nothing left behind


def test_symbolic_read_errors_match_tf():
    tf = pytest.importorskip("tensorflow")
    x = np.array([0.5, 0.25], np.float32)
    for name, (fn, error) in SYMBOLIC_READS.items():
        with pytest.raises(Exception) as e:
            tf.function(lambda x: fn(tf, x), autograph=False)(tf.constant(x))
        assert type(e.value).__name__ == error, (name, e.value)


VARIABLE_READS = {
    "float": (lambda v, iv: float(v), "AttributeError"),
    "int": (lambda v, iv: int(iv), "AttributeError"),
    "bool": (lambda v, iv: bool(v > 1), "OperatorNotAllowedInGraphError"),
    "numpy": (lambda v, iv: v.numpy(), "NotImplementedError"),
    "np.asarray": (lambda v, iv: np.asarray(v), "NotImplementedError"),
    "index": (lambda v, iv: [1, 2][iv], "TypeError"),
}


@pytest.mark.parametrize("name", sorted(VARIABLE_READS))
def test_variable_value_reads_in_a_trace_raise_tfs_error_types(name):
    fn, error = VARIABLE_READS[name]
    v, iv = tg.Variable(2.0), tg.Variable(1)
    fn(v, iv)  # eagerly: fine
    with pytest.raises(Exception) as e:
        tg.function(lambda: fn(v, iv), autograph=False)()
    assert type(e.value).__name__ == error, e.value


def test_variable_read_errors_match_tf():
    tf = pytest.importorskip("tensorflow")
    v, iv = tf.Variable(2.0), tf.Variable(1)
    for name, (fn, error) in VARIABLE_READS.items():
        with pytest.raises(Exception) as e:
            tf.function(lambda: fn(v, iv), autograph=False)()
        assert type(e.value).__name__ == error, (name, e.value)


def test_variable_reads_in_a_trace_raise_tfs_error():
    v = tg.Variable(2.0)
    with pytest.raises(NotImplementedError, match="only available when eager execution is enabled"):
        tg.function(lambda: v.numpy())()
    with pytest.raises(tg.errors.OperatorNotAllowedInGraphError):
        tg.function(lambda: v * 2.0 if bool(v > 1.0) else v, autograph=False)()
    assert float(v) == 2.0 and v.numpy() == 2.0  # eagerly


def test_autograph_converts_what_would_be_a_symbolic_read():
    @tg.function
    def f(x):
        if tg.reduce_sum(x) > 0:  # converted to tf.cond: no error, both branches replay
            return x * 2.0
        return -x

    assert f(tg.constant([1.0])).numpy().tolist() == [2.0]
    assert f(tg.constant([-1.0])).numpy().tolist() == [1.0]
    replayed(f)


def test_tapegrads_own_value_reads_still_fall_back():
    # tf.where with one argument reads the mask's value inside tapegrad: the trace runs eagerly
    f = tg.function(lambda x: tg.gather(x, tg.where(x > 0)[:, 0]))
    assert f(tg.constant([1.0, -1.0, 2.0])).numpy().tolist() == [1.0, 2.0]
    assert f(tg.constant([-1.0, -1.0, 3.0])).numpy().tolist() == [3.0]
    (reason,) = f.experimental_get_graph_status()
    assert "read the value of a tensor computed in the function" in reason


# ---- Note [Dead nodes] -------------------------------------------------------------------------------


def test_dead_pure_calls_are_dropped_and_effects_kept(capfd):
    v = tg.Variable(1.0)

    def f(x):
        dead = tg.exp(x) * 3.0 + tg.sin(x)  # never read: dropped
        _ = tg.reduce_sum(dead)
        v.assign_add(1.0)  # an effect: kept although its result is unused
        tg.print("called")  # a host call: kept
        tg.random.uniform([2])  # a draw: kept (the stream advances on every call, as eagerly)
        with tg.GradientTape() as t:
            t.watch(x)
            y = tg.reduce_sum(x * x)
            tg.tanh(x)  # recorded on the tape, read by nothing: dropped
        return t.gradient(y, x) * v

    traced = tg.function(f)
    x = arr(5)
    for _ in range(3):
        got = traced(x).numpy()
    np.testing.assert_allclose(got, 2.0 * x.numpy() * v.numpy(), rtol=1e-6)
    assert v.numpy() == 4.0
    assert capfd.readouterr().err.count("called") == 3
    names = traced._traces[next(iter(traced._traces))].graph.node_names
    assert "ops::unary" not in names  # exp, sin and tanh are gone
    # the result's * v; x * x is gone too: its gradient reads x, not x * x (Note [Unrolled gradient])
    assert names.count("ops::binary") == 1
    assert "push_tape" not in names and not any(n.startswith("gradient_sparse") for n in names)
    replayed(traced)


def test_dead_calls_inside_control_flow_blocks_are_kept_and_values_right():
    def f(x):
        def true_fn():
            tg.exp(x)  # dead, inside a branch: blocks are left as recorded
            return x * 2.0

        return tg.cond(tg.reduce_sum(x) > 0, true_fn, lambda: -x)

    check_against_eager(f, (arr(3),), (-tg.abs(arr(3)),), (tg.abs(arr(3)),))


def test_tensor_and_variable_refs_are_hashable_by_identity():
    x, v = tg.constant([1.0]), tg.Variable(2.0)
    seen = {x.ref(): "x", v.ref(): "v"}
    assert seen[x.ref()] == "x" and seen[v.experimental_ref()] == "v"
    assert x.ref().deref() is x and v.ref().deref() is v
    assert x.ref() != tg.constant([1.0]).ref() and x.ref() == x.ref()
    assert repr(x.ref()).startswith("<Reference wrapping <tf.Tensor")


def test_while_loop_with_growing_loop_variables_runs_eagerly_with_right_values():
    # the body reads the shape it grows (through tensor_scatter_nd_update's output shape): a
    # recording of the first iteration would keep shape [1, 2] (found by the TensorArray work)
    def f(n):
        def body(i, b):
            b = tg.concat([b, tg.zeros([1, 2])], 0)
            b = tg.tensor_scatter_nd_update(b, tg.reshape(tg.cast(i, tg.int64), [1, 1]), tg.ones([1, 2]) * 2.0)
            return i + 1, b

        return tg.while_loop(
            lambda i, b: i < n,
            body,
            [tg.constant(0), tg.zeros([0, 2])],
            shape_invariants=[tg.TensorShape([]), tg.TensorShape([None, 2])],
        )[1]

    traced = tg.function(f, autograph=False)
    for n in (2, 2, 3, 1):
        np.testing.assert_array_equal(traced(tg.constant(n)).numpy(), np.full((n, 2), 2.0, np.float32))
    (reason,) = traced.experimental_get_graph_status()
    assert "change shape from one iteration to the next" in reason


def test_printing_a_traced_tensor_shows_tfs_symbolic_form_and_keeps_the_trace(capsys):
    @tg.function
    def double(a):
        print("Tracing with", a)  # the TF guide's example: printed while tracing only
        return a + a

    assert double(tg.constant(1)).numpy() == 2
    assert double(tg.constant(2)).numpy() == 4
    out = capsys.readouterr().out
    assert out == 'Tracing with Tensor("traced:0", shape=(), dtype=int32)\n'
    replayed(double)

    @tg.function
    def shown(a):
        c = a * 2.0
        assert repr(c) == "<tf.Tensor 'traced:0' shape=(2,) dtype=float32>"
        assert f"{c}" == str(c)
        with pytest.raises(TypeError, match="unsupported format string"):
            f"{c:.2f}"
        return c

    shown(arr(2))
    replayed(shown)
    assert str(tg.constant([1.0])) == "tf.Tensor([1.], shape=(1,), dtype=float32)"  # eagerly: values
