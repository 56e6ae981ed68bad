"""``tf.data.Dataset``: a numpy-backed input pipeline with TF's transformations and semantics.

Elements are nests (tuples, namedtuples, dicts; a list is a value, converted to one tensor, as in
tf.data) of tapegrad Tensors. Inside the pipeline an element is a flat tuple of leaves (numpy arrays
or Tensors) and each dataset knows its nest of TensorSpecs (`element_spec`), so packing happens once,
where the user receives the element.

Note [Row plans]
A dataset built only from slicing transformations over arrays (`from_tensor_slices`, `from_tensors`,
`range`, then `shuffle`, `take`, `skip`, `shard`, `repeat`, `cache`) can describe one iteration as a
stream of row numbers into its source arrays: `_rows()` returns (source, chunks of int64 indices).
`batch` over such a dataset gathers each batch with one fancy index per component
(`source._take(idx)`: a slice when the rows are consecutive) and converts it to a Tensor once, and
`shuffle` runs the buffer over row numbers, vectorised (Note [Shuffle buffer] in _pipeline.py). Any
other dataset returns None and works element by element through `_elements()`.

Differences from TF, by design: `map_func` and `filter`'s predicate run eagerly on each element (as
TF's `tf.data.experimental.enable_debug_mode()`), so their Python side effects happen per element;
`map`'s element_spec is the structure and dtypes of `map_func` applied to the first element, with
each output's static shape taken from an input component it is compatible with (shape-preserving
maps keep TF's static shape) and otherwise all dims unknown (TF, tracing symbolically, knows more
dims, e.g. after a reshape to a constant shape). Random orders are reproducible from seeds but are not TF's numbers.
"""

import contextlib
import enum
import itertools
import numbers
import sys
import threading

import numpy as np

from .. import _core
from .. import random as _random
from .._dtypes import as_dtype, int64
from .._tensor import Tensor, TensorShape
from ..errors import InvalidArgumentError
from . import _pipeline
from ._spec import UNKNOWN_SHAPE, as_shape, dtype_of_spec, make_spec, relax, shape_of_spec, shapes_compatible, spec_of

AUTOTUNE = -1
INFINITE = -1
UNKNOWN = -2
_CHUNK = 1 << 16  # rows per index chunk of a lazily enumerated source
_MAX_SHUFFLE_ROWS = 1 << 27  # beyond this a shuffle works per element instead of over row numbers
_AUTOTUNE_PREFETCH = 4


# --- nests: tuples and dicts are structure, everything else (lists included) is a leaf --------------


def _flatten(s):
    out = []
    _flatten_into(s, out)
    return out


def _flatten_into(s, out):
    if isinstance(s, dict):
        for k in sorted(s):
            _flatten_into(s[k], out)
    elif isinstance(s, tuple):
        for v in s:
            _flatten_into(v, out)
    else:
        out.append(s)


def _pack(structure, flat):
    it = iter(flat)
    return _pack_from(structure, it)


def _pack_from(s, it):
    if isinstance(s, dict):
        vals = {k: _pack_from(s[k], it) for k in sorted(s)}
        return type(s)((k, vals[k]) for k in s)
    if isinstance(s, tuple):
        vals = [_pack_from(v, it) for v in s]
        return type(s)(*vals) if hasattr(s, "_fields") else tuple(vals)
    return next(it)


def _map_nest(fn, s):
    return _pack(s, [fn(x) for x in _flatten(s)])


# --- leaves -------------------------------------------------------------------------------------


def _as_array(value):
    """A dataset input leaf as a numpy array (a view of a Tensor; Python values by TF's dtype rules)."""
    if isinstance(value, np.ndarray):
        as_dtype(value.dtype)  # TypeError naming the dtype when tapegrad cannot hold it
        return value
    if isinstance(value, _core.Variable):
        return np.array(value.read_value())  # a snapshot, as TF takes
    if isinstance(value, Tensor):
        return np.asarray(value)
    if isinstance(value, list) and any(isinstance(v, (np.ndarray, np.generic, Tensor)) for v in value):
        return _as_array(np.stack([_as_array(v) for v in value]))  # arrays keep their dtype, as in TF
    return np.asarray(_core.convert_to_tensor(value))


def _tensor(value):
    if isinstance(value, (Tensor, Dataset)):  # a Dataset leaf: a component of a `window` element
        return value
    return _core.convert_to_tensor(value)


def _tensors(flat):
    return tuple(_tensor(v) for v in flat)


def _to_output_leaf(value):
    """A value returned by map_func as a Tensor (Python values and arrays by TF's conversion rules)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, _core.Variable):
        return value.read_value()
    return _core.convert_to_tensor(value)


def _call_with_element(fn, element):
    """TF's rule: a tuple element is unpacked into positional arguments; anything else is one argument."""
    return fn(*element) if type(element) is tuple else fn(element)


def _int_arg(value, name):
    if isinstance(value, (Tensor, np.ndarray)):
        value = np.asarray(value)
        if value.ndim != 0 or value.dtype.kind not in "iu":
            raise TypeError(f"`{name}` must be an integer scalar, got {value!r}")
        return int(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer scalar, got {value!r}")
    return int(value)


_peek_state = threading.local()


@contextlib.contextmanager
def _peeking():
    """While a map computes its element_spec from the first element: no shuffle epoch is used up and
    no cache is written."""
    old = getattr(_peek_state, "on", False)
    _peek_state.on = True
    try:
        yield
    finally:
        _peek_state.on = old


def _is_peeking():
    return getattr(_peek_state, "on", False)


def _first_element(ds):
    with _peeking():
        gen = ds._elements()
        try:
            return next(gen, None)
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()


def _regroup(chunks, size, drop_remainder):
    """Index chunks re-cut into arrays of `size` rows (the last one shorter unless dropped)."""
    parts, count = [], 0
    for c in chunks:
        while len(c):
            part, c = c[: size - count], c[size - count :]
            parts.append(part)
            count += len(part)
            if count == size:
                yield parts[0] if len(parts) == 1 else np.concatenate(parts)
                parts, count = [], 0
    if count and not drop_remainder:
        yield parts[0] if len(parts) == 1 else np.concatenate(parts)


def _arange_chunks(n):
    for i in range(0, n, _CHUNK):
        yield np.arange(i, min(i + _CHUNK, n), dtype=np.int64)


# --- the Dataset class --------------------------------------------------------------------------


class Dataset:
    """A sequence of elements (nests of tensors) built from sources and transformations, as ``tf.data``.

    >>> import tapegrad as tg
    >>> ds = tg.data.Dataset.range(6).map(lambda x: x * 2).batch(4)
    >>> [b.numpy().tolist() for b in ds]
    [[0, 2, 4, 6], [8, 10]]
    """

    _inputs = ()

    # --- what subclasses provide ----------------------------------------------------------------
    def _compute_structure(self):
        raise NotImplementedError

    def _card(self):
        return UNKNOWN

    def _rows(self):
        """None, or (source, iterator of int64 index chunks) for one iteration (Note [Row plans])."""
        return None

    def _elements(self):
        """One iteration: flat tuples of leaves (numpy arrays or Tensors); from the row plan when
        there is one, else ``_elements_without_rows``."""
        plan = self._rows()
        if plan is not None:
            return _elements_from_rows(*plan)
        return self._elements_without_rows()

    def _elements_without_rows(self):
        """One iteration when ``_rows`` gives no plan (a dataset with a row-only fast path says how)."""
        raise NotImplementedError(f"{type(self).__name__} has neither rows nor elements")

    @property
    def _structure(self):
        s = self.__dict__.get("_structure_cache")
        if s is None:
            s = self.__dict__["_structure_cache"] = self._compute_structure()
        return s

    # --- properties and Python protocol ---------------------------------------------------------
    @property
    def element_spec(self):
        """The nest of TensorSpecs of one element."""
        return self._structure

    def cardinality(self):
        """The number of elements as an int64 scalar: INFINITE_CARDINALITY (-1) or UNKNOWN_CARDINALITY (-2)
        when it is infinite or not known without iterating.

        >>> import tapegrad as tg
        >>> int(tg.data.Dataset.range(10).batch(3).cardinality()), int(tg.data.Dataset.range(3).repeat().cardinality())
        (4, -1)
        """
        return _core.convert_to_tensor(np.int64(self._card()))

    def __len__(self):
        n = self._card()
        if n == INFINITE:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return n

    def __bool__(self):
        return True

    def __iter__(self):
        return _Iterator(self)

    def __repr__(self):
        return f"<{type(self).__name__} element_spec={self.element_spec}>"

    # --- sources --------------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """A dataset of the slices of `tensors` along their first dimension (all components share it).

        >>> import tapegrad as tg
        >>> [(int(a), float(b)) for a, b in tg.data.Dataset.from_tensor_slices(([1, 2], [3.0, 4.0]))]
        [(1, 3.0), (2, 4.0)]
        """
        return _TensorSliceDataset(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset with the single element `tensors`."""
        return _TensorDataset(tensors)

    @staticmethod
    def range(*args, **kwargs):
        """Like Python's range: int64 elements (or `dtype=`).

        >>> import tapegrad as tg
        >>> list(tg.data.Dataset.range(1, 8, 3).as_numpy_iterator())
        [np.int64(1), np.int64(4), np.int64(7)]
        """
        return _RangeDataset(*args, **kwargs)

    @staticmethod
    def zip(*args, datasets=None, name=None):
        """Elements of the datasets in `datasets` (a nest of datasets) side by side, to the shortest."""
        if datasets is not None and args:
            raise TypeError("Both `*args` and `datasets` cannot be set.")
        if datasets is None:
            if not args:
                raise TypeError("Must pass at least one dataset to `zip`.")
            datasets = args[0] if len(args) == 1 else args
        return _ZipDataset(datasets)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None, name=None):
        """A dataset of the elements `generator(*args)` yields (called anew on each iteration)."""
        return _GeneratorDataset(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        raise NotImplementedError(
            "tapegrad's tf.data has no string tensors: Dataset.list_files is not "
            "supported; build file lists in Python and use from_generator"
        )

    # --- transformations ------------------------------------------------------------------------
    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Consecutive elements stacked into batches of `batch_size` (the last one smaller unless
        `drop_remainder`)."""
        return _BatchDataset(self, batch_size, drop_remainder, num_parallel_calls, deterministic)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Like batch, padding each component to `padded_shapes` (None or -1 dims: the batch's maximum).

        >>> import tapegrad as tg
        >>> ds = tg.data.Dataset.range(1, 4).map(lambda x: tg.fill([x], x)).padded_batch(3)
        >>> next(iter(ds)).numpy().tolist()
        [[1, 0, 0], [2, 2, 0], [3, 3, 3]]
        """
        return _PaddedBatchDataset(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None):
        """Splits each element's components along their first dimension into elements."""
        return _UnbatchDataset(self)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """`map_func` applied to each element (a tuple element is unpacked into arguments)."""
        return _MapDataset(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None):
        """The elements for which `predicate` returns True (a bool scalar)."""
        return _FilterDataset(self, predicate)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None, name=None):
        """Shuffles with a buffer of `buffer_size` elements (Note [Shuffle buffer]); a new order each
        iteration unless `reshuffle_each_iteration=False`. Orders are reproducible from `seed` and
        `tf.random.set_seed` but differ from TF's.

        >>> import tapegrad as tg
        >>> sorted(int(x) for x in tg.data.Dataset.range(5).shuffle(5, seed=1))
        [0, 1, 2, 3, 4]
        """
        return _ShuffleDataset(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None):
        """The dataset `count` times (None or -1: forever)."""
        return _RepeatDataset(self, count)

    def take(self, count, name=None):
        """The first `count` elements (-1: all)."""
        return _TakeDataset(self, count)

    def skip(self, count, name=None):
        """All but the first `count` elements (-1: skips everything)."""
        return _SkipDataset(self, count)

    def shard(self, num_shards, index, name=None):
        """Elements i with i % num_shards == index."""
        return _ShardDataset(self, num_shards, index)

    def enumerate(self, start=0, name=None):
        """(int64 counter from `start`, element) pairs."""
        return Dataset.zip((_RangeDataset(start, np.iinfo(np.int64).max), self))

    def prefetch(self, buffer_size, name=None):
        """Elements produced ahead by a background thread, up to `buffer_size` (AUTOTUNE: a few)."""
        return _PrefetchDataset(self, buffer_size)

    def cache(self, filename="", name=None):
        """Elements kept in memory after the first full iteration; later iterations replay them."""
        return _CacheDataset(self, filename)

    def concatenate(self, dataset, name=None):
        """This dataset's elements, then `dataset`'s (their element types must match).

        >>> import tapegrad as tg
        >>> list(tg.data.Dataset.range(2).concatenate(tg.data.Dataset.range(5, 7)).as_numpy_iterator())
        [np.int64(0), np.int64(1), np.int64(5), np.int64(6)]
        """
        return _ConcatenateDataset(self, dataset)

    def flat_map(self, map_func, name=None):
        """The elements of the datasets `map_func` returns for each element, one after the other."""
        return _FlatMapDataset(self, map_func)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Windows of `size` elements (every `stride`-th), a new one each `shift` (default `size`)
        elements; each window is a dataset (one per component of a nested element), as TF.

        >>> import tapegrad as tg
        >>> ds = tg.data.Dataset.range(7).window(3, shift=2, drop_remainder=True)
        >>> [w.numpy().tolist() for w in ds.flat_map(lambda w: w.batch(3))]
        [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
        """
        return _WindowDataset(self, size, shift, stride, drop_remainder)

    def interleave(
        self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None, deterministic=None, name=None
    ):
        """The elements of the datasets `map_func` returns, `block_length` at a time from each of
        `cycle_length` open ones in turn (TF's order; `cycle_length` None: the number of CPU cores).

        >>> import tapegrad as tg
        >>> ds = tg.data.Dataset.range(3).interleave(lambda x: tg.data.Dataset.range(x * 10, x * 10 + 3), 2)
        >>> [int(x) for x in ds]
        [0, 10, 1, 11, 2, 12, 20, 21, 22]
        """
        return _InterleaveDataset(self, map_func, cycle_length, block_length)

    def scan(self, initial_state, scan_func, name=None):
        """`scan_func(state, element)` returns `(new_state, output)`; the outputs, state carried along.

        >>> import tapegrad as tg
        >>> [int(x) for x in tg.data.Dataset.range(5).scan(tg.constant(0, tg.int64), lambda s, x: (s + x, s + x))]
        [0, 1, 3, 6, 10]
        """
        return _ScanDataset(self, initial_state, scan_func)

    def take_while(self, predicate, name=None):
        """The elements up to (not including) the first for which `predicate` is False."""
        return _TakeWhileDataset(self, predicate)

    def unique(self, name=None):
        """Each distinct element once, in first-seen order (int32, int64 or string scalars)."""
        return _UniqueDataset(self)

    @staticmethod
    def counter(start=0, step=1, dtype=int64, name=None):
        """start, start + step, ... forever, as scalars of `dtype`."""
        return _CounterDataset(start, step, dtype)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """For each int64 scalar `i` of `choice_dataset`, the next element of `datasets[i]`.

        >>> import tapegrad as tg
        >>> ds = tg.data.Dataset.choose_from_datasets(
        ...     [tg.data.Dataset.range(3), tg.data.Dataset.range(10, 13)],
        ...     tg.data.Dataset.from_tensor_slices(tg.constant([0, 1, 1, 0], tg.int64)))
        >>> [int(x) for x in ds]
        [0, 10, 11, 1]
        """
        return _ChooseDataset(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def sample_from_datasets(
        datasets, weights=None, seed=None, stop_on_empty_dataset=False, rerandomize_each_iteration=None
    ):
        """Elements drawn from `datasets` at random with probabilities `weights` (uniform when None);
        reproducible from `seed` but not TF's random numbers. An exhausted dataset drops out (the
        sampling stops instead with `stop_on_empty_dataset=True`)."""
        ds = _SampleDataset(datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration)
        if int(np.count_nonzero(ds._weights)) == 1:  # as TF: the one dataset with a nonzero weight itself
            return ds._datasets[int(np.flatnonzero(ds._weights)[0])]
        return ds

    def with_options(self, options, name=None):
        """This dataset with `options` (a ``tf.data.Options``) merged into its options."""
        if not isinstance(options, Options):
            raise TypeError(f"`options` must be a `tf.data.Options`, got {type(options).__name__}")
        return _OptionsDataset(self, options)

    def options(self):
        """The ``tf.data.Options`` set on this dataset and its inputs (later ones win)."""
        return _merged_options(self)

    def apply(self, transformation_func):
        """`transformation_func(self)`, which must return a Dataset."""
        ds = transformation_func(self)
        if not isinstance(ds, Dataset):
            raise TypeError("`transformation_func` must return a `tf.data.Dataset` object.")
        return ds

    # --- consuming ------------------------------------------------------------------------------
    def as_numpy_iterator(self):
        """An iterator over the elements as numpy values (scalars as numpy scalars).

        >>> import tapegrad as tg
        >>> list(tg.data.Dataset.from_tensor_slices({"a": [1, 2]}).as_numpy_iterator())
        [{'a': np.int32(1)}, {'a': np.int32(2)}]
        """
        return _NumpyIterator(self)

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds `reduce_func(state, element)` over the elements, from `initial_state`.

        >>> import tapegrad as tg
        >>> int(tg.data.Dataset.range(5).reduce(tg.constant(0, tg.int64), lambda s, x: s + x))
        10
        """
        state = _map_nest(_to_output_leaf, initial_state)
        for element in self:
            state = _map_nest(_to_output_leaf, reduce_func(state, element))
        return state

    def get_single_element(self, name=None):
        """The dataset's only element (InvalidArgumentError when it has none or more than one)."""
        it = iter(self)
        first = next(it, _MISSING)
        if first is _MISSING:
            raise InvalidArgumentError("Dataset was empty.")
        if next(it, _MISSING) is not _MISSING:
            raise InvalidArgumentError("Dataset had more than one element.")
        return first


_MISSING = object()


def _elements_from_rows(source, chunks):
    for idx in chunks:
        cols = source._take(idx)
        for i in range(len(idx)):
            yield tuple(c[i, ...] for c in cols)


class _Iterator:
    """Iterator over a dataset's elements as nests of Tensors (TF's OwnedIterator)."""

    def __init__(self, dataset):
        self._structure = dataset._structure
        self._dataset = dataset
        self._gen_ = None  # started by the first next(): iter() alone uses up no shuffle epoch
        self.element_spec = self._structure

    @property
    def _gen(self):
        if self._gen_ is None:
            self._gen_ = self._dataset._elements()
            self._dataset = None
        return self._gen_

    def __iter__(self):
        return self

    def __next__(self):
        _not_in_a_trace()
        return _pack(self._structure, _tensors(next(self._gen)))

    def get_next(self):
        """The next element; StopIteration at the end (tapegrad has no OutOfRangeError)."""
        return self.__next__()


def _numpy_value(t):
    a = t.numpy()
    return a[()] if a.ndim == 0 else a


def _not_in_a_trace():
    """Elements drawn while a tf.function traces would be baked into the trace (a replay would see
    the same batch every call): such a trace runs eagerly instead (See Note [Poisoned traces])."""
    if _core._tracing():
        _core._trace_poison("a tf.data iterator advanced inside the function (its elements would be baked in)")


class _NumpyIterator(_Iterator):
    def __next__(self):
        _not_in_a_trace()
        return _pack(self._structure, [_numpy_value(_tensor(v)) for v in next(self._gen)])

    def __repr__(self):
        return "<tapegrad.data._NumpyIterator object>"


# --- sources ------------------------------------------------------------------------------------


def _normalize_element(tensors):
    """Top-level and nested lists are values (converted to tensors); tuples and dicts are structure."""
    flat = _flatten(tensors)
    if not flat:
        raise ValueError("Invalid `element`. `element` should not be empty.")
    return _pack(tensors, [None] * len(flat)), [_as_array(v) for v in flat]


class _TensorSliceDataset(Dataset):
    def __init__(self, tensors):
        self._shape_nest, arrays = _normalize_element(tensors)
        for a in arrays:
            if a.ndim < 1:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1")
        for a in arrays[1:]:
            if a.shape[0] != arrays[0].shape[0]:
                raise ValueError(
                    f"Dimensions {arrays[0].shape[0]} and {a.shape[0]} are not compatible "
                    f"(from_tensor_slices components of shapes {arrays[0].shape} and {a.shape} "
                    "must have the same first dimension)"
                )
        self._arrays = arrays
        self._n = arrays[0].shape[0]
        # Tensor sources are gathered by the engine: one copy straight into the batch's Tensor
        self._sources = [v if isinstance(v, Tensor) else None for v in _flatten(tensors)]

    def _compute_structure(self):
        return _pack(self._shape_nest, [make_spec(a.shape[1:], a.dtype) for a in self._arrays])

    def _card(self):
        return self._n

    def _rows(self):
        return self, _arange_chunks(self._n)

    def _take(self, idx):
        return [self._take_one(a, idx) for a in self._arrays]

    @staticmethod
    def _take_one(a, idx):
        """Rows `idx` of `a`: a view when they are consecutive, else one fancy index."""
        if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and (len(idx) < 3 or np.all(np.diff(idx) == 1)):
            return a[int(idx[0]) : int(idx[-1]) + 1]
        return np.take(a, idx, axis=0)

    def _take_tensors(self, idx):
        """Rows `idx` of every component as Tensors: one gather and one copy (numpy sources: a slice
        or fancy index, then the copy into the Tensor; Tensor sources: the engine's gather)."""
        if all(t is None for t in self._sources):
            return _tensors(self._take(idx))
        one = _TensorSliceDataset._take_one
        return tuple(
            _core.gather(t, idx, 0, 0) if t is not None else _tensor(one(a, idx))
            for a, t in zip(self._arrays, self._sources)
        )


class _TensorDataset(_TensorSliceDataset):
    def __init__(self, tensors):
        self._shape_nest, arrays = _normalize_element(tensors)
        self._arrays = [a[None] for a in arrays]
        self._n = 1
        self._sources = [None] * len(arrays)


class _RangeDataset(Dataset):
    def __init__(self, *args, dtype=int64, name=None):
        if not 1 <= len(args) <= 3:
            raise ValueError(f"Invalid `args`. The length of `args` should be between 1 and 3 but was {len(args)}.")
        vals = [_int_arg(a, "args") for a in args]
        start, stop, step = (0, vals[0], 1) if len(vals) == 1 else (vals[0], vals[1], vals[2] if len(vals) == 3 else 1)
        if step == 0:
            raise InvalidArgumentError("step must be a non-zero integer.")
        self._start, self._step = start, step
        self._n = len(range(start, stop, step))
        self._dtype = as_dtype(dtype)

    def _compute_structure(self):
        return make_spec((), self._dtype)

    def _card(self):
        return self._n

    def _rows(self):
        return self, _arange_chunks(self._n)

    def _take(self, idx):
        return [(self._start + idx * self._step).astype(self._dtype.as_numpy_dtype)]

    def _take_tensors(self, idx):
        return _tensors(self._take(idx))


class _GeneratorDataset(Dataset):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError("`generator` must be a Python callable.")
        if output_signature is not None:
            if output_types is not None:
                raise TypeError(
                    "The `output_types` argument can not be used together with the `output_signature` argument."
                )
            if output_shapes is not None:
                raise TypeError(
                    "The `output_shapes` argument can not be used together with the `output_signature` argument."
                )
            structure = _map_nest(lambda s: make_spec(shape_of_spec(s), dtype_of_spec(s)), output_signature)
        else:
            if output_types is None:
                if output_shapes is not None:
                    raise TypeError(
                        "The `output_shapes` argument must not be specified without the `output_types` argument."
                    )
                raise TypeError(
                    "To specify the output signature you need to provide either the "
                    "`output_signature` argument or the `output_types` argument."
                )
            types = _flatten(output_types)
            shapes = [None] * len(types) if output_shapes is None else _flatten_shapes(output_shapes, output_types)
            structure = _pack(output_types, [make_spec(as_shape(s), t) for s, t in zip(shapes, types)])
        self._generator = generator
        self._args = () if args is None else tuple(np.asarray(_core.convert_to_tensor(a)) for a in args)
        self._struct = structure

    def _compute_structure(self):
        return self._struct

    def _elements(self):
        specs = _flatten(self._struct)
        for value in self._generator(*self._args):
            flat = _flatten(tuple(value) if isinstance(value, list) and len(specs) > 1 else value)
            if len(flat) != len(specs):
                raise InvalidArgumentError(
                    "TypeError: `generator` yielded an element that did not match the expected structure. "
                    f"The expected structure was {self._struct}, but the yielded element was {value!r}."
                )
            out = []
            for v, spec in zip(flat, specs):
                dtype = dtype_of_spec(spec).as_numpy_dtype
                try:
                    a = np.asarray(v, dtype=dtype)
                except (TypeError, ValueError) as e:
                    raise InvalidArgumentError(
                        "TypeError: `generator` yielded an element that could not be converted to the expected "
                        f"type. The expected type was {np.dtype(dtype).name}, but the yielded element was {v!r}."
                    ) from e
                shape = shape_of_spec(spec)
                if not shapes_compatible(TensorShape(a.shape), shape):
                    raise InvalidArgumentError(
                        f"TypeError: `generator` yielded an element of shape {a.shape} where an element of "
                        f"shape {shape} was expected."
                    )
                out.append(a)
            yield tuple(out)


def _flatten_shapes(output_shapes, output_types):
    """Shapes per type leaf: a shape (list/tuple of dims) is a leaf here, matched to the types' nest."""
    n = len(_flatten(output_types))
    if n == 1 and not isinstance(output_types, (tuple, dict)):
        return [output_shapes]
    if isinstance(output_types, dict):
        return [s for k in sorted(output_types) for s in _flatten_shapes(output_shapes[k], output_types[k])]
    return [s for t, sh in zip(output_types, output_shapes) for s in _flatten_shapes(sh, t)]


# --- transformations ----------------------------------------------------------------------------


class _UnaryDataset(Dataset):
    def __init__(self, input_dataset):
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"Expected a tf.data.Dataset, got {type(input_dataset).__name__}")
        self._input = input_dataset
        self._inputs = (input_dataset,)

    def _compute_structure(self):
        return self._input._structure

    def _card(self):
        return self._input._card()


def _check_batch_size(batch_size):
    b = _int_arg(batch_size, "batch_size")
    if b <= 0:
        raise InvalidArgumentError("Batch size must be greater than zero.")
    return b


def _num_calls(num_parallel_calls):
    if num_parallel_calls is None:
        return None
    n = _int_arg(num_parallel_calls, "num_parallel_calls")
    if n == AUTOTUNE:
        return _pipeline.autotune_threads()
    if n <= 0:
        raise InvalidArgumentError("num_parallel_calls must be greater than zero.")
    return n


class _BatchDataset(_UnaryDataset):
    def __init__(self, input_dataset, batch_size, drop_remainder, num_parallel_calls, deterministic):
        super().__init__(input_dataset)
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)
        self._calls = _num_calls(num_parallel_calls)
        self._deterministic = deterministic is None or bool(deterministic)

    def _compute_structure(self):
        lead = self._batch_size if self._drop else None
        return _map_nest(
            lambda s: make_spec(_prepend(lead, shape_of_spec(s)), dtype_of_spec(s)), self._input._structure
        )

    def _card(self):
        n = self._input._card()
        if n < 0:
            return n
        return n // self._batch_size if self._drop else -(-n // self._batch_size)

    def _elements(self):
        plan = self._input._rows()
        if plan is not None:
            source, chunks = plan
            groups = _regroup(chunks, self._batch_size, self._drop)
            build = source._take_tensors
        else:
            groups = _group(self._input._elements(), self._batch_size, self._drop)
            build = _stack
        if self._calls is None:
            return map(build, groups)
        return _pipeline.parallel_map(groups, build, self._calls, self._deterministic)


def _prepend(lead, shape):
    return UNKNOWN_SHAPE if shape is UNKNOWN_SHAPE else TensorShape((lead,) + tuple(shape))


def _group(elements, size, drop_remainder):
    buf = []
    for e in elements:
        buf.append(e)
        if len(buf) == size:
            yield buf
            buf = []
    if buf and not drop_remainder:
        yield buf


def _stack(elements):
    out = []
    for j in range(len(elements[0])):
        arrays = [np.asarray(e[j]) for e in elements]
        s0 = arrays[0].shape
        for i, a in enumerate(arrays):
            if a.shape != s0:
                raise InvalidArgumentError(
                    f"Cannot batch tensors with different shapes in component {j}. First element had shape "
                    f"{list(s0)} and element {i} had shape {list(a.shape)}."
                )
        out.append(_core.convert_to_tensor(np.stack(arrays)))
    return tuple(out)


class _PaddedBatchDataset(_UnaryDataset):
    def __init__(self, input_dataset, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(input_dataset)
        self._batch_size = _check_batch_size(batch_size)
        self._drop = bool(drop_remainder)
        specs = _flatten(input_dataset._structure)
        if padded_shapes is None:
            shapes = []
            for i, s in enumerate(specs):
                if shape_of_spec(s) is UNKNOWN_SHAPE:
                    raise ValueError(
                        f"You must provide `padded_shapes` argument because component {i} has unknown rank."
                    )
                shapes.append(TensorShape([None] * len(shape_of_spec(s))))  # TF: every dim to the batch max
        else:
            shapes = [as_shape(_neg_to_none(p)) for p in _flatten_shapes(padded_shapes, input_dataset._structure)]
            for p, s in zip(shapes, specs):
                if not shapes_compatible(p, shape_of_spec(s)):
                    raise ValueError(
                        f"The padded shape {p} is not compatible with the shape {shape_of_spec(s)} "
                        "of the corresponding input component."
                    )
        if padding_values is None:
            values = [0] * len(specs)
        else:
            values = _flatten(padding_values)
            if len(values) == 1 and len(specs) > 1:
                values = values * len(specs)
            if len(values) != len(specs):
                raise ValueError(
                    f"`padding_values` has {len(values)} components, the dataset's elements have {len(specs)}."
                )
            for v in values:
                if np.ndim(np.asarray(v)) != 0:
                    raise ValueError(f"Invalid `padding_values`. All `padding_values` should be scalars, got {v!r}.")
        self._shapes = shapes
        self._values = [np.asarray(np.asarray(v), dtype=dtype_of_spec(s).as_numpy_dtype) for v, s in zip(values, specs)]
        self._specs = specs

    def _compute_structure(self):
        lead = self._batch_size if self._drop else None
        shapes = [_prepend(lead, _narrow(p, shape_of_spec(s))) for p, s in zip(self._shapes, self._specs)]
        return _pack(self._input._structure, [make_spec(p, dtype_of_spec(s)) for p, s in zip(shapes, self._specs)])

    _card = _BatchDataset._card

    def _elements(self):
        for group in _group(self._input._elements(), self._batch_size, self._drop):
            yield tuple(self._pad(j, [np.asarray(e[j]) for e in group]) for j in range(len(self._shapes)))

    def _pad(self, j, arrays):
        padded = self._shapes[j]
        rank = arrays[0].ndim
        for a in arrays:
            if a.ndim != rank or len(padded) != rank:
                raise InvalidArgumentError(
                    f"padded_batch: component {j} has elements of rank {a.ndim}, expected rank {len(padded)}"
                )
        target = [p if p is not None else max(a.shape[d] for a in arrays) for d, p in enumerate(padded)]
        out = np.full([len(arrays)] + target, self._values[j], dtype=arrays[0].dtype)
        for i, a in enumerate(arrays):
            if any(n > t for n, t in zip(a.shape, target)):
                raise InvalidArgumentError("Attempted to pad to a smaller size than the input element.")
            out[(i,) + tuple(slice(0, n) for n in a.shape)] = a
        return _core.convert_to_tensor(out)


def _narrow(padded, shape):
    """The padded shape with its None dims filled from the input's static shape where known."""
    return TensorShape(p if p is not None else d for p, d in zip(padded, shape))


def _neg_to_none(shape):
    if shape is None or isinstance(shape, (int, np.integer)):
        return shape
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return [None if d is None or d == -1 else d for d in shape]


class _UnbatchDataset(_UnaryDataset):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        for s in _flatten(input_dataset._structure):
            if shape_of_spec(s) is not UNKNOWN_SHAPE and len(shape_of_spec(s)) == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")

    def _compute_structure(self):
        return _map_nest(lambda s: make_spec(_drop_lead(shape_of_spec(s)), dtype_of_spec(s)), self._input._structure)

    def _card(self):
        n = self._input._card()
        leads = {None if s is UNKNOWN_SHAPE else s[0] for s in map(shape_of_spec, _flatten(self._input._structure))}
        if n < 0 or len(leads) != 1 or None in leads:
            return n if n == INFINITE else UNKNOWN
        return n * leads.pop()

    def _elements(self):
        for e in self._input._elements():
            arrays = [np.asarray(v) for v in e]
            n = arrays[0].shape[0]
            for j, a in enumerate(arrays):
                if a.ndim == 0:
                    raise InvalidArgumentError("Cannot unbatch an input with scalar components.")
                if a.shape[0] != n:
                    raise InvalidArgumentError(
                        "Input element must have the same batch size in each component. Component 0 had size "
                        f"{n} but component {j} had size {a.shape[0]}."
                    )
            for i in range(n):
                yield tuple(a[i, ...] for a in arrays)


def _drop_lead(shape):
    return UNKNOWN_SHAPE if shape is UNKNOWN_SHAPE else TensorShape(tuple(shape)[1:])


class _MapDataset(_UnaryDataset):
    def __init__(self, input_dataset, map_func, num_parallel_calls, deterministic):
        super().__init__(input_dataset)
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable, got {type(map_func).__name__}")
        self._fn = map_func
        self._calls = _num_calls(num_parallel_calls)
        self._deterministic = deterministic is None or bool(deterministic)

    def _apply(self, flat):
        element = _pack(self._input._structure, _tensors(flat))
        ret = _call_with_element(self._fn, element)
        if isinstance(ret, list):
            ret = tuple(ret)
        return ret, tuple(_to_output_leaf(v) for v in _flatten(ret))

    def _compute_structure(self):
        flat = _first_element(self._input)
        if flat is None:  # empty input: trace on zeros of the input's spec (unknown dims as 1)
            flat = tuple(
                np.zeros([1 if d is None else d for d in shape_of_spec(s)], dtype_of_spec(s).as_numpy_dtype)
                for s in _flatten(self._input._structure)
            )
        ret, leaves = self._apply(flat)
        in_shapes = [shape_of_spec(s) for s in _flatten(self._input._structure)]
        return _pack(ret, [make_spec(_output_shape(v.shape, in_shapes), v.dtype) for v in leaves])

    def _elements(self):
        n = len(_flatten(self._structure))

        def one(flat):
            leaves = self._apply(flat)[1]
            if len(leaves) != n:
                raise ValueError(
                    f"`map_func` returned {len(leaves)} tensors for an element, {n} for the first one: "
                    "it must return the same structure for every element."
                )
            return leaves

        if self._calls is None:
            return map(one, self._input._elements())
        return _pipeline.parallel_map(self._input._elements(), one, self._calls, self._deterministic)


def _output_shape(shape, input_shapes):
    """map's static shape for an output of `shape` on the first element: an input's static shape when
    compatible with it (shape-preserving maps), else every dim unknown (see the module docstring)."""
    shape = TensorShape(shape)
    if len(shape) == 0:
        return shape
    for p in input_shapes:
        if p is not UNKNOWN_SHAPE and shapes_compatible(p, shape):
            return p
    return TensorShape([None] * len(shape))


class _PredicateDataset(_UnaryDataset):
    """A dataset that asks `predicate` about each element (filter, take_while)."""

    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        if not callable(predicate):
            raise TypeError(f"`predicate` must be callable, got {type(predicate).__name__}")
        self._predicate = predicate

    def _card(self):
        n = self._input._card()
        return n if n == 0 else UNKNOWN

    def _judged(self):
        """(flat element, whether the predicate holds) for each input element."""
        for flat in self._input._elements():
            keep = _to_output_leaf(_call_with_element(self._predicate, _pack(self._input._structure, _tensors(flat))))
            if keep.dtype != as_dtype("bool") or keep.ndim != 0:
                raise ValueError(
                    "Invalid `predicate`. `predicate` must return a `tf.bool` scalar tensor, but its "
                    f"return type is {spec_of(keep)}."
                )
            yield flat, bool(keep)


class _FilterDataset(_PredicateDataset):
    def _elements(self):
        for flat, keep in self._judged():
            if keep:
                yield flat


class _ShuffleDataset(_UnaryDataset):
    def __init__(self, input_dataset, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(input_dataset)
        b = _int_arg(buffer_size, "buffer_size")
        if b == UNKNOWN:  # TF: the whole dataset
            n = input_dataset._card()
            b = n if n >= 0 else sys.maxsize
        elif b <= 0:
            raise InvalidArgumentError("buffer_size must be greater than zero or UNKNOWN_CARDINALITY")
        self._buffer_size = max(b, 1)
        self._reshuffle = reshuffle_each_iteration is None or bool(reshuffle_each_iteration)
        self._base_seed = _shuffle_seed(seed)
        self._epoch = 0
        self._lock = threading.Lock()

    def _rng(self):
        with self._lock:
            k = self._epoch if self._reshuffle else 0
            if not _is_peeking():
                self._epoch += 1
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence([self._base_seed, k])))

    def _rows(self):
        n = self._input._card()
        if n < 0 or n > _MAX_SHUFFLE_ROWS:
            return None
        plan = self._input._rows()
        if plan is None:
            return None
        source, chunks = plan
        idx = np.concatenate(list(chunks) or [np.zeros(0, np.int64)])
        return source, iter([idx[_pipeline.buffer_shuffle_positions(len(idx), self._buffer_size, self._rng())]])

    def _elements_without_rows(self):
        return _pipeline.buffer_shuffle(self._input._elements(), self._buffer_size, self._rng())


def _shuffle_seed(seed):
    """The base seed of a shuffle: fixed by (global seed, op seed) when `seed` is given (two datasets
    with the same seeds shuffle alike, as in TF); else a fresh one per op, reproducible under
    tg.random.set_seed (numbered in creation order) and random without it."""
    if seed is None:
        return int(_random._generator(None).integers(1 << 63))
    g = _random._get_global_seed()
    g = _random._DEFAULT_GRAPH_SEED if g is None else g
    words = [g & _random._MASK, _int_arg(seed, "seed") & _random._MASK, 2]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0])


class _RepeatDataset(_UnaryDataset):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        c = -1 if count is None else _int_arg(count, "count")
        self._count = None if c < 0 else c

    def _card(self):
        n = self._input._card()
        if self._count is None:
            return 0 if n == 0 else INFINITE
        if self._count == 0:
            return 0
        return n if n < 0 else n * self._count

    def _epochs(self):
        return itertools.count() if self._count is None else range(self._count)

    def _rows(self):
        if self._count == 0:
            return None
        first = self._input._rows()
        if first is None:
            return None
        source = first[0]

        def chunks():
            plan = first
            for epoch in self._epochs():
                if epoch > 0:
                    plan = self._input._rows()
                got = 0
                for c in plan[1]:
                    got += len(c)
                    yield c
                if got == 0:
                    return

        return source, chunks()

    def _elements_without_rows(self):
        for _ in self._epochs():
            got = False
            for e in self._input._elements():
                got = True
                yield e
            if not got:
                return


class _CountDataset(_UnaryDataset):
    """take/skip: an input and an int64 ``count`` (negative: all)."""

    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = _int_arg(count, "count")


class _TakeDataset(_CountDataset):
    def _card(self):
        n = self._input._card()
        if self._count < 0:
            return n
        if n == INFINITE:
            return self._count
        return UNKNOWN if n == UNKNOWN else min(n, self._count)

    def _rows(self):
        plan = self._input._rows()
        if plan is None or self._count < 0:
            return plan
        return plan[0], _take_chunks(plan[1], self._count)

    def _elements_without_rows(self):
        gen = self._input._elements()
        return gen if self._count < 0 else itertools.islice(gen, self._count)


def _take_chunks(chunks, count):
    left = count
    for c in chunks:
        if left <= 0:
            return
        yield c[:left]
        left -= len(c)


class _SkipDataset(_CountDataset):
    def _card(self):
        n = self._input._card()
        if self._count < 0:
            return 0
        return n if n < 0 else max(0, n - self._count)

    def _rows(self):
        plan = self._input._rows()
        if plan is None:
            return None
        if self._count < 0:
            return plan[0], iter(())
        return plan[0], _skip_chunks(plan[1], self._count)

    def _elements_without_rows(self):
        if self._count < 0:
            return iter(())
        return itertools.islice(self._input._elements(), self._count, None)


def _skip_chunks(chunks, count):
    left = count
    for c in chunks:
        if left >= len(c):
            left -= len(c)
            continue
        yield c[left:]
        left = 0


class _ShardDataset(_UnaryDataset):
    def __init__(self, input_dataset, num_shards, index):
        super().__init__(input_dataset)
        k, i = _int_arg(num_shards, "num_shards"), _int_arg(index, "index")
        if k <= 0:
            raise InvalidArgumentError(f"Number of shards must be greater than zero (currently num_shards = {k}).")
        if not 0 <= i < k:
            raise InvalidArgumentError(f"Index must be between 0 and {k - 1} (currently index = {i}).")
        self._k, self._i = k, i

    def _card(self):
        n = self._input._card()
        return n if n < 0 else n // self._k + (1 if self._i < n % self._k else 0)

    def _rows(self):
        plan = self._input._rows()
        if plan is None:
            return None
        return plan[0], self._shard_chunks(plan[1])

    def _shard_chunks(self, chunks):
        offset = 0
        for c in chunks:
            first = (self._i - offset) % self._k
            yield c[first :: self._k]
            offset += len(c)

    def _elements_without_rows(self):
        return itertools.islice(self._input._elements(), self._i, None, self._k)


class _PrefetchDataset(_UnaryDataset):
    def __init__(self, input_dataset, buffer_size):
        super().__init__(input_dataset)
        b = _int_arg(buffer_size, "buffer_size")
        if b < AUTOTUNE:
            raise InvalidArgumentError("buffer_size must be >= 0 or set buffer_size to be -1 for auto-tuning")
        self._buffer_size = _AUTOTUNE_PREFETCH if b == AUTOTUNE else b

    def _elements(self):
        if self._buffer_size == 0:
            return self._input._elements()
        return _pipeline.prefetch(map(_tensors, self._input._elements()), self._buffer_size)


class _CacheDataset(_UnaryDataset):
    def __init__(self, input_dataset, filename):
        super().__init__(input_dataset)
        if filename:
            raise NotImplementedError(
                "Dataset.cache(filename) writes TF's on-disk cache format, which tapegrad "
                "does not implement: use cache() (in memory)"
            )
        self._cached_rows = None  # the row numbers of the first full iteration (Note [Row plans])
        self._cached_elements = None

    def _rows(self):
        if self._cached_rows is not None:
            return self._cached_rows[0], iter([self._cached_rows[1]])
        plan = self._input._rows()
        if plan is None:
            return None
        source, chunks = plan

        def record():
            seen = []
            for c in chunks:
                seen.append(c)
                yield c
            if not _is_peeking():
                self._cached_rows = (source, np.concatenate(seen or [np.zeros(0, np.int64)]))

        return source, record()

    def _elements(self):
        if self._cached_elements is not None:
            return iter(self._cached_elements)
        return super()._elements()

    def _elements_without_rows(self):
        seen = []
        for e in self._input._elements():
            seen.append(e)
            yield e
        if not _is_peeking():
            self._cached_elements = seen


class _ZipDataset(Dataset):
    def __init__(self, datasets):
        if isinstance(datasets, list) or any(not isinstance(d, Dataset) for d in _flatten(datasets)):
            raise TypeError(
                "Invalid `datasets`. `datasets` is expected to be a (nested) structure of "
                "`tf.data.Dataset` objects. Python `list` is not supported and you should use "
                "`tuple` instead."
            )
        self._datasets = datasets
        self._inputs = tuple(_flatten(datasets))

    def _compute_structure(self):
        return _pack(self._datasets, [d._structure for d in self._inputs])

    def _card(self):
        cards = [d._card() for d in self._inputs]
        finite = [n for n in cards if n >= 0]
        if finite and min(finite) == 0:
            return 0
        if UNKNOWN in cards:
            return UNKNOWN
        return min(finite) if finite else INFINITE

    def _elements(self):
        gens = [d._elements() for d in self._inputs]
        try:
            for parts in zip(*gens):
                yield tuple(v for p in parts for v in p)
        finally:
            for g in gens:
                close = getattr(g, "close", None)
                if close is not None:
                    close()


class _ConcatenateDataset(Dataset):
    def __init__(self, first, second):
        if not isinstance(second, Dataset):
            raise TypeError(f"`dataset` must be a tf.data.Dataset, got {type(second).__name__}")
        a, b = first._structure, second._structure
        fa, fb = _flatten(a), _flatten(b)
        if _pack(a, [None] * len(fa)) != _pack(b, [None] * len(fb)) or any(
            dtype_of_spec(x) != dtype_of_spec(y) for x, y in zip(fa, fb)
        ):
            raise TypeError(f"Incompatible dataset elements:\n  {a} vs. \n  {b}")
        self._first, self._second = first, second
        self._inputs = (first, second)

    def _compute_structure(self):
        a, b = self._first._structure, self._second._structure
        return _pack(
            a,
            [
                make_spec(relax(shape_of_spec(x), shape_of_spec(y)), dtype_of_spec(x))
                for x, y in zip(_flatten(a), _flatten(b))
            ],
        )

    def _card(self):
        n, m = self._first._card(), self._second._card()
        if INFINITE in (n, m):
            return INFINITE
        return UNKNOWN if UNKNOWN in (n, m) else n + m

    def _elements(self):
        yield from self._first._elements()
        yield from self._second._elements()


class _FlatMapDataset(_UnaryDataset):
    def __init__(self, input_dataset, map_func):
        super().__init__(input_dataset)
        if not callable(map_func):
            raise TypeError(f"`map_func` must be callable, got {type(map_func).__name__}")
        self._fn = map_func

    def _dataset_for(self, flat):
        ds = _call_with_element(self._fn, _pack(self._input._structure, _tensors(flat)))
        if not isinstance(ds, Dataset):
            raise TypeError(f"The `map_func` argument must return a `Dataset` object. Got {type(ds).__name__}.")
        return ds

    def _compute_structure(self):
        flat = _first_element(self._input)
        if flat is None:
            raise ValueError(
                "flat_map over an empty dataset: tapegrad takes the element_spec from the "
                "dataset map_func returns for the first element"
            )
        return self._dataset_for(flat)._structure

    def _card(self):
        return UNKNOWN if self._input._card() != 0 else 0

    def _elements(self):
        for flat in self._input._elements():
            yield from self._dataset_for(flat)._elements()


# --- interleave, scan, take_while, unique, counter, choose/sample, options ---------------------------


def _cpu_count():
    import os  # noqa: PLC0415

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


class _InterleaveDataset(_FlatMapDataset):
    def __init__(self, input_dataset, map_func, cycle_length, block_length):
        super().__init__(input_dataset, map_func)
        cycle_length = AUTOTUNE if cycle_length is None else _int_arg(cycle_length, "cycle_length")
        block_length = 1 if block_length is None else _int_arg(block_length, "block_length")
        if cycle_length == AUTOTUNE:
            cycle_length = _cpu_count()
        if cycle_length <= 0:
            raise InvalidArgumentError("cycle_length must be greater than zero.")
        if block_length <= 0:
            raise InvalidArgumentError("block_length must be greater than zero.")
        self._cycle_length, self._block_length = cycle_length, block_length

    def _elements(self):
        # TF's InterleaveDataset: a slot yields block_length elements, then the cycle moves on; an
        # exhausted slot is closed and the cycle moves on; an empty slot opens the next input element
        inputs = self._input._elements()
        slots = [None] * self._cycle_length
        index = block = num_open = 0
        end_of_input = False
        while not end_of_input or num_open > 0:
            if slots[index] is not None:
                value = next(slots[index], _MISSING)
                if value is not _MISSING:
                    block += 1
                    if block == self._block_length:
                        index, block = (index + 1) % self._cycle_length, 0
                    yield value
                    continue
                slots[index] = None
                num_open -= 1
                index, block = (index + 1) % self._cycle_length, 0
            elif not end_of_input:
                flat = next(inputs, _MISSING)
                if flat is _MISSING:
                    end_of_input = True
                else:
                    slots[index] = self._dataset_for(flat)._elements()
                    num_open += 1
            else:
                index, block = (index + 1) % self._cycle_length, 0


class _ScanDataset(_UnaryDataset):
    def __init__(self, input_dataset, initial_state, scan_func):
        super().__init__(input_dataset)
        if not callable(scan_func):
            raise TypeError(f"`scan_func` must be callable, got {type(scan_func).__name__}")
        self._initial = _map_nest(_to_output_leaf, initial_state)
        self._fn = scan_func

    def _step(self, state, flat):
        ret = self._fn(state, _pack(self._input._structure, _tensors(flat)))
        if not isinstance(ret, (tuple, list)) or len(ret) != 2:
            raise TypeError("The scan function must return a pair comprising the new state and the output value.")
        new_state, out = ret
        if isinstance(out, list):
            out = tuple(out)
        return _map_nest(_to_output_leaf, new_state), out, tuple(_to_output_leaf(v) for v in _flatten(out))

    def _compute_structure(self):
        flat = _first_element(self._input)
        if flat is None:
            flat = tuple(
                np.zeros([1 if d is None else d for d in shape_of_spec(s)], dtype_of_spec(s).as_numpy_dtype)
                for s in _flatten(self._input._structure)
            )
        _, out, leaves = self._step(self._initial, flat)
        in_shapes = [shape_of_spec(s) for s in _flatten(self._input._structure)]
        return _pack(out, [make_spec(_output_shape(v.shape, in_shapes), v.dtype) for v in leaves])

    def _elements(self):
        state = self._initial
        for flat in self._input._elements():
            state, _, leaves = self._step(state, flat)
            yield leaves


class _TakeWhileDataset(_PredicateDataset):
    def _elements(self):
        for flat, keep in self._judged():
            if not keep:
                return
            yield flat


class _UniqueDataset(_UnaryDataset):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        spec = input_dataset._structure
        if isinstance(spec, (tuple, dict)):
            raise TypeError(
                "`tf.data.Dataset.unique` does not support the element structure "
                f"{spec}: the elements must be single tensors."
            )
        dtype = dtype_of_spec(spec)
        if dtype.name not in ("int32", "int64", "string"):
            raise TypeError(
                f"`tf.data.Dataset.unique` does not support type {dtype} -- only `tf.int32`, `tf.int64`, "
                "and `tf.string` are supported."
            )

    def _card(self):
        n = self._input._card()
        return n if n == 0 else UNKNOWN

    def _elements(self):
        seen = set()
        for flat in self._input._elements():
            key = np.asarray(flat[0]).tobytes() if np.ndim(flat[0]) else np.asarray(flat[0]).item()
            if key not in seen:
                seen.add(key)
                yield flat


class _CounterDataset(Dataset):
    def __init__(self, start, step, dtype):
        self._dtype = as_dtype(dtype)
        self._start, self._step = start, step

    def _compute_structure(self):
        return make_spec(TensorShape([]), self._dtype)

    def _card(self):
        return INFINITE

    def _elements(self):
        np_dtype = self._dtype.as_numpy_dtype
        value = np.asarray(self._start, np_dtype)
        step = np.asarray(self._step, np_dtype)
        while True:
            yield (value,)
            value = np.asarray(value + step, np_dtype)


def _check_datasets(datasets):
    datasets = list(datasets)
    if not datasets or any(not isinstance(d, Dataset) for d in datasets):
        raise TypeError("Invalid `datasets`. `datasets` should be a non-empty list of `tf.data.Dataset` objects.")
    return datasets


class _ChooseDataset(Dataset):
    def __init__(self, datasets, choice_dataset, stop_on_empty_dataset):
        self._datasets = _check_datasets(datasets)
        spec = choice_dataset._structure if isinstance(choice_dataset, Dataset) else None
        if (
            spec is None
            or isinstance(spec, (tuple, dict))
            or dtype_of_spec(spec) != int64
            or len(shape_of_spec(spec)) != 0
        ):
            raise TypeError(
                "Invalid `choice_dataset`. Elements of `choice_dataset` must be scalar `tf.int64` "
                f"tensors but are {spec}."
            )
        self._choice = choice_dataset
        self._stop = bool(stop_on_empty_dataset)
        self._inputs = tuple(self._datasets) + (choice_dataset,)

    def _compute_structure(self):
        return self._datasets[0]._structure

    def _card(self):
        return UNKNOWN

    def _elements(self):
        gens = [d._elements() for d in self._datasets]
        done = [False] * len(gens)
        for (choice,) in self._choice._elements():
            i = int(np.asarray(choice))
            if not 0 <= i < len(gens):
                raise InvalidArgumentError(f"Selector index out of range: {i} >= {len(gens)}")
            if done[i]:
                continue
            value = next(gens[i], _MISSING)
            if value is _MISSING:
                done[i] = True
                if self._stop:
                    return
                continue
            yield value


class _SampleDataset(Dataset):
    def __init__(self, datasets, weights, seed, stop_on_empty_dataset, rerandomize_each_iteration):
        self._datasets = _check_datasets(datasets)
        if weights is None:
            weights = [1.0 / len(self._datasets)] * len(self._datasets)
        weights = np.asarray(weights.numpy() if hasattr(weights, "numpy") else weights, np.float64).reshape(-1)
        if len(weights) != len(self._datasets):
            raise ValueError(
                f"Invalid `weights`. The shape of `weights` should be compatible with `[len(datasets)]` "
                f"but is {list(weights.shape)}."
            )
        self._weights = weights
        self._seed = _shuffle_seed(seed)
        self._rerandomize = bool(rerandomize_each_iteration)
        self._iteration = 0
        self._stop = bool(stop_on_empty_dataset)
        self._inputs = tuple(self._datasets)

    def _compute_structure(self):
        return self._datasets[0]._structure

    def _card(self):
        return INFINITE if any(d._card() == INFINITE for d in self._datasets) else UNKNOWN

    def _elements(self):
        seed = self._seed + self._iteration if self._rerandomize else self._seed
        self._iteration += 1
        rng = np.random.default_rng(seed)
        gens = [d._elements() for d in self._datasets]
        live = self._weights > 0
        while live.any():
            w = np.where(live, self._weights, 0.0)
            i = int(rng.choice(len(gens), p=w / w.sum()))
            value = next(gens[i], _MISSING)
            if value is _MISSING:
                if self._stop:
                    return
                live[i] = False
                continue
            yield value


class _OptionsDataset(_UnaryDataset):
    def __init__(self, input_dataset, options):
        super().__init__(input_dataset)
        self._options = options

    def _rows(self):
        return self._input._rows()

    def _elements(self):
        return self._input._elements()


def _merged_options(ds):
    merged = Options()
    for d in ds._inputs:
        merged = merged.merge(_merged_options(d))
    own = getattr(ds, "_options", None)
    return merged.merge(own) if own is not None else merged


class _OptionsBase:
    """An attribute bag with a fixed set of names, each None (unset) or a value, as TF's options."""

    _names: dict = {}

    def __init__(self):
        for k, v in self._names.items():
            object.__setattr__(self, k, v() if isinstance(v, type) else v)

    def __setattr__(self, name, value):
        if name not in self._names:
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        object.__setattr__(self, name, value)

    def __eq__(self, other):
        return type(self) is type(other) and all(getattr(self, k) == getattr(other, k) for k in self._names)

    def __ne__(self, other):
        return not self == other

    __hash__ = None  # type: ignore[assignment]  # unhashable, as TF

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={getattr(self, k)!r}' for k in self._names)})"

    def merge(self, other):
        """A copy with `other`'s set (non-None) values taking precedence."""
        out = type(self)()
        for k in self._names:
            mine, theirs = getattr(self, k), getattr(other, k)
            if isinstance(mine, _OptionsBase):
                object.__setattr__(out, k, mine.merge(theirs))
            else:
                object.__setattr__(out, k, theirs if theirs is not None else mine)
        return out


class AutoShardPolicy(enum.IntEnum):
    """How a dataset is split across workers (tapegrad does not shard by itself)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class AutotuneOptions(_OptionsBase):
    """``tf.data.experimental.AutotuneOptions``: recorded, no effect in tapegrad."""

    _names = {
        "enabled": None,
        "cpu_budget": None,
        "ram_budget": None,
        "autotune_algorithm": None,
        "initial_parallelism": None,
        "min_parallelism": None,
    }


class DistributeOptions(_OptionsBase):
    """``tf.data.experimental.DistributeOptions``: recorded, no effect in tapegrad."""

    _names = {"auto_shard_policy": AutoShardPolicy.AUTO, "num_devices": None}


class OptimizationOptions(_OptionsBase):
    """``tf.data.experimental.OptimizationOptions``: recorded, no effect in tapegrad."""

    _names = {
        "apply_default_optimizations": None,
        "filter_fusion": None,
        "filter_parallelization": None,
        "inject_prefetch": None,
        "map_and_batch_fusion": None,
        "map_and_filter_fusion": None,
        "map_fusion": None,
        "map_parallelization": None,
        "noop_elimination": None,
        "parallel_batch": None,
        "seq_interleave_prefetch": None,
        "shuffle_and_repeat_fusion": None,
    }


class ThreadingOptions(_OptionsBase):
    """``tf.data.ThreadingOptions``: recorded, no effect in tapegrad."""

    _names = {"max_intra_op_parallelism": None, "private_threadpool_size": None}


class Options(_OptionsBase):
    """``tf.data.Options``: settings attached with ``Dataset.with_options`` and read back with
    ``Dataset.options()``. tapegrad records them; they do not change its pipelines (which are always
    deterministic).

    >>> import tapegrad as tg
    >>> options = tg.data.Options()
    >>> options.experimental_distribute.auto_shard_policy = tg.data.experimental.AutoShardPolicy.DATA
    >>> ds = tg.data.Dataset.range(3).with_options(options)
    >>> ds.options().experimental_distribute.auto_shard_policy == tg.data.experimental.AutoShardPolicy.DATA
    True
    """

    _names = {
        "autotune": AutotuneOptions,
        "deterministic": None,
        "experimental_deterministic": None,
        "experimental_distribute": DistributeOptions,
        "experimental_external_state_policy": None,
        "experimental_optimization": OptimizationOptions,
        "experimental_slack": None,
        "experimental_symbolic_checkpoint": None,
        "experimental_warm_start": None,
        "threading": ThreadingOptions,
    }


class DatasetSpec:
    """The spec of a dataset-valued component (the windows of ``Dataset.window``)."""

    def __init__(self, element_spec, dataset_shape=()):
        self._element_spec = element_spec
        self._dataset_shape = TensorShape(dataset_shape)

    element_spec = property(lambda self: self._element_spec)

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and self._element_spec == other._element_spec

    def __hash__(self):
        return hash(repr(self))

    def __repr__(self):
        return f"DatasetSpec({self._element_spec!r}, TensorShape({list(self._dataset_shape)}))"


class _ListDataset(Dataset):
    """A finite dataset replaying stored flat elements (one window's component)."""

    def __init__(self, elements, structure):
        self._stored = elements
        self._struct = structure

    def _compute_structure(self):
        return self._struct

    def _card(self):
        return len(self._stored)

    def _elements(self):
        return iter(self._stored)


class _WindowDataset(_UnaryDataset):
    def __init__(self, input_dataset, size, shift, stride, drop_remainder):
        super().__init__(input_dataset)
        self._size = _int_arg(size, "size")
        self._shift = self._size if shift is None else _int_arg(shift, "shift")
        self._stride = _int_arg(stride, "stride")
        for value, what in ((self._size, "size"), (self._shift, "shift"), (self._stride, "stride")):
            if value <= 0:
                raise InvalidArgumentError(f"Window {what} must be greater than zero, but got {value}.")
        self._drop = bool(drop_remainder)

    def _compute_structure(self):
        return _map_nest(DatasetSpec, self._input._structure)

    def _card(self):
        n = self._input._card()
        if n < 0:
            return n
        if self._drop:
            span = (self._size - 1) * self._stride + 1
            return 0 if n < span else (n - span) // self._shift + 1
        return -(-n // self._shift)

    def _elements(self):
        specs = _flatten(self._input._structure)
        span = (self._size - 1) * self._stride + 1
        buffer, exhausted = [], False  # buffer[0] is the first element of the next window
        source = self._input._elements()
        while True:
            while not exhausted and len(buffer) < span:
                flat = next(source, _MISSING)
                if flat is _MISSING:
                    exhausted = True
                else:
                    buffer.append(flat)
            if not buffer:
                return
            window = buffer[: span : self._stride]
            if len(window) < self._size and (self._drop or exhausted and not window):
                return
            yield tuple(_ListDataset([(el[j],) for el in window], specs[j]) for j in range(len(specs)))
            drop = min(self._shift, len(buffer))
            del buffer[:drop]
            if drop < self._shift:  # the next window starts beyond what is buffered: skip input elements
                for _ in range(self._shift - drop):
                    if exhausted or next(source, _MISSING) is _MISSING:
                        exhausted = True
                        break
