"""One trace for an input signature with None dimensions (Note [Polymorphic traces],
cpp/graph/poly.cpp). Every replay is compared with the same Python function run eagerly on the same
values (bit for bit: the replay runs the same kernels); side effects and tracing counts follow TF's
rules; a trace that fixed a varying size falls back to one trace per shape, with the reason."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from threads_helper import replay_in_threads

import tapegrad as tg

RNG = np.random.default_rng(11)


def arr(*shape, dtype=np.float32):
    return tg.constant(RNG.normal(size=shape).astype(dtype))


def poly_status(f):
    """The reason per traced signature with None dimensions ('' = one trace serves all sizes)."""
    return [reason for _, reason in f.experimental_get_polymorphism()]


def same(a, b):
    for x, y in zip(tg.nest.flatten(a), tg.nest.flatten(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_tf_guide_collatz_traces_once_for_every_length(capsys):
    # the tf.function guide's input_signature example
    @tg.function(input_signature=(tg.TensorSpec(shape=[None], dtype=tg.int32),))
    def next_collatz(x):
        print("Tracing with", x)
        return tg.where(x % 2 == 0, x // 2, 3 * x + 1)

    for n in (2, 5, 1, 9, 0):
        x = tg.constant(np.arange(1, n + 1, dtype=np.int32))
        same(next_collatz(x), next_collatz.python_function(x))
    out = capsys.readouterr().out
    assert out.count("Tracing with Tensor(") == 1
    assert 'Tensor("traced:0", shape=(None,), dtype=int32)' in out
    assert next_collatz.experimental_get_tracing_count() == 1
    assert poly_status(next_collatz) == [""]
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
        next_collatz(tg.constant([[1, 2], [3, 4]]))


def test_static_shape_has_none_in_varying_dimensions():
    seen = {}

    @tg.function(input_signature=[tg.TensorSpec([None, 3]), tg.TensorSpec([3, 2])])
    def f(x, w):
        y = tg.matmul(x, w)
        seen["x"], seen["y"], seen["w"] = x.shape, y.shape, w.shape
        seen["sum0"] = tg.reduce_sum(y, axis=0).shape
        seen["get_shape"] = y.get_shape().as_list()
        return y, tg.shape(y), tg.size(y)

    w = arr(3, 2)
    for n in (4, 7, 2):
        x = arr(n, 3)
        y, s, size = f(x, w)
        np.testing.assert_array_equal(y.numpy(), tg.matmul(x, w).numpy())
        assert s.numpy().tolist() == [n, 2] and int(size) == 2 * n
    assert seen["x"] == tg.TensorShape([None, 3]) and seen["y"].as_list() == [None, 2]
    assert seen["w"] == (3, 2) and seen["sum0"] == (2,) and seen["get_shape"] == [None, 2]
    assert f.experimental_get_tracing_count() == 1 and poly_status(f) == [""]


def test_user_code_cannot_use_a_varying_size_as_a_number():
    @tg.function(input_signature=[tg.TensorSpec([None, 3])])
    def times(x):
        return tg.reshape(x, [x.shape[0] * 3])

    with pytest.raises(TypeError):  # None * 3, as in TF
        times(arr(6, 3))

    @tg.function(input_signature=[tg.TensorSpec([None, 3])], autograph=False)
    def length(x):
        return len(x)

    with pytest.raises(TypeError, match="len is not well defined for a symbolic Tensor"):
        length(arr(6, 3))


def make_model(init=None):
    model = tg.keras.Sequential([tg.keras.layers.Dense(8, activation="relu"), tg.keras.layers.Dense(3)])
    model.build((None, 4))
    if init is not None:
        model.set_weights(init)
    opt = tg.keras.optimizers.Adam(0.01)
    loss_fn = tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def step(x, y):
        with tg.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return model, opt, step


def test_keras_training_step_replays_every_batch_size_as_eager():
    eager_model, eager_opt, eager_step = make_model()
    model, opt, step = make_model(eager_model.get_weights())
    traced = tg.function(step, input_signature=[tg.TensorSpec([None, 4]), tg.TensorSpec([None], tg.int32)])
    for n in (8, 5, 8, 3, 16, 2):
        x = tg.constant(RNG.normal(size=(n, 4)).astype(np.float32))
        y = tg.constant(RNG.integers(0, 3, size=n).astype(np.int32))
        same(traced(x, y), eager_step(x, y))
        same(model.get_weights(), eager_model.get_weights())
    same([v.numpy() for v in opt.variables], [v.numpy() for v in eager_opt.variables])
    assert traced.experimental_get_tracing_count() == 1 and poly_status(traced) == [""]
    assert traced.experimental_get_graph_status() == [""]


def test_reduce_retracing_generalizes_after_the_second_shape():
    traced = []

    @tg.function(reduce_retracing=True)
    def g(x):
        traced.append(x.shape)
        return x * 2.0 + tg.cast(tg.shape(x)[0], tg.float32)

    for n in (3, 5, 7, 9, 5):
        x = arr(n)
        same(g(x), x * 2.0 + float(n))
    # the first call traces its exact shape; the second traces (None,), which serves the rest
    assert traced == [(3,), tg.TensorShape([None])] and traced[1].as_list() == [None]
    assert g.experimental_get_tracing_count() == 2 and poly_status(g) == [""]


def test_outer_tape_sees_the_replayed_ops():
    w = tg.Variable(arr(3, 1))

    @tg.function(input_signature=[tg.TensorSpec([None, 3])])
    def f(x):
        return tg.reduce_mean(tg.tanh(tg.matmul(x, w)))

    for n in (4, 9):
        x = arr(n, 3)
        with tg.GradientTape() as t1:
            t1.watch(x)
            a = f(x)
        with tg.GradientTape() as t2:
            t2.watch(x)
            b = f.python_function(x)
        same(t1.gradient(a, [x, w]), t2.gradient(b, [x, w]))
    assert poly_status(f) == [""]


def test_control_flow_with_a_varying_size():
    @tg.function(input_signature=[tg.TensorSpec([None, 2])])
    def f(x):
        total = tg.zeros([2])
        i = tg.constant(0)
        while i < tg.shape(x)[0]:
            total += tg.gather(x, i) * tg.cast(i, tg.float32)
            i += 1
        if tg.reduce_sum(x) > 10.0:
            total = total * 2.0
        return total

    for n in (3, 6, 2, 5):
        x = tg.constant(np.arange(2 * n, dtype=np.float32).reshape(n, 2))
        same(f(x), f.python_function(x))
    assert f.experimental_get_tracing_count() == 1 and poly_status(f) == [""]


def test_fixed_sizes_fall_back_to_one_trace_per_shape():
    traces = []

    @tg.function(input_signature=[tg.TensorSpec([None, 2])])
    def fixed(x):  # a reshape to the first call's size: fails on the shadow's size
        traces.append(1)
        return tg.reshape(x, [4, 2]) * 2.0

    x = arr(4, 2)
    same(fixed(x), tg.reshape(x, [4, 2]) * 2.0)
    (reason,) = poly_status(fixed)
    assert "fails when the inputs' None dimensions have other sizes" in reason
    with pytest.raises(tg.errors.InvalidArgumentError):  # another size traces again and fails as eager
        fixed(arr(3, 2))

    @tg.function(input_signature=[tg.TensorSpec([None, 4])])
    def gathered(x):  # tf.gather_nd reshapes with sizes read from the traced shape
        traces.append(2)
        return tg.gather_nd(x, [[0, 1], [1, 2]]) * 2.0

    for n in (4, 7, 4):
        x = arr(n, 4)
        same(gathered(x), tg.gather_nd(x, [[0, 1], [1, 2]]) * 2.0)
    assert "tf.gather_nd reads a dimension" in poly_status(gathered)[0]
    assert gathered.experimental_get_tracing_count() == 1  # TF's count; tapegrad traced twice
    assert traces.count(2) == 2


def test_first_call_of_size_one_specializes():
    f = tg.function(lambda x: x * 2.0, input_signature=[tg.TensorSpec([None])])
    x1, x3 = arr(1), arr(3)
    same(f(x1), x1 * 2.0)
    same(f(x3), x3 * 2.0)
    assert "size 1" in poly_status(f)[0]


def test_unknown_rank_signature_traces_per_rank():
    f = tg.function(lambda x: tg.reduce_sum(x * x), input_signature=[tg.TensorSpec(None, tg.float32)])
    for shape in [(2, 3), (4, 3), (5,), (2, 2, 2)]:
        x = arr(*shape)
        same(f(x), tg.reduce_sum(x * x))
    assert poly_status(f) == ["", "", ""]  # one trace per rank


def test_threads_replay_one_polymorphic_trace():
    w = tg.constant(RNG.normal(size=(3, 4)).astype(np.float32))
    f = tg.function(lambda x: tg.nn.relu(tg.matmul(x, w)) * 0.5, input_signature=[tg.TensorSpec([None, 3])])
    xs = [arr(n, 3) for n in (2, 5, 9, 17)]
    want = [f.python_function(x).numpy() for x in xs]
    f(xs[0])
    replay_in_threads(f, xs, want, calls=50)
    assert f.experimental_get_tracing_count() == 1 and poly_status(f) == [""]


def test_matches_tf_tracing_and_static_shapes():
    tf = pytest.importorskip("tensorflow")
    results = {}
    for lib in (tf, tg):
        seen = []

        def body(x, i, lib=lib):
            seen.append((tuple(x.shape), tuple(lib.gather(x, i).shape), tuple(lib.reduce_sum(x, 1).shape)))
            return lib.gather(x, i) * 2.0, lib.shape(x), lib.size(x)

        f = lib.function(body, input_signature=[lib.TensorSpec([None, 3]), lib.TensorSpec([None], lib.int32)])
        outs = []
        for n, k in ((4, 2), (6, 3), (5, 1)):
            x = np.arange(3 * n, dtype=np.float32).reshape(n, 3)
            i = np.arange(k, dtype=np.int32)
            outs.append([np.asarray(o) for o in f(lib.constant(x), lib.constant(i))])
        results[lib.__name__] = (seen, outs, f.experimental_get_tracing_count())
    (ts, to, tc), (gs, go, gc) = results["tensorflow"], results["tapegrad"]
    assert ts == gs and tc == gc == 1
    for a, b in zip(to, go):
        same(a, b)


L = tg.keras.layers


def _layer(make, shape=None, **call):
    """A function calling a new layer (built for batches of `shape`) on its argument."""
    layer = make()
    if shape is not None:
        layer.build((None, *shape))
    return lambda x: layer(x, **call)


def _input_grad(x):
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.reduce_sum(tg.sin(x) * x)
    return tape.gradient(y, x)


# (function of a batch x, x's shape after the batch dimension, whether one trace must serve all
# sizes): every case's replays must equal eager; the polymorphic ones must stay polymorphic
BATTERY = {
    "elementwise": (lambda x: tg.tanh(x) * 2.0 + tg.exp(-x), (4,), True),
    "reduce_mean_axis0": (lambda x: tg.reduce_mean(x, axis=0), (4,), True),
    "reduce_mean_all": (lambda x: tg.reduce_mean(x), (4,), True),
    "softmax": (lambda x: tg.nn.softmax(x), (4,), True),
    "concat_batch": (lambda x: tg.concat([x, x * 2.0], axis=0), (4,), True),
    "transpose": (lambda x: tg.transpose(x), (4,), True),
    "reshape_minus_one": (lambda x: tg.reshape(x, [-1, 2]), (4,), True),
    "expand_squeeze": (lambda x: tg.squeeze(tg.expand_dims(x, 1), 1), (4,), True),
    "cumsum": (lambda x: tg.cumsum(x, axis=0), (4,), True),
    "ones_like": (lambda x: tg.ones_like(x) + x, (4,), True),
    "zeros_of_shape": (lambda x: tg.zeros(tg.shape(x)) + x, (4,), True),
    "fill_of_shape": (lambda x: tg.fill(tg.shape(x), 3.0) * x, (4,), True),
    "broadcast_to_shape": (lambda x: tg.broadcast_to(tg.reduce_sum(x, 0), tg.shape(x)), (4,), True),
    "reshape_to_traced_list": (lambda x: tg.reshape(x, [tg.shape(x)[0], 2, 2]), (4,), True),
    "tile": (lambda x: tg.tile(x, [2, 1]), (4,), True),
    "gather": (lambda x: tg.gather(x, [3, 0], axis=1), (4,), True),
    "slice_index": (lambda x: x[0] + x[-1], (4,), True),
    "slice_column": (lambda x: x[:, 1], (4,), True),
    "slice_steps": (lambda x: x[::-2, None, 1:3], (4,), True),
    "slice_shift": (lambda x: x[1:] - x[:-1], (4,), True),
    "unstack_static_axis": (lambda x: tg.unstack(x, axis=1)[2], (4,), True),
    "one_hot": (lambda x: tg.one_hot(tg.argmax(x, axis=1), 4), (4,), True),
    "size": (lambda x: tg.cast(tg.size(x), tg.float32) * x, (4,), True),
    "norm": (lambda x: tg.norm(x, axis=1), (4,), True),
    "moments": (lambda x: tg.nn.moments(x, axes=[0])[1], (4,), True),
    "input_gradient": (_input_grad, (4,), True),
    "dense": (_layer(lambda: L.Dense(3), (4,)), (4,), True),
    "layer_norm": (_layer(L.LayerNormalization, (4,)), (4,), True),
    "batch_norm_training": (_layer(L.BatchNormalization, (4,), training=True), (4,), True),
    "conv2d": (_layer(lambda: L.Conv2D(2, 3, padding="same"), (5, 5, 2)), (5, 5, 2), True),
    "max_pool": (lambda x: tg.nn.max_pool2d(x, 2, 2, "VALID"), (4, 4, 2), True),
    "flatten": (_layer(L.Flatten), (4, 4, 2), True),
    "lstm": (_layer(lambda: L.LSTM(3), (5, 2)), (5, 2), True),
    "mse": (lambda x: tg.keras.losses.MeanSquaredError()(x, x * 0.5), (4,), True),
    "categorical_crossentropy": (
        lambda x: tg.keras.losses.CategoricalCrossentropy(from_logits=True)(tg.nn.softmax(x), x),
        (4,),
        True,
    ),
    "accuracy": (
        lambda x: tg.reduce_mean(tg.keras.metrics.categorical_accuracy(tg.nn.softmax(x), x)),
        (4,),
        True,
    ),
    "pad": (lambda x: tg.pad(x, [[1, 1], [0, 2]]), (4,), True),
    "reverse": (lambda x: tg.reverse(x, [0, 1]), (4,), True),
    "split_fixed_axis": (lambda x: tg.split(x, 2, axis=1)[1], (4,), True),
    "range_of_size": (lambda x: tg.cast(tg.range(tg.shape(x)[0]), tg.float32), (4,), True),
    "roll": (lambda x: tg.roll(x, [1, -3, 2], axis=[0, 1, 0]), (4,), True),
    # these read a varying size in tapegrad's Python: one trace per shape, the values still right
    "split_varying_axis": (lambda x: tg.split(x, [1, -1], axis=0)[1], (4,), False),
    "einsum": (lambda x: tg.einsum("bi,bj->ij", x, x), (4,), False),
    "gather_nd": (lambda x: tg.gather_nd(x, [[0, 1], [1, 2]]), (4,), False),
    "scatter": (lambda x: tg.tensor_scatter_nd_update(x, [[0]], tg.zeros([1, 4])), (4,), False),
}


@pytest.mark.parametrize("name", sorted(BATTERY))
def test_replays_equal_eager_for_every_size(name):
    fn, tail, polymorphic = BATTERY[name]
    f = tg.function(fn, input_signature=[tg.TensorSpec((None, *tail))])
    for n in (5, 3, 8, 2, 5):
        x = tg.constant(RNG.normal(size=(n, *tail)).astype(np.float32))
        same(f(x), fn(x))
    assert f.experimental_get_graph_status() == [""] * len(f.experimental_get_graph_status())
    (reason,) = poly_status(f)[:1]
    assert (reason == "") == polymorphic, reason


def test_dropout_and_random_draws_take_each_calls_shape():
    def model():
        m = tg.keras.Sequential(
            [
                tg.keras.layers.Dense(8, activation="relu"),
                tg.keras.layers.Dropout(0.5, seed=3),
                tg.keras.layers.Dense(3),
            ]
        )
        m.build((None, 4))
        return m

    eager, traced_model = model(), model()
    traced_model.set_weights(eager.get_weights())
    f = tg.function(lambda x: traced_model(x, training=True), input_signature=[tg.TensorSpec([None, 4])])
    for n in (5, 3, 9, 5):
        x = arr(n, 4)
        same(f(x), eager(x, training=True))  # the same draws as eager, each of that call's shape
    assert poly_status(f) == [""]

    def noisy(x):
        return x + tg.random.normal(tg.shape(x), seed=5)

    g = tg.function(noisy, input_signature=[tg.TensorSpec([None])])
    tg.random.set_seed(1)
    traced = [g(tg.zeros([n])).numpy() for n in (3, 6, 2)]
    tg.random.set_seed(1)
    want = [noisy(tg.zeros([n])).numpy() for n in (3, 6, 2)]
    same(traced, want)
    assert poly_status(g) == [""] and g.experimental_get_graph_status() == [""]


GRADIENT_CASES = {
    "roll": lambda x: tg.roll(x, [1, -3], axis=[0, 1]),
    "pad": lambda x: tg.pad(x, [[1, 2], [0, 1]]),
    "reverse": lambda x: tg.reverse(x, [0]),
    "slice": lambda x: x[1:, ::-1],
    "range": lambda x: x * tg.cast(tg.range(tg.shape(x)[0]), tg.float32)[:, None],
    "split": lambda x: tg.split(x, 2, axis=1)[1],
    "tile": lambda x: tg.tile(x, [2, 1]),
    "unstack": lambda x: tg.unstack(x, axis=1)[3],
}


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradients_through_size_resolving_calls_match_eager(name):
    fn = GRADIENT_CASES[name]
    f = tg.function(fn, input_signature=[tg.TensorSpec([None, 4])])
    for n in (5, 3, 7):
        x = arr(n, 4)
        w = arr(*fn(x).shape)
        with tg.GradientTape() as t1:
            t1.watch(x)
            traced = tg.reduce_sum(f(x) * w)
        with tg.GradientTape() as t2:
            t2.watch(x)
            eager = tg.reduce_sum(fn(x) * w)
        same([traced, t1.gradient(traced, x)], [eager, t2.gradient(eager, x)])
    assert poly_status(f) == [""]


# composable steps on a [batch, 4] float tensor that keep that shape class: chains of them, traced
# once with None batch, must replay every batch size as eager does
STEPS = {
    "tanh": lambda x: tg.tanh(x),
    "center": lambda x: x - tg.reduce_mean(x, axis=0),
    "softmax": lambda x: tg.nn.softmax(x),
    "roll": lambda x: tg.roll(x, 2, axis=0),
    "reverse": lambda x: tg.reverse(x, [0]),
    "shift": lambda x: tg.concat([x[1:], x[:1]], axis=0),
    "pad_crop": lambda x: tg.pad(x, [[1, 0], [0, 0]])[:-1],
    "flip_cols": lambda x: x[:, ::-1],
    "tile_half": lambda x: tg.reshape(tg.tile(x, [1, 2]), [-1, 4])[::2],
    "scale_by_size": lambda x: x / tg.cast(tg.shape(x)[0], tg.float32),
    "cumsum": lambda x: tg.cumsum(x, axis=0),
    "rowsum": lambda x: x + tg.reduce_sum(x, axis=1, keepdims=True),
    "unstack_cols": lambda x: tg.stack(tg.unstack(x, axis=1)[::-1], axis=1),
    "range_weight": lambda x: x * tg.cast(tg.range(tg.shape(x)[0]), tg.float32)[:, None],
    "zeros_like": lambda x: x + tg.zeros_like(x),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    chain=st.lists(st.sampled_from(sorted(STEPS)), min_size=1, max_size=5),
    sizes=st.lists(st.integers(2, 9), min_size=2, max_size=4),
)
def test_random_chains_replay_every_size_as_eager(chain, sizes):
    def fn(x):
        for name in chain:
            x = STEPS[name](x)
        return x

    f = tg.function(fn, input_signature=[tg.TensorSpec([None, 4])])
    for n in sizes:
        x = arr(n, 4)
        same(f(x), fn(x))
    assert poly_status(f) == [""], chain


def test_a_size_the_trace_cannot_serve_raises_as_eager():
    def step(x, v):
        v.assign_add(x[0])
        return x[5] * 2.0  # needs at least 6 rows

    traced_v, eager_v = tg.Variable(tg.zeros([4])), tg.Variable(tg.zeros([4]))
    f = tg.function(lambda x: step(x, traced_v), input_signature=[tg.TensorSpec([None, 4])])
    same(f(tg.ones([7, 4])), step(tg.ones([7, 4]), eager_v))
    errors = []
    for fn in (f, lambda x: step(x, eager_v)):
        with pytest.raises(tg.errors.InvalidArgumentError) as e:
            fn(tg.ones([3, 4]))
        errors.append(str(e.value))
    assert errors[0] == errors[1] and "slice index 5 of dimension 0 out of bounds" in errors[0]
    same(traced_v, eager_v)  # the write before the failing op happened in both, once
    same(f(tg.ones([6, 4])), step(tg.ones([6, 4]), eager_v))  # the trace still serves other sizes
    same(traced_v, eager_v)
    assert poly_status(f) == [""] and f.experimental_get_tracing_count() == 1
