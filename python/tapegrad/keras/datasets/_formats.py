"""Readers for the datasets' file formats: IDX (as Yann LeCun's MNIST files and Zalando's
Fashion-MNIST files store them, gzip-compressed) and the pickled CIFAR batches."""

import gzip
import pickle

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
