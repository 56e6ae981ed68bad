"""``tg.keras.ops``, ``tg.keras.random``, ``tg.keras.utils`` additions and ``tg.version`` without
Keras: values against numpy, gradients against finite differences, seeds, PyDataset in fit."""

import threading

import numpy as np
import pytest

import tapegrad as tg

ops = tg.keras.ops
R = np.random.default_rng(0)
A = R.standard_normal((3, 4))
POS = np.abs(A) + 0.5


@pytest.mark.parametrize(
    "name,args,ref",
    [
        ("add", (A, 2.0), lambda a, b: a + b),
        ("mean", (A,), np.mean),
        ("std", (A,), np.std),
        ("var", (A,), np.var),
        ("sort", (A,), np.sort),
        ("median", (A,), np.median),
        ("cumprod", (A,), np.cumprod),
        ("logsumexp", (A,), lambda a: np.log(np.exp(a).sum())),
        ("outer", (A[0], A[1]), np.outer),
        ("tril", (A,), np.tril),
        ("triu", (A, 1), np.triu),
        ("trace", (A,), np.trace),
        ("diff", (A,), np.diff),
        ("moveaxis", (A[None], 0, 2), np.moveaxis),
        ("rot90", (A,), np.rot90),
        ("kron", (A[:2, :2], A[1:, 2:]), np.kron),
        ("take_along_axis", (A, np.argsort(A, 0), 0), np.take_along_axis),
        ("hypot", (A, POS), np.hypot),
        ("quantile", (A, 0.3, 1), np.quantile),
        ("trapezoid", (A,), np.trapezoid),
        ("cbrt", (A,), np.cbrt),
        ("correlate", (A[0], A[1, :2], "full"), np.correlate),
        ("log10", (POS,), np.log10),
        ("sinc", (A,), np.sinc),
    ],
)
def test_ops_match_numpy(name, args, ref):
    got = getattr(ops, name)(*[tg.constant(a) if isinstance(a, np.ndarray) else a for a in args])
    np.testing.assert_allclose(got.numpy(), ref(*args), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "name,extra",
    [
        ("sort", {"axis": 0}),
        ("median", {"axis": 1}),
        ("std", {}),
        ("logaddexp", None),
        ("norm", {"ord": 3, "axis": 1}),
        ("softmax", {"axis": 0}),
        ("take_along_axis", None),
        ("diagonal", {}),
        ("cbrt", {}),
        ("trapezoid", {}),
        ("normalize", {}),
        ("hard_silu", {}),
        ("quantile", None),
        ("correlate", None),
    ],
)
def test_ops_gradients_finite_differences(name, extra):
    fn = getattr(ops, name)
    if name == "logaddexp":
        f = lambda x: fn(x, tg.constant(POS))  # noqa: E731
    elif name == "take_along_axis":
        f = lambda x: fn(x, np.argsort(A, 1)[:, :2], axis=1)  # noqa: E731
    elif name == "quantile":
        f = lambda x: fn(x, 0.37, axis=0)  # noqa: E731
    elif name == "correlate":
        f = lambda x: fn(x[0], x[1, :2], mode="same")  # noqa: E731
    else:
        f = lambda x: fn(x, **extra)  # noqa: E731
    tg.testing.check_gradients(f, [tg.constant(A + 0.01 * np.arange(12).reshape(3, 4))], order=1, rtol=1e-5, atol=1e-6)


def test_dtype_rules():
    assert ops.add(tg.constant([1, 2]), 1).dtype.name == "int32"
    assert ops.add(tg.constant([1, 2]), 1.5).dtype.name == "float32"
    assert ops.multiply(tg.constant(np.ones(2)), 2).dtype.name == "float64"
    assert ops.mean([1, 2]).dtype.name == "float32"
    assert ops.argmax([1.0, 3.0]).dtype.name == "int32"
    assert ops.convert_to_tensor(np.arange(3)).dtype.name == "int64"
    assert ops.shape(tg.zeros([2, 3])) == (2, 3)
    with pytest.raises(ValueError, match="both should be `None`"):
        ops.where([True], 1.0)


def test_core_control_flow():
    assert ops.fori_loop(0, 4, lambda i, v: v + i, 0) == 6
    out = ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2.0), (tg.constant(0), tg.constant(1.0)))
    assert float(out[1]) == 8.0
    carry, ys = ops.scan(lambda c, x: (c + x, c * x), tg.constant(0.0), tg.constant([1.0, 2.0, 3.0]))
    assert float(carry) == 6.0 and ys.numpy().tolist() == [0.0, 2.0, 9.0]
    np.testing.assert_array_equal(ops.map(lambda r: ops.sum(r), tg.constant(A)).numpy(), A.sum(1))
    np.testing.assert_array_equal(
        ops.slice_update(tg.zeros([3, 3]), (1, 1), tg.ones([2, 2])).numpy(), np.pad(np.ones((2, 2)), ((1, 0), (1, 0)))
    )

    @ops.custom_gradient
    def clipped(x):
        def grad(*args, upstream=None):
            return ops.clip(upstream, -0.5, 0.5)

        return x * 1.0, grad

    x = tg.constant([1.0, 2.0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(clipped(x) * 3.0)
    assert tape.gradient(y, x).numpy().tolist() == [0.5, 0.5]


# ---- keras.random -------------------------------------------------------------------------------


def test_random_int_seed_is_stateless_and_generator_advances():
    kr = tg.keras.random
    assert np.array_equal(kr.normal((3,), seed=5).numpy(), kr.normal((3,), seed=5).numpy())
    assert not np.array_equal(kr.normal((3,), seed=5).numpy(), kr.normal((3,), seed=6).numpy())
    g1, g2 = kr.SeedGenerator(11), kr.SeedGenerator(11)
    a = [kr.uniform((4,), seed=g1).numpy() for _ in range(2)]
    b = [kr.uniform((4,), seed=g2).numpy() for _ in range(2)]
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and not np.array_equal(a[0], a[1])
    assert g1.state.numpy().tolist() == [11, 2]
    with pytest.raises(ValueError, match="must be either an integer or an instance of `SeedGenerator`"):
        kr.normal((2,), seed="x")
    tg.keras.utils.set_random_seed(3)
    c = kr.normal((3,)).numpy()
    tg.keras.utils.set_random_seed(3)
    assert np.array_equal(c, kr.normal((3,)).numpy())


def test_random_distributions():
    kr = tg.keras.random
    n = kr.normal((20000,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert abs(n.mean() - 2.0) < 0.1 and abs(n.std() - 3.0) < 0.1 and n.dtype == np.float32
    u = kr.uniform((20000,), minval=-1, maxval=3, seed=1).numpy()
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    t = kr.truncated_normal((20000,), seed=1).numpy()
    assert np.abs(t).max() <= 2 and abs(t.std() - 0.88) < 0.02
    r = kr.randint((1000,), 2, 5, seed=1).numpy()
    assert r.dtype == np.int32 and set(r.tolist()) == {2, 3, 4}
    c = kr.categorical(tg.constant([[0.0, np.log(3.0)]]), 20000, seed=1).numpy()
    assert c.shape == (1, 20000) and abs(c.mean() - 0.75) < 0.02
    s = kr.shuffle(tg.constant(np.arange(10)), seed=2).numpy()
    assert sorted(s.tolist()) == list(range(10)) and s.tolist() != list(range(10))
    with pytest.raises(ValueError, match="floating point `dtype`"):
        kr.uniform((2,), dtype="int32")


def test_random_dropout_scales_and_differentiates():
    x = tg.constant(np.ones((200, 50), "float32"))
    with tg.GradientTape() as tape:
        tape.watch(x)
        y = tg.keras.random.dropout(x, 0.25, seed=4)
    yv = y.numpy()
    np.testing.assert_allclose(np.unique(yv), [0.0, 1 / 0.75], rtol=1e-6)
    assert abs((yv == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), yv)
    y2 = tg.keras.random.dropout(x, 0.5, noise_shape=(None, 1), seed=4).numpy()
    assert all(len(set(row.tolist())) == 1 for row in y2)


# ---- keras.utils, version -----------------------------------------------------------------------


def test_to_categorical_and_pad_sequences():
    assert tg.keras.utils.to_categorical([[1], [0]], 2).tolist() == [[0.0, 1.0], [1.0, 0.0]]
    with pytest.raises(IndexError, match="out of bounds"):
        tg.keras.utils.to_categorical([0, 3], 3)
    ps = tg.keras.utils.pad_sequences
    assert ps([[1, 2, 3], [4]], maxlen=2, truncating="post").tolist() == [[1, 2], [0, 4]]
    assert ps([[1.5], [2, 3]], dtype="float32", padding="post", value=-1).tolist() == [[1.5, -1.0], [2.0, 3.0]]
    with pytest.raises(ValueError, match='Padding type "mid" not understood'):
        ps([[1], [2]], padding="mid")


def test_pydataset_feeds_fit_with_workers():
    seen, threads = [], set()

    class Data(tg.keras.utils.PyDataset):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.epochs_done = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            seen.append(i)
            threads.add(threading.get_ident())
            x = np.random.default_rng(i).random((8, 3)).astype("float32")
            return x, x.sum(1, keepdims=True)

        def on_epoch_end(self):
            self.epochs_done += 1

    data = Data(workers=3, max_queue_size=4)
    model = tg.keras.Sequential([tg.keras.Input((3,)), tg.keras.layers.Dense(1)])
    model.compile(optimizer=tg.keras.optimizers.SGD(0.1), loss="mse")
    import random

    random.seed(0)
    hist = model.fit(data, epochs=3, verbose=0)
    assert len(hist.history["loss"]) == 3 and hist.history["loss"][-1] < hist.history["loss"][0]
    assert sorted(seen) == sorted(list(range(4)) * 3) and data.epochs_done == 3 and len(threads) > 1
    seen.clear()
    model.fit(Data(), epochs=3, verbose=0)  # one worker: `seen` is the order the batches were used
    assert seen != list(range(4)) * 3  # fit's default shuffle=True reorders the batches each epoch
    seen.clear()
    model.fit(Data(), epochs=2, verbose=0, shuffle=False)
    assert seen == list(range(4)) * 2
    # evaluate over a PyDataset: the mean of the batches' MSE with the trained weights, by hand
    kernel, bias = (w.numpy() for w in model.layers[0].weights)
    want = np.mean([np.mean((x @ kernel + bias - y) ** 2) for x, y in (Data()[i] for i in range(4))])
    assert model.evaluate(Data(), verbose=0) == pytest.approx(want, rel=1e-5)
    with pytest.raises(NotImplementedError, match="use_multiprocessing"):
        model.fit(Data(use_multiprocessing=True), verbose=0)


def test_get_file_cache_and_offline(tmp_path):
    cached = tmp_path / "datasets" / "here.txt"
    cached.parent.mkdir()
    cached.write_text("x")
    assert tg.keras.utils.get_file("here.txt", "http://127.0.0.1:9/here.txt", cache_dir=str(tmp_path)) == str(cached)
    with pytest.raises(Exception, match=r"URL fetch failure on http://127.0.0.1:9/missing.txt"):
        tg.keras.utils.get_file("missing.txt", "http://127.0.0.1:9/missing.txt", cache_dir=str(tmp_path))
    assert not (tmp_path / "datasets" / "missing.txt").exists()


def test_version():
    assert tg.__version__ == tg.version.VERSION == "2.21.0"
    assert tg.version.TAPEGRAD_VERSION == tg.__tapegrad_version__
    assert tg.keras.__version__ == tg.version.KERAS_VERSION


def _ops_model(lib):
    kops = lib.ops
    inp = lib.Input((4,))
    x = kops.expand_dims(inp, -1)
    x = lib.layers.Conv1D(2, 3)(x)
    x = kops.mean(x, axis=1)
    x = kops.softmax(kops.concatenate([x, kops.square(x)], axis=-1))
    a, b = kops.split(x, 2, axis=-1)
    return lib.Model(inp, lib.layers.Dense(1)(a * b))


def test_ops_on_keras_tensors_build_functional_models(tmp_path):
    m = _ops_model(tg.keras)
    assert [type(op).__name__ for op in m._operations][1:5] == ["ExpandDims", "Conv1D", "Mean", "Square"]
    assert ops.shape(m.inputs[0]) == (None, 4) and ops.dtype(m.inputs[0]) == "float32"
    d = np.random.default_rng(3).random((3, 4)).astype("float32")
    k, kb, w, wb = [v.numpy() for v in m.weights]
    conv = np.stack([d[:, i : i + 3] @ k[:, 0, :] for i in range(2)], axis=1) + kb
    x = conv.mean(1)
    z = np.concatenate([x, x**2], -1)
    z = np.exp(z - z.max(-1, keepdims=True))
    z /= z.sum(-1, keepdims=True)
    want = (z[:, :2] * z[:, 2:]) @ w + wb
    np.testing.assert_allclose(m.predict(d, verbose=0), want, rtol=1e-5)
    again = tg.keras.Model.from_config(m.get_config())
    again.set_weights(m.get_weights())
    np.testing.assert_allclose(again.predict(d, verbose=0), want, rtol=1e-5)
    m.save(str(tmp_path / "ops.keras"))
    np.testing.assert_allclose(
        tg.keras.models.load_model(str(tmp_path / "ops.keras")).predict(d, verbose=0), want, rtol=1e-5
    )
