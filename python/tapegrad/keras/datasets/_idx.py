"""Readers for the datasets' file formats (IDX, as Yann LeCun's MNIST files and Zalando's
Fashion-MNIST files store them, gzip-compressed)."""

import gzip

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
