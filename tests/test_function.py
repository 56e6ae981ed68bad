"""tf.function (eager execution with TF's call rules) and the control-flow functions.

Each traced-function test compares with the same function run without the decorator; the
tracing counts and tf.print's text are compared with real TensorFlow when it is installed.
"""

import io

import numpy as np
import pytest

import tapegrad as tg


def test_function_values_and_gradients_equal_eager():
    w = tg.Variable([[0.5, -1.0], [2.0, 0.25]])

    def step(x):
        with tg.GradientTape() as tape:
            y = tg.reduce_sum(tg.tanh(x @ w) ** 2)
        return y, tape.gradient(y, w)

    x = tg.constant([[1.0, 2.0], [3.0, -1.0]])
    y1, g1 = step(x)
    y2, g2 = tg.function(step)(x)
    assert float(y1) == float(y2)
    np.testing.assert_array_equal(g1.numpy(), g2.numpy())


def test_decorator_with_and_without_arguments():
    @tg.function
    def f(x):
        return x + 1

    @tg.function(reduce_retracing=True)
    def g(x):
        return x * 2

    assert float(f(tg.constant(1.0))) == 2.0
    assert float(g(tg.constant(3.0))) == 6.0
    assert f.python_function(1) == 2
    with pytest.raises(TypeError, match="callable"):
        tg.function(3)


def _calls():
    return [
        lambda f: f(tg.constant([1, 2])),
        lambda f: f(tg.constant([3, 4])),
        lambda f: f(tg.constant([1.0])),
        lambda f: f(2),
        lambda f: f(2),
        lambda f: f(3),
        lambda f: f(tg.constant([[1]])),
        lambda f: f([tg.constant(1), 2]),
        lambda f: f({"a": tg.constant(1.0)}),
    ]


def test_tracing_count_follows_tf_rules():
    f = tg.function(lambda x: x)
    counts = []
    for c in _calls():
        c(f)
        counts.append(f.experimental_get_tracing_count())
    assert counts == [1, 1, 2, 3, 3, 4, 5, 6, 7]


def test_tracing_count_matches_tensorflow():
    tf = pytest.importorskip("tensorflow")
    f_tf = tf.function(lambda x: x)
    f_tg = tg.function(lambda x: x)
    to_tf = {id(tg): tf}
    for make in [
        lambda m: m.constant([1, 2]),
        lambda m: m.constant([3, 4]),
        lambda m: m.constant([1.0]),
        lambda m: 2,
        lambda m: 3,
        lambda m: m.constant([[1]]),
    ]:
        f_tf(make(tf))
        f_tg(make(tg))
        assert f_tg.experimental_get_tracing_count() == f_tf.experimental_get_tracing_count()
    del to_tf


def test_reduce_retracing_generalises_shapes():
    f = tg.function(lambda x: x, reduce_retracing=True)
    for n in (3, 5, 7, 9):
        f(tg.zeros([n]))
    assert f.experimental_get_tracing_count() == 2


def test_methods_get_one_function_per_instance():
    class M:
        @tg.function
        def f(self, x):
            return x * 2

    a, b = M(), M()
    a.f(tg.constant(1.0))
    a.f(tg.constant(2.0))
    b.f(tg.constant(1.0))
    assert a.f.experimental_get_tracing_count() == 1
    assert a.f is a.f and a.f is not b.f


def test_input_signature_converts_and_checks():
    @tg.function(input_signature=[tg.TensorSpec(shape=[None], dtype=tg.float32)])
    def f(x):
        return x * 2.0

    np.testing.assert_array_equal(f([1.0, 2.0]).numpy(), [2.0, 4.0])
    assert f(tg.constant([1.0])).dtype == tg.float32
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
        f(tg.constant([1, 2]))
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
        f(tg.constant([[1.0]]))
    with pytest.raises(TypeError, match="too many positional arguments"):
        f(tg.constant([1.0]), tg.constant([1.0]))
    with pytest.raises(TypeError, match="extra type constraints"):
        tg.function(lambda x: x, input_signature=[tg.TensorSpec([]), tg.TensorSpec([])])
    with pytest.raises(TypeError, match="must be either a tuple or a list"):
        tg.function(lambda x: x, input_signature=tg.TensorSpec([]))
    with pytest.raises(TypeError, match="TensorSpec objects"):
        tg.function(lambda x: x, input_signature=[3])
    with pytest.raises(TypeError, match="missing type constraint for y"):
        tg.function(lambda x, y: x, input_signature=[tg.TensorSpec([])])


def test_cond_runs_one_branch_with_gradients():
    x = tg.Variable(2.0)
    calls = []

    def t():
        calls.append("t")
        return x * x

    def f():
        calls.append("f")
        return -x

    with tg.GradientTape() as tape:
        y = tg.cond(x > 1.0, t, f)
    assert float(y) == 4.0 and calls == ["t"]
    assert float(tape.gradient(y, x)) == 4.0
    assert float(tg.cond(tg.constant([False]), t, f)) == -2.0
    with pytest.raises(TypeError, match="bool"):
        tg.cond(tg.constant(1.0), t, f)
    with pytest.raises(TypeError, match="callable"):
        tg.cond(True, 3, f)
    assert tg.cond(True, lambda: [tg.constant(1)], f).numpy() == 1  # singletons are unpacked, as TF


def test_case_and_switch_case():
    x = tg.constant(3)
    r = tg.case([(x < 0, lambda: tg.constant(-1)), (x > 2, lambda: tg.constant(1))], default=lambda: tg.constant(0))
    assert int(r) == 1
    assert int(tg.case([(x < 0, lambda: tg.constant(-1))], default=lambda: tg.constant(0))) == 0
    with pytest.raises(tg.errors.InvalidArgumentError, match="exclusive"):
        tg.case([(x > 0, lambda: 1), (x > 1, lambda: 2)], exclusive=True)
    fns = [lambda: tg.constant(10), lambda: tg.constant(11)]
    assert int(tg.switch_case(tg.constant(1), fns)) == 11
    assert int(tg.switch_case(tg.constant(7), fns)) == 11  # out of range: the last branch, as TF
    assert int(tg.switch_case(tg.constant(-1), fns, default=lambda: tg.constant(5))) == 5
    with pytest.raises(TypeError, match="must be a Tensor"):
        tg.switch_case(1, fns)
    with pytest.raises(TypeError, match="integer Tensor"):
        tg.switch_case(tg.constant(1.0), fns)
    with pytest.raises(ValueError, match="contiguous"):
        tg.switch_case(tg.constant(0), {0: fns[0], 2: fns[1]})


def test_while_loop_values_gradients_and_checks():
    x = tg.Variable(1.5)
    with tg.GradientTape() as tape:
        i, y = tg.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * x), [tg.constant(0), tg.constant(1.0)])
    assert int(i) == 3 and abs(float(y) - 1.5**3) < 1e-6
    assert abs(float(tape.gradient(y, x)) - 3 * 1.5**2) < 1e-5
    assert int(tg.while_loop(lambda i: i < 100, lambda i: i + 1, [tg.constant(0)], maximum_iterations=7)[0]) == 7
    single = tg.while_loop(lambda i: i < 4, lambda i: i + 1, tg.constant(0))
    assert int(single) == 4
    with pytest.raises(ValueError, match="after one iteration"):
        tg.while_loop(lambda v: tg.size(v) < 3, lambda v: tg.concat([v, v], 0), [tg.ones([1])])
    grown = tg.while_loop(
        lambda v: tg.size(v) < 3,
        lambda v: tg.concat([v, v], 0),
        [tg.ones([1])],
        shape_invariants=[tg.TensorShape([None])],
    )
    assert grown[0].shape == [4]
    with pytest.raises(TypeError, match="type"):
        tg.while_loop(lambda v: v < 3, lambda v: tg.cast(v, tg.float32) + 1.0, [tg.constant(0)])
    with pytest.raises(ValueError, match="No loop variables"):
        tg.while_loop(lambda: True, lambda: (), [])
    with pytest.raises(TypeError, match="cond must be callable"):
        tg.while_loop(1, lambda v: v, [1])
    with pytest.raises(ValueError, match="maximum_iterations must be a scalar"):
        tg.while_loop(lambda v: v < 3, lambda v: v + 1, [1], maximum_iterations=[1, 2])


def _tg_print(*args, **kw):
    out = io.StringIO()
    tg.print(*args, output_stream=out, **kw)
    return out.getvalue()


def test_print_format():
    assert _tg_print(tg.constant(2.0)) == "2\n"
    assert _tg_print("loss:", tg.constant(1 / 3)) == "loss: 0.333333343\n"
    assert _tg_print(tg.constant(0.1)) == "0.1\n"
    assert _tg_print(tg.range(10)) == "[0 1 2 ... 7 8 9]\n"
    assert _tg_print(tg.range(10), summarize=-1) == "[0 1 2 3 4 5 6 7 8 9]\n"
    assert _tg_print(tg.constant([[1, 2], [3, 4]])) == "[[1 2]\n [3 4]]\n"


def test_print_matches_tensorflow(capfd):
    tf = pytest.importorskip("tensorflow")
    cases = [
        lambda m: m.constant(2.0),
        lambda m: m.constant([0.1, 0.25, 1e-7]),
        lambda m: m.range(10),
        lambda m: m.reshape(m.range(24), [2, 3, 4]),
        lambda m: m.constant([True, False]),
        lambda m: m.reshape(m.range(64), [8, 8]),
        lambda m: m.reshape(m.range(16), [2, 2, 2, 2]),
        lambda m: m.constant([1 / 3, 123456789.0, 1e10, float("nan")]),
        lambda m: m.constant(0.1, m.float64),
    ]
    for make in cases:
        tf.print(make(tf), "x", sep="|")
        ref = capfd.readouterr().err
        assert _tg_print(make(tg), "x", sep="|") == ref


def test_python_number_outputs_become_tensors():
    f = tg.function(lambda a: a + a)
    assert isinstance(f(3), tg.Tensor) and int(f(3)) == 6 and f(3).dtype == tg.int32
    g = tg.function(lambda a: (a, None, [a * 2, 1.5]))
    out = g(tg.constant(1))
    assert out[1] is None and isinstance(out[2][1], tg.Tensor) and out[2][1].dtype == tg.float32
    assert tg.function(lambda: None)() is None
