"""``keras.ops`` core functions and the dtype rules shared by the other ``keras.ops`` modules.

Keras 3's ops promote dtypes as Keras does (``keras/src/backend/common/dtypes.py``), not as TF:
``ops.add(int32, float32)`` is float32, a Python scalar is "weak" (``ops.add(int32, 1)`` stays
int32, ``ops.add(int32, 1.5)`` is float32), Python lists become int32 / float32 tensors, and
reductions that average (mean, var, std) of integers give float32.
"""

import builtins as _builtins

import numpy as _np

from ..._dtypes import as_dtype as _as_dtype
from ..._tensor import Tensor as _Tensor
from ..._tensor import Variable as _Variable
from ...function import cond as _tf_cond
from ...function import while_loop as _tf_while_loop

__all__ = [
    "cast",
    "convert_to_tensor",
    "convert_to_numpy",
    "is_tensor",
    "shape",
    "dtype",
    "stop_gradient",
    "cond",
    "while_loop",
    "fori_loop",
    "map",
    "scan",
    "slice",
    "slice_update",
    "scatter",
    "scatter_update",
    "unstack",
    "vectorized_map",
    "custom_gradient",
    "switch",
    "result_type",
]


class _Namespace:
    """tapegrad's public ops, looked up when first used (``tapegrad`` is still importing when
    ``keras.ops`` is)."""

    def __getattr__(self, name):
        import tapegrad

        fn = getattr(tapegrad, name, None) or getattr(tapegrad.math, name)
        setattr(self, name, fn)
        return fn


_ops = _Namespace()

_FLOAT_RANK = {"float16": 1, "bfloat16": 1, "float32": 2, "float64": 3}
_INT_RANK = {"uint8": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 3, "uint32": 4, "int64": 4}


def _dtype_name(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "int"):
        return {"float": "float32", "int": "int32"}[dtype]
    return _as_dtype(dtype).name


def _is_tensor(x):
    return isinstance(x, (_Tensor, _Variable))


def _strong_dtype(x):
    """The dtype name of a tensor-like that carries one (tensor, variable, numpy array/scalar)."""
    if isinstance(x, (_Tensor, _Variable, _np.ndarray, _np.generic)):
        return x.dtype.name
    return None


def _weak_kind(x):
    if isinstance(x, _builtins.bool):
        return "bool"
    if isinstance(x, int):
        return "int"
    if isinstance(x, float):
        return "float"
    return None


def result_type(*xs):
    """Keras's result dtype for arguments that mix tensors and Python scalars."""
    first = xs[0] if xs else None
    if isinstance(first, _Tensor) and all(type(x) is _Tensor and x.dtype is first.dtype for x in xs):
        return first.dtype.name  # the common case: tensors of one dtype
    if len(xs) == 2:  # the next most common: a tensor and a Python number
        a, b = xs
        if type(a) is _Tensor and type(b) in (int, float):
            return _with_scalar(a.dtype.name, b)
        if type(b) is _Tensor and type(a) in (int, float):
            return _with_scalar(b.dtype.name, a)
    strong = [d for d in (_strong_dtype(x) for x in xs) if d is not None]
    weak = [k for k in (_weak_kind(x) for x in xs) if k is not None]
    lists = [x for x in xs if isinstance(x, (list, tuple))]
    for x in lists:
        strong.append(_default_dtype_of(x))
    if not strong:
        if "float" in weak:
            return "float32"
        if "int" in weak:
            return "int32"
        return "bool" if weak else "float32"
    floats = [d for d in strong if d in _FLOAT_RANK]
    ints = [d for d in strong if d in _INT_RANK]
    if floats:
        if "float16" in floats and "bfloat16" in floats and max(_FLOAT_RANK[f] for f in floats) == 1:
            return "float32"  # as Keras: the two 16-bit floats meet at float32
        return max(floats, key=_FLOAT_RANK.get)
    if ints:
        if "float" in weak:
            return "float32"
        return max(ints, key=_INT_RANK.get)
    # only bools
    if "float" in weak:
        return "float32"
    if "int" in weak:
        return "int32"
    return "bool"


def _with_scalar(dtype, value):
    if dtype in _FLOAT_RANK:
        return dtype
    if type(value) is float:
        return "float32"
    return dtype if dtype in _INT_RANK else "int32"


def _default_dtype_of(x):
    arr = _np.asarray(x)
    if arr.dtype.kind == "f":
        return "float32"
    if arr.dtype.kind in "iu":
        return "int32"
    if arr.dtype.kind == "b":
        return "bool"
    return arr.dtype.name


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A tensor from ``x``: Python lists of floats become float32, of ints int32; numpy arrays and
    tensors keep their dtype unless ``dtype`` is given.

    >>> import tapegrad as tg
    >>> tg.keras.ops.convert_to_tensor([1, 2]).dtype
    tf.int32
    """
    if sparse or ragged:
        raise NotImplementedError(
            "keras.ops.convert_to_tensor: sparse and ragged tensors are not supported by tapegrad."
        )
    dtype = _dtype_name(dtype)
    if _is_tensor(x):
        t = _ops.convert_to_tensor(x)
        return t if dtype is None or t.dtype.name == dtype else _ops.cast(t, dtype)
    if dtype is not None and (type(x) is int or (type(x) is float and dtype in _FLOAT_RANK)):
        return _ops.constant(x, dtype=dtype)
    if dtype is None:
        if isinstance(x, (_np.ndarray, _np.generic)):
            dtype = _np.dtype(x.dtype).name
        else:
            dtype = _default_dtype_of(x)
    if isinstance(x, (list, tuple)) and any(_is_tensor(e) for e in _flat(x)):
        return _ops.cast(_ops.stack([convert_to_tensor(e) for e in x]), dtype)
    return _ops.constant(_np.asarray(x).astype(dtype) if dtype != "bool" else _np.asarray(x, dtype=bool))


_convert_to_tensor = convert_to_tensor  # the function itself: `keras.ops` wraps the public name


def _flat(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def _t(x, dtype=None):
    """Tensor of ``x`` in ``dtype`` (default: its own Keras dtype)."""
    if type(x) is _Tensor and (dtype is None or x.dtype.name == dtype):
        return x
    return _convert_to_tensor(x, dtype=dtype)


def _promote(*xs):
    if len(xs) == 2 and type(xs[0]) is _Tensor and type(xs[1]) is _Tensor and xs[0].dtype is xs[1].dtype:
        return list(xs)  # nothing to convert (the common case, kept cheap)
    dtype = result_type(*xs)
    return [_t(x, dtype) for x in xs]


def _float_t(x):
    """``x`` as a tensor, integers and bools cast to float32 (Keras's rule for exp, log, mean ...)."""
    t = _t(x)
    if t.dtype.name not in _FLOAT_RANK:
        t = _ops.cast(t, "float32")
    return t


def cast(x, dtype):
    """``x`` cast to ``dtype``.

    >>> import tapegrad as tg
    >>> tg.keras.ops.cast([1.7, -2.2], "int32").numpy()
    array([ 1, -2], dtype=int32)
    """
    return _ops.cast(_t(x), _dtype_name(dtype))


def convert_to_numpy(x):
    """``x`` as a numpy array."""
    if _is_tensor(x):
        return _ops.convert_to_tensor(x).numpy()
    return _np.asarray(x)


def is_tensor(x):
    """True for tapegrad tensors and variables (not numpy arrays)."""
    return _is_tensor(x)


def shape(x):
    """The static shape of ``x`` as a tuple of ints (``None`` for an unknown dimension)."""
    if getattr(x, "_is_keras_tensor", False):
        return tuple(x.shape)
    if _is_tensor(x):
        return tuple(_ops.convert_to_tensor(x).shape.as_list())
    return tuple(_np.shape(x))


def dtype(x):
    """The Keras dtype name of ``x`` (a string such as ``"float32"``)."""
    if getattr(x, "_is_keras_tensor", False):
        return _as_dtype(x.dtype).name
    return _t(x).dtype.name


def stop_gradient(variable):
    """``variable`` with its gradient cut."""
    return _ops.stop_gradient(_t(variable))


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (``tf.cond``)."""
    return _tf_cond(pred, true_fn, false_fn)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Runs ``body`` while ``cond`` holds; ``loop_vars`` a tuple/list (or a single value)."""
    single = not isinstance(loop_vars, (list, tuple))
    lv = (loop_vars,) if single else tuple(loop_vars)
    if single:
        out = _tf_while_loop(lambda v: cond(v), lambda v: (body(v),), lv, maximum_iterations=maximum_iterations)
        return out[0] if isinstance(out, (list, tuple)) else out
    out = _tf_while_loop(lambda *v: cond(*v), lambda *v: tuple(body(*v)), lv, maximum_iterations=maximum_iterations)
    return type(loop_vars)(out) if isinstance(loop_vars, list) else tuple(out)


def fori_loop(lower, upper, body_fun, init_val):
    """``init_val`` after ``body_fun(i, val)`` for ``i`` in ``range(lower, upper)``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def _map_structure(fn, *structs):
    from ... import nest

    flats = [nest.flatten(s) for s in structs]
    return nest.pack_sequence_as(structs[0], [fn(*xs) for xs in zip(*flats)])


def map(f, xs):
    """``stack([f(x) for x in xs])`` along the first axis (nested outputs stacked leaf by leaf)."""
    from ... import nest

    xs_t = _t(xs) if not isinstance(xs, (list, tuple, dict)) else xs
    n = shape(nest.flatten(xs_t)[0])[0]
    outs = [f(_map_structure(lambda a, i=i: a[i], xs_t)) for i in range(n)]
    return _map_structure(lambda *a: _ops.stack(list(a)), *outs)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Keras's ``scan``: ``carry, y = f(carry, x)`` over the leading axis; returns ``(carry, stack(ys))``."""
    from ... import nest

    if xs is None:
        n = length
        items = [None] * n
    else:
        n = shape(nest.flatten(xs)[0])[0]
        items = [_map_structure(lambda a, i=i: a[i], xs) for i in range(n)]
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, [None] * n
    for i in order:
        carry, ys[i] = f(carry, items[i])
    if n == 0 or ys[0] is None:
        return carry, None
    return carry, _map_structure(lambda *a: _ops.stack([_t(v) for v in a]), *ys)


def slice(inputs, start_indices, shape):
    """``inputs[start:start+shape]`` on every axis (``tf.slice``)."""
    return _ops.slice(_t(inputs), [int(s) for s in _ints(start_indices)], [int(s) for s in _ints(shape)])


def _ints(v):
    if _is_tensor(v):
        return [int(i) for i in _ops.convert_to_tensor(v).numpy().reshape(-1)]
    return list(v)


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``."""
    x = _t(inputs)
    u = _t(updates, x.dtype.name)
    starts = _ints(start_indices)
    idx = (
        _np.stack(
            _np.meshgrid(*[_np.arange(s, s + n) for s, n in zip(starts, u.shape.as_list())], indexing="ij"), axis=-1
        )
        .astype("int32")
        .reshape(-1, len(starts))
    )
    return _ops.tensor_scatter_nd_update(x, _ops.constant(idx), _ops.reshape(u, [-1]))


def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (``tf.scatter_nd``)."""
    return _ops.scatter_nd(_t(indices, "int32") if not _is_tensor(indices) else indices, _t(values), list(shape))


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written at ``indices`` (``reduction="add"`` adds them instead)."""
    x = _t(inputs)
    idx, upd = _t(indices, "int32"), _t(updates, x.dtype.name)
    if reduction is None:
        return _ops.tensor_scatter_nd_update(x, idx, upd)
    if reduction == "add":
        return _ops.tensor_scatter_nd_add(x, idx, upd)
    raise NotImplementedError(
        f"keras.ops.scatter_update(reduction={reduction!r}) is not supported by tapegrad yet (None and 'add' are)."
    )


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis`` as a list."""
    return list(_ops.unstack(_t(x), num=num, axis=axis))


def vectorized_map(function, elements):
    """``function`` applied to each slice of ``elements`` along the first axis, stacked."""
    return map(function, elements)


def switch(index, branches, *operands):
    """``branches[index](*operands)`` (index clamped into range, as Keras)."""
    i = int(_t(index).numpy()) if _is_tensor(index) else int(index)
    i = _builtins.max(0, _builtins.min(i, len(branches) - 1))
    return branches[i](*operands)


def custom_gradient(f):
    """Keras's ``custom_gradient``: ``f`` returns ``(output, grad_fn)``; ``grad_fn(*args, upstream=...)``
    (or ``grad_fn(upstream)``) returns the input gradients."""
    import inspect

    from ... import custom_gradient as _cg

    @_cg
    def wrapped(*args):
        out, grad_fn = f(*args)
        params = inspect.signature(grad_fn).parameters

        def grad(*upstream):
            up = upstream[0] if len(upstream) == 1 else upstream
            if "upstream" in params:
                return grad_fn(upstream=up)
            return grad_fn(up)

        return out, grad

    return wrapped
