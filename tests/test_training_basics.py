"""SGD and MeanSquaredError of the foundation, against numpy transcriptions of Keras's rules, and
the tutorial example end to end."""

import os
import runpy
import sys

import numpy as np
import pytest

import tapegrad as tg


def keras_sgd_reference(params, grads_seq, lr, momentum, nesterov):
    """Plain numpy transcription of keras.optimizers.SGD.update_step."""
    p = [x.astype(np.float64).copy() for x in params]
    m = [np.zeros_like(x) for x in p]
    for grads in grads_seq:
        for i, g in enumerate(grads):
            if momentum == 0:
                p[i] = p[i] - lr * g
            else:
                m[i] = momentum * m[i] - lr * g
                p[i] = p[i] + (momentum * m[i] - lr * g if nesterov else m[i])
    return p, m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True), (0.5, True)])
def test_sgd_matches_keras_rule(dtype, momentum, nesterov):
    rng = np.random.default_rng(0)
    shapes = [(1,), (7,), (33, 3), (1003,)]
    init = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads_seq = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(5)]
    variables = [tg.Variable(a) for a in init]
    opt = tg.keras.optimizers.SGD(learning_rate=0.05, momentum=momentum, nesterov=nesterov)
    for grads in grads_seq:
        opt.apply_gradients(zip([tg.constant(g) for g in grads], variables))
    lr = float(np.float32(0.05))  # Keras keeps a float learning rate in a float32 variable
    ref_p, ref_m = keras_sgd_reference(init, grads_seq, lr, momentum, nesterov)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for v, r in zip(variables, ref_p):
        np.testing.assert_allclose(v.numpy(), r, rtol=tol, atol=tol)
    if momentum:
        slots = [v for v in opt.variables if "momentum" in v.name]
        assert len(slots) == len(ref_m)
        for slot, r in zip(slots, ref_m):
            np.testing.assert_allclose(slot.numpy(), r, rtol=tol, atol=tol)
    assert int(opt.iterations) == 5


def test_sgd_large_variable_parallel_path():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(500_000).astype(np.float32)
    g = rng.standard_normal(500_000).astype(np.float32)
    v = tg.Variable(a)
    opt = tg.keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    opt.apply_gradients([(tg.constant(g), v)])
    np.testing.assert_allclose(v.numpy(), a - np.float32(0.1) * g, rtol=1e-6, atol=1e-7)


def test_sgd_defaults_and_errors():
    opt = tg.optimizers.SGD()
    assert tg.optimizers is tg.keras.optimizers
    assert float(opt.learning_rate) == pytest.approx(0.01) and opt.momentum == 0.0 and not opt.nesterov
    with pytest.raises(ValueError, match="learning_rate"):
        tg.keras.optimizers.SGD(learning_rate=1)  # Keras rejects ints
    with pytest.raises(ValueError, match="not recognized"):
        tg.keras.optimizers.SGD(lr=0.1)
    with pytest.raises(ValueError, match="momentum"):
        tg.keras.optimizers.SGD(momentum=-1.0)
    v = tg.Variable([1.0, 2.0])
    with pytest.raises(ValueError, match="No gradients provided"):
        opt.apply_gradients([(None, v)])
    opt2 = tg.keras.optimizers.SGD()
    opt2.apply_gradients([(tg.constant([1.0, 1.0]), v)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt2.apply_gradients([(tg.constant(1.0), tg.Variable(1.0))])
    with pytest.raises(tg.errors.InvalidArgumentError, match="shape"):
        opt2.apply_gradients([(tg.constant([1.0, 1.0, 1.0]), v)])
    with pytest.raises(tg.errors.InvalidArgumentError, match="float64"):
        opt2.apply_gradients([(tg.constant([1.0, 1.0], dtype=tg.float64), v)])


def test_sgd_warns_for_missing_gradients():
    a, b = tg.Variable(1.0, name="a"), tg.Variable(2.0, name="b")
    opt = tg.keras.optimizers.SGD(learning_rate=0.5)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b:0'\]"):
        opt.apply_gradients([(tg.constant(1.0), a), (None, b)])
    assert float(a) == 0.5 and float(b) == 2.0


def test_sgd_does_not_disturb_saved_tape_values():
    w = tg.Variable([1.0, 2.0])
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_sum(w * w)
    g1 = tape.gradient(y, w)
    tg.keras.optimizers.SGD(learning_rate=1.0).apply_gradients([(g1, w)])
    np.testing.assert_array_equal(w.numpy(), [-1.0, -2.0])
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [2.0, 4.0])  # the values the tape saw


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean", "none", None])
def test_mse_reductions(reduction):
    rng = np.random.default_rng(2)
    yt, yp = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    per_sample = ((yt - yp) ** 2).mean(-1)
    expected = {
        "sum_over_batch_size": per_sample.mean(),
        "mean": per_sample.mean(),
        "sum": per_sample.sum(),
        "none": per_sample,
        None: per_sample,
    }[reduction]
    loss = tg.keras.losses.MeanSquaredError(reduction=reduction)
    out = loss(tg.constant(yt, dtype=tg.float64), tg.constant(yp, dtype=tg.float64))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)  # default loss dtype float32


def test_mse_sample_weight_and_rank_alignment():
    yt = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    yp = np.array([[1.5], [2.0], [2.0], [5.0]], np.float32)
    mse = tg.keras.losses.MeanSquaredError()
    # (N,) vs (N,1): ranks are aligned, no (N,N) broadcasting trap
    np.testing.assert_allclose(float(mse(yt, yp)), np.mean((yt - yp[:, 0]) ** 2), rtol=1e-6)
    sw = np.array([1.0, 0.0, 2.0, 1.0], np.float32)
    np.testing.assert_allclose(float(mse(yt, yp, sample_weight=sw)), np.sum((yt - yp[:, 0]) ** 2 * sw) / 4, rtol=1e-6)
    assert tg.losses.mse is tg.keras.losses.mean_squared_error
    with pytest.raises(ValueError, match="reduction"):
        tg.keras.losses.MeanSquaredError(reduction="avg")


def test_mse_gradient_finite_differences():
    yt = np.random.default_rng(3).standard_normal((5, 2))
    mse = tg.keras.losses.MeanSquaredError(dtype="float64")
    tg.testing.check_gradients(lambda p: mse(tg.constant(yt), p), [np.zeros((5, 2))], order=2)


def _run_example(capsys, monkeypatch, *argv):
    root = os.path.join(os.path.dirname(__file__), os.pardir, "examples")
    monkeypatch.setattr(sys, "argv", ["linear_regression.py", *argv])
    sys.path.insert(0, os.path.abspath(root))
    try:
        runpy.run_path(os.path.join(root, "linear_regression.py"), run_name="__main__")
    finally:
        sys.path.pop(0)
    return capsys.readouterr().out


def test_linear_regression_example_with_tf_function_prints_the_same(capsys, monkeypatch):
    assert _run_example(capsys, monkeypatch, "--function") == _run_example(capsys, monkeypatch)


def test_linear_regression_example_converges(capsys, monkeypatch):
    out = _run_example(capsys, monkeypatch)
    losses = [float(line.split("loss=")[1]) for line in out.splitlines() if "loss=" in line]
    assert losses[0] > 5 * losses[-1]
    final = out.splitlines()[-1]
    w = float(final.split("w = ")[1].split()[0])
    b = float(final.split("b = ")[1].split()[0])
    assert abs(w - 3.0) < 0.15 and abs(b - 2.0) < 0.15
