"""TF's autodiff helpers built on ``custom_gradient`` (``tf.recompute_grad``,
``tf.grad_pass_through``), ``tf.vectorized_map`` as a loop, and ``tf.math.nextafter``."""

import functools
from typing import Any, Callable

import numpy as np

from . import _core, _ops, nest
from ._custom_gradient import custom_gradient
from ._ops_math import _attr_t_error, _kernel_name
from ._ops_shape import stack
from ._tensor import Tensor, Variable
from .errors import InvalidArgumentError


def recompute_grad(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: ``f``'s forward pass keeps no intermediates; its backward pass runs ``f`` again
    under a tape and differentiates that (TF's ``tf.recompute_grad``, trading compute for memory).

    ``f(*args, **kwargs)`` takes and returns tensors (nested structures allowed). Trainable
    variables that ``f`` reads get their gradients as well. Only the tensors in ``args`` are
    differentiated; ``kwargs`` are passed through.

    >>> import tapegrad as tg
    >>> w = tg.Variable(2.0)
    >>> @tg.recompute_grad
    ... def block(x):
    ...     return tg.sin(x) * w
    >>> x = tg.constant(0.5)
    >>> with tg.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = block(x)
    >>> dx, dw = tape.gradient(y, [x, w])
    >>> round(float(dx), 5), round(float(dw), 5)  # 2 cos(0.5), sin(0.5)
    (1.75517, 0.47943)
    """
    from ._tape import GradientTape, UnconnectedGradients, _stop_all_recording

    @custom_gradient
    def inner(*args, **kwargs):
        watcher = _core.Tape(False, True)  # the variables f reads
        with _stop_all_recording() as paused:  # the outer tapes record only custom_gradient's node
            _core.push_tape(watcher)
            try:
                result = f(*args, **kwargs)
            finally:
                _core.pop_tape(watcher)
        for tape in paused:  # they watch what f read, as if they had recorded it (TF's tapes do,
            if tape._watch_accessed_variables:  # converting the variables after the forward pass)
                for v in watcher.watched_variables():
                    tape._tape.watch(v)

        def grad_wrapper(*dresult, variables=None):
            flat_args = [_core.identity(_as_tensor(a)) for a in nest.flatten(list(args))]
            with GradientTape() as tape:
                tape.watch([a for a in flat_args if a.dtype.is_floating])
                if variables:
                    tape.watch(variables)
                recomputed = f(*nest.pack_sequence_as(list(args), flat_args), **kwargs)
            floats = [a for a in flat_args if a.dtype.is_floating]  # int arguments get None
            extra = list(variables) if variables else []
            flat_out = nest.flatten(recomputed)
            grads = tape.gradient(
                flat_out,
                floats + extra,
                output_gradients=list(dresult)[: len(flat_out)],
                unconnected_gradients=UnconnectedGradients.ZERO,
            )
            it = iter(grads[: len(floats)])
            arg_grads = [next(it) if a.dtype.is_floating else None for a in flat_args]
            if variables is None:
                return arg_grads
            return arg_grads, grads[len(floats) :]

        return result, grad_wrapper

    return functools.wraps(f)(inner)


def grad_pass_through(f: Callable[..., Any]) -> Callable[..., Any]:
    """``h(x)`` computes ``f(x)`` in the forward pass, and its gradient is the identity's (TF's
    ``tf.grad_pass_through``): the upstream gradient of each output goes unchanged to the input at
    the same position. Variables ``f`` reads get no gradient. The classic use is an assignment:

    >>> import tapegrad as tg
    >>> x = tg.Variable(1.0)
    >>> z = tg.Variable(3.0)
    >>> with tg.GradientTape() as tape:
    ...     y = tg.grad_pass_through(x.assign)(z**2)  # y is 9.0
    >>> float(y), float(tape.gradient(y, z))
    (9.0, 6.0)
    """

    @custom_gradient
    def _grad_pass_through_op(*args, **kwargs):
        def grad(*dys, variables=None):
            if variables is not None:
                return list(dys), [None] * len(variables)
            return list(dys)

        out = f(*args, **kwargs)
        return nest.map_structure(lambda t: t.read_value() if isinstance(t, Variable) else t, out), grad

    return functools.wraps(f)(_grad_pass_through_op)


def vectorized_map(fn: Callable[..., Any], elems: Any, fallback_to_while_loop: bool = True, warn: bool = False) -> Any:
    """``fn`` applied to each slice of ``elems`` along axis 0, the results stacked (TF's
    ``tf.vectorized_map``); ``elems`` may be a nested structure whose tensors share that axis.

    tapegrad runs this as a Python loop over the slices followed by one ``stack`` per output (TF
    rewrites ``fn`` into batched ops with pfor): the results and gradients are the same, the cost
    is one call of ``fn`` per slice. Outputs that do not depend on the slice are repeated, as TF
    broadcasts them. ``fallback_to_while_loop`` and ``warn`` are accepted for compatibility (the
    loop is the only strategy).

    >>> import tapegrad as tg
    >>> tg.vectorized_map(lambda row: tg.reduce_sum(row * row), tg.constant([[1.0, 2.0], [3.0, 4.0]]))
    <tf.Tensor: shape=(2,), dtype=float32, numpy=array([ 5., 25.], dtype=float32)>
    """
    del fallback_to_while_loop, warn
    flat = [_as_tensor(e) for e in nest.flatten(elems)]
    if not flat:
        raise ValueError("vectorized_map: `elems` holds no tensors")
    for e in flat:
        if e.shape.rank == 0:
            raise ValueError(
                f"vectorized_map: every tensor in `elems` needs a leading axis to map over; got a scalar {e!r}"
            )
    n = int(flat[0].shape[0])
    for e in flat[1:]:
        if int(e.shape[0]) != n:
            raise InvalidArgumentError(
                f"vectorized_map: the tensors in `elems` have different sizes along axis 0 "
                f"({n} and {int(e.shape[0])}); all must have the same batch size",
            )
    if n == 0:  # fn's output structure and shapes from one zero slice; the result has 0 rows
        probe = fn(nest.pack_sequence_as(elems, [_ops.zeros(e.shape[1:], dtype=e.dtype) for e in flat]))
        return nest.map_structure(
            lambda t: _ops.zeros([0] + list(_as_tensor(t).shape), dtype=_as_tensor(t).dtype), probe
        )
    slices = [_core.unstack(e, 0) for e in flat]
    outs = [fn(nest.pack_sequence_as(elems, [s[i] for s in slices])) for i in range(n)]
    flat_outs = [nest.flatten(o) for o in outs]
    stacked = [stack([_as_tensor(fo[k]) for fo in flat_outs], axis=0) for k in range(len(flat_outs[0]))]
    return nest.pack_sequence_as(outs[0], stacked)


def nextafter(x1: Any, x2: Any, name: Any = None) -> Tensor:
    """The next representable value of ``x1`` in the direction of ``x2``, elementwise with
    broadcasting (TF's ``tf.math.nextafter``; float32 and float64, both the same dtype).

    The gradient is TF's registered one: the upstream gradient for ``x1`` (summed over broadcast
    axes) and zeros for ``x2``.

    >>> import tapegrad as tg
    >>> tg.math.nextafter(tg.constant([1.0, 1.0]), tg.constant([2.0, 0.0])).numpy().tolist()
    [1.0000001192092896, 0.9999999403953552]
    """
    del name
    a, b = _as_tensor(x1), _as_tensor(x2)
    for t in (a, b):
        if t.dtype.name not in ("float32", "float64"):
            raise _attr_t_error(t.dtype, "double, float", "NextAfter")
    if a.dtype != b.dtype:
        raise InvalidArgumentError(
            f"cannot compute NextAfter as input #1(zero-based) was expected to be a {_kernel_name(a.dtype)} "
            f"tensor but is a {_kernel_name(b.dtype)} tensor [Op:NextAfter]",
        )
    try:
        np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise InvalidArgumentError(f"Incompatible shapes: {list(a.shape)} vs. {list(b.shape)} [Op:NextAfter]") from None
    return _nextafter(a, b)


@custom_gradient
def _nextafter(a, b):
    value = _ops.constant(np.nextafter(a.numpy(), b.numpy()))

    def grad(dy):  # shapes that broadcast are summed back by custom_gradient
        return dy, _ops.zeros_like(dy)

    return value, grad


def _as_tensor(x):
    if isinstance(x, Variable):
        return x.read_value()
    if isinstance(x, (Tensor, _core.Tensor)):
        return x
    return _ops.convert_to_tensor(x)
