"""softmax, log_softmax and the fused cross-entropy ops: forward against numpy, gradients against
finite differences (order 2), extreme logits, TF's errors, and TF itself when installed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg


def np_log_softmax(x, axis=-1):
    x = np.asarray(x, np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def np_softmax(x, axis=-1):
    return np.exp(np_log_softmax(x, axis))


def np_sigmoid_xent(z, x):
    x = np.asarray(x, np.float64)
    return np.maximum(x, 0) - x * z + np.log1p(np.exp(-np.abs(x)))


RNG = np.random.default_rng(0)


# ---- forward ---------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_softmax_and_log_softmax_match_numpy(dtype, axis):
    x = RNG.normal(0, 3, (3, 4, 5)).astype(dtype)
    tol = 1e-6 if dtype == "float32" else 1e-13
    s = tg.nn.softmax(x, axis=axis)
    ls = tg.nn.log_softmax(x, axis=axis)
    assert s.dtype == tg.as_dtype(dtype) and s.shape == (3, 4, 5)
    np.testing.assert_allclose(s.numpy(), np_softmax(x, axis), rtol=tol * 10, atol=tol)
    np.testing.assert_allclose(ls.numpy(), np_log_softmax(x, axis), rtol=tol * 10, atol=tol * 10)
    assert tg.math.softmax is tg.nn.softmax and tg.math.log_softmax is tg.nn.log_softmax


def test_softmax_default_axis_is_last_and_none_means_last():
    x = RNG.normal(size=(2, 3)).astype("float32")
    np.testing.assert_allclose(tg.nn.softmax(x).numpy(), np_softmax(x), rtol=1e-6)
    np.testing.assert_allclose(tg.nn.softmax(x, axis=None).numpy(), np_softmax(x), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_cross_entropy_matches_numpy(dtype, axis):
    x = RNG.normal(0, 2, (3, 4, 6)).astype(dtype)
    z = np_softmax(RNG.normal(size=(3, 4, 6)), axis).astype(dtype)
    got = tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, axis=axis)
    want = -(z * np_log_softmax(x, axis)).sum(axis=axis)
    assert got.dtype == tg.as_dtype(dtype) and got.shape == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_softmax_cross_entropy_positional_order_is_labels_then_logits():
    z = np.array([[0.0, 1.0]], "float32")
    x = np.array([[2.0, -1.0]], "float32")
    a = tg.nn.softmax_cross_entropy_with_logits(z, x)
    np.testing.assert_allclose(a.numpy(), -(z * np_log_softmax(x)).sum(-1), rtol=1e-6)


def test_softmax_cross_entropy_broadcasts_labels_and_casts_their_dtype():
    x = RNG.normal(size=(2, 3)).astype("float32")
    z = np.array([0.2, 0.3, 0.5])  # float64 labels, logits float32: cast like TF
    got = tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    np.testing.assert_allclose(got.numpy(), -(z * np_log_softmax(x)).sum(-1), rtol=1e-6)
    got_list = tg.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 0.0, 1.0]] * 2, logits=x)
    assert got_list.dtype == tg.float32


@pytest.mark.parametrize("label_dtype", ["int32", "int64"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sparse_softmax_cross_entropy_matches_numpy(label_dtype, dtype):
    x = RNG.normal(0, 2, (2, 3, 7)).astype(dtype)
    y = RNG.integers(0, 7, (2, 3)).astype(label_dtype)
    got = tg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x)
    want = -np.take_along_axis(np_log_softmax(x), y[..., None].astype(np.int64), -1)[..., 0]
    assert got.dtype == tg.as_dtype(dtype) and got.shape == (2, 3)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if dtype == "float32" else 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sigmoid_cross_entropy_matches_numpy(dtype):
    x = RNG.normal(0, 4, (5, 3)).astype(dtype)
    z = RNG.uniform(size=(5, 3)).astype(dtype)
    got = tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x)
    want = -(
        z * np.log(1 / (1 + np.exp(-x.astype(np.float64)))) + (1 - z) * np.log(1 / (1 + np.exp(x.astype(np.float64))))
    )
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-5 if dtype == "float32" else 1e-12)


def test_large_inputs_use_threads_and_stay_exact():
    # big enough for parallel_for chunks; a class axis that is not the last (strided lines)
    x = RNG.normal(0, 3, (64, 40, 70)).astype("float64")
    z = np_softmax(RNG.normal(size=x.shape), 1)
    np.testing.assert_allclose(tg.nn.softmax(x, axis=1).numpy(), np_softmax(x, 1), rtol=1e-12, atol=1e-15)
    got = tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x, axis=1)
    np.testing.assert_allclose(got.numpy(), -(z * np_log_softmax(x, 1)).sum(1), rtol=1e-11)
    x2 = x.reshape(-1, 70)
    y = RNG.integers(0, 70, x2.shape[0])
    got = tg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x2)
    np.testing.assert_allclose(got.numpy(), -np_log_softmax(x2)[np.arange(len(y)), y], rtol=1e-11)


def test_empty_inputs():
    assert tg.nn.softmax(np.zeros((2, 0), "float32")).shape == (2, 0)
    assert tg.nn.softmax_cross_entropy_with_logits(
        labels=np.zeros((0, 3), "f4"), logits=np.zeros((0, 3), "f4")
    ).shape == (0,)
    np.testing.assert_array_equal(
        tg.nn.softmax_cross_entropy_with_logits(labels=np.zeros((2, 0), "f4"), logits=np.zeros((2, 0), "f4")).numpy(),
        [0, 0],
    )
    assert tg.nn.sparse_softmax_cross_entropy_with_logits(
        labels=np.zeros((0,), "i4"), logits=np.zeros((0, 3), "f4")
    ).shape == (0,)


@given(
    rows=st.integers(1, 5),
    classes=st.integers(1, 9),
    scale=st.sampled_from([0.1, 10.0, 1000.0]),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=25, deadline=None)
def test_softmax_cross_entropy_random_shapes(rows, classes, scale, seed):
    r = np.random.default_rng(seed)
    x = r.normal(0, scale, (rows, classes))
    z = np_softmax(r.normal(size=(rows, classes)))
    got = tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x).numpy()
    np.testing.assert_allclose(got, -(z * np_log_softmax(x)).sum(-1), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(tg.nn.softmax(x).numpy().sum(-1), 1.0, rtol=1e-12)


# ---- extreme logits: finite values and gradients ----------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_give_finite_values_and_gradients(dtype):
    x = tg.constant([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0]], dtype=dtype)
    z = tg.constant([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]], dtype=dtype)
    y = tg.constant([1, 2])
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = {
            "softmax": tg.nn.softmax(x),
            "log_softmax": tg.nn.log_softmax(x),
            "sce": tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
            "sparse": tg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=x),
            "sigmoid": tg.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
        }
    for name, v in outs.items():
        assert np.all(np.isfinite(v.numpy())), name
        g = tape.gradient(v, x)
        assert np.all(np.isfinite(g.numpy())), name
    np.testing.assert_allclose(outs["sce"].numpy(), [2000.0, 2000.0])
    np.testing.assert_allclose(outs["sparse"].numpy(), [2000.0, 0.0])
    np.testing.assert_allclose(tape.gradient(outs["sce"], x).numpy(), np_softmax(x.numpy()) - z.numpy(), atol=1e-7)
    np.testing.assert_allclose(
        outs["sigmoid"].numpy(), [[1000.0, 1000.0, np.log(2)], [500.0, 500.0, 1000.0]], rtol=1e-6
    )


# ---- gradients (finite differences, second order) ---------------------------------------------


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_gradients(axis):
    x = RNG.normal(size=(3, 4, 2))
    tg.testing.check_gradients(lambda a: tg.nn.softmax(a, axis=axis), [x], order=2)
    tg.testing.check_gradients(lambda a: tg.nn.log_softmax(a, axis=axis), [x], order=2)


@pytest.mark.parametrize("axis", [-1, 0])
def test_softmax_cross_entropy_gradients_second_order(axis):
    x = RNG.normal(size=(3, 4))
    z = np_softmax(RNG.normal(size=(3, 4)), axis)
    f = lambda zz, xx: tg.nn.softmax_cross_entropy_with_logits(labels=zz, logits=xx, axis=axis)  # noqa: E731
    tg.testing.check_gradients(f, [z, x], order=2)
    tg.testing.check_gradients(lambda xx: f(tg.constant(z), xx), [x], order=3)


def test_softmax_cross_entropy_gradient_of_broadcast_labels_is_summed():
    x = RNG.normal(size=(3, 4))
    z = np_softmax(RNG.normal(size=(4,)))
    tg.testing.check_gradients(lambda zz, xx: tg.nn.softmax_cross_entropy_with_logits(labels=zz, logits=xx), [z, x])


def test_softmax_cross_entropy_first_order_rule_is_softmax_minus_labels():
    x = tg.constant(RNG.normal(size=(4, 5)))
    z = tg.constant(np_softmax(RNG.normal(size=(4, 5))))
    g_up = tg.constant(RNG.normal(size=(4,)))
    with tg.GradientTape() as tape:
        tape.watch([x, z])
        loss = tg.nn.softmax_cross_entropy_with_logits(labels=z, logits=x)
    gx, gz = tape.gradient(loss, [x, z], output_gradients=g_up)
    np.testing.assert_allclose(gx.numpy(), g_up.numpy()[:, None] * (np_softmax(x.numpy()) - z.numpy()), rtol=1e-12)
    np.testing.assert_allclose(gz.numpy(), -g_up.numpy()[:, None] * np_log_softmax(x.numpy()), rtol=1e-12)


def test_sparse_softmax_cross_entropy_gradients():
    x = RNG.normal(size=(2, 3, 5))
    y = tg.constant(RNG.integers(0, 5, (2, 3)))
    tg.testing.check_gradients(
        lambda xx: tg.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=xx), [x], order=3
    )


def test_sigmoid_cross_entropy_gradients():
    x = RNG.normal(0, 2, size=(3, 4))
    z = RNG.uniform(size=(3, 4))
    tg.testing.check_gradients(
        lambda zz, xx: tg.nn.sigmoid_cross_entropy_with_logits(labels=zz, logits=xx), [z, x], order=2
    )
    # at logit 0 the gradient is sigmoid(0) - z = 0.5 - z (no kink)
    x0 = tg.constant([0.0, 0.0], dtype="float64")
    with tg.GradientTape() as tape:
        tape.watch(x0)
        v = tg.nn.sigmoid_cross_entropy_with_logits(labels=tg.constant([0.0, 1.0], dtype="float64"), logits=x0)
    np.testing.assert_allclose(tape.gradient(v, x0).numpy(), [0.5, -0.5])


# ---- errors ----------------------------------------------------------------------------------


def test_errors_name_shapes_and_dtypes():
    x = np.zeros((2, 3), "float32")
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"logits_size=\[2,3\] labels_size=\[2,2\]"):
        tg.nn.softmax_cross_entropy_with_logits(labels=np.zeros((2, 2), "float32"), logits=x)
    with pytest.raises(tg.errors.InvalidArgumentError, match="at least one dimension"):
        tg.nn.softmax_cross_entropy_with_logits(labels=1.0, logits=3.0)
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"\[-2, 2\).*dim=2"):
        tg.nn.softmax(x, axis=2)
    with pytest.raises(tg.errors.InvalidArgumentError, match="int32"):
        tg.nn.softmax(tg.constant([1, 2]))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r">= 1 dimension"):
        tg.nn.softmax(tg.constant(3.0))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"label value of 5 .* range of \[0, 3\)"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 5], logits=x)
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"label value of -1"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, -1], logits=x)
    with pytest.raises(tg.errors.InvalidArgumentError, match="Tlabels' of float32"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=np.array([1.0, 2.0], "float32"), logits=x)
    with pytest.raises(ValueError, match=r"labels.shape=\(2, 1\) of rank 2 and logits.shape=\(2, 3\)"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[[1], [2]], logits=x)
    with pytest.raises(ValueError, match=r"labels.shape=\(3,\) and logits.shape=\(2, 3\)"):
        tg.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 2, 0], logits=x)
    with pytest.raises(ValueError, match=r"same shape, received \(\(2, 3\) vs \(2, 2\)\)"):
        tg.nn.sigmoid_cross_entropy_with_logits(labels=np.zeros((2, 2), "float32"), logits=x)
    with pytest.raises(tg.errors.InvalidArgumentError, match="float64 and float32"):
        tg.nn.sigmoid_cross_entropy_with_logits(labels=np.zeros((2, 3)), logits=x)
    with pytest.raises(ValueError, match="labels= and logits="):
        tg.nn.sigmoid_cross_entropy_with_logits(logits=x)


# ---- TF parity -------------------------------------------------------------------------------


def test_values_and_gradients_match_tensorflow():
    tf = pytest.importorskip("tensorflow")
    x = RNG.normal(0, 5, (4, 6)).astype("float32")
    x[0, 0], x[1, 1] = 1000.0, -1000.0
    z = np_softmax(RNG.normal(size=(4, 6))).astype("float32")
    y = RNG.integers(0, 6, 4).astype("int32")
    zb = RNG.uniform(size=(4, 6)).astype("float32")
    fns = [
        (lambda m, a: m.nn.softmax(a, axis=0)),
        (lambda m, a: m.nn.log_softmax(a)),
        (lambda m, a: m.nn.softmax_cross_entropy_with_logits(labels=z, logits=a)),
        (lambda m, a: m.nn.softmax_cross_entropy_with_logits(labels=z.T, logits=m.transpose(a), axis=0)),
        (lambda m, a: m.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=a)),
        (lambda m, a: m.nn.sigmoid_cross_entropy_with_logits(labels=zb, logits=a)),
    ]
    w = RNG.normal(size=(4, 6)).astype("float32")
    for f in fns:
        xt, xg = tf.constant(x), tg.constant(x)
        with tf.GradientTape() as t1:
            t1.watch(xt)
            vt = f(tf, xt)
            st_ = tf.reduce_sum(vt * w[: vt.shape[0]] if vt.ndim == 2 else vt * w[0, : vt.shape[0]])
        with tg.GradientTape() as t2:
            t2.watch(xg)
            vg = f(tg, xg)
            sg = tg.reduce_sum(vg * w[: vg.shape[0]] if vg.ndim == 2 else vg * w[0, : vg.shape[0]])
        np.testing.assert_allclose(vg.numpy(), vt.numpy(), rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(t2.gradient(sg, xg).numpy(), t1.gradient(st_, xt).numpy(), rtol=1e-5, atol=1e-6)


def test_softmax_cross_entropy_gradient_is_tfs_softmax_minus_labels_when_labels_do_not_sum_to_one():
    # TF's kernel returns softmax - labels, the exact gradient only for distributions; parity is the
    # contract, so labels that do not sum to 1 get TF's number (and so do their second derivatives).
    x = RNG.normal(size=(3, 4))
    z = RNG.uniform(size=(3, 4))
    f = lambda zz, xx: tg.nn.softmax_cross_entropy_with_logits(labels=zz, logits=xx)  # noqa: E731
    xt = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(xt)
        v = f(tg.constant(z), xt)
    np.testing.assert_allclose(tape.gradient(v, xt).numpy(), np.exp(np_log_softmax(x)) - z, rtol=1e-12)
    # labels that are distributions: the rule is exact, first and second order, against finite differences
    zn = z / z.sum(-1, keepdims=True)
    tg.testing.check_gradients(lambda xx: f(tg.constant(zn), xx), [x], order=2)


def test_softmax_cross_entropy_gradient_matches_tf_for_unnormalised_labels():
    tf = pytest.importorskip("tensorflow")
    x = RNG.normal(size=(3, 4)).astype("float32")
    z = RNG.uniform(size=(3, 4)).astype("float32")
    grads = []
    for lib in (tf, tg):
        xv = lib.Variable(x)
        with lib.GradientTape() as tape:
            v = lib.nn.softmax_cross_entropy_with_logits(labels=lib.constant(z), logits=xv)
        grads.append(tape.gradient(v, xv).numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6)
