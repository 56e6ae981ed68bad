"""``tf.autograph``: source-to-source conversion of Python control flow into ``tapegrad.cond`` /
``tapegrad.while_loop`` calls, dispatched at run time as TF's AutoGraph.

What is converted (``_convert(func)``, which ``tf.function(autograph=True)`` uses; cached per code
object; methods are converted and rebound; closures keep their cells):

* ``if`` / ``elif`` / ``else`` -> ``ag__.if_stmt``: ``tapegrad.cond`` over the names the branches
  assign when the condition is a tapegrad Tensor (or Variable); a Python ``if`` otherwise.
* ``while`` -> ``ag__.while_stmt``: ``tapegrad.while_loop`` over the loop-modified names that are
  live at the loop's head (TF's rule: one iteration's temporaries stay local) when the condition
  is a Tensor; a Python loop otherwise. A tensor ``if`` outputs the assigned names live after it.
* ``for x in range(t)`` (tensor bounds), ``for x in tf.range(...)`` and ``for x in tensor``
  (axis 0) -> ``ag__.for_stmt``: ``tapegrad.while_loop`` over an index; other iterables loop in
  Python. ``tf.autograph.experimental.set_loop_options(...)`` at the top of a loop body gives the
  loop's ``maximum_iterations`` / ``shape_invariants``.
* ``break`` / ``continue`` become boolean flags (a loop's ``else`` runs under ``if not break_``)
  and a ``return`` inside ``if`` / loops a ``do_return`` / ``retval_`` pair (TF's lowering; the
  rest of a block after an ``if`` that returns in one branch moves into the other branch).
* ``a and b`` / ``a or b`` / ``not a`` -> lazy ``ag__.and_`` / ``or_`` / ``not_`` (``tapegrad.cond``
  / ``logical_not`` on tensors); ``a if c else b`` -> ``ag__.if_exp``.
* Calls -> ``ag__.converted_call``: user functions, methods and user ``__call__`` are converted
  recursively; ``range`` with tensor bounds becomes ``tapegrad.range``.

What is left as Python: ``print`` (as TF 2: it runs when the code runs; ``tf.print`` prints
tensors), ``assert``, lambdas, generators and coroutines, functions without source (builtins, C
functions, ``exec``, the REPL), anything under ``tapegrad`` / ``numpy`` / builtins / the standard
library / site-packages, and ``do_not_convert`` functions. A statement that cannot be rewritten
stays a Python statement: one holding ``yield``, ``global`` / ``nonlocal``, ``del`` of a name,
``:=``, ``match``, ``super()`` / ``locals()`` / ``eval``-like calls, or a ``break`` / ``continue`` /
``return`` inside ``try`` (then the enclosing statements stay Python too). Functions that use
private (``__x``) names are not converted.

Eagerly (``tapegrad.executing_eagerly()``), the converted function gives the original's values: a
tensor condition takes the ``cond`` / ``while_loop`` path only when it is a bool scalar (others are
tested by Python's truth value), loops carry only tensors (Python numbers stay Python, ``range(t)``
gives ints, shapes may change), and an unbound name raises Python's ``UnboundLocalError``. While
tracing, TF's semantics and errors apply: every tensor condition is checked
(``condition of if statement expected to be `tf.bool` scalar``), Python numbers in loops and branch
outputs become tensors, a name set in one branch only fails (``'y' must also be initialized in the
else branch``), loop variables keep dtype and shape (or ``set_loop_options`` invariants), a name read
after a tensor loop (or by its next iteration) must be bound before it (``'y' must be defined
before the loop``; TF instead builds a placeholder from a first trace of the body), and a
``return`` inside a tensor loop raises TF's ``NotImplementedError``.
"""

from __future__ import annotations

import enum
import functools
import types as _types
from typing import Any, Callable, Optional

from ._converter import ConversionError, convert as _convert_impl

__all__ = ["ConversionError", "experimental", "set_verbosity", "to_code", "to_graph", "trace"]


def _convert(func: Any) -> Any:
    """The AutoGraph-converted `func` (a function or bound method); `func` unchanged when it
    cannot be converted (no source, a builtin, a lambda, a generator, library code)."""
    return _convert_impl(func)


def _do_not_convert(func: Callable[..., Any] | None = None) -> Any:
    """``tf.autograph.experimental.do_not_convert``: `func` runs as written inside converted code
    (its body and its calls are not converted); also a decorator.

    >>> import tapegrad as tf
    >>> @tf.autograph.experimental.do_not_convert
    ... def f(x):
    ...     return x + 1
    >>> tf.autograph.to_graph(f) is f
    True
    """
    if func is None:
        return _do_not_convert
    if getattr(func, "__ag_do_not_convert__", False):
        return func

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    wrapper.__ag_do_not_convert__ = True  # type: ignore[attr-defined]
    return wrapper


def _set_loop_options(
    parallel_iterations: Any = None,
    swap_memory: Any = None,
    maximum_iterations: Any = None,
    shape_invariants: Any = None,
) -> None:
    """``tf.autograph.experimental.set_loop_options``: at the top of a loop body in converted code,
    sets the loop's ``maximum_iterations`` / ``shape_invariants`` (``[(var, shape)]``); elsewhere it
    does nothing."""
    return None


class Feature(enum.Enum):
    """``tf.autograph.experimental.Feature``: optional conversion features (accepted by
    ``to_graph``'s `experimental_optional_features`; tapegrad's conversion does not vary with them)."""

    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"


experimental = _types.SimpleNamespace(
    do_not_convert=_do_not_convert, set_loop_options=_set_loop_options, Feature=Feature
)

_verbosity = [0]


def set_verbosity(level: int, alsologtostdout: bool = False) -> None:
    """``tf.autograph.set_verbosity``: the level of AutoGraph's logging (tapegrad logs nothing)."""
    _verbosity[0] = int(level)


def trace(*args: Any) -> None:
    """``tf.autograph.trace``: prints its arguments when the code runs (when it is traced).

    >>> import tapegrad as tf
    >>> tf.autograph.trace("step", 1)
    step 1
    """
    print(*args)


def to_graph(entity: Any, recursive: bool = True, experimental_optional_features: Any = None) -> Any:
    """``tf.autograph.to_graph``: the converted function (its tensor ``if``/``while``/``for`` run as
    ``tf.cond`` / ``tf.while_loop``); with ``recursive=False`` the functions it calls are not
    converted. Raises `ConversionError` for what cannot be converted.

    >>> import tapegrad as tf
    >>> def absolute(x):
    ...     if x > 0:
    ...         y = x
    ...     else:
    ...         y = -x
    ...     return y
    >>> g = tf.autograph.to_graph(absolute)
    >>> float(g(tf.constant(-3.0)))
    3.0
    >>> "ag__.if_stmt" in tf.autograph.to_code(absolute)
    True
    """
    return _convert_impl(entity, strict=True, recursive=recursive)


def to_code(entity: Any, recursive: bool = True, experimental_optional_features: Any = None) -> str:
    """``tf.autograph.to_code``: the source of the converted function, as a string."""
    converted = to_graph(entity, recursive, experimental_optional_features)
    if getattr(converted, "__ag_do_not_convert__", False):
        raise ConversionError(f"converting {entity!r}: marked do_not_convert")
    fn = getattr(converted, "__func__", converted)
    return str(fn.__ag_source__) + "\n"
