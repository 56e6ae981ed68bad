"""tf.IndexedSlices and sparse gradients (issue 11 part 3): the gradient of a gather along axis 0,
its aggregation on the tape, conversion, clipping, and the optimizers' sparse step, against TF and
Keras 3 when installed, and against numpy transcriptions otherwise."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core, _indexed_slices


@pytest.fixture(scope="module")
def tf_ref():
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    return pytest.importorskip("tensorflow")


@pytest.fixture(scope="module")
def keras_ref(tf_ref):
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("Keras is not on the TensorFlow backend")
    return keras


def _dense(rows, values, n):
    out = np.zeros((n,) + values.shape[1:], values.dtype)
    for r, v in zip(rows, values):
        out[r] += v
    return out


# ---- the gradient of gather ------------------------------------------------------------------


def test_gather_gradient_is_indexed_slices():
    v = tg.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))
    with tg.GradientTape() as tape:
        y = tg.reduce_sum(tg.gather(v, [[1], [3]]) * 2.0)
    g = tape.gradient(y, v)
    assert isinstance(g, tg.IndexedSlices)
    assert g.indices.numpy().tolist() == [1, 3] and g.indices.dtype == tg.int32
    assert g.values.shape == (2, 3) and g.values.dtype == tg.float32
    np.testing.assert_array_equal(g.values.numpy(), np.full((2, 3), 2.0, np.float32))
    assert g.dense_shape.dtype == tg.int32 and g.dense_shape.numpy().tolist() == [4, 3]
    assert g.shape == (4, 3) and g.dtype == tg.float32
    np.testing.assert_array_equal(tg.convert_to_tensor(g).numpy(), _dense([1, 3], np.full((2, 3), 2.0), 4))
    assert str(g).startswith("IndexedSlices(indices=tf.Tensor([1 3], shape=(2,), dtype=int32), values=tf.Tensor(")


def test_tape_concatenates_and_densifies():
    x = tg.constant(np.arange(12, dtype=np.float64).reshape(4, 3))
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = tg.gather(x, tg.constant([1, 3], tg.int64))
        b = tg.gather(tg.identity(x), [2, 1])  # Identity passes the slices through
        sparse_only = tg.reduce_sum(a) + tg.reduce_sum(b * 3.0)
        mixed = tg.reduce_sum(a) + tg.reduce_sum(x * x)
        through_cast = tg.reduce_sum(tg.gather(tg.cast(x, tg.float32), [0, 0]))
    g = tape.gradient(sparse_only, x)
    assert isinstance(g, tg.IndexedSlices)
    assert g.indices.dtype == tg.int64  # int64 + int32 indices: promoted
    assert g.indices.numpy().tolist() == [1, 3, 2, 1]  # forward order, as TF
    np.testing.assert_array_equal(g.values.numpy(), np.repeat([[1.0], [1.0], [3.0], [3.0]], 3, axis=1))
    d = tape.gradient(mixed, x)
    assert isinstance(d, tg.Tensor)  # sparse + dense -> dense
    np.testing.assert_allclose(d.numpy(), 2 * x.numpy() + _dense([1, 3], np.ones((2, 3)), 4))
    c = tape.gradient(through_cast, x)
    assert isinstance(c, tg.IndexedSlices) and c.values.dtype == tg.float64
    assert c.indices.numpy().tolist() == [0, 0]


def test_dense_where_tf_is_dense():
    x = tg.constant(np.arange(24, dtype=np.float32).reshape(2, 4, 3))
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1 = tg.gather(x, [1, 0, 1], axis=1)
        y2 = tg.gather(x, [[0, 1], [2, 2]], axis=1, batch_dims=1)
        y3 = tg.gather(tg.gather(x, [1, 0]), [0, 0])  # the inner gather's output gradient is densified
    assert isinstance(tape.gradient(y1, x), tg.Tensor)
    assert isinstance(tape.gradient(y2, x), tg.Tensor)
    g3 = tape.gradient(y3, x)
    assert isinstance(g3, tg.IndexedSlices) and g3.indices.numpy().tolist() == [1, 0]
    np.testing.assert_array_equal(tg.convert_to_tensor(g3).numpy()[1], np.full((4, 3), 2.0))


def test_unconnected_and_jacobian():
    v = tg.Variable(np.ones((5, 2), np.float32))
    w = tg.Variable(np.ones((5, 2), np.float32))
    with tg.GradientTape(persistent=True) as tape:
        y = tg.reduce_sum(tg.gather(v, [4]))
        e = tg.gather(v, [0, 2])
    gv, gw = tape.gradient(y, [v, w], unconnected_gradients="zero")
    assert isinstance(gv, tg.IndexedSlices) and isinstance(gw, tg.Tensor)
    np.testing.assert_array_equal(gw.numpy(), np.zeros((5, 2)))
    j = tape.jacobian(e, v)  # TF: jacobians densify sparse gradients
    assert j.shape == (2, 2, 5, 2) and float(tg.reduce_sum(j)) == 4.0


def test_higher_order_through_sparse_gradient():
    x0 = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 4.0]])
    x = tg.constant(x0)
    with tg.GradientTape() as outer:
        outer.watch(x)
        with tg.GradientTape() as inner:
            inner.watch(x)
            y = tg.reduce_sum(tg.gather(x, [2, 0, 2]) ** 3)
        g = inner.gradient(y, x)
        assert isinstance(g, tg.IndexedSlices)
        s = tg.reduce_sum(tg.convert_to_tensor(g) ** 2)
    h = tg.convert_to_tensor(outer.gradient(s, x)).numpy()
    counts = np.array([1.0, 0.0, 2.0])[:, None]
    # g = counts * 3 x^2; s = sum(g^2) = sum(counts^2 * 9 x^4); ds/dx = counts^2 * 36 x^3
    np.testing.assert_allclose(h, counts**2 * 36 * x0**3)


def test_embedding_lookup():
    table = tg.Variable(np.arange(20, dtype=np.float32).reshape(10, 2))
    ids = np.array([[3, 9], [0, 3]])
    with tg.GradientTape() as tape:
        e = tg.nn.embedding_lookup(table, ids)
        loss = tg.reduce_sum(e * e)
    np.testing.assert_array_equal(e.numpy(), table.numpy()[ids])
    g = tape.gradient(loss, table)
    assert isinstance(g, tg.IndexedSlices) and g.indices.numpy().tolist() == [3, 9, 0, 3]
    np.testing.assert_allclose(
        tg.convert_to_tensor(g).numpy(), _dense(ids.reshape(-1), 2 * table.numpy()[ids.reshape(-1)], 10)
    )
    # a table split in two shards ("div": 5 rows each), and max_norm
    s0, s1 = tg.Variable(table.numpy()[:5]), tg.Variable(table.numpy()[5:])
    with tg.GradientTape() as tape:
        e2 = tg.nn.embedding_lookup([s0, s1], [7, 1, 7])
    np.testing.assert_array_equal(e2.numpy(), table.numpy()[[7, 1, 7]])
    g0, g1 = tape.gradient(e2, [s0, s1])
    assert isinstance(g0, tg.IndexedSlices) and isinstance(g1, tg.IndexedSlices)
    np.testing.assert_array_equal(tg.convert_to_tensor(g1).numpy()[2], [2.0, 2.0])
    clipped = tg.nn.embedding_lookup(table, [9], max_norm=1.0).numpy()
    np.testing.assert_allclose(np.linalg.norm(clipped, axis=-1), [1.0], rtol=1e-6)
    with pytest.raises(ValueError, match="Need at least one param"):
        tg.nn.embedding_lookup([], [0])


def test_keras_embedding_layer_gradient_is_sparse():
    layer = tg.keras.layers.Embedding(50, 4)
    with tg.GradientTape() as tape:
        out = layer(np.array([[1, 2], [2, 7]]))
        loss = tg.reduce_sum(out)
    (g,) = tape.gradient(loss, layer.trainable_variables)
    assert isinstance(g, tg.IndexedSlices) and g.dense_shape.numpy().tolist() == [50, 4]
    opt = tg.keras.optimizers.Adam(0.1)
    before = layer.embeddings.numpy().copy()
    opt.apply_gradients([(g, layer.embeddings)])
    changed = np.flatnonzero(np.any(layer.embeddings.numpy() != before, axis=1))
    assert changed.tolist() == [1, 2, 7]


# ---- conversion, arithmetic, clipping ---------------------------------------------------------


def test_conversion_and_arithmetic():
    s = tg.IndexedSlices(
        tg.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), tg.constant([2, -1, 2]), tg.constant([3, 2])
    )
    d = tg.convert_to_tensor(s).numpy()  # negative ids are dropped, as unsorted_segment_sum
    np.testing.assert_array_equal(d, [[0, 0], [0, 0], [6, 8]])
    np.testing.assert_array_equal(np.asarray(s), d)
    np.testing.assert_array_equal(tg.add(s, 1.0).numpy(), d + 1)  # ops densify
    np.testing.assert_array_equal((-s).values.numpy(), -s.values.numpy())
    with pytest.raises(TypeError):
        s * 2  # noqa: B018  (TF's IndexedSlices has no * either)
    with pytest.raises(
        ValueError, match=r"Incompatible tensor conversion requested to `dtype` int32 for IndexedSlices"
    ):
        tg.convert_to_tensor(s, dtype=tg.int32)
    with pytest.raises(
        ValueError, match="Tensor conversion requested for IndexedSlices for argument `value` without dense_shape"
    ):
        tg.convert_to_tensor(tg.IndexedSlices(s.values, s.indices))
    assert tg.IndexedSlices(s.values, s.indices).shape.rank is None
    np.testing.assert_array_equal(tg.math.add_n([s, s]).numpy(), 2 * d)


def test_conversion_bad_input():
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 7 is out of range \[0, 4\)"):
        tg.convert_to_tensor(tg.IndexedSlices(tg.ones((2, 3)), [0, 7], [4, 3]))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"values of shape \[2, 3\], indices of shape \[3\]"):
        tg.convert_to_tensor(tg.IndexedSlices(tg.ones((2, 3)), [0, 1, 2], [4, 3]))
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"dense_shape \[4, 2\]"):
        tg.convert_to_tensor(tg.IndexedSlices(tg.ones((2, 3)), [0, 1], [4, 2]))
    with pytest.raises(TypeError, match="int32 or int64"):
        tg.convert_to_tensor(tg.IndexedSlices(tg.ones((2, 3)), tg.constant([0.0, 1.0]), [4, 3]))


def test_huge_conversion_warns(monkeypatch):
    assert _indexed_slices._LARGE_SPARSE_NUM_ELEMENTS == 100000000
    monkeypatch.setattr(_indexed_slices, "_LARGE_SPARSE_NUM_ELEMENTS", 12)
    s = tg.IndexedSlices(tg.ones((1, 3)), [1], [4, 3])
    with pytest.warns(
        UserWarning,
        match="Converting sparse IndexedSlices to a dense Tensor with 12 elements. This may consume a large amount of memory.",
    ):
        tg.convert_to_tensor(s)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.convert_to_tensor(tg.IndexedSlices(tg.ones((1, 3)), [1], [3, 3]))


def test_clipping_keeps_slices():
    s = tg.IndexedSlices(tg.constant([[3.0, 4.0], [0.0, 12.0]]), tg.constant([0, 0]), tg.constant([3, 2]))
    n = tg.linalg.global_norm([s, tg.constant([0.0])])
    assert float(n) == 13.0  # the norm of the values, not of the dense sum
    (c, z), used = tg.clip_by_global_norm([s, tg.constant([0.0])], 1.0)
    assert isinstance(c, tg.IndexedSlices) and float(used) == 13.0
    np.testing.assert_allclose(c.values.numpy(), s.values.numpy() / 13.0, rtol=1e-6)
    cn = tg.clip_by_norm(s, 6.5)
    assert isinstance(cn, tg.IndexedSlices)
    np.testing.assert_allclose(cn.values.numpy(), s.values.numpy() / 2.0, rtol=1e-6)
    cv = tg.clip_by_value(s, -1.0, 1.0)
    assert isinstance(cv, tg.IndexedSlices) and cv.values.numpy().max() == 1.0


def test_indexed_slices_spec():
    spec = tg.IndexedSlicesSpec([4, 3], tg.float32)
    assert repr(spec) == "IndexedSlicesSpec(TensorShape([4, 3]), tf.float32, tf.int64, None, TensorShape([None]))"
    assert repr(tg.IndexedSlicesSpec()) == (
        "IndexedSlicesSpec(TensorShape(None), tf.float32, tf.int64, None, TensorShape([None]))"
    )
    s = tg.IndexedSlices(tg.ones((2, 3)), tg.constant([0, 1], tg.int64), [4, 3])
    assert spec.is_compatible_with(s) and not tg.IndexedSlicesSpec([4, 2]).is_compatible_with(s)
    assert spec.value_type is tg.IndexedSlices and spec == tg.IndexedSlicesSpec([4, 3], "float32")


def test_against_tf(tf_ref):
    tf = tf_ref
    p0 = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)

    def run(mod):
        v = mod.Variable(p0)
        c = mod.constant(p0)
        with mod.GradientTape(persistent=True) as tape:
            tape.watch(c)
            ys = [
                mod.reduce_sum(mod.gather(v, [1, 3]) ** 2)
                + mod.reduce_sum(mod.gather(v, mod.constant([[5], [1]], mod.int64))),
                mod.reduce_sum(mod.nn.embedding_lookup(v, [[0, 0], [4, 2]], max_norm=1.5)),
                mod.reduce_sum(mod.gather(c, [2, 2]) * mod.gather(c, [1, 3])),
                mod.reduce_sum(mod.gather(c * 2.0, [0, 5])),
                mod.reduce_sum(mod.gather_nd(c, [[4], [1]]) ** 2) + mod.reduce_sum(mod.gather_nd(c, [[1, 2]])),
                mod.reduce_sum(mod.repeat(c, 2, axis=0)) + mod.reduce_sum(mod.boolean_mask(c, [True] * 5 + [False])),
                mod.reduce_sum(mod.gather(c, mod.constant([1, 3], mod.int64)))
                + mod.reduce_sum(mod.gather(mod.identity(c), [2, 1]) * 3.0)
                + mod.cast(mod.reduce_sum(mod.gather(mod.cast(c, mod.float64), [4]) ** 2), mod.float32),
            ]
        out = [tape.gradient(ys[0], v), tape.gradient(ys[1], v)] + [tape.gradient(y, c) for y in ys[2:]]
        return out

    for ours, theirs in zip(run(tg), run(tf)):
        assert isinstance(ours, tg.IndexedSlices) == isinstance(theirs, tf.IndexedSlices)
        if isinstance(theirs, tf.IndexedSlices):
            # the same slices in the same order (TF's breadth-first backward walk)
            np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
            assert ours.indices.dtype.name == theirs.indices.dtype.name
            np.testing.assert_allclose(ours.values.numpy(), theirs.values.numpy(), rtol=1e-5, atol=1e-5)
            np.testing.assert_array_equal(ours.dense_shape.numpy(), theirs.dense_shape.numpy())
            assert ours.dense_shape.dtype.name == theirs.dense_shape.dtype.name
        else:
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-6)
    s = ([[3.0, 4.0], [1.0, 1.0]], [0, 0], [3, 2])
    (ours, n1), (theirs, n2) = (
        tg.clip_by_global_norm([tg.IndexedSlices(*s)], 2.0),
        tf.clip_by_global_norm([tf.IndexedSlices(*(tf.constant(a) for a in s))], 2.0),
    )
    np.testing.assert_allclose(ours[0].values.numpy(), theirs[0].values.numpy(), rtol=1e-6)
    np.testing.assert_allclose(float(n1), float(n2), rtol=1e-6)


# ---- optimizers -------------------------------------------------------------------------------

N_ROWS, WIDTH = 7, 3
# (indices, values) of three steps; duplicates in the first and third
_STEPS = [
    ([2, 5, 2], [[0.5, -1.0, 2.0], [1.0, 0.25, -0.5], [-0.2, 0.7, 0.1]]),
    ([0, 6], [[0.3, 0.3, -0.3], [2.0, -1.5, 0.4]]),
    ([5, 5, 1, 2], [[0.1, 0.2, 0.3], [0.4, -0.5, 0.6], [-1.0, 1.0, 0.5], [0.0, 0.9, -0.9]]),
]
_UNIQUE_STEPS = [([2, 5], _STEPS[0][1][:2]), ([0, 6], _STEPS[1][1]), ([5, 1, 2], _STEPS[2][1][1:])]

_CONFIGS = [
    ("SGD", {"learning_rate": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5, "centered": True}),
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.05}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    ("Ftrl", {"learning_rate": 0.1, "l1_regularization_strength": 0.01, "l2_shrinkage_regularization_strength": 0.01}),
    ("Lion", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 1.0}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 1.0}),
    ("Adagrad", {"learning_rate": 0.1, "clipvalue": 0.6}),
    ("SGD", {"learning_rate": 0.1, "weight_decay": 0.1, "use_ema": True}),
    ("Adam", {"learning_rate": 0.01, "gradient_accumulation_steps": 2}),
]


def _run_optimizer(keras, name, config, steps, init, dense_too):
    """Three steps of keras.optimizers.<name> (keras: tg.keras or Keras 3) on IndexedSlices."""
    if keras is tg.keras:
        slices, var = tg.IndexedSlices, tg.Variable
    else:
        import tensorflow as tf

        slices, var = tf.IndexedSlices, keras.Variable
    opt = getattr(keras.optimizers, name)(**config)
    v = var(init.copy())
    w = var(np.ones((2, 2), np.float32))
    for idx, vals in steps:
        grads, variables = [slices(np.float32(vals), np.int32(idx), np.int32([N_ROWS, WIDTH]))], [v]
        if dense_too:
            grads.append(np.full((2, 2), 0.5, np.float32))
            variables.append(w)
        opt.apply(grads, variables)
    # slots in creation order; the gradient accumulators first, as Keras creates them
    slots = sorted(opt.variables, key=lambda s: "gradient_accumulator" not in (getattr(s, "path", None) or s.name))
    return np.asarray(v), [np.asarray(s) for s in slots], np.asarray(w)


@pytest.mark.parametrize("name,config", _CONFIGS, ids=lambda x: x if isinstance(x, str) else ",".join(x))
def test_optimizer_vs_keras(keras_ref, name, config):
    init = np.random.default_rng(1).standard_normal((N_ROWS, WIDTH)).astype(np.float32)
    dense_too = name in ("Adam", "SGD")
    ours = _run_optimizer(tg.keras, name, config, _STEPS, init, dense_too)
    theirs = _run_optimizer(keras_ref, name, config, _STEPS, init, dense_too)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(ours[2], theirs[2], rtol=2e-5, atol=2e-6)
    ours_slots = [s for s in ours[1] if s.shape == init.shape]
    theirs_slots = [s for s in theirs[1] if s.shape == init.shape]
    assert len(ours_slots) == len(theirs_slots)
    for a, b in zip(ours_slots, theirs_slots):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "name,config",
    [("Lamb", {}), ("Adafactor", {}), ("Lamb", {"clipnorm": 0.5}), ("Adafactor", {"clipvalue": 0.3})],
    ids=lambda x: x if isinstance(x, str) else ",".join(x) or "-",
)
def test_dense_step_optimizers_vs_keras(keras_ref, name, config):
    # Lamb and Adafactor run the dense step on the summed slices, with the sums of the squared
    # entries where they square the gradient (duplicate indices included)
    init = np.random.default_rng(2).standard_normal((N_ROWS, WIDTH)).astype(np.float32)
    config = {"learning_rate": 0.01, **config}
    for steps in (_UNIQUE_STEPS, _STEPS):
        ours = _run_optimizer(tg.keras, name, config, steps, init, True)
        theirs = _run_optimizer(keras_ref, name, config, steps, init, True)
        np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-5, atol=2e-6)
        np.testing.assert_allclose(ours[2], theirs[2], rtol=2e-5, atol=2e-6)


def _numpy_adam(init, steps, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    p, m, v = init.astype(np.float64), np.zeros_like(init, np.float64), np.zeros_like(init, np.float64)
    for t, (idx, vals) in enumerate(steps, 1):
        vals = np.asarray(vals, np.float64)
        g, g2 = _dense(idx, vals, len(p)), _dense(idx, vals * vals, len(p))
        m += (g - m) * (1 - b1)
        v += (g2 - v) * (1 - b2)  # Keras squares the slices before densifying
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        p -= m * alpha / (np.sqrt(v) + eps)
    return p, m, v


def test_adam_sparse_matches_numpy_transcription():
    init = np.random.default_rng(3).standard_normal((N_ROWS, WIDTH)).astype(np.float32)
    p, slots, _ = _run_optimizer(tg.keras, "Adam", {"learning_rate": 0.01}, _STEPS, init, False)
    ep, em, ev = _numpy_adam(init, _STEPS)
    np.testing.assert_allclose(p, ep, rtol=1e-5, atol=1e-6)
    m, v = [s for s in slots if s.shape == init.shape]
    np.testing.assert_allclose(m, em, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(v, ev, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_sgd_adagrad_touch_only_the_rows_in_the_slices(name):
    # Keras scatters for these: the step visits only the touched rows (O(rows touched)); untouched
    # rows of the variable and the slots stay bit-identical, even ones that hold NaN.
    rng = np.random.default_rng(4)
    init = rng.standard_normal((1000, 8)).astype(np.float32)
    init[::7] = np.nan  # rows a dense pass would rewrite (NaN - 0 * lr is NaN: bits may change)
    opt = getattr(tg.keras.optimizers, name)(learning_rate=0.1)
    v = tg.Variable(init.copy())
    opt.build([v])
    slots_before = [np.asarray(s).copy() for s in opt.variables if tuple(s.shape) == init.shape]
    idx = np.array([3, 500, 3, 999])
    opt.apply([tg.IndexedSlices(tg.constant(rng.standard_normal((4, 8)).astype(np.float32)), idx, [1000, 8])], [v])
    assert _core.optimizer_sparse_rows_only(getattr(_core.OptimizerRule, name.lower()))
    untouched = np.setdiff1d(np.arange(1000), idx)
    after = np.asarray(v)
    assert after[untouched].tobytes() == init[untouched].tobytes()
    assert not np.array_equal(after[[3, 500, 999]], init[[3, 500, 999]])
    for before, s in zip(slots_before, [s for s in opt.variables if tuple(s.shape) == init.shape]):
        assert np.asarray(s)[untouched].tobytes() == before[untouched].tobytes()


def test_adam_decays_every_row_as_keras():
    init = np.ones((6, 2), np.float32)
    opt = tg.keras.optimizers.Adam(learning_rate=0.1)
    v = tg.Variable(init.copy())
    opt.apply([tg.IndexedSlices(tg.ones((1, 2)), [1], [6, 2])], [v])
    opt.apply([tg.IndexedSlices(tg.ones((1, 2)), [4], [6, 2])], [v])
    m = np.asarray(opt.variables[2])
    np.testing.assert_allclose(m[1], 0.1 * 0.9, rtol=1e-6)  # decayed on a step that did not touch it
    assert not np.array_equal(np.asarray(v)[1], (init - 0.1)[1])


def test_loss_scale_factor_unscales_slices():
    a = tg.keras.optimizers.SGD(learning_rate=0.5, loss_scale_factor=4.0)
    b = tg.keras.optimizers.SGD(learning_rate=0.5)
    va, vb = tg.Variable(np.zeros((3, 2), np.float32)), tg.Variable(np.zeros((3, 2), np.float32))
    a.apply([tg.IndexedSlices(tg.fill([2, 2], 4.0), [0, 0], [3, 2])], [va])
    b.apply([tg.IndexedSlices(tg.ones((2, 2)), [0, 0], [3, 2])], [vb])
    np.testing.assert_array_equal(np.asarray(va), np.asarray(vb))
    np.testing.assert_array_equal(np.asarray(va)[0], [-1.0, -1.0])


def test_optimizer_bad_slices():
    v = tg.Variable(np.ones((5, 3), np.float32))
    sgd, adam = tg.keras.optimizers.SGD(0.1), tg.keras.optimizers.Adam(0.1)
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 5\) \[Op:ResourceScatterSub\]"
    ):
        sgd.apply([tg.IndexedSlices(tg.ones((2, 3)), [0, 7], [5, 3])], [v])
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"indices\[0\] = -1 is not in \[0, 5\)"):
        sgd.apply([tg.IndexedSlices(tg.ones((1, 3)), [-1], [5, 3])], [v])
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"segment_ids\[1\] = 7 is out of range \[0, 5\)"):
        adam.apply([tg.IndexedSlices(tg.ones((2, 3)), [0, 7], [5, 3])], [v])
    with pytest.raises(
        tg.errors.InvalidArgumentError, match=r"values of shape \[2,2\] and indices of shape \[2\].*\[5,3\]"
    ):
        adam.apply([tg.IndexedSlices(tg.ones((2, 2)), [0, 1], [5, 3])], [v])
    with pytest.raises(tg.errors.InvalidArgumentError, match="indices for variable .* have dtype float32"):
        adam.apply([tg.IndexedSlices(tg.ones((2, 3)), tg.constant([0.0, 1.0]), [5, 3])], [v])
    np.testing.assert_array_equal(np.asarray(v), np.ones((5, 3)))  # nothing was written
    adam.apply([tg.IndexedSlices(tg.ones((2, 3)), [0, -1], [5, 3])], [v])  # Adam densifies: -1 is dropped
    assert np.array_equal(np.asarray(v)[1:], np.ones((4, 3)))


def test_adam_visits_only_rows_with_state():
    # Keras's Adam decays m and v on every row, but a row whose m and v are zero stays as it is:
    # the step visits the rows touched so far (SparseRowState), with Keras's numbers.
    rng = np.random.default_rng(5)
    init = rng.standard_normal((500, 4)).astype(np.float32)
    steps = [
        ([3, 40, 3], rng.standard_normal((3, 4))),
        ([7], rng.standard_normal((1, 4))),
        ([40, 9], rng.standard_normal((2, 4))),
    ]
    opt = tg.keras.optimizers.Adam(learning_rate=0.01)
    v = tg.Variable(init.copy())
    visited = []
    for idx, vals in steps:
        opt.apply([tg.IndexedSlices(tg.constant(np.float32(vals)), idx, [500, 4])], [v])
        visited.append(opt._sparse_states[0].rows_visited)
    assert visited == [2, 3, 4]  # rows 3, 40; + 7; + 9
    assert opt._sparse_states[0].scans == 1  # the first step scans the slots, later ones do not
    ep, em, ev = _numpy_adam(init, steps)
    np.testing.assert_allclose(np.asarray(v), ep, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(opt.variables[2]), em, rtol=1e-5, atol=1e-7)
    # someone else writes a slot: the next step rescans (row 100 now has state)
    m = np.asarray(opt.variables[2]).copy()
    m[100] = 0.5
    opt.variables[2].assign(m)
    opt.apply([tg.IndexedSlices(tg.ones((1, 4)), [1], [500, 4])], [v])
    assert opt._sparse_states[0].rows_visited == 6 and opt._sparse_states[0].scans == 2
    before = np.asarray(v)[100].copy()
    opt.apply([tg.IndexedSlices(tg.ones((1, 4)), [1], [500, 4])], [v])
    assert not np.array_equal(np.asarray(v)[100], before)  # row 100 keeps moving, as in Keras
    # a dense step gives every row state
    opt.apply([tg.ones((500, 4))], [v])
    opt.apply([tg.IndexedSlices(tg.ones((1, 4)), [1], [500, 4])], [v])
    assert opt._sparse_states[0].rows_visited == 500


def test_check_gradients_through_gather():
    x = tg.constant(np.random.default_rng(6).standard_normal((5, 3)))
    tg.testing.check_gradients(lambda t: tg.gather(t, [4, 0, 4]) ** 3, [x], order=2)


def test_gather_axis_zero_spelled_negatively():
    # TF makes IndexedSlices when the axis is statically 0; axis=-rank gives a dense gradient
    x = tg.constant(np.ones((4, 2), np.float32))
    with tg.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y1 = tg.gather(x, [3, 1], axis=0, batch_dims=-1)  # batch_dims -1 + 1 = 0
        y2 = tg.gather(x, [3, 1], axis=-2)
    g = tape.gradient(y1, x)
    assert isinstance(g, tg.IndexedSlices) and g.indices.numpy().tolist() == [3, 1]
    assert isinstance(tape.gradient(y2, x), tg.Tensor)
