"""AutoGraph (tapegrad.autograph): the converted function gives the original's values and
gradients in eager execution, tensor statements go through tapegrad.cond / while_loop, and TF's
errors and fallbacks hold."""

import contextlib
import functools
import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tf
from tapegrad.autograph import ConversionError, _convert

# ---- helpers -------------------------------------------------------------------------------------


def _np(x):
    if isinstance(x, (list, tuple)):
        return [_np(v) for v in x]
    if isinstance(x, dict):
        return {k: _np(v) for k, v in x.items()}
    if x is None:
        return None
    return np.asarray(x)


def _same(a, b):
    a, b = _np(a), _np(b)
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif a is None:
        assert b is None
    else:
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


@pytest.fixture
def spy(monkeypatch):
    """Counts calls of tapegrad.cond / tapegrad.while_loop."""
    counts = {"cond": 0, "while_loop": 0}
    cond, while_loop = tf.cond, tf.while_loop

    def counting_cond(*a, **k):
        counts["cond"] += 1
        return cond(*a, **k)

    def counting_while(*a, **k):
        counts["while_loop"] += 1
        return while_loop(*a, **k)

    monkeypatch.setattr(tf, "cond", counting_cond)
    monkeypatch.setattr(tf, "while_loop", counting_while)
    return counts


@pytest.fixture
def both_branches(monkeypatch):
    """A cond that runs both branches (as a tracer does) and returns the chosen one's result."""
    cond = tf.cond

    def traced_cond(pred, true_fn=None, false_fn=None, name=None):
        a = true_fn()
        b = false_fn()
        return cond(pred, lambda: a, lambda: b)

    monkeypatch.setattr(tf, "cond", traced_cond)


def check(f, *args, grad=True, **kwargs):
    """Same values (and gradients w.r.t. float tensor args) from f and its conversion."""
    g = _convert(f)
    assert g is not f
    _same(f(*args, **kwargs), g(*args, **kwargs))
    if not grad:
        return
    sources = [a for a in args if isinstance(a, tf.Tensor) and a.dtype.is_floating]
    if not sources:
        return
    grads = []
    for fn in (f, g):
        with tf.GradientTape(persistent=True) as tape:
            for s in sources:
                tape.watch(s)
            out = fn(*args, **kwargs)
            total = tf.add_n([tf.reduce_sum(tf.cast(o, tf.float32)) for o in tf.nest.flatten(out)])
        grads.append([tape.gradient(total, s) for s in sources])
    for a, b in zip(*grads):
        if a is None:
            assert b is None or np.all(np.asarray(b) == 0)
        else:
            _same(a, b)


# ---- programs ------------------------------------------------------------------------------------


def if_else(x):
    if x > 0:
        y = x * x
    else:
        y = -3.0 * x
    return y


def if_elif_else(x):
    if x > 1:
        y = x * 2.0
        z = 1.0
    elif x > -1:
        y = x * x
        z = 2.0
    else:
        y = -x
        z = 3.0
    return y + z


def if_no_else(x):
    y = x
    if x > 0:
        y = y * 3.0
    return y


def if_python(x, flag):
    if flag:
        y = x + 1.0
    else:
        y = x - 1.0
    if flag and x.shape == ():
        y = y * 2.0
    return y


def nested_if_in_loop(x, n):
    s = tf.zeros_like(x)
    for i in range(n):
        if tf.reduce_sum(x) > float(i):
            if i % 2 == 0:
                s = s + x
            else:
                s = s - 0.5 * x
        else:
            s = s * 1.5
    return s


def while_tensor(x):
    i = 0
    s = x
    p = tf.ones_like(x)
    while i < 5 and tf.reduce_sum(s) < 100.0:
        s = s * 2.0
        p = p * s
        i += 1
    return s, p, i


def while_python(x):
    i = 0
    while i < 3:
        x = x * 2.0
        i += 1
    return x


def for_range_tensor(x, n):
    s = tf.zeros_like(x)
    for i in range(n):
        s = s + x * tf.cast(i, tf.float32)
    return s


def for_tf_range(x, n):
    s = x
    for i in tf.range(1, n + 1, 2):
        s = s * tf.cast(i, tf.float32)
    return s


def for_over_tensor(xs):
    total = tf.constant(0.0)
    prod = tf.constant(1.0)
    for row in xs:
        total = total + tf.reduce_sum(row)
        prod = prod * tf.reduce_max(row)
    return total, prod


def for_python_list(x):
    out = []
    for k in [1.0, 2.0, 3.0]:
        out.append(x * k)
    last = k
    return out, last


def break_continue(x, n):
    s = tf.constant(0.0)
    for i in range(n):
        if i == 2:
            continue
        if tf.cast(i, tf.float32) * x > 6.0:
            break
        s = s + x
    return s


def while_break(x):
    k = tf.constant(0)
    while k < 10:
        x = x * 1.5
        if x > 20.0:
            break
        k += 1
    return x, k


def early_return(x):
    if x > 2.0:
        return x * 10.0
    if x < -2.0:
        return -x
    y = x + 1.0
    return y * y


def return_in_loop(xs):
    total = tf.constant(0.0)
    for v in xs:
        if v < 0.0:
            return total
        total = total + v
    return total * 2.0


def elif_returns(x):
    if x > 2.0:
        return x * 10.0
    elif x < -2.0:
        return -x
    y = x + 1.0
    return y * y


def loop_else(x):
    for _k in range(3):
        if x > 100.0:
            break
        x = x + 1.0
    else:
        x = x * 10.0
    return x


def make_closure(scale):
    offset = tf.constant(1.0)

    def inner(x):
        if x > 0:
            y = x * scale + offset
        else:
            y = x - offset
        return y

    return inner


def helper_abs(x):
    if x > 0:
        return x
    return -x


def calls_helper(x):
    return helper_abs(x) + helper_abs(x - 5.0)


def recursive(x, depth):
    if depth == 0:
        return x
    if x > 0:
        x = x * 0.5
    else:
        x = x + 1.0
    return recursive(x, depth - 1)


def defaults(x, k=2.0, *, mode="mul"):
    if mode == "mul":
        y = x * k
    else:
        y = x + k
    if y > 1.0:
        y = y - 1.0
    return y


def star_args(*args, **kwargs):
    s = tf.constant(0.0)
    for a in args:
        if a > 0:
            s = s + a
    for key in sorted(kwargs):
        s = s + kwargs[key]
    return s


def logical_ops(x, y):
    if (x > 0 and y > 0) or not (x < -1.0):
        z = x + y
    else:
        z = x - y
    w = x if x > y else y
    return z, w


class Model:
    def __init__(self, w):
        self.w = w

    def __call__(self, x):
        return self.forward(x)

    def forward(self, x):
        if tf.reduce_sum(x) > 0:
            out = x * self.w
        else:
            out = x - self.w
        return out


def calls_object(m, x):
    return m(x) + 1.0


def with_lambda(x):
    f = lambda v: v * 2.0  # noqa: E731
    if x > 0:
        x = f(x)
    return x


def generator(x):
    for k in range(3):
        yield x * k


@tf.autograph.experimental.do_not_convert
def not_converted(x):
    if x > 0:
        return x
    return -x


def calls_not_converted(x):
    return not_converted(x) * 2.0


def one_branch_only(x):
    if x > 0:
        y = x
    return y


def unused_temp(x):
    if x > 0:
        t = x * 2.0
        y = t
    else:
        y = x
    return y


def with_try(x):
    for k in range(3):
        try:
            if k == 1:
                break
        finally:
            pass
        x = x + 1.0
    return x


def with_print(x):
    if x > 0:
        print("positive")
        y = x
    else:
        y = -x
    return y


def global_counter(x):
    global _COUNTER
    _COUNTER += 1
    if x > 0:
        x = x * 2.0
    return x


_COUNTER = 0


# ---- tests ---------------------------------------------------------------------------------------

VALUES = [-3.0, -1.5, -0.5, 0.0, 0.5, 1.5, 3.0]


@pytest.mark.parametrize("v", VALUES)
def test_if_programs(v, spy):
    x = tf.constant(v)
    for f in (if_else, if_elif_else, if_no_else, early_return, elif_returns, unused_temp, calls_helper, with_lambda):
        check(f, x)
    assert spy["cond"] > 0


def test_if_on_tensor_uses_cond_and_python_if_does_not(spy):
    x = tf.constant(2.0)
    _convert(if_else)(x)
    assert spy["cond"] == 1
    spy["cond"] = 0
    check(if_python, x, True)
    check(if_python, x, False)
    assert spy["cond"] == 0


@pytest.mark.parametrize("v", [-2.0, 0.5, 3.0])
def test_loop_programs(v, spy):
    x = tf.constant(v)
    for n in (0, 1, 4, 7):
        nt = tf.constant(n)
        check(for_range_tensor, x, nt)
        check(for_tf_range, x, nt)
        check(break_continue, x, nt)
        check(nested_if_in_loop, tf.constant([v, 1.0]), n)
    check(while_tensor, x)
    check(while_python, x)
    check(while_break, x)
    check(loop_else, x)
    check(recursive, x, 3)
    assert spy["while_loop"] > 0


def test_for_over_tensor_and_return_in_loop(spy):
    xs = tf.constant([[1.0, 2.0], [3.0, -4.0], [0.5, 0.25]])
    check(for_over_tensor, xs)
    spy["while_loop"] = 0
    _convert(for_over_tensor)(xs)
    assert spy["while_loop"] == 1
    check(return_in_loop, tf.constant([1.0, 2.0, 3.0]))
    check(return_in_loop, tf.constant([1.0, -2.0, 3.0]))
    check(return_in_loop, tf.constant([-1.0]))


def test_python_for_keeps_python_semantics(spy):
    x = tf.constant(2.0)
    check(for_python_list, x)
    assert spy["while_loop"] == 0
    out, last = _convert(for_python_list)(x)
    assert last == 3.0 and isinstance(out, list)


def test_python_numbers_in_tensor_loops(monkeypatch, spy):
    s = _convert(while_tensor)(tf.constant(1.0))
    assert s[2] == 5 and isinstance(s[2], int)  # eagerly: a Python counter stays Python

    def ints(n):
        seen = []
        for i in range(n):
            seen.append(i)
        return seen

    assert _convert(ints)(tf.constant(3)) == [0, 1, 2] and spy["while_loop"] == 2
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)  # traced: TF carries it as a tensor
    s = _convert(while_tensor)(tf.constant(1.0))
    assert isinstance(s[2], tf.Tensor) and s[2].dtype == tf.int32 and int(s[2]) == 5
    assert all(isinstance(i, tf.Tensor) for i in _convert(ints)(tf.constant(3)))


def test_python_number_from_tensor_if(monkeypatch):
    def f(x):
        n = 0
        if x > 0:
            n = n + 1
        return n

    assert _convert(f)(tf.constant(1.0)) == 1 and isinstance(_convert(f)(tf.constant(1.0)), int)
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)  # traced: TF's cond output is a tensor
    out = _convert(f)(tf.constant(1.0))
    assert isinstance(out, tf.Tensor) and out.dtype == tf.int32 and int(out) == 1


def test_closures_methods_defaults_star_args():
    inner = make_closure(3.0)
    for v in VALUES:
        x = tf.constant(v)
        check(inner, x)
        check(defaults, x)
        check(defaults, x, 0.5, mode="add")
        check(star_args, x, -x, tf.constant(1.0), a=x, b=tf.constant(2.0))
    m = Model(tf.constant(2.0))
    for v in ([1.0, 2.0], [-3.0, 1.0]):
        x = tf.constant(v)
        _same(m.forward(x), _convert(m.forward)(x))
        check(calls_object, m, x)
    bound = _convert(m.forward)
    assert bound.__self__ is m


def test_closure_cells_are_shared():
    scale = 1.0

    def f(x):
        if x > 0:
            x = x * scale
        return x

    g = _convert(f)
    assert float(g(tf.constant(2.0))) == 2.0
    scale = 5.0
    assert float(g(tf.constant(2.0))) == 10.0


@pytest.mark.parametrize("v", [(-1.0, 2.0), (2.0, 3.0), (-2.0, -3.0), (0.5, -0.5)])
def test_logical_operators(v, spy):
    x, y = tf.constant(v[0]), tf.constant(v[1])
    check(logical_ops, x, y)
    assert spy["cond"] > 0
    assert _convert(logical_ops)(1, 2) == logical_ops(1, 2)


def test_recursive_helpers_are_converted(spy):
    check(calls_helper, tf.constant(1.0))
    assert spy["cond"] >= 2  # both helper calls ran helper_abs's tensor if as a cond


def test_do_not_convert(spy):
    check(calls_not_converted, tf.constant(-2.0))
    assert spy["cond"] == 0
    assert tf.autograph.to_graph(not_converted) is not_converted
    assert not_converted.__name__ == "not_converted"


def test_left_alone():
    lam = lambda x: x + 1  # noqa: E731
    assert _convert(lam) is lam
    assert _convert(generator) is generator
    assert _convert(len) is len
    assert _convert(np.sum) is np.sum
    assert _convert(tf.reduce_sum) is tf.reduce_sum
    ns = {}
    exec("def nosource(x):\n    if x > 0:\n        return x\n    return -x\n", ns)
    assert _convert(ns["nosource"]) is ns["nosource"]
    with pytest.raises(ConversionError):
        tf.autograph.to_graph(ns["nosource"])
    with pytest.raises(ConversionError):
        tf.autograph.to_graph(len)
    p = functools.partial(if_else)
    assert _convert(p) is p


def test_conversion_is_cached():
    a, b = _convert(if_else), _convert(if_else)
    assert a.__code__ is b.__code__


def test_to_code_shows_cond():
    code = tf.autograph.to_code(if_else)
    assert "ag__.if_stmt(" in code and "def if_body" in code and "nonlocal y" in code
    assert "ag__.for_stmt(" in tf.autograph.to_code(for_range_tensor)
    assert "ag__.while_stmt(" in tf.autograph.to_code(while_tensor)
    assert "do_return" in tf.autograph.to_code(early_return)
    assert "break_" in tf.autograph.to_code(break_continue)
    assert "ag__.and_(lambda" in tf.autograph.to_code(logical_ops)


def test_one_branch_definition_eagerly_is_pythons_error():
    g = _convert(one_branch_only)
    assert float(g(tf.constant(1.0))) == 1.0
    for x in (tf.constant(-1.0), -1.0):
        with pytest.raises(UnboundLocalError, match="local variable 'y'"):
            g(x)


def test_traced_cond_runs_both_branches(both_branches, monkeypatch):
    for v in (-2.0, 0.5, 3.0):
        x = tf.constant(v)
        for f in (if_else, if_elif_else, if_no_else, early_return, unused_temp, elif_returns):
            _same(f(x), _convert(f)(x))  # (TF 2.21 itself fails elif_returns: its else branch has no return)
        check(break_continue, x, tf.constant(5), grad=False)
        check(nested_if_in_loop, tf.constant([v, 1.0]), 3, grad=False)
        check(logical_ops, x, -x, grad=False)
    # TF's trace-time errors
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
        _convert(one_branch_only)(tf.constant(1.0))

    def main_undefined(x):
        if x > 0:
            pass
        else:
            y = x
        return y

    with pytest.raises(ValueError, match="'y' must also be initialized in the main branch"):
        _convert(main_undefined)(tf.constant(1.0))

    def returns_in_one_branch(x):
        for _ in range(2):
            if x > 0:
                return x
        return -x

    with pytest.raises(ValueError, match="the else branch must also have a return statement."):
        _convert(returns_in_one_branch)(tf.constant(1.0))

    def dtype_mismatch(x):
        if x > 0:
            y = tf.constant(1)
        else:
            y = tf.constant(1.0)
        return y

    with pytest.raises(TypeError, match="'y' has dtype int32 in the main branch, but dtype float32 in the else branch"):
        _convert(dtype_mismatch)(tf.constant(1.0))


def test_return_in_tensor_loop_while_tracing(monkeypatch):
    xs = tf.constant([1.0, -2.0])
    _same(return_in_loop(xs), _convert(return_in_loop)(xs))  # eagerly: the loop runs, the return works
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    with pytest.raises(NotImplementedError, match="a return statement cannot be placed inside this TensorFlow loop"):
        _convert(return_in_loop)(xs)


def test_try_and_print_fall_back_to_python():
    check(with_try, tf.constant(1.0))
    code = tf.autograph.to_code(with_try)
    assert "break" in code and "for k in ag__.converted_call(range, (3,), None):" in code
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        check(with_print, tf.constant(2.0))
    assert buf.getvalue() == "positive\npositive\n" * 2  # values and gradient passes, twice each
    assert "print('positive')" in tf.autograph.to_code(with_print)


def test_global_declaration():
    global _COUNTER
    _COUNTER = 0
    check(global_counter, tf.constant(1.0), grad=False)
    assert _COUNTER == 2


def test_eagerly_python_semantics_where_tf_would_reject(spy):
    def truthy(x):
        if x:  # a float tensor: Python's truth value eagerly
            x = x + 1.0
        if not x or x < 0:
            x = x * 2.0
        return x

    def grows(x):
        while tf.reduce_sum(x) < 10.0:  # the shape changes: fine for a Python loop
            x = tf.concat([x, x], 0)
        return x

    def mixes(x):
        i = 0
        while i < x:
            i = i + 0.5  # a Python number stays Python eagerly
        return i

    check(truthy, tf.constant(2.0))
    check(truthy, tf.constant(0.0))
    check(grows, tf.constant([1.0, 2.0]))
    check(mixes, tf.constant(3.0))
    assert spy["while_loop"] > 0


def test_condition_errors(monkeypatch):
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)  # TF's trace-time checks

    def f(x):
        if x:
            x = x + 1.0
        return x

    with pytest.raises(ValueError, match="condition of if statement expected to be `tf.bool` scalar"):
        _convert(f)(tf.constant(1.0))

    def g(x):
        while x < 3.0:
            x = tf.concat([x, x], 0)
        return x

    with pytest.raises(ValueError, match="has shape"):
        _convert(g)(tf.constant([1.0]))

    def h(x):
        i = 0
        while i < x:
            i = tf.cast(i, tf.float32) + 0.5
        return i

    with pytest.raises(TypeError, match="'i' has dtype int32 before the loop, but dtype float32 after one iteration"):
        _convert(h)(tf.constant(3))


def test_set_loop_options_shape_invariants():
    def grow(x, n):
        for _ in range(n):
            tf.autograph.experimental.set_loop_options(shape_invariants=[(x, tf.TensorShape([None]))])
            x = tf.concat([x, x], 0)
        return x

    out = _convert(grow)(tf.constant([1.0]), tf.constant(3))
    assert out.shape == (8,)

    def capped(x):
        while x < 100.0:
            tf.autograph.experimental.set_loop_options(maximum_iterations=2)
            x = x * 2.0
        return x

    assert float(_convert(capped)(tf.constant(1.0))) == 4.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=1, max_size=6),
    st.floats(-5, 5, allow_nan=False, width=32),
    st.integers(0, 6),
)
def test_random_inputs_match(values, scalar, n):
    xs = tf.constant(values)
    x = tf.constant(scalar)
    check(return_in_loop, xs)
    check(for_over_tensor, tf.reshape(xs, [-1, 1]))
    check(break_continue, x, tf.constant(n))
    check(early_return, x)
    check(while_break, x)
    check(if_elif_else, x)


# ---- more shapes of functions --------------------------------------------------------------------


class Base:
    def scale(self, x):
        return x * 2.0


class Child(Base):
    def scale(self, x):
        y = super().scale(x)
        if tf.reduce_sum(y) > 0:
            y = y + 1.0
        return y


def nonlocal_user():
    count = 0

    def step(x):
        nonlocal count
        count += 1
        if x > 0:
            x = x * 3.0
        return x

    return step, lambda: count


def recursive_inner(x):
    def down(v, k):
        if k == 0:
            return v
        if v > 1.0:
            v = v * 0.5
        return down(v, k - 1)

    return down(x, 4)


def nested_def_calls(x):
    def sq(v):
        if v > 0:
            return v * v
        return v

    s = sq(x)
    t = sq(-x)
    return s + t


def with_statement(x):
    with tf.name_scope("scope"):
        if x > 0:
            x = x + 1.0
    return x


def loop_var_after_loop(n):
    for i in range(n):  # noqa: B007  (read after the loop)
        pass
    return i


def pos_and_kwonly(a, /, b, *, c=1.0):
    if a > b:
        r = a * c
    else:
        r = b * c
    return r


def dict_and_list_state(x):
    d = {"a": x, "b": x * 2.0}
    pair = [x, x]
    i = tf.constant(0)
    while i < 3:
        d = {"a": d["a"] + 1.0, "b": d["b"] * 2.0}
        pair = [pair[0] * 2.0, pair[1] + d["a"]]
        i += 1
    return d, pair


def iterate_variable_tensor(xs):
    last = tf.constant(0.0)
    for v in xs:
        last = v
    return last, v


def continue_in_while(x):
    i = tf.constant(0)
    s = tf.constant(0.0)
    while i < 6:
        i += 1
        if i % 2 == 0:
            continue
        s = s + x * tf.cast(i, tf.float32)
    return s


def test_more_function_shapes(spy):
    c = Child()
    x = tf.constant([1.0, -0.5])
    _same(c.scale(x), _convert(c.scale)(x))
    assert spy["cond"] == 1  # super() call stays as written, the tensor if is converted
    step, count = nonlocal_user()
    g = _convert(step)
    assert g is not step
    _same(g(tf.constant(2.0)), tf.constant(6.0))
    assert count() == 1
    for v in (0.5, 8.0, -1.0):
        x = tf.constant(v)
        check(recursive_inner, x)
        check(nested_def_calls, x)
        check(with_statement, x)
        check(pos_and_kwonly, x, tf.constant(1.0), c=tf.constant(3.0))
        check(dict_and_list_state, x)
        check(continue_in_while, x)
    check(iterate_variable_tensor, tf.constant([1.0, 5.0, 2.0]))
    assert int(_convert(loop_var_after_loop)(tf.constant(3))) == 2
    with pytest.raises(UnboundLocalError):
        _convert(loop_var_after_loop)(tf.constant(0))


def test_python_bool_from_tensor_if_in_python_loop():
    def f(xs):
        n = 0
        for v in [1.0, -2.0, 3.0]:
            if tf.constant(v) > 0:
                n = n + 1
        return n

    assert int(_convert(f)(None)) == 2


def test_closure_defined_in_branch_keeps_its_value():
    def f(x):
        if x > 0:
            t = x * 2.0

            def helper():
                return t

        else:

            def helper():
                return -x

        return helper()

    for v in (1.0, -1.0):
        _same(f(tf.constant(v)), _convert(f)(tf.constant(v)))


# ---- against TensorFlow's AutoGraph --------------------------------------------------------------

_PROGRAMS = """
tf = None  # set to tensorflow or tapegrad


def collatz(n):
    steps = tf.constant(0)
    while n > 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps


def piecewise(x):
    if x > 2.0:
        return x * 10.0
    y = x + 1.0
    if y < 0.0:
        y = -y
    return y * y


def sum_until(xs, limit):
    total = tf.constant(0.0)
    for v in xs:
        if total > limit:
            break
        if v < 0.0:
            continue
        total = total + v
    return total


def logic(x, y):
    if (x > 0 and y > 0) or not (x < -1.0):
        z = x + y
    else:
        z = x - y
    return z, (x if x > y else y)


def range_sum(x, n):
    s = x
    for i in range(n):
        s = s * 0.5 + tf.cast(i, tf.float32)
    return s


def one_branch(x):
    if x > 0:
        y = x
    return y


def main_undefined(x):
    if x > 0:
        pass
    else:
        y = x
    return y


def branch_dtype(x):
    if x > 0:
        y = tf.constant(1)
    else:
        y = tf.constant(1.0)
    return y


def loop_dtype(x):
    i = 0
    while i < x:
        i = tf.cast(i, tf.float32) + 0.5
    return i


def loop_shape(x):
    while tf.reduce_sum(x) < 10.0:
        x = tf.concat([x, x], 0)
    return x


def return_in_loop(xs):
    total = tf.constant(0.0)
    for v in xs:
        if v < 0.0:
            return total
        total = total + v
    return total


def bad_condition(x):
    if x:
        x = x + 1.0
    return x
"""


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    tf_ref = pytest.importorskip("tensorflow")
    import importlib.util

    path = tmp_path_factory.mktemp("ag") / "ag_programs.py"
    path.write_text(_PROGRAMS)
    mods = {}
    for name, lib in (("ref", tf_ref), ("tg", tf)):
        spec = importlib.util.spec_from_file_location(f"ag_programs_{name}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        mod.tf = lib
        mods[name] = mod
    return tf_ref, mods["ref"], mods["tg"]


def test_values_match_tensorflow_autograph(programs):
    tf_ref, ref, tg = programs
    cases = [
        ("collatz", [(7,), (1,), (27,)], "int32"),
        ("piecewise", [(3.0,), (-3.0,), (0.5,)], "float32"),
        ("sum_until", [([1.0, -2.0, 3.0, 4.0], 3.5), ([1.0], 0.0), ([], 1.0)], "float32"),
        ("logic", [(1.0, 2.0), (-2.0, 1.0), (-0.5, -3.0)], "float32"),
        ("range_sum", [(1.0, 0), (1.0, 5)], None),
    ]
    for name, inputs, dtype in cases:
        for args in inputs:

            def mk(lib, a):
                if isinstance(a, int) and dtype is None:
                    return lib.constant(a)
                return lib.constant(a, dtype=dtype) if dtype else lib.constant(a)

            expected = tf_ref.function(getattr(ref, name))(*[mk(tf_ref, a) for a in args])
            got = _convert(getattr(tg, name))(*[mk(tf, a) for a in args])
            _same(tf_ref.nest.map_structure(lambda t: t.numpy(), expected), got)


@pytest.mark.parametrize(
    "name, arg, error",
    [
        ("one_branch", 1.0, ValueError),
        ("main_undefined", 1.0, ValueError),
        ("branch_dtype", 1.0, TypeError),
        ("loop_dtype", 3, TypeError),
        ("loop_shape", [1.0], ValueError),
        ("return_in_loop", [1.0, -1.0], NotImplementedError),
        ("bad_condition", 1.0, ValueError),
    ],
)
def test_trace_errors_match_tensorflow(programs, both_branches, monkeypatch, name, arg, error):
    tf_ref, ref, tg = programs
    with pytest.raises(error) as expected:
        tf_ref.function(getattr(ref, name))(tf_ref.constant(arg))
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    with pytest.raises(error) as got:
        _convert(getattr(tg, name))(tf.constant(arg))
    message = str(got.value)
    if name == "bad_condition":  # TF prints its symbolic tensor; compare around it
        message = message.split(", got ")[0]
    assert message in str(expected.value)


def test_names_of_converted_code():
    g = _convert(make_closure(2.0))
    assert g.__qualname__ == "make_closure.<locals>.inner" and g.__code__.co_name == "inner"

    def outer(x):
        f = lambda v: v + 1  # noqa: E731
        return f

    assert _convert(outer)(1).__qualname__ == "test_names_of_converted_code.<locals>.outer.<locals>.<lambda>"


def except_name(x):
    if x > 0:
        try:
            raise ValueError("a")
        except ValueError as e:
            msg = str(e)
        x = x + float(len(msg))
    return x


def nested_loops(x, n):
    s = tf.constant(0.0)
    for i in range(n):
        for j in range(n):
            if j > i:
                break
            if j == 1:
                continue
            s = s + x * tf.cast(i * 10 + j, tf.float32)
        else:
            s = s - 1.0
        if s > 50.0:
            return s
    return -s


def while_else(x):
    k = 0
    while k < 5:
        k += 1
        if x * k > 7.0:
            break
    else:
        return tf.constant(-1.0)
    return x * k


def test_handlers_nested_loops_loop_else():
    for v in (0.5, 2.0, -1.0, 3.0):
        x = tf.constant(v)
        check(except_name, x)
        check(while_else, x)
        for n in (0, 3, tf.constant(4)):
            check(nested_loops, x, n)


# ---- random programs -----------------------------------------------------------------------------


def random_program(seed, name):
    """Source of a random function of (x: float scalar, n: int scalar, xs: float vector) mixing
    tensor and Python if / while / for over range(n), range(2), tf.range and xs, with break,
    continue and return; every while loop is bounded by its own counter."""
    import random

    rng = random.Random(seed)
    conds = ["x > {c}", "a < b", "k > {i}", "a > {c} and b < {d}", "not (b > {c})", "a > {c} or k == {i}"]
    assigns = ["a = a * 0.5 + x", "b = b - 0.25 * a", "a = a + 1.0", "k = k + 1", "b = b * 1.5 - 0.5"]
    count = [0]

    def cond():
        c, d = round(rng.uniform(-2, 2), 2), round(rng.uniform(-1, 3), 2)
        return rng.choice(conds).format(c=c, d=d, i=rng.randint(0, 3))

    def block(depth, pad, in_loop, lo=1, hi=3):
        return [line for _ in range(rng.randint(lo, hi)) for line in stmt(depth, pad, in_loop)]

    def stmt(depth, pad, in_loop):
        r = rng.random()
        if depth >= 3 or r < 0.35:
            return [pad + rng.choice(assigns)]
        if r < 0.55:
            out = [pad + f"if {cond()}:"] + block(depth + 1, pad + "    ", in_loop)
            if rng.random() < 0.5:
                out += [pad + "else:"] + block(depth + 1, pad + "    ", in_loop)
            return out
        if r < 0.65 and in_loop:
            return [pad + f"if {cond()}:", pad + "    " + rng.choice(["break", "continue"])]
        if r < 0.70:
            return [pad + f"if {cond()}:", pad + "    return a - b"]
        count[0] += 1
        v = f"v{count[0]}"
        if r < 0.84:
            head = [pad + f"{v} = 0", pad + f"while {v} < 3 and ({cond()}):", pad + f"    {v} = {v} + 1"]
            return head + block(depth + 1, pad + "    ", True)
        it = rng.choice(["range(n)", "range(2)", "tf.range(3)", "xs"])
        head = [pad + f"for {v} in {it}:", pad + f"    b = b + 0.1 * tf.cast({v}, tf.float32)"]
        return head + block(depth + 1, pad + "    ", True)

    lines = [f"def {name}(x, n, xs):", "    a = x * 0.5", "    b = tf.constant(1.0)", "    k = 0"]
    lines += block(0, "    ", False, 3, 6)
    lines.append("    return a + b + tf.cast(k, tf.float32)")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def random_programs(tmp_path_factory):
    import importlib.util

    path = tmp_path_factory.mktemp("agr") / "ag_random_programs.py"
    path.write_text("import tapegrad as tf\n\n\n" + "\n\n".join(random_program(s, f"p{s}") for s in range(60)))
    spec = importlib.util.spec_from_file_location("ag_random_programs", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return [getattr(mod, f"p{s}") for s in range(60)]


RANDOM_INPUTS = [(v, n, xs) for v in (-1.5, 0.3, 2.0) for n, xs in ((0, [1.0]), (3, [0.5, -2.0, 3.0]))]


def test_random_programs_eagerly_equal_the_original(random_programs, spy):
    for f in random_programs:
        for v, n, xs in RANDOM_INPUTS:
            check(f, tf.constant(v), tf.constant(n), tf.constant(xs), grad=(v == 0.3))
    assert spy["cond"] > 100 and spy["while_loop"] > 100


TF_TRACE_ERRORS = (
    "must also be initialized in the",
    "must also have a return statement",
    "a return statement cannot be placed inside this TensorFlow loop",
    "changing to a TF loop should remove the error",
    "Did you intend to make it a TF loop?",
)


def test_random_programs_traced(random_programs, both_branches, monkeypatch):
    """Both branches of every tensor if run and Python numbers become tensors, as in a trace: each
    program either raises one of TF's trace-time errors or gives the original's values."""
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    ran = 0
    for f in random_programs:
        g = _convert(f)
        for v, n, xs in RANDOM_INPUTS:
            args = (tf.constant(v), tf.constant(n), tf.constant(xs))
            try:
                out = g(*args)
            except (ValueError, NotImplementedError) as e:
                assert any(m in str(e) for m in TF_TRACE_ERRORS), e
                continue
            _same(f(*args), out)
            ran += 1
    assert ran > 60


def test_namespace_matches_tensorflow(programs):
    tf_ref = programs[0]
    for ours, theirs in ((tf.autograph, tf_ref.autograph), (tf.autograph.experimental, tf_ref.autograph.experimental)):
        missing = [n for n in dir(theirs) if not n.startswith("_") and not hasattr(ours, n)]
        assert not missing
    assert [f.name for f in tf.autograph.experimental.Feature] == [
        f.name for f in tf_ref.autograph.experimental.Feature
    ]


def test_loop_entry_values_while_tracing(monkeypatch):
    def first_set_in_loop(n):
        for i in tf.range(n):
            y = tf.cast(i, tf.float32) * 2.0
        return y

    def none_before(x):
        best = None
        while x < 10.0:
            x = x * 2.0
            best = x
        return best

    def temp_only(n):
        s = tf.constant(0.0)
        for i in tf.range(n):
            t = tf.cast(i, tf.float32)  # one iteration's temporary: not loop state
            s = s + t
        return s

    n = tf.constant(3)
    assert float(_convert(first_set_in_loop)(n)) == 4.0  # eagerly: the last iteration's value
    assert float(_convert(none_before)(tf.constant(3.0))) == 12.0
    monkeypatch.setattr(tf, "executing_eagerly", lambda: False)
    with pytest.raises(ValueError, match="'y' must be defined before the loop"):
        _convert(first_set_in_loop)(n)
    with pytest.raises(ValueError, match="'best' is not allowed to be None before the loop"):
        _convert(none_before)(tf.constant(3.0))
    assert float(_convert(temp_only)(n)) == 3.0


_FLAG = 0.0


def sets_global(x):
    global _FLAG
    if x > 0:
        _FLAG = 1.0
    else:
        _FLAG = -1.0
    for _ in range(2):
        _FLAG = _FLAG * 2.0
    return x


def test_global_and_nonlocal_names_escape():
    g = _convert(sets_global)
    g(tf.constant(1.0))
    assert float(_FLAG) == 4.0
    g(tf.constant(-1.0))
    assert float(_FLAG) == -4.0

    def outer():
        seen = 0.0

        def inner(x):
            nonlocal seen
            if x > 0:
                seen = 5.0
            return x

        return inner, lambda: seen

    inner, seen = outer()
    _convert(inner)(tf.constant(1.0))
    assert float(seen()) == 5.0


def test_to_graph_recursive(spy):
    g = tf.autograph.to_graph(calls_helper, recursive=False)
    _same(calls_helper(tf.constant(1.0)), g(tf.constant(1.0)))
    assert spy["cond"] == 0  # helper_abs ran as written
    assert "converted_call" not in tf.autograph.to_code(calls_helper, recursive=False)
    tf.autograph.to_graph(calls_helper)(tf.constant(1.0))
    assert spy["cond"] == 2


def test_errors_in_converted_code_name_the_users_file_and_line():
    import traceback

    import tapegrad as tg

    @tg.function
    def f(x):
        y = x + 1.0
        vals = [a for a in range(3) if tg.reduce_sum(y) > a]  # not converted (as TF): TF's error
        return y * len(vals)

    with pytest.raises(tg.errors.OperatorNotAllowedInGraphError) as e:
        f(tg.constant([1.0]))
    frames = [fs for fs in traceback.extract_tb(e.value.__traceback__) if fs.name == "f"]
    assert frames and frames[-1].filename == __file__
    assert "vals = [a for a in range(3)" in frames[-1].line
