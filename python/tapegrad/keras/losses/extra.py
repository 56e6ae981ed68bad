"""Keras 3's CTC, Circle and CategoricalGeneralizedCrossEntropy losses (keras/src/losses/losses.py)."""

import numpy as np

from ... import _ops
from ..._ops_math import reduce_logsumexp
from ..._ops_shape import one_hot
from .base import Loss, LossFunctionWrapper, as_tensor, set_mask


def ctc(y_true, y_pred):
    """CTC loss per sample (Keras 3's ``keras.losses.ctc``): ``y_true`` ``[batch, max_length]``
    integer labels where 0 is the blank / padding, ``y_pred`` ``[batch, frames, num_classes]``
    logits (not softmax-normalized). Every frame is used; a label's length is its count of
    non-zero entries.

    >>> import tapegrad as tg
    >>> loss = tg.keras.losses.ctc(tg.constant([[1, 0]]), tg.zeros([1, 2, 3]))
    >>> round(float(loss[0]), 5)  # -log(3/9), as tf.nn.ctc_loss
    1.09861
    """
    y_true = as_tensor(y_true)
    y_pred = as_tensor(y_pred)
    if y_true.shape.rank != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in integer "
            f"format. Received: y_true.shape={tuple(y_true.shape)}"
        )
    if y_pred.shape.rank != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, num_classes)`. "
            f"Received: y_pred.shape={tuple(y_pred.shape)}"
        )
    from ..ops.nn import ctc_loss as _ops_ctc_loss  # keras.ops.ctc_loss (keras.ops imports keras.losses)

    mask_index = 0
    batch, frames = int(y_pred.shape[0]), int(y_pred.shape[1])
    label_length = np.sum(_ops.cast(y_true, "int32").numpy() != mask_index, axis=-1).astype(np.int32)
    return _ops_ctc_loss(y_true, y_pred, label_length, np.full([batch], frames, dtype=np.int32), mask_index=mask_index)


class CTC(LossFunctionWrapper):
    """CTC (Connectionist Temporal Classification) loss, Keras 3's ``keras.losses.CTC``; see `ctc`.

    >>> import tapegrad as tg
    >>> round(float(tg.keras.losses.CTC()(tg.constant([[1, 0]]), tg.zeros([1, 2, 3]))), 5)
    1.09861
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def get_config(self):
        return Loss.get_config(self)


def _pos_neg_masks(query_labels, key_labels, remove_diagonal=True):
    """Keras's build_pos_neg_masks: same-label pairs (minus the diagonal) and different-label pairs."""
    if query_labels.shape.rank == 1:
        query_labels = _ops.reshape(query_labels, [-1, 1])
    if key_labels.shape.rank == 1:
        key_labels = _ops.reshape(key_labels, [-1, 1])
    positive = _ops.equal(query_labels, _ops.transpose(key_labels))
    negative = _ops.logical_not(positive)
    if remove_diagonal:
        n, m = int(np.prod(query_labels.shape)), int(np.prod(key_labels.shape))
        positive = _ops.logical_and(positive, _ops.constant(~np.eye(n, m, dtype=bool)))
    return positive, negative


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss per sample (Keras 3's ``keras.losses.circle``; Sun et al., 2020) between integer
    labels ``y_true`` and L2-normalized embeddings ``y_pred``; by default each sample is compared
    with the others in the batch (``ref_labels`` / ``ref_embeddings`` give another reference set).
    The result carries a mask of its positive entries, which the `Circle` class's mean uses.

    >>> import tapegrad as tg
    >>> emb = tg.constant([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, -0.6]])
    >>> [round(v, 3) for v in tg.keras.losses.circle(tg.constant([0, 0, 1, 1]), emb).numpy().tolist()]
    [38.4, 38.4, 230.4, 230.4]
    """
    y_pred = as_tensor(y_pred)
    y_true = _ops.cast(as_tensor(y_true), "int32")
    ref_embeddings = y_pred if ref_embeddings is None else as_tensor(ref_embeddings)
    ref_labels = y_true if ref_labels is None else _ops.cast(as_tensor(ref_labels), "int32")
    dtype = y_pred.dtype

    def c(v):
        return _ops.constant(v, dtype=dtype)

    optim_pos, optim_neg = margin, 1 + margin
    delta_pos, delta_neg = margin, 1 - margin
    distances = c(1.0) - _ops.matmul(y_pred, _ops.transpose(ref_embeddings))
    distances = _ops.maximum(distances, c(0.0))
    positive_mask, negative_mask = _pos_neg_masks(y_true, ref_labels, remove_diagonal=remove_diagonal)
    pos_float, neg_float = _ops.cast(positive_mask, dtype), _ops.cast(negative_mask, dtype)
    pos_weights = _ops.maximum((c(optim_pos) + distances) * pos_float, c(0.0))
    neg_weights = _ops.maximum((c(optim_neg) - distances) * neg_float, c(0.0))
    pos_wdists = c(-1.0 * gamma) * pos_weights * (c(delta_pos) - distances)
    neg_wdists = c(float(gamma)) * neg_weights * (c(delta_neg) - distances)
    minus_inf = c(-np.inf)
    p_loss = reduce_logsumexp(_ops.where(positive_mask, pos_wdists, minus_inf), axis=1)
    n_loss = reduce_logsumexp(_ops.where(negative_mask, neg_wdists, minus_inf), axis=1)
    loss = _ops.softplus(p_loss + n_loss)
    return set_mask(loss, _ops.greater(loss, c(0.0)))


class Circle(LossFunctionWrapper):
    """Circle loss (Keras 3's ``keras.losses.Circle``); see `circle`. With the mean reductions
    the sum is divided by the number of positive per-sample losses (Keras's mask).

    >>> import tapegrad as tg
    >>> emb = tg.constant([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0], [0.8, -0.6]])
    >>> round(float(tg.keras.losses.Circle()(tg.constant([0, 0, 1, 1]), emb)), 3)
    134.4
    """

    def __init__(
        self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle", dtype=None
    ):
        super().__init__(
            circle,
            name=name,
            reduction=reduction,
            dtype=dtype,
            gamma=gamma,
            margin=margin,
            remove_diagonal=remove_diagonal,
        )
        self.gamma = gamma
        self.margin = margin
        self.remove_diagonal = remove_diagonal

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"gamma": self.gamma, "margin": self.margin, "remove_diagonal": self.remove_diagonal})
        return config


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized Cross Entropy per sample, ``(1 - p**q) / q`` with ``p`` the predicted probability
    of the true class (Keras 3's ``keras.losses.categorical_generalized_cross_entropy``; Zhang and
    Sabuncu, 2018). ``y_true``: integer class indices ``[batch]``; ``y_pred``: probabilities
    ``[batch, num_classes]``; ``q`` in (0, 1).

    >>> import tapegrad as tg
    >>> probs = tg.constant([[0.25, 0.75], [0.5, 0.5]])
    >>> loss = tg.keras.losses.categorical_generalized_cross_entropy([0, 1], probs, q=0.5)
    >>> [round(v, 5) for v in loss.numpy().tolist()]
    [1.0, 0.58579]
    """
    y_pred = as_tensor(y_pred)
    labels = _ops.cast(as_tensor(y_true), "int32")
    onehot = _ops.cast(one_hot(labels, int(y_pred.shape[-1])), y_pred.dtype)
    p = _ops.reduce_sum(y_pred * onehot, axis=-1)
    qc = _ops.constant(q, dtype=y_pred.dtype)
    return (_ops.constant(1.0, dtype=y_pred.dtype) - _ops.pow(p, qc)) / qc


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized Cross Entropy (Keras 3's ``keras.losses.CategoricalGeneralizedCrossEntropy``):
    noise-robust, between cross entropy (``q -> 0``) and MAE (``q -> 1``); see
    `categorical_generalized_cross_entropy`.

    >>> import tapegrad as tg
    >>> loss = tg.keras.losses.CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss(tg.constant([0, 1]), tg.constant([[0.25, 0.75], [0.5, 0.5]]))), 5)
    0.79289
    """

    def __init__(
        self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy", dtype=None
    ):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype, q=q)
        self.q = q

    def get_config(self):
        config = Loss.get_config(self)
        config.update({"q": self.q})
        return config
