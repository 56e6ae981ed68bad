"""Keras 3's merging layers (keras/src/layers/merging/*.py): ``Add``, ``Subtract``, ``Multiply``,
``Average``, ``Maximum``, ``Minimum``, ``Concatenate``, ``Dot`` and their functional forms.

Each is called on a list of tensors. Element-wise merges broadcast, and inputs of lower rank get
size-1 axes inserted after the batch axis (Keras's ``_reshape_required`` path). Input masks
(``_keras_mask``) are combined with a logical or; ``Maximum``, ``Minimum`` and ``Multiply`` also
ignore masked entries of an input, as Keras does.

>>> import tapegrad as tg
>>> tg.keras.layers.add([tg.ones([2, 3]), tg.ones([2, 3])]).numpy()
array([[2., 2., 2.],
       [2., 2., 2.]], dtype=float32)
"""

from ... import _ops, _ops_shape
from ..._tensor import TensorShape
from .base import Layer

__all__ = [
    "Add",
    "Subtract",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "Dot",
    "add",
    "subtract",
    "multiply",
    "average",
    "maximum",
    "minimum",
    "concatenate",
    "dot",
]


def _as_shape(s):
    if s is None:
        return None
    return tuple(None if d is None else int(d) for d in s)


def _is_single_shape(input_shape):
    """True when a build/compute_output_shape argument is one shape, not a list of shapes."""
    if isinstance(input_shape, TensorShape):
        return True
    return not isinstance(input_shape, (list, tuple)) or (
        len(input_shape) > 0 and not isinstance(input_shape[0], (list, tuple, TensorShape, type(None)))
    )


def _masks_of(inputs, mask):
    """The list of input masks: ``mask`` when given, else each input's ``_keras_mask``."""
    if mask is not None:
        return mask
    if not isinstance(inputs, (list, tuple)):
        return None
    masks = [getattr(x, "_keras_mask", None) for x in inputs]
    return None if all(m is None for m in masks) else masks


class Merge(Layer):
    """Base of the element-wise merge layers: checks shapes at build, equalizes ranks, combines masks."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    def _merge_function(self, inputs):
        raise NotImplementedError

    def _compute_elemwise_op_output_shape(self, shape1, shape2):
        if None in [shape1, shape2]:
            return None
        if len(shape1) < len(shape2):
            return self._compute_elemwise_op_output_shape(shape2, shape1)
        if not shape2:
            return shape1
        output_shape = list(shape1[: -len(shape2)])
        for i, j in zip(shape1[-len(shape2) :], shape2):
            if i is None or j is None:
                output_shape.append(None)
            elif i == 1:
                output_shape.append(j)
            elif j == 1:
                output_shape.append(i)
            else:
                if i != j:
                    raise ValueError(f"Inputs have incompatible shapes. Received shapes {shape1} and {shape2}")
                output_shape.append(i)
        return tuple(output_shape)

    def build(self, input_shape):
        if _is_single_shape(input_shape):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. Received: "
                f"input_shape={_as_shape(input_shape)} (not a list of shapes)"
            )
        input_shape = [_as_shape(s) for s in input_shape]
        if len(input_shape) < 1:
            raise ValueError(
                "A merge layer should be called on a list of at least 1 input. Received "
                f"{len(input_shape)} inputs. Full input_shape received: {input_shape}"
            )
        batch_sizes = {s[0] for s in input_shape if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"Cannot merge tensors with different batch sizes. Received tensors with shapes {input_shape}"
            )
        output_shape = None if input_shape[0] is None else input_shape[0][1:]
        for s in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, None if s is None else s[1:])
        self._reshape_required = not (None not in input_shape and len(set(map(len, input_shape))) == 1)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"A merge layer should be called on a list of inputs. Received: inputs={inputs} (not a list of tensors)"
            )
        if self._reshape_required:
            max_ndim = max(x.ndim for x in inputs)
            reshaped = []
            for x in inputs:
                for _ in range(max_ndim - x.ndim):
                    x = _ops_shape.expand_dims(x, 1)
                reshaped.append(x)
            return self._merge_function(reshaped)
        return self._merge_function(list(inputs))

    def _apply_merge_op_and_or_mask(self, op_fn, inputs):
        """``op_fn`` folded over the inputs, where an input's masked entries take the other side's value."""
        output = None
        output_mask = None
        for x in inputs:
            mask = getattr(x, "_keras_mask", None)
            if mask is not None:
                mask = _ops.broadcast_to(_ops_shape.expand_dims(mask, -1), x.shape)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = _ops_shape.where(mask, x, _ops.broadcast_to(output, x.shape))
            if output_mask is not None:
                output = _ops_shape.where(output_mask, output, _ops.broadcast_to(x, output.shape))
            if mask is not None and output_mask is not None:
                output_mask = _ops.logical_or(output_mask, mask)
            else:
                output_mask = None
            output = op_fn(output, x)
        if output_mask is not None:
            output._keras_mask = _ops.reduce_any(output_mask, axis=-1)
        return output

    def compute_output_shape(self, input_shape):
        input_shape = [_as_shape(s) for s in input_shape]
        output_shape = None if input_shape[0] is None else input_shape[0][1:]
        for s in input_shape[1:]:
            output_shape = self._compute_elemwise_op_output_shape(output_shape, None if s is None else s[1:])
        batch_sizes = {s[0] for s in input_shape if s is not None} - {None}
        batch = list(batch_sizes)[0] if len(batch_sizes) == 1 else None
        return (batch,) + tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        mask = _masks_of(inputs, mask)
        if mask is None:
            return None
        if not isinstance(mask, (tuple, list)):
            raise ValueError(f"`mask` should be a list. Received: mask={mask}")
        if not isinstance(inputs, (tuple, list)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                f"The lists `inputs` and `mask` should have the same length. Received: inputs={inputs} "
                f"of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = _ops.logical_or(output_mask, m)
        return output_mask

    def get_config(self):
        return super().get_config()


class Add(Merge):
    """Sums a list of inputs (``tf.keras.layers.Add``)."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` for exactly two inputs (``tf.keras.layers.Subtract``)."""

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(
                "A `Subtract` layer should be called on exactly 2 inputs. Received: "
                f"input_shape={[_as_shape(s) for s in input_shape]}"
            )

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        return inputs[0] - inputs[1]


class Multiply(Merge):
    """Element-wise product of a list of inputs (``tf.keras.layers.Multiply``); masked entries count as 1."""

    def _merge_function(self, inputs):
        masks = [getattr(x, "_keras_mask", None) for x in inputs]
        has_output_mask = all(m is not None for m in masks)
        output = None
        output_mask = None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _ops.broadcast_to(_ops_shape.expand_dims(mask, -1), x.shape)
                x = _ops_shape.where(mask, x, _ops.ones_like(x))
                if has_output_mask:
                    output_mask = mask if output_mask is None else _ops.logical_or(output_mask, mask)
            output = x if output is None else output * x
        if has_output_mask:
            output = _ops_shape.where(output_mask, output, _ops.zeros_like(output))
            output._keras_mask = _ops.reduce_any(output_mask, axis=-1)
        return output


class Average(Merge):
    """Element-wise mean of a list of inputs (``tf.keras.layers.Average``)."""

    def _merge_function(self, inputs):
        output = inputs[0]
        for x in inputs[1:]:
            output = output + x
        return output / len(inputs)


class Maximum(Merge):
    """Element-wise maximum of a list of inputs (``tf.keras.layers.Maximum``)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(_ops.maximum, inputs)


class Minimum(Merge):
    """Element-wise minimum of a list of inputs (``tf.keras.layers.Minimum``)."""

    def _merge_function(self, inputs):
        return self._apply_merge_op_and_or_mask(_ops.minimum, inputs)


class Concatenate(Merge):
    """Concatenates a list of inputs along ``axis`` (``tf.keras.layers.Concatenate``); the other
    axes must match.

    >>> import tapegrad as tg
    >>> tg.keras.layers.Concatenate(axis=1)([tg.zeros([2, 3]), tg.ones([2, 1])]).shape
    TensorShape([2, 4])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self._reshape_required = False

    def build(self, input_shape):
        if _is_single_shape(input_shape) or len(input_shape) < 1:
            raise ValueError(
                "A `Concatenate` layer should be called on a list of at least 1 input. Received: "
                f"input_shape={_as_shape(input_shape) if _is_single_shape(input_shape) else input_shape}"
            )
        input_shape = [_as_shape(s) for s in input_shape]
        if all(s is None for s in input_shape):
            self.built = True
            return
        shape_set = set()
        for shape in input_shape:
            reduced = list(shape)
            if len(reduced) > self.axis:
                del reduced[self.axis]
            shape_set.add(tuple(reduced))
        if len(shape_set) != 1:
            err_msg = (
                "A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis. "
                f"Received: input_shape={input_shape}"
            )
            ranks = {len(s) for s in shape_set}
            if len(ranks) != 1:
                raise ValueError(err_msg)
            (rank,) = ranks
            for axis in range(rank):
                if len({s[axis] for s in shape_set if s[axis] is not None}) > 1:
                    raise ValueError(err_msg)
        self.built = True

    def _merge_function(self, inputs):
        return _ops_shape.concat(inputs, axis=self.axis)

    def compute_output_shape(self, input_shape):
        if _is_single_shape(input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. Received: "
                f"input_shape={_as_shape(input_shape)}"
            )
        shapes = [_as_shape(s) for s in input_shape]
        output_shape = list(shapes[0])
        for shape in shapes[1:]:
            if output_shape[self.axis] is None or shape[self.axis] is None:
                output_shape[self.axis] = None
                break
            output_shape[self.axis] += shape[self.axis]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        mask = _masks_of(inputs, mask)
        if mask is None:
            return None
        if not isinstance(mask, (tuple, list)):
            raise ValueError(f"`mask` should be a list. Received mask={mask}")
        if not isinstance(inputs, (tuple, list)):
            raise ValueError(f"`inputs` should be a list. Received: inputs={inputs}")
        if len(mask) != len(inputs):
            raise ValueError(
                f"The lists `inputs` and `mask` should have the same length. Received: inputs={inputs} "
                f"of length {len(inputs)}, and mask={mask} of length {len(mask)}"
            )
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(_ops.fill(list(x.shape), True))
            elif m.ndim < x.ndim:
                masks.append(_ops.broadcast_to(_ops_shape.expand_dims(m, -1), x.shape))
            else:
                masks.append(m)
        return _ops.reduce_any(_ops_shape.concat(masks, axis=self.axis), axis=-1)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis, epsilon=1e-7):
    """Keras's ``ops.normalize(x, axis, order=2)``: ``x * min(rsqrt(sum(x**2)), 1/epsilon)``."""
    inv_norm = _ops.rsqrt(_ops.reduce_sum(_ops.square(x), axis=axis, keepdims=True))
    return x * _ops.minimum(inv_norm, _ops.cast(_ops.constant(1.0 / epsilon), x.dtype))


def batch_dot(x, y, axes):
    """Contracts ``x``'s axis ``axes[0]`` with ``y``'s axis ``axes[1]`` per batch row: the result
    has x's other axes then y's other axes (``(batch, 1)`` when both were 2-D), as Keras's batch_dot."""
    xs, ys = tuple(x.shape), tuple(y.shape)
    if len(xs) < 2 or len(ys) < 2:
        raise ValueError(f"Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes {xs} and {ys}.")
    if xs[0] != ys[0]:
        raise ValueError(
            f"Cannot do batch_dot on inputs with different batch sizes. Received inputs with shapes {xs} and {ys}."
        )
    a0, a1 = axes
    if 0 in (a0, a1):
        raise ValueError(
            "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a dummy batch "
            "dimension to your inputs using keras.ops.expand_dims(x, 0)"
        )
    if xs[a0] != ys[a1]:
        raise ValueError(
            f"Cannot do batch_dot on inputs with shapes {xs} and {ys} with axes={list(axes)}. "
            f"x.shape[{a0}] != y.shape[{a1}] ({xs[a0]} != {ys[a1]})."
        )
    x_rest = [d for i, d in enumerate(xs) if i not in (0, a0)]
    y_rest = [d for i, d in enumerate(ys) if i not in (0, a1)]
    x = _ops.transpose(x, [0] + [i for i in range(len(xs)) if i not in (0, a0)] + [a0])
    y = _ops.transpose(y, [0, a1] + [i for i in range(len(ys)) if i not in (0, a1)])
    mx, ny = 1, 1
    for d in x_rest:
        mx *= d
    for d in y_rest:
        ny *= d
    out = _ops.matmul(_ops.reshape(x, [xs[0], mx, xs[a0]]), _ops.reshape(y, [ys[0], ys[a1], ny]))
    out_shape = [xs[0]] + x_rest + y_rest
    if len(out_shape) == 1:
        out_shape.append(1)
    return _ops.reshape(out, out_shape)


class Dot(Merge):
    """Dot product of two inputs along ``axes`` (an int or a pair), per batch row (``tf.keras.layers.Dot``);
    ``normalize=True`` L2-normalizes both along those axes first (cosine similarity).

    >>> import tapegrad as tg
    >>> tg.keras.layers.Dot(axes=1)([tg.ones([2, 3]), tg.ones([2, 3])]).numpy()
    array([[3.],
           [3.]], dtype=float32)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    f"Invalid type for argument `axes`: it should be a list or an int. Received: axes={axes}"
                )
            if len(axes) != 2:
                raise ValueError(
                    f"Invalid format for argument `axes`: it should contain two elements. Received: axes={axes}"
                )
            if not isinstance(axes[0], int) or not isinstance(axes[1], int):
                raise ValueError(
                    f"Invalid format for argument `axes`: list elements should be integers. Received: axes={axes}"
                )
        self.axes = axes
        self.normalize = normalize
        self.supports_masking = True
        self._reshape_required = False

    def _axes_for(self, rank1, rank2):
        if isinstance(self.axes, int):
            if self.axes < 0:
                return [self.axes % rank1, self.axes % rank2]
            return [self.axes] * 2
        return [a % r if a < 0 else a for a, r in zip(self.axes, (rank1, rank2))]

    def build(self, input_shape):
        if _is_single_shape(input_shape) or len(input_shape) != 2:
            shown = _as_shape(input_shape) if _is_single_shape(input_shape) else [_as_shape(s) for s in input_shape]
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={shown}")
        shape1, shape2 = _as_shape(input_shape[0]), _as_shape(input_shape[1])
        if shape1 is not None and shape2 is not None:
            axes = self._axes_for(len(shape1), len(shape2))
            if shape1[axes[0]] != shape2[axes[1]]:
                raise ValueError(
                    f"Incompatible input shapes: axis values {shape1[axes[0]]} (at axis {axes[0]}) != "
                    f"{shape2[axes[1]]} (at axis {axes[1]}). Full input shapes: {shape1}, {shape2}"
                )
        self.built = True

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received: inputs={inputs}")
        x1, x2 = inputs
        axes = self._axes_for(x1.ndim, x2.ndim)
        if self.normalize:
            x1 = _l2_normalize(x1, axes[0])
            x2 = _l2_normalize(x2, axes[1])
        return batch_dot(x1, x2, axes)

    def compute_output_shape(self, input_shape):
        if _is_single_shape(input_shape) or len(input_shape) != 2:
            raise ValueError(
                f"A `Dot` layer should be called on a list of 2 inputs. Received: input_shape={input_shape}"
            )
        shape1, shape2 = list(_as_shape(input_shape[0])), list(_as_shape(input_shape[1]))
        axes = self._axes_for(len(shape1), len(shape2))
        shape1.pop(axes[0])
        shape2.pop(axes[1])
        shape2.pop(0)
        output_shape = shape1 + shape2
        if len(output_shape) == 1:
            output_shape += [1]
        return tuple(output_shape)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


def add(inputs, **kwargs):
    """Functional form of ``Add``: ``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Functional form of ``Dot``."""
    return Dot(axes=axes, **kwargs)(inputs)
