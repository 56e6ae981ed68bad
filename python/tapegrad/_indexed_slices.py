"""tf.IndexedSlices: a sparse set of rows of a dense tensor, as the gradient of a gather along axis 0
(tf.gather, tf.nn.embedding_lookup, keras Embedding) comes back from GradientTape.gradient.
Mirrors tensorflow/python/framework/indexed_slices.py. See Note [Sparse gradients] in
cpp/autodiff/sparse_grad.cpp."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from . import _core
from ._dtypes import as_dtype, int32, int64
from ._tensor import Tensor, TensorShape

# TF's _LARGE_SPARSE_NUM_ELEMENTS: densifying at least this many elements warns.
_LARGE_SPARSE_NUM_ELEMENTS = 100000000


def _as_tensor(x, what, dtype=None):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, _core.Variable):
        return x.read_value()
    try:
        return _core.convert_to_tensor(x) if dtype is None else _core.convert_to_tensor(x, dtype._code)
    except (TypeError, ValueError) as e:
        raise TypeError(f"IndexedSlices: `{what}` must convert to a Tensor, got {type(x).__name__}: {e}") from None


class IndexedSlices:
    """A sparse representation of a set of tensor slices at given indices.

    Represents the dense tensor ``unsorted_segment_sum(values, indices, dense_shape[0])``: row
    ``indices[i]`` of a tensor of shape `dense_shape` gets ``values[i]`` added (repeated indices
    add). The gradient of a gather along axis 0 is one:

    >>> import tapegrad as tf
    >>> v = tf.Variable([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> with tf.GradientTape() as tape:
    ...     y = tf.reduce_sum(tf.gather(v, [2, 0, 2]))
    >>> g = tape.gradient(y, v)
    >>> g.indices.numpy().tolist(), g.values.shape, g.dense_shape.numpy().tolist()
    ([2, 0, 2], TensorShape([3, 2]), [3, 2])
    >>> tf.convert_to_tensor(g).numpy().tolist()
    [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]
    """

    __slots__ = ("_values", "_indices", "_dense_shape", "__weakref__")

    def __init__(self, values: Any, indices: Any, dense_shape: Any = None) -> None:
        self._values = _as_tensor(values, "values")
        self._indices = _as_tensor(indices, "indices")
        self._dense_shape = None if dense_shape is None else _as_tensor(dense_shape, "dense_shape")

    @property
    def values(self) -> Tensor:
        """A Tensor of any dtype with shape ``[D0, D1, ..., Dn]``."""
        return self._values

    @property
    def indices(self) -> Tensor:
        """A 1-D integer Tensor with shape ``[D0]``."""
        return self._indices

    @property
    def dense_shape(self) -> Tensor | None:
        """A 1-D Tensor containing the shape of the corresponding dense tensor (or None)."""
        return self._dense_shape

    @property
    def dtype(self):
        """The DType of elements in this tensor."""
        return self._values.dtype

    @property
    def shape(self) -> TensorShape:
        """The TensorShape of the dense tensor this represents (unknown without dense_shape)."""
        if self._dense_shape is None:
            return TensorShape(None)
        return TensorShape([int(d) for d in self._dense_shape.numpy().reshape(-1)])

    @property
    def name(self) -> str:
        """The name of this IndexedSlices (the values' name)."""
        return getattr(self._values, "name", "")

    @property
    def device(self) -> str:
        """The name of the device on which `values` will be produced."""
        return getattr(self._values, "device", "")

    @property
    def op(self):
        """The operation that produced `values` (graph mode only in TF)."""
        raise AttributeError("Tensor.op is undefined when eager execution is enabled.")

    @property
    def graph(self):
        """The graph of `values` (graph mode only in TF)."""
        raise AttributeError("Tensor.graph is undefined when eager execution is enabled.")

    def consumers(self):
        """The consumers of this IndexedSlices (graph mode only in TF)."""
        raise RuntimeError("Tensor.consumers is not supported when eager execution is enabled.")

    @property
    def _type_spec(self) -> IndexedSlicesSpec:
        return IndexedSlicesSpec(
            self.shape,
            self.dtype,
            self._indices.dtype,
            None if self._dense_shape is None else self._dense_shape.dtype,
            TensorShape([self._indices.shape[0]] if len(self._indices.shape) else [None]),
        )

    def __neg__(self) -> IndexedSlices:
        return IndexedSlices(_core.negative(self._values), self._indices, self._dense_shape)

    def __str__(self) -> str:
        ds = f", dense_shape={self._dense_shape!s}" if self._dense_shape is not None else ""
        return f"IndexedSlices(indices={self._indices!s}, values={self._values!s}{ds})"

    def _as_tapegrad_tensor(self) -> Tensor:
        # The engine's conversion hook: every op that takes a tensor densifies an IndexedSlices.
        return _to_dense(self)

    def __array__(self, dtype=None, copy=None):
        a = _to_dense(self).numpy()
        return a if dtype is None else a.astype(dtype)

    def __tf_tracing_type__(self, context):
        return self._type_spec


def _to_dense(value: IndexedSlices, dtype: Any = None) -> Tensor:
    """TF's _indexed_slices_to_tensor: unsorted_segment_sum(values, indices, dense_shape[0])."""
    from ._ops_shape import unsorted_segment_sum

    if dtype is not None and as_dtype(dtype) != value.dtype:
        raise ValueError(
            f"Incompatible tensor conversion requested to `dtype` {as_dtype(dtype).name} for "
            f"IndexedSlices ({value}) with dtype {value.dtype.name}"
        )
    if value.dense_shape is None:
        raise ValueError(
            f"Tensor conversion requested for IndexedSlices for argument `value` without dense_shape: {value!s}"
        )
    shape = [int(d) for d in value.dense_shape.numpy().reshape(-1)]
    num_elements = int(np.prod(shape, dtype=np.int64))
    if num_elements >= _LARGE_SPARSE_NUM_ELEMENTS:
        warnings.warn(
            "Converting sparse IndexedSlices to a dense Tensor with %d elements. This may consume a large amount "
            "of memory." % num_elements,
            UserWarning,
            stacklevel=3,
        )
    if not shape:
        raise ValueError(f"IndexedSlices with a scalar dense_shape cannot be converted to a Tensor: {value!s}")
    values = value.values
    if (
        tuple(values.shape[1:]) != tuple(shape[1:])
        or len(value.indices.shape) != 1
        or (values.shape[0] != value.indices.shape[0])
    ):
        from .errors import InvalidArgumentError

        raise InvalidArgumentError(
            f"IndexedSlices: values of shape {list(values.shape)}, indices of shape {list(value.indices.shape)} and "
            f"dense_shape {shape} do not match (values must be [len(indices)] + dense_shape[1:]) "
            "[Op:UnsortedSegmentSum]"
        )
    if value.indices.dtype not in (int32, int64):
        raise TypeError(
            f"IndexedSlices indices must be int32 or int64, got {value.indices.dtype.name} [Op:UnsortedSegmentSum]"
        )
    return unsorted_segment_sum(values, value.indices, shape[0])


def _from_engine(g):
    """A compute_gradient_sparse entry: None, a Tensor, or (values, indices, dense_shape) -> IndexedSlices."""
    if isinstance(g, tuple):
        values, indices, shape = g
        return IndexedSlices(values, indices, _core.convert_to_tensor(np.asarray(shape, np.int32)))
    return g


class IndexedSlicesSpec:
    """Type specification for a tf.IndexedSlices.

    >>> import tapegrad as tf
    >>> tf.IndexedSlicesSpec([4, 3], tf.float32)
    IndexedSlicesSpec(TensorShape([4, 3]), tf.float32, tf.int64, None, TensorShape([None]))
    """

    __slots__ = ("_shape", "_values_dtype", "_indices_dtype", "_dense_shape_dtype", "_indices_shape")

    def __init__(
        self,
        shape: Any = None,
        dtype: Any = None,
        indices_dtype: Any = None,
        dense_shape_dtype: Any = None,
        indices_shape: Any = None,
    ) -> None:
        from ._dtypes import float32

        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        self._values_dtype = as_dtype(float32 if dtype is None else dtype)
        self._indices_dtype = as_dtype(int64 if indices_dtype is None else indices_dtype)
        self._dense_shape_dtype = None if dense_shape_dtype is None else as_dtype(dense_shape_dtype)
        if indices_shape is None:
            indices_shape = [None]
        self._indices_shape = indices_shape if isinstance(indices_shape, TensorShape) else TensorShape(indices_shape)
        if self._indices_shape.rank != 1:
            raise ValueError(f"Shape {self._indices_shape} must have rank 1")

    @property
    def value_type(self):
        return IndexedSlices

    @property
    def shape(self) -> TensorShape:
        return self._shape

    @property
    def dtype(self):
        return self._values_dtype

    def is_compatible_with(self, spec_or_value: Any) -> bool:
        """Whether `spec_or_value` (an IndexedSlicesSpec or IndexedSlices) fits this spec."""
        other = spec_or_value._type_spec if isinstance(spec_or_value, IndexedSlices) else spec_or_value
        if not isinstance(other, IndexedSlicesSpec):
            return False
        return (
            self._values_dtype == other._values_dtype
            and self._indices_dtype == other._indices_dtype
            and (
                self._dense_shape_dtype is None
                or other._dense_shape_dtype is None
                or self._dense_shape_dtype == other._dense_shape_dtype
            )
            and self._shape.is_compatible_with(other._shape)
            and self._indices_shape.is_compatible_with(other._indices_shape)
        )

    def __eq__(self, other: Any) -> bool:
        return type(other) is IndexedSlicesSpec and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self):
        return (
            tuple(self._shape) if self._shape.rank is not None else None,
            self._values_dtype,
            self._indices_dtype,
            self._dense_shape_dtype,
            tuple(self._indices_shape),
        )

    def __repr__(self) -> str:
        ds = "None" if self._dense_shape_dtype is None else repr(self._dense_shape_dtype)
        return (
            f"IndexedSlicesSpec({_shape_repr(self._shape)}, {self._values_dtype!r}, {self._indices_dtype!r}, {ds}, "
            f"{_shape_repr(self._indices_shape)})"
        )


def _shape_repr(s: TensorShape) -> str:
    if s.rank is None:
        return "TensorShape(None)"
    return "TensorShape([" + ", ".join("None" if d is None else str(d) for d in s) + "])"


def is_indexed_slices(x: Any) -> bool:
    return isinstance(x, IndexedSlices)


__all__ = ["IndexedSlices", "IndexedSlicesSpec"]
