"""compile/fit/evaluate/predict, callbacks and the progress bar, against Keras 3 on TF where it is
installed (same initial weights, shuffle=False) and against closed forms otherwise."""

import contextlib
import csv
import io
import os
import re

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras.layers import Layer
from tapegrad.keras.trainers.trainer import Trainer


class _MLP(Trainer, Layer):
    """units[0] -> units[1] -> ... dense layers, ReLU between them; `last` activation at the end."""

    def __init__(self, units, last=None, seed=0, l2=None):
        super().__init__()
        rng = np.random.RandomState(seed)
        self.ws = []
        for i, (a, b) in enumerate(zip(units[:-1], units[1:])):
            k = self.add_weight(shape=(a, b), name=f"kernel{i}", regularizer=l2)
            k.assign(rng.uniform(-0.5, 0.5, (a, b)).astype("float32"))
            bias = self.add_weight(shape=(b,), initializer="zeros", name=f"bias{i}")
            self.ws.append((k, bias))
        self.last = last

    def call(self, x):
        for i, (k, b) in enumerate(self.ws):
            x = tg.matmul(x, k) + b
            if i < len(self.ws) - 1:
                x = tg.nn.relu(x)
        if self.last == "softmax":
            x = tg.nn.softmax(x)
        return x


def _data(n=40, d=4, classes=3, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d).astype("float32")
    y = rng.randint(0, classes, size=(n,)).astype("int32")
    yr = rng.randn(n, 2).astype("float32")
    return x, y, yr


# ---- without TF ----------------------------------------------------------------------------------


def test_fit_linear_closed_form():
    # one weight, mse, SGD on full batches: w_{t+1} = w_t - lr * 2 * mean(x^2) (w_t - 2)
    m = _MLP([1, 1])
    m.ws[0][0].assign([[0.0]])
    m.compile(optimizer=tg.keras.optimizers.SGD(0.1), loss="mse")
    x = np.linspace(-1, 1, 10).astype("float32")[:, None]
    h = m.fit(x, 2 * x, batch_size=10, epochs=3, verbose=0, shuffle=False)
    w, expect = 0.0, []
    mx2 = float(np.mean(x**2))
    for _ in range(3):
        expect.append(mx2 * (w - 2) ** 2)
        w -= 0.1 * 2 * mx2 * (w - 2)
    np.testing.assert_allclose(h.history["loss"], expect, rtol=1e-5)
    assert h.epoch == [0, 1, 2] and h.params == {"verbose": 0, "epochs": 3, "steps": 1}
    assert m.history is h


def test_epoch_loss_is_sample_weighted_mean_of_batch_losses():
    m = _MLP([4, 2])
    m.compile(optimizer=tg.keras.optimizers.SGD(0.0), loss="mse")
    x, _, yr = _data(n=10)
    h = m.fit(x, yr, batch_size=4, epochs=1, verbose=0, shuffle=False)
    pred = m.predict(x, verbose=0)
    per_sample = np.mean((pred - yr) ** 2, axis=-1)
    batches = [per_sample[0:4].mean(), per_sample[4:8].mean(), per_sample[8:10].mean()]
    want = (4 * batches[0] + 4 * batches[1] + 2 * batches[2]) / 10
    np.testing.assert_allclose(h.history["loss"][0], want, rtol=1e-5)
    np.testing.assert_allclose(m.evaluate(x, yr, verbose=0), want, rtol=1e-5)


def test_regularization_and_add_loss_are_in_the_loss():
    m = _MLP([4, 2], l2=tg.keras.regularizers.L2(0.5))
    m.compile(optimizer="sgd", loss="mse")
    x, _, yr = _data(n=8)
    pred = m.predict(x, verbose=0)
    k = m.ws[0][0].numpy()
    want = np.mean((pred - yr) ** 2) + 0.5 * np.sum(k**2)
    np.testing.assert_allclose(m.evaluate(x, yr, batch_size=8, verbose=0), want, rtol=1e-5)


def test_custom_train_step_pattern():
    class Custom(_MLP):
        def train_step(self, data):
            x, y = data
            with tg.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    m = Custom([4, 2])
    m.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, _, yr = _data(n=16)
    h = m.fit(x, yr, batch_size=8, epochs=2, verbose=0)
    assert set(h.history) == {"loss", "mae"}
    assert len(h.history["loss"]) == 2


def test_custom_step_logs_used_as_is_when_keys_differ():
    class Custom(_MLP):
        def train_step(self, data):
            return {"my_value": tg.constant(3.0)}

    m = Custom([4, 2])
    m.compile(optimizer="sgd", loss="mse")
    x, _, yr = _data(n=16)
    h = m.fit(x, yr, batch_size=8, epochs=2, verbose=0)
    assert h.history == {"my_value": [3.0, 3.0]}


class _Batches:
    """A re-iterable of batches, as a tf.data.Dataset is."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_datasets_generators_and_validation_arguments():
    x, _, yr = _data(n=12)
    batches = _Batches([(x[i : i + 4], yr[i : i + 4]) for i in range(0, 12, 4)])
    m1, m2 = _MLP([4, 2]), _MLP([4, 2])
    for m in (m1, m2):
        m.compile(optimizer=tg.keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    h1 = m1.fit(x, yr, batch_size=4, epochs=2, verbose=0, shuffle=False, validation_data=(x, yr))
    h2 = m2.fit(batches, epochs=2, verbose=0, validation_data=batches)
    for k in ("loss", "mae", "val_loss", "val_mae"):
        np.testing.assert_allclose(h1.history[k], h2.history[k], rtol=1e-6)

    def gen():
        while True:
            yield from batches

    m3 = _MLP([4, 2])
    m3.compile(optimizer=tg.keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    h3 = m3.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    np.testing.assert_allclose(h1.history["loss"], h3.history["loss"], rtol=1e-6)
    m4 = _MLP([4, 2])
    m4.compile(optimizer="sgd", loss="mse")
    h4 = m4.fit(x, yr, epochs=4, verbose=0, validation_split=0.25, validation_freq=2)
    assert [len(h4.history[k]) for k in ("loss", "val_loss")] == [4, 2]
    h5 = m4.fit(x, yr, epochs=5, initial_epoch=3, verbose=0, validation_freq=[5], validation_split=0.5)
    assert h5.epoch == [3, 4] and len(h5.history["val_loss"]) == 1


def test_sample_weight_and_class_weight():
    x, y, _ = _data(n=12)
    m = _MLP([4, 3], last="softmax")
    m.compile(optimizer=tg.keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    p = m.predict(x, verbose=0)
    nll = -np.log(p[np.arange(12), y])
    cw = {0: 2.0, 2: 0.5}
    w = np.array([cw.get(int(c), 1.0) for c in y], "float32")
    h = m.fit(x, y, batch_size=12, class_weight=cw, verbose=0)
    np.testing.assert_allclose(h.history["loss"][0], np.mean(nll * w), rtol=1e-5)
    h = m.fit(x, y, batch_size=12, sample_weight=w, verbose=0)
    np.testing.assert_allclose(h.history["loss"][0], np.mean(nll * w), rtol=1e-5)
    with pytest.raises(ValueError, match="You cannot `class_weight` and `sample_weight` at the same time."):
        m.fit(x, y, class_weight=cw, sample_weight=w, verbose=0)


def test_shuffle_modes_see_every_sample_once():
    seen = []

    class Spy(_MLP):
        def train_step(self, data):
            seen.append(data[0].numpy()[:, 0].copy())
            return {}

    x = np.arange(10, dtype="float32")[:, None].repeat(4, axis=1)
    m = Spy([4, 2])
    m.compile(optimizer="sgd", loss="mse")
    for shuffle in (True, "batch", False):
        seen.clear()
        m.fit(x, x[:, :2], batch_size=4, epochs=1, shuffle=shuffle, verbose=0)
        assert sorted(np.concatenate(seen).tolist()) == list(range(10))
        if shuffle == "batch" or shuffle is False:
            assert [sorted(b.tolist()) for b in seen] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_train_test_predict_on_batch():
    x, _, yr = _data(n=8)
    m = _MLP([4, 2])
    m.compile(optimizer=tg.keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    pred = m.predict_on_batch(x)
    loss, mae = m.test_on_batch(x, yr)
    np.testing.assert_allclose(loss, np.mean((pred - yr) ** 2), rtol=1e-5)
    np.testing.assert_allclose(mae, np.mean(np.abs(pred - yr)), rtol=1e-5)
    # metrics reset on every call
    assert m.test_on_batch(x[:4], yr[:4], return_dict=True)["loss"] == pytest.approx(
        np.mean((pred[:4] - yr[:4]) ** 2), rel=1e-5
    )
    out = m.train_on_batch(x, yr, return_dict=True)
    assert set(out) == {"loss", "mae"} and out["loss"] == pytest.approx(loss, rel=1e-5)
    assert m.metrics_names == ["loss", "compile_metrics"]


def test_errors():
    x, _, yr = _data(n=8)
    m = _MLP([4, 2])
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before using the model.")):
        m.fit(x, yr, verbose=0)
    with pytest.raises(ValueError, match=re.escape("You must call `compile()` before using the model.")):
        m.evaluate(x, yr, verbose=0)
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: foo"):
        m.compile(optimizer="foo", loss="mse")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: foo"):
        m.compile(optimizer="adam", loss="foo")
    with pytest.raises(ValueError, match="Could not interpret metric identifier: foo"):
        m.compile(optimizer="adam", loss="mse", metrics=["foo"])
    with pytest.raises(ValueError, match="Expected metric, received `None`"):
        m.compile(optimizer="adam", loss="mse", metrics=[None])
    m.compile(optimizer="adam", loss="mse")
    with pytest.raises(
        ValueError,
        match=re.escape(
            "Data cardinality is ambiguous. Make sure all arrays contain "
            "the same number of samples.'x' sizes: 8\n'y' sizes: 7\n"
        ),
    ):
        m.fit(x, yr[:7], verbose=0)
    with pytest.raises(ValueError, match="Arguments not recognized"):
        m.evaluate(x, yr, verbose=0, foo=1)
    with pytest.raises(ValueError, match="Expected `validation_freq` to be a list or int"):
        m.fit(x, yr, validation_freq="x", verbose=0)
    with pytest.raises(ValueError, match="not sufficient to split"):
        m.fit(x, yr, validation_split=0.99, verbose=0)
    with pytest.raises(ValueError, match="only supported for tensors or NumPy arrays"):
        m.fit(_Batches([(x, yr)]), validation_split=0.5, verbose=0)
    with pytest.raises(NotImplementedError, match="TensorBoard"):
        tg.keras.callbacks.TensorBoard(histogram_freq=1)
    with pytest.raises(ValueError, match="must end in `.weights.h5`"):
        tg.keras.callbacks.ModelCheckpoint("x.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="does not support a factor >= 1.0"):
        tg.keras.callbacks.ReduceLROnPlateau(factor=2.0)


def test_callbacks_effects(tmp_path):
    x, _, yr = _data(n=16)
    m = _MLP([4, 2])
    m.compile(optimizer=tg.keras.optimizers.SGD(0.1), loss="mse")
    lrs = []
    sched = tg.keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    rec = tg.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: lrs.append(float(np.asarray(m.optimizer.learning_rate)))
    )
    path = tmp_path / "log.csv"
    h = m.fit(x, yr, batch_size=8, epochs=3, verbose=0, callbacks=[sched, rec, tg.keras.callbacks.CSVLogger(path)])
    np.testing.assert_allclose(lrs, [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    np.testing.assert_allclose(h.history["learning_rate"], lrs, rtol=1e-6)
    with open(path) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "learning_rate", "loss", "val_learning_rate", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    np.testing.assert_allclose([float(r[2]) for r in rows[1:]], h.history["loss"], rtol=1e-6)
    assert all(r[3] == "NA" for r in rows[1:])

    # ReduceLROnPlateau: monitor a value that never improves
    m.compile(optimizer=tg.keras.optimizers.SGD(1.0), loss="mse")
    plateau = tg.keras.callbacks.ReduceLROnPlateau(monitor="const", mode="min", factor=0.5, patience=1, min_lr=0.2)
    const = tg.keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(const=1.0))
    h = m.fit(x, yr, epochs=5, verbose=0, callbacks=[const, plateau])
    assert h.history["learning_rate"] == pytest.approx([1.0, 1.0, 0.5, 0.25, 0.2])

    # EarlyStopping on a monitored value with a known sequence; restore_best_weights
    values = iter([3.0, 1.0, 2.0, 2.5, 0.5, 0.1])
    snapshots = []
    feed = tg.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda e, logs: (logs.update(watch=next(values)), snapshots.append(m.get_weights()))
    )
    stop = tg.keras.callbacks.EarlyStopping(monitor="watch", mode="min", patience=2, restore_best_weights=True)
    m.compile(optimizer=tg.keras.optimizers.SGD(0.01), loss="mse")
    h = m.fit(x, yr, epochs=6, verbose=0, callbacks=[feed, stop])
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for a, b in zip(m.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)

    # TerminateOnNaN
    nan_cb = tg.keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: logs.update(loss=float("nan")))
    with contextlib.redirect_stdout(io.StringIO()):
        h = m.fit(x, yr, batch_size=4, epochs=3, verbose=0, callbacks=[nan_cb, tg.keras.callbacks.TerminateOnNaN()])
    assert h.epoch == [0]


def test_model_checkpoint_paths_and_best_only(tmp_path):
    saved = []

    class Saving(_MLP):
        def save_weights(self, filepath, overwrite=True):
            saved.append(os.path.basename(filepath))
            open(filepath, "w").close()

    x, _, yr = _data(n=16)
    m = Saving([4, 2])
    m.compile(optimizer=tg.keras.optimizers.SGD(0.05), loss="mse")
    pattern = str(tmp_path / "sub" / "w.{epoch:02d}-{val_loss:.2f}.weights.h5")
    cb = tg.keras.callbacks.ModelCheckpoint(pattern, save_weights_only=True)
    h = m.fit(x, yr, epochs=3, verbose=0, validation_data=(x, yr), callbacks=[cb])
    assert saved == [f"w.{e + 1:02d}-{v:.2f}.weights.h5" for e, v in enumerate(h.history["val_loss"])]
    assert sorted(os.listdir(tmp_path / "sub")) == sorted(saved)
    saved.clear()
    values = iter([2.0, 1.0, 1.5, 0.5])
    feed = tg.keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: logs.update(watch=next(values)))
    best = tg.keras.callbacks.ModelCheckpoint(
        str(tmp_path / "b{epoch}.weights.h5"), monitor="watch", mode="min", save_best_only=True, save_weights_only=True
    )
    m.fit(x, yr, epochs=4, verbose=0, callbacks=[feed, best])
    assert saved == ["b1.weights.h5", "b2.weights.h5", "b4.weights.h5"]
    full = tg.keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"))
    if not hasattr(m, "save"):
        with pytest.raises(NotImplementedError, match="save_weights_only=True"):
            m.fit(x, yr, epochs=1, verbose=0, callbacks=[full])
    per_batch = tg.keras.callbacks.ModelCheckpoint(
        str(tmp_path / "e{epoch}b{batch}.weights.h5"), save_weights_only=True, save_freq=2
    )
    saved.clear()
    m.fit(x, yr, batch_size=4, epochs=1, verbose=0, callbacks=[per_batch])
    assert saved == ["e1b2.weights.h5", "e1b4.weights.h5"]


_BAR = r"\x1b\[1m {0,2}\d+/\d+\x1b\[0m (\x1b\[32m━+\x1b\[0m)?\x1b\[37m━*\x1b\[0m \x1b\[1m\d+s\x1b\[0m \d+[mu]?s/step"


def _backup_model():
    m = tg.keras.Sequential(
        [tg.keras.Input((4,)), tg.keras.layers.Dense(3, activation="relu"), tg.keras.layers.Dense(1)]
    )
    m.set_weights([np.random.default_rng(1).normal(0, 0.5, w.shape).astype("float32") for w in m.get_weights()])
    m.compile(optimizer=tg.keras.optimizers.Adam(0.05), loss="mse")
    return m


def test_backup_and_restore_resumes_weights_optimizer_and_epoch(tmp_path):
    # regression: BackupAndRestore raised NotImplementedError; Keras restores weights, the optimizer's
    # slots (building it first) and the epoch, so a resumed run continues the uninterrupted one exactly
    x, y = _data(30, 4, seed=3)[0], np.random.default_rng(4).random((30, 1)).astype("float32")
    full = _backup_model().fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0).history["loss"]

    class Interrupt(tg.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise RuntimeError("interrupt")

    backup = str(tmp_path / "backup")
    cb = tg.keras.callbacks.BackupAndRestore(backup)
    with pytest.raises(RuntimeError, match="interrupt"):
        _backup_model().fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0, callbacks=[cb, Interrupt()])
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "training_metadata.json"]
    with open(os.path.join(backup, "training_metadata.json")) as f:
        assert f.read() == '{"epoch": 2, "batch": 0}'
    resumed = _backup_model()
    h = resumed.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0, callbacks=[cb])
    assert h.epoch == [2, 3]
    np.testing.assert_allclose(h.history["loss"], full[2:], rtol=1e-5)
    assert int(resumed.optimizer.iterations.numpy()) == 16
    assert not os.path.exists(backup)  # delete_checkpoint
    # per-batch backups, kept previous copies
    cb = tg.keras.callbacks.BackupAndRestore(backup, save_freq=2, double_checkpoint=True, delete_checkpoint=False)
    _backup_model().fit(x, y, epochs=1, batch_size=8, shuffle=False, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(backup)) == [
        "latest.weights.h5",
        "latest.weights.h5.bkp",
        "training_metadata.json",
        "training_metadata.json.bkp",
    ]
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        tg.keras.callbacks.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`"):
        tg.keras.callbacks.BackupAndRestore(backup, save_freq="batch")


def test_progress_bar_formats():
    x, _, yr = _data(n=16)
    m = _MLP([4, 2])
    m.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m.fit(x, yr, batch_size=4, epochs=2, verbose=1)
    text = out.getvalue()
    assert text.startswith("Epoch 1/2\n") and "\nEpoch 2/2\n" in text
    final = [
        mt.group(0)
        for mt in re.finditer(
            "\r" + _BAR.replace(r" {0,2}\d+/\d+", "4/4") + r" - loss: \d+\.\d{4} - mae: \d+\.\d{4} *\n", text
        )
    ]
    assert len(final) == 2, repr(text)
    for line in final:
        assert "\x1b[32m" + "━" * 20 + "\x1b[0m\x1b[37m\x1b[0m" in line
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m.fit(x, yr, batch_size=4, epochs=2, verbose=2, validation_data=(x, yr))
    lines = out.getvalue().split("\n")
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and lines[4] == ""
    assert re.fullmatch(
        r"4/4 - \d+s - \d+[mu]?s/step - loss: \d\.\d{4} - mae: \d\.\d{4} - val_loss: \d\.\d{4} "
        r"- val_mae: \d\.\d{4}",
        lines[1],
    ), lines[1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m.evaluate(x, yr, batch_size=4, verbose=1)
        m.predict(x, batch_size=16, verbose=1)
        m.fit(x, yr, epochs=1, verbose=0)
    parts = out.getvalue().split("\n")
    assert "loss:" in parts[0] and "mae:" in parts[0] and "1/1" in parts[1] and parts[2] == ""


def test_progbar_small_values_and_eta():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bar = tg.keras.utils.Progbar(100, interval=0)
        bar.update(10, [("a", 1e-5), ("b", -0.5)])
    s = out.getvalue()
    assert " - a: 1.0000e-05 - b: -0.5000" in s and "\x1b[32m━━\x1b[0m\x1b[37m" + "━" * 18 in s
    assert re.search(r"\x1b\[1m\d+s\x1b\[0m \d+[mu]?s/step", s)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        tg.keras.utils.Progbar(None, interval=0).update(7)
    assert "      7/Unknown" in out.getvalue()


# ---- against Keras 3 on TF ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _keras_mlp(keras, ours, units, last=None):
    layers = [keras.Input((units[0],))]
    for i, b in enumerate(units[1:]):
        act = "relu" if i < len(units) - 2 else last
        layers.append(keras.layers.Dense(b, activation=act))
    km = keras.Sequential(layers)
    km.set_weights(ours.get_weights())
    return km


@pytest.mark.parametrize("case", ["sgd_mse", "adam_sparse_acc"])
def test_fit_matches_keras(keras, case):
    x, y, yr = _data(n=50)
    units, last, target = ([4, 8, 2], None, yr) if case == "sgd_mse" else ([4, 8, 3], "softmax", y)

    def args(lib):
        if case == "sgd_mse":
            return dict(optimizer=lib.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
        return dict(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    ours = _MLP(units, last=last)
    km = _keras_mlp(keras, ours, units, last)
    ours.compile(**args(tg.keras))
    km.compile(**args(keras))
    kw = dict(batch_size=8, epochs=4, shuffle=False, verbose=0, validation_split=0.2)
    h1 = ours.fit(x, target, **kw)
    h2 = km.fit(x, target, **kw)
    assert list(h1.history) == list(h2.history)
    for k in h2.history:
        np.testing.assert_allclose(h1.history[k], h2.history[k], rtol=1e-5, atol=1e-6, err_msg=k)
    for a, b in zip(ours.get_weights(), km.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, target, verbose=0), km.evaluate(x, target, verbose=0), rtol=1e-5)
    assert (
        ours.evaluate(x, target, verbose=0, return_dict=True).keys()
        == km.evaluate(x, target, verbose=0, return_dict=True).keys()
    )
    np.testing.assert_allclose(
        ours.predict(x, batch_size=16, verbose=0), km.predict(x, batch_size=16, verbose=0), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(ours.train_on_batch(x[:8], target[:8]), km.train_on_batch(x[:8], target[:8]), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x[:8], target[:8]), km.test_on_batch(x[:8], target[:8]), rtol=1e-5)


def _hook_recorder(lib, events):
    names = [
        "on_train_begin",
        "on_train_end",
        "on_epoch_begin",
        "on_epoch_end",
        "on_train_batch_begin",
        "on_train_batch_end",
        "on_test_begin",
        "on_test_end",
        "on_test_batch_begin",
        "on_test_batch_end",
        "on_predict_begin",
        "on_predict_end",
        "on_predict_batch_begin",
        "on_predict_batch_end",
        "on_batch_begin",
        "on_batch_end",
    ]

    def hook(name):
        def f(*args, **kwargs):
            args = args + tuple(kwargs.values())
            logs = args[-1] if args and isinstance(args[-1], dict) else None
            index = args[0] if args and isinstance(args[0], int) else None
            keys = sorted(k for k in logs if k != "outputs") if logs else []
            events.append((name, index, keys))

        return f

    return lib.callbacks.LambdaCallback(**{n: hook(n) for n in names})


def test_hook_order_and_logs_match_keras(keras):
    x, _, yr = _data(n=12)
    ours = _MLP([4, 2])
    km = _keras_mlp(keras, ours, [4, 2])
    got, want = [], []
    for lib, model, events in ((tg.keras, ours, got), (keras, km, want)):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        cb = _hook_recorder(lib, events)
        model.fit(x, yr, batch_size=4, epochs=2, validation_split=0.34, verbose=0, callbacks=[cb], shuffle=False)
        model.evaluate(x, yr, batch_size=8, verbose=0, callbacks=[cb])
        model.predict(x, batch_size=8, verbose=0, callbacks=[cb])
    assert got == want


def test_callback_effects_match_keras(keras, tmp_path):
    x, _, yr = _data(n=24)
    results = []
    for lib in (tg.keras, keras):
        ours = _MLP([4, 8, 2])
        model = ours if lib is tg.keras else _keras_mlp(keras, ours, [4, 8, 2])
        model.compile(optimizer=lib.optimizers.SGD(0.2), loss="mse")
        cbs = [
            lib.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=0.05),
            lib.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.9),
            lib.callbacks.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.01, restore_best_weights=True),
            lib.callbacks.CSVLogger(tmp_path / f"{lib.__name__}.csv"),
        ]
        h = model.fit(
            x, yr, batch_size=6, epochs=8, shuffle=False, verbose=0, validation_data=(x[:12], yr[:12]), callbacks=cbs
        )
        with open(tmp_path / f"{lib.__name__}.csv") as f:
            results.append((h.history, model.get_weights(), f.read()))
    (h1, w1, c1), (h2, w2, c2) = results
    assert list(h1) == list(h2) and len(h1["loss"]) == len(h2["loss"])
    for k in h2:
        np.testing.assert_allclose(h1[k], h2[k], rtol=1e-5, err_msg=k)
    for a, b in zip(w1, w2):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    r1, r2 = list(csv.reader(io.StringIO(c1))), list(csv.reader(io.StringIO(c2)))
    assert r1[0] == r2[0] and len(r1) == len(r2)
    np.testing.assert_allclose(np.array(r1[1:], float), np.array(r2[1:], float), rtol=1e-5)


def test_progress_bar_matches_keras_text(keras):
    x, _, yr = _data(n=16)
    texts = []
    for lib in (tg.keras, keras):
        ours = _MLP([4, 2])
        model = ours if lib is tg.keras else _keras_mlp(keras, ours, [4, 2])
        model.compile(optimizer="sgd", loss="mse")
        for verbose in (1, 2):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                model.fit(x, yr, batch_size=4, epochs=2, verbose=verbose, shuffle=False)
                model.evaluate(x, yr, batch_size=4, verbose=verbose)
                model.predict(x, batch_size=4, verbose=verbose)
            # times differ: blank them out, with the redraw's backspaces and padding that depend on them
            # and the intermediate redraws, which the 0.05 s throttle shows or not depending on load
            text = re.sub(r"\x08+", "", re.sub(r"\d+(m|u)?s(/step)?", "T", out.getvalue()))
            texts.append(re.sub(r" +\n", "\n", re.sub(r"\r[^\r\n]*(?=\r)", "", text)))
    assert texts[0] == texts[2]
    assert texts[1] == texts[3]


def test_step_functions_are_tf_functions_unless_run_eagerly():
    m = _MLP([4, 2])
    m.compile(optimizer="sgd", loss="mse")
    assert isinstance(m.make_train_function(), tg.function(lambda: None).__class__)
    m.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    assert m.make_train_function() == m.train_step


def test_multi_output_losses_weights_and_trackers():
    class Two(_MLP):
        def call(self, x):
            out = super().call(x)
            return [out[:, :1], out[:, 1:]]

    x, _, yr = _data(n=8)
    m = Two([4, 2])
    m.compile(
        optimizer=tg.keras.optimizers.SGD(0.0), loss=["mse", "mae"], loss_weights=[2.0, 0.5], metrics=[["mae"], ["mse"]]
    )
    p = np.concatenate(m.predict(x, verbose=0), axis=1)
    l1, l2 = np.mean((p[:, :1] - yr[:, :1]) ** 2), np.mean(np.abs(p[:, 1:] - yr[:, 1:]))
    out = m.evaluate(x, [yr[:, :1], yr[:, 1:]], batch_size=8, verbose=0, return_dict=True)
    # Keras 3.15's keys for a subclassed model (no output names): the loss trackers are named after
    # the losses, the metrics are not prefixed; sorted
    assert list(out) == ["loss", "mae", "mae_loss", "mse", "mse_loss"]
    np.testing.assert_allclose(
        [out["loss"], out["mse_loss"], out["mae_loss"], out["mae"], out["mse"]],
        [2 * l1 + 0.5 * l2, l1, l2, np.mean(np.abs(p[:, :1] - yr[:, :1])), np.mean((p[:, 1:] - yr[:, 1:]) ** 2)],
        rtol=1e-5,
    )
    assert m.metrics_names == ["loss", "compile_metrics", "mse_loss", "mae_loss"]


def test_steps_per_execution_groups_batch_hooks():
    x, _, yr = _data(n=20)
    m = _MLP([4, 2])
    m.compile(optimizer="sgd", loss="mse", steps_per_execution=2)
    seen = []
    cb = tg.keras.callbacks.LambdaCallback(
        on_train_batch_begin=lambda b, logs: seen.append(("begin", b)),
        on_train_batch_end=lambda b, logs: seen.append(("end", b)),
    )
    m.fit(x, yr, batch_size=4, epochs=1, verbose=0, callbacks=[cb])
    # as Keras 3.15: the last group's end index is its nominal one (5), past the last batch (4)
    assert seen == [("begin", 0), ("end", 1), ("begin", 2), ("end", 3), ("begin", 4), ("end", 5)]


_HAS_SEQUENTIAL = hasattr(tg.keras, "Sequential") and hasattr(tg.keras.layers, "Dense")


@pytest.mark.skipif(not _HAS_SEQUENTIAL, reason="needs tf.keras.Sequential and layers.Dense (other branches)")
def test_sequential_fit_and_checkpoint_match_keras(keras, tmp_path):
    x, y, _ = _data(n=50)

    def build(lib):
        return lib.Sequential(
            [lib.Input((4,)), lib.layers.Dense(8, activation="relu"), lib.layers.Dense(3, activation="softmax")]
        )

    ours, km = build(tg.keras), build(keras)
    ours.set_weights(km.get_weights())
    for model, lib in ((ours, tg.keras), (km, keras)):
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["acc"])
    kw = dict(batch_size=8, epochs=3, shuffle=False, verbose=0, validation_split=0.2)
    h1 = ours.fit(
        x,
        y,
        **kw,
        callbacks=[
            tg.keras.callbacks.ModelCheckpoint(str(tmp_path / "w{epoch:02d}.weights.h5"), save_weights_only=True)
        ],
    )
    h2 = km.fit(x, y, **kw)
    assert list(h1.history) == list(h2.history) == ["acc", "loss", "val_acc", "val_loss"]
    for k in h2.history:
        np.testing.assert_allclose(h1.history[k], h2.history[k], rtol=1e-5, atol=1e-6, err_msg=k)
    assert sorted(os.listdir(tmp_path)) == ["w01.weights.h5", "w02.weights.h5", "w03.weights.h5"]
    km.load_weights(str(tmp_path / "w03.weights.h5"))
    for a, b in zip(ours.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(a, b)
