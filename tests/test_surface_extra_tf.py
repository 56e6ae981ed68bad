"""Issue 11 section 4 against real TF 2 / Keras 3 (skipped without them): tf.nn.ctc_loss, the
Keras CTC / Circle / CategoricalGeneralizedCrossEntropy losses, LossScaleOptimizer (same weights,
same gradients, non-finite steps included), nextafter, vectorized_map and recompute_grad."""

import os

import numpy as np
import pytest

import tapegrad as tg

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="module")
def tf():
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def keras(tf):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("needs Keras's TensorFlow backend")
    return keras


def _tf_loss_and_grad(tf, fn, x, weights):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        loss = fn(xt)
        total = tf.reduce_sum(loss * tf.constant(weights, dtype=loss.dtype))
    return loss.numpy(), tape.gradient(total, xt).numpy()


def _tg_loss_and_grad(fn, x, weights):
    xt = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(xt)
        loss = fn(xt)
        total = tg.reduce_sum(loss * tg.constant(weights, dtype=loss.dtype))
    return loss.numpy(), tape.gradient(total, xt).numpy()


CTC_CASES = [
    # (frames, batch, classes, max_label, blank_index, time_major)
    (12, 4, 6, 5, None, True),
    (9, 3, 5, 4, 2, True),
    (10, 5, 7, 3, -1, False),
    (30, 2, 20, 10, 0, False),
]


@pytest.mark.parametrize("frames, batch, classes, max_label, blank_index, time_major", CTC_CASES)
def test_ctc_loss_and_gradient_match_tf(tf, frames, batch, classes, max_label, blank_index, time_major):
    rng = np.random.default_rng(frames * 7 + batch)
    shape = (frames, batch, classes) if time_major else (batch, frames, classes)
    logits = (rng.normal(size=shape) * 2).astype(np.float32)
    blank = 0 if blank_index is None else blank_index % classes
    choices = [c for c in range(classes) if c != blank]
    labels = rng.choice(choices, size=(batch, max_label))
    labels[0, :3] = choices[0]  # repeated labels need blanks between them
    label_len = rng.integers(0, max_label + 1, size=batch)
    label_len[0] = max_label
    # enough frames for the labels and the blanks their repeats need
    logit_len = np.array([rng.integers(min(frames, 2 * n + 1), frames + 1) for n in label_len])
    weights = np.arange(1.0, batch + 1, dtype=np.float32)

    def call(lib, x):
        return lib.nn.ctc_loss(
            lib.constant(labels),
            x,
            lib.constant(label_len),
            lib.constant(logit_len),
            logits_time_major=time_major,
            blank_index=blank_index,
        )

    want_loss, want_grad = _tf_loss_and_grad(tf, lambda x: call(tf, x), logits, weights)
    got_loss, got_grad = _tg_loss_and_grad(lambda x: call(tg, x), logits, weights)
    np.testing.assert_allclose(got_loss, want_loss, rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(got_grad, want_grad, rtol=1e-4, atol=2e-5)


def test_keras_ctc_matches_keras(keras, tf):
    rng = np.random.default_rng(11)
    y_true = np.array([[1, 2, 2, 0, 0], [3, 3, 0, 0, 0], [4, 1, 3, 2, 1], [0, 0, 0, 0, 0]], dtype=np.float32)
    y_pred = rng.normal(size=(4, 12, 5)).astype(np.float32)
    weights = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    want = _tf_loss_and_grad(tf, lambda x: keras.losses.ctc(y_true, x), y_pred, weights)
    got = _tg_loss_and_grad(lambda x: tg.keras.losses.ctc(y_true, x), y_pred, weights)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=2e-5)
    sw = np.array([1.0, 0.5, 2.0, 0.0], np.float32)
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", None):
        k = keras.losses.CTC(reduction=reduction)(y_true, y_pred, sample_weight=sw)
        t = tg.keras.losses.CTC(reduction=reduction)(y_true, y_pred, sample_weight=sw)
        np.testing.assert_allclose(t.numpy(), np.asarray(k), rtol=2e-5)
    assert tg.keras.losses.CTC().get_config() == keras.losses.CTC().get_config()


def test_keras_ops_ctc_loss_matches_keras(keras, tf):
    rng = np.random.default_rng(19)
    target = np.array([[2, 2, 3, 1], [1, 3, 0, 0], [4, 4, 4, 4]])
    output = rng.normal(size=(3, 10, 5))  # float64: Keras computes in float32 and casts back
    target_length, output_length = np.array([4, 2, 3]), np.array([10, 7, 10])
    weights = np.array([1.0, 2.0, 3.0])
    for mask_index in (0, 4):
        want = _tf_loss_and_grad(
            tf, lambda x: keras.ops.ctc_loss(target, x, target_length, output_length, mask_index), output, weights
        )
        got = _tg_loss_and_grad(
            lambda x: tg.keras.ops.ctc_loss(target, x, target_length, output_length, mask_index), output, weights
        )
        assert got[0].dtype == want[0].dtype == np.float64
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=2e-5)


def _circle_inputs(rng, n=8, d=6):
    emb = rng.normal(size=(n, d)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels = np.array([0, 1, 0, 2, 1, 0, 3, 2][:n])  # label 3 appears once: no positive pair
    return labels, emb


@pytest.mark.parametrize(
    "kwargs", [{}, {"gamma": 16.0, "margin": 0.25}, {"remove_diagonal": False}, {"reference": True}]
)
def test_circle_matches_keras(keras, tf, kwargs):
    rng = np.random.default_rng(12)
    labels, emb = _circle_inputs(rng)
    kwargs = dict(kwargs)
    if kwargs.pop("reference", False):
        ref_labels, ref_emb = _circle_inputs(np.random.default_rng(13), n=5)
        kwargs.update(ref_labels=ref_labels)
        kw_tf = dict(kwargs, ref_embeddings=tf.constant(ref_emb))
        kw_tg = dict(kwargs, ref_embeddings=tg.constant(ref_emb))
    else:
        kw_tf = kw_tg = kwargs
    weights = np.linspace(0.5, 2.0, len(labels)).astype(np.float32)
    want = _tf_loss_and_grad(tf, lambda x: keras.losses.circle(labels, x, **kw_tf), emb, weights)
    got = _tg_loss_and_grad(lambda x: tg.keras.losses.circle(labels, x, **kw_tg), emb, weights)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-4, atol=1e-4)
    assert np.isfinite(got[1]).all()


def test_circle_class_reduction_uses_the_positive_mask(keras):
    rng = np.random.default_rng(14)
    labels, emb = _circle_inputs(rng)
    for reduction in ("sum_over_batch_size", "sum", None):
        k = keras.losses.Circle(gamma=20.0, reduction=reduction)(labels, emb)
        t = tg.keras.losses.Circle(gamma=20.0, reduction=reduction)(labels, emb)
        np.testing.assert_allclose(t.numpy(), np.asarray(k), rtol=1e-5, atol=1e-5)
    cfg = dict(gamma=20.0, margin=0.3, remove_diagonal=False)
    assert tg.keras.losses.Circle(**cfg).get_config() == keras.losses.Circle(**cfg).get_config()


def test_categorical_generalized_cross_entropy_matches_keras(keras, tf):
    rng = np.random.default_rng(15)
    logits = rng.normal(size=(6, 4))
    probs = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
    labels = np.array([0, 3, 1, 1, 2, 0])
    weights = np.arange(1.0, 7.0, dtype=np.float32)
    for q in (0.2, 0.5, 0.9):
        want = _tf_loss_and_grad(
            tf, lambda x: keras.losses.categorical_generalized_cross_entropy(labels, x, q=q), probs, weights
        )
        got = _tg_loss_and_grad(
            lambda x: tg.keras.losses.categorical_generalized_cross_entropy(labels, x, q=q), probs, weights
        )
        for g, w in zip(got, want):
            np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)
    k = keras.losses.CategoricalGeneralizedCrossEntropy(q=0.4)
    t = tg.keras.losses.CategoricalGeneralizedCrossEntropy(q=0.4)
    np.testing.assert_allclose(float(t(labels, probs)), float(k(labels, probs)), rtol=1e-6)
    assert t.get_config() == k.get_config()


@pytest.mark.parametrize("inner", ["SGD", "Adam"])
def test_loss_scale_optimizer_matches_keras(keras, inner):
    rng = np.random.default_rng(16)
    params = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(5,)).astype(np.float32)]
    grads = [[rng.normal(size=p.shape).astype(np.float32) * 1000 for p in params] for _ in range(9)]
    grads[1][0][1, 2] = np.inf
    grads[4][1][3] = np.nan
    grads[5][0][:] = -np.inf
    kv = [keras.Variable(p.copy()) for p in params]
    tv = [tg.Variable(p.copy()) for p in params]
    kopt = keras.optimizers.LossScaleOptimizer(
        getattr(keras.optimizers, inner)(learning_rate=0.01), initial_scale=64.0, dynamic_growth_steps=2
    )
    topt = tg.keras.optimizers.LossScaleOptimizer(
        getattr(tg.keras.optimizers, inner)(learning_rate=0.01), initial_scale=64.0, dynamic_growth_steps=2
    )
    for step, gs in enumerate(grads):
        kopt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], kv))
        topt.apply_gradients(zip([tg.constant(g) for g in gs], tv))
        for a, b in zip(tv, kv):
            np.testing.assert_allclose(a.numpy(), np.asarray(b), rtol=1e-6, atol=1e-6, err_msg=f"step {step}")
        assert float(topt.dynamic_scale) == float(np.asarray(kopt.dynamic_scale))
        assert int(topt.step_counter) == int(np.asarray(kopt.step_counter))
        assert int(topt.iterations) == int(np.asarray(kopt.iterations))
    assert len(topt.variables) == len(kopt.variables)
    assert [v.name for v in topt.variables[:6]] == [v.name for v in kopt.variables[:6]]  # slots: own names
    assert float(topt.scale_loss(3.0)) == float(np.asarray(kopt.scale_loss(3.0)))
    kcfg, tcfg = kopt.get_config(), topt.get_config()
    for cfg in (kcfg, tcfg):  # auto-numbered names differ between the two processes' counters
        del cfg["name"], cfg["inner_optimizer"]["config"]["name"]
    assert tcfg == kcfg


def test_nextafter_matches_tf(tf):
    rng = np.random.default_rng(17)
    for dtype in (np.float32, np.float64):
        x1 = np.concatenate([rng.normal(size=6), [0.0, -0.0, np.inf, -np.inf, 1e-310]]).astype(dtype)
        x2 = np.concatenate([rng.normal(size=6), [1.0, -1.0, 0.0, 0.0, -1.0]]).astype(dtype)
        want = tf.math.nextafter(tf.constant(x1), tf.constant(x2)).numpy()
        np.testing.assert_array_equal(tg.math.nextafter(tg.constant(x1), tg.constant(x2)).numpy(), want)
    a = np.array([[1.0], [2.0]], np.float32)
    b = np.array([0.0, 3.0, 2.0], np.float32)
    for lib in (tf, tg):
        xa, xb = lib.constant(a), lib.constant(b)
        with lib.GradientTape() as tape:
            tape.watch([xa, xb])
            y = lib.math.nextafter(xa, xb) * lib.constant([1.0, 2.0, 3.0])
        grads = [g.numpy() for g in tape.gradient(y, [xa, xb])]
        if lib is tf:
            want_grads = grads
    for g, w in zip(grads, want_grads):
        np.testing.assert_array_equal(g, w)


def test_vectorized_map_and_recompute_grad_match_tf(tf):
    rng = np.random.default_rng(18)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    w0 = rng.normal(size=(3, 3)).astype(np.float32)
    results = {}
    for lib in (tf, tg):
        w = lib.Variable(w0)
        xt = lib.constant(x)

        def block(h, w=w, lib=lib):
            return lib.tanh(lib.matmul(h, w)) * 2.0

        f = lib.recompute_grad(block)
        with lib.GradientTape() as tape:
            tape.watch(xt)
            mapped = lib.vectorized_map(lambda r, lib=lib: lib.reduce_sum(r * r) + r[0], xt)
            y = lib.reduce_sum(f(xt)) + lib.reduce_sum(mapped)
        results[lib.__name__] = [y.numpy()] + [g.numpy() for g in tape.gradient(y, [xt, w])]
    for a, b in zip(results["tapegrad"], results["tensorflow"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
