"""tf.TensorArray: every method against numpy closed forms and against live TF (skipped without
it), TF's errors (type and words), gradients against finite differences, and inside tf.function:
unrolled loops, tf.while_loop and AutoGraph loops (replayed, or run eagerly with the reason)."""

import numpy as np
import pytest

import tapegrad as tg


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


# ---- programs that run unchanged with tapegrad and with TF (`tf` is either module) --------------


def p_write_read_stack(tf):
    ta = tf.TensorArray(tf.float32, size=3)
    ta = ta.write(0, [1.0, 2.0])
    ta = ta.write(2, tf.constant([5.0, 6.0]))
    return ta.stack(), ta.read(2), ta.size()


def p_dynamic(tf):
    ta = tf.TensorArray(tf.int32, size=0, dynamic_size=True)
    for i in range(4):
        ta = ta.write(i, i * i)
    ta = ta.write(6, 7)  # skips 4 and 5: zeros
    return ta.stack(), ta.size()


def p_unstack_gather(tf):
    ta = tf.TensorArray(tf.float64, size=3).unstack(np.arange(6.0).reshape(3, 2))
    return ta.gather([2, 0]), ta.gather(tf.constant([1, 1])), ta.stack()


def p_unstack_shrinks(tf):
    ta = tf.TensorArray(tf.float32, size=5).unstack([1.0, 2.0])
    return ta.size(), ta.stack()


def p_scatter(tf):
    ta = tf.TensorArray(tf.float32, size=4, element_shape=[2])
    ta = ta.scatter([3, 0], [[1.0, 2.0], [3.0, 4.0]])
    return (ta.stack(),)


def p_scatter_grows(tf):
    ta = tf.TensorArray(tf.float32, size=1, dynamic_size=True)
    return (ta.scatter(tf.constant([3, 0]), [[1.0], [2.0]]).stack(),)


def p_split_concat(tf):
    ta = tf.TensorArray(tf.float32, size=3).split(np.arange(12.0).reshape(6, 2), [1, 3, 2])
    return ta.concat(), ta.read(1), ta.size()


def p_concat_ragged(tf):
    ta = tf.TensorArray(tf.float32, size=2, infer_shape=False)
    ta = ta.write(0, [1.0, 2.0]).write(1, [3.0])
    return (ta.concat(),)


def p_overwrite_and_reads(tf):
    ta = tf.TensorArray(tf.float32, size=2, clear_after_read=False)
    ta = ta.write(0, 3.0).write(0, 4.0)
    return ta.read(0), ta.read(0), ta.gather([0, 0]), ta.stack()


def p_cleared_reads_zero(tf):
    ta = tf.TensorArray(tf.float32, size=2)
    ta = ta.write(0, [5.0, 6.0])
    first = ta.read(0)
    return first, ta.stack(), ta.read(1)  # read(0) cleared element 0; element 1 was never written


def p_empty(tf):
    return (
        tf.TensorArray(tf.float32, size=0).stack(),
        tf.TensorArray(tf.float32, size=0, element_shape=[2, 3]).stack(),
        tf.TensorArray(tf.float32, size=2, element_shape=[2]).stack(),
    )


def p_tensor_size_and_index(tf):
    ta = tf.TensorArray(tf.float32, size=tf.constant(3))
    ta = ta.write(tf.constant(1), 2.5)
    return ta.read(tf.constant(1)), ta.size()


def p_python_int_value(tf):
    ta = tf.TensorArray(tf.float64, size=1).write(0, 1)  # converted to the array's dtype
    return (ta.read(0),)


def p_close(tf):
    ta = tf.TensorArray(tf.float32, size=2)
    ta.close()
    return (ta.size(),)


def p_while_loop(tf):
    def body(i, ta):
        return i + 1, ta.write(i, tf.cast(i, tf.float32) * 2.0)

    _, ta = tf.while_loop(lambda i, ta: i < 4, body, [tf.constant(0), tf.TensorArray(tf.float32, size=4)])
    return (ta.stack(),)


PROGRAMS = {
    "write_read_stack": (p_write_read_stack, ([[1, 2], [0, 0], [5, 6]], [5, 6], 3)),
    "dynamic": (p_dynamic, ([0, 1, 4, 9, 0, 0, 7], 7)),
    "unstack_gather": (p_unstack_gather, ([[4, 5], [0, 1]], [[2, 3], [2, 3]], np.arange(6.0).reshape(3, 2))),
    "unstack_shrinks": (p_unstack_shrinks, (2, [1, 2])),
    "scatter": (p_scatter, ([[3, 4], [0, 0], [0, 0], [1, 2]],)),
    "scatter_grows": (p_scatter_grows, ([[2], [0], [0], [1]],)),
    "split_concat": (p_split_concat, (np.arange(12.0).reshape(6, 2), [[2, 3], [4, 5], [6, 7]], 3)),
    "concat_ragged": (p_concat_ragged, ([1, 2, 3],)),
    "overwrite_and_reads": (p_overwrite_and_reads, (4, 4, [4, 4], [4, 0])),
    "cleared_reads_zero": (p_cleared_reads_zero, ([5, 6], [[0, 0], [0, 0]], [0, 0])),
    "empty": (p_empty, (np.zeros([0]), np.zeros([0, 2, 3]), np.zeros([2, 2]))),
    "tensor_size_and_index": (p_tensor_size_and_index, (2.5, 3)),
    "python_int_value": (p_python_int_value, (1.0,)),
    "close": (p_close, (0,)),
    "while_loop": (p_while_loop, ([0, 2, 4, 6],)),
}


def _np(results):
    return [np.asarray(r) for r in results]


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_methods_closed_form(name):
    program, expected = PROGRAMS[name]
    got = _np(program(tg))
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        e = np.asarray(e)
        assert g.shape == e.shape, (g.shape, e.shape)
        np.testing.assert_allclose(g, e)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_methods_vs_tf(name, tf_ref):
    program, _ = PROGRAMS[name]
    for g, t in zip(_np(program(tg)), _np(program(tf_ref))):
        assert g.dtype == t.dtype and g.shape == t.shape, (g.dtype, g.shape, t.dtype, t.shape)
        np.testing.assert_allclose(g, t)


def test_properties_and_eager_write_returns_the_array():
    ta = tg.TensorArray(tg.float32, size=2, element_shape=[None, 3])
    assert ta.dtype == tg.float32 and ta.dynamic_size is False and ta.handle is None
    assert ta.element_shape.as_list() == [None, 3]
    assert ta.flow.dtype == tg.int32
    assert ta.write(0, np.ones([2, 3], np.float32)) is ta  # eagerly TF changes and returns the array
    assert ta.element_shape.as_list() == [2, 3]  # infer_shape merges the written shape
    assert ta.identity() is ta
    assert tg.TensorArray("float64", size=1, dynamic_size=True).dynamic_size is True


def test_infer_shape_false_keeps_element_shape_unknown():
    ta = tg.TensorArray(tg.float32, size=2, infer_shape=False)
    ta = ta.write(0, [1.0, 2.0]).write(1, [3.0])
    assert ta.element_shape.rank is None
    with pytest.raises(tg.errors.InvalidArgumentError, match="Shapes of all inputs must match"):
        ta.stack()


# ---- errors: TF's types and words ----------------------------------------------------------------

ERRORS = {
    "read_negative": (
        lambda tf: tf.TensorArray(tf.float32, size=2).read(-1),
        "OutOfRangeError",
        "Reading from negative indices (index -1) is not allowed.",
    ),
    "read_past_size": (
        lambda tf: tf.TensorArray(tf.float32, size=2).read(5),
        "OutOfRangeError",
        "Tried to read from index 5 but array size is: 2 ",
    ),
    "write_past_size": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(5, 1.0),
        "OutOfRangeError",
        "Tried to write to index 5 but array is not resizeable and size is: 2 ",
    ),
    "write_negative": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(-1, 1.0),
        "OutOfRangeError",
        "Writing to negative indices (index -1) is not allowed.",
    ),
    "write_dtype": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(0, tf.constant(1, tf.int32)),
        "InvalidArgumentError",
        "TensorArray dtype is float32 but Op is trying to write dtype int32 ",
    ),
    "write_float_to_int": (
        lambda tf: tf.TensorArray(tf.int32, size=2).write(0, 1.5),
        "InvalidArgumentError",
        "TensorArray dtype is int32 but Op is trying to write dtype float32 ",
    ),
    "write_shape_vs_earlier": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(0, 1.0).write(1, [1.0, 2.0]),
        "ValueError",
        "Incompatible shape for value ((2,)), expected (())",
    ),
    "write_shape_vs_element_shape": (
        lambda tf: tf.TensorArray(tf.float32, size=2, element_shape=[2]).write(0, [1.0, 2.0, 3.0]),
        "ValueError",
        "Incompatible shape for value ((3,)), expected ((2,))",
    ),
    "read_twice_cleared": (
        lambda tf: [t.read(0) for t in [tf.TensorArray(tf.float32, size=1).write(0, 1.0)] for _ in range(2)],
        "InvalidArgumentError",
        "Could not read index 0 twice because it was cleared after a previous read "
        "(perhaps try setting clear_after_read = false?)",
    ),
    "read_unwritten_unknown_shape": (
        lambda tf: tf.TensorArray(tf.float32, size=2).read(1),
        "ValueError",
        "Cannot convert a partially known TensorShape <unknown> to a Tensor.",
    ),
    "stack_unknown_shape": (
        lambda tf: tf.TensorArray(tf.float32, size=2).stack(),
        "ValueError",
        "Cannot convert a partially known TensorShape <unknown> to a Tensor.",
    ),
    "no_size": (
        lambda tf: tf.TensorArray(tf.float32),
        "ValueError",
        "Size must be declared for TensorArrays when eager execution is enabled.",
    ),
    "handle": (
        lambda tf: tf.TensorArray(tf.float32, size=1, handle=1),
        "ValueError",
        "TensorArray handles are not supported when eager execution is enabled.",
    ),
    "unstack_too_many": (
        lambda tf: tf.TensorArray(tf.float32, size=2).unstack([1.0, 2.0, 3.0]),
        "ValueError",
        "Cannot unstack 3 tensors into a TensorArray of static size 2 ",
    ),
    "scatter_past_size": (
        lambda tf: tf.TensorArray(tf.float32, size=3).scatter([5, 0], [[1.0], [2.0]]),
        "OutOfRangeError",
        "Tried to write to index 5 but array is not resizeable and size is: 3 ",
    ),
    "split_sum": (
        lambda tf: tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [1, 1]),
        "InvalidArgumentError",
        "Expected sum of lengths to be equal to values.shape[0], but sum of lengths is 2 and value's shape is: [3] ",
    ),
    "split_size": (
        lambda tf: tf.TensorArray(tf.float32, size=3).split([1.0, 2.0, 3.0], [1, 2]),
        "InvalidArgumentError",
        "TensorArray's size is not equal to the size of lengths (3 vs. 2), and the TensorArray is not marked "
        "as dynamically resizeable.",
    ),
    "split_scalar": (
        lambda tf: tf.TensorArray(tf.float32, size=2).split(1.0, [1, 2]),
        "InvalidArgumentError",
        "Expected value to be at least a vector, but received shape: [] ",
    ),
    "split_lengths_matrix": (
        lambda tf: tf.TensorArray(tf.float32, size=2).split([1.0, 2.0, 3.0], [[1, 2]]),
        "InvalidArgumentError",
        "Expected lengths to be a vector, received shape: [1, 2] ",
    ),
    "concat_scalars": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(0, 1.0).write(1, 2.0).concat(),
        "InvalidArgumentError",
        "Concat saw a scalar shape at index 0 but requires at least vectors.",
    ),
    "float_index": (
        lambda tf: tf.TensorArray(tf.float32, size=2).write(1.5, 1.0),
        "TypeError",
        "list indices must be integers or slices, not float",
    ),
    "grad": (
        lambda tf: tf.TensorArray(tf.float32, size=1).grad("source"),
        "NotImplementedError",
        "TensorArray.grad is not supported when executing eagerly; eager's gradient implementation does not "
        "use/need this function to compute gradients of operations that use TensorArrays.",
    ),
}


def _error_of(program, module):
    with pytest.raises(Exception) as info:
        program(module)
    e = info.value
    return type(e).__name__, getattr(e, "message", None) or str(e)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors(name):
    program, kind, message = ERRORS[name]
    assert _error_of(program, tg) == (kind, message)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_are_tfs(name, tf_ref):
    program, kind, message = ERRORS[name]
    assert _error_of(program, tf_ref) == (kind, message)


def test_out_of_range_error_is_tfs_class():
    e = tg.errors.OutOfRangeError(None, None, "past the end")
    assert e.message == "past the end" and e.node_def is None and str(e) == "past the end"


# ---- gradients -------------------------------------------------------------------------------------


def _grad_programs(tf):
    """f(x) -> scalar through each method; x: float64 [3, 2]."""
    w = tf.constant(np.linspace(0.5, 2.0, 6).reshape(3, 2))

    def write_read_stack(x):
        ta = tf.TensorArray(tf.float64, size=3, clear_after_read=False)
        for i in range(3):
            ta = ta.write(i, tf.sin(x[i]) * float(i + 1))
        return tf.reduce_sum(ta.stack() * w) + tf.reduce_sum(ta.read(1) ** 2)

    def unstack_gather(x):
        ta = tf.TensorArray(tf.float64, size=3).unstack(x * x)
        return tf.reduce_sum(ta.gather([2, 0]) * w[:2])

    def scatter_stack(x):
        ta = tf.TensorArray(tf.float64, size=4).scatter([3, 1, 0], tf.exp(x))
        return tf.reduce_sum(ta.stack()[1:] * w)

    def split_concat(x):
        ta = tf.TensorArray(tf.float64, size=2).split(tf.reshape(x, [6]), [2, 4])
        return tf.reduce_sum(ta.concat() ** 3) + tf.reduce_sum(ta.read(0) * 2.0)

    def while_loop(x):
        def body(i, ta):
            return i + 1, ta.write(i, x[i] * tf.cast(i + 1, tf.float64))

        _, ta = tf.while_loop(lambda i, ta: i < 3, body, [tf.constant(0), tf.TensorArray(tf.float64, size=3)])
        return tf.reduce_sum(tf.tanh(ta.stack()) * w)

    return {f.__name__: f for f in (write_read_stack, unstack_gather, scatter_stack, split_concat, while_loop)}


X = np.array([[0.3, -0.7], [1.1, 0.4], [-0.2, 0.9]])


def _tape_grad(tf, f, x):
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return np.asarray(tape.gradient(y, x))


@pytest.mark.parametrize("name", sorted(_grad_programs(tg)))
def test_gradients_vs_finite_differences(name):
    f = _grad_programs(tg)[name]
    grad = _tape_grad(tg, f, X)
    fd = np.zeros_like(X)
    eps = 1e-6
    for idx in np.ndindex(*X.shape):
        d = np.zeros_like(X)
        d[idx] = eps
        fd[idx] = (float(f(tg.constant(X + d))) - float(f(tg.constant(X - d)))) / (2 * eps)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", sorted(_grad_programs(tg)))
def test_gradients_vs_tf(name, tf_ref):
    np.testing.assert_allclose(
        _tape_grad(tg, _grad_programs(tg)[name], X),
        _tape_grad(tf_ref, _grad_programs(tf_ref)[name], X),
        rtol=1e-12,
        atol=1e-12,
    )


# ---- inside tf.function ----------------------------------------------------------------------------


def fibonacci(tf):
    """TF's TensorArray docstring example 2: Python-unrolled, reads every element twice."""

    @tf.function
    def fib(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        ta = ta.unstack([0.0, 1.0])
        for i in range(2, n):
            ta = ta.write(i, ta.read(i - 1) + ta.read(i - 2))
        return ta.stack()

    return fib


def test_unrolled_loop_replays():
    @tg.function
    def f(x):
        ta = tg.TensorArray(tg.float32, size=3)
        for i in range(3):
            ta = ta.write(i, x * float(i))
        return ta.stack(), ta.read(1) + ta.read(1)  # a trace ignores clear_after_read (TF's graph TensorArray)

    for x in ([1.0, 2.0], [3.0, -1.0], [0.5, 0.5]):
        stack, twice = f(tg.constant(x))
        np.testing.assert_allclose(stack, np.outer([0, 1, 2], x))
        np.testing.assert_allclose(twice, 2 * np.asarray(x))
    assert f.experimental_get_graph_status() == [""]
    fib = fibonacci(tg)
    np.testing.assert_allclose(fib(7), [0, 1, 1, 2, 3, 5, 8])
    assert fib.experimental_get_graph_status() == [""]


def test_unrolled_fibonacci_vs_tf(tf_ref):
    np.testing.assert_allclose(fibonacci(tg)(9), fibonacci(tf_ref)(9))


def fibonacci_tensor_loop(tf):
    @tf.function
    def fib(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        ta = ta.unstack([0.0, 1.0])
        for i in tf.range(2, n):
            ta = ta.write(i, ta.read(i - 1) + ta.read(i - 2))
        return ta.stack()

    return fib


def test_function_that_runs_eagerly_keeps_graph_semantics():
    # dynamic_size: the trace cannot replay, so later calls run the function eagerly; their
    # TensorArrays still ignore clear_after_read, as the trace's did (TF's graph TensorArray)
    fib = fibonacci_tensor_loop(tg)
    np.testing.assert_allclose(fib(tg.constant(7)), [0, 1, 1, 2, 3, 5, 8])
    np.testing.assert_allclose(fib(tg.constant(8)), [0, 1, 1, 2, 3, 5, 8, 13])
    assert "dynamic_size=True" in fib.experimental_get_graph_status()[0]
    with pytest.raises(tg.errors.InvalidArgumentError, match="Could not read index 1 twice"):
        with _eager():  # run_functions_eagerly: TF's eager TensorArray, as TF
            fib(tg.constant(4))


def test_fibonacci_tensor_loop_vs_tf(tf_ref):
    np.testing.assert_allclose(fibonacci_tensor_loop(tg)(tg.constant(9)), fibonacci_tensor_loop(tf_ref)(9))


def test_array_from_outside_a_function():
    # an array passed in is used as an array made in the function (TF's graph TensorArray): the
    # caller's array is unchanged and reads do not clear it (TF's tf.function writes graph tensors
    # into the caller's eager array instead). Its elements would be captured by value, so the
    # function runs eagerly.
    ta = tg.TensorArray(tg.float32, size=2)
    ta.write(0, 1.0)

    @tg.function
    def f(ta, x):
        return ta.write(1, x).stack(), ta.read(0) + ta.read(0)

    for x in (5.0, 6.0):
        stack, twice = f(ta, tg.constant(x))
        np.testing.assert_allclose(stack, [1, x])
        assert float(twice) == 2.0
    assert f.experimental_get_graph_status() == ["a TensorArray made outside the function is used in it"]
    ta.write(0, 3.0)
    np.testing.assert_allclose(f(ta, tg.constant(1.0))[0], [3, 1])  # not a stale captured value
    assert int(ta.size()) == 2 and float(ta.read(1)) == 0.0  # element 1 was never written out here


def test_trace_writes_are_functional():
    # in a trace a write returns a new TensorArray and leaves the old one as it was (TF's graph
    # TensorArray), so a loop body or branch run "dry" changes nothing
    @tg.function
    def f(x):
        ta = tg.TensorArray(tg.float32, size=2, element_shape=[])
        ta2 = ta.write(0, x)
        return ta.stack(), ta2.stack()

    old, new = f(tg.constant(3.0))
    np.testing.assert_allclose(old, [0, 0])
    np.testing.assert_allclose(new, [3, 0])


def _while_program(tf, size=5, element_shape=(2,), dynamic=False):
    def f(x, n):
        ta = tf.TensorArray(tf.float32, size=size, dynamic_size=dynamic, element_shape=element_shape)

        def body(i, acc, ta):
            acc = acc * 0.5 + x
            return i + 1, acc, ta.write(i, acc * tf.cast(i + 1, tf.float32))

        _, _, ta = tf.while_loop(lambda i, acc, ta: i < n, body, [tf.constant(0), tf.zeros_like(x), ta])
        return ta.stack()

    return f


def _while_closed_form(x, n, size):
    out, acc = np.zeros([size, len(x)], np.float32), np.zeros(len(x), np.float32)
    for i in range(n):
        acc = acc * 0.5 + np.asarray(x, np.float32)
        out[i] = acc * (i + 1)
    return out


def test_while_loop_replays_with_a_fixed_size_array():
    f = tg.function(_while_program(tg), autograph=False)
    for x, n in (([1.0, 2.0], 3), ([1.0, -2.0], 5), ([4.0, 2.0], 0), ([0.5, 2.0], 1)):
        got = f(tg.constant(x), tg.constant(n))
        np.testing.assert_allclose(got, _while_closed_form(x, n, 5), rtol=1e-6)
        np.testing.assert_allclose(got, _while_program(tg)(tg.constant(x), tg.constant(n)), rtol=1e-6)  # eager
    assert f.experimental_get_graph_status() == [""]
    assert f.experimental_get_tracing_count() == 1


def test_while_loop_element_shape_from_the_loop_replays():
    # no element_shape and nothing written before the loop: the first iteration is peeled off
    f = tg.function(_while_program(tg, element_shape=None), autograph=False)
    for x, n in (([1.0, 2.0], 3), ([1.0, -2.0], 5), ([3.0, 2.0], 1)):
        np.testing.assert_allclose(f(tg.constant(x), tg.constant(n)), _while_closed_form(x, n, 5), rtol=1e-6)
    assert f.experimental_get_graph_status() == [""]


def test_while_loop_peeled_with_maximum_iterations():
    @tg.function(autograph=False)
    def f(x, n):
        ta = tg.TensorArray(tg.float32, size=4)
        body = lambda i, ta: (i + 1, ta.write(i, x * tg.cast(i + 1, tg.float32)))  # noqa: E731
        return tg.while_loop(lambda i, ta: i < n, body, [0, ta], maximum_iterations=2)[1].stack()

    for n, rows in ((5, 2), (1, 1), (3, 2)):
        np.testing.assert_allclose(
            f(tg.constant([1.0, 2.0]), tg.constant(n)), np.outer(np.arange(1, 5) * (np.arange(4) < rows), [1, 2])
        )
    assert f.experimental_get_graph_status() == [""]


def test_while_loop_that_does_not_run_when_traced_runs_eagerly():
    @tg.function(autograph=False)
    def f(x, n):
        ta = tg.TensorArray(tg.float32, size=3)
        _, ta = tg.while_loop(lambda i, ta: i < n, lambda i, ta: (i + 1, ta.write(i, x * 2.0)), [0, ta])
        return ta.write(2, x).stack()  # the element shape is known from here on

    np.testing.assert_allclose(f(tg.constant([1.0, 2.0]), tg.constant(0)), [[0, 0], [0, 0], [1, 2]])
    np.testing.assert_allclose(f(tg.constant([1.0, 2.0]), tg.constant(1)), [[2, 4], [0, 0], [1, 2]])
    (status,) = f.experimental_get_graph_status()
    assert "element shape is not known before the loop" in status and "did not run when traced" in status


def test_while_loop_with_dynamic_size_runs_eagerly_with_the_reason():
    f = tg.function(_while_program(tg, size=0, dynamic=True), autograph=False)
    for x, n in (([1.0, 2.0], 3), ([1.0, -2.0], 5)):
        np.testing.assert_allclose(f(tg.constant(x), tg.constant(n)), _while_closed_form(x, n, n), rtol=1e-6)
    status = f.experimental_get_graph_status()
    assert status == ["a tf.while_loop carries a TensorArray with dynamic_size=True (its size can change)"]


def test_while_loop_vs_tf(tf_ref):
    for kwargs in ({}, {"element_shape": None}, {"size": 0, "dynamic": True}):
        f, g = tg.function(_while_program(tg, **kwargs)), tf_ref.function(_while_program(tf_ref, **kwargs))
        for n in (2, 4):
            x = [1.5, -0.5]
            np.testing.assert_allclose(f(tg.constant(x), tg.constant(n)), g(tf_ref.constant(x), tf_ref.constant(n)))


def test_gradient_through_a_replayed_while_loop():
    f = tg.function(_while_program(tg, element_shape=None), autograph=False)
    w = tg.constant(np.linspace(1.0, 2.0, 10).reshape(5, 2).astype(np.float32))

    def grad(fn, x, n):
        x = tg.constant(x)
        with tg.GradientTape() as tape:
            tape.watch(x)
            y = tg.reduce_sum(fn(x, tg.constant(n)) * w)
        return np.asarray(tape.gradient(y, x))

    for x, n in (([1.0, 2.0], 3), ([0.5, -1.0], 4)):
        np.testing.assert_allclose(grad(f, x, n), grad(_while_program(tg, element_shape=None), x, n), rtol=1e-6)
    assert f.experimental_get_graph_status() == [""]


def test_while_loop_single_loop_var_and_shape_invariants():
    @tg.function(autograph=False)
    def f(x):
        ta = tg.TensorArray(tg.float32, size=3, element_shape=[])
        ta = ta.write(0, x)

        def body(ta):
            return [ta.write(1, ta.read(0) * 2.0)]

        ta = tg.while_loop(lambda ta: ta.read(1) < 1.0, body, [ta], shape_invariants=[tg.TensorShape(None)])
        return ta[0].stack()

    np.testing.assert_allclose(f(tg.constant(3.0)), [3, 6, 0])
    np.testing.assert_allclose(f(tg.constant(4.0)), [4, 8, 0])
    assert f.experimental_get_graph_status() == [""]


def ag_loop(tf):
    @tf.function
    def f(x, n):
        ta = tf.TensorArray(tf.float32, size=4, element_shape=[2])
        for i in tf.range(n):
            ta = ta.write(i, x * tf.cast(i, tf.float32))
        return ta.stack()

    return f


def test_autograph_loop_replays():
    f = ag_loop(tg)
    for n in (2, 4, 0, 3):
        np.testing.assert_allclose(
            f(tg.constant([1.0, 2.0]), tg.constant(n)), np.outer(np.arange(4) * (np.arange(4) < n), [1, 2])
        )
    assert f.experimental_get_graph_status() == [""]


def test_autograph_loop_carries_a_list_of_arrays():
    @tg.function
    def f(x, n):
        tas = [tg.TensorArray(tg.float32, size=3, element_shape=[]), tg.TensorArray(tg.float32, size=3)]
        for i in tg.range(n):
            tas = [tas[0].write(i, x * tg.cast(i, tg.float32)), tas[1].write(i, -x)]
        return tas[0].stack(), tas[1].stack()

    for x, n, a, b in ((2.0, 3, [0, 2, 4], [-2, -2, -2]), (1.0, 2, [0, 1, 0], [-1, -1, 0])):
        got = f(tg.constant(x), tg.constant(n))
        np.testing.assert_allclose(got[0], a)
        np.testing.assert_allclose(got[1], b)
    assert f.experimental_get_graph_status() == [""]


def test_autograph_loop_vs_tf(tf_ref):
    for n in (2, 4):
        np.testing.assert_allclose(
            ag_loop(tg)(tg.constant([1.0, 2.0]), tg.constant(n)),
            ag_loop(tf_ref)(tf_ref.constant([1.0, 2.0]), tf_ref.constant(n)),
        )


# TF's "Better performance with tf.function" guide, section "Accumulating values in a loop"
def guide_rnn(tf, dynamic):
    def rnn_step(inp, state):
        return inp + state

    @tf.function
    def dynamic_rnn(rnn_step, input_data, initial_state):
        # [batch, time, features] -> [time, batch, features]
        input_data = tf.transpose(input_data, [1, 0, 2])
        max_seq_len = input_data.shape[0]
        if dynamic:
            states = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        else:
            states = tf.TensorArray(tf.float32, size=max_seq_len)
        state = initial_state
        for i in tf.range(max_seq_len):
            state = rnn_step(input_data[i], state)
            states = states.write(i, state)
        return tf.transpose(states.stack(), [1, 0, 2])

    return lambda x, s: dynamic_rnn(rnn_step, x, s), dynamic_rnn


GUIDE_X = [np.linspace(-1, 1, 24).reshape(2, 3, 4).astype(np.float32) * k for k in (1.0, 2.0, -3.0)]


@pytest.mark.parametrize("dynamic", [False, True])
def test_guide_rnn(dynamic):
    run, fn = guide_rnn(tg, dynamic)
    for x in GUIDE_X:
        s0 = np.full([2, 4], 0.25, np.float32)
        got = run(tg.constant(x), tg.constant(s0))
        np.testing.assert_allclose(got, np.cumsum(x, axis=1) + s0[:, None, :], rtol=1e-6)
        with _eager():
            np.testing.assert_allclose(run(tg.constant(x), tg.constant(s0)), got, rtol=1e-6)
    status = fn.experimental_get_graph_status()
    if dynamic:  # a growing array cannot be a loop variable of the replayed loop yet
        assert status == ["a tf.while_loop carries a TensorArray with dynamic_size=True (its size can change)"]
    else:
        assert status == [""]


class _eager:
    def __enter__(self):
        tg.config.run_functions_eagerly(True)

    def __exit__(self, *exc):
        tg.config.run_functions_eagerly(False)


@pytest.mark.parametrize("dynamic", [False, True])
def test_guide_rnn_vs_tf(dynamic, tf_ref):
    run, _ = guide_rnn(tg, dynamic)
    run_tf, _ = guide_rnn(tf_ref, dynamic)
    for x in GUIDE_X[:2]:
        s0 = np.zeros([2, 4], np.float32)
        np.testing.assert_allclose(
            run(tg.constant(x), tg.constant(s0)), run_tf(tf_ref.constant(x), tf_ref.constant(s0))
        )


def cond_programs(tf):
    @tf.function
    def branches(x):
        ta = tf.TensorArray(tf.float32, size=2, element_shape=[])
        if x > 0:
            ta = ta.write(0, x)
        else:
            ta = ta.write(1, -x)
        return ta.stack()

    @tf.function
    def in_loop(x, n):
        ta = tf.TensorArray(tf.float32, size=4, element_shape=[])
        for i in tf.range(n):
            if i % 2 == 0:
                ta = ta.write(i, x * tf.cast(i + 1, tf.float32))
        return ta.stack()

    @tf.function
    def dynamic(x):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        if x > 0:
            ta = ta.write(0, x)
        else:
            ta = ta.write(1, -x)
        return ta.stack()

    return branches, in_loop, dynamic


COND_CASES = [
    (0, (2.0,), [2, 0]),
    (0, (-3.0,), [0, 3]),
    (1, (2.0, 4), [2, 0, 6, 0]),
    (1, (-1.0, 3), [-1, 0, -3, 0]),
    (2, (2.0,), [2]),
    (2, (-3.0,), [0, 3]),
]


def test_cond_with_arrays():
    programs = cond_programs(tg)
    for k, args, expected in COND_CASES:
        np.testing.assert_allclose(programs[k](*map(tg.constant, args)), expected)
    assert programs[0].experimental_get_graph_status() == [""]
    assert programs[1].experimental_get_graph_status() == [""]
    (status,) = programs[2].experimental_get_graph_status()
    assert status == "a tf.cond returns a TensorArray with dynamic_size=True (its size can change)"


def test_cond_with_arrays_vs_tf(tf_ref):
    ours, theirs = cond_programs(tg), cond_programs(tf_ref)
    for k, args, _ in COND_CASES:
        np.testing.assert_allclose(ours[k](*map(tg.constant, args)), theirs[k](*map(tf_ref.constant, args)))


def test_eager_while_loop_carries_the_array():
    ta = tg.TensorArray(tg.float32, size=0, dynamic_size=True)
    _, out = tg.while_loop(lambda i, ta: i < 3, lambda i, ta: (i + 1, ta.write(i, tg.cast(i, tg.float32))), [0, ta])
    assert out is ta  # eagerly the loop carries the object, as TF's eager while_loop
    np.testing.assert_allclose(out.stack(), [0, 1, 2])
