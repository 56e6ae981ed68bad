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


def check_gradients(f, args, order=2, eps=1e-6, rtol=1e-5, atol=1e-6, seed=0, modes=("rev",)):
    """Checks derivatives of ``f(*args)`` against central finite differences, in float64.

    For random directions u (inputs) and v (output) it compares ``<u, grad <v, f>>`` (mode
    ``"rev"``: a GradientTape) or ``<v, J u>`` (mode ``"fwd"``: a ForwardAccumulator with
    tangents u) with the numeric derivative of ``<v, f>`` along u. With ``order=2`` it then checks
    the derivative of that directional derivative too (nested tapes, or nested accumulators), and
    so on. With both modes it also checks the transpose identity ``<u, J^T v> = <J u, v>`` at each
    order. Raises AssertionError with the values when they differ.

    >>> import tapegrad as tg
    >>> tg.testing.check_gradients(lambda x: tg.sin(x) * x, [[0.5, 1.5]], modes=("rev", "fwd"))
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)
    for m in modes:
        if m not in ("rev", "fwd"):
            raise ValueError(f"check_gradients: modes must be 'rev' and/or 'fwd', got {m!r}")
    args = [_to_f64(a) for a in args]
    _check(f, args, order, eps, rtol, atol, np.random.default_rng(seed), modes)


def _directional(f, v, us, mode):
    """<u, grad_x <v, f(x)>> (rev) or <v, J u> (fwd), as a function of x."""
    if mode == "fwd":
        from .autodiff import ForwardAccumulator

        def fwd(*xs):
            with ForwardAccumulator(list(xs), list(us)) as acc:
                y = f(*xs)
            return _vdot(acc.jvp(y, unconnected_gradients="zero"), v)

        return fwd

    def rev(*xs):
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

    return rev


def _check(f, args, order, eps, rtol, atol, rng, modes=("rev",)):
    y = f(*args)
    if not isinstance(y, Tensor):
        raise TypeError(f"check_gradients: f must return a Tensor, got {type(y).__name__}")
    v = _ops.constant(rng.standard_normal(y.shape), dtype="float64")
    us = [_ops.constant(rng.standard_normal(a.shape), dtype="float64") for a in args]

    plus = float(_vdot(f(*[a + eps * u for a, u in zip(args, us)]), v))
    minus = float(_vdot(f(*[a - eps * u for a, u in zip(args, us)]), v))
    numeric = (plus - minus) / (2 * eps)
    values = {}
    for mode in modes:
        # the quantity whose derivative the next order checks
        directional = _directional(f, v, us, mode)
        analytic = values[mode] = float(directional(*args))
        if not np.isclose(analytic, numeric, rtol=rtol, atol=atol):
            who = "tape" if mode == "rev" else "forward accumulator"
            raise AssertionError(
                f"gradient check failed (order {order}, mode {mode!r}): {who} gives {analytic!r}, "
                f"finite differences give {numeric!r} (|diff| = {abs(analytic - numeric):.3g})"
            )
        if order > 1:
            _check(directional, args, order - 1, eps, rtol * 10, atol * 10, rng, (mode,))
    # the two are the same number computed in two ways: a far tighter tolerance than against finite differences
    if len(values) == 2 and not np.isclose(values["rev"], values["fwd"], rtol=rtol * 1e-2, atol=atol * 1e-2):
        raise AssertionError(
            f"transpose identity failed (order {order}): <u, J^T v> = {values['rev']!r} but <J u, v> = {values['fwd']!r}"
        )
