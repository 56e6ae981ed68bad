"""``tf.map_fn``, ``tf.scan``, ``tf.foldl``/``tf.foldr``, ``tf.py_function``/``tf.numpy_function``
and TF 2's graph utilities (``tf.init_scope``, ``tf.control_dependencies``, ...), with TF 2.21's
signatures, results and errors.

The loops are Python loops over the elements' static first dimension, built from ``unstack`` and
``stack``, so a GradientTape differentiates them and a traced ``tf.function`` records them unrolled
(a trace has fixed shapes). ``py_function``/``numpy_function`` inside a traced function are host
calls (``_core._trace_host_call``, as ``tf.print``): the Python function runs at every call, on that
call's tensors.

>>> import tapegrad as tg
>>> tg.map_fn(lambda r: r * 2, tg.constant([[1, 2], [3, 4]])).numpy().tolist()
[[2, 4], [6, 8]]
>>> tg.scan(lambda a, x: a + x, tg.constant([1.0, 2.0, 3.0])).numpy().tolist()
[1.0, 3.0, 6.0]
>>> float(tg.foldl(lambda a, x: a * 10 + x, tg.constant([1.0, 2.0, 3.0])))
123.0
"""

import contextlib
import functools
import logging
import threading
import traceback
from collections.abc import Iterator
from typing import Any, Callable, Literal, Optional

import numpy as np

from . import _core, nest
from ._dtypes import as_dtype
from ._ops import convert_to_tensor, zeros
from ._ops_shape import stack, unstack
from ._tensor import Tensor, TensorShape, TensorSpec, Variable
from .errors import InvalidArgumentError

__all__ = [
    "control_dependencies",
    "foldl",
    "foldr",
    "get_current_name_scope",
    "group",
    "init_scope",
    "inside_function",
    "is_symbolic_tensor",
    "map_fn",
    "numpy_function",
    "py_function",
    "scan",
    "tuple",
]

_builtin_tuple = tuple


def _as_tensor(x: Any) -> Any:
    return convert_to_tensor(x) if isinstance(x, Variable) else x


def _first_dim(t: Tensor) -> int:
    shape = _builtin_tuple(t.shape)
    if not shape:
        raise IndexError("tuple index out of range")  # TF: elems_flat[0].shape[0]
    return int(shape[0])


def _out_of_range(message: str) -> Exception:
    from .errors import OutOfRangeError  # noqa: PLC0415

    return OutOfRangeError(None, None, message)


class _Rows:
    """An element tensor's rows, read as TF's TensorArray reads them (TF's errors past the end)."""

    __slots__ = ("rows",)

    def __init__(self, t: Tensor, n: int) -> None:
        if _first_dim(t) > n:
            raise ValueError(f"Cannot unstack {_first_dim(t)} tensors into a TensorArray of static size {n} ")
        self.rows = unstack(t) if t.shape[0] else []

    def read(self, i: int) -> Tensor:
        if i < 0:
            raise _out_of_range(f"Reading from negative indices (index {i}) is not allowed.")
        if i >= len(self.rows):
            raise _out_of_range(f"Tried to read from index {i} but array size is: {len(self.rows)} ")
        return self.rows[i]


class _Results:
    """What TF's result TensorArray checks on a write: its dtype, and the element shape (the spec's,
    else the first written, when infer_shape)."""

    __slots__ = ("dtype", "shape", "infer", "values")

    def __init__(self, dtype: Any, shape: Any, infer: bool, n: int) -> None:
        self.dtype, self.shape, self.infer = dtype, shape, infer
        self.values: list = [None] * n

    def write(self, i: int, value: Any) -> Tensor:
        if isinstance(value, Variable):
            value = convert_to_tensor(value)
        if not isinstance(value, Tensor):
            try:
                value = convert_to_tensor(value, dtype=self.dtype)
            except (TypeError, ValueError):
                value = convert_to_tensor(value)
        if value.dtype != self.dtype:
            raise InvalidArgumentError(
                f"TensorArray dtype is {self.dtype.name} but Op is trying to write dtype {value.dtype.name} "
            )
        shape = _builtin_tuple(value.shape)
        if self.infer:
            if self.shape is None:
                self.shape = shape
            elif self.shape != shape:
                raise ValueError(
                    f"Incompatible shape for value ({TensorShape(list(shape))}), expected "
                    f"({TensorShape(list(self.shape))})"
                )
        self.values[i] = value
        return value

    def stack(self) -> Tensor:
        if not self.values:
            return zeros([0, *(self.shape or ())], dtype=self.dtype)
        return stack(self.values)


def _spec_dtype_shape(spec: Any) -> _builtin_tuple:
    if isinstance(spec, TensorSpec):
        shape = spec.shape
        dims = None if shape.rank is None else _builtin_tuple(shape.as_list())
        known = dims is not None and all(d is not None for d in dims)
        return spec.dtype, (dims if known else None)
    return as_dtype(spec), None


_WARNED_PARALLEL = [False]
_WARNED_BACK_PROP: set = set()


def _no_back_prop(result: Any, op: str) -> Any:
    """back_prop=False, as TF: deprecated (a warning, once per op); eagerly gradients still flow,
    inside a tf.function the results carry none (TF's graph while_loop)."""
    if op not in _WARNED_BACK_PROP:
        _WARNED_BACK_PROP.add(op)
        logging.getLogger("tensorflow").warning(
            "calling %s with back_prop=False is deprecated and will be removed in a future version.\n"
            "Instructions for updating:\nback_prop=False is deprecated. Consider using tf.stop_gradient instead.",
            op,
        )
    if not _core._tracing():
        return result
    return nest.map_structure(lambda t: _core.stop_gradient(t) if isinstance(t, Tensor) else t, result)


def map_fn(
    fn: Callable[..., Any],
    elems: Any,
    dtype: Any = None,
    parallel_iterations: Optional[int] = None,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    name: Optional[str] = None,
    fn_output_signature: Any = None,
) -> Any:
    """``tf.map_fn``: ``fn`` applied to each slice of `elems` along its first dimension, results
    stacked. `elems` may be a nest of tensors with one first dimension; `fn_output_signature` (or the
    deprecated `dtype`) gives the result's dtypes/TensorSpecs when they differ from `elems`'.
    `parallel_iterations` and `swap_memory` change nothing; ``back_prop=False`` (deprecated) stops
    gradients inside a traced ``tf.function`` only, as in TF.

    >>> import tapegrad as tg
    >>> tg.map_fn(lambda t: t[0] * t[1], (tg.constant([1, 2]), tg.constant([3, 4]))).numpy().tolist()
    Traceback (most recent call last):
    ...
    ValueError: The two structures don't have the same nested structure...
    >>> tg.map_fn(lambda t: t[0] * t[1], (tg.constant([1, 2]), tg.constant([3, 4])),
    ...           fn_output_signature=tg.int32).numpy().tolist()
    [3, 8]
    """
    if fn_output_signature is None:
        fn_output_signature = dtype
    if not callable(fn):
        raise TypeError(f"The provided function {fn.__name__} is not callable.fn must be callable.")
    if parallel_iterations is not None and parallel_iterations > 1 and not _core._tracing():
        if not _WARNED_PARALLEL[0]:
            _WARNED_PARALLEL[0] = True
            logging.getLogger("tensorflow").warning(
                "Setting parallel_iterations > 1 has no effect when executing eagerly. Consider calling map_fn "
                "with tf.function to execute fn in parallel."
            )
    elems = nest.map_structure(_as_tensor, elems)
    elems_flat = nest.flatten(elems)
    if len(elems_flat) == 0:
        raise ValueError(
            "elems must be a Tensor or (possibly nested) sequence of Tensors. "
            f"Got {elems}, which does not contain any Tensors."
        )
    if fn_output_signature is None:
        specs = [(convert_to_tensor(e).dtype, None) for e in elems_flat]
    else:
        specs = [_spec_dtype_shape(d) for d in nest.flatten(fn_output_signature)]
    elems_flat = [convert_to_tensor(e) for e in elems_flat]
    if elems_flat[0].ndim < 1:
        raise ValueError("Elements in elems must be 1+ dimensional Tensors, not scalars")
    n = _first_dim(elems_flat[0])
    for t in elems_flat[1:]:
        if t.ndim < 1:
            raise ValueError(f"Shape {TensorShape([])} must have rank at least 1")
        if _first_dim(t) != n:
            raise ValueError(f"Dimensions {n} and {_first_dim(t)} are not compatible")
    rows = [unstack(t) if n else [] for t in elems_flat]
    results = [_Results(d, s, infer_shape, n) for d, s in specs]
    for i in range(n):
        value = nest.pack_sequence_as(elems, [r[i] for r in rows])
        out = fn(value)
        nest.assert_same_structure(fn_output_signature or elems, out)
        out_flat = nest.flatten(out)
        for res, v in zip(results, out_flat):
            res.write(i, v)
    stacked = [r.stack() for r in results]
    out = nest.pack_sequence_as(elems if fn_output_signature is None else fn_output_signature, stacked)
    return out if back_prop else _no_back_prop(out, "map_fn_v2")


def scan(
    fn: Callable[..., Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    infer_shape: bool = True,
    reverse: bool = False,
    name: Optional[str] = None,
) -> Any:
    """``tf.scan``: the running results of ``a = fn(a, x)`` over the slices `x` of `elems` (a nest)
    along their first dimension, from `initializer` (a nest; default: the first slice, which is then
    the first result), stacked; ``reverse=True`` scans from the last slice.

    >>> import tapegrad as tg
    >>> tg.scan(lambda a, x: a + x, tg.constant([1, 2, 3]), reverse=True).numpy().tolist()
    [6, 5, 3]
    """
    if not callable(fn):
        raise TypeError(f"{fn.__name__} is not callable. Please provide a callable function.")
    input_nested = nest.is_nested(elems)

    def input_flatten(x):
        return nest.flatten(x) if input_nested else [x]

    def input_pack(x):
        return nest.pack_sequence_as(elems, x) if input_nested else x[0]

    if initializer is None:
        output_flatten, output_pack = input_flatten, input_pack
    else:
        output_nested = nest.is_nested(initializer)

        def output_flatten(x):
            return nest.flatten(x) if output_nested else [x]

        def output_pack(x):
            return nest.pack_sequence_as(initializer, x) if output_nested else x[0]

    elems_flat = [convert_to_tensor(e) for e in input_flatten(elems)]
    n = _first_dim(elems_flat[0])
    tas = [_Rows(e, n) for e in elems_flat]
    if initializer is None:
        a_flat = [ta.read(n - 1 if reverse else 0) for ta in tas]
        start = 1
    else:
        a_flat = [convert_to_tensor(v) for v in output_flatten(initializer)]
        start = 0
    accs = [_Results(a.dtype, _builtin_tuple(a.shape) if infer_shape else None, infer_shape, n) for a in a_flat]
    if initializer is None:
        for acc, a in zip(accs, a_flat):
            acc.write(n - 1 if reverse else 0, a)
    order = range(n - 1 - start, -1, -1) if reverse else range(start, n)
    for i in order:
        x = input_pack([ta.read(i) for ta in tas])
        out = fn(output_pack(a_flat), x)
        nest.assert_same_structure(elems if initializer is None else initializer, out)
        a_flat = [acc.write(i, v) for acc, v in zip(accs, output_flatten(out))]
    out = output_pack([acc.stack() for acc in accs])
    return out if back_prop else _no_back_prop(out, "scan_v2")


def _fold_setup(fn, elems):
    if not callable(fn):
        raise TypeError(f"{fn.__name__} is not callable. Please provide a callable function.")
    elems_flat = [convert_to_tensor(e) for e in nest.flatten(elems)]
    if not elems_flat:
        raise IndexError("list index out of range")  # TF: elems_flat[0]
    n = _first_dim(elems_flat[0])
    tas = [_Rows(e, n) for e in elems_flat]

    def read(i):
        return nest.pack_sequence_as(elems, [ta.read(i) for ta in tas])

    return n, read


def _fold(fn, elems, initializer, reverse):
    """foldl's and foldr's loop: ``a = fn(a, x)`` over the slices in order (reversed for foldr),
    starting from `initializer` or, without one, from the first slice visited."""
    n, read = _fold_setup(fn, elems)
    order = range(n - 1, -1, -1) if reverse else range(n)
    if initializer is None:
        a = read(n - 1 if reverse else 0)
        order = order[1:]
    else:
        a = initializer
    for i in order:
        new = fn(a, read(i))
        nest.assert_same_structure(a, new, check_types=False)
        a = new
    return a


def foldl(
    fn: Callable[..., Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: Optional[str] = None,
) -> Any:
    """``tf.foldl``: ``a = fn(a, x)`` over the slices `x` of `elems` (a nest) from first to last,
    starting from `initializer` (default: the first slice); returns the final `a`.

    >>> import tapegrad as tg
    >>> float(tg.foldl(lambda a, x: a - x, tg.constant([1.0, 2.0, 3.0]), initializer=10.0))
    4.0
    """
    a = _fold(fn, elems, initializer, reverse=False)
    return a if back_prop else _no_back_prop(a, "foldl_v2")


def foldr(
    fn: Callable[..., Any],
    elems: Any,
    initializer: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    name: Optional[str] = None,
) -> Any:
    """``tf.foldr``: ``a = fn(a, x)`` over the slices `x` of `elems` (a nest) from last to first,
    starting from `initializer` (default: the last slice); returns the final `a`.

    >>> import tapegrad as tg
    >>> float(tg.foldr(lambda a, x: a * 10 + x, tg.constant([1.0, 2.0, 3.0])))
    321.0
    """
    a = _fold(fn, elems, initializer, reverse=True)
    return a if back_prop else _no_back_prop(a, "foldr_v2")


# ---- tf.py_function and tf.numpy_function ----------------------------------------------------------

_TOKENS = [0]


def _next_token() -> str:
    """TF's name for a registered Python function in its messages ("pyfunc_7")."""
    token = f"pyfunc_{_TOKENS[0]}"
    _TOKENS[0] += 1
    return token


def _check_args(script_op, script_op_name, func, inp, Tout, **kwargs):  # noqa: N803  (TF's name)
    """TF's argument checks; the decorator when `func` is None."""
    if Tout is None:
        raise TypeError(
            "Missing required argument: 'Tout'\n"
            f"  If using {script_op_name} as a decorator, set `Tout`\n"
            "  **by name** above the function:\n"
            f"  `@{script_op_name}(Tout=tout)`"
        )
    if func is None:
        if inp is not None:
            raise TypeError(f"Don't set the `inp` argument when using {script_op_name} as a decorator (`func=None`).")

        def decorator(fun):
            @functools.wraps(fun)
            def wrapper(*args):
                return script_op(fun, inp=args, Tout=Tout, **kwargs)

            return wrapper

        return decorator
    if inp is None:
        raise TypeError(
            "Missing argument `inp`:\n"
            "  You must set the `inp` argument (the list of arguments to the\n"
            f"  function), unless you use `{script_op_name}` as a decorator"
            "(`func=None`)."
        )
    return None


def _tout_dtypes(Tout):  # noqa: N803
    is_list = isinstance(Tout, (list, _builtin_tuple))
    touts = list(Tout) if is_list else [Tout]
    return is_list, [t.dtype if isinstance(t, TensorSpec) else as_dtype(t) for t in touts]


def _op_error(e: BaseException, suffix: str) -> Exception:
    """The TF error a kernel reports for a Python exception in the wrapped function: ValueError and
    TypeError -> InvalidArgumentError, StopIteration -> OutOfRangeError, MemoryError ->
    ResourceExhaustedError, NotImplementedError -> UnimplementedError, any other -> UnknownError; the
    message is the exception and its traceback, as TF's."""
    from . import errors  # noqa: PLC0415

    text = f"{type(e).__name__}: {e}\n" + "\n".join(traceback.format_exception(type(e), e, e.__traceback__)) + suffix
    if isinstance(e, (ValueError, TypeError)):
        return InvalidArgumentError(text)
    if isinstance(e, MemoryError):
        return errors.ResourceExhaustedError(text)
    if isinstance(e, StopIteration):
        return errors.OutOfRangeError(None, None, text)
    if isinstance(e, NotImplementedError):
        return errors.UnimplementedError(None, None, text)
    return errors.UnknownError(None, None, text)


def _py_function_outputs(func, args, dtypes, token, suffix):
    """func(*args) converted as TF's EagerFunc does (a list: zipped with Tout; None: no outputs; a
    value: converted to Tout[0]), then TF's count check."""
    try:
        ret = func(*args)

        def convert(value, dtype):
            if isinstance(value, Variable):
                raise RuntimeError(
                    "Attempting to return a variable from an eagerly executed py_func. Only numeric data "
                    "structures like Tensors or NumPy arrays should be returned; to return the value of a "
                    "variable, make sure to obtain the Tensor backing it by calling `.read_value()` on the "
                    f"variable in question: {value}"
                )
            return convert_to_tensor(value, dtype=dtype)

        if isinstance(ret, (list, _builtin_tuple)):
            outs = [convert(v, d) for v, d in zip(ret, dtypes)]
        elif ret is None:
            outs = []
        else:
            outs = [convert(ret, dtypes[0])]
    except Exception as e:  # noqa: BLE001  (TF reports any exception as an op error)
        raise _op_error(e, suffix) from e
    if len(outs) != len(dtypes):
        raise InvalidArgumentError(
            f"{token} returns {len(outs)} values, but expects to see {len(dtypes)} values.{suffix}"
        )
    return outs


def _traced_host_call(run, tensors, what):
    """run(*tensors) -> list of tensors, as a host call of the trace: run now and at every replay.
    A replay whose results' shapes differ from the trace's raises (tapegrad's traces have fixed
    shapes; TF's graphs give the results unknown shapes)."""
    traced_shapes: list = []

    def host(*ts):
        outs = run(*ts)
        shapes = [(o.dtype, _builtin_tuple(o.shape)) for o in outs]
        if not traced_shapes:
            traced_shapes.append(shapes)
        elif shapes != traced_shapes[0]:
            raise InvalidArgumentError(
                f"{what} returned tensors of dtypes and shapes {[(d.name, s) for d, s in shapes]} at this call of the "
                f"tf.function but {[(d.name, s) for d, s in traced_shapes[0]]} when it was traced: tapegrad's "
                "traces have fixed shapes (make the results' shapes depend only on the inputs' shapes, or run "
                "the function eagerly: tf.config.run_functions_eagerly(True))"
            )
        return outs

    return _core._trace_host_call(host, tensors, True)


def py_function(func: Any = None, inp: Any = None, Tout: Any = None, name: Optional[str] = None) -> Any:  # noqa: N803
    """``tf.py_function``: calls ``func(*inp)`` eagerly with tensors and converts its result to `Tout`
    (a dtype: one tensor; a list of dtypes: a list; ``[]``: func returns None). Used as a decorator
    when `func` is None. Differentiable: func's own ops are on the tape. Inside a traced
    ``tf.function`` func runs at every call (a host call), on that call's tensors; its results must
    keep the dtypes and shapes they had when the function was traced (tapegrad's traces have fixed
    shapes). In a ``tf.cond`` branch that the tracing call does not take, func also runs once while
    tracing (the branch is traced with real values).

    >>> import tapegrad as tg
    >>> x = tg.constant(3.0)
    >>> with tg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = tg.py_function(lambda a: a * a, [x], Tout=tg.float32)
    >>> float(y), float(tape.gradient(y, x))
    (9.0, 6.0)
    """
    decorator = _check_args(py_function, "tf.py_function", func, inp, Tout, name=name)
    if decorator is not None:
        return decorator
    if not callable(func):
        raise ValueError(f"Expected func to be callable. Received func={func} of type {type(func)}.")
    args = [convert_to_tensor(x) for x in list(inp)]
    is_list, dtypes = _tout_dtypes(Tout)
    token = _next_token()
    if _core._tracing():

        def run(*ts):
            return _py_function_outputs(func, ts, dtypes, token, "")

        outs = _traced_host_call(run, args, "tf.py_function")
    else:
        outs = _py_function_outputs(func, args, dtypes, token, " [Op:EagerPyFunc]")
    return outs if is_list else outs[0]


# TF's kernel names for dtypes in the PyFunc messages ("is double, but expects float")
_KERNEL_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def numpy_function(
    func: Any = None,
    inp: Any = None,
    Tout: Any = None,  # noqa: N803
    stateful: bool = True,
    name: Optional[str] = None,
) -> Any:
    """``tf.numpy_function``: calls ``func(*inp)`` with numpy arrays. Eagerly, as TF, its results
    become tensors as they are (`Tout` is not checked; one result is returned alone). Inside a traced
    ``tf.function`` func runs at every call (a host call) and its results must match `Tout` (TF's
    errors). Not differentiable.

    >>> import numpy as np, tapegrad as tg
    >>> tg.numpy_function(lambda a: a * 2 + 1, [tg.constant([0.0, 1.0])], tg.float32).numpy().tolist()
    [1.0, 3.0]
    """
    decorator = _check_args(numpy_function, "tf.numpy_function", func, inp, Tout, stateful=stateful, name=name)
    if decorator is not None:
        return decorator
    if not _core._tracing():
        result = nest.flatten(func(*[np.array(_as_tensor(x)) for x in inp]))
        result = [x if x is None else convert_to_tensor(x) for x in result]
        return result[0] if len(result) == 1 else result
    args = [convert_to_tensor(x) for x in list(inp)]
    is_list, dtypes = _tout_dtypes(Tout)
    token = _next_token()

    def run(*ts):
        try:
            ret = func(*[np.array(t) for t in ts])
        except Exception as e:  # noqa: BLE001
            raise _op_error(e, "") from e
        if isinstance(ret, bytes):
            ret = [ret]
        values = [np.asarray(v) for v in ret] if isinstance(ret, (list, _builtin_tuple)) else [np.asarray(ret)]
        if ret is None:
            values = []
        if len(values) != len(dtypes):
            raise InvalidArgumentError(
                f"{token} returns {len(values)} values, but expects to see {len(dtypes)} values."
            )
        outs = []
        for k, (v, d) in enumerate(zip(values, dtypes)):
            got = v.dtype.name
            if got != np.dtype(d.as_numpy_dtype).name:
                raise InvalidArgumentError(
                    f"{k}-th value returned by {token} is {_KERNEL_NAMES.get(got, got)}, but expects "
                    f"{_KERNEL_NAMES.get(d.name, d.name)}"
                )
            outs.append(convert_to_tensor(v, dtype=d))
        return outs

    outs = _traced_host_call(run, args, "tf.numpy_function")
    return outs if is_list else outs[0]


# ---- graph utilities (TF 2's eager / tf.function behaviour) -----------------------------------------

_STATE = threading.local()


def _in_lifted_scope() -> bool:
    """Whether this thread is inside ``tf.init_scope`` within a trace."""
    return getattr(_STATE, "init_depth", 0) > 0


@contextlib.contextmanager
def init_scope() -> Iterator[None]:
    """``tf.init_scope``: eagerly nothing to do. Inside a traced ``tf.function`` the block runs
    once, eagerly, outside the function's graph, as in TF: the trace is paused for the block
    (nothing in it is recorded; Variables made there are made once), and tensors it makes are
    captured by value when the function uses them. Inside the block ``tf.executing_eagerly()`` is
    True and ``tf.inside_function()`` stays True, as in TF.

    >>> import tapegrad as tg
    >>> with tg.init_scope():
    ...     tg.executing_eagerly()
    True
    """
    if not _core._tracing():
        yield
        return
    paused = _core._trace_pause()
    _STATE.init_depth = getattr(_STATE, "init_depth", 0) + 1
    try:
        yield
    finally:
        _core._trace_resume(paused)
        _STATE.init_depth -= 1


def inside_function() -> bool:
    """True while a ``tf.function`` traces (also inside ``tf.init_scope`` there, as TF); False
    eagerly, including in functions run eagerly (``run_functions_eagerly(True)``)."""
    return _core._tracing() or _in_lifted_scope()


def is_symbolic_tensor(tensor: Any) -> bool:
    """True for a tensor computed, from the function's inputs, by the ``tf.function`` being traced;
    False eagerly and for Variables, numpy arrays and Python values. (TF also calls a constant made
    inside the function symbolic; tapegrad's traces keep such constants as values.)"""
    return _core._tracing() and type(tensor) is Tensor and _core._trace_is_traced(tensor)


def get_current_name_scope() -> str:
    """The current ``tf.name_scope`` ("outer/inner"), "" at the top level.

    >>> import tapegrad as tg
    >>> with tg.name_scope("a"), tg.name_scope("b"):
    ...     tg.get_current_name_scope()
    'a/b'
    """
    from .module import current_name_scope  # noqa: PLC0415

    return current_name_scope()


class _NullContextmanager:
    """What ``tf.control_dependencies`` returns eagerly: a context manager that does nothing."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> Literal[False]:
        return False


def control_dependencies(control_inputs: Any) -> _NullContextmanager:
    """``tf.control_dependencies``: eagerly, TF calls the callables among `control_inputs` and
    returns a context manager that does nothing, as here. Inside a traced ``tf.function`` the same:
    tapegrad records and replays calls in program order, so what came before the block is done
    before it."""
    if control_inputs:
        for control in control_inputs:
            if callable(control):
                control()
    return _NullContextmanager()


def group(*inputs: Any, **kwargs: Any) -> None:
    """``tf.group``: None (TF 2 eagerly returns None; tapegrad's traces run calls in program order,
    so there is nothing to group)."""
    return None


def tuple(tensors: Any, control_inputs: Any = None, name: Optional[str] = None) -> Any:  # noqa: A001  (TF's name)
    """``tf.tuple``: `tensors` as given (TF 2's eager result; calls run in program order here)."""
    return tensors
