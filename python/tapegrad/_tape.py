"""GradientTape: records ops on the engine's thread-local tape stack and runs the backward pass
in C++. Mirrors tensorflow/python/eager/backprop.py."""

from __future__ import annotations

import contextlib
import enum
import threading
import warnings
from collections.abc import Iterator
from typing import Any

from . import _core, nest
from ._indexed_slices import _from_engine
from ._tensor import Tensor, Variable


class UnconnectedGradients(enum.Enum):
    """What gradient() returns for a source with no path to the target."""

    NONE = "none"
    ZERO = "zero"


_recording = threading.local()  # .tapes: the GradientTapes recording on this thread, oldest first


def _recording_tapes():
    tapes = getattr(_recording, "tapes", None)
    if tapes is None:
        tapes = _recording.tapes = []
    return tapes


@contextlib.contextmanager
def _stop_all_recording() -> Iterator[list[GradientTape]]:
    """Pauses every GradientTape recording on this thread (TF's record.stop_recording), then
    resumes them; yields the paused tapes. custom_gradient's variable watcher keeps watching."""
    paused = list(_recording_tapes())
    for tape in reversed(paused):
        tape._pop_tape()
    try:
        yield paused
    finally:
        for tape in paused:
            tape._push_tape()


def _is_float(x):  # what a tape watches: TF's floating and complex dtypes
    return x.dtype.is_floating or x.dtype.is_complex


class GradientTape:
    """Records operations for automatic differentiation.

    >>> import tapegrad as tg
    >>> x = tg.constant(3.0)
    >>> with tg.GradientTape() as g:
    ...     g.watch(x)
    ...     y = x * x
    >>> float(g.gradient(y, x))
    6.0
    """

    def __init__(self, persistent: bool = False, watch_accessed_variables: bool = True) -> None:
        self._tape: _core.Tape | None = None
        self._persistent = bool(persistent)
        self._watch_accessed_variables = bool(watch_accessed_variables)
        self._watched_variables: tuple[_core.Variable, ...] = ()
        self._recording = False

    def __enter__(self) -> GradientTape:
        self._push_tape()
        return self

    def __exit__(self, typ: Any, value: Any, traceback: Any) -> None:
        if self._recording:
            self._pop_tape()

    def _push_tape(self):
        if self._recording:
            raise ValueError("Tape is still recording, This can happen if you try to re-enter an already-active tape.")
        if self._tape is None:
            self._tape = _core.Tape(self._persistent, self._watch_accessed_variables)
        _core.push_tape(self._tape)
        self._recording = True
        _recording_tapes().append(self)

    def _pop_tape(self):
        if not self._recording:
            raise ValueError("Tape is not recording.")
        _core.pop_tape(self._tape)
        self._recording = False
        tapes = _recording_tapes()
        if self in tapes:
            tapes.remove(self)

    def watch(self, tensor: Any) -> None:
        """Ensures that `tensor` (or each tensor in a nested structure) is traced by this tape."""
        for t in nest.flatten(tensor):
            if not isinstance(t, (Tensor, _core.Variable)):
                raise ValueError(f"Passed in object {t!r} of type '{type(t).__name__}', not tf.Tensor or tf.Variable.")
            if not _is_float(t):
                warnings.warn(
                    f"The dtype of the watched tensor must be floating (e.g. tf.float32), got {t.dtype!r}",
                    UserWarning,
                    stacklevel=2,
                )
            if self._tape is None:
                raise RuntimeError("GradientTape.watch on a tape that has already been used to compute gradients")
            self._tape.watch(t)

    @contextlib.contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Temporarily stops recording operations on this tape."""
        if self._tape is None:
            raise RuntimeError("Trying to stop recording a tape which is not recording.")
        self._pop_tape()
        try:
            yield
        finally:
            self._push_tape()

    def reset(self) -> None:
        """Clears all information stored in this tape (call inside the `with` block)."""
        self._pop_tape()
        self._tape = None
        self._push_tape()

    def watched_variables(self) -> tuple[_core.Variable, ...]:
        """Variables watched by this tape, in the order they were first watched."""
        if self._tape is not None:
            self._watched_variables = tuple(self._tape.watched_variables())
        return self._watched_variables

    def gradient(
        self,
        target: Any,
        sources: Any,
        output_gradients: Any = None,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
    ) -> Any:
        """Gradient of (the sum of) `target` with respect to each of `sources`.

        `target` and `sources` may be nested lists, tuples or dicts; the result has the structure
        of `sources`. `output_gradients` are the upstream gradients, one per target.
        """
        if self._tape is None:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
            )
        if self._recording:
            if not self._persistent:
                self._pop_tape()
            else:
                warnings.warn(
                    "Calling GradientTape.gradient on a persistent tape inside its context is significantly less "
                    "efficient than calling it outside the context (it causes the gradient ops to be recorded on "
                    "the tape, leading to increased CPU and memory usage). Only call GradientTape.gradient inside "
                    "the context if you actually want to trace the gradient in order to compute higher order "
                    "derivatives.",
                    UserWarning,
                    stacklevel=2,
                )
        if target is None:
            raise TypeError(
                "Argument `target` should be a list or nested structure of Tensors, Variables or CompositeTensors "
                "to be differentiated, but received None."
            )
        if unconnected_gradients is UnconnectedGradients.NONE:
            zero_unconnected = False
        else:
            try:
                zero_unconnected = UnconnectedGradients(unconnected_gradients) is UnconnectedGradients.ZERO
            except ValueError:
                raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}") from None

        flat_targets = _flatten_tensors(target, "target")
        flat_sources = _flatten_tensors(sources, "sources")
        for s in flat_sources:
            if not (s.dtype.is_floating or s.dtype.is_complex):
                warnings.warn(
                    f"The dtype of the source tensor must be floating (e.g. tf.float32) when calling "
                    f"GradientTape.gradient, got {s.dtype!r}",
                    UserWarning,
                    stacklevel=2,
                )
        if output_gradients is None:
            flat_og = [None] * len(flat_targets)
        else:
            if isinstance(output_gradients, (list, tuple)) and len(output_gradients) == len(flat_targets):
                flat_og = list(output_gradients)  # one entry per target, each any tensor-like value
            else:
                flat_og = nest.flatten(output_gradients)
                if len(flat_targets) == 1 and len(flat_og) != 1:  # one target: the whole value is its gradient
                    flat_og = [output_gradients]
            flat_og = (
                [
                    g if g is None or isinstance(g, _TENSORLIKE) else _core.convert_to_tensor(g, t._dtype_code)
                    for g, t in zip(flat_og, flat_targets)
                ]
                if len(flat_og) == len(flat_targets)
                else flat_og
            )
            if len(flat_og) != len(flat_targets):
                raise ValueError(f"output_gradients has {len(flat_og)} entries for {len(flat_targets)} targets")

        if not self._persistent:
            self._watched_variables = tuple(self._tape.watched_variables())
        tape = self._tape
        if not self._persistent:
            self._tape = None
        grads = self._compute_gradient(tape, flat_targets, flat_sources, flat_og, zero_unconnected)
        if isinstance(sources, _TENSORLIKE):
            return grads[0]
        if type(sources) is list and len(flat_sources) == len(sources):
            return grads
        return nest.pack_sequence_as(sources, grads)

    def _compute_gradient(self, tape, flat_targets, flat_sources, flat_og, zero_unconnected):
        # The engine call; tapegrad.distribute's DistributedGradientTape overrides it. A gather's
        # sparse gradient comes back as tf.IndexedSlices (See Note [Sparse gradients]).
        grads = _core.compute_gradient_sparse(tape, flat_targets, flat_sources, flat_og, zero_unconnected)
        return [_from_engine(g) if type(g) is tuple else g for g in grads]

    def _begin_jacobian(self, what, experimental_use_pfor, unconnected_gradients):
        if self._tape is None:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of gradients (or jacobians)"
            )
        if not experimental_use_pfor and not self._persistent:
            raise RuntimeError(
                f"GradientTape must be created with persistent=True to compute the {what} with eager execution "
                "enabled and with  experimental_use_pfor set to False."
            )
        try:
            unconnected = UnconnectedGradients(unconnected_gradients)
        except ValueError:
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}") from None
        if self._recording and not self._persistent:
            self._pop_tape()
        tape = self._tape
        if not self._persistent:
            self._watched_variables = tuple(self._tape.watched_variables())
            self._tape = None
        return tape, unconnected

    def jacobian(
        self,
        target: Tensor,
        sources: Any,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Any:
        """Jacobian of `target` (one tensor) with respect to each of `sources`.

        Each result has shape ``target.shape + source.shape`` and the structure of `sources`
        follows it. Computed in C++ with one backward pass per element of `target` (See Note
        [Jacobian rows]); `parallel_iterations` and `experimental_use_pfor` are accepted for
        compatibility (``experimental_use_pfor=False`` needs a persistent tape, as in TF).

        >>> import tapegrad as tg
        >>> x = tg.constant([1.0, 2.0])
        >>> with tg.GradientTape() as g:
        ...     g.watch(x)
        ...     y = x * x
        >>> g.jacobian(y, x).numpy().tolist()
        [[2.0, 0.0], [0.0, 4.0]]
        """
        tape, unconnected = self._begin_jacobian("jacobian", experimental_use_pfor, unconnected_gradients)
        if not isinstance(target, (Tensor, Variable)):
            raise TypeError(f"GradientTape.jacobian: target must be one Tensor, got {type(target).__name__}")
        flat_sources = nest.flatten(sources)
        for s in flat_sources:
            _as_tensorlike(s, "sources")
        out = _core.compute_jacobian(tape, target, flat_sources, unconnected is UnconnectedGradients.ZERO, False)
        if 0 in tuple(target.shape):  # no rows: TF gives an empty tensor of shape target.shape + source.shape
            out = [
                _core.zeros(list(target.shape) + list(s.shape), s._dtype_code) if o is None else o
                for o, s in zip(out, flat_sources)
            ]
        return nest.pack_sequence_as(sources, out)

    def batch_jacobian(
        self,
        target: Tensor,
        source: Tensor,
        unconnected_gradients: Any = UnconnectedGradients.NONE,
        parallel_iterations: int | None = None,
        experimental_use_pfor: bool = True,
    ) -> Tensor:
        """Per-example Jacobians: for `target` [b, y...] and `source` [b, x...], the [b, y..., x...]
        tensor whose entry i is ``jacobian(target[i], source[i])``; target[i] must depend only on
        source[i]. As in TF, a fully unconnected result is zeros whatever `unconnected_gradients` says.

        >>> import tapegrad as tg
        >>> x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
        >>> with tg.GradientTape() as g:
        ...     g.watch(x)
        ...     y = x * x
        >>> g.batch_jacobian(y, x).numpy().tolist()
        [[[2.0, 0.0], [0.0, 4.0]], [[6.0, 0.0], [0.0, 8.0]]]
        """
        target = target if isinstance(target, (Tensor, Variable)) else _core.convert_to_tensor(target)
        _as_tensorlike(source, "source")
        ts, ss = tuple(target.shape), tuple(source.shape)
        for s in (ts, ss):
            if len(s) < 2:
                raise ValueError(f"Shape {_shape_str(s)} must have rank at least 2")
        if ts[0] != ss[0]:
            raise ValueError(
                f"Need first dimension of target shape ({_shape_str(ts)}) and source shape ({_shape_str(ss)}) to match."
            )
        tape, unconnected = self._begin_jacobian("batch_jacobian", experimental_use_pfor, unconnected_gradients)
        out = _core.compute_jacobian(tape, target, [source], unconnected is UnconnectedGradients.ZERO, True)[0]
        assert out is not None  # the engine gives zeros for an unconnected batch jacobian, as TF
        return out


def _shape_str(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


_TENSORLIKE = (Tensor, _core.Variable)


def _as_tensorlike(x, what):
    if isinstance(x, _TENSORLIKE):
        return x
    raise TypeError(f"GradientTape.gradient: every {what} must be a Tensor or Variable, got {type(x).__name__}")


def _flatten_tensors(structure, what):
    """nest.flatten with a fast path for a tensor or a flat list; every leaf must be tensor-like."""
    if isinstance(structure, _TENSORLIKE):
        return [structure]
    if type(structure) in (list, tuple) and all(isinstance(x, _TENSORLIKE) for x in structure):
        return list(structure)
    flat = nest.flatten(structure)
    for x in flat:
        if not isinstance(x, _TENSORLIKE):
            raise TypeError(f"GradientTape.gradient: every {what} must be a Tensor or Variable, got {type(x).__name__}")
    return flat
