"""Whole-model ``.keras`` files: round trips in tapegrad, and in both directions with Keras 3 when it
is installed (same predictions, optimizer state restored); bad archives raise and load nothing."""

import os
import zipfile

import numpy as np
import pytest

import tapegrad as tg

pytest.importorskip("h5py")
X = np.random.default_rng(0).random((5, 4)).astype("float32")


def _tg_model():
    m = tg.keras.Sequential(
        [tg.keras.Input((4,)), tg.keras.layers.Dense(3, activation="relu"), tg.keras.layers.Dense(2)]
    )
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    m.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)
    return m


def test_round_trip_tapegrad(tmp_path):
    m = _tg_model()
    path = str(tmp_path / "m.keras")
    m.save(path)
    assert set(zipfile.ZipFile(path).namelist()) == {"config.json", "metadata.json", "model.weights.h5"}
    m2 = tg.keras.models.load_model(path)
    np.testing.assert_array_equal(m2.predict(X, verbose=0), m.predict(X, verbose=0))
    assert int(m2.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy()) == 1
    for a, b in zip(m2.optimizer.variables, m.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.numpy()), np.asarray(b.numpy()))
    assert m2.loss == "mse"


def test_functional_and_custom_layer(tmp_path):
    @tg.keras.saving.register_keras_serializable(package="T")
    class Scale(tg.keras.layers.Layer):
        def __init__(self, k=2.0, **kwargs):
            super().__init__(**kwargs)
            self.k = k

        def call(self, x):
            return x * self.k

        def get_config(self):
            return {**super().get_config(), "k": self.k}

    inp = tg.keras.Input((4,))
    out = tg.keras.layers.Dense(2)(Scale(3.0)(inp))
    m = tg.keras.Model(inp, out)
    path = str(tmp_path / "f.keras")
    m.save(path)
    m2 = tg.keras.saving.load_model(path)
    np.testing.assert_allclose(m2.predict(X, verbose=0), m.predict(X, verbose=0), rtol=1e-6)

    class Unregistered(Scale):
        pass

    m3 = tg.keras.Sequential([tg.keras.Input((4,)), Unregistered(2.0)])
    m3.save(str(tmp_path / "u.keras"))
    with pytest.raises(TypeError, match="Unregistered"):
        tg.keras.models.load_model(str(tmp_path / "u.keras"))
    m4 = tg.keras.models.load_model(str(tmp_path / "u.keras"), custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(m4.predict(X, verbose=0), 2 * X)


def test_unknown_layer_names_it_and_lists_supported(tmp_path):
    m = _tg_model()
    path = str(tmp_path / "m.keras")
    m.save(path)
    bad = str(tmp_path / "bad.keras")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(bad, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == "config.json":
                data = data.replace(b'"class_name": "Dense"', b'"class_name": "FancyLayer"', 1)
            zout.writestr(name, data)
    with pytest.raises(TypeError, match=r"FancyLayer.*Supported classes: .*Dense"):
        tg.keras.models.load_model(bad)


def test_truncated_and_foreign_zip(tmp_path):
    m = _tg_model()
    path = str(tmp_path / "m.keras")
    m.save(path)
    data = (tmp_path / "m.keras").read_bytes()
    trunc = tmp_path / "t.keras"
    trunc.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="not a zip"):
        tg.keras.models.load_model(str(trunc))
    foreign = str(tmp_path / "foreign.keras")
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match="lacks"):
        tg.keras.models.load_model(foreign)
    with pytest.raises(ValueError, match="Invalid filepath extension"):
        m.save(str(tmp_path / "m.zip"))
    with pytest.raises(NotImplementedError, match="legacy HDF5"):
        m.save(str(tmp_path / "m.h5"))
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="Could not read the legacy HDF5"):
        tg.keras.models.load_model(str(tmp_path / "junk.h5"))


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    return pytest.importorskip("keras")


def test_tapegrad_file_loads_in_keras(tmp_path, keras):
    m = _tg_model()
    path = str(tmp_path / "m.keras")
    m.save(path)
    km = keras.models.load_model(path)
    np.testing.assert_allclose(km.predict(X, verbose=0), m.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert int(km.optimizer.iterations.numpy()) == 1


def test_keras_file_loads_in_tapegrad(tmp_path, keras):
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(2)])
    km.compile(optimizer="adam", loss="mse")
    km.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)
    path = str(tmp_path / "k.keras")
    km.save(path)
    m = tg.keras.models.load_model(path)
    np.testing.assert_allclose(m.predict(X, verbose=0), km.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert int(m.optimizer.iterations.numpy()) == 1
    # the optimizer state came along: one more identical step gives the same weights
    y = np.random.default_rng(1).random((8, 2)).astype("float32")
    m.fit(X[:4].repeat(2, 0), y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    km.fit(X[:4].repeat(2, 0), y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(m.predict(X, verbose=0), km.predict(X, verbose=0), rtol=1e-5, atol=1e-6)

    inp = keras.Input((4,))
    out = keras.layers.Dense(2, activation="softmax")(keras.layers.Dense(5)(inp))
    kf = keras.Model(inp, out)
    kf.save(str(tmp_path / "kf.keras"))
    f = tg.keras.models.load_model(str(tmp_path / "kf.keras"))
    np.testing.assert_allclose(f.predict(X, verbose=0), kf.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_legacy_h5_from_keras(tmp_path, keras):
    km = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dense(2),
        ]
    )
    km.compile(optimizer="adam", loss="mse")
    km.fit(np.ones((8, 4), "float32"), np.ones((8, 2), "float32"), verbose=0)
    km.save(str(tmp_path / "k.h5"))
    m = tg.keras.models.load_model(str(tmp_path / "k.h5"))
    np.testing.assert_allclose(m.predict(X, verbose=0), km.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    assert int(m.optimizer.iterations.numpy()) == 1
    from tapegrad.keras.saving import optimizer_variables

    ours = optimizer_variables(m.optimizer)
    assert len(ours) == len(km.optimizer.variables) == 14
    for a, b in zip(ours, km.optimizer.variables):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), rtol=1e-6)

    inp = keras.Input((4,))
    kf = keras.Model(inp, keras.layers.Dense(2)(keras.layers.Dense(3, activation="tanh")(inp)))
    kf.save(str(tmp_path / "kf.h5"))
    f = tg.keras.models.load_model(str(tmp_path / "kf.h5"), compile=False)
    np.testing.assert_allclose(f.predict(X, verbose=0), kf.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_legacy_h5_keras2_spelling(tmp_path):
    h5py = pytest.importorskip("h5py")
    import json

    config = {
        "class_name": "Sequential",
        "config": {
            "name": "seq",
            "layers": [
                {
                    "class_name": "Dense",
                    "config": {
                        "name": "d",
                        "units": 2,
                        "batch_input_shape": [None, 3],
                        "activation": "linear",
                        "use_bias": True,
                    },
                }
            ],
        },
    }
    kernel, bias = np.arange(6, dtype="float32").reshape(3, 2), np.array([1.0, -1.0], "float32")
    with h5py.File(tmp_path / "k2.h5", "w") as f:
        f.attrs["model_config"] = json.dumps(config)
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = [b"d"]
        d = g.create_group("d")
        d.attrs["weight_names"] = [b"d/kernel:0", b"d/bias:0"]
        d["d/kernel:0"] = kernel
        d["d/bias:0"] = bias
    m = tg.keras.models.load_model(str(tmp_path / "k2.h5"))
    np.testing.assert_allclose(m.predict(X[:, :3], verbose=0), X[:, :3] @ kernel + bias, rtol=1e-6)


def _noise_layer(lib, package):
    class Noise(lib.layers.Layer):
        def __init__(self, scale=0.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale
            self.seed_generator = lib.random.SeedGenerator(1337)

        def call(self, x):
            return x + self.scale * lib.random.normal(lib.ops.shape(x), seed=self.seed_generator)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    return lib.saving.register_keras_serializable(package=package)(Noise)


def test_registered_custom_layer_both_directions(tmp_path, keras):
    _noise_layer(keras, "KopsTest")
    noise = _noise_layer(tg.keras, "KopsTest")
    km = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2), keras.saving.get_registered_object("KopsTest>Noise")(0.0)]
    )
    km.save(str(tmp_path / "k.keras"))
    m = tg.keras.models.load_model(str(tmp_path / "k.keras"))
    assert isinstance(m.layers[-1], noise)
    np.testing.assert_allclose(m.predict(X, verbose=0), km.predict(X, verbose=0), rtol=1e-6)
    m.save(str(tmp_path / "t.keras"))
    import json

    entry = json.loads(zipfile.ZipFile(str(tmp_path / "t.keras")).read("config.json"))["config"]["layers"][-1]
    assert entry["registered_name"] == "KopsTest>Noise"
    back = keras.models.load_model(str(tmp_path / "t.keras"))
    np.testing.assert_allclose(back.predict(X, verbose=0), km.predict(X, verbose=0), rtol=1e-6)


def _cnn(lib):
    L = lib.layers
    inp = lib.Input((8, 8, 2))
    x = L.Conv2D(4, 3, padding="same", activation="relu")(inp)
    x = L.BatchNormalization()(x)
    x = L.MaxPooling2D()(x)
    x = L.Dropout(0.2)(x)
    y = L.Flatten()(L.SeparableConv2D(3, 3)(x))
    e = lib.Input((5,), dtype="int32")
    t = L.GlobalAveragePooling1D()(L.Embedding(10, 3)(e))
    z = L.LayerNormalization()(L.Concatenate()([y, t]))
    head = lib.Sequential([lib.Input((z.shape[-1],)), L.Dense(4, activation="tanh")], name="head")
    out = L.Dense(3, activation="softmax", kernel_regularizer=lib.regularizers.l2(0.01))(head(z))
    m = lib.Model([inp, e], out)
    m.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def test_multi_input_cnn_with_nested_model_both_directions(tmp_path, keras):
    from tapegrad.keras.saving import optimizer_variables

    rng = np.random.default_rng(0)
    data = [rng.random((16, 8, 8, 2)).astype("float32"), rng.integers(0, 10, (16, 5)).astype("int32")]
    labels = rng.integers(0, 3, (16,))
    km = _cnn(keras)
    km.fit(data, labels, epochs=1, batch_size=16, verbose=0)
    km.save(str(tmp_path / "k.keras"))
    m = tg.keras.models.load_model(str(tmp_path / "k.keras"))
    np.testing.assert_allclose(m.predict(data, verbose=0), km.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
    ours, theirs = optimizer_variables(m.optimizer), km.optimizer.variables
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), rtol=1e-6)

    tm = _cnn(tg.keras)
    tm.fit(data, labels, epochs=1, batch_size=16, verbose=0)
    tm.save(str(tmp_path / "t.keras"))
    back = keras.models.load_model(str(tmp_path / "t.keras"))
    np.testing.assert_allclose(back.predict(data, verbose=0), tm.predict(data, verbose=0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(back.evaluate(data, labels, verbose=0), tm.evaluate(data, labels, verbose=0), rtol=1e-5)


def test_model_checkpoint_saves_whole_models(tmp_path):
    m = _tg_model()
    path = str(tmp_path / "ckpt-{epoch:02d}.keras")
    x, y = np.random.default_rng(2).random((16, 4)).astype("float32"), np.ones((16, 2), "float32")
    m.fit(x, y, epochs=2, verbose=0, callbacks=[tg.keras.callbacks.ModelCheckpoint(path, monitor="loss")])
    again = tg.keras.models.load_model(str(tmp_path / "ckpt-02.keras"))
    np.testing.assert_array_equal(again.predict(X, verbose=0), m.predict(X, verbose=0))
    assert int(again.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy())
