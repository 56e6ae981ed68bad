"""Shape and indexing ops with TF's names, arguments and errors, and ``Tensor.__getitem__``.

The engine has a few primitives (strided slice and its adjoint, concat, gather and its adjoint,
scatter_update, the 1-argument where); everything here is built from them and the core ops, so
every op is differentiable to any order. The namespaces (tapegrad/__init__.py, math.py) import
their names from here; ``_tensor._attach_methods`` attaches the indexing functions to Tensor and
Variable.
"""

from __future__ import annotations

import builtins
import numbers
from typing import Any

import numpy as np

from . import _core, _tensor
from ._core import InvalidArgumentError
from ._dtypes import as_dtype, float32, int32
from ._ops_math import _attr_t_error
from ._tensor import Tensor, _sizes
from ._typing import AxisLike, DTypeLike, ShapeLike, TensorLike

newaxis = None
_range = builtins.range
_slice = builtins.slice


def _t(x: Any) -> Tensor:
    """A Tensor (Variables are read, Python values converted)."""
    if isinstance(x, Tensor):
        return x
    return _core.convert_to_tensor(x)


def _shape(x):
    """The sizes of `x` for the shape functions below. In a polymorphic trace, a size that varies
    is a scalar int64 tensor (tf.shape's entry): arithmetic on it is recorded, a reshape or
    broadcast to a list holding it reads it at every replay, and reading it as a Python number
    specializes the trace (See Note [Polymorphic traces])."""
    if not isinstance(x, (Tensor, _core.Variable)):
        return tuple(np.shape(x))
    if not _tensor._POLY[0]:  # the common case: no polymorphic trace running
        return tuple(x._shape_tuple)
    dims = _tensor._dynamic_dims(x)
    if dims:  # a tuple: which vary (False: not known, read as sizes)
        s = _core._shape_tensor(x, as_dtype("int64")._code)
        return tuple(s[d] if v else n for d, (n, v) in enumerate(zip(x._shape_tuple, dims)))
    return tuple(_sizes(x))


def _ints(v: Any, what: str = "value") -> list[int]:
    """A list of Python ints from an int, a sequence or an integer tensor."""
    if isinstance(v, (Tensor, _core.Variable, np.ndarray)):
        a = np.asarray(v)
        if a.dtype.kind not in "iu":
            raise TypeError(f"{what} must be an integer tensor, got {a.dtype}")
        return [int(i) for i in a.reshape(-1)]
    if isinstance(v, numbers.Integral):
        return [int(v)]
    if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
        raise TypeError(f"{what} must be an integer or a list of integers, got {v!r}")
    out = []
    for i in v:
        if not isinstance(i, numbers.Integral) or isinstance(i, bool):
            raise TypeError(f"{what} must be a list of integers, got {v!r} (element {i!r} of type {type(i).__name__})")
        out.append(int(i))
    return out


def _int(v: Any, what: str = "value") -> int:
    vals = _ints(v, what)
    if len(vals) != 1:
        raise TypeError(f"{what} must be a scalar integer, got {v!r}")
    return vals[0]


def _axis_slice(x, axis, start, stop, step=1):
    """x[..., start:stop:step, ...] along one (normalised) axis."""
    shape = _shape(x)
    if any(type(d) is Tensor for d in shape):  # sizes vary: resolved at each replay (Note [Polymorphic traces])
        spec = _slice_entry(None, None, None) * len(shape)
        spec[4 * axis : 4 * axis + 4] = _slice_entry(start, stop, step)
        return _core._slice_spec(x, spec)
    st, sp, sd = _slice(start, stop, step).indices(shape[axis])
    n = len(_range(st, sp, sd))
    begin = [0] * len(shape)
    stride = [1] * len(shape)
    size = list(shape)
    begin[axis], stride[axis], size[axis] = (st if n else 0), sd, n
    return _core.strided_slice(x, begin, stride, size)


# ---- reshaping ---------------------------------------------------------------------------------


def expand_dims(input: TensorLike, axis: AxisLike, name: str | None = None) -> Tensor:
    """Inserts a dimension of length 1 at `axis` (in ``[-rank-1, rank]``)."""
    x = _t(input)
    shape = list(_shape(x))
    a = _int(axis, "axis")
    r = len(shape)
    if a < -r - 1 or a > r:
        raise InvalidArgumentError(f"Tried to expand dim index {a} for tensor with {r} dimensions. [Op:ExpandDims]")
    if a < 0:
        a += r + 1
    shape.insert(a, 1)
    return _core.reshape(x, shape)


def squeeze(input: TensorLike, axis: AxisLike = None, name: str | None = None) -> Tensor:
    """Removes dimensions of length 1 (all of them, or those in `axis`)."""
    x = _t(input)
    shape = _shape(x)
    r = len(shape)
    if axis is None:
        return _core.reshape(x, [d for d in shape if d != 1])
    axes = set()
    for a in _ints(axis, "axis"):
        if a < -r or a >= r:
            raise InvalidArgumentError(f"Tried to squeeze dim index {a} for tensor with {r} dimensions. [Op:Squeeze]")
        a %= r
        if shape[a] != 1:
            raise InvalidArgumentError(
                f"Can not squeeze dim[{a}], expected a dimension of 1, got {shape[a]} [Op:Squeeze]"
            )
        axes.add(a)
    return _core.reshape(x, [d for i, d in enumerate(shape) if i not in axes])


def concat(values: Any, axis: AxisLike, name: str = "concat") -> Tensor:
    """Concatenates tensors along `axis` (differentiable)."""
    if isinstance(values, (Tensor, _core.Variable)):
        values = [values]
    values = list(values)
    if len(values) == 1:
        return _core.identity(values[0])
    return _core.concat(values, _int(axis, "axis"))


def stack(values: Any, axis: AxisLike = 0, name: str = "stack") -> Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor along `axis`."""
    values = list(values)
    if not values:
        raise ValueError("stack requires at least one value")
    if not builtins.any(isinstance(v, (Tensor, _core.Variable, np.ndarray, np.generic)) for v in values):
        values = _core.unstack(_core.convert_to_tensor(values), 0)  # one dtype for all, as TF
    values = [_t(v) if not isinstance(v, (Tensor, _core.Variable)) else v for v in values]
    shapes = [_shape(v) for v in values]
    r = len(shapes[0])
    a = _int(axis, "axis")
    if a < -(r + 1) or a >= r + 1:
        raise ValueError(f"Argument `axis` = {a} not in range [{-(r + 1)}, {r + 1})")
    # checked on this call's sizes (a polymorphic trace's replay of other sizes: by the concat below)
    first = tuple(values[0]._shape_tuple)
    for i, v in enumerate(values[1:], 1):
        if tuple(v._shape_tuple) != first:
            raise InvalidArgumentError(
                f"Shapes of all inputs must match: values[0].shape = [{','.join(map(str, first))}] != "
                f"values[{i}].shape = [{','.join(map(str, v._shape_tuple))}] [Op:Pack] name: {name}"
            )
    if a < 0:
        a += r + 1
    new = list(shapes[0])
    new.insert(a, 1)
    parts = [_core.reshape(v, new) for v in values]
    if len(parts) == 1:
        return parts[0]
    return _core.concat(parts, a)


def unstack(value: TensorLike, num: int | None = None, axis: AxisLike = 0, name: str = "unstack") -> list[Tensor]:
    """Splits a tensor into a list along `axis` (one slice per entry; differentiable)."""
    x = _t(value)
    shape = list(_shape(x))
    r = len(shape)
    if r == 0:
        raise ValueError("Input shape axis 0 must have rank at least 1, got ()")
    a = _int(axis, "axis")
    if a < -r or a >= r:
        raise ValueError(f"Argument `axis` = {a} not in range [{-r}, {r})")
    a %= r
    n = shape[a]
    if num is not None and num != n:
        raise InvalidArgumentError(f"Input shape axis {a} must equal {num}, got shape {shape} [Op:Unpack]")
    return _core.unstack(x, a)


def split(
    value: TensorLike, num_or_size_splits: Any, axis: AxisLike = 0, num: int | None = None, name: str = "split"
) -> list[Tensor]:
    """Splits into `num_or_size_splits` equal parts, or parts of the given sizes (one may be -1)."""
    x = _t(value)
    shape = _shape(x)
    r = len(shape)
    a = _int(axis, "axis")
    if a < -r or a >= r:
        raise InvalidArgumentError(f"-{r} <= split_dim < {r}, but got {a} [Op:Split]")
    a %= r
    n = shape[a]
    if isinstance(num_or_size_splits, numbers.Integral) or (
        isinstance(num_or_size_splits, (Tensor, np.ndarray)) and np.ndim(num_or_size_splits) == 0
    ):
        k = int(num_or_size_splits)
        if k <= 0 or n % k:
            raise InvalidArgumentError(
                f"Number of ways to split should evenly divide the split dimension, but got split_dim {a} "
                f"(size = {n}) and num_split {k} [Op:Split]"
            )
        sizes = [n // k] * k
    else:
        sizes = _ints(num_or_size_splits, "num_or_size_splits")
        if num is not None and num != len(sizes):
            raise ValueError(f"num={num} does not match the {len(sizes)} sizes given")
        unknown = [i for i, s in enumerate(sizes) if s == -1]
        if len(unknown) > 1:
            raise InvalidArgumentError("There can only be one -1 in the input. [Op:SplitV]")
        known = builtins.sum(s for s in sizes if s != -1)
        if unknown:
            sizes[unknown[0]] = n - known
        if builtins.any(s < 0 for s in sizes) or builtins.sum(sizes) != n:
            raise InvalidArgumentError(
                f"Determined shape must either match input shape along split_dim exactly if fully specified, or be "
                f"less than the size of the input along split_dim if not fully specified.  Got: {known} [Op:SplitV]"
            )
    out = []
    at = 0
    for s in sizes:
        out.append(_axis_slice(x, a, at, at + s))
        at += s
    return out


def tile(input: TensorLike, multiples: TensorLike, name: str | None = None) -> Tensor:
    """Repeats `input` `multiples[i]` times along dimension i (differentiable)."""
    x = _t(input)
    shape = list(_shape(x))
    m = _ints(multiples, "multiples")
    if len(m) != len(shape):
        raise InvalidArgumentError(
            f"Expected multiples argument to be a vector of length {len(shape)} but got length {len(m)} [Op:Tile]"
        )
    for i, v in enumerate(m):
        if v < 0:
            raise InvalidArgumentError(f"Expected multiples[{i}] >= 0, but got {v} [Op:Tile]")
    reps = [i for i, v in enumerate(m) if v != 1]
    if not reps:
        return _core.identity(x)
    if len(shape) + len(reps) <= 8:
        # [.., 1, d_i, ..] broadcast to [.., m_i, d_i, ..], then merged
        view, big, final = [], [], []
        for i, d in enumerate(shape):
            if m[i] != 1:
                view.append(1)
                big.append(m[i])
            view.append(d)
            big.append(d)
            final.append(d * m[i])
        return _core.reshape(_core.broadcast_to(_core.reshape(x, view), big), final)
    for i in reps:  # high rank: one concat per tiled axis
        x = _core.concat([x] * m[i], i) if m[i] else _axis_slice(x, i, 0, 0)
    return x


def pad(
    tensor: TensorLike,
    paddings: TensorLike,
    mode: str = "CONSTANT",
    constant_values: TensorLike = 0,
    name: str | None = None,
) -> Tensor:
    """Pads with `paddings[i] = [before, after]` per dimension; mode CONSTANT, REFLECT or SYMMETRIC."""
    x = _t(tensor)
    shape = _shape(x)
    p = np.asarray(paddings)
    mode_u = str(mode).upper()
    if mode_u != "CONSTANT":
        op = "MirrorPad"
    else:
        op = "Pad" if not isinstance(constant_values, (Tensor, _core.Variable)) and constant_values == 0 else "PadV2"
    if p.dtype.kind not in "iu":
        raise TypeError(f"paddings must be an integer tensor, got {p.dtype}")
    if p.shape != (len(shape), 2):
        raise InvalidArgumentError(
            f"The first dimension of paddings must be the rank of inputs"
            f"[{','.join(map(str, p.shape))}] [{','.join(map(str, shape))}] [Op:{op}]"
        )
    p = p.astype(np.int64)
    if mode_u not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(
            'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or "SYMMETRIC". '
            f"Received `mode` = {mode}"
        )
    for i in _range(len(shape)):
        if p[i, 0] < 0 or p[i, 1] < 0:
            raise InvalidArgumentError(f"Paddings must be non-negative: {p[i, 0]} {p[i, 1]} [Op:{op}]")
    if mode_u == "CONSTANT":
        value = float(np.asarray(constant_values))
        if any(type(d) is Tensor for d in shape):  # sizes vary (Note [Polymorphic traces])
            return _core._pad_resolved(x, [int(v) for v in p[:, 0]], [int(v) for v in p[:, 1]], value)
        out_shape = [int(d) + int(p[i, 0]) + int(p[i, 1]) for i, d in enumerate(shape)]
        return _core.pad_constant(x, [int(v) for v in p[:, 0]], out_shape, value)
    off = 1 if mode_u == "REFLECT" else 0
    for i, d in enumerate(shape):
        a, b = int(p[i, 0]), int(p[i, 1])
        limit = d - off
        if a > limit or b > limit:
            rel = "be less than" if off else "be no greater than"
            bad = "not less than" if off else "greater than"
            raise InvalidArgumentError(f"paddings must {rel} the dimension size: {a}, {b} {bad} {d} [Op:MirrorPad]")
        if not (a or b):
            continue
        parts = []
        if a:
            parts.append(_axis_slice(x, i, off + a - 1, (off - 1) if off - 1 >= 0 else None, -1))
        parts.append(x)
        if b:
            start = d - 1 - off
            stop = d - 1 - off - b
            parts.append(_axis_slice(x, i, start, stop if stop >= 0 else None, -1))
        x = _core.concat(parts, i)
    return x


def reverse(tensor: TensorLike, axis: AxisLike, name: str | None = None) -> Tensor:
    """Reverses the given dimensions."""
    x = _t(tensor)
    shape = _shape(x)
    r = len(shape)
    axes: list[int] = []
    for a in _ints(axis, "axis"):
        if a < -r or a >= r:
            raise InvalidArgumentError(f"'axis'[{len(axes)}] = {a} is out of valid range [0, {r - 1} [Op:ReverseV2]")
        a %= r
        if a in axes:
            raise InvalidArgumentError(f"axis {a} specified more than once. [Op:ReverseV2]")
        axes.append(a)
    if any(type(d) is Tensor for d in shape):  # sizes vary: resolved at each replay (Note [Polymorphic traces])
        return _core._slice_spec(x, [v for i in _range(r) for v in _slice_entry(None, None, -1 if i in axes else 1)])
    begin = [(d - 1 if (i in axes and d) else 0) for i, d in enumerate(shape)]
    stride = [(-1 if i in axes else 1) for i in _range(r)]
    return _core.strided_slice(x, begin, stride, list(shape))


def slice(input_: TensorLike, begin: TensorLike, size: TensorLike, name: str | None = None) -> Tensor:  # noqa: A001  (TF's name)
    """``input_[begin[i] : begin[i] + size[i]]`` per dimension; size -1 means "to the end"."""
    x = _t(input_)
    shape = _shape(x)
    b, s = _ints(begin, "begin"), _ints(size, "size")
    if len(b) != len(shape) or len(s) != len(shape):
        raise InvalidArgumentError(
            f"Expected begin and size arguments to be 1-D tensors of size {len(shape)}, but "
            f"got shapes [{len(b)}] and [{len(s)}] instead. [Op:Slice]"
        )
    size_ = []
    for i, d in enumerate(shape):
        if not 0 <= b[i] <= d:  # TF blames begin first
            raise InvalidArgumentError(f"Expected begin[{i}] in [0, {d}], but got {b[i]} [Op:Slice]")
        n = d - b[i] if s[i] == -1 else s[i]
        if n < 0 or b[i] + n > d:
            raise InvalidArgumentError(f"Expected size[{i}] in [0, {d - b[i]}], but got {s[i]} [Op:Slice]")
        size_.append(n)
    return _core.strided_slice(x, [bi if size_[i] else 0 for i, bi in enumerate(b)], [1] * len(shape), size_)


def strided_slice(
    input_: TensorLike,
    begin: TensorLike,
    end: TensorLike,
    strides: Any = None,
    begin_mask: int = 0,
    end_mask: int = 0,
    ellipsis_mask: int = 0,
    new_axis_mask: int = 0,
    shrink_axis_mask: int = 0,
    var: Any = None,
    name: str | None = None,
) -> Tensor:
    """TF's strided_slice with its bit masks (the same machinery as ``tensor[...]``)."""
    b, e = _ints(begin, "begin"), _ints(end, "end")
    s = _ints(strides, "strides") if strides is not None else [1] * len(b)
    if not (len(b) == len(e) == len(s)):
        raise InvalidArgumentError("Expected begin, end, and strides to be 1D equal size tensors [Op:StridedSlice]")
    spec: list[Any] = []
    for i in _range(len(b)):
        bit = 1 << i
        if ellipsis_mask & bit:
            spec.append(Ellipsis)
        elif new_axis_mask & bit:
            spec.append(None)
        elif shrink_axis_mask & bit:
            spec.append(b[i])
        else:
            spec.append(_slice(None if begin_mask & bit else b[i], None if end_mask & bit else e[i], s[i]))
    x = input_ if isinstance(input_, (Tensor, _core.Variable)) else _t(input_)
    return _getitem(x, tuple(spec))


def repeat(input: TensorLike, repeats: Any, axis: AxisLike = None, name: str | None = None) -> Tensor:
    """Repeats each element (of the flattened input when axis is None) `repeats` times."""
    x = _t(input)
    if axis is None:
        x = _core.reshape(x, [-1])
        axis = 0
    shape = _shape(x)
    r = len(shape)
    a = _int(axis, "axis")
    if a < -r or a >= r:
        raise InvalidArgumentError(f"axis {a} is out of range for a tensor of rank {r} [Op:Repeat]")
    a %= r
    reps = np.asarray(_ints(repeats, "repeats"), dtype=np.int64)
    if reps.size not in (1, shape[a]):
        raise InvalidArgumentError(f"repeats must have 1 or {shape[a]} elements, got {reps.size} [Op:Repeat]")
    if (reps < 0).any():
        raise InvalidArgumentError(f"repeats must be non-negative, got {reps.tolist()} [Op:Repeat]")
    idx = np.repeat(np.arange(shape[a], dtype=np.int64), np.broadcast_to(reps, (shape[a],)))
    # the axis counted from the end: TF's repeat (tile + reshape) has a dense gradient, and a gather
    # is sparse only for an axis given as 0 (See Note [Sparse gradients])
    return _core.gather(x, idx, a - r, 0)


def roll(input: TensorLike, shift: TensorLike, axis: AxisLike, name: str | None = None) -> Tensor:
    """Rolls elements along `axis` by `shift` (lists: one shift per axis; repeated axes add up)."""
    x = _t(input)
    shape = _shape(x)
    r = len(shape)
    shifts, axes = _ints(shift, "shift"), _ints(axis, "axis")
    if len(shifts) != len(axes):
        raise InvalidArgumentError("shift and axis must have the same size [Op:Roll]")
    total: dict = {}
    for sh, a in zip(shifts, axes):
        if a < -r or a >= r:
            raise InvalidArgumentError(f"axis {a} is out of range [Op:Roll]")
        total[a % r] = total.get(a % r, 0) + sh
    if any(type(d) is Tensor for d in shape):  # sizes vary: resolved at each replay (Note [Polymorphic traces])
        items = sorted(total.items())
        return _core._roll_resolved(x, [sh for _, sh in items], [a for a, _ in items])
    for a, sh in sorted(total.items()):
        n = shape[a]
        k = sh % n if n else 0
        if k:
            x = _core.concat([_axis_slice(x, a, n - k, n), _axis_slice(x, a, 0, n - k)], a)
    return x


def sequence_mask(
    lengths: TensorLike, maxlen: int | None = None, dtype: DTypeLike | None = None, name: str | None = None
) -> Tensor:
    """``mask[..., j] = j < lengths[...]``, of shape lengths.shape + [maxlen] (default max(lengths))."""
    lens = _t(lengths)
    if not lens.dtype.is_integer:
        raise TypeError(f"lengths must be an integer tensor, got {lens.dtype.name}")
    n = int(np.max(np.asarray(lens), initial=0)) if maxlen is None else _int(maxlen, "maxlen")
    mask = _core.less(_core.range(0, n, 1, lens.dtype._code), expand_dims(lens, -1))
    if dtype is None or as_dtype(dtype).is_bool:
        return mask
    return _core.cast(mask, as_dtype(dtype)._code)


def unsorted_segment_sum(
    data: TensorLike, segment_ids: TensorLike, num_segments: int, name: str | None = None
) -> Tensor:
    """Sums the slices of `data` with equal `segment_ids` (ids: a prefix of data's shape; negative ids
    are dropped, as TF); shape [num_segments] + data.shape[ids.ndim:]. Differentiable (a gather)."""
    x = data if isinstance(data, (Tensor, _core.Variable)) else _t(data)
    ids = np.asarray(segment_ids)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"segment_ids must be an integer tensor, got {ids.dtype}")
    shape = _shape(x)
    k = ids.ndim
    if tuple(shape[:k]) != ids.shape:
        raise InvalidArgumentError(
            f"data.shape = [{','.join(map(str, shape))}] does not start with segment_ids.shape "
            f"= [{','.join(map(str, ids.shape))}] [Op:UnsortedSegmentSum]"
        )
    n = _int(num_segments, "num_segments")
    flat_ids = ids.reshape(-1).astype(np.int64)
    bad = np.flatnonzero(flat_ids >= n)
    if bad.size:
        i = int(bad[0])
        raise InvalidArgumentError(
            f"segment_ids[{','.join(map(str, np.unravel_index(i, ids.shape)))}] = "
            f"{flat_ids[i]} is out of range [0, {n}) [Op:UnsortedSegmentSum]"
        )
    inner = list(shape[k:])
    x2 = _core.reshape(x, [len(flat_ids), int(np.prod(inner, dtype=np.int64))])
    keep = flat_ids >= 0
    if not keep.all():
        x2 = _core.gather(x2, np.flatnonzero(keep).astype(np.int64), 0, 0)
        flat_ids = flat_ids[keep]
    return _core.reshape(_core.unsorted_segment_sum(x2, flat_ids, n), [n] + inner)


def unsorted_segment_mean(
    data: TensorLike, segment_ids: TensorLike, num_segments: int, name: str | None = None
) -> Tensor:
    """Mean of the slices of `data` per segment (empty segments give 0, as TF)."""
    x = data if isinstance(data, (Tensor, _core.Variable)) else _t(data)
    ids = np.asarray(segment_ids)
    total = unsorted_segment_sum(x, ids, num_segments)
    n = _int(num_segments, "num_segments")
    flat = ids.reshape(-1)
    counts = np.bincount(flat[flat >= 0].astype(np.int64), minlength=n)[:n].astype(x.dtype.as_numpy_dtype)
    counts = np.maximum(counts, 1).reshape([n] + [1] * (len(total.shape) - 1))
    return total / counts


def segment_mean(data: TensorLike, segment_ids: TensorLike, name: str | None = None) -> Tensor:
    """Mean of slices of `data` along dim 0 per (sorted) segment id."""
    ids = np.asarray(segment_ids)
    segment_sum(data, ids)  # validates
    n = int(ids[-1]) + 1 if ids.size else 0
    return unsorted_segment_mean(data, ids, n)


def segment_sum(data: TensorLike, segment_ids: TensorLike, name: str | None = None) -> Tensor:
    """Sums slices of `data` along dim 0 with equal (sorted) `segment_ids`."""
    ids = np.asarray(segment_ids)
    if ids.ndim != 1:
        raise InvalidArgumentError(f"segment_ids should be a vector, got shape {list(ids.shape)} [Op:SegmentSum]")
    if ids.size and ((np.diff(ids) < 0).any() or ids[0] < 0):
        raise InvalidArgumentError("segment ids are not increasing [Op:SegmentSum]")
    n = int(ids[-1]) + 1 if ids.size else 0
    return unsorted_segment_sum(data, ids, n)


# ---- indexing ----------------------------------------------------------------------------------


def gather(
    params: TensorLike,
    indices: TensorLike,
    validate_indices: bool | None = None,
    axis: AxisLike = None,
    batch_dims: int = 0,
    name: str | None = None,
) -> Tensor:
    """Slices of `params` along `axis` at `indices` (int32/int64; out-of-range raises).

    As TF, the gradient with respect to `params` is a tf.IndexedSlices when `axis` is 0 (and
    batch_dims 0), else a dense tensor of params' shape.
    """
    if axis is None:
        axis = batch_dims
    return _core.gather(params, indices, _int(axis, "axis"), _int(batch_dims, "batch_dims"))


def gather_nd(params: TensorLike, indices: TensorLike, batch_dims: int = 0, name: str | None = None) -> Tensor:
    """Gathers slices of `params` at the multi-indices in the last dimension of `indices`."""
    bd = _int(batch_dims, "batch_dims")
    if bd == 0:
        return _core.gather_nd(params, indices)
    p = params if isinstance(params, (Tensor, _core.Variable)) else _t(params)
    pshape = _shape(p)
    idx = np.asarray(indices)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"indices must be an integer tensor, got {idx.dtype}")
    if bd < 0 or bd >= idx.ndim or bd > len(pshape) or tuple(idx.shape[:bd]) != tuple(pshape[:bd]):
        raise InvalidArgumentError(
            f"gather_nd: batch_dims={bd} must be in [0, rank(indices)) and the first "
            f"batch_dims dimensions of params {list(pshape)} and indices "
            f"{list(idx.shape)} must match [Op:GatherNd]"
        )
    B = int(np.prod(pshape[:bd], dtype=np.int64))
    K = idx.shape[-1]
    mid = idx.shape[bd:-1]
    flat = idx.reshape(B, -1, K).astype(np.int64)
    batch = np.broadcast_to(np.arange(B, dtype=np.int64)[:, None, None], flat.shape[:2] + (1,))
    full = np.concatenate([batch, flat], axis=-1)
    out = _core.gather_nd(_core.reshape(p, [B] + list(pshape[bd:])), full)
    return _core.reshape(out, list(pshape[:bd]) + list(mid) + list(pshape[bd + K :]))


def scatter_nd(indices: TensorLike, updates: TensorLike, shape: ShapeLike, name: str | None = None) -> Tensor:
    """A zero tensor of `shape` with `updates` added at `indices` (duplicates add up)."""
    return _core.scatter_nd(indices, updates, _ints(shape, "shape"))


def tensor_scatter_nd_update(
    tensor: TensorLike, indices: TensorLike, updates: TensorLike, name: str | None = None
) -> Tensor:
    """`tensor` with the slices at `indices` replaced by `updates`."""
    return _core.tensor_scatter_nd_update(tensor, indices, updates)


def tensor_scatter_nd_add(
    tensor: TensorLike, indices: TensorLike, updates: TensorLike, name: str | None = None
) -> Tensor:
    """`tensor` with `updates` added at `indices` (duplicates add up)."""
    return _core.tensor_scatter_nd_add(tensor, indices, updates)


def tensor_scatter_nd_sub(
    tensor: TensorLike, indices: TensorLike, updates: TensorLike, name: str | None = None
) -> Tensor:
    """`tensor` with `updates` subtracted at `indices` (duplicates add up)."""
    u = (
        updates
        if isinstance(updates, (Tensor, _core.Variable, np.ndarray))
        else _core.convert_to_tensor(updates, _t(tensor).dtype._code)
    )
    return _core.tensor_scatter_nd_add(tensor, indices, _core.negative(u))


def meshgrid(*args: Any, **kwargs: Any) -> list[Tensor]:
    """Coordinate grids from 1-D tensors; ``indexing="xy"`` (default) or ``"ij"``."""
    indexing = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"Invalid keyword arguments: {list(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', got '{indexing}'")
    xs = [_core.reshape(_t(a), [-1]) for a in args]
    n = len(xs)
    sizes = [_shape(x)[0] for x in xs]
    if indexing == "xy" and n > 1:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and n > 1 and i < 2:
            pos = 1 - i
        view = [1] * n
        view[pos] = -1
        out.append(_core.broadcast_to(_core.reshape(x, view), sizes))
    return out


def unique(x: TensorLike, out_idx: DTypeLike = int32, name: str | None = None) -> tuple[Tensor, Tensor]:
    """(y, idx): the distinct values of a 1-D `x` in order of first occurrence, and x's positions in y."""
    a = np.asarray(x)
    if a.ndim != 1:
        raise InvalidArgumentError("unique expects a 1D vector. [Op:Unique]")
    _, first, inverse = np.unique(a, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    y = a[np.sort(first)]
    dt = _t(x).dtype if isinstance(x, (Tensor, _core.Variable)) else None
    yt = _core.constant(y, None if dt is None else dt._code)
    return yt, _core.constant(rank[inverse.reshape(-1)], as_dtype(out_idx)._code)


def boolean_mask(tensor: TensorLike, mask: TensorLike, axis: AxisLike = None, name: str = "boolean_mask") -> Tensor:
    """The entries of `tensor` where `mask` is true (mask covers dims ``axis .. axis+mask.ndim``)."""
    x = tensor if isinstance(tensor, (Tensor, _core.Variable)) else _t(tensor)
    m = np.asarray(mask)
    shape = _shape(x)
    k = m.ndim
    if k == 0:
        raise ValueError("mask cannot be scalar.")
    a = 0 if axis is None else _int(axis, "axis")
    if a < 0:
        a += len(shape)
    got = tuple(shape[a : a + k])
    if len(got) != k or builtins.any(g != w for g, w in zip(got, m.shape)):
        raise ValueError(f"Shapes {_tuple_str(got)} and {_tuple_str(m.shape)} are incompatible")
    lead = int(np.prod(got, dtype=np.int64))
    flat = _core.reshape(x, list(shape[:a]) + [lead] + list(shape[a + k :]))
    idx = np.flatnonzero(m.reshape(-1)).astype(np.int64)
    return _core.gather(flat, idx, a, 0)


def _tuple_str(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def where(
    condition: TensorLike, x: TensorLike | None = None, y: TensorLike | None = None, name: str | None = None
) -> Tensor:
    """where(c): int64 coordinates [n, rank] of the true entries; where(c, x, y): elementwise select."""
    if x is None and y is None:
        return _core.where_indices(condition)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    return _core.where3(condition, x, y)


def one_hot(
    indices: TensorLike,
    depth: int,
    on_value: TensorLike | None = None,
    off_value: TensorLike | None = None,
    axis: AxisLike = None,
    dtype: DTypeLike | None = None,
    name: str | None = None,
) -> Tensor:
    """One-hot vectors of length `depth` along `axis` (-1: last); out-of-range indices give off_value."""
    idx = _t(indices)
    if idx.dtype.name not in ("uint8", "int8", "int32", "int64"):
        raise _attr_t_error(idx.dtype, "uint8, int8, int32, int64", "OneHot", attr="TI")
    on_dt = on_value.dtype if isinstance(on_value, (Tensor, _core.Variable)) else None
    off_dt = off_value.dtype if isinstance(off_value, (Tensor, _core.Variable)) else None
    if on_dt is not None and off_dt is not None and on_dt != off_dt:
        raise TypeError(f"dtype {on_dt!r} of on_value does not match dtype {off_dt!r} of off_value")
    if dtype is None:
        dtype = on_dt or off_dt
        if dtype is None:
            v = on_value if on_value is not None else off_value
            dtype = (
                as_dtype(np.asarray(v).dtype)
                if isinstance(v, np.ndarray)
                else int32
                if isinstance(v, numbers.Integral) and not isinstance(v, bool)
                else float32
            )
    dtype = as_dtype(dtype)
    for dt, what in ((on_dt, "on_value"), (off_dt, "off_value")):
        if dt is not None and dt != dtype:
            raise TypeError(f"dtype {dtype!r} of {what} does not match dtype {dt!r} of dtype")
    on = _core.stop_gradient(_core.constant(1 if on_value is None else on_value, dtype._code))
    off = _core.stop_gradient(_core.constant(0 if off_value is None else off_value, dtype._code))
    d = _int(depth, "depth")
    if d < 0:
        raise InvalidArgumentError(f"depth must be non-negative, got: {d} [Op:OneHot]")
    r = len(_shape(idx))
    a = -1 if axis is None else _int(axis, "axis")
    if a < -1 or a > r:
        raise InvalidArgumentError(f"Expected axis to be -1 or between [0, {r + 1}).  But received: {a} [Op:OneHot]")
    if a == -1:
        a = r
    if idx.dtype.size == 1:  # uint8/int8 indices: compare in int32
        idx = _core.cast(idx, int32._code)
    classes = _core.reshape(_core.range(0, d, 1, idx.dtype._code), [d] + [1] * (r - a))
    hit = _core.equal(expand_dims(idx, a), classes)
    return _core.where3(hit, on, off)


# ---- Tensor.__getitem__ ------------------------------------------------------------------------

_SLICE_TYPE_ERROR = (
    "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
    "tf.int32/tf.int64 tensors are valid indices"
)


def _index_int(s):
    if isinstance(s, (bool, np.bool_)):
        raise TypeError(_SLICE_TYPE_ERROR + f", got {s!r}")
    if isinstance(s, numbers.Integral):
        return int(s)
    dt = getattr(s, "dtype", None)
    if dt is not None and np.ndim(s) == 0:
        try:
            kind = np.dtype(getattr(dt, "as_numpy_dtype", dt)).kind
        except TypeError:
            kind = ""
        if kind in "iu":
            return int(np.asarray(s))
    raise TypeError(_SLICE_TYPE_ERROR + f", got {s!r}")


def _slice_part(v):
    return None if v is None else _index_int(v)


def _getitem(tensor, spec):
    """``tensor[spec]`` with TF's rules (numpy basic indexing plus a boolean-mask form)."""
    if (
        isinstance(spec, bool)
        or (isinstance(spec, (Tensor, _core.Variable)) and spec.dtype.is_bool)
        or (isinstance(spec, np.ndarray) and spec.dtype == np.bool_)
    ):
        return boolean_mask(tensor, spec)
    if not isinstance(spec, (list, tuple)):
        spec = (spec,)
    r = len(tensor._shape_tuple)
    n_ell = builtins.sum(1 for s in spec if s is Ellipsis)
    if n_ell > 1:
        raise InvalidArgumentError("Multiple ellipses in slice spec not allowed [Op:StridedSlice] name: strided_slice/")
    used = builtins.sum(1 for s in spec if s is not None and s is not Ellipsis)
    if used > r:
        raise InvalidArgumentError(
            f"Index out of range using input dim {r}; input has only {r} dims [Op:StridedSlice] name: strided_slice/"
        )
    full = []
    for s in spec:
        if s is Ellipsis:
            full.extend([_slice(None)] * (r - used))
        else:
            full.append(s)
    if not n_ell:
        full.extend([_slice(None)] * (r - used))
    if _core._tracing() and any(isinstance(s, Tensor) and _core._trace_is_traced(s) for s in full):
        return _getitem_traced(tensor, full)
    if _tensor._varies(tensor):
        return _getitem_resolved_later(tensor, full)
    shape = tensor._shape_tuple
    begin, stride, size, out_shape = [], [], [], []
    d = 0
    for s in full:
        if s is None:
            out_shape.append(1)
            continue
        n = shape[d]
        if isinstance(s, _slice):
            step = _slice_part(s.step)
            if step == 0:
                raise InvalidArgumentError(f"strides[{d}] must be non-zero [Op:StridedSlice] name: strided_slice/")
            st, sp, sd = _slice(_slice_part(s.start), _slice_part(s.stop), step).indices(n)
            k = len(_range(st, sp, sd))
            begin.append(st if k else 0)
            stride.append(sd)
            size.append(k)
            out_shape.append(k)
        else:
            i = _index_int(s)
            if i < -n or i >= n:
                raise InvalidArgumentError(
                    f"slice index {i} of dimension {d} out of bounds. [Op:StridedSlice] name: strided_slice/"
                )
            begin.append(i % n)
            stride.append(1)
            size.append(1)
        d += 1
    out = _core.strided_slice(tensor, begin, stride, size)
    if out_shape != size:
        out = _core.reshape(out, out_shape)
    return out


_NO_BOUND = -(2**63)  # slice_spec's kNone


def _slice_entry(start, stop, step):
    """slice_spec's entry for start:stop:step (None: Python's default)."""
    return [
        0,
        _NO_BOUND if start is None else start,
        _NO_BOUND if stop is None else stop,
        1 if step is None else step,
    ]


def _getitem_resolved_later(tensor, full):
    """``tensor[...]`` in a polymorphic trace whose sizes vary: one recorded call that resolves the
    bounds against each replay's sizes (See Note [Polymorphic traces])."""
    spec = []
    for s in full:
        if s is None:
            spec += [2, 0, 0, 1]
        elif isinstance(s, _slice):
            step = _slice_part(s.step)
            if step == 0:
                raise InvalidArgumentError(
                    f"strides[{len(spec) // 4}] must be non-zero [Op:StridedSlice] name: strided_slice/"
                )
            spec += _slice_entry(_slice_part(s.start), _slice_part(s.stop), step)
        else:
            spec += [1, _index_int(s), 0, 1]
    return _core._slice_spec(tensor, spec)


def _getitem_traced(tensor, full):
    """``tensor[...]`` in a traced tf.function with indices that depend on the function's inputs
    (``x[i]`` in a loop): the dimensions those index are kept by the slice and then gathered, so
    the index is read at every replay instead of being baked in (Note [Traced functions])."""
    shape = _sizes(tensor)
    kept, picks, pos, d = [], [], 0, 0
    for s in full:
        if s is None:
            kept.append(s)
            pos += 1
            continue
        if isinstance(s, Tensor) and _core._trace_is_traced(s):
            if s.dtype not in (int32, as_dtype("int64")) or s._shape_tuple != ():
                raise TypeError(_SLICE_TYPE_ERROR + f", got {s!r}")
            picks.append((pos, _core.floormod(s, shape[d])))
            kept.append(_slice(None))
        else:
            kept.append(s)
        if isinstance(kept[-1], _slice):
            pos += 1
        d += 1
    out = _getitem(tensor, tuple(kept))
    for axis, index in reversed(picks):
        out = gather(out, index, axis=axis)
    return out


def _tensor_getitem(self, spec):
    return _getitem(self, spec)


class _SliceAssign:
    """``var[spec].assign(value)``: writes the slice into the variable and returns the variable, as
    TF's sliced-variable assignment does (TF has no sliced assign_add / assign_sub)."""

    __slots__ = ("_var", "_spec")

    def __init__(self, var, spec):
        self._var, self._spec = var, spec

    def __call__(self, value, use_locking=None, name=None, read_value=True):
        var = self._var
        shape = list(var._shape_tuple)
        n = int(np.prod(shape, dtype=np.int64))
        pos = _getitem(_core.constant(np.arange(n, dtype=np.int64).reshape(shape)), self._spec)
        cur = _core.constant(var._array_view())  # the variable's value, not recorded as a read
        value = (
            _core.convert_to_tensor(value, cur.dtype._code)
            if not isinstance(value, (Tensor, _core.Variable))
            else value
        )
        upd = _core.reshape(_core.broadcast_to(value, list(pos._shape_tuple)), [-1])
        idx = _core.reshape(pos, [-1, 1])
        flat = _core.reshape(cur, [-1])
        new = _core.tensor_scatter_nd_update(flat, idx, upd)
        var.assign(_core.reshape(new, shape))
        return var


def _variable_getitem(self, spec):
    out = _getitem(self, spec)
    out.assign = _SliceAssign(self, spec)
    return out


def _scatter_method(kind):
    def method(self, indices, updates, name=None):
        cur = _core.constant(self._array_view())
        if kind == "update":
            new = _core.tensor_scatter_nd_update(cur, indices, updates)
        elif kind == "add":
            new = _core.tensor_scatter_nd_add(cur, indices, updates)
        else:
            new = tensor_scatter_nd_sub(cur, indices, updates)
        self.assign(new)
        return self

    method.__name__ = f"scatter_nd_{kind}"
    method.__doc__ = f"Variable.scatter_nd_{kind}(indices, updates): tensor_scatter_nd_{kind} written in place."
    return method
