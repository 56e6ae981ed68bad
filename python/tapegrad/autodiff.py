"""``tf.autodiff``: forward-mode autodiff (``ForwardAccumulator``) and ``GradientTape``.

Mirrors tensorflow/python/eager/forwardprop.py. The engine computes each op's tangent as the op
runs (cpp/autodiff/forward.cpp, Note [Forward mode] in docs/architecture.md).
"""

from __future__ import annotations

import warnings
from typing import Any

from . import _core, nest
from ._tape import GradientTape, UnconnectedGradients
from ._tensor import Tensor, Variable

__all__ = ["ForwardAccumulator", "GradientTape"]

_non_float_warnings = 0


class ForwardAccumulator:
    """Computes Jacobian-vector products ("JVP"s) using forward-mode autodiff.

    ``primals`` (tensors or variables) are watched with ``tangents`` (the vector of the
    Jacobian-vector product); every op run while the accumulator is active computes its outputs'
    JVPs, which ``jvp()`` looks up. Accumulators and tapes apply in the order they were entered:
    an outer accumulator differentiates an inner one's JVPs (higher order), and an accumulator
    around a ``GradientTape`` differentiates its gradient (forward-over-backward).

    >>> import tapegrad as tf
    >>> x = tf.constant(1.1)
    >>> with tf.autodiff.ForwardAccumulator(x, tf.constant(1.)) as outer:
    ...   with tf.autodiff.ForwardAccumulator(x, tf.constant(1.)) as inner:
    ...     y = x ** tf.constant(3.5)
    >>> round(float(inner.jvp(y)), 4)  # 3.5 * 1.1 ** 2.5
    4.4417
    >>> round(float(outer.jvp(inner.jvp(y))), 3)  # 3.5 * 2.5 * 1.1 ** 1.5
    10.095
    >>> v = tf.Variable([1., 2.])
    >>> with tf.autodiff.ForwardAccumulator(v, tf.constant([1., 0.])) as acc:
    ...   with tf.GradientTape() as tape:
    ...     y = tf.reduce_sum(v ** 3.)
    ...   backward = tape.gradient(y, v)
    >>> backward.numpy().tolist(), acc.jvp(backward).numpy().tolist()  # gradient, Hessian-vector product
    ([3.0, 12.0], [6.0, 0.0])
    """

    def __init__(self, primals: Any, tangents: Any) -> None:
        self._accumulator = _core.Accumulator()
        self._recording = False
        primal_ids = set()
        for primal in nest.flatten(primals):
            if id(primal) in primal_ids:
                raise ValueError(
                    "Tensor {} was specified as a primal multiple times. This may indicate an error. If it was "
                    "intended, please sum the corresponding tangents."
                )
            primal_ids.add(id(primal))
        self._watch(primals, tangents)

    def __enter__(self) -> ForwardAccumulator:
        self._push_accumulator()
        return self

    def __exit__(self, typ: Any, value: Any, traceback: Any) -> None:
        if self._recording:
            self._pop_accumulator()

    def _push_accumulator(self) -> None:
        if self._recording:
            raise ValueError("Accumulator is already recording.")
        _core.push_accumulator(self._accumulator)
        self._recording = True

    def _pop_accumulator(self) -> None:
        if not self._recording:
            raise ValueError("Accumulator is not recording.")
        _core.pop_accumulator(self._accumulator)
        self._recording = False

    def _watch(self, primals: Any, tangents: Any) -> None:
        """Ensures that ``primals`` are traced by this accumulator with ``tangents`` (adding)."""

        def watch(primal, tangent):
            global _non_float_warnings
            if not isinstance(primal, (Tensor, Variable)):
                primal = _core.convert_to_tensor(primal)
            if not primal.dtype.is_floating:
                if _non_float_warnings < 5:
                    _non_float_warnings += 1
                    warnings.warn(
                        f"The dtype of the watched primal must be floating (e.g. tf.float32), got {primal.dtype!r}",
                        UserWarning,
                        stacklevel=4,
                    )
                return
            from ._ops import convert_to_tensor

            tangent = convert_to_tensor(tangent, dtype=primal.dtype)
            if tuple(tangent.shape) != tuple(primal.shape):
                raise ValueError(
                    f"Shapes {_shape_str(tangent.shape)} and {_shape_str(primal.shape)} are incompatible (a tangent "
                    "must have its primal's shape)"
                )
            self._accumulator.watch(primal, tangent)

        nest.map_structure(watch, primals, tangents)

    def jvp(self, primals: Any, unconnected_gradients: Any = UnconnectedGradients.NONE) -> Any:
        """Fetches the Jacobian-vector product computed for ``primals`` (no computation).

        Returns tensors with the structure of ``primals``; None where no JVP was computed, or
        zeros with ``unconnected_gradients="zero"``.
        """
        unconnected_gradients = UnconnectedGradients(unconnected_gradients)

        def fetch(tensor):
            if not isinstance(tensor, (Tensor, Variable)):
                raise TypeError(
                    f"ForwardAccumulator.jvp: every primal must be a Tensor or Variable, got {type(tensor).__name__}"
                )
            result = self._accumulator.jvp(tensor)
            if result is None and unconnected_gradients is UnconnectedGradients.ZERO:
                result = _core.zeros(list(tensor.shape), tensor._dtype_code)
            return result

        return nest.map_structure(fetch, primals)


def _shape_str(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"
