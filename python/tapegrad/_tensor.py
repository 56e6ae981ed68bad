"""Python conveniences on the engine's Tensor and Variable: TF's shape, dtype, repr, numpy interop."""

import sys
import threading
import weakref
from typing import Any, Optional

import numpy as np

from . import _core
from ._dtypes import _BY_CODE, as_dtype, code_of


class _TraceState(threading.local):
    """Per thread: the Variables made while a tf.function traced, by weak reference (function.py
    checks TF's rules: only a function's first trace may make them, and only ones it keeps)."""

    def __init__(self):
        self.created = []


_trace_state = _TraceState()


Tensor = _core.Tensor


class TensorShape(tuple):
    """The static shape of a tensor; a tuple of ints (None for an unknown dimension) with TF's helpers.

    ``TensorShape(None)`` is a shape of unknown rank.

    >>> import tapegrad as tg
    >>> tg.zeros([2, 3]).shape.as_list()
    [2, 3]
    >>> tg.TensorShape([None, 3]).merge_with([2, None])
    TensorShape([2, 3])
    """

    _unknown_rank = False

    def __new__(cls, dims=()):
        if dims is None:
            self = tuple.__new__(cls, ())
            self._unknown_rank = True
            return self
        if isinstance(dims, TensorShape) and dims._unknown_rank:
            return TensorShape(None)
        if isinstance(dims, (int, np.integer)):
            dims = (dims,)
        return tuple.__new__(cls, (None if d is None else int(d) for d in dims))

    def __reduce__(self):
        return (TensorShape, (None if self._unknown_rank else list(self),))

    def as_list(self):
        if self._unknown_rank:
            raise ValueError("as_list() is not defined on an unknown TensorShape.")
        return list(self)

    @property
    def rank(self):
        return None if self._unknown_rank else len(self)

    ndims = rank

    @property
    def dims(self):
        return None if self._unknown_rank else list(self)

    def __len__(self):
        if self._unknown_rank:
            raise ValueError("Cannot take the length of shape with unknown rank.")
        return tuple.__len__(self)

    def num_elements(self):
        """The number of elements, or None when the shape is not fully defined."""
        if not self.is_fully_defined():
            return None
        return int(np.prod(self, dtype=np.int64))

    def is_fully_defined(self):
        return not self._unknown_rank and all(d is not None for d in self)

    def is_compatible_with(self, other):
        """True when some fully defined shape matches both (None matches any size)."""
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._unknown_rank or other._unknown_rank:
            return True
        return tuple.__len__(self) == tuple.__len__(other) and all(
            a is None or b is None or a == b for a, b in zip(self, other)
        )

    def merge_with(self, other):
        """The most specific shape compatible with both; ValueError when they conflict."""
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {other} are not compatible")
        if self._unknown_rank:
            return other
        if other._unknown_rank:
            return self
        return TensorShape([b if a is None else a for a, b in zip(self, other)])

    def concatenate(self, other):
        other = other if isinstance(other, TensorShape) else TensorShape(other)
        if self._unknown_rank or other._unknown_rank:
            return TensorShape(None)
        return TensorShape(tuple(self) + tuple(other))

    def __repr__(self):
        return "TensorShape(None)" if self._unknown_rank else f"TensorShape({list(self)})"

    def __str__(self):
        if self._unknown_rank:
            return "<unknown>"
        return "(" + ", ".join(str(d) for d in self) + ("," if len(self) == 1 else "") + ")"

    def __eq__(self, other):  # TF: TensorShape([2, 3]) == [2, 3]
        if isinstance(other, TensorShape):
            if self._unknown_rank or other._unknown_rank:
                return self._unknown_rank and other._unknown_rank
        elif isinstance(other, list):
            other = tuple(other)
        elif other is None:
            return self._unknown_rank
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = tuple.__hash__

    def __getitem__(self, key):
        if self._unknown_rank:
            return TensorShape(None) if isinstance(key, slice) else None
        r = tuple.__getitem__(self, key)
        return TensorShape(r) if isinstance(key, slice) else r


class TensorSpec:
    """Describes a tensor: shape (None for unknown dimensions), dtype and an optional name.

    >>> import tapegrad as tg
    >>> spec = tg.TensorSpec((None, 3), tg.float32)
    >>> spec
    TensorSpec(shape=(None, 3), dtype=tf.float32, name=None)
    >>> spec.is_compatible_with(tg.zeros([2, 3])), spec.is_compatible_with(tg.zeros([2, 4]))
    (True, False)
    """

    __slots__ = ("_shape", "_dtype", "_name")

    def __init__(self, shape, dtype=None, name=None):
        from ._dtypes import float32

        self._shape = shape if isinstance(shape, TensorShape) else TensorShape(shape)
        try:
            self._dtype = as_dtype(float32 if dtype is None else dtype)
        except TypeError:
            raise TypeError(f"Cannot convert the argument `type_value`: {dtype!r} to a TensorFlow DType.") from None
        self._name = name

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def name(self):
        return self._name

    @property
    def value_type(self):
        return Tensor

    @classmethod
    def from_tensor(cls, tensor, name=None):
        """The spec of an eager tensor (not a Variable or an array, as TF)."""
        if not isinstance(tensor, Tensor):
            raise ValueError(f"`tensor` should be a tf.Tensor, but got type {type(tensor)}.")
        return cls(tensor.shape, tensor.dtype, name)

    @classmethod
    def from_spec(cls, spec, name=None):
        return cls(spec.shape, spec.dtype, spec.name if name is None else name)

    def is_compatible_with(self, spec_or_tensor):
        """True for a TensorSpec or Tensor of this dtype whose shape is compatible (arrays: False, as TF)."""
        if not isinstance(spec_or_tensor, (TensorSpec, Tensor)):
            return False
        return self._dtype == spec_or_tensor.dtype and self._shape.is_compatible_with(spec_or_tensor.shape)

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"

    def __eq__(self, other):
        return (
            type(self) is type(other)
            and self._dtype == other._dtype
            and self._name == other._name
            and self._shape == other._shape
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash((self._shape._unknown_rank, tuple(self._shape), self._dtype, self._name))

    def __reduce__(self):
        return (TensorSpec, (self._shape, self._dtype, self._name))


# How many threads trace a polymorphic tf.function now (See Note [Polymorphic traces],
# graph/poly.cpp; changed under _POLY_LOCK); while none does, reading a shape costs nothing more.
_POLY = [0]
_POLY_LOCK = threading.Lock()


def _shape(self):
    if _POLY[0]:
        return _traced_shape(self, 2)
    return TensorShape(self._shape_tuple)


def _caller_is_tapegrad(depth):
    """(whether the code `depth` frames above the caller is tapegrad's own, its module name).
    AutoGraph's converted_call, which calls methods for converted user code, is looked through."""
    try:
        f = sys._getframe(depth + 1)
    except ValueError:  # no Python caller (from C): not tapegrad's own code
        return False, ""
    while f is not None and f.f_code.co_name == "converted_call" and f.f_globals.get("__name__") == _AUTOGRAPH:
        f = f.f_back
    name = f.f_globals.get("__name__", "") if f is not None else ""
    return name == "tapegrad" or name.startswith("tapegrad."), name


_AUTOGRAPH = "tapegrad.autograph._operators"


def _dynamic_dims(self):
    """In a polymorphic trace: per dimension, whether it follows the input signature's None
    dimensions (False: not known); None when nothing varies (or no such trace runs)."""
    if type(self) is not Tensor:
        return None
    dims = _core._trace_dynamic_dims(self)
    if dims is None or (dims is not False and not any(dims)):
        return None
    return dims


def _varies(x):
    """Whether a polymorphic trace runs and some size of `x` may vary between its calls."""
    return bool(_POLY[0]) and _dynamic_dims(x) is not None


def _sizes(x):
    """The sizes of tensor `x` as a plain tuple, for tapegrad's own code (no TensorShape): in a
    polymorphic trace, reading sizes that vary makes the trace hold for its own input shapes only
    (See Note [Polymorphic traces])."""
    s = x._shape_tuple
    if _varies(x):
        _core._trace_specialize("tapegrad reads a dimension that follows the input signature's None dimensions")
    return s


def _static_shape(x):
    """The shape TF's graph gives tensor `x`, for tapegrad's own code that handles None dimensions
    (Keras's checks): in a polymorphic trace, None where the size follows the input signature's
    None dimensions (See Note [Polymorphic traces]); otherwise `x.shape`."""
    if _POLY[0] and type(x) is Tensor:
        return _traced_shape(x, 0, True)
    return x.shape if not isinstance(x, (Tensor, _core.Variable)) else TensorShape(x._shape_tuple)


class _TracedShape(TensorShape):
    """The shape tapegrad's own code gets in a polymorphic trace (See Note [Polymorphic traces]):
    its length (the rank) and fixed sizes read freely; reading a size that follows the input
    signature's None dimensions (an item, an iteration, a comparison) gives the traced size and
    makes the trace hold for its own input shapes only. The tuple itself holds None there, so code
    that reads the items directly (numpy) gets TF's None, never a size baked in silently."""

    def __new__(cls, sizes, dynamic, who):
        self = tuple.__new__(cls, (None if d else n for n, d in zip(sizes, dynamic)))
        self._sizes = tuple(sizes)
        self._dynamic = dynamic
        self._who = who
        return self

    def _read(self, key=None):
        d = self._dynamic
        if any(d) if key is None else (any(d[key]) if isinstance(key, slice) else d[key]):
            _core._trace_specialize(f"{self._who} reads a dimension that follows the input signature's None dimensions")
            self._dynamic = (False,) * len(d)  # once is enough

    def __getitem__(self, key):
        self._read(key)
        r = self._sizes[key]
        return TensorShape(r) if isinstance(key, slice) else r

    def __iter__(self):
        self._read()
        return iter(self._sizes)

    def __eq__(self, other):
        self._read()
        return TensorShape.__eq__(TensorShape(self._sizes), other)

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        self._read()
        return hash(self._sizes)

    def __add__(self, other):
        self._read()
        return self._sizes + tuple(other)

    def __radd__(self, other):
        self._read()
        return tuple(other) + self._sizes

    def __contains__(self, x):
        self._read()
        return x in self._sizes

    def __reduce__(self):
        self._read()
        return (TensorShape, (list(self._sizes),))

    def num_elements(self):
        self._read()
        return int(np.prod(self._sizes, dtype=np.int64))

    def is_fully_defined(self):
        return True


def _traced_shape(self, depth, user=None):
    """`shape` in a polymorphic trace (See Note [Polymorphic traces]): user code gets None in the
    dimensions that follow the input signature's None dimensions (TF's static shape); tapegrad's own
    code gets the traced sizes, and the trace then holds for its own input shapes only."""
    s = self._shape_tuple
    dims = _dynamic_dims(self)
    if dims is None:
        return TensorShape(s)
    if user is None:
        internal, name = _caller_is_tapegrad(depth)
        user = not internal
    else:
        name = "tapegrad"
    if dims is False:  # not known which: any read of a dimension may bake a varying size
        return _TracedShape(s, (True,) * len(s), f"{name or 'code'} (a shape not known for other input sizes)")
    if not user:
        return _TracedShape(s, dims, name)
    return TensorShape([None if d else n for d, n in zip(dims, s)])


def _dtype(self):
    return _BY_CODE[self._dtype_code]


def _array(self, dtype=None, copy=None):
    """numpy's conversion, with numpy 2's ``copy``: None or False give a read-only view of the buffer
    (a Variable's view keeps the value it saw: later writes go to a fresh buffer), True a new array;
    a dtype change copies, so with ``copy=False`` it raises ValueError, as numpy's own arrays."""
    if _symbolic_read(self):
        if isinstance(self, _core.Variable):
            raise NotImplementedError("numpy() is only available when eager execution is enabled.")
        raise NotImplementedError(
            f"Cannot convert a symbolic tf.Tensor (shape={_shape(self)}, dtype={_dtype(self).name}) to a numpy "
            "array. This error may indicate that you're trying to pass a Tensor to a NumPy call, which is not "
            "supported."
        )
    a = self._array_view()
    if dtype is not None and np.dtype(dtype) != a.dtype:
        if copy is False:
            raise ValueError(
                f"Unable to avoid copy while creating an array as requested: converting a "
                f"{a.dtype} tensor to {np.dtype(dtype)} needs a copy."
            )
        return a.astype(dtype)
    return a.copy() if copy else a


_DEVICE = "/job:localhost/replica:0/task:0/device:CPU:0"


def _numpy_text(t, is_repr):
    """TF's numpy_text: scalars print as Python values in repr, numpy's str otherwise."""
    try:
        a = t._array_view()
    except TypeError:  # bfloat16 without ml_dtypes: no numpy type, as TF's non-numpy dtypes
        return "<unprintable>"
    if a.ndim == 0:
        v = a[()]
        text = repr(v.item()) if is_repr else str(v)
    else:
        text = repr(a) if is_repr else str(a)
    return "\n" + text if "\n" in text else text


def _symbolic(self):
    """Whether `self` was computed inside the tf.function being traced (See Note [Symbolic reads]):
    printing it shows TF's symbolic form, without reading the value (which would poison the trace
    and make the function's print run on every call)."""
    return _core._tracing() and _core._trace_is_traced(self)


def _tensor_repr(self):
    if _symbolic(self):  # TF: <tf.Tensor 'add:0' shape=(2,) dtype=float32>; tapegrad has no op names
        return f"<tf.Tensor 'traced:0' shape={_traced_shape(self, 0, True)} dtype={_dtype(self).name}>"
    return f"<tf.Tensor: shape={_shape(self)}, dtype={_dtype(self).name}, numpy={_numpy_text(self, True)}>"


def _tensor_str(self):
    if _symbolic(self):  # TF: Tensor("add:0", shape=(2,), dtype=float32)
        return f'Tensor("traced:0", shape={_traced_shape(self, 0, True)}, dtype={_dtype(self).name})'
    return f"tf.Tensor({_numpy_text(self, False)}, shape={_shape(self)}, dtype={_dtype(self).name})"


def _tensor_format(self, format_spec):
    """As TF: the spec applies to the numpy value (a numpy scalar for a 0-d tensor)."""
    if _symbolic(self):
        if format_spec:
            raise TypeError("unsupported format string passed to SymbolicTensor.__format__")
        return _tensor_str(self)
    a = self._array_view()
    return format(a[()] if a.ndim == 0 else a, format_spec)


def _tensor_name(self):
    raise AttributeError("Tensor.name is undefined when eager execution is enabled.")


def _len(self):
    s = self._shape_tuple
    if not s:
        raise TypeError("Scalar tensor has no `len()`")
    if _POLY[0]:
        dims = _dynamic_dims(self)
        if dims is False or (dims is not None and dims[0]):
            internal, name = _caller_is_tapegrad(1)
            if dims is not False and not internal:
                raise TypeError(
                    "len is not well defined for a symbolic Tensor (traced:0). Please call `x.shape` rather "
                    "than `len(x)` for shape information."
                )
            _core._trace_specialize(f"{name or 'code'} takes len() of a tensor whose first dimension may vary")
    return s[0]


# Note [Symbolic reads]
# Inside a tf.function trace, a tensor computed by the function stands for a value that changes
# from call to call. User code that reads it as a Python value (`if t:`, float(t), t.numpy(), ...)
# would bake this call's value into every replay, so it gets TF's graph-mode error, as in TF, unless
# AutoGraph converted the statement. tapegrad's own Python (Keras, losses, tf.debugging, ...) may
# still read values where TF would run a graph op: those reads make the trace fall back to eager
# execution instead (Note [Poisoned traces]), so they cost speed, never a wrong value.
_BOOL_IN_GRAPH = (
    "Using a symbolic `tf.Tensor` as a Python `bool` is not allowed. You can attempt the following "
    "resolutions to the problem: If you are running in Graph mode, use Eager execution mode or decorate "
    "this function with @tf.function. If you are using AutoGraph, you can try decorating this function "
    "with @tf.function. If that does not work, then you may be using an unsupported feature or your "
    "source code may not be visible to AutoGraph. See https://github.com/tensorflow/tensorflow/blob/"
    "master/tensorflow/python/autograph/g3doc/reference/limitations.md#access-to-source-code for more "
    "information."
)


def _symbolic_read(self):
    """Whether this read of `self`'s value is a user's read of a symbolic tensor (See Note [Symbolic
    reads]): a trace is running, `self` was computed in it (or is a Variable), and the code that
    asked is not tapegrad's own."""
    if not _core._tracing():
        return False
    if not (isinstance(self, _core.Variable) or _core._trace_is_traced(self)):
        return False
    try:
        name = sys._getframe(2).f_globals.get("__name__", "")
    except ValueError:  # called with no Python caller (from C): not tapegrad's own code
        name = ""
    return not (name == "tapegrad" or name.startswith("tapegrad."))


def _bool(self):
    if _symbolic_read(self):
        from .errors import OperatorNotAllowedInGraphError

        raise OperatorNotAllowedInGraphError(_BOOL_IN_GRAPH)
    if self.ndim != 0 and int(np.prod(self._shape_tuple)) != 1:
        raise ValueError("The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()")
    return builtins_bool(self._item())


builtins_bool = bool


def _float(self):
    if _symbolic_read(self):
        if isinstance(self, _core.Variable):  # TF's Variable.__float__ goes through numpy()
            raise AttributeError("'SymbolicTensor' object has no attribute 'numpy'")
        raise TypeError("float() argument must be a string or a real number, not 'SymbolicTensor'")
    return float(self._item())


def _int(self):
    if _symbolic_read(self):
        if isinstance(self, _core.Variable):
            raise AttributeError("'SymbolicTensor' object has no attribute 'numpy'")
        raise TypeError("int() argument must be a string, a bytes-like object or a real number, not 'SymbolicTensor'")
    return int(self._item())


def _index(self):
    if _symbolic_read(self):
        kind = "ResourceVariable" if isinstance(self, _core.Variable) else "SymbolicTensor"
        raise TypeError(f"'{kind}' object cannot be interpreted as an integer")
    if not _dtype(self).is_integer:
        raise TypeError(f"only integer scalar tensors can be used as an index, got {_dtype(self).name}")
    return int(self._item())


def _iter(self):
    if not self._shape_tuple:
        raise TypeError("Cannot iterate over a scalar tensor.")
    from . import _ops_shape

    return iter(_ops_shape.unstack(self))


class Reference:
    """A hashable reference to a tensor or Variable, by identity (TF's ``Tensor.ref()``), for sets
    and dict keys; ``deref()`` gives the object back.

    >>> import tapegrad as tg
    >>> x = tg.constant([1.0, 2.0])
    >>> refs = {x.ref(): "x"}
    >>> refs[x.ref()], x.ref().deref() is x, x.ref() == tg.constant([1.0, 2.0]).ref()
    ('x', True, False)
    """

    __slots__ = ("_wrapped",)

    def __init__(self, wrapped):
        self._wrapped = wrapped

    def deref(self):
        """The referenced tensor or Variable."""
        return self._wrapped

    def __eq__(self, other):
        return isinstance(other, Reference) and self._wrapped is other._wrapped

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return id(self._wrapped)

    def __repr__(self):
        return f"<Reference wrapping {self._wrapped!r}>"


def _ref(self):
    """A hashable reference to this tensor (by identity), as TF's ``Tensor.ref()``."""
    return Reference(self)


def _numpy_method(raw):
    def numpy(self):
        """The value as a numpy array (a numpy scalar for a 0-d tensor, as TF)."""
        if _symbolic_read(self):
            if isinstance(self, _core.Variable):
                raise NotImplementedError("numpy() is only available when eager execution is enabled.")
            raise AttributeError("'SymbolicTensor' object has no attribute 'numpy'")
        a = raw(self)
        return a[()] if a.ndim == 0 else a

    return numpy


class Variable(_core.Variable):
    """A mutable tensor: model parameters and optimizer state.

    Trainable variables read inside a GradientTape are watched automatically.

    >>> import tapegrad as tg
    >>> v = tg.Variable(1.0)
    >>> _ = v.assign_add(2.0)
    >>> float(v)
    3.0
    """

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool = True,
        name: Optional[str] = None,
        dtype: Any = None,
        shape: Any = None,
        **kwargs: Any,
    ) -> None:
        if initial_value is None:
            raise ValueError("The initial value must be specified.")
        if callable(initial_value):  # in a traced tf.function: once, outside the trace (TF's init_scope)
            initial_value = _core._trace_call_paused(initial_value) if _core._tracing() else initial_value()
        tracing = _core._tracing()
        from ._ops import convert_to_tensor

        value = convert_to_tensor(initial_value) if dtype is None else _convert_with_dtype(initial_value, dtype)
        if shape is not None and tuple(shape) != tuple(value.shape):
            raise ValueError(
                f"Shape {tuple(value.shape)} of the initial value is not compatible with shape {tuple(shape)}"
            )
        _core.Variable.__init__(self, value, name if name is not None else "Variable", bool(trainable))
        if tracing:
            _trace_state.created.append(weakref.ref(self))

    def assign(
        self, value: Any, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True
    ) -> "Variable":
        """Replaces the value (same shape; Python values take the variable's dtype)."""
        shape = _value_shape(value)
        if shape is not None and shape != tuple(self._shape_tuple):
            raise ValueError(
                f"Cannot assign value to variable ' {self.name}': Shape mismatch.The variable shape "
                f"{tuple(self._shape_tuple)}, and the assigned value shape {shape} are incompatible."
            )
        self._assign(value)
        return self

    def assign_add(
        self, delta: Any, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True
    ) -> "Variable":
        """Adds `delta` to the value in place."""
        self._assign_add(delta)
        return self

    def assign_sub(
        self, delta: Any, use_locking: bool = False, name: Optional[str] = None, read_value: bool = True
    ) -> "Variable":
        """Subtracts `delta` from the value in place."""
        self._assign_sub(delta)
        return self

    @property
    def name(self) -> str:
        """TF's name: the name given (or 'Variable') followed by ':0'."""
        return self._shared_name + ":0"

    @property
    def path(self) -> str:
        """The name given (Keras's ``Variable.path``), without TF's ':0'."""
        return self._shared_name

    def __repr__(self):
        return (
            f"<tf.Variable '{self.name}' shape={_shape(self)} dtype={_dtype(self).name}, "
            f"numpy={_numpy_text(self, True)}>"
        )

    def _as_tapegrad_tensor(self):
        return self.value()


def _value_shape(value):
    """The shape `value` would convert to, without converting it (None when unknown)."""
    if isinstance(value, (_core.Tensor, _core.Variable)):
        return tuple(value._shape_tuple)
    if isinstance(value, (np.ndarray, np.generic, list, tuple, int, float, bool)):
        try:
            return np.shape(value)
        except ValueError:  # ragged lists: the conversion reports them
            return None
    return None


def _convert_with_dtype(value, dtype):
    from ._ops import cast, convert_to_tensor

    if isinstance(value, (Tensor, _core.Variable)):  # TF never casts a tensor's value here
        t = convert_to_tensor(value)
        if t.dtype != as_dtype(dtype):
            raise ValueError(
                f"initial_value: Tensor conversion requested dtype {as_dtype(dtype).name} for Tensor "
                f"with dtype {t.dtype.name}: {value!r}"
            )
        return t
    t = convert_to_tensor(value) if isinstance(value, np.ndarray) else None
    if t is not None:
        return t if t.dtype == as_dtype(dtype) else cast(t, dtype)
    return _core.convert_to_tensor(value, code_of(dtype))


class StateVariable(Variable):
    """State that Keras objects create (optimizer slots, metric totals): a Variable whose ``name``
    is the bare name ("iteration"), as ``keras.Variable.name``, where ``tf.Variable.name`` has ':0'.

    >>> import tapegrad as tg
    >>> from tapegrad._tensor import StateVariable
    >>> StateVariable(0, name="iteration").name, tg.Variable(0, name="iteration").name
    ('iteration', 'iteration:0')
    """

    @property
    def name(self):
        return self._shared_name


_attached = False


def _attach_methods():
    """Attaches every Python method and operator of Tensor and Variable; ``tapegrad/__init__.py``
    calls it once. The engine's classes define the arithmetic operators (``+``, ``@``, ``==``, ...);
    everything written in Python is attached here, and nowhere else: TF's properties (``shape``,
    ``dtype``, ``device``, ``name``), numpy interop, Python conversions, repr/str/format, indexing
    (``t[1:, None]``, ``v[0].assign(...)``) and Variable's ``scatter_nd_*`` methods.
    """
    global _attached
    if _attached:  # a second call would wrap `numpy` twice
        return
    _attached = True
    from ._ops_shape import _scatter_method, _tensor_getitem, _variable_getitem

    for cls in (_core.Tensor, _core.Variable):
        cls.numpy = _numpy_method(cls.numpy)
        cls.shape = property(_shape, doc="The shape, a TensorShape.")
        cls.dtype = property(_dtype, doc="The element type, a DType.")
        cls.get_shape = _shape  # the same frame depth as the property's getter
        cls.__array__ = _array
        cls.__array_priority__ = 100  # numpy defers `ndarray op Tensor` to the Tensor's reflected op
        cls.__len__ = _len
        cls.__bool__ = _bool
        cls.__float__ = _float
        cls.__int__ = _int
        cls.__index__ = _index
        cls.__iter__ = _iter
        cls.device = property(lambda self: _DEVICE, doc="The device holding the value; always the host CPU.")
        cls.ref = _ref
        cls.experimental_ref = _ref

    Tensor.__repr__ = _tensor_repr
    Tensor.__str__ = _tensor_str
    Tensor.__format__ = _tensor_format
    Tensor.name = property(_tensor_name, doc="Undefined in eager mode: raises AttributeError, as TF.")
    Tensor.__getitem__ = _tensor_getitem

    _core.Variable.name = Variable.name
    _core.Variable.path = Variable.path
    _core.Variable.__getitem__ = _variable_getitem
    for kind in ("update", "add", "sub"):
        setattr(_core.Variable, f"scatter_nd_{kind}", _scatter_method(kind))
