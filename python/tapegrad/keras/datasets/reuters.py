"""``tf.keras.datasets.reuters``: 11,228 Reuters newswires over 46 topics, each a list of word
indices ranked by frequency (Keras's copy of Reuters-21578)."""

import json

import numpy as np

from ..utils.file_utils import get_file
from ._formats import encode_sequences, load_npz, shuffled
from .imdb import _objects

_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"
_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply", "coffee", "sugar",
    "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp",
    "meal-feed", "alum", "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi", "iron-steel",
    "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog",
    "lead",
)  # fmt: skip


def load_data(
    path="reuters.npz",
    num_words=None,
    skip_top=0,
    maxlen=None,
    test_split=0.2,
    seed=113,
    start_char=1,
    oov_char=2,
    index_from=3,
):
    """``(x_train, y_train), (x_test, y_test)``: object arrays of index lists and topic labels
    (0-45), shuffled with numpy's RandomState(seed), encoded as imdb.load_data, then split:
    the first int(n * (1 - test_split)) for training."""
    f = load_npz(get_file(fname=path, origin=_BASE + "reuters.npz", file_hash=_SHA256))
    x, y = shuffled(f["x"], f["y"], np.random.RandomState(seed))
    xs, labels, _ = encode_sequences(list(x), list(y), num_words, skip_top, maxlen, start_char, oov_char, index_from)
    cut = int(len(xs) * (1 - test_split))
    return (_objects(xs[:cut]), np.array(labels[:cut])), (_objects(xs[cut:]), np.array(labels[cut:]))


def get_word_index(path="reuters_word_index.json"):
    """{word: rank} (1 = most frequent), before `index_from` is added."""
    with open(get_file(path, origin=_BASE + "reuters_word_index.json", file_hash=_INDEX_MD5)) as f:
        return json.load(f)


def get_label_names():
    """The 46 topics, in label order."""
    return _LABELS
