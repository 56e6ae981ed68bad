"""``keras.ops`` math helpers (``keras/src/ops/math.py``): segment reductions, ``top_k``,
``in_top_k``, ``logsumexp``, ``erfinv``-free basics."""

from ... import math as _math
from .core import _float_t, _ops, _t
from .nn import in_top_k, top_k  # noqa: F401
from .numpy import logsumexp  # noqa: F401

__all__ = ["segment_sum", "segment_max", "segment_prod", "in_top_k", "top_k", "logsumexp", "rsqrt", "extract_sequences"]


def _segment(data, segment_ids, num_segments, sorted, fn):
    data, ids = _t(data), _t(segment_ids)
    if num_segments is None:
        num_segments = int(ids.numpy().max()) + 1
    return fn(data, ids, num_segments)


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sum of the rows of ``data`` that share a segment id."""
    return _segment(data, segment_ids, num_segments, sorted, _math.unsorted_segment_sum)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum of the rows of ``data`` that share a segment id."""
    data, ids = _t(data), _t(segment_ids)
    n = int(ids.numpy().max()) + 1 if num_segments is None else num_segments
    oh = _ops.cast(_ops.one_hot(ids, n, axis=0), "bool")  # (n, rows)
    extra = [1] * (len(data.shape.as_list()) - 1)
    oh = _ops.reshape(oh, [n, -1] + extra)
    big = _ops.fill(
        [n] + data.shape.as_list(),
        _ops.constant(-float("inf") if data.dtype.name.startswith("float") else -(2**31), dtype=data.dtype),
    )
    vals = _ops.where(
        _ops.broadcast_to(oh, [n] + data.shape.as_list()),
        _ops.broadcast_to(_ops.expand_dims(data, 0), [n] + data.shape.as_list()),
        big,
    )
    return _ops.reduce_max(vals, axis=1)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Product of the rows of ``data`` that share a segment id (1 for empty segments)."""
    data, ids = _t(data), _t(segment_ids)
    n = int(ids.numpy().max()) + 1 if num_segments is None else num_segments
    oh = _ops.cast(_ops.one_hot(ids, n, axis=0), "bool")
    extra = [1] * (len(data.shape.as_list()) - 1)
    oh = _ops.broadcast_to(_ops.reshape(oh, [n, -1] + extra), [n] + data.shape.as_list())
    vals = _ops.where(
        oh,
        _ops.broadcast_to(_ops.expand_dims(data, 0), [n] + data.shape.as_list()),
        _ops.ones_like(oh, dtype=data.dtype.name),
    )
    return _ops.reduce_prod(vals, axis=1)


def rsqrt(x):
    """``1 / sqrt(x)``."""
    return _ops.rsqrt(_float_t(x))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` every ``sequence_stride`` along the last axis."""
    import numpy as np

    x = _t(x)
    n = x.shape.as_list()[-1]
    starts = np.arange(0, n - sequence_length + 1, sequence_stride)
    idx = starts[:, None] + np.arange(sequence_length)[None, :]
    return _ops.gather(x, _ops.constant(idx.astype("int32")), axis=len(x.shape.as_list()) - 1)
