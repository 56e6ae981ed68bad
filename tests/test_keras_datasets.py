"""tf.keras.datasets.mnist and fashion_mnist, offline: the download goes to a file:// origin built
here (the same get_file path as the real URL), into a temporary KERAS_HOME; the cache is reused,
a file whose hash does not match is downloaded again, and bad files raise errors that name them.
Against the keras package's own loader (when installed), both read the same cache."""

import gzip
import hashlib
import os

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras.datasets import fashion_mnist, mnist


def _idx(array):
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    return gzip.compress(header + np.ascontiguousarray(array, np.uint8).tobytes())


@pytest.fixture
def keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    return tmp_path / "keras_home"


def _fake_mnist(tmp_path, rng):
    arrays = {
        "x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }
    src = tmp_path / "origin" / "mnist.npz"
    src.parent.mkdir()
    np.savez(src, **arrays)
    return src, arrays


def test_mnist_downloads_once_checks_the_hash_and_reuses_the_cache(tmp_path, keras_home, monkeypatch, capsys):
    src, arrays = _fake_mnist(tmp_path, np.random.default_rng(0))
    monkeypatch.setattr(mnist, "_ORIGIN", src.as_uri())
    monkeypatch.setattr(mnist, "_SHA256", hashlib.sha256(src.read_bytes()).hexdigest())
    (x_train, y_train), (x_test, y_test) = tg.keras.datasets.mnist.load_data()
    for got, name in ((x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[name])
    assert "Downloading data from" in capsys.readouterr().out
    cached = keras_home / "datasets" / "mnist.npz"
    assert cached.read_bytes() == src.read_bytes()
    src.unlink()  # the second call must not need the origin
    (x_again, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_again, arrays["x_train"])
    assert "Downloading" not in capsys.readouterr().out
    # A cached file that does not match the hash is fetched again (here: the origin is gone).
    cached.write_bytes(b"not the npz")
    with pytest.raises(Exception, match="URL fetch failure"):
        mnist.load_data()


def test_mnist_rejects_a_download_with_the_wrong_hash(tmp_path, keras_home, monkeypatch):
    src, _ = _fake_mnist(tmp_path, np.random.default_rng(1))
    monkeypatch.setattr(mnist, "_ORIGIN", src.as_uri())
    with pytest.raises(ValueError, match="hash does not match"):
        mnist.load_data()


def _fake_fashion(tmp_path, rng, n_train=5, n_test=4):
    origin = tmp_path / "fashion_origin"
    origin.mkdir()
    arrays = {
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
    }
    for name, a in arrays.items():
        (origin / name).write_bytes(_idx(a))
    return origin, arrays


def test_fashion_mnist_reads_the_idx_files(tmp_path, keras_home, monkeypatch):
    origin, arrays = _fake_fashion(tmp_path, np.random.default_rng(2))
    monkeypatch.setattr(fashion_mnist, "_BASE", origin.as_uri() + "/")
    (x_train, y_train), (x_test, y_test) = tg.keras.datasets.fashion_mnist.load_data()
    np.testing.assert_array_equal(y_train, arrays["train-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])
    np.testing.assert_array_equal(x_test, arrays["t10k-images-idx3-ubyte.gz"])
    assert x_train.shape == (5, 28, 28) and x_train.dtype == np.uint8
    assert sorted(p.name for p in (keras_home / "datasets" / "fashion-mnist").iterdir()) == sorted(arrays)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: gzip.compress(b"\x00\x00\x0d\x01" + gzip.decompress(b)[4:]), "not an IDX file of unsigned bytes"),
        (lambda b: gzip.compress(gzip.decompress(b)[:-3]), "truncated or corrupted"),
        (lambda b: gzip.compress(b""), "header empty"),
        (lambda b: gzip.compress(gzip.decompress(b)[:6]), "ends inside its IDX header"),
    ],
)
def test_fashion_mnist_bad_files_name_themselves(tmp_path, keras_home, monkeypatch, damage, message):
    origin, _ = _fake_fashion(tmp_path, np.random.default_rng(3))
    bad = origin / "t10k-labels-idx1-ubyte.gz"
    bad.write_bytes(damage(bad.read_bytes()))
    monkeypatch.setattr(fashion_mnist, "_BASE", origin.as_uri() + "/")
    with pytest.raises(ValueError, match=message) as info:
        fashion_mnist.load_data()
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)


def test_fashion_mnist_label_count_must_match(tmp_path, keras_home, monkeypatch):
    origin, _ = _fake_fashion(tmp_path, np.random.default_rng(4))
    (origin / "t10k-labels-idx1-ubyte.gz").write_bytes(_idx(np.zeros(7, np.uint8)))
    monkeypatch.setattr(fashion_mnist, "_BASE", origin.as_uri() + "/")
    with pytest.raises(ValueError, match="4 test images but 7 labels"):
        fashion_mnist.load_data()


def test_same_cache_as_keras(tmp_path, keras_home, monkeypatch):
    """Keras's own fashion_mnist loader, pointed at the cache tapegrad filled, gives the same arrays
    without downloading anything."""
    pytest.importorskip("tensorflow")
    keras = pytest.importorskip("keras")
    kconfig = pytest.importorskip("keras.src.backend.config")
    kfu = pytest.importorskip("keras.src.utils.file_utils")
    if not hasattr(kconfig, "_KERAS_DIR") or not hasattr(kfu, "urlretrieve"):
        pytest.skip("this Keras keeps its cache location or downloader elsewhere")
    origin, _ = _fake_fashion(tmp_path, np.random.default_rng(5))
    monkeypatch.setattr(fashion_mnist, "_BASE", origin.as_uri() + "/")
    ours = fashion_mnist.load_data()
    monkeypatch.setattr(kconfig, "_KERAS_DIR", str(keras_home))  # read once, when Keras is imported
    monkeypatch.setattr(kfu, "urlretrieve", lambda *a, **k: pytest.fail("keras downloaded"))
    theirs = keras.datasets.fashion_mnist.load_data()
    for part_ours, part_theirs in zip(ours, theirs):
        for a, b in zip(part_ours, part_theirs):
            np.testing.assert_array_equal(a, b)


def _cifar_archive(tmp_path, folder, members, rng):
    """A tar.gz holding `folder`/NAME pickles of {b"data": [n, 3072] uint8, KEY: labels}."""
    import io
    import pickle
    import tarfile

    src = tmp_path / "origin" / f"{folder}.tar.gz"
    src.parent.mkdir(exist_ok=True)
    arrays = {}
    with tarfile.open(src, "w:gz") as tar:
        for name, (n, keys) in members.items():
            d = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8)}
            for key, top in keys.items():
                d[key.encode()] = [int(v) for v in rng.integers(0, top, n)]
            arrays[name] = d
            blob = pickle.dumps(d, protocol=4)  # bytes as bytes (protocol 2 from Python 3 goes through _codecs)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return src, arrays


def _channels_last(d):
    return d[b"data"].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


def test_cifar10_extracts_once_in_keras_layout(tmp_path, keras_home, monkeypatch):
    from tapegrad.keras.datasets import cifar10

    names = {f"data_batch_{i}": (i + 1, {"labels": 10}) for i in range(1, 6)} | {"test_batch": (3, {"labels": 10})}
    src, arrays = _cifar_archive(tmp_path, "cifar-10-batches-py", names, np.random.default_rng(6))
    monkeypatch.setattr(cifar10, "_ORIGIN", src.as_uri())
    monkeypatch.setattr(cifar10, "_SHA256", hashlib.sha256(src.read_bytes()).hexdigest())
    (x_train, y_train), (x_test, y_test) = tg.keras.datasets.cifar10.load_data()
    batches = [arrays[f"data_batch_{i}"] for i in range(1, 6)]
    np.testing.assert_array_equal(x_train, np.concatenate([_channels_last(b) for b in batches]))
    np.testing.assert_array_equal(y_train[:, 0], np.concatenate([b[b"labels"] for b in batches]))
    np.testing.assert_array_equal(x_test, _channels_last(arrays["test_batch"]))
    assert x_train.shape == (20, 32, 32, 3) and y_train.shape == (20, 1) and y_test.dtype == np.uint8
    cache = keras_home / "datasets"
    assert sorted(p.name for p in cache.iterdir()) == [
        "cifar-10-batches-py-target",
        "cifar-10-batches-py-target_archive",
    ]
    src.unlink()
    (x_again, _), _ = cifar10.load_data()
    np.testing.assert_array_equal(x_again, x_train)


def test_cifar100_label_modes(tmp_path, keras_home, monkeypatch):
    from tapegrad.keras.datasets import cifar100

    keys = {"fine_labels": 100, "coarse_labels": 20}
    src, arrays = _cifar_archive(
        tmp_path, "cifar-100-python", {"train": (4, keys), "test": (2, keys)}, np.random.default_rng(7)
    )
    monkeypatch.setattr(cifar100, "_ORIGIN", src.as_uri())
    monkeypatch.setattr(cifar100, "_SHA256", hashlib.sha256(src.read_bytes()).hexdigest())
    for mode in ("fine", "coarse"):
        (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=mode)
        np.testing.assert_array_equal(y_train[:, 0], arrays["train"][f"{mode}_labels".encode()])
        np.testing.assert_array_equal(y_test[:, 0], arrays["test"][f"{mode}_labels".encode()])
        np.testing.assert_array_equal(x_test, _channels_last(arrays["test"]))
    with pytest.raises(ValueError, match="label_mode"):
        cifar100.load_data(label_mode="medium")


def test_cifar_batches_refuse_anything_but_arrays(tmp_path):
    import os
    import pickle

    from tapegrad.keras.datasets._formats import read_cifar_batch

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > /dev/null",))

    bad = tmp_path / "data_batch_1"
    bad.write_bytes(pickle.dumps({b"data": Evil(), b"labels": [1]}))
    with pytest.raises(ValueError, match=r"refusing to load (posix|os)\.system"):
        read_cifar_batch(bad, "labels")
    bad.write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8), b"labels": [1, 2]}))
    with pytest.raises(ValueError, match=r"expected \[n, 3072\]"):
        read_cifar_batch(bad, "labels")
    bad.write_bytes(b"")
    with pytest.raises(ValueError, match="not a CIFAR batch"):
        read_cifar_batch(bad, "labels")


@pytest.mark.parametrize("fname, extract", [("plain.bin", False), ("thing-target", True), ("thing.tar.gz", True)])
def test_get_file_layout_matches_keras(tmp_path, fname, extract):
    """The cache layout (file names, extraction folders, the returned path) is Keras 3's."""
    pytest.importorskip("tensorflow")
    kfu = pytest.importorskip("keras.src.utils.file_utils")
    import tarfile

    src = tmp_path / "src.tar.gz"
    (tmp_path / "member.txt").write_text("hello")
    with tarfile.open(src, "w:gz") as tar:
        tar.add(tmp_path / "member.txt", arcname="inner/member.txt")
    results = {}
    for lib, get_file in (("keras", kfu.get_file), ("tapegrad", tg.keras.utils.get_file)):
        cache = tmp_path / lib
        cache.mkdir()  # Keras falls back to /tmp/.keras for a cache_dir that is not (yet) writable
        path = get_file(fname, origin=src.as_uri(), extract=extract, cache_dir=str(cache))
        files = sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))
        results[lib] = (os.path.relpath(path, cache), files)
    assert results["tapegrad"] == results["keras"]


def test_get_file_bad_requests_name_what_is_wrong(tmp_path):
    src = tmp_path / "not_an_archive.bin"
    src.write_bytes(b"plain bytes")
    with pytest.raises(ValueError, match="Paths are no longer accepted as the `fname` argument"):
        tg.keras.utils.get_file(os.path.join("sub", "x.bin"), origin=src.as_uri(), cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match=r"Could not extract .*not a tar or zip archive"):
        tg.keras.utils.get_file("blob", origin=src.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "c" / "datasets" / "blob").exists()
    with pytest.raises(ValueError, match=r"Please specify the \"origin\""):
        tg.keras.utils.get_file("x.bin")


@pytest.mark.parametrize("module_name", ["imdb", "reuters"])
def test_word_index_downloads_with_an_md5_hash(tmp_path, keras_home, monkeypatch, module_name):
    """Keras gives the word indices 32-character (MD5) hashes: get_file's "auto" rule must pick MD5."""
    import importlib
    import json

    mod = importlib.import_module(f"tapegrad.keras.datasets.{module_name}")
    origin = tmp_path / "origin"
    origin.mkdir()
    index = {"the": 1, "a": 2, "of": 3}
    src = origin / f"{module_name}_word_index.json"
    src.write_text(json.dumps(index))
    monkeypatch.setattr(mod, "_BASE", origin.as_uri() + "/")
    monkeypatch.setattr(mod, "_INDEX_MD5", hashlib.md5(src.read_bytes()).hexdigest())
    assert mod.get_word_index() == index
    monkeypatch.setattr(mod, "_INDEX_MD5", "0" * 32)
    (keras_home / "datasets" / src.name).unlink()
    with pytest.raises(ValueError, match="md5|auto"):
        mod.get_word_index()
