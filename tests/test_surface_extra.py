"""Issue 11 section 4, the Python-built part: LossScaleOptimizer against a numpy transcription of
Keras's scaling rule, tf.nn.ctc_loss against a brute-force sum over alignments and finite
differences, recompute_grad / grad_pass_through / vectorized_map / nextafter, and the Keras CTC,
Circle and CategoricalGeneralizedCrossEntropy losses (their TF/Keras comparisons are in
tests/test_surface_extra_tf.py)."""

import itertools
import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.testing import check_gradients

# ---- LossScaleOptimizer ------------------------------------------------------------------------


def _lso_reference(w0, grads, lr, initial_scale, growth_steps):
    """Keras 3's dynamic loss scaling around plain SGD, step by step, in numpy (float32)."""
    w, scale, counter, iters = w0.astype(np.float32).copy(), np.float32(initial_scale), 0, 0
    out = []
    for g in grads:
        if np.isfinite(g).all():
            w = (w - np.float32(lr) * (g.astype(np.float32) / scale)).astype(np.float32)
            iters += 1
            if counter == growth_steps - 1:
                counter, scale = 0, np.float32(scale * np.float32(2.0))
            else:
                counter += 1
        else:
            counter, scale = 0, np.float32(scale * np.float32(0.5))
        out.append((w.copy(), float(scale), counter, iters))
    return out


def test_loss_scale_optimizer_follows_the_numpy_rule():
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=5).astype(np.float32)
    grads = [rng.normal(size=5).astype(np.float32) * 64 for _ in range(12)]
    grads[2][1] = np.inf
    grads[7][0] = np.nan
    grads[8][:] = -np.inf
    ref = _lso_reference(w0, grads, lr=0.05, initial_scale=8.0, growth_steps=3)
    v = tg.Variable(w0)
    opt = tg.keras.optimizers.LossScaleOptimizer(
        tg.keras.optimizers.SGD(0.05), initial_scale=8.0, dynamic_growth_steps=3
    )
    for g, (w, scale, counter, iters) in zip(grads, ref):
        opt.apply_gradients([(tg.constant(g), v)])
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-6, atol=1e-7)  # the fused kernel may use an FMA
        assert float(opt.dynamic_scale) == scale
        assert int(opt.step_counter) == counter
        assert int(opt.iterations) == iters
    # halved at each non-finite step (2, 7, 8), doubled after 3 finite steps in a row (5, 11)
    assert [r[1] for r in ref] == [8, 8, 4, 4, 4, 8, 8, 4, 2, 2, 2, 4]


def test_loss_scale_optimizer_defaults_scale_loss_and_delegation():
    inner = tg.keras.optimizers.Adam(0.01, loss_scale_factor=4.0)
    opt = tg.keras.optimizers.LossScaleOptimizer(inner)
    assert inner.loss_scale_factor is None  # cleared so gradients are not unscaled twice
    assert opt.initial_scale == 2.0**15 and opt.dynamic_growth_steps == 2000
    assert float(opt.scale_loss(2.0)) == 65536.0  # initial_scale before build
    assert opt.learning_rate is inner.learning_rate
    opt.learning_rate = 0.5
    assert float(inner.learning_rate) == 0.5
    v = tg.Variable([1.0, 2.0])
    with tg.GradientTape() as tape:
        loss = opt.scale_loss(tg.reduce_sum(v * v))
    g = tape.gradient(loss, v)
    np.testing.assert_allclose(g.numpy(), 2**15 * np.array([2.0, 4.0]))
    opt.apply_gradients([(g, v)])
    assert opt.iterations is inner.iterations and int(opt.iterations) == 1
    names = [x.name for x in opt.variables]
    assert names[:4] == ["iteration", "learning_rate", "step_counter", "dynamic_scale"]
    assert len(opt.variables) == 4 + len(inner.variables)
    with tg.GradientTape() as tape:  # after build the scale is the variable's value
        opt.dynamic_scale.assign(16.0)
        loss = opt.scale_loss(tg.constant(1.5, dtype=tg.float64))
    assert loss.dtype == tg.float64 and float(loss) == 24.0
    half = opt.scale_loss(tg.constant(1.0, dtype=tg.float16))
    assert half.dtype == tg.float32  # Keras's promotion of float16 with the float32 scale


def test_loss_scale_optimizer_config_roundtrip_and_bad_arguments():
    opt = tg.keras.optimizers.LossScaleOptimizer(
        tg.keras.optimizers.SGD(0.1, momentum=0.5), initial_scale=128.0, dynamic_growth_steps=7, name="lso"
    )
    cfg = opt.get_config()
    assert cfg["name"] == "lso" and cfg["initial_scale"] == 128.0 and cfg["dynamic_growth_steps"] == 7
    assert cfg["inner_optimizer"]["class_name"] == "SGD" and cfg["inner_optimizer"]["config"]["momentum"] == 0.5
    again = tg.keras.optimizers.LossScaleOptimizer.from_config(cfg)
    assert again.get_config() == cfg
    back = tg.keras.optimizers.deserialize(tg.keras.optimizers.serialize(opt))
    assert isinstance(back, tg.keras.optimizers.LossScaleOptimizer) and back.get_config() == cfg
    assert tg.keras.mixed_precision.LossScaleOptimizer is tg.keras.optimizers.LossScaleOptimizer
    sgd = tg.keras.optimizers.SGD()
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        tg.keras.optimizers.LossScaleOptimizer(sgd, dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        tg.keras.optimizers.LossScaleOptimizer(sgd, clipnorm=1.0)
    with pytest.raises(ValueError, match="does not support arguments: `foo`"):
        tg.keras.optimizers.LossScaleOptimizer(sgd, foo=1)
    tg.keras.optimizers.LossScaleOptimizer(sgd, use_ema=False, clipnorm=None)  # defaults from old configs
    with pytest.raises(TypeError, match="inner_optimizer"):
        tg.keras.optimizers.LossScaleOptimizer("sgd")
    with pytest.raises(ValueError, match="must already be built"):
        tg.keras.optimizers.LossScaleOptimizer(sgd).apply([tg.constant(1.0)])


def test_loss_scale_optimizer_state_roundtrip_and_ema():
    w = tg.Variable([1.0, -1.0])
    opt = tg.keras.optimizers.LossScaleOptimizer(
        tg.keras.optimizers.Adam(0.1, use_ema=True), initial_scale=4.0, dynamic_growth_steps=2
    )
    for g in ([4.0, 4.0], [np.inf, 0.0], [8.0, -4.0], [2.0, 2.0]):
        opt.apply_gradients([(tg.constant(g), w)])
    store = {}
    opt.save_own_variables(store)
    w2 = tg.Variable([1.0, -1.0])
    opt2 = tg.keras.optimizers.LossScaleOptimizer(
        tg.keras.optimizers.Adam(0.1, use_ema=True), initial_scale=4.0, dynamic_growth_steps=2
    )
    opt2.build([w2])
    opt2.load_own_variables(store)
    assert float(opt2.dynamic_scale) == float(opt.dynamic_scale) == 4.0  # halved, then doubled
    assert int(opt2.iterations) == 3 and int(opt2.step_counter) == 0
    opt.finalize_variable_values([w])  # the inner optimizer's EMA averages
    np.testing.assert_array_equal(w.numpy(), opt.inner_optimizer._ema[0].numpy())


def test_loss_scale_optimizer_in_fit_matches_the_plain_optimizer():
    """fit scales the loss on the tape; with finite gradients and a power-of-two scale the
    trajectory is the plain optimizer's bit for bit."""

    def run(opt):
        model = tg.keras.Sequential([tg.keras.Input((4,)), tg.keras.layers.Dense(3), tg.keras.layers.Dense(1)])
        model.set_weights([np.full(w.shape, 0.1 * (i + 1), "float32") for i, w in enumerate(model.get_weights())])
        model.compile(optimizer=opt, loss="mse")
        x = np.random.RandomState(0).rand(16, 4).astype("float32")
        model.fit(x, x.sum(1, keepdims=True), epochs=2, batch_size=8, verbose=0, shuffle=False)
        return model.get_weights()

    plain = run(tg.keras.optimizers.SGD(0.1))
    scaled = tg.keras.optimizers.LossScaleOptimizer(tg.keras.optimizers.SGD(0.1))
    for a, b in zip(plain, run(scaled)):
        np.testing.assert_array_equal(a, b)
    assert int(scaled.iterations) == 4 and int(scaled.step_counter) == 4


# ---- tf.nn.ctc_loss ----------------------------------------------------------------------------


def _collapse(path, blank):
    out = []
    prev = None
    for p in path:
        if p != prev and p != blank:
            out.append(p)
        prev = p
    return out


def _ctc_brute_force(logits, labels, label_len, logit_len, blank):
    """-log of the summed probability of every frame-wise path that collapses to the labels."""
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    out = []
    for b in range(logits.shape[1]):
        target = list(labels[b, : label_len[b]])
        frames = logit_len[b]
        total = 0.0
        for path in itertools.product(range(logits.shape[2]), repeat=frames):
            if _collapse(path, blank) == target:
                total += np.exp(sum(logp[t, b, path[t]] for t in range(frames)))
        out.append(-np.log(total))
    return np.array(out)


@pytest.mark.parametrize("blank_index", [None, 1, -1])
def test_ctc_loss_matches_the_sum_over_alignments(blank_index):
    rng = np.random.default_rng(3)
    frames, batch, classes = 5, 4, 3
    logits = rng.normal(size=(frames, batch, classes))
    blank = {None: 0, 1: 1, -1: classes - 1}[blank_index]
    others = [c for c in range(classes) if c != blank]
    labels = np.array([[others[0], others[1], others[0]], [others[1], others[1], 0], [others[0], 0, 0], [0, 0, 0]])
    label_len = np.array([3, 2, 1, 0])
    logit_len = np.array([5, 4, 2, 3])
    got = tg.nn.ctc_loss(tg.constant(labels), tg.constant(logits), label_len, logit_len, blank_index=blank_index)
    assert got.dtype == tg.float64 and got.shape == (batch,)
    want = _ctc_brute_force(logits, labels, label_len, logit_len, blank)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)
    # batch-major logits give the same
    bm = tg.nn.ctc_loss(
        labels, np.transpose(logits, (1, 0, 2)), label_len, logit_len, logits_time_major=False, blank_index=blank_index
    )
    np.testing.assert_allclose(bm.numpy(), want, rtol=1e-10)


def test_ctc_loss_gradient_matches_finite_differences():
    rng = np.random.default_rng(4)
    labels = tg.constant([[1, 1, 2], [2, 0, 0], [1, 2, 1]])
    label_len, logit_len = tg.constant([3, 1, 2]), tg.constant([6, 4, 5])
    logits = rng.normal(size=(6, 3, 4))
    check_gradients(lambda x: tg.nn.ctc_loss(labels, x, label_len, logit_len), [logits], order=1, rtol=1e-5)


def test_ctc_loss_impossible_alignment_is_large_and_finite():
    logits = tg.zeros([2, 1, 3])
    x = tg.constant(np.zeros((2, 1, 3)))
    with tg.GradientTape() as tape:
        tape.watch(x)
        loss = tg.nn.ctc_loss(tg.constant([[1, 1]]), x, tg.constant([2]), tg.constant([2]))  # needs 3 frames
    assert 700 < float(loss[0]) < 720
    assert np.isfinite(tape.gradient(loss, x).numpy()).all()
    half = tg.nn.ctc_loss(tg.constant([[1]]), tg.cast(logits, tg.float16), tg.constant([1]), tg.constant([2]))
    assert half.dtype == tg.float16 and abs(float(half[0]) - np.log(3.0)) < 1e-3


def test_ctc_loss_bad_input():
    logits = tg.zeros([4, 2, 3])
    labels = tg.constant([[1, 2], [2, 1]])
    ok = (tg.constant([2, 2]), tg.constant([4, 4]))
    err = tg.errors.InvalidArgumentError
    with pytest.raises(err, match=r"label_length\[1\] = 3 is outside \[0, 2\]"):
        tg.nn.ctc_loss(labels, logits, tg.constant([2, 3]), ok[1])
    with pytest.raises(err, match=r"logit_length\[0\] = 5 is outside \[0, 4\] \(the number of frames 4\)"):
        tg.nn.ctc_loss(labels, logits, ok[0], tg.constant([5, 4]))
    with pytest.raises(err, match=r"label_length\[0\] = -1"):
        tg.nn.ctc_loss(labels, logits, tg.constant([-1, 2]), ok[1])
    with pytest.raises(err, match=r"labels\[1, 0\] = 3 is not a class index in \[0, 3\)"):
        tg.nn.ctc_loss(tg.constant([[1, 2], [3, 1]]), logits, *ok)
    with pytest.raises(err, match="labels must be an integer tensor"):
        tg.nn.ctc_loss(tg.constant([[1.0, 2.0], [2.0, 1.0]]), logits, *ok)
    with pytest.raises(err, match="logit_length must be an integer tensor"):
        tg.nn.ctc_loss(labels, logits, ok[0], tg.constant([4.0, 4.0]))
    with pytest.raises(err, match=r"logits must have rank 3 .* got shape \[4, 2\]"):
        tg.nn.ctc_loss(labels, tg.zeros([4, 2]), *ok)
    with pytest.raises(err, match="labels must have rank 2"):
        tg.nn.ctc_loss(tg.constant([1, 2]), logits, *ok)
    with pytest.raises(err, match="labels has batch size 3 but logits has batch size 2"):
        tg.nn.ctc_loss(tg.constant([[1], [1], [1]]), logits, *ok)
    with pytest.raises(err, match=r"label_length must have shape \[2\]"):
        tg.nn.ctc_loss(labels, logits, tg.constant([2, 2, 2]), ok[1])
    with pytest.raises(err, match="blank_index 3 is out of range for 3 classes"):
        tg.nn.ctc_loss(labels, logits, *ok, blank_index=3)
    with pytest.raises(err, match="logits must be a float tensor"):
        tg.nn.ctc_loss(labels, tg.zeros([4, 2, 3], dtype=tg.int32), *ok)
    with pytest.raises(ValueError, match="`logit_length` is required"):
        tg.nn.ctc_loss(labels, logits, ok[0], None)

    class SparseTensor:  # the shape of tf.SparseTensor
        indices = values = dense_shape = None

    with pytest.raises(NotImplementedError, match=r"tf\.SparseTensor"):
        tg.nn.ctc_loss(SparseTensor(), logits, None, ok[1], blank_index=0)


# ---- recompute_grad, grad_pass_through -----------------------------------------------------------


def _block(w):
    def f(x, scale=1.0):
        for _ in range(4):
            x = tg.tanh(tg.matmul(x, w)) * scale
        return x

    return f


def test_recompute_grad_same_gradients_and_no_intermediates_on_the_tape():
    rng = np.random.default_rng(5)
    w = tg.Variable(rng.normal(size=(4, 4)) * 0.5)
    x = tg.constant(rng.normal(size=(3, 4)))
    f = _block(w)
    g = tg.recompute_grad(f)
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.reduce_sum(f(x, scale=0.5))
    want = tape.gradient(y, [x, w])
    with tg.GradientTape() as tape:
        tape.watch(x)
        out = g(x, scale=0.5)
        held = tape._tape.num_nodes()
        y = tg.reduce_sum(out)
    got = tape.gradient(y, [x, w])
    assert held == 1  # one custom-gradient node, none of f's 12 ops
    for a, b in zip(want, got):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), f(x, scale=0.5).numpy())
    assert g.__name__ == "f"


def test_recompute_grad_variable_first_read_inside_and_second_order():
    w = tg.Variable(2.0)

    @tg.recompute_grad
    def f(x):
        return tg.sin(x) * w

    x = tg.constant(0.7, dtype=tg.float32)
    with tg.GradientTape() as outer:
        outer.watch(x)
        with tg.GradientTape() as inner:
            inner.watch(x)
            y = f(x)
        dx, dw = inner.gradient(y, [x, w])
    d2 = outer.gradient(dx, x)
    np.testing.assert_allclose(float(dx), 2 * np.cos(0.7), rtol=1e-6)
    np.testing.assert_allclose(float(dw), np.sin(0.7), rtol=1e-6)
    np.testing.assert_allclose(float(d2), -2 * np.sin(0.7), rtol=1e-6)

    scaled = tg.recompute_grad(lambda x, n: x * tg.cast(n, tg.float32))  # an int argument: no gradient
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x, tg.constant(3))
    assert float(tape.gradient(y, x)) == 3.0


def test_grad_pass_through():
    x = tg.Variable(1.0)
    z = tg.Variable(3.0)
    with tg.GradientTape() as tape:
        y = tg.grad_pass_through(x.assign)(z**2)
    assert float(y) == 9.0 and float(x) == 9.0
    assert float(tape.gradient(y, z)) == 6.0

    w = tg.Variable(5.0)
    a, b = tg.constant([1.0, 2.0]), tg.constant(3.0)
    with tg.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        pa, pb = tg.grad_pass_through(lambda u, v: (tg.round(u) * w, tg.floor(v) * w))(a * 2.0, b)
        total = tg.reduce_sum(pa) * 3.0 + pb
    ga, gb, gw = tape.gradient(total, [a, b, w])
    assert ga.numpy().tolist() == [6.0, 6.0] and float(gb) == 1.0
    assert gw is None  # variables inside get no gradient


# ---- vectorized_map --------------------------------------------------------------------------------


def test_vectorized_map_values_gradients_and_structures():
    rng = np.random.default_rng(6)
    a = tg.constant(rng.normal(size=(5, 3)))
    m = tg.constant(rng.normal(size=(5, 3, 3)))

    def fn(elems):
        row, mat = elems
        return {"y": tg.linalg.matvec(mat, row), "n": tg.reduce_sum(row * row), "c": tg.constant(2.0)}

    with tg.GradientTape() as tape:
        tape.watch([a, m])
        out = tg.vectorized_map(fn, (a, m))
        loss = tg.reduce_sum(out["y"]) + tg.reduce_sum(out["n"])
    ga, gm = tape.gradient(loss, [a, m])
    an, mn = a.numpy(), m.numpy()
    np.testing.assert_allclose(out["y"].numpy(), np.einsum("bij,bj->bi", mn, an))
    np.testing.assert_allclose(out["n"].numpy(), (an**2).sum(1))
    assert out["c"].numpy().tolist() == [2.0] * 5  # a loop-invariant output is repeated per row
    np.testing.assert_allclose(ga.numpy(), mn.sum(1) + 2 * an)
    np.testing.assert_allclose(gm.numpy(), np.broadcast_to(an[:, None, :], mn.shape))
    empty = tg.vectorized_map(lambda r: (r * 2.0, tg.reduce_sum(r)), tg.zeros([0, 3]))
    assert empty[0].shape == (0, 3) and empty[1].shape == (0,)


def test_vectorized_map_bad_input():
    with pytest.raises(ValueError, match="needs a leading axis"):
        tg.vectorized_map(lambda x: x, tg.constant(1.0))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"different sizes along axis 0 \(2 and 3\)"):
        tg.vectorized_map(lambda x: x[0] * x[1], (tg.zeros([2, 3]), tg.zeros([3, 3])))


# ---- nextafter -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nextafter_values_and_tf_gradient(dtype):
    x1 = np.array([[1.0, 0.0, -2.5], [np.inf, 3.0, 1e-30]], dtype=dtype)
    x2 = np.array([2.0, -1.0, -2.5], dtype=dtype)
    a, b = tg.constant(x1), tg.constant(x2)
    with tg.GradientTape() as tape:
        tape.watch([a, b])
        y = tg.math.nextafter(a, b)
        loss = tg.reduce_sum(tg.where(tg.math.is_finite(y), y, tg.zeros_like(y)) * 3.0)
    np.testing.assert_array_equal(y.numpy(), np.nextafter(x1, x2))
    assert y.dtype == tg.as_dtype(dtype)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_array_equal(ga.numpy(), np.where(np.isfinite(np.nextafter(x1, x2)), 3.0, 0.0))
    np.testing.assert_array_equal(gb.numpy(), np.zeros(3))  # TF's registered gradient: 0 for x2


def test_nextafter_bad_dtypes():
    err = tg.errors.InvalidArgumentError
    with pytest.raises(err, match="Value for attr 'T' of half is not in the list of allowed values: double, float"):
        tg.math.nextafter(tg.constant([1.0], dtype=tg.float16), tg.constant([2.0], dtype=tg.float16))
    with pytest.raises(err, match="of int32 is not in the list"):
        tg.math.nextafter(tg.constant([1]), tg.constant([2]))
    with pytest.raises(err, match="expected to be a float tensor but is a double tensor"):
        tg.math.nextafter(tg.constant([1.0]), tg.constant([2.0], dtype=tg.float64))
    with pytest.raises(err, match=r"Incompatible shapes: \[2\] vs. \[3\]"):
        tg.math.nextafter(tg.constant([1.0, 2.0]), tg.constant([1.0, 2.0, 3.0]))


# ---- Keras losses --------------------------------------------------------------------------------


def test_categorical_generalized_cross_entropy_formula_and_config():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]], dtype=np.float32)
    labels = np.array([0, 2, 1])
    got = tg.keras.losses.categorical_generalized_cross_entropy(labels, tg.constant(probs), q=0.3)
    p = probs[np.arange(3), labels]
    np.testing.assert_allclose(got.numpy(), (1 - p**0.3) / 0.3, rtol=1e-6)
    loss = tg.keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3, reduction="sum")
    np.testing.assert_allclose(float(loss(labels, probs)), ((1 - p**0.3) / 0.3).sum(), rtol=1e-6)
    assert loss.get_config() == {"name": "categorical_generalized_cross_entropy", "reduction": "sum", "q": 0.3}
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        tg.keras.losses.CategoricalGeneralizedCrossEntropy(q=1.0)


@pytest.mark.parametrize(
    "cls, kwargs",
    [
        ("CTC", {}),
        ("Circle", {"gamma": 32.0, "margin": 0.25, "remove_diagonal": False}),
        ("CategoricalGeneralizedCrossEntropy", {"q": 0.7}),
    ],
)
def test_new_losses_registered_for_get_and_serialize(cls, kwargs):
    losses = tg.keras.losses
    obj = getattr(losses, cls)(reduction="sum", **kwargs)
    again = losses.deserialize(losses.serialize(obj))
    assert type(again) is type(obj) and again.get_config() == obj.get_config()
    assert isinstance(losses.get(cls), getattr(losses, cls))
    fn = {
        "CTC": "ctc",
        "Circle": "circle",
        "CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy",
    }
    assert losses.get(fn[cls]) is getattr(losses, fn[cls]) and losses.serialize(getattr(losses, fn[cls])) == fn[cls]


def test_ctc_keras_shape_errors_and_mask_index():
    with pytest.raises(ValueError, match=r"`y_true` are expected to be a tensor of shape `\(batch_size, max_length\)`"):
        tg.keras.losses.ctc(tg.constant([1, 2]), tg.zeros([1, 3, 4]))
    with pytest.raises(ValueError, match=r"Received: y_pred.shape=\(1, 3\)"):
        tg.keras.losses.ctc(tg.constant([[1, 2]]), tg.zeros([1, 3]))
    # 0 is the blank and the padding: label lengths count the non-zero entries
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(2, 5, 3)).astype(np.float32)
    got = tg.keras.losses.ctc(tg.constant([[1, 2, 0], [2, 0, 0]]), tg.constant(logits))
    want = tg.nn.ctc_loss(
        tg.constant([[1, 2, 0], [2, 0, 0]]), logits, [2, 1], [5, 5], logits_time_major=False, blank_index=0
    )
    np.testing.assert_allclose(got.numpy(), want.numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert tg.keras.losses.ctc([[1, 0]], tg.constant(logits[:1], dtype=tg.float64)).dtype == tg.float64
