"""``tf.function`` and TF's control-flow functions, run eagerly.

tapegrad has no graph compiler yet: a ``tf.function`` runs its Python function on every call,
exactly as TensorFlow does under ``tf.config.run_functions_eagerly(True)``. Values and gradients
are those of eager execution (which TF's traced functions also give). What differs from a traced
TF function: Python side effects (``print``, list appends) happen on every call, not only while
tracing, and a tensor used as a Python ``bool`` works instead of raising. What is kept from TF:
the decorator's arguments, ``input_signature`` checking with TF's errors, one ``Function`` per
instance for methods, ``experimental_get_tracing_count()`` (the number of distinct call signatures
under TF's tracing rules, i.e. the number of traces TF would make), ``python_function`` and
``get_concrete_function``.

``tf.cond``, ``tf.case``, ``tf.switch_case`` and ``tf.while_loop`` have TF's eager semantics (one
branch runs; the loop is a Python loop) and TF's argument checks; gradients flow through them on
the tape like through any other Python code.

>>> import tapegrad as tg
>>> @tg.function
... def f(x):
...     return tg.cond(x > 0, lambda: x * 2.0, lambda: -x)
>>> float(f(tg.constant(3.0))), float(f(tg.constant(-1.0))), f.experimental_get_tracing_count()
(6.0, 1.0, 1)
"""

import functools
import inspect
import re
import sys
import weakref
from collections.abc import Sequence
from typing import Any, Callable, Optional

import numpy as np

from . import nest
from ._dtypes import bool as _tf_bool
from ._ops import convert_to_tensor
from ._tensor import Tensor, Variable

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


def run_functions_eagerly(run_eagerly):
    """``tf.config.run_functions_eagerly``: accepted; tapegrad's functions always run eagerly."""
    if not isinstance(run_eagerly, (bool, np.bool_)):
        raise TypeError(f"run_eagerly must be a bool, got {type(run_eagerly).__name__}")


def functions_run_eagerly():
    """True: every ``tf.function`` runs its Python function eagerly (see the module docstring)."""
    return True


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
        if self._input_signature is not None:
            args, kwargs = self._bind_to_signature(args, kwargs)
        self._note_signature(args, kwargs)
        return _outputs_as_tensors(self._python_function(*args, **kwargs))

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

    def _note_signature(self, args, kwargs):
        key = _trace_key((args, kwargs))
        if any(_key_matches(k, key) for k in self._keys):
            return
        if self._reduce_retracing and self._keys:
            key = _generalize(self._keys[-1], key)
        self._keys.append(key)

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
        raise NotImplementedError("tapegrad's tf.function runs eagerly: there is no compiler IR to show.")

    def __repr__(self):
        return f"<tapegrad.function.Function object at {hex(id(self))} for {self.__name__}>"


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
    if isinstance(x, Variable):
        return ("var", id(x), x.dtype.name, tuple(x.shape))
    if isinstance(x, Tensor):
        return ("tensor", x.dtype.name, tuple(x.shape))
    if isinstance(x, np.ndarray):
        return ("tensor", x.dtype.name, x.shape)
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_trace_key(v) for v in x))
    if isinstance(x, dict):
        return ("dict", tuple((k, _trace_key(x[k])) for k in sorted(x, key=repr)))
    if x is None or isinstance(x, (bool, int, float, str, complex, bytes)):
        return ("literal", type(x).__name__, x)
    return ("object", id(x))


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
    return _unpack(true_fn() if _scalar_bool(pred, "pred") else false_fn())


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
    single = not isinstance(loop_vars, (list, tuple))
    state = [loop_vars] if single else list(loop_vars)
    state = nest.pack_sequence_as(state, [_as_loop_value(v) for v in nest.flatten(state)])
    invariants = None
    if shape_invariants is not None:
        invariants = nest.flatten([shape_invariants] if single else list(shape_invariants))
    entry = [(_spec_of(v)) for v in nest.flatten(state)]
    i = 0
    while (maximum_iterations is None or i < maximum_iterations) and _scalar_bool(cond(*state), "cond's result"):
        out = body(*state)
        if single and not (isinstance(out, (list, tuple)) and len(out) == 1):
            out = [out]
        out = list(out) if isinstance(out, (list, tuple)) else [out]
        try:
            nest.pack_sequence_as(state, nest.flatten(out))
        except (ValueError, TypeError, StopIteration) as e:
            raise TypeError(
                f"The two structures don't have the same nested structure: {state} and {out}: {e}"
            ) from None
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
        state = nest.pack_sequence_as(state, new)
        i += 1
    return state[0] if single else (type(loop_vars)(state) if isinstance(loop_vars, tuple) else state)


def _as_loop_value(v):
    if isinstance(v, (Tensor, Variable)):
        return v
    if isinstance(v, (int, float, bool, np.ndarray, np.generic)):
        return convert_to_tensor(v)
    return v


def _spec_of(v):
    if isinstance(v, (Tensor, Variable)):
        return v.dtype.name, tuple(v.shape)
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
