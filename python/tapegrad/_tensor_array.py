"""``tf.TensorArray``: a list of same-dtype tensors that loops write one element at a time.

Eagerly it is TF 2's eager TensorArray: a Python list of tensors; ``write``/``unstack``/``scatter``
/``split`` change the array and return it, a read of an element clears it unless
``clear_after_read=False``, and an element never written reads as zeros of the element shape.
Every method is made of differentiable ops (``stack``, ``gather``, ``concat``, ``split``), so a
GradientTape sees through it.

Made inside a ``tf.function`` (its trace, or a call of a signature that runs eagerly because its
trace cannot replay) it follows TF's graph TensorArray: writes return a new
TensorArray and leave the old one as it was (so a branch or loop body that a trace runs "dry"
changes nothing), and ``clear_after_read`` is ignored. A traced ``tf.while_loop`` (and AutoGraph's
tensor loops, which become one) carries a TensorArray of fixed size whose element shape is known
as one dense loop variable of shape ``[size, *element_shape]`` (writes are
``tensor_scatter_nd_update``, reads ``gather``), so the loop replays; a fixed-size one with no
element shape yet has the loop's first iteration peeled off as a ``tf.cond`` to learn it. A
traced ``tf.cond`` (AutoGraph's ``if``) returns such TensorArrays the same way. Any other
TensorArray there (``dynamic_size=True``: its size could change) makes the trace run eagerly,
with the reason (Note [Poisoned traces]).
"""

import contextlib
import threading
from typing import Any, Optional

import numpy as np

from . import _core, nest
from ._core import InvalidArgumentError
from ._dtypes import as_dtype
from ._tensor import Tensor, TensorShape, Variable

__all__ = ["TensorArray"]


class _FunctionCalls(threading.local):
    depth = 0  # calls of tf.function signatures that run eagerly (their trace cannot replay)


_function_calls = _FunctionCalls()


@contextlib.contextmanager
def _in_function():
    """A tf.function signature that runs eagerly (Note [Poisoned traces]) still makes TF's graph
    TensorArrays, as its trace did: the same program gives the same values on every call."""
    _function_calls.depth += 1
    try:
        yield
    finally:
        _function_calls.depth -= 1


def _tg():
    import tapegrad  # noqa: PLC0415  (the public ops; imported once tapegrad is)

    return tapegrad


def _out_of_range(message):
    from .errors import OutOfRangeError  # noqa: PLC0415

    return OutOfRangeError(None, None, message)


def _as_index(index):
    """A Python int from an index (a tensor's value is read: inside a trace that makes the trace
    run eagerly, Note [Poisoned traces])."""
    if isinstance(index, (Tensor, Variable)):
        index = np.asarray(index)
        if index.ndim != 0:
            raise TypeError(f"only integer scalar arrays can be converted to a scalar index, got shape {index.shape}")
        index = index[()]
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"list indices must be integers or slices, not {type(index).__name__}")
    return int(index)


def _shape_text(shape):
    return "<unknown>" if shape.rank is None else str(shape)


class TensorArray:
    """``tf.TensorArray``: a list of tensors of one dtype, written and read by index.

    >>> import tapegrad as tf
    >>> ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True, clear_after_read=False)
    >>> ta = ta.write(0, 10.0)
    >>> ta = ta.write(1, 20.0)
    >>> float(ta.read(1)), ta.stack().numpy().tolist(), int(ta.size())
    (20.0, [10.0, 20.0], 2)
    >>> @tf.function
    ... def squares(n):
    ...     ta = tf.TensorArray(tf.int32, size=n)
    ...     for i in range(n):
    ...         ta = ta.write(i, i * i)
    ...     return ta.stack()
    >>> squares(4).numpy().tolist()
    [0, 1, 4, 9]
    """

    def __init__(
        self,
        dtype: Any,
        size: Any = None,
        dynamic_size: Optional[bool] = None,
        clear_after_read: Optional[bool] = None,
        tensor_array_name: Optional[str] = None,
        handle: Any = None,
        flow: Any = None,
        infer_shape: bool = True,
        element_shape: Any = None,
        colocate_with_first_write_call: bool = True,
        name: Optional[str] = None,
    ) -> None:
        if handle is not None:
            raise ValueError("TensorArray handles are not supported when eager execution is enabled.")
        if size is None:
            raise ValueError("Size must be declared for TensorArrays when eager execution is enabled.")
        self._dtype = as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = bool(infer_shape)
        self._element_shape = TensorShape(element_shape) if element_shape is not None else TensorShape(None)
        # made inside a trace: TF's graph TensorArray (functional writes, no clear_after_read)
        self._graph = _core._tracing() or _function_calls.depth > 0
        self._elems = [None] * max(_as_index(size), 0)
        self._cleared: set[int] = set()  # indices read with clear_after_read (eager only)
        self._buf = None  # dense mode: a [size, *element_shape] tensor (inside a traced while_loop)

    # ---- properties ------------------------------------------------------------------------------

    @property
    def dtype(self):
        """The data type of the elements."""
        return self._dtype

    @property
    def element_shape(self):
        """The ``TensorShape`` of the elements (as known so far)."""
        return self._element_shape

    @property
    def dynamic_size(self):
        """Whether writes past the end grow the array."""
        return self._dynamic_size

    @property
    def flow(self):
        """For compatibility: a scalar int32 tensor, as TF's eager TensorArray (flows order graph
        ops; tapegrad has none)."""

        return _tg().constant(0, dtype="int32")

    @property
    def handle(self):
        """None, as TF's eager TensorArray: tapegrad keeps no resource handle."""
        return None

    def __repr__(self):
        return f"<tf.TensorArray dtype={self._dtype.name} size={self._len()} element_shape={_shape_text(self._element_shape)}>"

    # ---- internals -------------------------------------------------------------------------------

    def _len(self):
        return int(self._buf.shape[0]) if self._buf is not None else len(self._elems)

    def _copy(self):
        new = TensorArray.__new__(TensorArray)
        new.__dict__.update(self.__dict__)
        new._elems = list(self._elems)
        new._cleared = set(self._cleared)
        return new

    def _in_graph(self):
        """Whether TF's graph TensorArray semantics apply: made in a tf.function, or used in one (an
        array from outside; TF would write graph tensors into it). A trace cannot replay the latter:
        its elements would be captured by value, stale once the array changes."""
        if self._graph:
            return True
        if _core._tracing():
            _core._trace_poison("a TensorArray made outside the function is used in it")
            return True
        return _function_calls.depth > 0

    def _target(self):
        """The array a change applies to: this one eagerly, a copy in a function (TF's graph TensorArray)."""
        return self._copy() if self._in_graph() else self

    def _to_list(self):
        """Leaves dense mode: the buffer's rows become the elements."""
        if self._buf is not None:
            self._elems = list(_tg().unstack(self._buf)) if int(self._buf.shape[0]) else []
            self._buf = None

    def _convert(self, value):

        if isinstance(value, Variable):
            value = _tg().convert_to_tensor(value)
        if not isinstance(value, Tensor):
            value = _tg().convert_to_tensor(value, dtype_hint=self._dtype)
        return value

    def _check_value(self, value):
        value = self._convert(value)
        if value.dtype != self._dtype:
            raise InvalidArgumentError(
                f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype {value.dtype.name} "
            )
        if not self._element_shape.is_compatible_with(value.shape):
            raise ValueError(f"Incompatible shape for value ({value.shape}), expected ({self._element_shape})")
        if self._infer_shape:
            self._element_shape = self._element_shape.merge_with(value.shape)
        return value

    def _zeros(self):

        if not self._element_shape.is_fully_defined():
            raise ValueError(
                f"Cannot convert a partially known TensorShape {_shape_text(self._element_shape)} to a Tensor."
            )
        return _tg().zeros(list(self._element_shape), dtype=self._dtype)

    def _maybe_zero(self, ix):
        val = self._elems[ix]
        if val is None:
            val = self._elems[ix] = self._zeros()
        return val

    def _write(self, index, value):
        if self._buf is not None and isinstance(index, (Tensor, Variable)):
            self._write_dense(index, value)
            return
        index = _as_index(index)
        if index < 0:
            raise _out_of_range(f"Writing to negative indices (index {index}) is not allowed.")
        size = self._len()
        if index >= size:
            if not self._dynamic_size:
                raise _out_of_range(f"Tried to write to index {index} but array is not resizeable and size is: {size} ")
            self._to_list()
            self._elems.extend([None] * (index - size + 1))
        if self._buf is not None:
            self._write_dense(index, value)
            return
        self._elems[index] = self._check_value(value)
        self._cleared.discard(index)

    def _write_dense(self, index, value):

        value = self._check_value(value)
        if isinstance(index, (Tensor, Variable)):
            if not index.dtype.is_integer:
                raise TypeError(f"TensorArray index must be an integer tensor, got {index.dtype.name}")
            index = _tg().reshape(_tg().cast(index, "int64"), [1, 1])
        else:
            index = [[index]]
        self._buf = _tg().tensor_scatter_nd_update(self._buf, index, value[None])

    # ---- methods ---------------------------------------------------------------------------------

    def identity(self):
        """A TensorArray with the same contents (this one eagerly, as TF)."""
        return self._target()

    def grad(self, source, flow=None, name=None):
        """Not needed: a GradientTape differentiates through a TensorArray's ops directly."""
        raise NotImplementedError(
            "TensorArray.grad is not supported when executing eagerly; eager's gradient implementation "
            "does not use/need this function to compute gradients of operations that use TensorArrays."
        )

    def read(self, index, name=None):
        """The element at `index` (zeros of the element shape if it was never written)."""
        graph = self._in_graph()
        if self._buf is not None:
            if isinstance(index, (Tensor, Variable)):
                return _tg().gather(self._buf, index)
            index = _as_index(index)
            self._check_read_index(index)
            return self._buf[index]
        index = _as_index(index)
        self._check_read_index(index)
        tensor = self._elems[index]
        if tensor is None:
            if index in self._cleared:
                raise InvalidArgumentError(
                    f"Could not read index {index} twice because it was cleared after a previous read "
                    "(perhaps try setting clear_after_read = false?)"
                )
            tensor = self._maybe_zero(index)
        if self._clear_after_read and not graph:
            self._elems[index] = None
            self._cleared.add(index)
        return tensor

    def _check_read_index(self, index):
        if index < 0:
            raise _out_of_range(f"Reading from negative indices (index {index}) is not allowed.")
        if index >= self._len():
            raise _out_of_range(f"Tried to read from index {index} but array size is: {self._len()} ")

    def write(self, index, value, name=None):
        """Writes `value` at `index`; returns the TensorArray to use from now on (TF: reassign it,
        ``ta = ta.write(i, x)``)."""
        ta = self._target()
        ta._write(index, value)
        return ta

    def stack(self, name=None):
        """All elements stacked into one tensor of shape ``[size, *element_shape]``."""
        self._in_graph()

        if self._buf is not None:
            return self._buf
        for ix in range(len(self._elems)):
            self._maybe_zero(ix)
        if not self._elems:
            shape = list(self._element_shape) if self._element_shape.is_fully_defined() else []
            return _tg().zeros([0] + shape, dtype=self._dtype)
        return _tg().stack(self._elems)

    def gather(self, indices, name=None):
        """The elements at `indices` (a 1-D list or tensor of ints), stacked."""
        self._in_graph()

        if self._buf is not None:
            return _tg().gather(self._buf, indices)
        if isinstance(indices, (Tensor, Variable)):
            indices = np.asarray(indices)
        return _tg().stack([self._maybe_zero(i) for i in indices])

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        self._in_graph()

        if self._buf is not None and len(self._buf.shape) >= 2:
            shape = list(self._buf.shape)
            return _tg().reshape(self._buf, [shape[0] * shape[1]] + shape[2:])
        self._to_list()
        elems = [self._maybe_zero(ix) for ix in range(len(self._elems))]
        for ix, t in enumerate(elems):
            if len(t.shape) == 0:
                raise InvalidArgumentError(f"Concat saw a scalar shape at index {ix} but requires at least vectors.")
        if not elems:
            if self._element_shape.is_fully_defined() and self._element_shape.rank:
                return _tg().zeros([0] + list(self._element_shape)[1:], dtype=self._dtype)
            raise InvalidArgumentError("Concat of an empty TensorArray whose element shape is not known.")
        return _tg().concat(elems, 0)

    def unstack(self, value, name=None):
        """Sets the elements to the rows of `value` (its first axis); returns the TensorArray."""

        value = self._convert(value)
        if len(value.shape) == 0:
            raise ValueError("Cannot unstack a scalar: the value must have at least one dimension.")
        n = int(value.shape[0])
        if n > self._len() and not self._dynamic_size:
            raise ValueError(f"Cannot unstack {n} tensors into a TensorArray of static size {self._len()} ")
        ta = self._target()
        if ta._buf is not None and n == ta._len():
            ta._buf = ta._check_value_rows(value)
            return ta
        ta._to_list()
        ta._check_value_rows(value)
        ta._elems = list(_tg().unstack(value)) if n else []
        ta._cleared = set()
        return ta

    def _check_value_rows(self, value):
        if value.dtype != self._dtype:
            raise InvalidArgumentError(
                f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype {value.dtype.name} "
            )
        row = TensorShape(list(value.shape)[1:])
        if not self._element_shape.is_compatible_with(row):
            raise ValueError(f"Incompatible shape for value ({row}), expected ({self._element_shape})")
        if self._infer_shape:
            self._element_shape = self._element_shape.merge_with(row)
        return value

    def scatter(self, indices, value, name=None):
        """Writes the rows of `value` at `indices`; returns the TensorArray."""

        value = self._convert(value)
        if isinstance(indices, (Tensor, Variable)):
            indices = np.asarray(indices)
        ta = self._target()
        for index, val in zip(indices, _tg().unstack(value)):
            ta._write(index, val)
        return ta

    def split(self, value, lengths, name=None):
        """Splits `value` along its first axis into pieces of `lengths`, one element each."""

        value = self._convert(value)
        lengths = np.asarray(lengths)
        total = int(lengths.sum())
        if lengths.ndim != 1:
            raise InvalidArgumentError(f"Expected lengths to be a vector, received shape: {list(lengths.shape)} ")
        if len(value.shape) == 0:
            raise InvalidArgumentError(
                f"Expected value to be at least a vector, but received shape: {list(value.shape)} "
            )
        if total != value.shape[0]:
            raise InvalidArgumentError(
                "Expected sum of lengths to be equal to values.shape[0], but sum of lengths is "
                f"{total} and value's shape is: {list(value.shape)} "
            )
        if not self._dynamic_size and lengths.shape[0] != self._len():
            raise InvalidArgumentError(
                f"TensorArray's size is not equal to the size of lengths ({self._len()} vs. {lengths.shape[0]}), "
                "and the TensorArray is not marked as dynamically resizeable."
            )
        if value.dtype != self._dtype:
            raise InvalidArgumentError(
                f"TensorArray dtype is {self._dtype.name} but Op is trying to write dtype {value.dtype.name} "
            )
        ta = self._target()
        ta._to_list()
        ta._elems = list(_tg().split(value, [int(n) for n in lengths], axis=0)) if len(lengths) else []
        ta._cleared = set()
        return ta

    def size(self, name=None):
        """The number of elements, as a scalar int32 tensor."""
        self._in_graph()

        return _tg().constant(self._len(), dtype="int32")

    def close(self, name=None):
        """Drops all elements (eagerly, as TF; in a trace it does nothing, as TF's graph TensorArray)."""
        if not self._in_graph():
            self._buf = None
            del self._elems[:]
            self._cleared = set()

    # ---- tf.while_loop inside a trace ------------------------------------------------------------

    def _dense_reason(self):
        """Why this TensorArray cannot be one dense loop variable (None when it can)."""
        self._in_graph()
        if self._buf is not None:
            return None
        if self._dynamic_size:
            return "a TensorArray with dynamic_size=True (its size can change)"
        if not self._element_shape.is_fully_defined():
            return (
                "a TensorArray whose element shape is not known before the loop (pass element_shape= or write "
                "an element first)"
            )
        if any(e is not None and tuple(e.shape) != tuple(self._element_shape) for e in self._elems):
            return "a TensorArray whose elements differ in shape"
        return None

    def _dense(self):
        if self._buf is None:
            elems = [self._zeros() if e is None else e for e in self._elems]
            shape = [0] + list(self._element_shape)
            return _tg().stack(elems) if elems else _tg().zeros(shape, dtype=self._dtype)
        return self._buf

    def _with_buffer(self, buf):
        """A TensorArray like this one whose elements are the rows of `buf` (dense mode)."""
        new = self._copy()
        new._graph = True
        new._elems = []
        new._cleared = set()
        new._buf = buf
        new._element_shape = TensorShape(list(buf.shape)[1:])
        return new


def _while_loop(while_loop, cond, body, loop_vars, kwargs):
    """tf.while_loop inside a trace with TensorArrays among `loop_vars`: each becomes one dense
    tensor loop variable (See the module docstring). None when one cannot: the trace is then
    poisoned with the reason and the caller runs the loop as a Python loop (values stay right)."""
    flat = nest.flatten(loop_vars)
    templates = {k: v for k, v in enumerate(flat) if isinstance(v, TensorArray)}
    if not templates:
        return None
    single = not isinstance(loop_vars, (list, tuple))
    # a fixed-size TensorArray with nothing written and no element shape: the first iteration,
    # peeled off the loop, gives the shape (TF's guide: `ta = tf.TensorArray(tf.float32, size=n)`)
    peel = [
        k
        for k, ta in templates.items()
        if ta._buf is None
        and not ta._dynamic_size
        and not any(e is not None for e in ta._elems)
        and not ta._element_shape.is_fully_defined()
    ]
    for k, ta in templates.items():
        why = None if k in peel else ta._dense_reason()
        if why is not None:
            _core._trace_poison(f"a tf.while_loop carries {why}")
            return None

    def unpack(values):
        out = [templates[k]._with_buffer(v) if k in templates else v for k, v in enumerate(values)]
        return nest.pack_sequence_as(loop_vars, out)

    def pack(structure):
        return nest.pack_sequence_as(
            loop_vars,
            [
                v._dense() if k in templates and isinstance(v, TensorArray) else v
                for k, v in enumerate(nest.flatten(structure))
            ],
        )

    def args_of(values):
        return unpack(nest.flatten(list(values)))

    def dense_cond(*values):
        state = args_of(values)
        return cond(state) if single else cond(*state)

    def dense_body(*values):
        state = args_of(values)
        out = body(state) if single else body(*state)
        if single and isinstance(out, (list, tuple)) and len(out) == 1:
            out = out[0]
        return pack(out)

    if kwargs.get("shape_invariants") is not None:  # a TensorArray's dense variable keeps its shape
        from .function import _flatten_up_to  # noqa: PLC0415

        invariants = _flatten_up_to(loop_vars, kwargs["shape_invariants"])
        invariants = [None if k in templates else s for k, s in enumerate(invariants)]
        kwargs = dict(kwargs, shape_invariants=nest.pack_sequence_as(loop_vars, invariants))
    if peel:
        return _peeled(while_loop, cond, body, loop_vars, kwargs, peel, single, pack)
    result = while_loop(dense_cond, dense_body, pack(loop_vars), **kwargs)
    return unpack(nest.flatten(result))


def _peeled(while_loop, cond, body, loop_vars, kwargs, peel, single, pack):
    """``if cond: state = body(state)`` as a tf.cond, then the loop on what it gives: the peeled
    iteration's writes give the element shapes of the TensorArrays in `peel` (flat positions)."""
    from .function import cond as tf_cond  # noqa: PLC0415

    maximum_iterations = kwargs.get("maximum_iterations")
    if maximum_iterations == 0:
        return loop_vars
    pred = cond(loop_vars) if single else cond(*loop_vars)
    if not _core._trace_peek_bool(_tg().convert_to_tensor(pred), "cond's result"):
        _core._trace_poison(
            "a tf.while_loop carries a TensorArray whose element shape is not known before the loop (pass "
            "element_shape= or write an element first), and the loop did not run when traced"
        )
        return None
    flat = nest.flatten(loop_vars)
    shapes = {}

    def run():
        out = body(loop_vars) if single else body(*loop_vars)
        if single and isinstance(out, (list, tuple)) and len(out) == 1:
            out = out[0]
        for k, v in enumerate(nest.flatten(out)):
            if k in peel and isinstance(v, TensorArray):
                shapes[k] = v._element_shape
        return pack(out)

    def skip():
        entry = list(flat)
        for k in peel:
            entry[k] = entry[k]._copy()
            entry[k]._element_shape = shapes.get(k, entry[k]._element_shape)
        return pack(nest.pack_sequence_as(loop_vars, entry))

    first = nest.flatten(tf_cond(pred, run, skip))
    state = [flat[k]._with_buffer(v) if isinstance(flat[k], TensorArray) else v for k, v in enumerate(first)]
    if maximum_iterations is not None:
        kwargs = dict(kwargs, maximum_iterations=maximum_iterations - 1)
    return while_loop(cond, body, nest.pack_sequence_as(loop_vars, state), **kwargs)


class _Opaque:
    """A TensorArray that a traced tf.cond cannot carry as a tensor: the trace is poisoned, and
    the branch the trace takes gives it (equal to any other, for tf.cond's structure check)."""

    def __init__(self, ta):
        self.ta = ta

    def __eq__(self, other):
        return isinstance(other, _Opaque)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self):
        return repr(self.ta)


def _cond(traced_cond, pred, true_fn, false_fn):
    """tf.cond inside a trace whose branches return TensorArrays: each leaves the node as one dense
    tensor (See the module docstring), or the trace is poisoned with the reason."""
    templates = {}  # flat position -> a TensorArray of the branch the trace takes (it runs first)

    def dense_branch(fn):
        def run():
            out = fn()
            flat = nest.flatten(out)
            if not any(isinstance(v, TensorArray) for v in flat):
                return out
            for k, v in enumerate(flat):
                if isinstance(v, TensorArray):
                    why = v._dense_reason()
                    if why is None and not isinstance(templates.get(k, v), _Opaque):
                        templates.setdefault(k, v)
                        flat[k] = v._dense()
                    else:
                        _core._trace_poison(f"a tf.cond returns {why or 'TensorArrays of different kinds'}")
                        templates[k] = flat[k] = _Opaque(v)
            return nest.pack_sequence_as(out, flat)

        return run

    result = traced_cond(pred, dense_branch(true_fn), dense_branch(false_fn))
    if not templates:
        return result
    flat = nest.flatten(result)
    for k, v in enumerate(flat):
        if isinstance(v, _Opaque):
            flat[k] = v.ta
        elif k in templates and isinstance(templates[k], TensorArray):
            flat[k] = templates[k]._with_buffer(v)
    return nest.pack_sequence_as(result, flat)
