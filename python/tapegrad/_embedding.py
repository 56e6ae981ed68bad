"""tf.nn.embedding_lookup: rows of an embedding table (a gather along axis 0, whose gradient with
respect to the table is a tf.IndexedSlices). Mirrors tensorflow/python/ops/embedding_ops.py
(embedding_lookup_v2: the "div" partition strategy for a sharded table)."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _core
from ._tensor import Tensor


def _ids_array(ids):
    # Python ints convert as TF converts them (int32 unless they need int64)
    a = ids.numpy() if isinstance(ids, Tensor) else np.asarray(_core.convert_to_tensor(ids))
    if a.dtype.kind not in "iu":
        raise TypeError(
            f"Value passed to parameter 'indices' has DataType {a.dtype} not in list of allowed values: int16, int32, "
            "int64"
        )
    return a


def _clip(x, ids_rank, max_norm):
    if max_norm is None:
        return x
    from ._ops_math import clip_by_norm

    rank = len(x.shape)
    return clip_by_norm(x, max_norm, axes=list(range(ids_rank, rank)))


def embedding_lookup(params: Any, ids: Any, max_norm: Any = None, name: str | None = None) -> Tensor:
    """Looks up embeddings for the given `ids` from a list of tensors (TF-2's embedding_lookup).

    `params` is one tensor or variable, or a list of shards of one table split along axis 0
    ("div" strategy: shard p holds a contiguous block of ids). The result has shape
    ``ids.shape + params.shape[1:]``; with `max_norm`, each embedding whose L2 norm is larger is
    scaled down to it. The gradient with respect to the table is a tf.IndexedSlices.

    >>> import tapegrad as tf
    >>> table = tf.Variable([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    >>> tf.nn.embedding_lookup(table, [[2], [0]]).numpy().tolist()
    [[[4.0, 5.0]], [[0.0, 1.0]]]
    >>> with tf.GradientTape() as tape:
    ...     y = tf.reduce_sum(tf.nn.embedding_lookup(table, [2, 2]))
    >>> type(tape.gradient(y, table)).__name__
    'IndexedSlices'
    """
    if isinstance(params, (list, tuple)):
        shards = list(params)
        if not shards:
            raise ValueError("Need at least one param")
    else:
        shards = [params]
    ids_t = ids if isinstance(ids, (Tensor, _core.Variable)) else None
    if len(shards) == 1:
        if ids_t is None:
            ids_t = _core.convert_to_tensor(_ids_array(ids))
        out = _core.gather(shards[0], ids_t, 0, 0)
        return _clip(out, len(ids_t.shape), max_norm)
    a = _ids_array(ids)
    flat = a.reshape(-1).astype(np.int64)
    sizes = [int(p.shape[0]) for p in shards]
    n_shards = len(shards)
    total = sum(sizes)
    per = total // n_shards
    extras = total % n_shards
    # TF's "div" assignment: the first `extras` shards hold per + 1 ids, the rest `per`.
    with np.errstate(divide="ignore", invalid="ignore"):
        assign = np.maximum(flat // (per + 1), (flat - extras) // per if per else flat * 0)
        local = np.where(assign < extras, flat % (per + 1), (flat - extras) % per if per else flat)
    pieces, order = [], []
    for p in range(n_shards):
        where = np.flatnonzero(assign == p)
        if where.size == 0:
            continue
        pieces.append(_core.gather(shards[p], local[where].astype(a.dtype), 0, 0))
        order.append(where)
    bad = np.flatnonzero((assign < 0) | (assign >= n_shards))
    if bad.size:
        from .errors import InvalidArgumentError

        i = int(bad[0])
        raise InvalidArgumentError(f"indices[{i}] = {flat[i]} is not in [0, {total}) [Op:GatherV2]")
    if not pieces:
        first = shards[0]
        inner = list(first.shape[1:])
        return _core.reshape(_core.gather(first, np.zeros([0], a.dtype), 0, 0), list(a.shape) + inner)
    stacked = pieces[0] if len(pieces) == 1 else _core.concat(pieces, 0)
    inverse = np.empty(flat.size, np.int64)
    inverse[np.concatenate(order)] = np.arange(flat.size)
    out = _core.gather(stacked, inverse, 0, 0)  # dynamic_stitch back into the ids' order
    out = _core.reshape(out, list(a.shape) + list(out.shape[1:]))
    return _clip(out, a.ndim, max_norm)


__all__ = ["embedding_lookup"]
