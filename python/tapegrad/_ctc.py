"""``tf.nn.ctc_loss`` for dense labels, as a composite of differentiable ops: the CTC forward
(alpha) recursion in log space over time, vectorised over the batch and the label positions; the
tape differentiates it (no hand-written backward)."""

from typing import Any, Optional

import numpy as np

from . import _core, _ops
from ._dtypes import float32
from ._ops_math import reduce_logsumexp
from ._ops_shape import concat, gather, stack, where
from ._tensor import Tensor, Variable
from .errors import InvalidArgumentError

# TF's "log 0" in ctc_ops.ctc_state_log_probs: log(1e-307) in float32. A finite stand-in for -inf
# keeps logsumexp's gradient finite where a state is unreachable; an impossible alignment gives a
# loss near 707 (TF's dense kernel returns the same order of value) instead of inf.
_LOG_0 = float(np.float32(np.log(1e-307)))


def ctc_loss(
    labels: Any,
    logits: Any,
    label_length: Any,
    logit_length: Any,
    logits_time_major: bool = True,
    unique: Any = None,
    blank_index: Optional[int] = None,
    name: Optional[str] = None,
) -> Tensor:
    """Connectionist Temporal Classification loss per batch entry, ``-log p(labels | logits)``
    (TF 2's ``tf.nn.ctc_loss`` with dense labels).

    Args:
        labels: int tensor ``[batch, max_label_length]``, padded; entry ``b`` uses its first
            ``label_length[b]`` values.
        logits: float tensor ``[frames, batch, num_classes]`` (``[batch, frames, num_classes]`` with
            ``logits_time_major=False``), unnormalized (log-softmax is applied here).
        label_length: int tensor ``[batch]``.
        logit_length: int tensor ``[batch]``: frames used by each entry.
        unique: accepted for compatibility (``tf.nn.ctc_unique_labels``'s output; TF uses it only
            as a faster path to the same value).
        blank_index: the blank's class; ``None`` means 0, negative values count from
            ``num_classes`` (-1: the last class).

    Returns a ``[batch]`` tensor. Repeated labels need a blank between them (the alignment rule
    of TF's ``ctc_merge_repeated=True``); an impossible alignment (too few frames) gives a large
    finite loss, as TF's. float16/bfloat16 logits are computed in float32; float64 is computed in
    float64 (TF's dense op rejects it). Sparse labels (``tf.SparseTensor``) are not supported.

    >>> import tapegrad as tg
    >>> logits = tg.zeros([2, 1, 3])  # 2 frames, batch 1, 3 classes: every path has p = 1/9
    >>> loss = tg.nn.ctc_loss(tg.constant([[1]]), logits, tg.constant([1]), tg.constant([2]))
    >>> round(float(loss[0]), 5)  # paths for "1": (1,1), (1,b), (b,1): -log(3/9)
    1.09861
    """
    del name
    if type(labels).__name__ == "SparseTensor" or (
        hasattr(labels, "indices") and hasattr(labels, "values") and hasattr(labels, "dense_shape")
    ):
        raise NotImplementedError(
            "tf.nn.ctc_loss: labels as a tf.SparseTensor are not supported by tapegrad; pass dense labels "
            "[batch, max_label_length] with label_length"
        )
    for arg, value in (("label_length", label_length), ("logit_length", logit_length)):
        if value is None:
            raise ValueError(
                f"Attempt to convert a value (None) with an unsupported type (<class 'NoneType'>) "
                f"to a Tensor: `{arg}` is required with dense labels."
            )
    del unique
    logits = _as_tensor(logits)
    if not logits.dtype.is_floating:
        raise InvalidArgumentError(f"ctc_loss: logits must be a float tensor; got {logits.dtype.name}")
    if logits.shape.rank != 3:
        raise InvalidArgumentError(
            "ctc_loss: logits must have rank 3 ([frames, batch, num_classes] with logits_time_major=True, "
            f"[batch, frames, num_classes] otherwise); got shape {list(logits.shape)}"
        )
    orig_dtype = logits.dtype
    if orig_dtype.name in ("float16", "bfloat16"):
        logits = _ops.cast(logits, float32)
    if not logits_time_major:
        logits = _core.transpose(logits, [1, 0, 2])
    frames, batch, num_classes = (int(d) for d in logits.shape)
    labels_np = _int_array(labels, "labels")
    label_len = _int_array(label_length, "label_length")
    logit_len = _int_array(logit_length, "logit_length")
    if labels_np.ndim != 2:
        raise InvalidArgumentError(
            f"ctc_loss: labels must have rank 2 [batch, max_label_length]; got shape {list(labels_np.shape)}"
        )
    if labels_np.shape[0] != batch:
        raise InvalidArgumentError(
            f"ctc_loss: labels has batch size {labels_np.shape[0]} but logits has batch size {batch}"
        )
    max_label = labels_np.shape[1]
    for arg, arr, limit, what in (
        ("label_length", label_len, max_label, f"the labels' length {max_label}"),
        ("logit_length", logit_len, frames, f"the number of frames {frames}"),
    ):
        if arr.shape != (batch,):
            raise InvalidArgumentError(f"ctc_loss: {arg} must have shape [{batch}] (the batch); got {list(arr.shape)}")
        bad = np.flatnonzero((arr < 0) | (arr > limit))
        if bad.size:
            b = int(bad[0])
            raise InvalidArgumentError(f"ctc_loss: {arg}[{b}] = {int(arr[b])} is outside [0, {limit}] ({what})")
    if blank_index is None:
        blank_index = 0
    blank = int(blank_index)
    if blank < 0:
        blank += num_classes
    if not 0 <= blank < num_classes:
        raise InvalidArgumentError(f"ctc_loss: blank_index {blank_index} is out of range for {num_classes} classes")
    used = np.arange(max_label)[None, :] < label_len[:, None]
    bad_at = np.argwhere(used & ((labels_np < 0) | (labels_np >= num_classes)))
    if bad_at.size:
        b, i = (int(v) for v in bad_at[0])
        raise InvalidArgumentError(
            f"ctc_loss: labels[{b}, {i}] = {int(labels_np[b, i])} is not a class index in [0, {num_classes})"
        )
    if blank != 0:  # TF's order: the blank first, then the other classes; labels below it shift up
        logits = concat([logits[:, :, blank : blank + 1], logits[:, :, :blank], logits[:, :, blank + 1 :]], 2)
        labels_np = np.where(labels_np < blank, labels_np + 1, labels_np)
    labels_np = np.where(used, labels_np, 0)  # padding past label_length: any class, masked out
    return _forward(logits, labels_np, label_len, logit_len, orig_dtype)


def _forward(logits, labels, label_len, logit_len, orig_dtype):
    """-log p(labels | logits) by the alpha recursion over the extended sequence
    (blank, l1, blank, l2, ..., blank) of S = 2L + 1 states; the blank is class 0."""
    frames, batch, _ = (int(d) for d in logits.shape)
    max_label = labels.shape[1]
    num_states = 2 * max_label + 1
    dtype = logits.dtype
    ext = np.zeros((batch, num_states), dtype=np.int64)
    ext[:, 1::2] = labels
    s = np.arange(num_states)
    # a state may be entered from two back (skipping a blank) when it is a label that differs
    # from the label two back
    skip = (
        (s[None, :] % 2 == 1)
        & (s[None, :] >= 3)
        & (ext != np.concatenate([np.full((batch, 2), -1), ext[:, :-2]], axis=1))
    )
    valid = s[None, :] <= 2 * label_len[:, None]
    final = (s[None, :] == 2 * label_len[:, None]) | (s[None, :] == 2 * label_len[:, None] - 1)

    log_probs = _core.log_softmax(logits, -1)  # [T, B, C]
    obs = gather(_core.transpose(log_probs, [1, 0, 2]), _ops.constant(ext), axis=2, batch_dims=1)  # [B, T, S]
    obs_t = _core.unstack(obs, 1) if frames else []

    neg = _ops.constant(np.asarray(_LOG_0, dtype=dtype.as_numpy_dtype))
    neg1 = _ops.fill([batch, 1], neg)
    neg2 = _ops.fill([batch, 2], neg)
    skip_t, valid_t = _ops.constant(skip), _ops.constant(valid)
    init = np.full((batch, num_states), _LOG_0, dtype=dtype.as_numpy_dtype)
    init[:, 0] = 0.0
    alpha = _ops.constant(init)
    total = _ops.zeros([batch], dtype=dtype)  # the log-normalizers taken out of alpha
    zero = _ops.zeros([batch], dtype=dtype)
    for t in range(frames):
        active = logit_len > t
        if not active.any():
            break
        one_back = concat([neg1, alpha[:, :-1]], 1)
        two_back = where(skip_t, concat([neg2, alpha[:, :-2]], 1), neg) if num_states > 2 else None
        prev = [alpha, one_back] + ([two_back] if two_back is not None else [])
        step = reduce_logsumexp(stack(prev, axis=0), axis=0) + obs_t[t]
        step = where(valid_t, step, neg)
        norm = reduce_logsumexp(step, axis=1, keepdims=True)  # [B, 1]
        step = step - norm
        if active.all():
            alpha = step
            total = total + _core.reshape(norm, [batch])
        else:
            mask = _ops.constant(active)
            alpha = where(_ops.constant(np.broadcast_to(active[:, None], (batch, num_states)).copy()), step, alpha)
            total = total + where(mask, _core.reshape(norm, [batch]), zero)
    log_likelihood = total + reduce_logsumexp(where(_ops.constant(final), alpha, neg), axis=1)
    loss = -log_likelihood
    if loss.dtype != orig_dtype:
        loss = _ops.cast(loss, orig_dtype)
    return loss


def _int_array(x, what):
    if isinstance(x, Variable):
        x = x.read_value()
    if isinstance(x, (Tensor, _core.Tensor)):
        if not (x.dtype.is_integer):
            raise InvalidArgumentError(
                f"ctc_loss: {what} must be an integer tensor (int32 or int64); got {x.dtype.name}"
            )
        return np.asarray(x.numpy()).astype(np.int64)
    arr = np.asarray(x)
    if arr.dtype.kind not in "iu":
        raise InvalidArgumentError(f"ctc_loss: {what} must be integers (int32 or int64); got {arr.dtype}")
    return arr.astype(np.int64)


def _as_tensor(x):
    if isinstance(x, Variable):
        return x.read_value()
    if isinstance(x, (Tensor, _core.Tensor)):
        return x
    return _ops.convert_to_tensor(x)
