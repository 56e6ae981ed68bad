"""``keras.callbacks.TensorBoard``: the event files hold Keras 3's tags and values, read back by our
reader and (when installed) by TensorFlow's own event-file reader."""

import glob
import os

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras.callbacks.tensorboard import crc32c, read_scalars


def _fit(logdir, **kw):
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 3)).astype("float32"), rng.random((32, 1)).astype("float32")
    model = tg.keras.Sequential([tg.keras.Input((3,)), tg.keras.layers.Dense(1)])
    model.compile(optimizer=tg.keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    hist = model.fit(
        x,
        y,
        epochs=3,
        batch_size=8,
        validation_split=0.25,
        verbose=0,
        callbacks=[tg.keras.callbacks.TensorBoard(logdir, **kw)],
    )
    return hist.history


def _events(logdir, kind):
    (path,) = glob.glob(os.path.join(logdir, kind, "events.out.tfevents.*"))
    return path


def test_crc32c_known_value():
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value


def test_epoch_scalars_train_and_validation(tmp_path):
    hist = _fit(str(tmp_path))
    train = read_scalars(_events(str(tmp_path), "train"))
    val = read_scalars(_events(str(tmp_path), "validation"))
    for epoch in range(3):
        got = {t: v for s, t, v in train if s == epoch}
        assert got["epoch_loss"] == pytest.approx(hist["loss"][epoch], rel=1e-6)
        assert got["epoch_mae"] == pytest.approx(hist["mae"][epoch], rel=1e-6)
        assert got["epoch_learning_rate"] == pytest.approx(0.05)
        vgot = {t: v for s, t, v in val if s == epoch}
        assert vgot["epoch_loss"] == pytest.approx(hist["val_loss"][epoch], rel=1e-6)
    steps = [s for s, t, _ in val if t == "evaluation_loss_vs_iterations"]
    assert steps == [3, 6, 9]  # 24 training samples / batch 8 = 3 steps per epoch


def test_batch_scalars(tmp_path):
    _fit(str(tmp_path), update_freq=2)
    batch = [(s, t) for s, t, _ in read_scalars(_events(str(tmp_path), "train")) if t == "batch_loss"]
    assert [s for s, _ in batch] == [2, 4, 6, 8]


def test_tensorflow_reads_our_files(tmp_path):
    tf_ref = pytest.importorskip("tensorflow")
    hist = _fit(str(tmp_path))
    got = {}
    for event in tf_ref.compat.v1.train.summary_iterator(_events(str(tmp_path), "train")):
        for v in event.summary.value:
            got[(event.step, v.tag)] = v.simple_value
    assert got[(2, "epoch_loss")] == pytest.approx(hist["loss"][2], rel=1e-6)


def test_unsupported_options_raise():
    with pytest.raises(NotImplementedError, match="histogram_freq=1"):
        tg.keras.callbacks.TensorBoard(histogram_freq=1)
