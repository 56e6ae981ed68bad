"""The typed, documented API: the engine's stubs match the built module, every bound function has
named arguments, types and a docstring, and every public name has a docstring. (mypy runs as its
own CI step: `mypy` from the repository root, configured in pyproject.toml.)"""

import importlib.util
import inspect
import json
import re
import sys
import types
from pathlib import Path

import pytest

import tapegrad as tf
from tapegrad import _core

ROOT = Path(__file__).resolve().parents[1]
STUBS = ROOT / "python" / "tapegrad" / "_core.pyi"


def _bound_functions():
    """(qualified name, builtin) for every function and method the engine defines."""
    out = []
    for name, obj in vars(_core).items():
        if isinstance(obj, types.BuiltinFunctionType):
            out.append((name, obj))
        elif isinstance(obj, type) and obj.__module__ == "tapegrad._core" and not issubclass(obj, BaseException):
            if hasattr(obj, "__members__"):  # a py::enum_: pybind11 writes its methods (the members have docs)
                continue
            for attr, member in vars(obj).items():
                if isinstance(member, property):
                    continue  # properties: see test_public_properties_have_docstrings
                fn = member
                # pybind11's own methods (and dunders like __init__'s pybind11 wrapper) are
                # instancemethod-like builtins; Python functions tapegrad adds are skipped here
                if attr.startswith("_pybind11"):  # pybind11's own (cross-module conduit)
                    continue
                if type(fn).__name__ in ("instancemethod", "builtin_function_or_method") and not (
                    attr.startswith("__") and attr not in ("__init__",)
                ):
                    out.append((f"{name}.{attr}", getattr(fn, "__func__", fn)))
    return out


BOUND = _bound_functions()


def _split_params(params):
    """The parameters of a signature line, split at the commas outside brackets."""
    out, depth, cur = [], 0, ""
    for ch in params:
        depth += ch in "[(" and 1 or (ch in "])" and -1 or 0)
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    return out + [cur]


def _problems(qualname, fn):
    """What is missing from a bound function's signature line and docstring ([] when nothing)."""
    doc = fn.__doc__ or ""
    lines = doc.strip().splitlines()
    sig = lines[0] if lines else ""
    short = qualname.split(".")[-1]
    if not sig.startswith(short + "("):
        return [f"no signature line in {doc!r}"]
    problems = []
    if re.search(r"\barg[0-9]+\b", sig):
        problems.append(f"unnamed arguments: {sig}")
    params = sig[len(short) + 1 : sig.rindex(") ->")] if ") ->" in sig else ""
    for p in filter(None, (p.strip() for p in _split_params(params))):
        if p in ("*", "*args", "**kwargs") or p == "self" or p.startswith("self:"):  # "*": keyword-only after
            continue
        if ":" not in p:
            problems.append(f"untyped argument {p!r}")
        elif re.search(r":\s*(object|typing\.Any)\b", p):
            problems.append(f"argument typed as object: {p!r}")
    summary = [ln for ln in lines[1:] if ln.strip()]
    if not (summary and len(summary[0]) > 8):
        problems.append(f"no docstring after the signature: {doc!r}")
    return problems


def test_enough_bound_functions_found():
    assert len(BOUND) >= 140, len(BOUND)


@pytest.mark.parametrize("qualname,fn", BOUND, ids=[q for q, _ in BOUND])
def test_bound_function_has_names_types_and_docstring(qualname, fn):
    assert not _problems(qualname, fn), f"{qualname}: {_problems(qualname, fn)}"


def test_public_properties_have_docstrings():
    for cls in (_core.Tensor, _core.Variable, _core.Tape):
        for attr, member in vars(cls).items():
            if isinstance(member, property) and not attr.startswith("_"):
                doc = member.__doc__ or ""
                # pybind11 puts the getter's signature first: "(arg0: object) -> int\n\nThe number..."
                text = [ln for ln in doc.splitlines() if ln.strip() and not ln.startswith("(")]
                assert text, f"{cls.__name__}.{attr} has no docstring: {doc!r}"


def test_help_shows_real_types():
    first = tf.exp.__doc__.splitlines()[0]
    assert first == ("exp(x: tapegrad._typing.TensorLike, name: str | None = None) -> tapegrad._core.Tensor"), first
    assert "e raised to the power x" in tf.exp.__doc__
    first = tf.reduce_sum.__doc__.splitlines()[0]
    assert "axis: tapegrad._typing.AxisLike = None" in first and "keepdims: bool = False" in first, first


def test_typed_object_arguments_accept_any_value():
    # the hinted argument types check nothing themselves: the engine's own errors still reach the user
    with pytest.raises(TypeError, match="axis must be"):
        tf.reduce_sum([1.0], axis="a")
    assert tf.math.atan2(y=1.0, x=0.0).numpy() == pytest.approx(1.5707964)
    assert tf.math.atan2(0.0, -1.0).numpy() == pytest.approx(3.1415927)


def _stubgen():
    if importlib.util.find_spec("pybind11_stubgen") is None:
        pytest.skip("pybind11-stubgen is not installed (it is in the `test` dependency group)")
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import gen_stubs
    finally:
        sys.path.pop(0)
    return gen_stubs


def test_stubs_match_the_built_module():
    gen_stubs = _stubgen()
    generated = gen_stubs.generate()
    assert STUBS.read_text() == generated, (
        "python/tapegrad/_core.pyi differs from the stubs of the built engine: run `python tools/gen_stubs.py` "
        "and commit the result"
    )


def test_stubs_are_shipped_and_marked_typed():
    assert STUBS.is_file()
    assert (ROOT / "python" / "tapegrad" / "py.typed").is_file()
    text = STUBS.read_text()
    assert "def exp(x: tapegrad._typing.TensorLike, name: str | None = None) -> Tensor:" in text
    assert "class Tensor:" in text and "class Variable:" in text


def _public(module):
    names = getattr(module, "__all__", None) or [n for n in dir(module) if not n.startswith("_")]
    for name in sorted(set(names)):
        obj = getattr(module, name, None)
        if isinstance(obj, types.ModuleType) or obj is None:
            continue
        if not (inspect.isclass(obj) or callable(obj)):
            continue
        mod = getattr(obj, "__module__", None) or ""
        if isinstance(obj, types.BuiltinFunctionType) and getattr(obj, "__self__", None) is _core:
            mod = "tapegrad._core"
        if not mod.startswith("tapegrad"):
            continue  # numpy, typing, the standard library
        yield name, obj


# Keras 3's top-level namespaces (dir(keras)) that tapegrad.keras has; the second-level ones come
# from tests/keras3_public_names.json (ops.image, ops.nn, ...) and optimizers.schedules.
_KERAS_TOP = {
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "random",
    "regularizers",
    "saving",
    "utils",
}


def _namespaces():
    with open(ROOT / "tests" / "keras3_public_names.json") as f:
        keras_names = json.load(f)
    spaces = {
        "tf": tf,
        "tf.math": tf.math,
        "tf.nn": tf.nn,
        "tf.linalg": tf.linalg,
        "tf.random": tf.random,
        "tf.keras": tf.keras,
    }
    for name in sorted(_KERAS_TOP):
        sub = getattr(tf.keras, name, None)
        if not isinstance(sub, types.ModuleType):
            continue
        spaces[f"tf.keras.{name}"] = sub
        inner = set(keras_names.get(name, ())) | ({"schedules"} if name == "optimizers" else set())
        for name2 in sorted(inner):
            sub2 = getattr(sub, name2, None)
            if isinstance(sub2, types.ModuleType):
                spaces[f"tf.keras.{name}.{name2}"] = sub2
    return spaces


def test_every_public_name_has_a_docstring():
    missing, seen = [], 0
    for space, module in _namespaces().items():
        for name, obj in _public(module):
            seen += 1
            doc = inspect.getdoc(obj) if inspect.isclass(obj) else getattr(obj, "__doc__", None)
            if inspect.isclass(obj) and obj.__doc__ is None:
                doc = None  # a class without its own docstring (inspect.getdoc would take the base's)
            if not doc or not doc.strip():
                missing.append(f"{space}.{name}")
    assert seen > 500, seen
    assert not missing, f"{len(missing)} public names without a docstring: {missing}"
