"""``tf.keras.datasets.imdb``: 25,000 training and 25,000 test movie reviews labelled by sentiment
(1 positive, 0 negative), each a list of word indices ranked by frequency (Maas et al., 2011;
Keras's copy)."""

import json

import numpy as np

from ..utils.file_utils import get_file
from ._formats import encode_sequences, load_npz, shuffled

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"


def load_data(
    path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2, index_from=3, **kwargs
):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of index lists and int labels, each
    split shuffled with numpy's RandomState(seed) (training first, then test, from one generator)
    and encoded as Keras does: indices moved up by `index_from`, `start_char` first, reviews of
    `maxlen` words or more dropped, indices outside [skip_top, num_words) replaced by `oov_char`.
    Other keyword arguments are ignored, as Keras ignores them."""
    f = load_npz(get_file(fname=path, origin=_BASE + "imdb.npz", file_hash=_SHA256))
    rng = np.random.RandomState(seed)
    (x_train, y_train), (x_test, y_test) = (shuffled(f[f"x_{s}"], f[f"y_{s}"], rng) for s in ("train", "test"))
    xs, labels, n_train = encode_sequences(
        list(x_train) + list(x_test),
        list(np.concatenate([y_train, y_test])),
        num_words,
        skip_top,
        maxlen,
        start_char,
        oov_char,
        index_from,
        n_train=len(x_train),
    )
    labels = np.asarray(labels, y_train.dtype)
    return (_objects(xs[:n_train]), labels[:n_train]), (_objects(xs[n_train:]), labels[n_train:])


def get_word_index(path="imdb_word_index.json"):
    """{word: rank} (1 = most frequent), before `index_from` is added."""
    with open(get_file(fname=path, origin=_BASE + "imdb_word_index.json", file_hash=_INDEX_MD5)) as f:
        return json.load(f)


def _objects(seqs):
    """A 1-D object array of lists (np.array of lists of unequal length would try to stack them)."""
    out = np.empty(len(seqs), dtype=object)
    out[:] = seqs
    return out
