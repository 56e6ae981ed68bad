"""tf.keras.datasets' IMDB, Reuters and housing loaders against Keras's own, on the same small
fake files (no network: both libraries' get_file is pointed at them): the same shuffles, splits and
word-index encodings for each argument combination; and the .npz reader refuses pickles that are
not plain arrays."""

import importlib
import os
import pickle

import numpy as np
import pytest

from tapegrad.keras.datasets import boston_housing, california_housing, imdb, reuters
from tapegrad.keras.datasets._formats import load_npz


def _keras_module(name):
    pytest.importorskip("tensorflow")
    pytest.importorskip("keras")
    try:
        return importlib.import_module(f"keras.src.datasets.{name}")
    except ImportError:
        pytest.skip(f"this Keras has no keras.src.datasets.{name}")


def _sequences(rng, n):
    seqs = np.empty(n, dtype=object)
    seqs[:] = [[int(w) for w in rng.integers(1, 40, rng.integers(2, 12))] for _ in range(n)]
    return seqs


def _point(monkeypatch, ours, theirs, path):
    monkeypatch.setattr(ours, "get_file", lambda *a, **k: str(path))
    monkeypatch.setattr(theirs, "get_file", lambda *a, **k: str(path))


def _same(a, b):
    (xa, ya), (xta, yta) = a
    (xb, yb), (xtb, ytb) = b
    for u, v in ((xa, xb), (xta, xtb)):
        assert len(u) == len(v)
        assert [list(s) for s in u] == [list(s) for s in v]
    np.testing.assert_array_equal(ya, yb)
    np.testing.assert_array_equal(yta, ytb)


ENCODINGS = [
    {},
    {"num_words": 20, "skip_top": 3},
    {"maxlen": 9},
    {"start_char": None, "oov_char": None, "num_words": 25},
    {"index_from": 0, "start_char": None},
    {"seed": 7, "oov_char": 5, "skip_top": 10},
]


@pytest.mark.parametrize("kwargs", ENCODINGS)
def test_imdb_matches_keras(tmp_path, monkeypatch, kwargs):
    theirs = _keras_module("imdb")
    rng = np.random.default_rng(0)
    path = tmp_path / "imdb.npz"
    np.savez(
        path,
        x_train=_sequences(rng, 30),
        y_train=rng.integers(0, 2, 30),
        x_test=_sequences(rng, 20),
        y_test=rng.integers(0, 2, 20),
    )
    _point(monkeypatch, imdb, theirs, path)
    _same(imdb.load_data(**kwargs), theirs.load_data(**kwargs))


def test_imdb_maxlen_that_keeps_nothing(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    path = tmp_path / "imdb.npz"
    np.savez(
        path, x_train=_sequences(rng, 5), y_train=np.ones(5, int), x_test=_sequences(rng, 5), y_test=np.ones(5, int)
    )
    monkeypatch.setattr(imdb, "get_file", lambda *a, **k: str(path))
    with pytest.raises(ValueError, match="no sequence was kept. Increase maxlen"):
        imdb.load_data(maxlen=2)
    # every training review kept, every test review dropped: Keras refuses that too
    x_train = np.empty(2, dtype=object)
    x_train[:] = [[1], [2, 3]]
    x_test = np.empty(2, dtype=object)
    x_test[:] = [[1] * 9, [2] * 10]
    np.savez(path, x_train=x_train, y_train=np.ones(2, int), x_test=x_test, y_test=np.ones(2, int))
    with pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=5)


@pytest.mark.parametrize("kwargs", ENCODINGS + [{"test_split": 0.5}, {"test_split": 0.0}])
def test_reuters_matches_keras(tmp_path, monkeypatch, kwargs):
    theirs = _keras_module("reuters")
    rng = np.random.default_rng(2)
    path = tmp_path / "reuters.npz"
    np.savez(path, x=_sequences(rng, 40), y=rng.integers(0, 46, 40))
    _point(monkeypatch, reuters, theirs, path)
    _same(reuters.load_data(**kwargs), theirs.load_data(**kwargs))
    assert reuters.get_label_names() == tuple(theirs.get_label_names())


HOUSING = [
    (boston_housing, 13, 50, {}),
    (boston_housing, 13, 50, {"test_split": 0.0}),
    (boston_housing, 13, 50, {"test_split": 0.35, "seed": 3}),
    (california_housing, 8, 700, {}),
    (california_housing, 8, 700, {"version": "small"}),  # the first 600 rows: 480 for training
    (california_housing, 8, 700, {"version": "small", "test_split": 0.1, "seed": 9}),
]


@pytest.mark.parametrize("module, features, rows, kwargs", HOUSING)
def test_housing_matches_keras(tmp_path, monkeypatch, module, features, rows, kwargs):
    name = module.__name__.rsplit(".", 1)[1]
    theirs = _keras_module(name)
    rng = np.random.default_rng(features)
    path = tmp_path / f"{name}.npz"
    np.savez(path, x=rng.standard_normal((rows, features)), y=rng.standard_normal(rows))
    _point(monkeypatch, module, theirs, path)
    ours, ref = module.load_data(**kwargs), theirs.load_data(**kwargs)
    if kwargs == {"version": "small"}:
        assert len(ours[0][0]) == 480
    for a, b in zip(ours, ref):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_housing_bad_arguments_name_themselves(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Invalid `test_split` argument: 1"):
        boston_housing.load_data(test_split=1)
    with pytest.raises(ValueError, match="`version` must be one of 'small', 'large'. Received: version=medium"):
        california_housing.load_data(version="medium")


def test_npz_reader_refuses_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > /dev/null",))

    bad = np.empty(1, dtype=object)
    bad[0] = Evil()
    path = tmp_path / "bad.npz"
    np.savez(path, x=bad)
    with pytest.raises(ValueError, match=r"x\.npy could not be read \(refusing to load (posix|os)\.system"):
        load_npz(path)
    good = tmp_path / "good.npz"
    np.savez(good, a=np.arange(6.0).reshape(2, 3), s=_sequences(np.random.default_rng(5), 3))
    out = load_npz(good)
    np.testing.assert_array_equal(out["a"], np.arange(6.0).reshape(2, 3))
    assert out["s"].dtype == object and len(out["s"]) == 3
    assert pickle.dumps(out["a"])  # a plain, writable numpy array
    out["a"][0, 0] = 1.0
