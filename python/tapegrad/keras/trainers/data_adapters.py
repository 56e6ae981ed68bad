"""What ``fit``/``evaluate``/``predict`` accept as data, turned into batches of tensors.

* NumPy arrays, tapegrad tensors, and lists/tuples/dicts of them (`ArrayData`): sliced into
  batches of ``batch_size`` (default 32, the last partial batch kept); floats that are not float32
  become float32 (Keras's floatx rule); ``shuffle`` True (a new permutation each epoch), "batch"
  (rows shuffled within each batch) or False.
* Anything else iterable (``tf.data.Dataset``, a Python generator, a list of batches):
  `IterableData`; each element is one batch, ``x`` or ``(x, y)`` or ``(x, y, sample_weight)``.
"""

import math
import warnings

import numpy as np

from ... import nest
from ..._ops import convert_to_tensor
from ..._tensor import Tensor, Variable


def _is_array(x):
    return isinstance(x, (np.ndarray, Tensor, Variable)) or (
        hasattr(x, "__array__") and hasattr(x, "shape") and not hasattr(x, "__next__")
    )


def is_array_data(x):
    """True when `x` is an array or a (nested) list/tuple/dict of arrays, i.e. sliceable data."""
    if x is None:
        return False
    flat = nest.flatten(x)
    return bool(flat) and all(_is_array(a) or a is None for a in flat) and any(_is_array(a) for a in flat)


def _as_numpy(a):
    if a is None:
        return None
    a = np.asarray(a)
    if a.dtype.kind == "f" and a.dtype != np.float32:
        a = a.astype(np.float32)
    return a


def check_data_cardinality(data):
    """Raises Keras's ValueError when the arrays of ``(x, y, sample_weight)`` differ in length."""
    sizes = {int(a.shape[0]) for a in nest.flatten(data) if a is not None}
    if len(sizes) > 1:
        msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number of samples."
        for label, part in zip(["x", "y", "sample_weight"], data):
            msg += f"'{label}' sizes: {', '.join(str(a.shape[0]) for a in nest.flatten(part) if a is not None)}\n"
        raise ValueError(msg)


def class_weight_to_sample_weights(y, class_weight):
    """Per-sample weights from a ``{class: weight}`` dict (classes not in it weigh 1.0); `y` is
    argmax'ed when one-hot, squeezed when its last axis is 1, then rounded to int."""
    y = np.asarray(y)
    sw = np.ones((y.shape[0],), dtype=np.float32)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else np.squeeze(y, axis=-1)
    y = np.round(y).astype("int32")
    for i in range(y.shape[0]):
        sw[i] = class_weight.get(int(y[i]), 1.0)
    return sw


def train_validation_split(arrays, validation_split):
    """Splits ``(x, y, sample_weight)`` arrays into the first ``1 - validation_split`` and the
    last ``validation_split`` of the samples (before any shuffling)."""
    flat = [a for a in nest.flatten(arrays) if a is not None]
    for a in flat:
        if not _is_array(a):
            raise ValueError(
                "Argument `validation_split` is only supported for tensors or NumPy arrays."
                f"Found incompatible type in the input: {[type(t) for t in flat]}"
            )
    n = int(flat[0].shape[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a validation and "
            f"training set as specified by `validation_split={validation_split}`. Either provide more data, or a "
            "different value for the `validation_split` argument."
        )

    def part(lo, hi):
        return nest.pack_sequence_as(arrays, [None if a is None else _as_numpy(a)[lo:hi] for a in nest.flatten(arrays)])

    return part(0, split_at), part(split_at, n)


class ArrayData:
    """In-memory arrays sliced into batches; `epoch()` yields one epoch's batches as tuples
    ``(x,)``/``(x, y)``/``(x, y, sample_weight)`` of tapegrad tensors (same nesting as given)."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None):
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
            if y is None or len(nest.flatten(y)) != 1:
                raise ValueError("`class_weight` is only supported for Models with a single output.")
            sample_weight = class_weight_to_sample_weights(_as_numpy(nest.flatten(y)[0]), class_weight)
        data = tuple(
            nest.pack_sequence_as(p, [_as_numpy(a) for a in nest.flatten(p)]) if p is not None else None
            for p in (x, y, sample_weight)
        )
        check_data_cardinality(data)
        while data and data[-1] is None:
            data = data[:-1]
        self._struct = data
        self._flat = [a for a in nest.flatten(data)]
        self.num_samples = int(next(a for a in self._flat if a is not None).shape[0])
        if batch_size is None:
            batch_size = int(math.ceil(self.num_samples / steps)) if steps else 32
        self.batch_size = max(1, int(batch_size))
        self._batches_per_pass = int(math.ceil(self.num_samples / self.batch_size))
        self.num_batches = self._batches_per_pass if steps is None else int(steps)
        self.shuffle = shuffle
        self._cursor = 0  # batches handed out of the current pass, when steps cross passes
        self._order = None

    def _new_order(self):
        n = self.num_samples
        if self.shuffle is True:
            return np.random.permutation(n)
        if self.shuffle == "batch":
            order = np.arange(n)
            for b in range(self._batches_per_pass):
                np.random.shuffle(order[b * self.batch_size : (b + 1) * self.batch_size])
            return order
        return None

    def _batch(self, i):
        lo, hi = i * self.batch_size, min((i + 1) * self.batch_size, self.num_samples)
        if self._order is None:
            parts = [None if a is None else convert_to_tensor(a[lo:hi]) for a in self._flat]
        else:
            idx = self._order[lo:hi]
            parts = [None if a is None else convert_to_tensor(a[idx]) for a in self._flat]
        return nest.pack_sequence_as(self._struct, parts)

    def epoch(self):
        for _ in range(self.num_batches):
            if self._cursor == 0:
                self._order = self._new_order()
            yield self._batch(self._cursor)
            self._cursor = (self._cursor + 1) % self._batches_per_pass
        if self.num_batches == self._batches_per_pass:
            self._cursor = 0


class IterableData:
    """A dataset, generator or other iterable of batches. A re-iterable object (a Dataset, a list)
    is iterated afresh each epoch unless `steps` cuts epochs short, in which case one iterator
    carries across epochs (as Keras does); a generator always carries over."""

    def __init__(self, data, steps=None):
        self._data = data
        self._is_iterator = iter(data) is data if hasattr(data, "__iter__") else True
        n = None
        for attr in ("cardinality",):
            fn = getattr(data, attr, None)
            if callable(fn):
                try:
                    n = int(np.asarray(fn()))
                except Exception:  # noqa: BLE001 -- unknown cardinality
                    n = None
                if n is not None and n < 0:
                    n = None
        if n is None and not self._is_iterator and hasattr(data, "__len__"):
            n = len(data)
        self.num_batches = int(steps) if steps is not None else n
        self._steps = steps
        self._iterator = None
        self.ran_out = False

    def epoch(self):
        if self._iterator is None or (self._steps is None and not self._is_iterator):
            self._iterator = iter(self._data)
        count = 0
        while self._steps is None or count < self._steps:
            try:
                batch = next(self._iterator)
            except StopIteration:
                if self._steps is not None:
                    self.ran_out = True
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that your dataset or generator "
                        "can generate at least `steps_per_epoch * epochs` batches. You may need to use the "
                        "`.repeat()` function when building your dataset.",
                        stacklevel=3,
                    )
                    self._iterator = None
                return
            count += 1
            yield _batch_to_tensors(batch)
        if self._steps is None:
            self.num_batches = count


def _batch_to_tensors(batch):
    if isinstance(batch, list):
        batch = tuple(batch)
    return nest.pack_sequence_as(
        batch,
        [
            a if a is None or isinstance(a, (Tensor, Variable)) else convert_to_tensor(_as_numpy(a))
            for a in nest.flatten(batch)
        ],
    )


def make_data(x, y=None, sample_weight=None, batch_size=None, steps=None, shuffle=False, class_weight=None, kind="fit"):
    """`ArrayData` for arrays, `IterableData` for datasets/generators (checking the arguments that
    only arrays accept)."""
    if is_array_data(x):
        return ArrayData(
            x, y, sample_weight, batch_size=batch_size, steps=steps, shuffle=shuffle, class_weight=class_weight
        )
    if x is None:
        raise ValueError(
            "Unexpected value for `x`: None. Pass NumPy arrays, tensors, a tf.data.Dataset or a Python generator."
        )
    if y is not None:
        raise ValueError(
            "When providing `x` as a tf.data.Dataset or a generator, `y` should not be passed. "
            "Instead, the targets should be included as part of the dataset or generator."
        )
    if sample_weight is not None:
        raise ValueError(
            "When providing `x` as a tf.data.Dataset or a generator, `sample_weight` should not be "
            "passed. Instead, the sample weights should be included as part of the dataset or "
            "generator."
        )
    if class_weight is not None:
        raise NotImplementedError(
            "`class_weight` with a dataset or generator is not supported by tapegrad yet: "
            "yield (x, y, sample_weight) batches instead."
        )
    if not hasattr(x, "__iter__") and not hasattr(x, "__next__"):
        raise ValueError(f"Unrecognized data type: x={x} (of type {type(x)})")
    if hasattr(x, "_set_shuffle"):  # a keras.utils.PyDataset: fit's `shuffle` reorders its batches
        x._set_shuffle(bool(shuffle) and kind == "fit")
    return IterableData(x, steps=steps)
