"""Keras 3 normalization layers: ``BatchNormalization``, ``LayerNormalization``,
``GroupNormalization``, ``RMSNormalization`` and ``UnitNormalization`` (keras/src/layers/normalization/, with the TF
backend's formulas: ``tf.nn.moments`` and ``x * inv + (beta - mean * inv)`` with
``inv = rsqrt(variance + epsilon) * gamma``).

>>> import tapegrad as tg
>>> bn = tg.keras.layers.BatchNormalization()
>>> y = bn(tg.constant([[1.0, 2.0], [3.0, 6.0]]), training=True)
>>> [w.name for w in bn.weights]
['gamma', 'beta', 'moving_mean', 'moving_variance']
>>> bn.moving_mean.numpy()  # 0.99 * 0 + 0.01 * batch mean
array([0.02, 0.04], dtype=float32)
"""

import warnings

from ... import _ops, _ops_shape
from .. import constraints, initializers, regularizers
from ._weight_options import set_weight_options, weight_options_config
from .base import InputSpec, Layer

__all__ = ["BatchNormalization", "LayerNormalization", "GroupNormalization", "RMSNormalization", "UnitNormalization"]


def _moments(x, axes):
    """Mean and variance over `axes`, keepdims. ``tf.nn.moments`` stops the gradient through the
    mean inside the variance; that leaves first derivatives unchanged (d var / d mean is zero at
    the mean) but drops a term from second derivatives, so here the variance differentiates
    through the mean and gradients of gradients are exact."""
    mean = _ops.reduce_mean(x, axis=axes, keepdims=True)
    variance = _ops.reduce_mean(_ops.squared_difference(x, mean), axis=axes, keepdims=True)
    return mean, variance


def _normalize(x, mean, variance, gamma, beta, epsilon):
    """``tf.nn.batch_normalization``'s arithmetic (all arguments broadcast against x)."""
    inv = _ops.rsqrt(variance + _ops.constant(epsilon, dtype=x.dtype))
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv
    if beta is not None:
        shift = shift + beta
    return x * inv + shift


def _as(v, dtype):
    return v if v is None or v.dtype == dtype else _ops.cast(v, dtype)


def _floating(inputs):
    """Non-floating inputs are normalized as float32 (as Keras)."""
    return inputs if inputs.dtype.is_floating else _ops.cast(inputs, "float32")


def _laid_out(v, dtype, shape):
    """A weight (gamma, beta, a moving statistic) in ``dtype``, reshaped to broadcast as ``shape``; None stays None."""
    return None if v is None else _ops.reshape(_as(v, dtype), shape)


def _check_axes(axes, input_shape, shown):
    n = len(input_shape)
    for axis in axes:
        if axis >= n or axis < -n:
            raise ValueError(
                f"Axis {axis} is out of bounds for input shape {tuple(input_shape)}. Received: axis={shown}"
            )


class _Affine(Layer):
    """Shared ``gamma``/``beta`` arguments of the normalization layers."""

    def _init_affine(
        self,
        center,
        scale,
        beta_initializer,
        gamma_initializer,
        beta_regularizer,
        gamma_regularizer,
        beta_constraint,
        gamma_constraint,
    ):
        self.center = center
        self.scale = scale
        set_weight_options(
            self,
            beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint),
        )

    def _add_gamma(self, shape):
        return self.add_weight(
            shape=shape,
            name="gamma",
            initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer,
            constraint=self.gamma_constraint,
            trainable=True,
            autocast=False,
        )

    def _add_beta(self, shape):
        return self.add_weight(
            shape=shape,
            name="beta",
            initializer=self.beta_initializer,
            regularizer=self.beta_regularizer,
            constraint=self.beta_constraint,
            trainable=True,
            autocast=False,
        )

    def _affine_config(self):
        return weight_options_config(self, ["beta", "gamma"])

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis if isinstance(self.axis, list) else [self.axis], input_shape, self.axis)
        return tuple(input_shape)

    def _out(self, y):
        return _as(y, self.compute_dtype) if y.dtype.is_floating else y


class BatchNormalization(_Affine):
    """Normalizes with the batch's statistics when called with ``training=True`` (and updates
    ``moving_mean``/``moving_variance`` by ``moving * momentum + batch * (1 - momentum)``), with the
    moving statistics otherwise (``keras.layers.BatchNormalization``). A layer with
    ``trainable=False`` always runs in inference mode, as in Keras 3. ``renorm`` is Batch
    Renormalization (Ioffe 2017) with Keras's ``renorm_clipping`` keys ``rmax``, ``rmin``, ``dmax``.
    ``synchronized`` is accepted; with one replica it changes nothing."""

    def __init__(
        self,
        axis=-1,
        momentum=0.99,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        moving_mean_initializer="zeros",
        moving_variance_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        renorm=False,
        renorm_clipping=None,
        renorm_momentum=0.99,
        synchronized=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.synchronized = synchronized
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.supports_masking = True
        self.renorm = renorm
        if renorm:
            renorm_clipping = renorm_clipping or {}
            keys = ["rmax", "rmin", "dmax"]
            if set(renorm_clipping) - set(keys):
                raise ValueError(
                    f"Received invalid keys for `renorm_clipping` argument: {renorm_clipping}. "
                    f"Supported values: {keys}."
                )
            rmax, rmin, dmax = (renorm_clipping.get(k) for k in ("rmax", "rmin", "dmax"))
            if rmax is not None and rmin is not None and rmax < rmin:
                raise ValueError(
                    "rmax should be greater than rmin in the `renorm_clipping` argument. Received: "
                    "rmax={rmax}, rmin={rmin}."
                )  # sic: Keras's message is not an f-string
            if dmax is not None and dmax < 0:
                raise ValueError(
                    "dmax should be non-negative in the `renorm_clipping` argument. Received: dmax={dmax}."
                )
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._reduction_axes = None

    def build(self, input_shape):
        _check_axes([self.axis], input_shape, self.axis)
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self._add_gamma(shape)
        if self.center:
            self.beta = self._add_beta(shape)
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer, trainable=False, autocast=False
        )
        self.moving_variance = self.add_weight(
            shape=shape,
            name="moving_variance",
            initializer=self.moving_variance_initializer,
            trainable=False,
            autocast=False,
        )
        if self.renorm:
            var_init = self.moving_variance_initializer
            mean_init = self.moving_mean_initializer

            def stddev_init(shape, dtype=None):
                return _ops.sqrt(_ops.convert_to_tensor(var_init(shape, dtype=dtype)))

            self.moving_stddev = self.add_weight(
                shape=shape, name="moving_stddev", initializer=stddev_init, trainable=False, autocast=False
            )
            self.renorm_mean = self.add_weight(
                shape=shape, name="renorm_mean", initializer=mean_init, trainable=False, autocast=False
            )
            self.renorm_stddev = self.add_weight(
                shape=shape, name="renorm_stddev", initializer=stddev_init, trainable=False, autocast=False
            )
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: input_shape[self.axis]})
        self._reduction_axes = [i for i in range(len(input_shape)) if i != self.axis % len(input_shape)]
        self.built = True

    def _param_shape(self, x):
        shape = [1] * len(x.shape)
        shape[self.axis] = int(x.shape[self.axis])
        return shape

    def _moments(self, x, mask):
        axes = self._reduction_axes
        if mask is None:
            return _moments(x, axes)
        keep = _ops.broadcast_to(_ops_shape.expand_dims(_ops.cast(mask, "bool"), -1), list(x.shape))
        zero = _ops.zeros_like(x)
        count = _ops.reduce_sum(_ops.cast(keep, x.dtype), axis=axes, keepdims=True) + _ops.constant(1e-7, x.dtype)
        mean = _ops.reduce_sum(_ops_shape.where(keep, x, zero), axis=axes, keepdims=True) / count
        diff = _ops_shape.where(keep, x - mean, zero)
        return mean, _ops.reduce_sum(_ops.square(diff), axis=axes, keepdims=True) / count

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError(
                f"The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={tuple(mask.shape)}, inputs.shape={tuple(inputs.shape)}"
            )
        x = _floating(inputs)
        shape = self._param_shape(x)
        gamma, beta = _laid_out(self.gamma, x.dtype, shape), _laid_out(self.beta, x.dtype, shape)
        if training and self.trainable:
            mean, variance = self._moments(x, mask)
            if self.renorm:
                gamma, beta = self._renorm_transform(mean, variance, gamma, beta, shape, x.dtype)
            self._update_moving(_ops.reshape(mean, [-1]), _ops.reshape(variance, [-1]))
        else:
            mean, variance = (
                _laid_out(self.moving_mean, x.dtype, shape),
                _laid_out(self.moving_variance, x.dtype, shape),
            )
        return self._out(_normalize(x, mean, variance, gamma, beta, self.epsilon))

    def _ema(self, var, value, momentum):
        value = _ops.stop_gradient(value)
        new = _as(var, value.dtype) * momentum + value * (1.0 - momentum)
        var.assign(_as(new, var.dtype))
        return new

    def _update_moving(self, mean, variance):
        if not self.renorm:
            self._ema(self.moving_mean, mean, self.momentum)
            self._ema(self.moving_variance, variance, self.momentum)
            return
        stddev = _ops.sqrt(variance + self.epsilon)
        self._ema(self.renorm_mean, mean, self.renorm_momentum)
        self._ema(self.renorm_stddev, stddev, self.renorm_momentum)
        self._ema(self.moving_mean, mean, self.momentum)
        new_stddev = self._ema(self.moving_stddev, stddev, self.momentum)
        self.moving_variance.assign(_as(_ops.relu(new_stddev * new_stddev - self.epsilon), self.moving_variance.dtype))

    def _renorm_transform(self, mean, variance, gamma, beta, shape, dtype):
        """Keras's renorm correction: r = stddev / renorm_stddev, d = (mean - renorm_mean) /
        renorm_stddev (clipped, no gradient), folded into gamma and beta. Reads the renorm
        statistics before this call's update."""
        stddev = _ops.sqrt(variance + self.epsilon)
        renorm_mean = _ops.reshape(_as(self.renorm_mean, dtype), shape)
        renorm_stddev = _ops.maximum(
            _ops.reshape(_as(self.renorm_stddev, dtype), shape), _ops.sqrt(_ops.constant(self.epsilon, dtype))
        )
        r = stddev / renorm_stddev
        d = (mean - renorm_mean) / renorm_stddev
        clip = self.renorm_clipping
        if clip.get("rmin") is not None:
            r = _ops.maximum(r, _ops.constant(clip["rmin"], dtype))
        if clip.get("rmax") is not None:
            r = _ops.minimum(r, _ops.constant(clip["rmax"], dtype))
        if clip.get("dmax") is not None:
            d = _ops.minimum(_ops.maximum(d, _ops.constant(-clip["dmax"], dtype)), _ops.constant(clip["dmax"], dtype))
        r, d = _ops.stop_gradient(r), _ops.stop_gradient(d)
        if gamma is not None:
            eff_gamma, eff_beta = r * gamma, d * gamma
        else:
            eff_gamma, eff_beta = r, d
        if beta is not None:
            eff_beta = eff_beta + beta
        return eff_gamma, eff_beta

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
                "synchronized": self.synchronized,
                "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum,
            }
        )
        return config


class LayerNormalization(_Affine):
    """Normalizes each example over `axis` (``keras.layers.LayerNormalization``); ``gamma`` and
    ``beta`` have the shape of those axes. The deprecated ``rms_scaling=True`` divides by the
    standard deviation (not the RMS) and drops ``beta``, as Keras does, with Keras's warning.

    >>> import tapegrad as tg
    >>> tg.keras.layers.LayerNormalization(epsilon=0.0)(tg.constant([[1.0, 3.0]])).numpy()
    array([[-1.,  1.]], dtype=float32)
    """

    def __init__(
        self,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument incorrectly scales the "
                "input by the variance, not the root mean square. To correctly use RMS Normalization, "
                "please use `keras.layers.RMSNormalization` instead.",
                stacklevel=2,
            )
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                "Expected an int or a list/tuple of ints for the argument 'axis', but received: %r" % (axis,)
            )
        self.epsilon = epsilon
        self.rms_scaling = rms_scaling
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )
        self.supports_masking = True
        self.autocast = False

    def build(self, input_shape):
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        _check_axes(axes, input_shape, self.axis)
        self.axis = axes
        shape = tuple(input_shape[a] for a in axes)
        self.gamma = self._add_gamma(shape) if self.scale or self.rms_scaling else None
        self.beta = self._add_beta(shape) if self.center and not self.rms_scaling else None
        self.built = True

    def call(self, inputs):
        x = _floating(inputs)
        nd = len(x.shape)
        axes = [a % nd for a in self.axis]
        bshape = [1] * nd
        for a in axes:
            bshape[a] = int(x.shape[a])
        gamma, beta = _laid_out(self.gamma, x.dtype, bshape), _laid_out(self.beta, x.dtype, bshape)
        if self.rms_scaling:
            mean = _ops.reduce_mean(x, axis=axes, keepdims=True)
            variance = _ops.reduce_mean(_ops.square(x - mean), axis=axes, keepdims=True)
            y = x * _ops.rsqrt(variance + _ops.constant(self.epsilon, x.dtype))
            if gamma is not None:
                y = y * gamma
        else:
            mean, variance = _moments(x, axes)
            y = _normalize(x, mean, variance, gamma, beta, self.epsilon)
        return self._out(y)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "rms_scaling": self.rms_scaling,
                **self._affine_config(),
            }
        )
        return config


class GroupNormalization(_Affine):
    """Splits the channels (`axis`) into `groups` and normalizes each example over each group and
    the other non-batch axes (``keras.layers.GroupNormalization``); ``groups=-1`` is instance
    normalization.

    >>> import tapegrad as tg
    >>> tg.keras.layers.GroupNormalization(groups=2)(tg.ones([2, 3, 4])).shape
    TensorShape([2, 3, 4])
    """

    def __init__(
        self,
        groups=32,
        axis=-1,
        epsilon=1e-3,
        center=True,
        scale=True,
        beta_initializer="zeros",
        gamma_initializer="ones",
        beta_regularizer=None,
        gamma_regularizer=None,
        beta_constraint=None,
        gamma_constraint=None,
        **kwargs,
    ):
        if not isinstance(groups, int) or (groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive integer (or `-1` "
                f"for instance normalization). Received: groups={groups}"
            )
        super().__init__(**kwargs)
        self.supports_masking = True
        self.autocast = False
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self._init_affine(
            center,
            scale,
            beta_initializer,
            gamma_initializer,
            beta_regularizer,
            gamma_regularizer,
            beta_constraint,
            gamma_constraint,
        )

    def build(self, input_shape):
        _check_axes([self.axis], input_shape, self.axis)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the layer received "
                f"an input with shape {input_shape}."
            )
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number of channels ({dim}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = self._add_gamma((dim,)) if self.scale else None
        self.beta = self._add_beta((dim,)) if self.center else None
        self.built = True

    def call(self, inputs):
        x = _floating(inputs)
        shape = [int(d) for d in x.shape]
        a = self.axis % len(shape)
        g = self.groups
        grouped = shape[:a] + [g, shape[a] // g] + shape[a + 1 :]
        xg = _ops.reshape(x, grouped)
        axes = [i for i in range(1, len(grouped)) if i != a]
        mean, variance = _moments(xg, axes)
        bshape = [1] * len(grouped)
        bshape[a], bshape[a + 1] = g, shape[a] // g
        gamma, beta = _laid_out(self.gamma, x.dtype, bshape), _laid_out(self.beta, x.dtype, bshape)
        y = _normalize(xg, mean, variance, gamma, beta, self.epsilon)
        return self._out(_ops.reshape(y, shape))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": self.groups,
                "axis": self.axis,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                **self._affine_config(),
            }
        )
        return config


class RMSNormalization(Layer):
    """Divides by the root mean square over `axis` and multiplies by a learned ``scale``
    (``keras.layers.RMSNormalization``): ``x * rsqrt(mean(x ** 2) + epsilon) * scale``. (Keras
    multiplies by ``scale`` without reshaping it, which only broadcasts right for trailing axes;
    here ``scale`` is laid along `axis` for any axes.)

    >>> import tapegrad as tg
    >>> tg.keras.layers.RMSNormalization(epsilon=0.0)(tg.constant([[3.0, 4.0]])).numpy().round(4)
    array([[0.8485, 1.1314]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        axes = sorted(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        _check_axes(axes, input_shape, self.axis)
        self.axis = axes
        self.scale = self.add_weight(name="scale", shape=tuple(input_shape[a] for a in axes), initializer="ones")
        self.built = True

    def call(self, x):
        x = _floating(x)
        if len(x.shape) == 0:
            x = _ops_shape.expand_dims(x, 0)
        nd = len(x.shape)
        axes = [a % nd for a in self.axis]
        bshape = [int(x.shape[a]) if a in axes else 1 for a in range(nd)]
        ms = _ops.reduce_mean(_ops.square(x), axis=axes, keepdims=True)
        y = x * _ops.rsqrt(ms + _ops.constant(self.epsilon, x.dtype)) * _ops.reshape(_as(self.scale, x.dtype), bshape)
        return _as(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis if isinstance(self.axis, list) else [self.axis], input_shape, self.axis)
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over `axis` (``keras.layers.UnitNormalization``):
    ``x * min(rsqrt(sum(x ** 2)), 1e12)``.

    >>> import tapegrad as tg
    >>> tg.keras.layers.UnitNormalization()(tg.constant([[3.0, 4.0]])).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError(
                f"Invalid value for `axis` argument: expected an int or a list/tuple of ints. Received: axis={axis}"
            )
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        x = _floating(inputs)
        if len(x.shape) == 0:
            x = _ops_shape.expand_dims(x, 0)
        inv = _ops.rsqrt(_ops.reduce_sum(_ops.square(x), axis=self.axis, keepdims=True))
        return x * _ops.minimum(inv, _ops.constant(1e12, x.dtype))

    def compute_output_shape(self, input_shape):
        for axis in self.axis if isinstance(self.axis, list) else [self.axis]:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}.")
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis})
        return config
