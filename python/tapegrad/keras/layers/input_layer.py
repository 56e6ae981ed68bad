"""Symbolic inputs of the functional API: ``KerasTensor``, ``Input`` and ``InputLayer`` (Keras 3).

A ``KerasTensor`` is a shape and a dtype with no value; calling a layer on one records a node of
the graph (``keras/models/functional.py``) and returns new KerasTensors. Arithmetic and slicing on
KerasTensors (``x + y``, ``x * 2``, ``x @ w``, ``x[:, 0]``) record an operation node as Keras's
``keras.ops`` do.

>>> import tapegrad as tg
>>> x = tg.keras.Input(shape=(4,), name="x")
>>> x.shape, x.dtype, x.name
((None, 4), 'float32', 'x')
>>> (x[:, 1:3] * 2).shape
(None, 2)
"""

import warnings

import numpy as np

from ..._dtypes import as_dtype
from .base import Layer, unique_name

__all__ = ["Input", "InputLayer", "KerasTensor"]


def standardize_shape(shape):
    """A shape as a tuple of ints and ``None``s (Keras's ``standardize_shape``)."""
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if not hasattr(shape, "__iter__"):
        raise ValueError(f"Cannot convert '{shape}' to a shape.")
    out = []
    for d in shape:
        if d is None:
            out.append(None)
            continue
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise ValueError(
                f"Cannot convert '{tuple(shape)}' to a shape. Found invalid entry '{d}' of type '{type(d)}'. "
            )
        if d < 0:
            raise ValueError(f"Cannot convert '{tuple(shape)}' to a shape. Negative dimensions are not allowed.")
        out.append(int(d))
    return tuple(out)


class KerasTensor:
    """A symbolic tensor: ``shape`` (``None`` for unknown dims), ``dtype`` (a name) and ``name``.

    ``_keras_history`` is ``(operation, node_index, tensor_index)``: the layer call that made it.
    """

    _is_keras_tensor = True
    __array_ufunc__ = None  # numpy defers `ndarray @ KerasTensor` to the reflected operator
    __array_priority__ = 200

    def __init__(self, shape, dtype="float32", sparse=False, ragged=False, record_history=True, name=None):
        self._shape = standardize_shape(shape)
        self._dtype = as_dtype(dtype if dtype is not None else "float32").name
        self.sparse = bool(sparse)
        self.ragged = bool(ragged)
        self.record_history = record_history
        self.name = name if name is not None else unique_name("keras_tensor")

    @property
    def shape(self):
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self):
        return len(self._shape)

    def __repr__(self):
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
            f"ragged={self.ragged}, name={self.name}>"
        )

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean.")

    def __array__(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It doesn't have any "
            "actual numerical value. You cannot convert it to a NumPy array."
        )

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def _as_tapegrad_tensor(self):
        # what a tf.* op sees when it is given a KerasTensor (Keras's __tf_tensor__)
        raise ValueError(
            "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a symbolic placeholder "
            "for a shape and dtype, used when constructing Keras Functional models or Keras Functions. You can only "
            "use it as input to a Keras layer or a Keras operation (from the namespaces `keras.layers` and "
            "`keras.ops`). You are likely doing something like:\n\n```\nx = Input(...)\n...\ntf_fn(x)  # Invalid.\n"
            "```\n\nWhat you should do instead is wrap `tf_fn` in a layer:\n\n```\nclass MyLayer(Layer):\n"
            "    def call(self, x):\n        return tf_fn(x)\n\nx = MyLayer()(x)\n```\n"
        )

    # ---- operators: each records an operation node ----------------------------------------------

    def __add__(self, other):
        return _binary("Add", self, other)

    def __radd__(self, other):
        return _binary("Add", other, self)

    def __sub__(self, other):
        return _binary("Subtract", self, other)

    def __rsub__(self, other):
        return _binary("Subtract", other, self)

    def __mul__(self, other):
        return _binary("Multiply", self, other)

    def __rmul__(self, other):
        return _binary("Multiply", other, self)

    def __truediv__(self, other):
        return _binary("TrueDivide", self, other)

    def __rtruediv__(self, other):
        return _binary("TrueDivide", other, self)

    def __pow__(self, other):
        return _binary("Power", self, other)

    def __rpow__(self, other):
        return _binary("Power", other, self)

    def __matmul__(self, other):
        return _binary("Matmul", self, other)

    def __rmatmul__(self, other):
        return _binary("Matmul", other, self)

    def __neg__(self):
        return _op("Negative", self)

    def __abs__(self):
        return _op("Absolute", self)

    def __floordiv__(self, other):
        return _binary("FloorDivide", self, other)

    def __rfloordiv__(self, other):
        return _binary("FloorDivide", other, self)

    def __mod__(self, other):
        return _binary("Mod", self, other)

    def __rmod__(self, other):
        return _binary("Mod", other, self)

    def __lt__(self, other):
        return _binary("Less", self, other)

    def __le__(self, other):
        return _binary("LessEqual", self, other)

    def __gt__(self, other):
        return _binary("Greater", self, other)

    def __ge__(self, other):
        return _binary("GreaterEqual", self, other)

    def __ne__(self, other):
        return _binary("NotEqual", self, other)

    __hash__ = object.__hash__  # KerasTensors stay usable as dict keys, as in Keras

    def __and__(self, other):
        return _binary("LogicalAnd", self, other)

    def __rand__(self, other):
        return _binary("LogicalAnd", other, self)

    def __or__(self, other):
        return _binary("LogicalOr", self, other)

    def __ror__(self, other):
        return _binary("LogicalOr", other, self)

    def __xor__(self, other):
        return _binary("LogicalXor", self, other)

    def __rxor__(self, other):
        return _binary("LogicalXor", other, self)

    def __invert__(self):
        return _op("LogicalNot", self)

    def __round__(self, ndigits=None):
        if ndigits:
            raise NotImplementedError("round(KerasTensor, ndigits) is not supported by tapegrad yet.")
        return _op("Round", self)

    def __getitem__(self, key):
        return _op("GetItem", self, key)


def _tg(name):
    """The tapegrad function `name` ("less", "math.logical_xor"), looked up when the op runs."""

    def fn(*args):
        import tapegrad  # noqa: PLC0415

        obj = tapegrad
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj(*args)

    return fn


def _matmul(a, b):
    from ... import matmul  # noqa: PLC0415

    return matmul(a, b)


_OP_FUNCTIONS = {
    "Add": lambda a, b: a + b,
    "Subtract": lambda a, b: a - b,
    "Multiply": lambda a, b: a * b,
    "TrueDivide": lambda a, b: a / b,
    "Power": lambda a, b: a**b,
    "Matmul": _matmul,
    "Negative": lambda a: -a,
    "Absolute": abs,
    "FloorDivide": _tg("floordiv"),
    "Mod": _tg("floormod"),
    "Less": _tg("less"),
    "LessEqual": _tg("less_equal"),
    "Greater": _tg("greater"),
    "GreaterEqual": _tg("greater_equal"),
    "NotEqual": _tg("not_equal"),
    "LogicalAnd": _tg("logical_and"),
    "LogicalOr": _tg("logical_or"),
    "LogicalXor": _tg("math.logical_xor"),
    "LogicalNot": _tg("logical_not"),
    "Round": _tg("round"),
    "GetItem": lambda a, key: a[key],
}


class _Operation(Layer):
    """A ``keras.ops`` call recorded in a functional graph (``add``, ``get_item``, ...): no weights,
    listed among the model's operations (and in ``summary()``) but not in ``model.layers``. Its
    constant operands (``2`` in ``x * 2``, the key of ``x[:, 0]``) are arguments of its node, as in Keras."""

    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.built = True

    def __call__(self, *args, **kwargs):
        from ... import nest  # noqa: PLC0415

        if any(getattr(a, "_is_keras_tensor", False) for a in nest.flatten((args, kwargs))):
            from ..models.functional import symbolic_call  # noqa: PLC0415

            return symbolic_call(self, args, kwargs)
        return _OP_FUNCTIONS[type(self).__name__](*args, **kwargs)

    def call(self, *args, **kwargs):
        return _OP_FUNCTIONS[type(self).__name__](*args, **kwargs)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(name=config.get("name"))


_OP_CLASSES: dict = {}


def _op_class(cls_name):
    """The operation class `cls_name` ("Add", "GetItem", ...), made once."""
    cls = _OP_CLASSES.get(cls_name)
    if cls is None:
        if cls_name not in _OP_FUNCTIONS:
            raise KeyError(cls_name)
        cls = _OP_CLASSES[cls_name] = type(cls_name, (_Operation,), {"__module__": __name__})
    return cls


def _operation(cls_name):
    from .base import to_snake_case  # noqa: PLC0415

    return _op_class(cls_name)(name=unique_name(to_snake_case(cls_name)))


def _binary(cls_name, a, b):
    return _op(cls_name, a, b)


def _op(cls_name, *args):
    from ..models.functional import operation_call  # noqa: PLC0415

    return operation_call(cls_name, args)


class InputLayer(Layer):
    """The layer behind ``Input``: it owns the symbolic input tensor of a functional model.

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.InputLayer(shape=(3,), name="features")
    >>> layer.batch_shape, layer.output.name
    ((None, 3), 'features')
    """

    def __init__(
        self,
        shape=None,
        batch_size=None,
        dtype=None,
        sparse=None,
        ragged=None,
        batch_shape=None,
        input_tensor=None,
        optional=False,
        name=None,
        **kwargs,
    ):
        super().__init__(name=name)
        if "input_shape" in kwargs:
            warnings.warn("Argument `input_shape` is deprecated. Use `shape` instead.", stacklevel=2)
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to InputLayer: {kwargs}")
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(
                    "Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                    f"input_tensor={input_tensor} (of type {type(input_tensor)})"
                )
            if batch_size is not None and (len(input_tensor.shape) < 1 or input_tensor.shape[0] != batch_size):
                raise ValueError(
                    "When providing the `input_tensor` argument, you cannot provide an incompatible "
                    "`batch_size` argument."
                )
            if shape is not None and tuple(shape) != input_tensor.shape[1:]:
                raise ValueError(
                    "When providing the `input_tensor` argument, you cannot provide an incompatible `shape` argument."
                )
            if batch_shape is not None and tuple(batch_shape) != input_tensor.shape:
                raise ValueError(
                    "When providing the `input_tensor` argument, you cannot provide an incompatible "
                    "`batch_shape` argument."
                )
            if dtype is not None and as_dtype(dtype).name != input_tensor.dtype:
                raise ValueError(
                    "When providing the `input_tensor` argument, you cannot provide an incompatible `dtype` argument."
                )
            batch_shape = input_tensor.shape
            dtype = input_tensor.dtype
            sparse = input_tensor.sparse
        else:
            if shape is not None and batch_shape is not None:
                raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time.")
            if batch_size is not None and batch_shape is not None:
                raise ValueError("You cannot pass both `batch_size` and `batch_shape` at the same time.")
            if shape is None and batch_shape is None:
                raise ValueError("You must pass a `shape` argument.")
            if shape is not None:
                batch_shape = (batch_size,) + standardize_shape(shape)
        if sparse:
            raise NotImplementedError("`sparse=True` inputs are not supported by tapegrad yet.")
        if ragged:
            raise ValueError("`ragged=True` is not supported with the tensorflow backend")  # noqa: EM101
        self._batch_shape = standardize_shape(batch_shape)
        self._dtype = as_dtype(dtype if dtype is not None else "float32")
        self.sparse = False
        self.ragged = False
        if input_tensor is None:
            input_tensor = KerasTensor(shape=self._batch_shape, dtype=self._dtype, name=name)
        self._input_tensor = input_tensor
        from ..models.functional import Node  # noqa: PLC0415

        Node(operation=self, call_args=(), call_kwargs={}, outputs=input_tensor)
        self.built = True
        self.optional = optional

    def call(self):
        return None

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self):
        return self._dtype.name

    def get_config(self):
        return {
            "batch_shape": self.batch_shape,
            "dtype": self.dtype,
            "sparse": self.sparse,
            "ragged": self.ragged,
            "name": self.name,
            "optional": self.optional,
        }


def Input(
    shape=None,
    batch_size=None,
    dtype=None,
    sparse=None,
    batch_shape=None,
    name=None,
    tensor=None,  # noqa: N802
    optional=False,
    ragged=None,
):
    """A symbolic input (``tf.keras.Input``): a KerasTensor made by a new ``InputLayer``.

    >>> import tapegrad as tg
    >>> tg.keras.Input(shape=(3,), batch_size=8).shape
    (8, 3)
    """
    layer = InputLayer(
        shape=shape,
        batch_size=batch_size,
        dtype=dtype,
        sparse=sparse,
        ragged=ragged,
        batch_shape=batch_shape,
        name=name,
        input_tensor=tensor,
        optional=optional,
    )
    return layer.output
