"""GradientTape.jacobian / batch_jacobian: TF's documented anchors, shapes, unconnected
semantics and errors; values against a numpy finite-difference Jacobian."""

import numpy as np
import pytest

import tapegrad as tg


def fd_jacobian(f, x, eps=1e-6):
    """numpy central differences: J[out..., in...]."""
    x = np.asarray(x, np.float64)
    y0 = np.asarray(f(x))
    J = np.zeros(y0.shape + x.shape)
    for i in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        J[(...,) + i] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return J


def test_doc_anchors():
    x = tg.constant([1.0, 2.0])
    with tg.GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.jacobian(y, x).numpy().tolist() == [[2.0, 0.0], [0.0, 4.0]]
    x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape() as g:
        g.watch(x)
        y = x * x
    assert g.batch_jacobian(y, x).numpy().tolist() == [[[2, 0], [0, 4]], [[6, 0], [0, 8]]]


def test_jacobian_values_and_structure():
    a = np.random.default_rng(0).standard_normal((3, 2))
    w = tg.Variable(a)
    b = tg.Variable(np.ones(3))
    x = tg.constant(np.arange(6.0).reshape(2, 3))
    with tg.GradientTape(persistent=True) as g:
        y = tg.tanh(tg.matmul(x, w)) * tg.reduce_sum(b)
    jac = g.jacobian(y, {"w": w, "pair": [b, x]})
    assert jac["pair"][1] is None  # x was never watched
    assert jac["w"].shape == (2, 2, 3, 2) and jac["pair"][0].shape == (2, 2, 3)

    def f(wv):
        return np.tanh(x.numpy() @ wv) * 3.0

    np.testing.assert_allclose(jac["w"].numpy(), fd_jacobian(f, a), rtol=1e-6, atol=1e-8)
    jb = g.jacobian(y, b)
    np.testing.assert_allclose(jb.numpy(), np.broadcast_to(np.tanh(x.numpy() @ a)[..., None], (2, 2, 3)), rtol=1e-12)
    # scalar target, scalar source
    with tg.GradientTape() as g:
        s = tg.reduce_sum(w**3)
    np.testing.assert_allclose(g.jacobian(s, w).numpy(), 3 * a**2, rtol=1e-12)


def test_hessian_by_nested_tapes_and_jacobian_of_jacobian():
    a = np.array([0.3, -1.2, 2.0])
    x = tg.Variable(a)
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            y = tg.reduce_sum(tg.sin(x) * x[0])
        g = inner.gradient(y, x)
    h = outer.jacobian(g, x)

    def grad(v):
        return np.cos(v) * v[0] + np.eye(3)[0] * np.sum(np.sin(v))

    np.testing.assert_allclose(h.numpy(), fd_jacobian(grad, a), rtol=1e-6, atol=1e-8)
    # a jacobian computed under an outer tape is differentiable
    with tg.GradientTape() as outer:
        with tg.GradientTape() as inner:
            y = x * x * x
        j = inner.jacobian(y, x)
        s = tg.reduce_sum(j)
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), 6 * a, rtol=1e-12)


def test_unconnected_semantics():
    x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape(persistent=True) as g:
        g.watch(x)
        c = tg.constant([[1.0, 1.0]]) * 2.0
        c2 = tg.ones([2, 2]) * 3.0
        i = tg.cast(x, tg.int32)
    assert g.jacobian(c, x) is None
    z = g.jacobian(c, x, unconnected_gradients=tg.UnconnectedGradients.ZERO)
    assert z.shape == (1, 2, 2, 2) and not z.numpy().any()
    assert g.jacobian(c, x, unconnected_gradients="zero").shape == (1, 2, 2, 2)
    # batch_jacobian quirk: zeros even with NONE
    for u in ("none", "zero"):
        bz = g.batch_jacobian(c2, x, unconnected_gradients=u)
        assert bz.shape == (2, 2, 2) and bz.dtype == tg.float32 and not bz.numpy().any()
    assert g.jacobian(i, x) is None
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients"):
        g.jacobian(c, x, unconnected_gradients="maybe")


def test_batch_jacobian_values_and_shapes():
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((4, 3, 2))
    w = rng.standard_normal((6, 5))
    x = tg.constant(xs)
    with tg.GradientTape() as g:
        g.watch(x)
        y = tg.reshape(tg.sin(tg.matmul(tg.reshape(x, [4, 6]), w)), [4, 5, 1])
    bj = g.batch_jacobian(y, x)
    assert bj.shape == (4, 5, 1, 3, 2)
    for b in range(4):

        def f(v):
            return np.sin(v.reshape(6) @ w).reshape(5, 1)

        np.testing.assert_allclose(bj.numpy()[b], fd_jacobian(f, xs[b]), rtol=1e-6, atol=1e-8)


def test_errors():
    x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank at least 2"):
        g.batch_jacobian(tg.reduce_sum(y, 1), x)
    with pytest.raises(
        ValueError,
        match=r"Need first dimension of target shape \(\(1, 2\)\) and source shape "
        r"\(\(2, 2\)\) to match.",
    ):
        g.batch_jacobian(y[:1], x)
    with pytest.raises(TypeError, match="target must be one Tensor"):
        g.jacobian([y, y], x)
    with tg.GradientTape() as g2:
        g2.watch(x)
        y2 = x * x
    with pytest.raises(RuntimeError, match="persistent=True to compute the jacobian with eager execution"):
        g2.jacobian(y2, x, experimental_use_pfor=False)
    with pytest.raises(RuntimeError, match="persistent=True to compute the batch_jacobian"):
        g2.batch_jacobian(y2, x, experimental_use_pfor=False)
    assert g2.jacobian(y2, x).shape == (2, 2, 2, 2)
    with pytest.raises(RuntimeError, match="A non-persistent GradientTape can only be used to compute one set"):
        g2.jacobian(y2, x)
    # persistent + experimental_use_pfor=False is fine; parallel_iterations is accepted
    assert g.jacobian(y, x, experimental_use_pfor=False, parallel_iterations=2).shape == (2, 2, 2, 2)


def test_jacobian_inside_context_and_empty_target():
    x = tg.constant([1.0, 2.0, 3.0])
    with tg.GradientTape() as g:
        g.watch(x)
        y = x[1:] * x[:-1]
        j = g.jacobian(y, x)  # a non-persistent tape stops recording, as gradient() does
    np.testing.assert_array_equal(j.numpy(), [[2.0, 1.0, 0.0], [0.0, 3.0, 2.0]])
    with tg.GradientTape() as g:
        g.watch(x)
        e = x[:0] * 2.0
    assert g.jacobian(e, x, unconnected_gradients="zero").shape == (0, 3)
