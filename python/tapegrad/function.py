"""``tf.function`` and TF's control-flow functions.

A ``tf.function`` traces once per call signature (TF's rules: tensors by dtype and shape, Python
values by value, Variables by identity): the first call runs the Python function with real values
while the engine records every engine call it makes (cpp/graph/trace.h, Note [Traced functions]);
later calls with the same signature replay the recorded calls in C++ without Python. Python side
effects therefore happen only while tracing; ``tf.print``, random draws, Variable assignments and
optimizer steps happen on every call. User code that reads a traced tensor's value in Python gets
TF's graph-mode errors (Note [Symbolic reads] in _tensor.py). A trace that cannot be replayed
(tapegrad's own value reads, custom gradients, ...: Note [Poisoned traces]) makes that signature
run eagerly on every call, with the reason in ``experimental_get_graph_status()``.

Variables: a trace may make Variables only if it is the function's first; one the function keeps
nowhere (gone when the call returns: made anew on every call) raises TF's singleton error, and a
later trace that makes one raises TF's "non-first call" error.

``tf.cond`` and ``tf.while_loop`` with tensor predicates become graph nodes inside a trace (Note
[Traced control flow]); eagerly they run one branch / a Python loop, with TF's argument checks.
Gradients flow through them on the tape either way.

>>> import tapegrad as tg
>>> @tg.function
... def f(x):
...     return tg.cond(x > 0, lambda: x * 2.0, lambda: -x)
>>> float(f(tg.constant(3.0))), float(f(tg.constant(-1.0))), f.experimental_get_tracing_count()
(6.0, 1.0, 1)
"""

import functools
import inspect
import os
import re
import sys
import weakref
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np

from . import _core, _tensor, nest
from ._dtypes import bool as _tf_bool
from ._ops import convert_to_tensor
from ._tensor import Tensor, TensorSpec, Variable, _trace_state
from ._tensor_array import _cond as _array_cond
from ._tensor_array import _in_function
from ._tensor_array import _while_loop as _array_while_loop

__all__ = [
    "function",
    "Function",
    "cond",
    "case",
    "switch_case",
    "while_loop",
    "print_",
    "run_functions_eagerly",
    "functions_run_eagerly",
]


_RUN_EAGERLY = [False]
# TAPEGRAD_TRACE_STRICT=1: what would make a trace fall back to eager execution raises ValueError
# where it happens instead (to find the line; See Note [Poisoned traces]).
_STRICT = os.environ.get("TAPEGRAD_TRACE_STRICT", "") not in ("", "0")


def run_functions_eagerly(run_eagerly):
    """``tf.config.run_functions_eagerly``: with True, every ``tf.function`` call runs its Python
    function eagerly (no tracing, no replay), as in TF; for debugging."""
    if not isinstance(run_eagerly, (bool, np.bool_)):
        raise TypeError(f"run_eagerly must be a bool, got {type(run_eagerly).__name__}")
    _RUN_EAGERLY[0] = bool(run_eagerly)


def functions_run_eagerly():
    """Whether ``tf.config.run_functions_eagerly(True)`` is in effect."""
    return _RUN_EAGERLY[0]


# ---- tf.function ---------------------------------------------------------------------------------


def function(
    func: Optional[Callable[..., Any]] = None,
    input_signature: Optional[Sequence[Any]] = None,
    autograph: bool = True,
    jit_compile: Optional[bool] = None,
    reduce_retracing: bool = False,
    experimental_implements: Any = None,
    experimental_autograph_options: Any = None,
    experimental_attributes: Any = None,
    experimental_relax_shapes: Any = None,
    experimental_compile: Any = None,
    experimental_follow_type_hints: Any = None,
) -> Any:
    """``tf.function``: a decorator (with or without arguments) that returns a callable ``Function``."""
    if experimental_relax_shapes:
        reduce_retracing = True
    if jit_compile is None and experimental_compile is not None:
        jit_compile = experimental_compile

    def decorate(f):
        if not callable(f):
            raise TypeError(f"tf.function expected a callable, got {type(f).__name__}: {f!r}")
        return Function(
            f,
            input_signature=input_signature,
            autograph=autograph,
            jit_compile=jit_compile,
            reduce_retracing=reduce_retracing,
        )

    return decorate if func is None else decorate(func)


class Function:
    """A function decorated with ``tf.function`` (see the module docstring for how it runs)."""

    def __init__(
        self,
        python_function,
        input_signature=None,
        autograph=True,
        jit_compile=None,
        reduce_retracing=False,
        _bound_to=None,
    ):
        self._python_function = python_function
        self._autograph = autograph
        self._jit_compile = jit_compile
        self._reduce_retracing = reduce_retracing
        self._bound_to = _bound_to
        self._instances = weakref.WeakKeyDictionary()
        self._keys = []
        self._traces: dict = {}  # exact call key -> _Trace (See Note [Traced functions])
        # Note [Polymorphic traces]: (key with None dims, _Trace) for traces that replay any size
        # there; and per such key, why its trace held only for its own shapes ('' while none did)
        self._poly: list = []
        self._specialized: dict = {}
        self._fast = None  # the trace last replayed for all-tensor positional arguments (the fast path)
        self._history = _call_history(python_function)  # for TF's frequent-retracing warning
        self._converted = None  # the function autograph made, once asked for
        self._warned = False  # logged that a signature runs eagerly (once per function)
        self._sig = inspect.signature(python_function)
        # TF gives a parameter named `self` (a method decorated in its class body) no type constraint
        self._constrained = [n for n in self._sig.parameters if n != "self"]
        self._input_signature = None
        if input_signature is not None:
            self._input_signature = _validate_signature(input_signature, self._sig, _bound_to is not None)
        functools.update_wrapper(self, python_function)
        self.__name__ = getattr(python_function, "__name__", "function")

    @property
    def python_function(self):
        """The original Python function."""
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def __get__(self, instance, owner):
        if instance is None:
            return self
        bound = self._instances.get(instance)
        if bound is None:
            bound = Function(
                self._python_function.__get__(instance, owner),
                input_signature=self._input_signature,
                autograph=self._autograph,
                jit_compile=self._jit_compile,
                reduce_retracing=self._reduce_retracing,
                _bound_to=instance,
            )
            self._instances[instance] = bound
        return bound

    def __call__(self, *args, **kwargs):
        fast = self._fast
        if fast is not None and not kwargs and not _RUN_EAGERLY[0]:
            # the common call: the same tensor signature as last time. The graph checks the
            # arguments' types, dtypes and shapes itself (None: they differ, or a trace is running)
            out = fast.graph.try_run(args)
            if out is not None:
                history = self._history[0]
                history.append(False)
                del history[:-10]
                return fast.rebuild(out)
        if self._input_signature is not None:
            args, kwargs = self._bind_to_signature(args, kwargs)
        if _core._tracing() or _RUN_EAGERLY[0]:  # part of an outer trace, or eager by request
            if _RUN_EAGERLY[0]:
                self._note_signature(_trace_key(_arrays_as_tensors((args, kwargs))))
            return _outputs_as_tensors(self._callable()(*args, **kwargs))
        args, kwargs = _arrays_as_tensors((args, kwargs))
        key = _trace_key((args, kwargs))
        trace = self._traces.get(key)
        if trace is None and self._poly:
            trace = next((t for g, t in self._poly if _key_matches(g, key)), None)
        # TF traces a signature with None dimensions once: a shape that a specialized trace does not
        # serve (See Note [Polymorphic traces]) is not a retrace to warn about
        retrace = trace is None and not any(_key_matches(g, key) for g in self._specialized)
        _note_call(self._python_function, retrace, self._history)
        if trace is None:
            general = self._note_signature(key)
            if self._input_signature is not None:
                n = len(self._input_signature)
                specs = tuple(map(_spec_of_rank, self._input_signature, args[:n]))
                general = _trace_key((specs + tuple(args[n:]), kwargs))
            result, trace = self._trace(key, general, args, kwargs)
            if trace is not None and trace.graph is not None and not kwargs and all(type(a) is Tensor for a in args):
                self._fast = trace
            return result
        if trace.graph is None:  # this signature runs eagerly (trace.reason says why)
            with _in_function():  # TensorArrays made in it behave as in its trace (_tensor_array.py)
                return _outputs_as_tensors(self._callable()(*args, **kwargs))
        if kwargs or not all(type(a) is Tensor for a in args):
            args = [x for x in nest.flatten((args, kwargs)) if type(x) is Tensor]
        else:
            self._fast = trace
        return trace.rebuild(trace.graph.run(args))

    def _callable(self):
        """The function to run: autograph's conversion when autograph=True (See tapegrad.autograph)."""
        if not self._autograph:
            return self._python_function
        if self._converted is None:
            from . import autograph  # noqa: PLC0415  (imports tapegrad's public names)

            convert = getattr(autograph, "_convert", None)
            self._converted = convert(self._python_function) if convert is not None else self._python_function
        return self._converted

    def _trace(self, key, general, args, kwargs):
        """Runs the function once, recording its engine calls; keeps the graph (or why there is none)
        and returns this call's result and its _Trace (See Note [Traced functions]). `general`: the
        call key with None dimensions the trace should serve (See Note [Polymorphic traces])."""
        flat_in = nest.flatten((args, kwargs))
        created_before = len(_trace_state.created)
        poly = general != key and general not in self._specialized
        shadows = {}
        if poly:
            none_dims: dict = {}
            _none_dims((args, kwargs), general, none_dims)
            shadows = {i: _shadow_of(x, none_dims[id(x)]) for i, x in enumerate(flat_in) if id(x) in none_dims}
            with _tensor._POLY_LOCK:
                _tensor._POLY[0] += 1
        _core._trace_begin(_STRICT, poly)
        try:
            for i, x in enumerate(flat_in):
                if type(x) is Tensor:
                    _core._trace_input(x, shadows.get(i))
            result = _outputs_as_tensors(self._callable()(*args, **kwargs))
            flat_out = nest.flatten(result)
            outs = [x for x in flat_out if type(x) is Tensor]
            bad = [x for x in flat_out if type(x) is not Tensor and not _static_output(x)]
            if bad:
                _core._trace_poison(f"the function returns a {type(bad[0]).__name__}, which a replay cannot rebuild")
        except BaseException:
            _core._trace_abort()
            del _trace_state.created[created_before:]
            raise
        finally:
            if poly:
                with _tensor._POLY_LOCK:
                    _tensor._POLY[0] -= 1
        graph = _core._trace_end(outs)
        created = _trace_state.created[created_before:]
        del _trace_state.created[created_before:]
        if any(r() is None for r in created):
            # TF traces a function that made Variables a second time, where making one raises: a
            # Variable the function keeps nowhere (made anew on every call) fails its first call.
            # Here it is gone once the call returned (See Note [Traced functions]).
            raise ValueError(
                "tf.function only supports singleton tf.Variables created on the first call. Make sure the "
                "tf.Variable is only created once or created outside tf.function. See "
                "https://www.tensorflow.org/guide/function#creating_tfvariables for more information."
            )
        if not graph.replayable and not self._warned:
            self._warned = True
            import logging  # noqa: PLC0415

            logging.getLogger("tensorflow").warning(
                "tf.function %s runs eagerly for this input signature: %s", self.__name__, graph.poison
            )
        if created and (self._traces or self._poly):
            raise ValueError("Creating variables on a non-first call to a function decorated with tf.function.")
        trace = _Trace(graph, result, flat_out)
        if graph.polymorphic or (poly and not graph.replayable):
            # one trace for every size the None dimensions allow (a poisoned one: runs eagerly for all)
            self._poly.append((general, trace))
        else:
            if poly:
                self._specialized[general] = graph.specialized
            self._traces[key] = trace
        return result, trace

    def experimental_get_graph_status(self):
        """(tapegrad) For each signature traced so far: '' when its calls replay the recorded graph,
        else why they run the Python function eagerly."""
        return [t.reason for t in self._traces.values()] + [t.reason for _, t in self._poly]

    def experimental_get_polymorphism(self):
        """(tapegrad) For each input signature with None dimensions traced so far, as (signature key,
        reason): '' when one trace replays every size those dimensions allow, else why the traces
        hold for their own input shapes only (other shapes trace again; See Note [Polymorphic
        traces])."""
        return [(g, "") for g, _ in self._poly] + list(self._specialized.items())

    def _bind_to_signature(self, args, kwargs):
        try:
            bound = self._sig.bind(*args, **kwargs)
        except TypeError as e:
            raise TypeError(
                f"Binding inputs to tf.function failed due to `{e}`. Received args: {args} and kwargs: "
                f"{kwargs} for signature: {self._signature_text()}."
            ) from None
        names = self._constrained
        out = dict(bound.arguments)
        for name, spec in zip(names, self._input_signature):
            if name not in out:
                continue
            value = out[name]
            try:
                out[name] = nest.pack_sequence_as(
                    spec, [_cast_to_spec(v, s) for v, s in zip(_flatten_like(value, spec), nest.flatten(spec))]
                )
            except TypeError as e:
                raise TypeError(
                    f"Binding inputs to tf.function failed due to `{e}`. Received args: {args} and "
                    f"kwargs: {kwargs} for signature: {self._signature_text()}."
                ) from None
        bound.arguments.update(out)
        return bound.args, bound.kwargs

    def _signature_text(self):
        parts = [f"{n}: {s!r}" for n, s in zip(self._constrained, self._input_signature)]
        return "(" + ", ".join(parts) + ")"

    def _note_signature(self, key):
        """Notes a call signature under TF's tracing rules; returns the noted key that serves it
        (with reduce_retracing, shapes generalized to None dimensions)."""
        for k in self._keys:
            if _key_matches(k, key):
                return k
        if self._reduce_retracing and self._keys:
            key = _generalize(self._keys[-1], key)
        self._keys.append(key)
        return key

    def experimental_get_tracing_count(self):
        """How many traces TF would have made so far: distinct call signatures under TF's rules."""
        if self._input_signature is not None:
            return 1 if self._keys else 0
        return len(self._keys)

    def get_concrete_function(self, *args, **kwargs):
        """A callable for one input signature (``tf.TensorSpec`` arguments allowed)."""
        if self._input_signature is not None and not args and not kwargs:
            specs = self._input_signature
        else:
            specs = None
        return ConcreteFunction(self, specs if specs is not None else (args, kwargs))

    def experimental_get_compiler_ir(self, *args, **kwargs):
        raise NotImplementedError(
            "tapegrad's tf.function replays recorded engine calls; there is no XLA compiler IR to show."
        )

    def __repr__(self):
        return f"<tapegrad.function.Function object at {hex(id(self))} for {self.__name__}>"


# TF's frequent-retracing warning (_FrequentTracingDetector): per Python function, over the last
# 10 calls, 5 or more traces log a warning, at most twice per function.
_CALL_HISTORY: dict = {}


def _call_history(python_function):
    """The [last calls, warnings logged] entry of a Python function (shared by its bound methods)."""
    fn = getattr(python_function, "__func__", python_function)
    key = getattr(fn, "__code__", fn)
    entry = _CALL_HISTORY.get(key)
    if entry is None:
        entry = _CALL_HISTORY[key] = [[], 0]
    return entry


def _note_call(python_function, traced, entry):
    """Notes a call in `entry` (the function's _call_history) and logs TF's warning when due."""
    history = entry[0]
    history.append(traced)
    del history[:-10]
    n = sum(history)
    if traced and n >= 5 and entry[1] < 2:
        entry[1] += 1
        import logging  # noqa: PLC0415

        logging.getLogger("tensorflow").warning(
            "%d out of the last %d calls to %s triggered tf.function retracing. Tracing is expensive and the "
            "excessive number of tracings could be due to (1) creating @tf.function repeatedly in a loop, (2) "
            "passing tensors with different shapes, (3) passing Python objects instead of tensors. For (1), please "
            "define your @tf.function outside of the loop. For (2), @tf.function has reduce_retracing=True option "
            "that can avoid unnecessary retracing. For (3), please refer to "
            "https://www.tensorflow.org/guide/function#controlling_retracing and "
            "https://www.tensorflow.org/api_docs/python/tf/function for  more details.",
            n,
            len(history),
            python_function,
        )


class _Trace:
    """One signature's trace: the replayable graph (None: runs eagerly, `reason` says why) and how
    to rebuild the Python result from the graph's output tensors."""

    __slots__ = ("graph", "reason", "structure", "_static", "_is_tensor", "_single", "_flat", "_plain")

    def __init__(self, traced, result, flat_out):
        self.graph = traced if traced.replayable else None
        self.reason = traced.poison
        self.structure = result
        self._single = type(result) is Tensor  # the common case: one tensor, nothing to pack
        self._is_tensor = [type(x) is Tensor for x in flat_out]
        self._static = [None if t else x for t, x in zip(self._is_tensor, flat_out)]
        # a plain list or tuple of tensors (`return loss, grads`-like results with no nesting):
        # rebuilt without nest's walk
        # no tensor at all (a training step returning None): the same value every call
        self._plain = not any(self._is_tensor) and _static_output(result)
        self._flat = None
        if type(result) in (list, tuple) and all(type(x) is Tensor for x in result):
            self._flat = type(result)

    def rebuild(self, tensors):
        if self._single:
            return tensors[0]
        if self._flat is not None:
            return self._flat(tensors)
        if self._plain:
            return self.structure
        it = iter(tensors)
        return nest.pack_sequence_as(
            self.structure, [next(it) if t else x for t, x in zip(self._is_tensor, self._static)]
        )


def _static_output(x):
    """Outputs that a replay returns as they were: None, strings, and Variables (by reference)."""
    return x is None or isinstance(x, (str, bytes, Variable))


def _arrays_as_tensors(structure):
    """numpy arrays among the arguments become tensors (TF's tf.function converts them)."""
    args, kwargs = structure
    if not kwargs and all(type(a) is Tensor for a in args):
        return structure
    flat = nest.flatten(structure)
    if not any(isinstance(x, np.ndarray) for x in flat):
        return structure
    return nest.pack_sequence_as(structure, [convert_to_tensor(x) if isinstance(x, np.ndarray) else x for x in flat])


def _outputs_as_tensors(result):
    """A traced function's outputs are tensors: Python and numpy numbers become Tensors (as TF)."""
    if isinstance(result, (bool, int, float, np.number, np.bool_, np.ndarray)):
        return convert_to_tensor(result)
    if isinstance(result, (list, tuple, dict)):
        leaves = nest.flatten(result)
        if any(isinstance(x, (bool, int, float, np.number, np.bool_, np.ndarray)) for x in leaves):
            return nest.pack_sequence_as(result, [_outputs_as_tensors(x) for x in leaves])
    return result


class ConcreteFunction:
    """What ``Function.get_concrete_function`` returns: calls the Python function with arguments
    checked against the signature it was made for."""

    def __init__(self, function, signature):
        self._function = function
        self.structured_input_signature = signature

    def __call__(self, *args, **kwargs):
        return self._function(*args, **kwargs)


def _validate_signature(input_signature, sig, bound):
    from . import TensorSpec  # noqa: PLC0415  (tapegrad.TensorSpec)

    if not isinstance(input_signature, (tuple, list)):
        raise TypeError(f"input_signature must be either a tuple or a list, got {type(input_signature)}.")
    leaves = nest.flatten(list(input_signature))
    bad = [x for x in leaves if not isinstance(x, TensorSpec)]
    if bad:
        raise TypeError(
            "input_signature must be a possibly nested sequence of TensorSpec objects, got invalid args "
            f"{bad} with types {[type(x) for x in bad]}."
        )
    params = [p for p in sig.parameters.values() if p.kind not in (p.VAR_KEYWORD,) and p.name != "self"]
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    has_var = any(p.kind == p.VAR_POSITIONAL for p in params)
    for p in params:
        if p.kind == p.KEYWORD_ONLY and p.default is p.empty:
            raise TypeError(
                f"Since input_signature is defined, keyword-only parameter `{p.name}` must have a default value"
            )
    if len(input_signature) > len(positional) and not has_var:
        raise TypeError(f"input_signature contains {len(input_signature) - len(positional)} extra type constraints.")
    for p in positional[len(input_signature) :]:
        if p.default is p.empty:
            raise TypeError(f"input_signature missing type constraint for {p.name}")
    return tuple(input_signature)


def _flatten_like(value, spec):
    if isinstance(spec, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(spec):
            raise TypeError(f"Can not cast {value!r} to {spec!r}")
        return [leaf for v, s in zip(value, spec) for leaf in _flatten_like(v, s)]
    if isinstance(spec, dict):
        if not isinstance(value, dict) or set(value) != set(spec):
            raise TypeError(f"Can not cast {value!r} to {spec!r}")
        return [leaf for k in sorted(spec) for leaf in _flatten_like(value[k], spec[k])]
    return [value]


def _cast_to_spec(value, spec):
    from . import TensorSpec  # noqa: PLC0415

    if isinstance(value, (Tensor, Variable)):
        t = convert_to_tensor(value)
    else:
        try:
            t = convert_to_tensor(value, dtype=spec.dtype)
        except (TypeError, ValueError):
            raise TypeError(f"Can not cast {value!r} to {spec!r}") from None
    if not spec.is_compatible_with(t):
        raise TypeError(f"Can not cast {TensorSpec.from_tensor(t)!r} to {spec!r}")
    return t


# TF's tracing rules (reference section 1.3): tensors by (dtype, shape), Variables by identity too,
# Python scalars/strings by value, nests by structure, other objects by identity.
def _trace_key(x):
    t = type(x)
    if t is Tensor:  # the common case first; C-level properties (a call key costs ~1 us per tensor)
        return ("tensor", x._dtype_code, x._shape_tuple)
    if t is TensorSpec:  # an input signature's entry
        return ("tensor", x.dtype._code, tuple(x.shape))
    if t is tuple or t is list:
        return (t.__name__, tuple(map(_trace_key, x)))
    if isinstance(x, Variable):
        return ("var", id(x), x._dtype_code, x._shape_tuple)
    if isinstance(x, Tensor):
        return ("tensor", x._dtype_code, x._shape_tuple)
    if isinstance(x, np.ndarray):
        return ("tensor", x.dtype.name, x.shape)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_trace_key(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, _trace_key(x[k])) for k in sorted(x, key=repr)))
    if x is None or isinstance(x, (bool, int, float, str, complex, bytes)):
        return ("literal", type(x).__name__, x)
    return ("object", id(x))


def _spec_of_rank(spec, value):
    """An input signature's entry for an argument: a spec of unknown rank becomes one with the
    argument's rank, all dimensions None (a trace replays one rank)."""
    return nest.map_structure(
        lambda s, v: TensorSpec([None] * v.ndim, s.dtype) if s.shape.rank is None else s, spec, value
    )


def _none_dims(x, key, out):
    """Walks arguments `x` along their call key (with None dimensions) as _trace_key does: maps
    id(tensor) to its key's dimensions, for the tensors that have a None one."""
    tag = key[0]
    if tag == "tensor" and isinstance(x, Tensor) and not isinstance(x, Variable):
        if None in key[2]:
            out[id(x)] = key[2]
    elif tag in ("list", "tuple") and isinstance(x, (list, tuple)):
        for v, k in zip(x, key[1]):
            _none_dims(v, k, out)
    elif tag == "dict" and isinstance(x, dict):
        for name, k in key[1]:
            _none_dims(x[name], k, out)


def _shadow_of(x, dims):
    """A polymorphic trace's shadow of input `x` (See Note [Polymorphic traces]): its None
    dimensions doubled (repeating the values keeps indices and masks valid), or 1 when empty."""
    a = x._array_view()
    for d, g in enumerate(dims):
        if g is None:
            if a.shape[d] == 0:
                shape = list(a.shape)
                shape[d] = 1
                a = np.zeros(shape, a.dtype)
            else:
                a = np.concatenate([a, a], axis=d)
    return _core.constant(np.ascontiguousarray(a))


def _key_matches(general, specific):
    """Whether a trace made for `general` serves a call with `specific` (None dims match any)."""
    if general == specific:
        return True
    tag = general[0]
    if tag != specific[0]:
        return False
    if tag == "tensor":
        return (
            general[1] == specific[1]
            and len(general[2]) == len(specific[2])
            and all(g is None or g == s for g, s in zip(general[2], specific[2]))
        )
    if tag in ("list", "tuple"):
        return len(general[1]) == len(specific[1]) and all(map(_key_matches, general[1], specific[1]))
    if tag == "dict":
        return [k for k, _ in general[1]] == [k for k, _ in specific[1]] and all(
            _key_matches(g, s) for (_, g), (_, s) in zip(general[1], specific[1])
        )
    return False


def _generalize(a, b):
    """TF's reduce_retracing: the least specific common key of two call keys (shapes get None dims)."""
    if a[0] != b[0]:
        return b
    tag = a[0]
    if tag == "tensor" and a[1] == b[1] and len(a[2]) == len(b[2]):
        return ("tensor", a[1], tuple(x if x == y else None for x, y in zip(a[2], b[2])))
    if tag in ("list", "tuple") and len(a[1]) == len(b[1]):
        return (tag, tuple(map(_generalize, a[1], b[1])))
    if tag == "dict" and [k for k, _ in a[1]] == [k for k, _ in b[1]]:
        return ("dict", tuple((k, _generalize(x, y)) for (k, x), (_, y) in zip(a[1], b[1])))
    return b


# ---- control flow --------------------------------------------------------------------------------


def _scalar_bool(pred, what):
    if isinstance(pred, (bool, np.bool_)):
        return bool(pred)
    t = convert_to_tensor(pred)
    if t.dtype != _tf_bool:
        raise TypeError(f"{what} must be a bool tensor, got {t.dtype.name}")
    a = np.asarray(t)
    if a.size != 1:
        raise ValueError(f"{what} must be a scalar (or shape [1]) bool tensor, got shape {list(a.shape)}")
    return bool(a.reshape(()))


def _unpack(result):
    if isinstance(result, (list, tuple)) and len(result) == 1 and not hasattr(result, "_fields"):
        return result[0]
    return result


def cond(
    pred: Any,
    true_fn: Optional[Callable[[], Any]] = None,
    false_fn: Optional[Callable[[], Any]] = None,
    name: Optional[str] = None,
) -> Any:
    """``tf.cond``: runs ``true_fn()`` if `pred` is true, else ``false_fn()`` (TF's eager semantics)."""
    if true_fn is None:
        raise TypeError("true_fn must not be None.")
    if false_fn is None:
        raise TypeError("false_fn must not be None.")
    if not callable(true_fn):
        raise TypeError("true_fn must be callable.")
    if not callable(false_fn):
        raise TypeError("false_fn must be callable.")
    if _core._tracing() and isinstance(pred, (Tensor, Variable)):  # (TensorArrays: _tensor_array.py)
        return _unpack(_array_cond(_traced_cond, pred, true_fn, false_fn))
    return _unpack(true_fn() if _scalar_bool(pred, "pred") else false_fn())


def _run_block(builder, which, dry, fn, *args):
    """fn(*args) recorded into one block of a control-flow node (See Note [Traced control flow]);
    returns (result, flat leaves). A block that raises while it runs dry (a branch the trace does
    not take, on this call's values) leaves the trace unreplayable: the function then runs eagerly."""
    _core._trace_block_begin(builder, which, dry)
    try:
        out = _outputs_as_tensors(fn(*args))
        flat = [convert_to_tensor(x) if isinstance(x, Variable) else x for x in nest.flatten(out)]
    except Exception as e:
        _core._trace_block_abort(dry, f"a control-flow block raised {type(e).__name__} while traced: {e}")
        if dry:
            return None, None
        raise
    _core._trace_block_end(builder, which, dry, [x for x in flat if type(x) is Tensor])
    return out, flat


def _traced_cond(pred, true_fn, false_fn):
    """tf.cond on a tensor inside a traced tf.function: one node that runs a branch per call."""
    taken = _core._trace_peek_bool(pred, "pred")
    builder = _core._trace_cond_begin(pred)
    ran = {}
    for which in (taken, not taken):
        ran[which] = _run_block(builder, int(which), which != taken, true_fn if which else false_fn)
    out, flat = ran[taken]
    other_out, other_flat = ran[not taken]
    if other_flat is None:  # the untaken branch raised: the trace runs eagerly from now on
        return out
    same = len(flat) == len(other_flat) and all(
        (type(a) is Tensor) == (type(b) is Tensor) and (a.dtype == b.dtype if type(a) is Tensor else a == b)
        for a, b in zip(flat, other_flat)
    )
    try:
        nest.assert_same_structure(out, other_out)
    except (ValueError, TypeError):
        same = False
    if not same:
        raise ValueError(
            "true_fn and false_fn arguments to tf.cond must have the same number, type, and overall structure "
            f"of return values.\n\ntrue_fn output: {ran[True][0]}\nfalse_fn output: {ran[False][0]}"
        )
    results = iter(_core._trace_cond_end(builder, [x for x in flat if type(x) is Tensor]))
    return nest.pack_sequence_as(out, [next(results) if type(x) is Tensor else x for x in flat])


def case(
    pred_fn_pairs: Any,
    default: Optional[Callable[[], Any]] = None,
    exclusive: bool = False,
    strict: bool = False,
    name: str = "case",
) -> Any:
    """``tf.case``: the function of the first true predicate, else `default`."""
    if isinstance(pred_fn_pairs, dict):
        pred_fn_pairs = list(pred_fn_pairs.items())
    if not isinstance(pred_fn_pairs, (list, tuple)):
        raise TypeError(f"pred_fn_pairs must be a list, tuple, or dict. Received: {type(pred_fn_pairs).__name__}")
    for pair in pred_fn_pairs:
        if not isinstance(pair, tuple) or len(pair) != 2:
            raise TypeError(f"Each entry in pred_fn_pairs must be a 2-tuple. Received {pair}.")
        if not callable(pair[1]):
            raise TypeError(f"fn for pred {pair[0]} must be callable.")
    preds = [p for p, _ in pred_fn_pairs]
    if _core._tracing() and not exclusive and any(_core._trace_is_traced(p) for p in preds):
        # inside a trace: nested tf.cond nodes, first true predicate first (TF's if/elif chain)
        if default is None and not pred_fn_pairs:
            raise ValueError("Must provide at least one pred_fn_pair or a default.")
        last = default if default is not None else pred_fn_pairs[-1][1]
        chain = last
        for p, fn in reversed(pred_fn_pairs if default is not None else pred_fn_pairs[:-1]):
            chain = functools.partial(cond, p, fn, chain)
        return _unpack(chain())
    values = [_scalar_bool(p, "pred") for p, _ in pred_fn_pairs]
    if exclusive and sum(values) > 1:
        from .errors import InvalidArgumentError  # noqa: PLC0415

        raise InvalidArgumentError(
            f"Input error: exclusive=True and more than 1 conditions ({sum(values)}) evaluated as True."
        )
    for v, (_, fn) in zip(values, pred_fn_pairs):
        if v:
            return _unpack(fn())
    if default is None:
        if not pred_fn_pairs:
            raise ValueError("Must provide at least one pred_fn_pair or a default.")
        return _unpack(pred_fn_pairs[-1][1]())
    return _unpack(default())


def switch_case(
    branch_index: Any, branch_fns: Any, default: Optional[Callable[[], Any]] = None, name: str = "switch_case"
) -> Any:
    """``tf.switch_case``: runs ``branch_fns[branch_index]``; out of range runs `default` (or the last)."""
    if not isinstance(branch_index, (Tensor, Variable)):
        raise TypeError(f"'branch_index' must be a Tensor, got {type(branch_index)}")
    if not branch_index.dtype.is_integer:
        raise TypeError(f"'branch_index' must be an integer Tensor, got {branch_index.dtype}")
    if isinstance(branch_fns, dict):
        items = sorted(branch_fns.items())
    elif branch_fns and isinstance(branch_fns[0], tuple):
        items = sorted(branch_fns)
    else:
        items = list(enumerate(branch_fns))
    keys = [k for k, _ in items]
    if keys != list(range(len(keys))):
        raise ValueError(f"branch indices (keys) must form contiguous range of [0 to {len(keys)}) but found {keys}.")
    for k, fn in items:
        if not callable(fn):
            raise TypeError(f"fn for key {k} must be callable.")
    if _core._tracing() and _core._trace_is_traced(branch_index):
        # inside a trace: nested tf.cond nodes on branch_index == k; out of range runs `default`,
        # else the last branch (TF's rule)
        chain = default if default is not None else items[-1][1]
        for k, fn in reversed(items if default is not None else items[:-1]):
            chain = functools.partial(cond, branch_index == k, fn, chain)
        return _unpack(chain())
    i = int(np.asarray(branch_index))
    if 0 <= i < len(items):
        return _unpack(items[i][1]())
    return _unpack((default or items[-1][1])())


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    shape_invariants: Any = None,
    parallel_iterations: int = 10,
    back_prop: bool = True,
    swap_memory: bool = False,
    maximum_iterations: Any = None,
    name: Optional[str] = None,
) -> Any:
    """``tf.while_loop``: repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    TF's checks: a body must keep each loop variable's structure and dtype, and its shape unless
    ``shape_invariants`` allows it (None dimensions); ``maximum_iterations`` bounds the loop.
    """
    if not loop_vars and loop_vars != 0:
        raise ValueError("No loop variables provided")
    if not callable(cond):
        raise TypeError("cond must be callable.")
    if not callable(body):
        raise TypeError("body must be callable.")
    if not isinstance(parallel_iterations, int) or parallel_iterations <= 0:
        raise TypeError("parallel_iterations must be a positive integer.")
    if maximum_iterations is not None:
        m = np.asarray(maximum_iterations)
        if m.ndim != 0:
            raise ValueError(f"maximum_iterations must be a scalar, saw shape: {list(m.shape)}")
        maximum_iterations = int(m)
    if _core._tracing():  # TensorArrays among loop_vars: dense loop variables (See _tensor_array.py)
        kwargs = dict(shape_invariants=shape_invariants, parallel_iterations=parallel_iterations)
        result = _array_while_loop(
            while_loop, cond, body, loop_vars, dict(kwargs, maximum_iterations=maximum_iterations)
        )
        if result is not None:
            return result
    single = not isinstance(loop_vars, (list, tuple))
    state = [loop_vars] if single else list(loop_vars)
    state = nest.pack_sequence_as(state, [_as_loop_value(v) for v in nest.flatten(state)])
    invariants = None
    if shape_invariants is not None:
        invariants = _flatten_up_to(state, [shape_invariants] if single else list(shape_invariants))
    entry = [(_spec_of(v)) for v in nest.flatten(state)]
    step = functools.partial(_loop_step, body, single, entry, invariants)
    if _core._tracing() and all(isinstance(v, (Tensor, Variable)) for v in nest.flatten(state)):
        state = _traced_while(cond, step, state, maximum_iterations)
    else:
        state = _run_loop(cond, step, state, maximum_iterations, 0)
    return state[0] if single else (type(loop_vars)(state) if isinstance(loop_vars, tuple) else state)


def _flatten_up_to(structure, value):
    """`value`'s parts at the leaves of `structure` (TF's nest.flatten_up_to): a shape invariant
    (a TensorShape is a tuple) stays whole where the loop variable is a tensor."""
    if isinstance(structure, dict):
        return [x for k in sorted(structure) for x in _flatten_up_to(structure[k], value[k])]
    if isinstance(structure, (list, tuple)) and not isinstance(structure, (Tensor, Variable)):
        if not isinstance(value, (list, tuple)) or len(value) != len(structure):
            raise ValueError(f"shape_invariants {value!r} do not match the structure of loop_vars {structure!r}")
        return [x for s, v in zip(structure, value) for x in _flatten_up_to(s, v)]
    return [value]


def _run_loop(cond, step, state, maximum_iterations, i):
    while (maximum_iterations is None or i < maximum_iterations) and _scalar_bool(cond(*state), "cond's result"):
        state = step(state)
        i += 1
    return state


def _traced_while(cond, step, state, maximum_iterations):
    """tf.while_loop inside a traced tf.function: one node that iterates the recorded cond and body
    (See Note [Traced control flow]); the trace's own iterations after the first run eagerly."""
    flat = [convert_to_tensor(v) for v in nest.flatten(state)]
    builder, loop_vars = _core._trace_while_begin(flat, -1 if maximum_iterations is None else maximum_iterations)
    traced_state = nest.pack_sequence_as(state, loop_vars)
    c, c_flat = _run_block(builder, 0, False, cond, *traced_state)
    if c_flat is None or len(c_flat) != 1 or type(c_flat[0]) is not Tensor:
        _core._trace_poison("a tf.while_loop condition that is not a tensor")
        return _run_loop(cond, step, state, maximum_iterations, 0)
    first = maximum_iterations != 0 and _core._trace_peek_bool(c_flat[0], "cond's result")
    out, out_flat = _run_block(builder, 1, not first, lambda: nest.flatten(step(traced_state)))
    if out_flat is None:  # the body raised while recorded dry: the function runs eagerly from now on
        return state
    if first:  # the trace's remaining iterations, eagerly: a replay runs the recorded node instead
        now = nest.pack_sequence_as(state, out_flat)
        now = _core._trace_call_paused(lambda: _run_loop(cond, step, now, maximum_iterations, 1))
    else:
        now = state
    now_flat = [convert_to_tensor(v) for v in nest.flatten(now)]
    entry = [tuple(v._shape_tuple) for v in flat]
    if any(tuple(v._shape_tuple) != e for v, e in zip(list(out_flat) + now_flat, entry + entry)):
        # The body was recorded on the first iteration's shapes: whatever it computed from them in
        # Python (x.shape, tf.shape, reshape targets) is fixed in the recording, and would be wrong
        # for the next iterations' shapes at replay.
        _core._trace_poison(
            "a tf.while_loop whose loop variables change shape from one iteration to the next "
            "(shape_invariants with None dimensions): the recorded body would keep the first "
            "iteration's shapes"
        )
    finals = _core._trace_while_end(builder, now_flat)
    return nest.pack_sequence_as(state, finals)


def _loop_step(body, single, entry, invariants, state):
    """One iteration of tf.while_loop's body with TF's checks (structure, dtype, shape)."""
    out = body(*state)
    if single and not (isinstance(out, (list, tuple)) and len(out) == 1):
        out = [out]
    out = list(out) if isinstance(out, (list, tuple)) else [out]
    try:
        nest.pack_sequence_as(state, nest.flatten(out))
    except (ValueError, TypeError, StopIteration) as e:
        raise TypeError(f"The two structures don't have the same nested structure: {state} and {out}: {e}") from None
    if len(nest.flatten(out)) != len(entry):
        raise ValueError(
            f"The two structures don't have the same number of elements. First structure: {state}, "
            f"second structure: {out}."
        )
    new = [_as_loop_value(v) for v in nest.flatten(out)]
    for k, (v, (dtype, shape)) in enumerate(zip(new, entry)):
        v_dtype, v_shape = _spec_of(v)
        if v_dtype != dtype:
            raise TypeError(
                f"Loop variable {k} enters the loop with type {dtype} but has type {v_dtype} after one iteration."
            )
        allowed = shape if invariants is None else _shape_list(invariants[k])
        if not _shape_fits(allowed, v_shape):
            raise ValueError(
                f"Input tensor `loop_var_{k}` enters the loop with shape {_fmt(shape)}, but has shape "
                f"{_fmt(v_shape)} after one iteration. To allow the shape to vary across iterations, "
                "use the `shape_invariants` argument of tf.while_loop to specify a less-specific "
                "shape."
            )
    return nest.pack_sequence_as(state, new)


def _as_loop_value(v):
    if isinstance(v, (Tensor, Variable)):
        return v
    if isinstance(v, (int, float, bool, np.ndarray, np.generic)):
        return convert_to_tensor(v)
    return v


def _spec_of(v):
    if isinstance(v, (Tensor, Variable)):
        return v.dtype.name, tuple(_tensor._static_shape(v))
    return type(v).__name__, None


def _shape_list(s):
    if s is None:
        return None
    if hasattr(s, "as_list"):
        try:
            return tuple(s.as_list())
        except ValueError:
            return None
    return tuple(s)


def _shape_fits(allowed, shape):
    if allowed is None or shape is None:
        return True
    return len(allowed) == len(shape) and all(a is None or a == b for a, b in zip(allowed, shape))


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


# ---- tf.print ------------------------------------------------------------------------------------


def _format_value(a, summarize):
    a = np.asarray(a)
    if a.ndim == 0:
        return _format_scalar(a[()])
    return _format_array(a, summarize)


def _format_scalar(x):
    """One element as TF's kernels print it: the shortest of %.6g / %.9g (float32) or %.15g /
    %.17g (float64) that reads back to the same value."""
    if isinstance(x, (np.bool_, bool)):
        return "1" if x else "0"
    if isinstance(x, np.floating):
        if not np.isfinite(x):
            return "nan" if np.isnan(x) else ("inf" if x > 0 else "-inf")
        short, full = ("%.15g", "%.17g") if x.dtype == np.float64 else ("%.6g", "%.9g")
        text = short % x
        return text if type(x)(float(text)) == x else full % x
    if isinstance(x, bytes):
        return x.decode()
    return str(x)


_INDENT = re.compile(r"\n(?=[^\n])")


def _format_array(a, summarize):
    rows = list(a)
    if summarize >= 0 and len(rows) > 2 * summarize:
        rows = rows[:summarize] + [None] + rows[-summarize:]
    if a.ndim == 1:
        return "[" + " ".join("..." if r is None else _format_scalar(r) for r in rows) + "]"
    sep = "\n" * (a.ndim - 1) + " "
    parts = ["..." if r is None else _INDENT.sub("\n ", _format_array(r, summarize)) for r in rows]
    return "[" + sep.join(parts) + "]"


def print_(
    *inputs: Any,
    output_stream: Any = None,
    summarize: int = 3,
    sep: str = " ",
    end: str = "\n",
    name: Optional[str] = None,
) -> None:
    """``tf.print``: prints tensors as TF does (``[1 2 3]``, ``...`` beyond `summarize` items per
    dimension, ``summarize=-1`` for all) to stderr by default; nests are printed with their structure."""
    if _core._tracing():  # prints at every call of a traced function (a host call)
        flat = nest.flatten(list(inputs))
        tensors = [x for x in flat if isinstance(x, (Tensor, Variable))]

        def host(*values):
            it = iter(values)
            again = nest.pack_sequence_as(
                list(inputs), [next(it) if isinstance(x, (Tensor, Variable)) else x for x in flat]
            )
            print_(*again, output_stream=output_stream, summarize=summarize, sep=sep, end=end)

        _core._trace_host_call(host, tensors, writes=False)
        return None
    stream = sys.stderr if output_stream is None else output_stream
    if isinstance(stream, str):
        if stream.startswith("file://"):
            with open(stream[len("file://") :], "a") as f:
                f.write(_print_text(inputs, summarize, sep, end))
            return None
        stream = {"stderr": sys.stderr, "stdout": sys.stdout}.get(stream.split("/")[-1], sys.stderr)
    stream.write(_print_text(inputs, summarize, sep, end))
    stream.flush()
    return None


def _print_text(inputs, summarize, sep, end):
    return sep.join(_format_nest(x, summarize) for x in inputs) + end


def _format_nest(x, summarize):
    if isinstance(x, (Tensor, Variable, np.ndarray)):
        return _format_value(np.asarray(x), summarize)
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_format_nest(v, summarize)}" for k, v in x.items()) + "}"
    if isinstance(x, tuple):
        return "(" + ", ".join(_format_nest(v, summarize) for v in x) + ("," if len(x) == 1 else "") + ")"
    if isinstance(x, list):
        return "[" + ", ".join(_format_nest(v, summarize) for v in x) + "]"
    return str(x)
