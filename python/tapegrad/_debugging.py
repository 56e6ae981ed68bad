"""``tf.debugging``'s implementation (tapegrad.debugging lists the public names): assertions and
numeric checks, with TF 2.21's signatures, exception types and eager messages.

Eagerly an assertion checks its arguments now and returns None (as TF). Inside a traced
``tf.function`` (Note [Traced functions]) an assertion whose tensors depend on the call is a host
call (``_core._trace_host_call``, as ``tf.print``): the check runs on the tensors of every call,
the trace's own and every replay, and raises TF's exception from the call that fails. Checks of
shapes, ranks and dtypes are decided once per trace, as in TF: a trace has fixed shapes and dtypes.
Inside a function the messages are TF's eager ones (TF's graph-mode messages name graph nodes, such
as ``x (x:0) =``, which tapegrad's traces do not have).

>>> import tapegrad as tg
>>> tg.debugging.assert_less([1, 2], [3, 3]) is None
True
>>> try:
...     tg.debugging.assert_positive([1.0, -2.0], message="weights")
... except tg.errors.InvalidArgumentError as e:
...     print(e)
weights.
Condition x > 0 did not hold element-wise:
x (shape=(2,) dtype=float32) =
['1.0', '-2.0']
"""

from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np

from . import _core
from ._dtypes import as_dtype, float32, int32
from ._ops import convert_to_tensor
from ._tensor import Tensor, TensorShape, Variable
from .errors import InvalidArgumentError


def _t(x: Any, dtype: Any = None) -> Tensor:
    return x if type(x) is Tensor and dtype is None else convert_to_tensor(x, dtype=dtype)


def _run_check(check: Callable[..., None], tensors: Sequence[Any]) -> None:
    """check(*tensors) now; inside a trace, when any tensor depends on the call (or is a Variable),
    also at every replay with that call's tensors (a host call; not done in a tf.cond branch the
    call does not take)."""
    if _core._tracing() and any(_core._trace_is_traced(t) for t in tensors if isinstance(t, (Tensor, Variable))):
        values = [convert_to_tensor(t) for t in tensors]  # Variables: recorded reads

        def host(*ts):
            check(*ts)

        _core._trace_host_call(host, values, writes=False)
        return None
    check(*tensors)
    return None


def _message_prefix(message: Optional[str]) -> str:
    return f"{message}.  " if message else ""


def _shape_and_dtype_str(x: Tensor) -> str:
    return f"shape={TensorShape(list(x.shape))} dtype={x.dtype.name}"


def _summarize(summarize: Optional[int]) -> Any:
    """TF's eager rule: None prints 3 entries, a negative value all of them (TF's 1e9, a float: a
    unary assertion's tensor entry then fails to slice, with TF's TypeError)."""
    if summarize is None:
        return 3
    return 1e9 if summarize < 0 else int(summarize)


def _pretty(item: Any, summarize: int) -> str:
    """One entry of a binary assertion's data, as TF's eager `_pretty_print`."""
    if isinstance(item, (Tensor, Variable)):
        a = np.asarray(item)
        if a.ndim == 0:
            return str(a[()])
        flat = a.reshape(-1)
        items = [str(v) for v in flat[:summarize]]
        if len(items) < flat.size:
            items.append("...")
        return str(items)
    return str(item)


# ---- binary assertions ----------------------------------------------------------------------------


_X = object()  # in a unary assertion's data: the tensor checked


def _binary_assert(sym, op, x, y, message, summarize, data=None, checked=0):
    """TF's `_binary_assert` (eager): raises InvalidArgumentError with TF's message unless op(x, y)
    holds everywhere. `data` replaces the default message entries (the unary assertions use it;
    its entry `_X` stands for the argument numbered `checked`)."""
    x = _t(x)
    y = _t(y)

    def check(x, y):
        test = np.asarray(op(x, y))
        if bool(np.all(test)):
            return
        n = _summarize(summarize)
        items: list[Any]
        if data is None:
            items = [f"Condition x {sym} y did not hold."]
            if n > 0:
                xs, ys = np.asarray(x), np.asarray(y)
                if tuple(x.shape) == tuple(y.shape) and len(x.shape):
                    mask = ~test
                    ind = np.argwhere(mask)
                    k = min(n, ind.shape[0])
                    items += [
                        f"Indices of first {k} different values:",
                        ind[:k],
                        "Corresponding x values:",
                        xs[mask].reshape(-1)[:k],
                        "Corresponding y values:",
                        ys[mask].reshape(-1)[:k],
                    ]
                xf, yf = xs.reshape(-1), ys.reshape(-1)
                nx, ny = min(xf.size, n), min(yf.size, n)
                items += [f"First {nx} elements of x:", xf[:nx], f"First {ny} elements of y:", yf[:ny]]
        else:
            items = [(x, y)[checked] if d is _X else d for d in data]
        if message is not None:
            items = [message] + items
        raise InvalidArgumentError("\n".join(_pretty(d, n) for d in items))

    _run_check(check, [x, y])
    return None


def assert_equal(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError (TF's message) unless ``x == y`` everywhere (broadcast); else None.

    >>> import tapegrad as tg
    >>> tg.debugging.assert_equal([1, 2], [1, 2]) is None
    True
    """
    if x is y:
        return None
    return _binary_assert("==", _core.equal, x, y, message, summarize)


def assert_none_equal(x: Any, y: Any, summarize: Optional[int] = None, message: Optional[str] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x != y`` everywhere; else None."""
    return _binary_assert("!=", _core.not_equal, x, y, message, summarize)


def assert_less(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x < y`` everywhere; else None."""
    return _binary_assert("<", _core.less, x, y, message, summarize)


def assert_less_equal(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x <= y`` everywhere; else None."""
    return _binary_assert("<=", _core.less_equal, x, y, message, summarize)


def assert_greater(x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x > y`` everywhere; else None."""
    return _binary_assert(">", _core.greater, x, y, message, summarize)


def assert_greater_equal(
    x: Any, y: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None
):
    """Raises InvalidArgumentError unless ``x >= y`` everywhere; else None."""
    return _binary_assert(">=", _core.greater_equal, x, y, message, summarize)


# ---- unary assertions (TF builds them on assert_less / assert_less_equal with a zero) -------------


def _unary_assert(x, message, summarize, sym, zero_first, op):
    prefix = _message_prefix(message)
    x = _t(x)
    # TF's assert_non_positive lacks the comma between its two strings: one entry, no newline
    head = [f"Condition x {sym} 0 did not hold element-wise:", f"x ({_shape_and_dtype_str(x)}) = "]
    if sym == "<=":
        head = [head[0] + head[1]]
    data = [prefix, *head, _X]
    zero = convert_to_tensor(0, dtype=x.dtype)
    a, b = (zero, x) if zero_first else (x, zero)
    return _binary_assert("", op, a, b, None, summarize, data=data, checked=1 if zero_first else 0)


def assert_positive(x: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x > 0`` everywhere (empty ``x`` passes); else None.

    >>> import tapegrad as tg
    >>> tg.debugging.assert_positive([1.0, 2.0]) is None
    True
    """
    return _unary_assert(x, message, summarize, ">", True, _core.less)


def assert_negative(x: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x < 0`` everywhere; else None."""
    return _unary_assert(x, message, summarize, "<", False, _core.less)


def assert_non_negative(x: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x >= 0`` everywhere; else None."""
    return _unary_assert(x, message, summarize, ">=", True, _core.less_equal)


def assert_non_positive(x: Any, message: Optional[str] = None, summarize: Optional[int] = None, name: Any = None):
    """Raises InvalidArgumentError unless ``x <= 0`` everywhere; else None."""
    return _unary_assert(x, message, summarize, "<=", False, _core.less_equal)


# ---- tf.debugging.Assert and assert_near -----------------------------------------------------------


def _summarize_entry(item: Any, summarize: Optional[int]) -> str:
    """One data entry as TF's eager Assert prints it (`_summarize_eager`): strings as bytes, tensors
    as their first `summarize` values joined by ", "."""
    if isinstance(item, str):
        item = item.encode()
    if isinstance(item, bytes):
        return str(item) if summarize != 0 else ""
    a = np.asarray(_t(item))
    n = a.size if summarize is not None and summarize < 0 else (3 if summarize is None else summarize)
    if a.ndim:
        flat = a.reshape(-1)
        items = [str(v) for v in flat[:n]]
        if len(items) < flat.size:
            items.append("...")
    else:
        items = [str(a[()])] if n != 0 else []
    return ", ".join(items)


def Assert(condition: Any, data: Any, summarize: Optional[int] = None, name: Any = None):  # noqa: N802  (TF's name)
    """``tf.debugging.Assert``: raises InvalidArgumentError, with the entries of `data` summarized
    (the first `summarize` values of each; default 3), unless `condition` is true; else None.

    >>> import tapegrad as tg
    >>> try:
    ...     tg.debugging.Assert(tg.constant(False), ["x is", tg.constant([1, 2, 3, 4])])
    ... except tg.errors.InvalidArgumentError as e:
    ...     print(e)
    Expected 'tf.Tensor(False, shape=(), dtype=bool)' to be true. Summarized data: b'x is'
    1, 2, 3, ...
    """
    data = list(data)

    def check(cond, *tensors):
        if cond:
            return
        it = iter(tensors)
        values = [next(it) if isinstance(d, (Tensor, Variable)) else d for d in data]
        text = "\n".join(_summarize_entry(v, summarize) for v in values)
        raise InvalidArgumentError(f"Expected '{str(cond)}' to be true. Summarized data: {text}")

    tensors = [d for d in data if isinstance(d, (Tensor, Variable))]
    if isinstance(condition, (Tensor, Variable)):
        _run_check(check, [condition, *tensors])
    elif not condition:  # a Python value: decided now (TF: `if not condition`)
        _run_check(lambda *ts: check(condition, *ts), tensors)
    return None


def assert_near(
    x: Any,
    y: Any,
    rtol: Any = None,
    atol: Any = None,
    message: Optional[str] = None,
    summarize: Optional[int] = None,
    name: Any = None,
):
    """Raises InvalidArgumentError (TF's Assert message) unless ``|x - y| < atol + rtol * |y|``
    everywhere; `rtol` and `atol` default to 10 * eps of x's dtype.

    >>> import tapegrad as tg
    >>> tg.debugging.assert_near([1.0, 2.0], [1.0, 2.0000001]) is None
    True
    """
    prefix = _message_prefix(message)
    x = _t(x)
    y = _t(y, x.dtype)
    dtype = x.dtype.real_dtype if x.dtype.is_complex else x.dtype
    eps = np.finfo(dtype.as_numpy_dtype).eps
    rtol = _t(10 * eps if rtol is None else rtol, dtype)
    atol = _t(10 * eps if atol is None else atol, dtype)
    head = [
        prefix,
        f"x and y not equal to tolerance rtol = {str(rtol)}, atol = {str(atol)}",
        f"x ({_shape_and_dtype_str(x)}) = ",
    ]
    y_head = f"y ({_shape_and_dtype_str(y)}) = "

    def check(x, y, rtol, atol):
        a, b = np.asarray(x), np.asarray(y)
        tol = np.asarray(atol) + np.asarray(rtol) * np.abs(b)
        ok = bool(np.all(np.abs(a - b) < tol))
        cond = convert_to_tensor(ok)
        if ok:
            return
        text = "\n".join(_summarize_entry(v, summarize) for v in [*head, x, y_head, y])
        raise InvalidArgumentError(f"Expected '{str(cond)}' to be true. Summarized data: {text}")

    _run_check(check, [x, y, rtol, atol])
    return None


# ---- static assertions: ranks, shapes, dtypes ------------------------------------------------------


def _rank_tensor(rank: Any) -> np.ndarray:
    r = _t(rank)
    if r.dtype != int32:
        raise TypeError(f"tensor must be of type tf.int32; got tf.{r.dtype.name}")
    return np.asarray(r)


def _scalar_rank(r: np.ndarray) -> int:
    if r.ndim != 0:
        raise ValueError("Rank must be a scalar.")
    return int(r)


def _rank_error(x: Any, message: Optional[str], expected: str) -> ValueError:
    """TF's eager, static-shape message of the rank asserts."""
    return ValueError(
        f"{_message_prefix(message)}Tensor  must have rank {expected}.  Received rank {x.ndim}, "
        f"shape {TensorShape(list(x.shape))}"
    )


def assert_rank(x: Any, rank: Any, message: Optional[str] = None, name: Any = None):
    """Raises ValueError (TF's eager, static-shape message) unless x has rank `rank`; else None.

    >>> import tapegrad as tg
    >>> tg.debugging.assert_rank([[1.0]], 2) is None
    True
    """
    x = _t(x)
    r = _scalar_rank(_rank_tensor(rank))
    if x.ndim != r:
        raise _rank_error(x, message, str(r))
    return None


def assert_rank_at_least(x: Any, rank: Any, message: Optional[str] = None, name: Any = None):
    """Raises ValueError unless x has rank `rank` or more; else None."""
    x = _t(x)
    r = _scalar_rank(_rank_tensor(rank))
    if x.ndim < r:
        raise _rank_error(x, message, f"at least {r}")
    return None


def assert_rank_in(x: Any, ranks: Any, message: Optional[str] = None, name: Any = None):
    """Raises ValueError unless x's rank is one of `ranks`; else None."""
    x = _t(x)
    values = [_rank_tensor(r) for r in ranks]  # every dtype checked before any shape, as TF
    allowed = tuple(_scalar_rank(r) for r in values)
    if x.ndim not in allowed:
        raise _rank_error(x, message, f"in {allowed}")
    return None


def assert_type(tensor: Any, tf_type: Any, message: Optional[str] = None, name: Any = None):
    """Raises TypeError unless `tensor`'s dtype is `tf_type`; else None."""
    tf_type = as_dtype(tf_type)
    tensor = _t(tensor)
    if tensor.dtype != tf_type:
        raise TypeError(f"{_message_prefix(message)}tensor must be of type {tf_type!r}; got {tensor.dtype!r}")
    return None


def assert_integer(x: Any, message: Optional[str] = None, name: Any = None):
    """Raises TypeError unless x has an integer dtype; else None."""
    x = _t(x)
    if not x.dtype.is_integer:
        raise TypeError(f'{_message_prefix(message)}Expected "x" to be integer type.  Found: tensor of dtype {x.dtype}')
    return None


def assert_scalar(tensor: Any, message: Optional[str] = None, name: Any = None):
    """Raises ValueError unless `tensor` is a scalar; else None."""
    tensor = _t(tensor)
    if tensor.ndim != 0:
        raise ValueError(
            f"{_message_prefix(message)}Expected scalar shape, saw shape: {TensorShape(list(tensor.shape))}."
        )
    return None


def assert_proper_iterable(values: Any) -> None:
    """Raises TypeError when `values` is not iterable or is a Tensor, a numpy array, str or bytes
    (iterables that a list of tensors is not)."""
    if isinstance(values, (Tensor, Variable, np.ndarray, str, bytes)):
        raise TypeError(f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}')
    if not hasattr(values, "__iter__"):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def assert_same_float_dtype(tensors: Any = None, dtype: Any = None):
    """The one floating dtype of `tensors` (and `dtype`), float32 when there is none; ValueError
    when they differ or are not floating."""
    if tensors:
        expected = dtype
        first = None
        for item in tensors:
            if item is None:
                continue
            if not expected:
                expected, first = item.dtype, item
            elif expected != item.dtype:
                after = f" as {str(first)}" if first is not None else ""
                raise ValueError(f"{str(item)}, type={item.dtype}, must be of the same type ({expected}){after}.")
        dtype = expected
    if not dtype:
        return float32
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {dtype}.")
    return dtype


def _has_known_value(size: Any) -> bool:
    if size is None:
        return False
    try:
        int(size)
    except (ValueError, TypeError):
        return False
    return True


def assert_shapes(
    shapes: Any, data: Any = None, summarize: Optional[int] = None, message: Optional[str] = None, name: Any = None
):
    """Checks tensors' shapes against symbolic shapes: ``[(x, ('N', 'Q')), (y, ('N', 3))]``. Equal
    symbols must be equal sizes, integers are sizes, None or '.' any size, and a leading ``...``
    (or '*') any number of outer dimensions; a scalar and ``()`` count as one dimension of size 1.
    Raises ValueError (TF's message) on a mismatch; else None.

    >>> import tapegrad as tg
    >>> tg.debugging.assert_shapes([(tg.zeros([4, 3]), ("N", "Q")), (tg.zeros([4]), ("N",))]) is None
    True
    """
    if isinstance(shapes, dict):
        shapes = shapes.items()
    prefix = _message_prefix(message)
    constraints = [(_t(x), s) for x, s in shapes if s is not None]
    entries = []
    for x, spec in constraints:
        if not (hasattr(spec, "__iter__") or hasattr(spec, "__getitem__")):
            raise ValueError(
                f"{prefix}Tensor {_shape_and_dtype_str(x)}.  Specified shape must be an iterable.  An iterable "
                f"has the attribute `__iter__` or `__getitem__`.  Received specified shape: {spec}"
            )
        spec = tuple(spec)
        inner = False
        for i, symbol in enumerate(spec):
            if not (symbol is Ellipsis or (isinstance(symbol, str) and symbol == "*")):
                continue
            if i != 0:
                raise ValueError(
                    f"{prefix}Tensor {_shape_and_dtype_str(x)} specified shape index {i}.  Symbol `...` or `*` for "
                    "a variable number of unspecified dimensions is only allowed as the first entry"
                )
            inner = True
        symbols = spec[1:] if inner else spec
        actual = (1,) if x.ndim == 0 else tuple(x.shape)
        entries.append((x, inner, actual, symbols or (1,)))
    for x, inner, _, symbols in entries:
        rank = len(symbols)
        if inner:
            if rank not in (0, 1):
                assert_rank_at_least(x, rank, message=message)
        elif rank in (0, 1):
            assert_rank_in(x, [0, 1], message=message)
        else:
            assert_rank(x, rank, message=message)
    known: dict = {}
    for x, inner, actual, symbols in entries:
        for i, symbol in enumerate(symbols):
            if symbol is None or (isinstance(symbol, str) and symbol == "."):
                continue
            dim = i - len(symbols) if inner else i
            explicit = _has_known_value(symbol)
            if explicit or symbol in known:
                if explicit:
                    size, by = int(symbol), "Specified explicitly"
                else:
                    size, other, other_dim = known[symbol]
                    by = f"Specified by tensor {_shape_and_dtype_str(other)} dimension {other_dim}"
                got = actual[dim]
                if int(got) != int(size):
                    raise ValueError(
                        f"{prefix}{by}.  Tensor {_shape_and_dtype_str(x)} dimension {dim} must have size {size}.  "
                        f"Received size {got}, shape {TensorShape(list(x.shape))}"
                    )
            else:
                known[symbol] = (actual[dim], x, dim)
    return None


# ---- numeric checks ----------------------------------------------------------------------------------


def check_numerics(tensor: Any, message: str, name: Any = None) -> Tensor:
    """`tensor` unchanged, after checking it holds no NaN or Inf (InvalidArgumentError with TF's
    message otherwise); floating dtypes only, as TF's CheckNumerics. The gradient passes through
    unchecked.

    >>> import tapegrad as tg
    >>> try:
    ...     tg.debugging.check_numerics(tg.constant([1.0, float("nan")]), "loss")
    ... except tg.errors.InvalidArgumentError as e:
    ...     print(e)
    loss : Tensor had NaN values [Op:CheckNumerics]
    """
    from ._ops_math import _attr_t_error  # noqa: PLC0415

    x = _t(tensor)
    if x.dtype.name not in ("bfloat16", "float16", "float32", "float64"):
        raise _attr_t_error(x.dtype, "bfloat16, half, float, double", "CheckNumerics")

    def check(x):
        a = np.asarray(x)
        nan, inf = bool(np.isnan(a).any()), bool(np.isinf(a).any())
        if nan or inf:
            what = "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")
            raise InvalidArgumentError(f"{message} : Tensor had {what} values [Op:CheckNumerics]")

    _run_check(check, [x])
    return _core.identity(x)


def assert_all_finite(x: Any, message: str, name: Any = None) -> Tensor:
    """``check_numerics(x, message)``: x, after checking it holds no NaN or Inf."""
    return check_numerics(x, message)


def is_numeric_tensor(tensor: Any) -> bool:
    """True for a Tensor (not a Variable, not a numpy array) of a numeric dtype (not bool), as TF."""
    return isinstance(tensor, Tensor) and not tensor.dtype.is_bool


def enable_check_numerics(stack_height_limit: int = 30, path_length_limit: int = 50) -> None:
    """Accepted; does nothing. TF then checks every op's float output for NaN/Inf and raises where
    one first appears; for a program whose values are all finite (a correct program) nothing is
    observable, which is the case this accepts. tapegrad does not instrument ops: use
    ``check_numerics`` where a NaN may appear."""
    return None


def disable_check_numerics() -> None:
    """Accepted; does nothing (see ``enable_check_numerics``)."""
    return None


_LOG_DEVICE_PLACEMENT = [False]


def set_log_device_placement(enabled: bool) -> None:
    """Accepted (remembered for ``get_log_device_placement``): tapegrad has one device, the CPU,
    so there is no placement to log."""
    _LOG_DEVICE_PLACEMENT[0] = bool(enabled)


def get_log_device_placement() -> bool:
    """What ``set_log_device_placement`` was last given (False at start)."""
    return _LOG_DEVICE_PLACEMENT[0]
