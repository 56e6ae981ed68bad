"""GradientTape semantics, as small literal cases with TF's documented values (reference §1)."""

import gc

import numpy as np
import pytest

import tapegrad as tg


def grad_of(fn, x):
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = fn(x)
    return tape.gradient(y, x)


def test_x_squared():
    assert float(grad_of(lambda x: x * x, tg.constant(3.0))) == 6.0


def test_nested_tapes_second_derivative():
    x = tg.constant(5.0)
    with tg.GradientTape() as g:
        g.watch(x)
        with tg.GradientTape() as gg:
            gg.watch(x)
            y = x * x
        dy_dx = gg.gradient(y, x)
    d2y_dx2 = g.gradient(dy_dx, x)
    assert float(dy_dx) == 10.0 and float(d2y_dx2) == 2.0


def test_third_derivative_of_cube():
    x = tg.Variable(2.0)
    with tg.GradientTape() as t1:
        with tg.GradientTape() as t2:
            with tg.GradientTape() as t3:
                y = x**3
            d1 = t3.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t1.gradient(d2, x)
    assert (float(d1), float(d2), float(d3)) == (12.0, 12.0, 6.0)  # 3x^2, 6x, 6


def test_persistent_tape():
    x = tg.constant(3.0)
    with tg.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    assert float(g.gradient(z, x)) == 108.0
    assert float(g.gradient(y, x)) == 6.0
    x = tg.constant([1.0, 3.0])
    with tg.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
    np.testing.assert_array_equal(g.gradient(z, x).numpy(), [4.0, 108.0])
    np.testing.assert_array_equal(g.gradient(y, x).numpy(), [2.0, 6.0])


def test_non_persistent_second_call_raises():
    x = tg.constant(3.0)
    with tg.GradientTape() as g:
        g.watch(x)
        y = x * x
    g.gradient(y, x)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to compute one set"):
        g.gradient(y, x)


def test_watch_accessed_variables_false():
    x, w = tg.Variable(2.0), tg.Variable(5.0)
    with tg.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(x)
        y = x**2
        z = w**3
    dy_dx, dz_dw = tape.gradient([y, z], [x, w])
    assert float(dy_dx) == 4.0 and dz_dw is None


def test_variable_is_watched_and_target_sum():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = x * [3.0, 4.0]
    assert float(tape.gradient(y, x)) == 7.0
    assert [v.name for v in tape.watched_variables()] == [x.name]
    assert tape.watched_variables()[0] is x


def test_dict_targets_and_sources():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y0 = x**2
        y1 = 1 / x
    assert float(tape.gradient({"y0": y0, "y1": y1}, x)) == 3.75
    w, b = tg.Variable([[1.0, 2.0]]), tg.Variable([0.5])
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(w * 3.0 + b)
    grads = tape.gradient(loss, {"w": w, "b": b, "nested": [b, (w,)]})
    assert set(grads) == {"w", "b", "nested"}
    np.testing.assert_array_equal(grads["b"].numpy(), [2.0])
    np.testing.assert_array_equal(grads["nested"][1][0].numpy(), [[3.0, 3.0]])


def test_unconnected_gradients():
    x = tg.Variable([2.0, 2.0])
    y = tg.Variable(3.0)
    with tg.GradientTape(persistent=True) as tape:
        z = y**2
    assert tape.gradient(z, x) is None
    np.testing.assert_array_equal(
        tape.gradient(z, x, unconnected_gradients=tg.UnconnectedGradients.ZERO).numpy(), [0.0, 0.0]
    )
    assert tape.gradient(z, x, unconnected_gradients="zero").shape == (2,)
    with pytest.raises(ValueError, match="unconnected_gradients"):
        tape.gradient(z, x, unconnected_gradients="bogus")


def test_stop_recording():
    x, y = tg.constant(2.0), tg.constant(3.0)
    with tg.GradientTape(persistent=True) as t:
        t.watch([x, y])
        with t.stop_recording():
            y_sq = y * y
        z = x * x + y_sq
    assert float(t.gradient(z, x)) == 4.0
    assert t.gradient(z, y) is None


def test_unwatched_constant_used_with_a_watched_variable_gets_none():
    x = tg.constant([[1.0, 2.0]])
    w = tg.Variable([[1.0], [2.0]])
    with tg.GradientTape() as g:
        y = tg.tanh(tg.matmul(x, w))
    gx, gw = g.gradient(y, [x, w])
    assert gx is None and gw is not None


def test_stop_gradient():
    x = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = x * tg.stop_gradient(x * 2.0)
    assert float(tape.gradient(y, x)) == 6.0


def test_reset():
    x = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = x * 100.0
        tape.reset()
        y = x * x
    assert float(tape.gradient(y, x)) == 6.0


def test_reenter_active_tape_raises():
    tape = tg.GradientTape()
    with tape:
        with pytest.raises(ValueError, match="Tape is still recording"):
            tape.__enter__()


def test_target_none_raises():
    x = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        x * 2.0
    with pytest.raises(TypeError, match="received None"):
        tape.gradient(None, x)


def test_integer_source_gives_none_with_warning():
    x = tg.constant(10)
    with tg.GradientTape() as g:
        with pytest.warns(UserWarning, match="must be floating"):
            g.watch(x)
        y = x * x
    with pytest.warns(UserWarning, match="source tensor must be floating"):
        assert g.gradient(y, x) is None


def test_integer_path_cuts_the_graph():
    x = tg.Variable(2.5)
    with tg.GradientTape() as tape:
        y = tg.cast(tg.cast(x, tg.int32), tg.float32) * x
    assert float(tape.gradient(y, x)) == 2.0  # only the float path counts


def test_non_trainable_variable_not_watched():
    x0 = tg.Variable(3.0, name="x0")
    x1 = tg.Variable(3.0, name="x1", trainable=False)
    x2 = tg.Variable(2.0, name="x2") + 1.0  # a Tensor, not a Variable
    x3 = tg.constant(3.0)
    with tg.GradientTape() as tape:
        y = (x0**2) + (x1**2) + (x2**2) + (x3**2)
    grad = tape.gradient(y, [x0, x1, x2, x3])
    assert float(grad[0]) == 6.0
    assert grad[1] is None and grad[2] is None and grad[3] is None


def test_state_stops_gradients():
    x0, x1 = tg.Variable(3.0), tg.Variable(0.0)
    with tg.GradientTape() as tape:
        x1.assign_add(x0)
        y = x1**2
    assert tape.gradient(y, x0) is None


def test_output_gradients():
    x = tg.constant([1.0, 2.0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tg.constant([10.0, 100.0]))
    np.testing.assert_array_equal(g.numpy(), [20.0, 400.0])


def test_tensor_used_several_times_accumulates():
    x = tg.constant(2.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x * x + x * 3.0 + tg.sin(x) * x
    expected = 2 * 2.0 + 3.0 + np.cos(2.0) * 2.0 + np.sin(2.0)
    np.testing.assert_allclose(float(tape.gradient(y, x)), expected, rtol=1e-6)


def test_gradient_wrt_intermediate():
    x = tg.constant(3.0)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        z = y * 2.0 + x
    gy, gx = tape.gradient(z, [y, x])
    assert float(gy) == 2.0 and float(gx) == 13.0


def test_gradient_inside_non_persistent_context_stops_recording():
    x = tg.Variable(2.0)
    with tg.GradientTape() as tape:
        y = x * x
        assert float(tape.gradient(y, x)) == 4.0
        x * 3.0  # not recorded any more; no error, as TF


def test_gradient_inside_persistent_context_warns_and_records():
    x = tg.Variable(2.0)
    with tg.GradientTape(persistent=True) as tape:
        y = x * x * x
        with pytest.warns(UserWarning, match="persistent tape inside its context"):
            dy = tape.gradient(y, x)
    assert float(dy) == 12.0
    assert float(tape.gradient(dy, x)) == 12.0  # 6x recorded on the same tape


def test_broadcast_gradient_has_source_shape():
    b = tg.Variable([1.0, 2.0, 3.0])
    x = tg.constant(np.ones((4, 3), np.float32))
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(x * b)
    g = tape.gradient(y, b)
    assert g.shape == (3,)
    np.testing.assert_array_equal(g.numpy(), [4.0, 4.0, 4.0])


def test_non_persistent_tape_frees_its_nodes():
    x = tg.Variable(np.ones(1000, np.float32))
    tape = tg.GradientTape()
    with tape:
        y = tg.reduce_sum(tg.exp(x * 2.0))
    inner = tape._tape
    assert inner.num_nodes() == 3
    tape.gradient(y, x)
    assert inner.num_nodes() == 0
    del inner
    gc.collect()


def test_watch_rejects_non_tensors():
    with tg.GradientTape() as tape:
        with pytest.raises(ValueError, match="not tf.Tensor"):
            tape.watch("x")


def test_tapes_are_thread_local():
    import threading

    x = tg.Variable(3.0)
    results = {}
    with tg.GradientTape() as tape:

        def other():
            results["y"] = x * x  # another thread: not recorded on this thread's tape

        t = threading.Thread(target=other)
        t.start()
        t.join()
        z = x * 2.0
    assert float(tape.gradient(z, x)) == 2.0
    with tg.GradientTape() as tape2:
        pass
    assert tape2.gradient(results["y"], x) is None
