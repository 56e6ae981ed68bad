"""``tf.Module``: a named container that finds its variables and sub-modules by walking attributes.

>>> import tapegrad as tg
>>> class Linear(tg.Module):
...     def __init__(self):
...         super().__init__(name="linear")
...         self.w = tg.Variable([[1.0], [2.0]], name="w")
...         self.b = tg.Variable([0.0], name="b", trainable=False)
>>> m = Linear()
>>> len(m.trainable_variables), len(m.variables)
(1, 2)
>>> m.name_scope.name
'linear/'
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any, Callable, Literal, TypeVar

from ._tensor import Variable

_scope = threading.local()
_VALID_IDENTIFIER = re.compile(r"^[a-zA-Z_]([a-zA-Z0-9_])*$")


def _camel_to_snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _current_scope_string():
    return getattr(_scope, "current", "")


_F = TypeVar("_F", bound=Callable[..., Any])


def current_name_scope() -> str:
    """The active name scope without its trailing "/" ("" outside any ``tf.name_scope``)."""
    return _current_scope_string().rstrip("/")


class name_scope:  # noqa: N801 (TF's name)
    """``tf.name_scope(name)``: a context manager that opens a name scope and yields its full name.

    A name ending in "/" is taken as an absolute scope (that is how ``Module.name_scope`` re-enters
    the scope it was created in); "" resets to the top level.

    >>> import tapegrad as tg
    >>> with tg.name_scope("outer"):
    ...     with tg.name_scope("inner") as scope:
    ...         print(scope)
    outer/inner/
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise ValueError("name for name_scope must be a string.")
        self._name = name
        self._saved: list[str] = []

    @property
    def name(self) -> str:
        """The name given (the scope's full name is what ``__enter__`` returns)."""
        return self._name

    def __enter__(self) -> str:
        old = _current_scope_string()
        if not self._name:
            new = ""
        elif self._name.endswith("/"):
            new = self._name
        else:
            new = old + self._name + "/"
        self._saved.append(old)
        _scope.current = new
        return new

    def __exit__(self, *exc: Any) -> Literal[False]:
        _scope.current = self._saved.pop()
        return False


_NameScope = name_scope  # for the hint on Module.name_scope, which shadows the name in the class


def _is_module_like(obj):
    return isinstance(obj, Module) or (hasattr(obj, "_flatten_for_module") and not isinstance(obj, type))


class Module:
    """Base class for tf.Module-style containers of variables and sub-modules.

    ``variables``, ``trainable_variables``, ``non_trainable_variables`` and ``submodules`` walk the
    attributes (sorted by name; into lists, tuples, dicts and other modules, including Keras layers),
    each object once, in TF's order: a module's own attributes first, then each sub-module's, depth
    first.
    """

    _TF_MODULE_IGNORED_PROPERTIES = frozenset(
        ("_self_unconditional_checkpoint_dependencies", "_self_unconditional_dependency_names")
    )

    def __init__(self, name: str | None = None) -> None:
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not _VALID_IDENTIFIER.match(name):
            raise ValueError(
                f"'{name}' is not a valid module name. Module names must be valid Python "
                "identifiers (e.g. a valid class name)."
            )
        self._name = name
        with name_scope(name) as scope_name:
            self._scope_name = scope_name

    @property
    def name(self) -> str:
        """The module's name (the class name in snake_case unless given)."""
        return self._name

    @property
    def name_scope(self) -> _NameScope:
        """A ``tf.name_scope`` that re-enters this module's scope (``name_scope.name`` is "outer/m/")."""
        return name_scope(self._scope_name)

    @property
    def variables(self) -> tuple[Variable, ...]:
        """Every Variable reachable from this module (own first, then sub-modules', depth first)."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self) -> tuple[Variable, ...]:
        """The trainable ones among ``variables``."""
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self) -> tuple[Variable, ...]:
        """The non-trainable ones among ``variables``."""
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self) -> tuple[Any, ...]:
        """Every module reachable from this one (own attributes first, then theirs, as TF)."""
        return tuple(self._flatten(predicate=_is_module_like))

    def _flatten(
        self, recursive=True, predicate=None, attribute_traversal_key=None, with_path=False, expand_composites=False
    ):
        predicate = predicate or (lambda _: True)
        return list(_walk(self, predicate, recursive, with_path, (), {id(self)}, []))

    @classmethod
    def with_name_scope(cls, method: _F) -> _F:
        """Decorator: runs `method` inside the module's name scope.

        >>> import tapegrad as tg
        >>> class M(tg.Module):
        ...     @tg.Module.with_name_scope
        ...     def scope(self):
        ...         return tg.name_scope("x").__enter__()
        >>> M(name="m").scope()
        'm/x/'
        """

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


def _is_variable(v):
    return isinstance(v, Variable)


def _children(obj):
    """(key, value) pairs of an object's attributes in sorted order (TF's walk order)."""
    if hasattr(obj, "_flatten_for_module") and not isinstance(obj, Module):
        return obj._flatten_for_module()
    d = vars(obj)
    return [(k, d[k]) for k in sorted(d) if k not in Module._TF_MODULE_IGNORED_PROPERTIES]


def _walk(mod, predicate, recursive, with_path, path, seen, stack):
    """TF's ``_flatten_module``: this module's leaves, then each sub-module's walk, in order. With
    paths, shared objects are listed once per path; a module already being walked (`stack`) lists its
    own leaves but is not recursed into again, which stops cycles."""
    if id(mod) in stack:
        recursive = False
    subs = []
    for key, value in _children(mod):
        for sub_path, leaf in _leaves(value, (key,)):
            if not with_path:
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
            if predicate(leaf):
                yield (path + sub_path, leaf) if with_path else leaf
            if recursive and _is_module_like(leaf):
                subs.append((path + sub_path, leaf))
    stack.append(id(mod))
    for sub_path, sub in subs:
        yield from _walk(sub, predicate, recursive, with_path, sub_path, seen, stack)
    stack.pop()


def _leaves(value, path):
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value
