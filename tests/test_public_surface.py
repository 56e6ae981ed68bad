"""The public surface: each namespace's public names are exactly its ``__all__``, written out as
explicit import lists (no ``globals().update`` assembly, no name bound twice), with no private
helper or imported module (``tg.code_of``, ``tg.random.np``) reachable under a public name; the
Python methods of Tensor and Variable are attached in one place and their set does not change.

``test_names_are_tf_and_keras_names`` compares the names with TF's and Keras 3's (recorded in
tests/tf_public_names.json and tests/keras3_public_names.json, or a live Keras for the namespaces
not recorded there): a name neither has must be listed in `TAPEGRAD_EXTRAS` (tapegrad's own
additions)."""

import ast
import json
import os
import re
import types

import pytest

import tapegrad as tg

NAMESPACES = [
    "tapegrad",
    "tapegrad.math",
    "tapegrad.nn",
    "tapegrad.linalg",
    "tapegrad.debugging",
    "tapegrad.random",
    "tapegrad.keras",
    "tapegrad.keras.activations",
    "tapegrad.keras.backend",
    "tapegrad.keras.callbacks",
    "tapegrad.keras.constraints",
    "tapegrad.keras.initializers",
    "tapegrad.keras.layers",
    "tapegrad.keras.losses",
    "tapegrad.keras.metrics",
    "tapegrad.keras.models",
    "tapegrad.keras.ops",
    "tapegrad.keras.ops.core",
    "tapegrad.keras.ops.image",
    "tapegrad.keras.ops.linalg",
    "tapegrad.keras.ops.math",
    "tapegrad.keras.ops.nn",
    "tapegrad.keras.ops.numpy",
    "tapegrad.keras.optimizers",
    "tapegrad.keras.optimizers.schedules",
    "tapegrad.keras.random",
    "tapegrad.keras.regularizers",
    "tapegrad.keras.saving",
    "tapegrad.keras.utils",
]
PACKAGE_DIR = os.path.dirname(tg.__file__)


def _module(name):
    import importlib

    return importlib.import_module(name)


def _is_own_submodule(mod, name, value):
    """The import system binds a package's submodules on it (``tapegrad.keras.layers.conv``); those
    are implementation modules, public only when ``__all__`` lists them."""
    return isinstance(value, types.ModuleType) and value.__name__ == f"{mod.__name__}.{name}"


def _public(mod):
    return {
        n
        for n, v in vars(mod).items()
        if not n.startswith("_") and not (_is_own_submodule(mod, n, v) and n not in mod.__all__)
    }


def _source(mod):
    with open(mod.__file__) as f:
        return f.read()


@pytest.mark.parametrize("ns", NAMESPACES)
def test_all_is_exactly_the_public_names(ns):
    mod = _module(ns)
    public, listed = _public(mod), set(mod.__all__)
    assert not public - listed, f"{ns}: public names missing from __all__ (or leaks): {sorted(public - listed)}"
    assert not listed - public, f"{ns}: __all__ names that are not attributes: {sorted(listed - public)}"
    assert len(mod.__all__) == len(listed), f"{ns}: __all__ lists a name twice"
    for name in mod.__all__:
        assert getattr(mod, name) is not None or name == "newaxis", f"{ns}.{name} does not resolve"


@pytest.mark.parametrize("ns", NAMESPACES)
def test_star_import_gives_exactly_all(ns):
    scope = {}
    exec(f"from {ns} import *", scope)  # noqa: S102
    scope.pop("__builtins__", None)
    assert set(scope) == set(_module(ns).__all__)


@pytest.mark.parametrize("ns", NAMESPACES)
def test_no_private_helper_or_foreign_module_is_public(ns):
    mod = _module(ns)
    for name in _public(mod):
        value = getattr(mod, name)
        if isinstance(value, types.ModuleType):  # only tapegrad's namespaces, never numpy / math / os
            assert value.__name__.startswith("tapegrad."), f"{ns}.{name} is the module {value.__name__}"
            continue
        own = getattr(value, "__module__", None) or ""
        if own.startswith("tapegrad") and hasattr(value, "__name__"):
            assert not value.__name__.startswith("_"), f"{ns}.{name} is the private helper {value.__name__}"
    assert not hasattr(tg, "code_of")  # the leak the old EXPORTS assembly had


def _bindings(tree):
    """(name, line) for each module-level binding: imports, assignments, defs and classes, also
    inside module-level if/try/with blocks."""
    out = []

    def visit(stmts):
        for node in stmts:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                out.extend(((a.asname or a.name).split(".")[0], node.lineno) for a in node.names if a.name != "*")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.append((node.name, node.lineno))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:  # names and tuples of names; `f.__doc__ = ...` binds nothing
                    names = [t] if isinstance(t, ast.Name) else t.elts if isinstance(t, (ast.Tuple, ast.List)) else []
                    out.extend((n.id, node.lineno) for n in names if isinstance(n, ast.Name))
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                visit(node.orelse)
                visit(node.finalbody)
            elif isinstance(node, ast.With):
                visit(node.body)

    visit(tree.body)
    return out


@pytest.mark.parametrize("ns", NAMESPACES)
def test_explicit_lists_and_no_name_bound_twice(ns):
    """Each public name is bound once (the old ``tg.where`` was imported, then overwritten by the
    EXPORTS assembly); no star import, no ``globals()`` assembly; ``__all__`` is one literal list."""
    mod = _module(ns)
    src = _source(mod)
    tree = ast.parse(src)
    seen = {}
    for name, line in _bindings(tree):
        if name.startswith("_") and name != "__all__":
            continue
        assert name not in seen, f"{ns}: {name!r} bound at line {seen[name]} and again at line {line}"
        seen[name] = line
    assembly = re.search(r"globals\(\)\.update|globals\(\)\[[^]]*\]\s*=[^=]", src)
    assert not assembly, f"{ns} assembles names with globals(): {assembly.group(0)}"
    stars = [n.lineno for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names)]
    assert not stars, f"{ns}: star imports at lines {stars}"
    (assign,) = [
        n
        for n in tree.body
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)
    ]
    assert ast.literal_eval(assign.value) == mod.__all__, f"{ns}: __all__ is not one literal list"


def test_tf_aliases_of_keras_namespaces():
    import sys

    for alias in ("optimizers", "losses", "metrics", "initializers"):
        assert getattr(tg, alias) is getattr(tg.keras, alias) is sys.modules[f"tapegrad.{alias}"]


def test_where_and_unstack_are_the_shape_ops():
    from tapegrad import _ops_shape

    assert tg.where is _ops_shape.where and tg.unstack is _ops_shape.unstack
    assert tg.where(tg.constant([True, False]), 1.0, 2.0).numpy().tolist() == [1.0, 2.0]


# ---- Tensor and Variable methods ---------------------------------------------------------------

# Recorded from the tree before the methods moved into `_tensor._attach_methods` (names whose value
# is not object's; the type machinery's dunders are left out, as pybind11 versions differ in them).
_MACHINERY = {
    "__class__",
    "__dict__",
    "__doc__",
    "__module__",
    "__init__",
    "__new__",
    "__init_subclass__",
    "__subclasshook__",
    "__weakref__",
}
_COMMON = {
    "__abs__",
    "__add__",
    "__and__",
    "__array__",
    "__array_priority__",
    "__bool__",
    "__dlpack__",
    "__dlpack_device__",
    "__eq__",
    "__float__",
    "__floordiv__",
    "__ge__",
    "__getitem__",
    "__gt__",
    "__hash__",
    "__index__",
    "__int__",
    "__invert__",
    "__iter__",
    "__le__",
    "__len__",
    "__lt__",
    "__matmul__",
    "__mod__",
    "__mul__",
    "__ne__",
    "__neg__",
    "__or__",
    "__pos__",
    "__pow__",
    "__radd__",
    "__rand__",
    "__repr__",
    "__rfloordiv__",
    "__rmatmul__",
    "__rmod__",
    "__rmul__",
    "__ror__",
    "__rpow__",
    "__rsub__",
    "__rtruediv__",
    "__sub__",
    "__truediv__",
    "_array_view",
    "_dtype_code",
    "_id",
    "_item",
    "_shape_tuple",
    "device",
    "dtype",
    "get_shape",
    "name",
    "ndim",
    "numpy",
    "ref",
    "experimental_ref",
    "shape",
}
TENSOR_METHODS = _COMMON | {"__format__", "__str__"}
VARIABLE_METHODS = _COMMON | {
    "_as_tapegrad_tensor",
    "_assign",
    "_assign_add",
    "_assign_sub",
    "_shared_name",
    "assign",
    "assign_add",
    "assign_sub",
    "path",
    "read_value",
    "scatter_nd_add",
    "scatter_nd_sub",
    "scatter_nd_update",
    "trainable",
    "value",
}


def _methods(cls):
    return {
        n
        for n in dir(cls)
        if getattr(cls, n, None) is not getattr(object, n, None)
        and not n.startswith("_pybind11")
        and n not in _MACHINERY
    }


@pytest.mark.parametrize(
    "cls, expected", [(tg.Tensor, TENSOR_METHODS), (tg.Variable, VARIABLE_METHODS)], ids=["Tensor", "Variable"]
)
def test_tensor_and_variable_methods_unchanged(cls, expected):
    have = _methods(cls)
    assert have == expected, f"added: {sorted(have - expected)}, lost: {sorted(expected - have)}"


def test_methods_are_attached_in_one_module():
    """Only _tensor.py assigns attributes on the engine's Tensor / Variable classes."""
    pattern = re.compile(
        r"^\s*(?:_core\.)?_?(?:Tensor|Variable)\.\w+\s*=[^=]|setattr\(\s*(?:_core\.)?_?(?:Tensor|"
        r"Variable)\b|for \w+ in \((?:_core\.)?_?Tensor\b",
        re.M,
    )
    offenders = []
    for root, _, files in os.walk(PACKAGE_DIR):
        for f in files:
            path = os.path.join(root, f)
            if f.endswith(".py") and path != os.path.join(PACKAGE_DIR, "_tensor.py"):
                with open(path) as fh:
                    offenders += [
                        f"{os.path.relpath(path, PACKAGE_DIR)}: {m.group(0).strip()}"
                        for m in pattern.finditer(fh.read())
                    ]
    assert not offenders, offenders


def test_attach_methods_twice_changes_nothing():
    from tapegrad import _tensor

    before = {n: getattr(tg.Tensor, n) for n in ("numpy", "__getitem__", "shape")}
    _tensor._attach_methods()
    assert {n: getattr(tg.Tensor, n) for n in before} == before
    assert type(tg.constant(2.0).numpy()).__name__ == "float32"  # numpy() not wrapped twice
    v = tg.Variable([1.0, 2.0])
    v[0].assign(5.0)
    assert v.numpy().tolist() == [5.0, 2.0]


# ---- TF's "Value for attr 'T'" message -----------------------------------------------------------


def test_attr_t_message_built_in_one_place():
    # TF's "Value for attr 'T' of <dtype> ..." (any dtype attr: T, TI, Tidx, ...) has one builder,
    # _ops_math._attr_t_error; no module writes the message for a dtype attr by hand
    builders, by_hand = {}, {}
    for root, _, files in os.walk(PACKAGE_DIR):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(root, name)) as f:
                    text = f.read()
                rel = os.path.relpath(os.path.join(root, name), PACKAGE_DIR)
                if text.count("f\"Value for attr '{attr}'"):
                    builders[rel] = text.count("f\"Value for attr '{attr}'")
                if re.search(r"f\"Value for attr 'T\w*' of \{", text):
                    by_hand[rel] = True
    assert builders == {"_ops_math.py": 1}, builders
    assert not by_hand, by_hand


@pytest.fixture(scope="module")
def tf_ref():
    return pytest.importorskip("tensorflow")


_ATTR_T_CASES = [
    ("top_k", lambda m: m.math.top_k(m.constant([True, False]), 1)),
    ("l2_loss", lambda m: m.nn.l2_loss(m.constant([1, 2]))),
    ("softsign", lambda m: m.math.softsign(m.constant([1, 2]))),
    ("log_sigmoid", lambda m: m.math.log_sigmoid(m.constant([1, 2]))),
    ("silu", lambda m: m.nn.silu(m.constant([1, 2]))),
]


def _error_text(fn, module):
    with pytest.raises(Exception) as info:
        fn(module)
    return type(info.value).__name__, str(info.value)


@pytest.mark.parametrize("case", _ATTR_T_CASES, ids=[c[0] for c in _ATTR_T_CASES])
def test_attr_t_messages_match_tf(case, tf_ref):
    _, fn = case
    ours_type, ours = _error_text(fn, tg)
    tf_type, theirs = _error_text(fn, tf_ref)
    op = re.search(r"\[Op:(\w+)\]", theirs).group(1)
    assert ours_type == tf_type == "InvalidArgumentError"
    assert ours == theirs.split("\n")[0] + f" [Op:{op}]"


# ---- names against TF and Keras 3 ----------------------------------------------------------------

# Public names that TF / Keras 3 do not have in the same namespace: tapegrad's own additions.
TAPEGRAD_EXTRAS = {
    "tapegrad": {
        "Function",
        "ceil",
        "erf",
        "expm1",
        "floordiv",
        "floormod",
        "is_finite",
        "is_inf",
        "is_nan",
        "log",
        "log1p",
        "reciprocal",
        "relu",
        "rsqrt",
        "softplus",
        "squared_difference",
        "testing",
    },
    "tapegrad.keras": {"InputLayer", "load_model", "save_model"},
    "tapegrad.keras.initializers": {"RandomInitializer", "compute_fans"},
    "tapegrad.keras.layers": {"KerasTensor"},
    "tapegrad.keras.losses": {
        "KLD",
        "LossFunctionWrapper",
        "MAE",
        "MAPE",
        "MSE",
        "MSLE",
        "huber_loss",
        "kld",
        "kullback_leibler_divergence",
        "logcosh",
        "mae",
        "mape",
        "mse",
        "msle",
        "reduce_weighted_values",
        "squeeze_or_expand_to_same_rank",
    },
    "tapegrad.keras.metrics": {
        "KLD",
        "MAE",
        "MAPE",
        "MSE",
        "MSLE",
        "accuracy",
        "get_compile_metric",
        "kld",
        "kullback_leibler_divergence",
        "logcosh",
        "mae",
        "mape",
        "mse",
        "msle",
        "reduce_to_samplewise_values",
    },
    "tapegrad.keras.models": {"Functional"},
    "tapegrad.keras.ops.linalg": {"logdet", "slogdet"},
    "tapegrad.keras.ops.nn": {"erfinv", "in_top_k", "segment_min", "top_k"},
    "tapegrad.keras.ops.numpy": {
        "cdist",
        "convert_to_tensor",
        "erf",
        "erfc",
        "logsumexp",
        "norm",
        "rsqrt",
        "saturate_cast",
        "shape",
    },
    "tapegrad.keras.optimizers": {"load_training_state", "save_training_state"},
    "tapegrad.keras.saving": {"optimizer_variables"},
}
# tapegrad modules with no TF / Keras module of the same name (implementation modules of keras.ops).
_NO_REFERENCE = {"tapegrad.keras.ops.core", "tapegrad.keras.ops.math"}
_HERE = os.path.dirname(__file__)


def _recorded(filename):
    with open(os.path.join(_HERE, filename)) as f:
        return json.load(f)


# Names recorded once from TF 2.21 and Keras 3.15 (no TF needed); the other namespaces are
# compared with a live Keras when it is installed.
_TF_NAMES = _recorded("tf_public_names.json")["namespaces"]
_KERAS_NAMES = _recorded("keras3_public_names.json")
RECORDED = {"tapegrad": _TF_NAMES["tf"]}
RECORDED.update({f"tapegrad.{k}": _TF_NAMES[f"tf.{k}"] for k in ("math", "nn", "linalg", "random")})
RECORDED.update({f"tapegrad.keras.{k}": v for k, v in _KERAS_NAMES.items() if not k.startswith("_")})


def _reference_names(ns):
    if ns in RECORDED:
        return set(RECORDED[ns])
    import importlib

    if not ns.startswith("tapegrad.keras"):  # e.g. tapegrad.debugging: live TF's namespace
        pytest.importorskip("tensorflow")
        return set(dir(importlib.import_module("tensorflow" + ns[len("tapegrad") :])))

    pytest.importorskip("keras")
    return set(dir(importlib.import_module("keras" + ns[len("tapegrad.keras") :])))


@pytest.mark.parametrize("ns", [n for n in NAMESPACES if n not in _NO_REFERENCE])
def test_names_are_tf_and_keras_names(ns):
    """A public name TF / Keras lacks is a leak unless TAPEGRAD_EXTRAS lists it."""
    ref = _reference_names(ns)
    extras = TAPEGRAD_EXTRAS.get(ns, set())
    unknown = sorted(n for n in _module(ns).__all__ if n not in ref and n not in extras)
    assert not unknown, f"{ns}: names neither TF/Keras has nor TAPEGRAD_EXTRAS lists: {unknown}"
    stale = sorted(n for n in extras if n in ref or n not in _module(ns).__all__)
    assert not stale, f"{ns}: TAPEGRAD_EXTRAS entries to remove: {stale}"
