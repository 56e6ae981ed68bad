"""Readers for the datasets' file formats: IDX (as Yann LeCun's MNIST files and Zalando's
Fashion-MNIST files store them, gzip-compressed), the pickled CIFAR batches, and .npz archives
whose arrays may hold Python lists (IMDB, Reuters), each read with only numpy arrays allowed; and
the seeded shuffle-and-split the Keras loaders share."""

import gzip
import pickle
import zipfile

import numpy as np

# IDX header: two zero bytes, a type code (0x08: unsigned byte), the number of dimensions, then
# one big-endian uint32 size per dimension.
_UBYTE = 0x08


def read_idx_gz(path, ndim):
    """The uint8 array of the gzip-compressed IDX file at `path`, which must have `ndim` dimensions."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE or data[3] != ndim:
        raise ValueError(
            f"{path} is not an IDX file of unsigned bytes with {ndim} dimension(s) "
            f"(header {data[:4].hex() or 'empty'}); delete it to download it again."
        )
    head = 4 + 4 * ndim
    if len(data) < head:
        raise ValueError(f"{path} ends inside its IDX header: truncated or corrupted; delete it to download it again.")
    shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    if len(data) - head != int(np.prod(shape)):
        raise ValueError(
            f"{path} holds {len(data) - head} values for shape {shape}: truncated or corrupted; "
            "delete it to download it again."
        )
    return np.frombuffer(data, np.uint8, offset=head).reshape(shape)


# The only globals a CIFAR batch needs: numpy's array reconstruction. Anything else in a pickle
# (a downloaded file) could run code, so it is refused.
_PICKLE_GLOBALS = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
    }
)


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _PICKLE_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f"refusing to load {module}.{name} from a dataset file: only numpy arrays are expected"
        )


def read_cifar_batch(path, label_key):
    """(images [n, 3, 32, 32] uint8, labels [n] uint8) of one pickled CIFAR batch."""
    with open(path, "rb") as f:
        try:
            d = _ArraysOnly(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError) as e:
            raise ValueError(f"{path} is not a CIFAR batch ({e}); delete it to download it again.") from e
    if not isinstance(d, dict):
        raise ValueError(f"{path} is not a CIFAR batch (a {type(d).__name__}, not a dict).")
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    if "data" not in d or label_key not in d:
        raise ValueError(f"{path} has no 'data' or {label_key!r} entry: not a CIFAR batch of this kind.")
    data = np.asarray(d["data"], np.uint8)
    labels = np.asarray(d[label_key], np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(
            f"{path}: data of shape {data.shape} and {len(labels)} labels, expected [n, 3072] and n labels."
        )
    return data.reshape(len(data), 3, 32, 32), labels


def load_npz(path):
    """{name: array} of the .npz archive at `path`. Numeric arrays are read without pickle; object
    arrays (ragged sequences) through the arrays-only unpickler, so a crafted file cannot run code."""
    out = {}
    with zipfile.ZipFile(path) as z:
        for member in z.namelist():
            if not member.endswith(".npy"):
                continue
            with z.open(member) as f:
                try:
                    a = np.lib.format.read_array(f, allow_pickle=False)
                except ValueError:  # an object array: its data is a pickle after the header
                    f.seek(0)
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        np.lib.format.read_array_header_1_0(f)
                    else:
                        np.lib.format.read_array_header_2_0(f)
                    try:
                        a = _ArraysOnly(f).load()
                    except (pickle.UnpicklingError, EOFError) as e:
                        raise ValueError(f"{path}: {member} could not be read ({e}).") from e
            out[member[: -len(".npy")]] = a
    return out


def check_test_split(test_split):
    """Keras's check of a loader's `test_split`, made before anything is downloaded."""
    if not (0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 (exclusive of 1).")


def shuffled(x, y, rng):
    """x and y with their rows in the order of `rng.shuffle` over their indices (a numpy
    RandomState, as Keras's loaders draw it)."""
    order = np.arange(len(x))
    rng.shuffle(order)
    return x[order], y[order]


def shuffled_split(x, y, test_split, seed):
    """Keras's split of the housing sets: the rows shuffled by numpy's RandomState(seed), then the
    first int(n * (1 - test_split)) for training and the rest for testing."""
    x, y = shuffled(x, y, np.random.RandomState(seed))
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))


def encode_sequences(xs, labels, num_words, skip_top, maxlen, start_char, oov_char, index_from, n_train=None):
    """The word-index preprocessing of Keras's IMDB and Reuters loaders, over every sequence of
    `xs` (training then test): each index moved up by `index_from`, `start_char` put first,
    sequences of `maxlen` or more dropped (with their labels), and indices outside [skip_top,
    num_words) replaced by `oov_char` (dropped when it is None). num_words=None keeps them all.
    With `n_train` (the first n_train of `xs` are the training ones), both parts must keep a
    sequence; returns (xs, labels, the training sequences kept)."""
    if start_char is not None:
        xs = [[start_char] + [w + index_from for w in x] for x in xs]
    else:
        xs = [[w + index_from for w in x] for x in xs]
    if maxlen:
        keep = [i for i, x in enumerate(xs) if len(x) < maxlen]
        xs = [xs[i] for i in keep]
        labels = [labels[i] for i in keep]
        if n_train is not None:
            n_train = sum(1 for i in keep if i < n_train)
        if not xs or n_train == 0 or n_train == len(xs):
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence was kept. Increase maxlen."
            )
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    return xs, labels, n_train
