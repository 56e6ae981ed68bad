"""Gradient checking against central finite differences (HIPS autograd's check_grads)."""

import numpy as np

from . import _ops
from ._indexed_slices import IndexedSlices
from ._tape import GradientTape
from ._tensor import Tensor

__all__ = ["check_gradients"]


def _to_f64(a):
    arr = np.asarray(a, dtype=np.float64)
    return _ops.constant(arr, dtype="float64")


def _vdot(a, b):
    if type(a) is IndexedSlices:  # a gather's sparse gradient: its dense value (differentiable)
        a = _ops.convert_to_tensor(a)
    return _ops.reduce_sum(a * b)


def check_gradients(f, args, order=2, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0):
    """Checks tape gradients of ``f(*args)`` against central finite differences, in float64.

    For random directions u (inputs) and v (output) it compares ``<u, grad <v, f>>`` with the
    numeric derivative of ``<v, f>`` along u. With ``order=2`` it then checks the gradient of that
    directional derivative too (second derivatives through nested tapes), and so on.
    Raises AssertionError with the two values when they differ.

    >>> import tapegrad as tg
    >>> tg.testing.check_gradients(lambda x: tg.sin(x) * x, [[0.5, 1.5]])
    """
    rng = np.random.default_rng(seed)
    args = [_to_f64(a) for a in args]
    _check(f, args, order, eps, rtol, atol, rng)


def _check(f, args, order, eps, rtol, atol, rng):
    y = f(*args)
    if not isinstance(y, Tensor):
        raise TypeError(f"check_gradients: f must return a Tensor, got {type(y).__name__}")
    v = _ops.constant(rng.standard_normal(y.shape), dtype="float64")
    us = [_ops.constant(rng.standard_normal(a.shape), dtype="float64") for a in args]

    def directional(*xs):
        # <u, grad_x <v, f(x)>>: the quantity whose derivative the next order checks
        with GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            s = _vdot(f(*xs), v)
        grads = tape.gradient(s, list(xs))
        total = _ops.constant(0.0, dtype="float64")
        for g, u in zip(grads, us):
            if g is not None:
                total = total + _vdot(g, u)
        return total

    analytic = float(directional(*args))
    plus = float(_vdot(f(*[a + eps * u for a, u in zip(args, us)]), v))
    minus = float(_vdot(f(*[a - eps * u for a, u in zip(args, us)]), v))
    numeric = (plus - minus) / (2 * eps)
    if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
        raise AssertionError(
            f"gradient check failed (order {order}): tape gives {analytic!r}, "
            f"finite differences give {numeric!r} (|diff| = {abs(analytic - numeric):.3g})"
        )
    if order > 1:
        _check(directional, args, order - 1, eps, rtol * 10, atol * 10, rng)
