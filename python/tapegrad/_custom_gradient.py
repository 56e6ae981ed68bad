"""``tg.custom_gradient``: a function whose backward pass the user supplies (TF's eager semantics).

The call records one CustomGradient node on every tape that watches an input; its backward runs
the user's grad_fn (from C++, with the GIL), so grad_fn's own ops are recorded on outer tapes and
nested tapes give higher derivatives through it.
"""

import functools
import inspect
from typing import Any, Callable, Optional

from . import _core, nest


def custom_gradient(f: Optional[Callable[..., Any]] = None) -> Any:
    """Decorator: ``f(*x)`` returns ``(y, grad_fn)``; ``grad_fn(*dy)`` returns the gradients for x.

    If ``f`` reads trainable Variables that are not among its arguments, ``grad_fn`` must accept a
    ``variables`` keyword and return ``(grads_for_x, grads_for_variables)``.

    >>> import tapegrad as tg
    >>> @tg.custom_gradient
    ... def half_gradient(y):
    ...     def backward(dy):
    ...         return dy * 0.5
    ...     return y, backward
    >>> v = tg.Variable(2.0)
    >>> with tg.GradientTape() as t:
    ...     out = half_gradient(v * v)
    >>> float(t.gradient(out, v))
    2.0
    """
    if f is None:
        return custom_gradient
    return _Decorated(f)


class _Decorated:
    """The decorated function; as a method decorator it binds `self` first (TF's Bind)."""

    def __init__(self, f):
        self._f = f
        functools.update_wrapper(self, f)

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return _Decorated(self._f.__get__(instance, owner))

    def __call__(self, *args, **kwargs):
        return _call(self._f, args, kwargs)


def _as_input(a):
    if isinstance(a, (_core.Tensor, _core.Variable)):
        return a
    return _core.convert_to_tensor(a)


def _call(f, args, kwargs):
    # A watcher tape: which trainable variables does f read? (TF's VariableWatcher)
    watcher = _core.Tape(False, True)
    _core.push_tape(watcher)
    try:
        result, grad_fn = f(*args, **kwargs)
    finally:
        _core.pop_tape(watcher)
    flat_args = [_as_input(a) for a in nest.flatten(list(args))]
    flat_kwargs = nest.flatten(kwargs) if kwargs else []
    known = [a for a in flat_args + flat_kwargs if isinstance(a, _core.Variable)]
    variables = [v for v in watcher.watched_variables() if all(v is not k for k in known)]
    del watcher
    if variables:
        spec = inspect.getfullargspec(grad_fn)
        if "variables" not in spec.args and "variables" not in spec.kwonlyargs and not spec.varkw:
            raise TypeError(
                "@tf.custom_gradient grad_fn must accept keyword argument 'variables', since function "
                f"uses variables: {variables}"
            )
    flat_result = nest.flatten(result)
    n_args = len(flat_args)

    def backward(grads):
        grads = list(grads)[: len(flat_result)]
        if variables:
            input_grads, variable_grads = grad_fn(*grads, variables=variables)
            variable_grads = list(variable_grads)
            if len(variable_grads) != len(variables):
                raise ValueError("Must return gradient for each variable from @custom_gradient grad_fn.")
        else:
            input_grads = grad_fn(*grads)
            variable_grads = []
        flat_grads = nest.flatten(input_grads)
        if len(flat_grads) != n_args:
            raise ValueError(
                f"custom_gradient function expected to return {n_args} gradients, but returned "
                f"{len(flat_grads)} instead."
            )
        return flat_grads + variable_grads

    outs = _core.record_custom_gradient(flat_args + variables, flat_result, backward)
    return nest.pack_sequence_as(result, outs)
