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
"""
import contextlib
import functools
import re
import threading

from ._tensor import Variable

_scope = threading.local()
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")


def _camel_to_snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def current_name_scope():
    """The active name scope, "" outside any (``tf.name_scope`` / ``Module.name_scope``)."""
    return "/".join(getattr(_scope, "stack", []))


@contextlib.contextmanager
def name_scope(name):
    """``tf.name_scope(name)``: pushes `name` onto the scope that prefixes Variable paths."""
    stack = _scope.__dict__.setdefault("stack", [])
    stack.append(name.rstrip("/"))
    try:
        yield current_name_scope() + "/"
    finally:
        stack.pop()


def _is_module_like(obj):
    return isinstance(obj, Module) or hasattr(obj, "_flatten_for_module")


class Module:
    """Base class for tf.Module-style containers of variables and sub-modules.

    ``variables``, ``trainable_variables``, ``non_trainable_variables`` and ``submodules`` walk the
    attributes recursively (into lists, tuples, dicts and other modules, including Keras layers),
    each object once, in attribute-name order as TF does.
    """

    _TF_MODULE_IGNORED_PROPERTIES = frozenset(("_self_unconditional_checkpoint_dependencies",))

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not _NAME_RE.match(name):
            raise ValueError(f"'{name}' is not a valid module name. Module names must be valid Python "
                             "identifiers (e.g. a valid class name).")
        self._name = name
        scope = current_name_scope()
        self._scope_name = (scope + "/" if scope else "") + name

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        """A context manager that enters this module's name scope."""
        return name_scope(self._scope_name)

    @property
    def variables(self):
        """Every Variable reachable from this module (own first, then sub-modules')."""
        return tuple(self._flatten(predicate=_is_variable))

    @property
    def trainable_variables(self):
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and v.trainable))

    @property
    def non_trainable_variables(self):
        return tuple(self._flatten(predicate=lambda v: _is_variable(v) and not v.trainable))

    @property
    def submodules(self):
        """Every module reachable from this one (breadth-first, as TF)."""
        return tuple(self._flatten(predicate=_is_module_like))

    def _flatten(self, recursive=True, predicate=None, expand_composites=False, with_path=False):
        predicate = predicate or (lambda _: True)
        return list(_walk(self, predicate, recursive, with_path))

    @classmethod
    def with_name_scope(cls, method):
        """Decorator: runs `method` inside the module's name scope."""

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)

        return wrapper

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


def _is_variable(v):
    return isinstance(v, Variable)


def _children(obj):
    """(key, value) pairs of an object's attributes in sorted order (TF's walk order)."""
    if hasattr(obj, "_flatten_for_module") and not isinstance(obj, Module):
        return obj._flatten_for_module()
    d = vars(obj)
    return [(k, d[k]) for k in sorted(d) if k not in Module._TF_MODULE_IGNORED_PROPERTIES]


def _walk(root, predicate, recursive, with_path):
    """Breadth-first over modules; within a module, attributes in sorted order, nests expanded."""
    seen = {id(root)}
    queue = [((), root)]
    while queue:
        path, mod = queue.pop(0)
        subs = []
        for key, value in _children(mod):
            for sub_path, leaf in _leaves(value, (key,)):
                if id(leaf) in seen:
                    continue
                seen.add(id(leaf))
                if predicate(leaf):
                    yield (path + sub_path, leaf) if with_path else leaf
                if recursive and _is_module_like(leaf):
                    subs.append((path + sub_path, leaf))
        queue.extend(subs)


def _leaves(value, path):
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value
