"""The run-time half of AutoGraph: the ``ag__`` functions that converted code calls.

Each statement operator dispatches on the run-time type of its condition or iterable, as TF's
``tensorflow/python/autograph/operators/control_flow.py``: a tapegrad Tensor (or Variable) goes
to ``tapegrad.cond`` / ``tapegrad.while_loop``; anything else runs as the Python statement would.
The state of a statement (the names it assigns) travels through ``get_state`` / ``set_state``
closures that the converter writes with ``nonlocal``.
"""

from __future__ import annotations

import builtins
import sys
import sysconfig
import types
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

from .. import nest
from .._core import Tensor, Variable
from .._tensor import _static_shape

# ---- undefined symbols ---------------------------------------------------------------------------


class Undefined:
    """A symbol that has no value yet (TF's ``variables.Undefined``); reading it through `ld`
    raises the error Python raises for an unbound local."""

    __slots__ = ("symbol_name",)

    def __init__(self, symbol_name: str) -> None:
        self.symbol_name = symbol_name

    def read(self) -> Any:
        if sys.version_info >= (3, 11):
            raise UnboundLocalError(
                f"cannot access local variable '{self.symbol_name}' where it is not associated with a value"
            )
        raise UnboundLocalError(f"local variable '{self.symbol_name}' referenced before assignment")

    def __repr__(self) -> str:
        return self.symbol_name


class UndefinedReturnValue:
    """The return value of a function before a ``return`` statement ran (TF's name)."""

    __slots__ = ()


def ld(v: Any) -> Any:
    """Load a variable that may be `Undefined` (TF's ``ag__.ld``)."""
    if isinstance(v, Undefined):
        return v.read()
    return v


def ldu(load: Callable[[], Any], name: str) -> Any:
    """The value `load` reads, or `Undefined` when the name is unbound (TF's ``ag__.ldu``)."""
    try:
        return load()
    except NameError:
        return Undefined(name)


def retval(v: Any) -> Any:
    """The value a converted function returns: None where no ``return`` ran."""
    return None if isinstance(v, UndefinedReturnValue) else v


def _is_tensor(x: Any) -> bool:
    return isinstance(x, (Tensor, Variable))


def _eager() -> bool:
    return bool(_tg().executing_eagerly())


def _tensor_cond(x: Any) -> bool:
    """Whether `x` makes a statement a tensor statement. While tracing: any Tensor (TF's checks
    then apply). Eagerly: a bool Tensor with one element; any other value (a float tensor, say)
    is tested by Python's truth value, as the unconverted function does."""
    if not _is_tensor(x):
        return False
    if not _eager():
        return True
    return x.dtype == _tg().bool and int(np.prod([d or 0 for d in x.shape])) == 1


def _is_undef(x: Any) -> bool:
    return isinstance(x, (Undefined, UndefinedReturnValue))


def _tg() -> Any:
    import tapegrad  # noqa: PLC0415  (the package imports this module)

    return tapegrad


# ---- conditions ----------------------------------------------------------------------------------


def _verify_tf_condition(cond: Any, tag: str) -> Any:
    """TF's check of a tensor condition: a bool scalar (shape [1] is reshaped)."""
    tg = _tg()
    extra_hint = "to check for None, use `is not None`"
    cond = tg.convert_to_tensor(cond)
    if cond.dtype != tg.bool:
        raise ValueError(
            f"condition of {tag} expected to be `tf.bool` scalar, got {cond}"
            f"; to use as boolean Tensor, use `tf.cast`; {extra_hint}"
        )
    shape = list(cond.shape)
    if shape:
        if int(np.prod([d for d in shape if d is not None])) > 1:
            raise ValueError(f"condition of {tag} expected to be `tf.bool` scalar, got {cond}; {extra_hint}")
        cond = tg.reshape(cond, [])
    return cond


def _as_output(v: Any) -> Any:
    """A branch output as TF's cond returns it: Python scalars become tensors."""
    if isinstance(v, (bool, int, float, np.generic)) and not isinstance(v, np.str_):
        return _tg().convert_to_tensor(v)
    return v


def _verify_tf_cond_branch_vars(vars_: Sequence[Any], symbol_names: Sequence[str], branch_name: str) -> None:
    """TF's check of one branch's outputs while tracing: each must be defined."""
    for name, var in zip(symbol_names, vars_):
        if isinstance(var, Undefined):
            raise ValueError(f"'{name}' must also be initialized in the {branch_name} branch")
        if isinstance(var, UndefinedReturnValue):
            raise ValueError(f"the {branch_name} branch must also have a return statement.")


def _verify_tf_cond_vars(body_vars: Sequence[Any], orelse_vars: Sequence[Any], symbol_names: Sequence[str]) -> None:
    """TF's checks of the two branches' outputs against each other (when both ran: a trace)."""
    for name, a, b in zip(symbol_names, body_vars, orelse_vars):
        if _is_undef(a) or _is_undef(b):
            continue
        try:
            nest.assert_same_structure(a, b)
        except (ValueError, TypeError) as e:
            raise TypeError(
                f"'{name}' must have the same nested structure in the main and else branches:\n\n{e}"
            ) from None
        for x, y in zip(nest.flatten(a), nest.flatten(b)):
            if x is None or y is None:
                which = "main" if x is None else "else"
                raise ValueError(f"'{name}' is None at the end of the {which} branch.")
            if _is_tensor(x) and _is_tensor(y) and x.dtype != y.dtype:
                raise TypeError(
                    f"'{name}' has dtype {x.dtype.name} in the main branch, but dtype {y.dtype.name} in the else branch"
                )


def _traced_output(fn: Callable[[], Any]) -> Callable[[], Any]:
    """`fn`, whose Python-number result becomes a tensor while tracing (TF's cond output)."""

    def run() -> Any:
        out = fn()
        return out if _eager() else nest.map_structure(_as_output, out)

    return run


# ---- if ------------------------------------------------------------------------------------------


def if_stmt(
    cond: Any,
    body: Callable[[], None],
    orelse: Callable[[], None],
    get_state: Callable[[], tuple[Any, ...]],
    set_state: Callable[[tuple[Any, ...]], None],
    symbol_names: tuple[str, ...],
    nouts: int,
) -> None:
    """Functional ``if``: ``tapegrad.cond`` over the first `nouts` state names when `cond` is a
    Tensor, else a Python ``if``."""
    if _tensor_cond(cond):
        _tf_if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts)
    elif cond:
        body()
    else:
        orelse()


def _tf_if_stmt(cond, body, orelse, get_state, set_state, symbol_names, nouts):
    tg = _tg()
    cond = _verify_tf_condition(cond, "if statement")
    init_vars = get_state()
    seen: dict[str, Any] = {}

    def branch(fn, name):
        def run():
            set_state(init_vars)
            fn()
            outs = tuple(get_state()[:nouts])
            if not tg.executing_eagerly():  # traced: TF's checks; its cond makes Python numbers tensors
                _verify_tf_cond_branch_vars(outs, symbol_names, name)
                outs = tuple(nest.map_structure(_as_output, v) for v in outs)
            other = seen.get("else" if name == "main" else "main")
            if other is not None:
                a, b = (outs, other) if name == "main" else (other, outs)
                _verify_tf_cond_vars(a, b, symbol_names)
            seen[name] = outs
            return outs

        return run

    if nouts:
        final = tg.cond(cond, branch(body, "main"), branch(orelse, "else"))
        if nouts == 1 and not (isinstance(final, tuple) and len(final) == 1):
            final = (final,)  # tapegrad.cond unpacks a singleton
        set_state(tuple(final) + tuple(init_vars[nouts:]))
    else:  # a cond for its effects only: one dummy output, as TF

        def effects(fn: Callable[[], None]) -> Callable[[], Any]:
            def run() -> Any:
                set_state(init_vars)
                fn()
                return tg.constant(0)

            return run

        tg.cond(cond, effects(body), effects(orelse))
        set_state(init_vars)


def if_exp(cond: Any, if_true: Callable[[], Any], if_false: Callable[[], Any], expr_repr: str) -> Any:
    """Functional ``a if cond else b`` (TF's ``ag__.if_exp``)."""
    if _tensor_cond(cond):
        cond = _verify_tf_condition(cond, f"expression repr {expr_repr}")
        return _tg().cond(cond, _traced_output(if_true), _traced_output(if_false))
    return if_true() if cond else if_false()


# ---- logical expressions -------------------------------------------------------------------------


def and_(a: Callable[[], Any], b: Callable[[], Any]) -> Any:
    """Lazy ``a and b``: ``tapegrad.cond(a, b, lambda: a)`` for a tensor `a` (TF's ``ag__.and_``)."""
    a_val = a()
    if _tensor_cond(a_val):
        return _tg().cond(a_val, _traced_output(b), lambda: a_val)
    return a_val and b()


def or_(a: Callable[[], Any], b: Callable[[], Any]) -> Any:
    """Lazy ``a or b``: ``tapegrad.cond(a, lambda: a, b)`` for a tensor `a` (TF's ``ag__.or_``)."""
    a_val = a()
    if _tensor_cond(a_val):
        return _tg().cond(a_val, lambda: a_val, _traced_output(b))
    return a_val or b()


def not_(a: Any) -> Any:
    """``not a``: ``tapegrad.logical_not`` for a tensor (TF's ``ag__.not_``)."""
    if _is_tensor(a) and (not _eager() or a.dtype == _tg().bool):
        return _tg().logical_not(a)
    return not a


# ---- loops ---------------------------------------------------------------------------------------

_LEAF_TYPES = (bool, int, float, np.generic, np.ndarray, Tensor, Variable)


def _is_loop_value(v: Any) -> bool:
    """Whether `v` can be a loop variable of a tensor loop (TF's legal types: Tensor, int, float,
    bool, TensorArray, or a list, tuple or dict of them). Anything else stays a Python value."""
    if v is None or _is_undef(v) or isinstance(v, (str, bytes)):
        return False
    legal = _LEAF_TYPES + (_tg().TensorArray,)
    if isinstance(v, (list, tuple, dict)):
        leaves = nest.flatten(v)
        return bool(leaves) and all(isinstance(x, legal) and not isinstance(x, np.str_) for x in leaves)
    return isinstance(v, legal) and not isinstance(v, np.str_)


def _is_tensor_value(v: Any) -> bool:
    """A Tensor, or a list / tuple / dict of Tensors: what an eager tensor loop carries."""
    leaves = nest.flatten(v)
    return bool(leaves) and all(_is_tensor(x) for x in leaves)


def _to_loop_value(v: Any) -> Any:
    tg = _tg()
    return nest.map_structure(
        lambda x: x if _is_tensor(x) or isinstance(x, tg.TensorArray) else tg.convert_to_tensor(x), v
    )


def _shape_text(shape: Any) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _is_subshape(left: Sequence[Any] | None, right: Sequence[Any]) -> bool:
    if left is None:
        return True
    return len(left) == len(right) and all(a is None or a == b for a, b in zip(left, right))


def _verify_loop_vars(name: str, before: Any, after: Any, invariant: Any) -> None:
    """TF's per-variable loop checks (``verify_tf_loop_vars``): structure, dtype, shape."""
    if after is None or _is_undef(after):
        raise ValueError(f"'{name}' is None at the end of the iteration.")
    try:
        nest.assert_same_structure(before, after)
    except (ValueError, TypeError) as e:
        raise TypeError(f"'{name}' does not have the same nested structure after one iteration.\n\n{e}") from None
    invariants = nest.flatten(invariant) if invariant is not None and nest.is_nested(before) else [invariant]
    for k, (a, b) in enumerate(zip(nest.flatten(before), nest.flatten(after))):
        if not (_is_tensor(a) and _is_tensor(b)):
            continue
        if a.dtype != b.dtype:
            raise TypeError(
                f"'{name}' has dtype {a.dtype.name} before the loop, but dtype {b.dtype.name} after one iteration"
            )
        inv = invariants[k] if k < len(invariants) else None
        a_shape, b_shape = tuple(_static_shape(a)), tuple(_static_shape(b))  # None: varies between calls
        allowed = a_shape if inv is None else _shape_tuple(inv)
        if not _is_subshape(allowed, b_shape):
            if inv is None:
                raise ValueError(
                    f"'{name}' has shape {_shape_text(a_shape)} before the loop, but shape "
                    f"{_shape_text(b_shape)} after one iteration. Use "
                    "tf.autograph.experimental.set_loop_options to set shape invariants."
                )
            raise ValueError(
                f"'{name}' has shape {_shape_text(tuple(b.shape))} after one iteration, which does not conform "
                f"with the shape invariant {_shape_text(allowed or ())}."
            )


def _shape_tuple(s: Any) -> tuple[Any, ...] | None:
    if s is None:
        return None
    if hasattr(s, "rank") and s.rank is None:
        return None
    return tuple(None if d is None else int(d) for d in s)


class _ShapeLeaf:
    """A shape invariant that ``tapegrad.nest`` keeps whole (a TensorShape is a tuple to it)."""

    def __init__(self, dims: tuple[Any, ...] | None) -> None:
        self.dims = dims

    def as_list(self) -> Any:
        if self.dims is None:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self.dims)


def _tf_while_stmt(
    test: Callable[[], Any],
    body: Callable[[], None],
    get_state: Callable[[], tuple[Any, ...]],
    set_state: Callable[[tuple[Any, ...]], None],
    symbol_names: tuple[str, ...],
    opts: dict[str, Any],
) -> None:
    """A tensor loop: ``tapegrad.while_loop`` over the state names whose values are legal loop
    variables; names first bound inside the loop (Undefined or None before it) and the
    ``iterate_names`` of a for loop are not carried: they keep the value the body last gave them.

    While tracing, Python numbers are carried as tensors and TF's dtype / shape checks apply.
    Eagerly the loop carries only tensors, lets their shapes change (the unconverted loop would),
    and Python values keep being Python values."""
    tg = _tg()
    eager = _eager()
    skip = set(opts.get("iterate_names", ()))
    init = get_state()
    # while tracing, a return inside the loop is TF's limit (raised after the body's first trace, so
    # that errors inside the body come first, as TF); eagerly the loop runs and the return works
    return_inside = not eager and any(isinstance(v, UndefinedReturnValue) for v in init)
    if not eager:  # TF's checks of the loop's entry values (TF makes a placeholder from a first trace of the
        # body for a name bound only inside the loop; here it must be bound before the loop)
        for name, v in zip(symbol_names, init):
            if name in skip or name.startswith("<"):
                continue
            if v is None:
                raise ValueError(f"'{name}' is not allowed to be None before the loop")
            if isinstance(v, Undefined):
                raise ValueError(f"'{name}' must be defined before the loop")
    legal = _is_tensor_value if eager else _is_loop_value
    carried = [k for k, (n, v) in enumerate(zip(symbol_names, init)) if n not in skip and legal(v)]
    by_id = {id(v): inv for v, inv in opts.get("shape_invariants", ())}
    invariants = [by_id.get(id(init[k])) for k in carried]
    for k, inv in zip(carried, invariants):
        if (
            inv is not None
            and _is_tensor(init[k])
            and not _is_subshape(_shape_tuple(inv), tuple(_static_shape(init[k])))
        ):
            raise ValueError(
                f"'{symbol_names[k]}' has shape {_shape_text(tuple(_static_shape(init[k])))} before the loop, which does "
                f"not conform with the shape invariant {_shape_text(_shape_tuple(inv) or ())}."
            )
    start = tuple(_to_loop_value(init[k]) for k in carried)
    dummy = not carried  # tapegrad.while_loop needs at least one loop variable

    def set_carried(vals: Sequence[Any]) -> None:
        if dummy:
            return
        full = list(get_state())
        for k, v in zip(carried, vals):
            full[k] = v
        set_state(tuple(full))

    def aug_test(*vals: Any) -> Any:
        set_carried(vals)
        return _verify_tf_condition(test(), "while loop")

    def aug_body(*vals: Any) -> tuple[Any, ...]:
        set_carried(vals)
        if return_inside:
            try:  # TF traces the body once first, and errors of these kinds give way to its limit
                body()
            except (UnboundLocalError, TypeError, ValueError, KeyError):
                pass
            raise NotImplementedError(
                "a return statement cannot be placed inside this TensorFlow loop; this may happen if a return "
                "statement depends on a static Python condition such as a hyperparameter"
            )
        body()
        if dummy:
            return vals
        state = get_state()
        new = []
        for k, before, inv in zip(carried, vals, invariants):
            after = state[k]
            if after is not None and not _is_undef(after) and _is_loop_value(after):
                after = _to_loop_value(after)
            if not eager:
                _verify_loop_vars(symbol_names[k], before, after, inv)
            new.append(after)
        return tuple(new)

    kwargs: dict[str, Any] = {}
    if opts.get("maximum_iterations") is not None:
        kwargs["maximum_iterations"] = opts["maximum_iterations"]
    if carried and (eager or any(inv is not None for inv in invariants)):
        leaves = []
        for inv, s in zip(invariants, start):
            inv_leaves = nest.flatten(inv) if inv is not None and nest.is_nested(s) else [inv] * len(nest.flatten(s))
            for i, t in zip(inv_leaves, nest.flatten(s)):
                if i is not None:
                    leaves.append(_ShapeLeaf(_shape_tuple(i)))
                else:  # eagerly any shape, as the Python loop; traced: the entry shape
                    leaves.append(_ShapeLeaf(None if eager or not _is_tensor(t) else tuple(t.shape)))
        kwargs["shape_invariants"] = nest.pack_sequence_as(list(start), leaves)
    if opts.get("parallel_iterations") is not None:
        kwargs["parallel_iterations"] = opts["parallel_iterations"]
    final = tg.while_loop(aug_test, aug_body, start if not dummy else (tg.constant(0),), **kwargs)
    set_carried(tuple(final))


def _python_bool(value: Any, message: str) -> bool:
    if _is_tensor(value) and not _eager():  # a tensor where a Python loop needs a bool: TF's error
        raise NotImplementedError(message)
    try:
        return bool(value)
    except TypeError as e:  # a symbolic tensor used as a Python bool inside a trace
        if type(e).__name__ == "OperatorNotAllowedInGraphError":
            raise NotImplementedError(message) from e
        raise


_WHILE_CHANGED = (
    "The condition of while loop started as non-Tensor, then changed to Tensor. This may happen either "
    "because variables changed type, or when a break or return statement inside the loop depends on a "
    "Tensor condition. In both cases, changing to a TF loop should remove the error.\nSee "
    "https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/autograph/g3doc/reference/"
    "limitations.md#consistency-of-control-flow-types for more info."
)
_FOR_CHANGED = (
    "break and return statements which depend on a TF condition are not supported in Python for loops. "
    "Did you intend to make it a TF loop?\nSee "
    "https://github.com/tensorflow/tensorflow/blob/master/tensorflow/python/autograph/g3doc/reference/"
    "limitations.md#consistency-of-control-flow-types for more info."
)


def while_stmt(
    test: Callable[[], Any],
    body: Callable[[], None],
    get_state: Callable[[], tuple[Any, ...]],
    set_state: Callable[[tuple[Any, ...]], None],
    symbol_names: tuple[str, ...],
    opts: dict[str, Any],
) -> None:
    """Functional ``while``: ``tapegrad.while_loop`` when the first test is a Tensor, else a
    Python loop (TF's ``ag__.while_stmt``)."""
    first = test()
    if _tensor_cond(first):
        _tf_while_stmt(test, body, get_state, set_state, symbol_names, opts)
        return
    if not _python_bool(first, _WHILE_CHANGED):
        return
    body()
    while _python_bool(test(), _WHILE_CHANGED):
        body()


class _RangeIter:
    """``range(...)`` / ``tf.range(...)`` with tensor bounds, as the iterable of a for loop
    (TF elides ``tf.range`` in a for loop and iterates over the index)."""

    def __init__(self, start: Any, limit: Any, delta: Any, dtype: Any, python_ints: bool = False) -> None:
        self.start, self.limit, self.delta, self.dtype = start, limit, delta, dtype
        self.python_ints = python_ints  # builtin range: eagerly the body sees ints, as in Python


def range_iter(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> Any:
    """The iterable of ``for x in range(...)``: a tensor range for ``range`` with tensor arguments
    and for ``tapegrad.range``; otherwise the call as written."""
    kwargs = kwargs or {}
    tg = _tg()
    if func is builtins.range and not kwargs and any(_is_tensor(a) for a in args):
        # TF's range_ overload: tf.range for tensor bounds, in the widest dtype of the bounds
        order = ["int32", "int64", "float32", "float64"]
        names = [a.dtype.name for a in args if _is_tensor(a) and a.dtype.name in order]
        dtype = getattr(tg, max(names, key=order.index)) if names else tg.int32
        return _range_parts(args, {}, dtype, python_ints=True)
    if func is tg.range:
        # the same errors as the call as written; run untraced: its values are not used
        t = tg._core._trace_call_paused(lambda: tg.range(*args, **kwargs))
        return _range_parts(args, kwargs, t.dtype)
    return converted_call(func, args, kwargs)


def _range_parts(args: tuple[Any, ...], kwargs: dict[str, Any], dtype: Any, python_ints: bool = False) -> _RangeIter:
    tg = _tg()
    names = ("start", "limit", "delta")
    vals: dict[str, Any] = dict(zip(names, args))
    for n in names:
        if n in kwargs:
            vals[n] = kwargs[n]
    if "limit" not in vals or vals["limit"] is None:
        vals["start"], vals["limit"] = 0, vals.get("start", 0)
    start, limit, delta = vals.get("start", 0), vals["limit"], vals.get("delta", 1)
    cast = lambda v: tg.cast(tg.convert_to_tensor(v), dtype)  # noqa: E731
    return _RangeIter(cast(start), cast(limit), delta if not _is_tensor(delta) else cast(delta), dtype, python_ints)


def for_stmt(
    iter_: Any,
    extra_test: Callable[[], Any] | None,
    body: Callable[[Any], None],
    get_state: Callable[[], tuple[Any, ...]],
    set_state: Callable[[tuple[Any, ...]], None],
    symbol_names: tuple[str, ...],
    opts: dict[str, Any],
) -> None:
    """Functional ``for``: a ``tapegrad.while_loop`` over a tensor range or over axis 0 of a
    Tensor; a Python loop over anything else (TF's ``ag__.for_stmt``)."""
    if isinstance(iter_, _RangeIter):
        _tf_range_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    elif _is_tensor(iter_):
        _tf_tensor_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts)
    elif extra_test is not None:
        if _python_bool(extra_test(), _FOR_CHANGED):
            for target in iter_:
                body(target)
                if not _python_bool(extra_test(), _FOR_CHANGED):
                    break
    else:
        for target in iter_:
            body(target)


def _aug_loop(
    index0: Any,
    step: Callable[[Any], tuple[Any, Any]],
    main_test: Callable[[Any], Any],
    extra_test: Callable[[], Any] | None,
    get_state: Callable[[], tuple[Any, ...]],
    set_state: Callable[[tuple[Any, ...]], None],
    symbol_names: tuple[str, ...],
    opts: dict[str, Any],
) -> None:
    """Runs a tensor for loop as a while loop with one more state variable: the index."""
    tg = _tg()
    index = [index0]

    def aug_get_state() -> tuple[Any, ...]:
        return (index[0],) + tuple(get_state())

    def aug_set_state(vals: tuple[Any, ...]) -> None:
        index[0] = vals[0]
        set_state(tuple(vals[1:]))

    def aug_body() -> None:
        index[0] = step(index[0])

    def aug_test() -> Any:
        t = main_test(index[0])
        if extra_test is not None:
            return tg.cond(t, lambda: _as_bool_tensor(extra_test()), lambda: tg.constant(False))
        return t

    _tf_while_stmt(aug_test, aug_body, aug_get_state, aug_set_state, ("<internal iterate>",) + symbol_names, opts)


def _as_bool_tensor(x: Any) -> Any:
    return x if _is_tensor(x) else _tg().convert_to_tensor(bool(x))


def _tf_range_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts):
    tg = _tg()
    delta = iter_.delta

    to_int = iter_.python_ints and _eager()

    def step(i):
        body(int(i) if to_int else i)
        return i + delta

    def main_test(i):
        if not _is_tensor(delta):
            return i < iter_.limit if delta >= 0 else i > iter_.limit
        return tg.logical_or(tg.logical_and(delta >= 0, i < iter_.limit), tg.logical_and(delta < 0, i > iter_.limit))

    _aug_loop(iter_.start, step, main_test, extra_test, get_state, set_state, symbol_names, opts)


def _tf_tensor_for_stmt(iter_, extra_test, body, get_state, set_state, symbol_names, opts):
    tg = _tg()
    shape = list(iter_.shape)
    if not shape:
        raise TypeError("Cannot iterate over a scalar tensor.")
    n = shape[0] if shape[0] is not None else tg.shape(iter_)[0]

    def step(i):
        body(tg.gather(iter_, i))
        return i + 1

    _aug_loop(tg.constant(0), step, lambda i: i < n, extra_test, get_state, set_state, symbol_names, opts)


# ---- calls ---------------------------------------------------------------------------------------

_DO_NOT_CONVERT_MODULES = (
    "tapegrad",
    "numpy",
    "builtins",
    "tensorflow",
    "keras",
    "scipy",
    "functools",
    "itertools",
    "collections",
    "abc",
    "typing",
    "inspect",
    "contextlib",
    "copy",
    "math",
    "re",
    "os",
    "sys",
    "threading",
    "weakref",
    "pytest",
    "_pytest",
    "hypothesis",
)
_STDLIB = sysconfig.get_paths()["stdlib"]
_SITE = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])


def _is_user_function(f: Any) -> bool:
    """Whether AutoGraph converts calls to `f`: a Python function of user code (not tapegrad,
    numpy, builtins or other library code) that is not marked ``do_not_convert``."""
    if not isinstance(f, types.FunctionType):
        return False
    if getattr(f, "__ag_do_not_convert__", False) or getattr(f, "__ag_converted__", False):
        return False
    module = (getattr(f, "__module__", None) or "").split(".")[0]
    if module in _DO_NOT_CONVERT_MODULES:
        return False
    filename = f.__code__.co_filename
    if filename.startswith(_SITE) or (filename.startswith(_STDLIB) and "site-packages" not in filename):
        return False
    return True


def _class_call(cls: type) -> Any:
    for klass in cls.__mro__:
        if "__call__" in klass.__dict__:
            return klass.__dict__["__call__"]
    return None


def converted_call(f: Any, args: tuple[Any, ...], kwargs: dict[str, Any] | None) -> Any:
    """Calls `f`, converted first when it is user code (TF's ``ag__.converted_call``): plain
    functions, methods and the ``__call__`` of user classes; ``range`` with tensor bounds becomes
    ``tapegrad.range``; tapegrad, numpy, builtins and ``do_not_convert`` functions run as they are."""
    from . import _convert  # noqa: PLC0415

    kwargs = kwargs or {}
    if f is builtins.range and any(_is_tensor(a) for a in args):
        return _tg().range(*args)
    target = f
    if isinstance(f, types.MethodType) and _is_user_function(f.__func__):
        target = types.MethodType(_convert(f.__func__), f.__self__)
    elif _is_user_function(f):
        target = _convert(f)
    elif (
        not isinstance(f, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType))
        and callable(f)
        and _is_user_function(type(f).__dict__.get("__call__") or _class_call(type(f)))
    ):
        return _convert(_class_call(type(f)))(f, *args, **kwargs)
    return target(*args, **kwargs)


__all__ = [
    "Undefined",
    "UndefinedReturnValue",
    "and_",
    "converted_call",
    "for_stmt",
    "if_exp",
    "if_stmt",
    "ld",
    "ldu",
    "not_",
    "or_",
    "range_iter",
    "retval",
    "while_stmt",
]
