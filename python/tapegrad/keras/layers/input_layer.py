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
            raise ValueError(f"Cannot convert '{tuple(shape)}' to a shape. Found invalid entry '{d}' of type "
                             f"'{type(d)}'. ")
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
        return (f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
                f"ragged={self.ragged}, name={self.name}>")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a boolean.")

    def __array__(self, *args, **kwargs):
        raise ValueError("A KerasTensor is symbolic: it's a placeholder for a shape an a dtype. It doesn't have any "
                         "actual numerical value. You cannot convert it to a NumPy array.")

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    # ---- operators: each records an operation node ----------------------------------------------

    def __add__(self, other):
        return _binary("Add", lambda a, b: a + b, self, other)

    def __radd__(self, other):
        return _binary("Add", lambda a, b: a + b, other, self)

    def __sub__(self, other):
        return _binary("Subtract", lambda a, b: a - b, self, other)

    def __rsub__(self, other):
        return _binary("Subtract", lambda a, b: a - b, other, self)

    def __mul__(self, other):
        return _binary("Multiply", lambda a, b: a * b, self, other)

    def __rmul__(self, other):
        return _binary("Multiply", lambda a, b: a * b, other, self)

    def __truediv__(self, other):
        return _binary("TrueDivide", lambda a, b: a / b, self, other)

    def __rtruediv__(self, other):
        return _binary("TrueDivide", lambda a, b: a / b, other, self)

    def __pow__(self, other):
        return _binary("Power", lambda a, b: a ** b, self, other)

    def __rpow__(self, other):
        return _binary("Power", lambda a, b: a ** b, other, self)

    def __matmul__(self, other):
        return _binary("Matmul", _matmul, self, other)

    def __rmatmul__(self, other):
        return _binary("Matmul", _matmul, other, self)

    def __neg__(self):
        return _operation("Negative", lambda a: -a)(self)

    def __abs__(self):
        return _operation("Absolute", lambda a: abs(a))(self)

    def __getitem__(self, key):
        return _operation("GetItem", lambda a: a[key])(self)


def _matmul(a, b):
    from ... import matmul  # noqa: PLC0415
    return matmul(a, b)


class _Operation(Layer):
    """A ``keras.ops`` call recorded in a functional graph (``add``, ``get_item``, ...): no weights,
    listed among the model's operations (and in ``summary()``) but not in ``model.layers``."""

    def __init__(self, fn, name=None):
        super().__init__(name=name)
        self._fn = fn
        self.built = True

    def __call__(self, *args, **kwargs):
        if any(getattr(a, "_is_keras_tensor", False) for a in args):
            from ..models.functional import symbolic_call  # noqa: PLC0415
            return symbolic_call(self, args, kwargs)
        return self._fn(*args)

    def call(self, *args):
        return self._fn(*args)

    def get_config(self):
        raise NotImplementedError(f"Operation '{self.name}' ({type(self).__name__}) on KerasTensors cannot be "
                                  "serialized by tapegrad yet: use a layer instead.")


_OP_CLASSES = {}


def _operation(cls_name, fn):
    cls = _OP_CLASSES.get(cls_name)
    if cls is None:
        cls = _OP_CLASSES[cls_name] = type(cls_name, (_Operation,), {"__module__": __name__})
    from .base import to_snake_case  # noqa: PLC0415
    return cls(fn, name=unique_name(to_snake_case(cls_name)))


def _binary(cls_name, fn, a, b):
    a_sym = getattr(a, "_is_keras_tensor", False)
    b_sym = getattr(b, "_is_keras_tensor", False)
    if a_sym and b_sym:
        return _operation(cls_name, fn)(a, b)
    if a_sym:
        return _operation(cls_name, lambda x: fn(x, b))(a)
    return _operation(cls_name, lambda y: fn(a, y))(b)


class InputLayer(Layer):
    """The layer behind ``Input``: it owns the symbolic input tensor of a functional model.

    >>> import tapegrad as tg
    >>> layer = tg.keras.layers.InputLayer(shape=(3,), name="features")
    >>> layer.batch_shape, layer.output.name
    ((None, 3), 'features')
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, **kwargs):
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
                raise ValueError("Argument `input_tensor` must be a KerasTensor. Received invalid type: "
                                 f"input_tensor={input_tensor} (of type {type(input_tensor)})")
            if batch_size is not None and (len(input_tensor.shape) < 1 or input_tensor.shape[0] != batch_size):
                raise ValueError("When providing the `input_tensor` argument, you cannot provide an incompatible "
                                 "`batch_size` argument.")
            if shape is not None and tuple(shape) != input_tensor.shape[1:]:
                raise ValueError("When providing the `input_tensor` argument, you cannot provide an incompatible "
                                 "`shape` argument.")
            if batch_shape is not None and tuple(batch_shape) != input_tensor.shape:
                raise ValueError("When providing the `input_tensor` argument, you cannot provide an incompatible "
                                 "`batch_shape` argument.")
            if dtype is not None and as_dtype(dtype).name != input_tensor.dtype:
                raise ValueError("When providing the `input_tensor` argument, you cannot provide an incompatible "
                                 "`dtype` argument.")
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
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse, "ragged": self.ragged,
                "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,  # noqa: N802
          optional=False, ragged=None):
    """A symbolic input (``tf.keras.Input``): a KerasTensor made by a new ``InputLayer``.

    >>> import tapegrad as tg
    >>> tg.keras.Input(shape=(3,), batch_size=8).shape
    (8, 3)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse, ragged=ragged,
                       batch_shape=batch_shape, name=name, input_tensor=tensor, optional=optional)
    return layer.output
