"""The Keras 3 Layer base: lazy build, add_weight, tracking, trainable, training, losses, masks, configs,
input specs. Expected values are Keras 3.15's (messages copied from keras/src/layers)."""

import warnings

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras import layers


class Dense(layers.Layer):
    """A test double with Keras Dense's weights, names and input spec."""

    def __init__(self, units, use_bias=True, kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.use_bias = use_bias
        self.kernel_regularizer = kernel_regularizer
        self.input_spec = layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), name="kernel", regularizer=self.kernel_regularizer
        )
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.input_spec = layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, x):
        y = tg.matmul(x, self.kernel)
        return y + self.bias if self.use_bias else y

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "use_bias": self.use_bias})
        return config


def test_lazy_build_on_first_call():
    seen = []

    class Probe(layers.Layer):
        def build(self, input_shape):
            seen.append(tuple(input_shape))
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w

    layer = Probe(name="probe")
    assert not layer.built and layer.weights == [] and layer.path is None
    y = layer(tg.ones([2, 3]))
    assert layer.built and seen == [(2, 3)]
    layer(tg.ones([4, 3]))
    assert seen == [(2, 3)]  # built once
    np.testing.assert_array_equal(y.numpy(), np.ones((2, 3)))
    assert layer.path == "probe" and [w.path for w in layer.weights] == ["probe/w"]
    assert layer.weights[0].name == "w"


def test_add_weight_defaults_and_errors():
    layer = layers.Layer(name="holder")
    w = layer.add_weight(shape=(20, 30))
    assert w.dtype == tg.float32 and w.trainable and w.name == "variable"
    limit = np.sqrt(6 / 50)  # glorot_uniform by default for floats
    a = w.numpy()
    assert np.all(np.abs(a) <= limit) and a.std() > limit / 4
    i = layer.add_weight(shape=(3,), dtype="int32", name="count", trainable=False)
    assert i.dtype == tg.int32 and i.numpy().tolist() == [0, 0, 0]  # zeros for non-floats
    s = layer.add_weight(name="scalar", initializer="ones")
    assert s.shape == () and float(s) == 1.0
    assert layer.trainable_weights == [w, s] and layer.non_trainable_weights == [i]
    assert layer.weights == [w, s, i]  # own trainable, then own non-trainable
    with pytest.raises(
        ValueError,
        match=r"`name` must be passed as a keyword argument. Received: add_weight\('k', "
        r"...\). Use: add_weight\(shape=..., name='k'\).",
    ):
        layer.add_weight("k")
    with pytest.raises(ValueError, match="Invalid value for argument `aggregation`"):
        layer.add_weight(shape=(), aggregation="max")


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense: \{'foo': 1\}"):
        Dense(2, foo=1)
    with pytest.raises(ValueError, match="Expected `trainable` to be a boolean"):
        Dense(2, trainable=1)
    with pytest.raises(ValueError, match="Argument `name` must be a string and cannot contain character `/`"):
        Dense(2, name="a/b")
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`/`input_dim` argument to a layer"):
        Dense(2, input_shape=(3,))

    class Forgot(layers.Layer):
        def __init__(self):
            self.units = 3

    with pytest.raises(
        RuntimeError,
        match="In layer 'Forgot', you forgot to call `super\\(\\).__init__\\(\\)` as the "
        "first statement in the `__init__\\(\\)` method. Go add it!",
    ):
        Forgot()


def test_positional_arguments_must_be_tensors():
    class Two(layers.Layer):
        def call(self, x, y=None):
            return x

    with pytest.raises(
        ValueError,
        match="Only input tensors may be passed as positional arguments. The following "
        "argument value should be passed as a keyword argument: 3 \\(of type "
        "<class 'int'>\\)",
    ):
        Two()(tg.ones([1, 2]), 3)
    assert Two()(tg.ones([1, 2]), y=3).shape == (1, 2)


def test_inputs_are_converted_and_autocast():
    class Echo(layers.Layer):
        def call(self, x):
            return x

    out = Echo()(np.ones((2, 2)))  # float64 numpy -> float32 (the layer's compute dtype)
    assert out.dtype == tg.float32
    assert Echo()(tg.ones([2], dtype=tg.float64)).dtype == tg.float32
    assert Echo(dtype="float64")(np.ones(2, np.float32)).dtype == tg.float64
    assert Echo()(np.arange(3)).dtype in (tg.int32, tg.int64)  # integers are not cast
    assert Echo(autocast=False)(tg.ones([2], dtype=tg.float64)).dtype == tg.float64


def test_tracking_order_nested_layers_and_lists():
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.first = Dense(3, name="first")
            self.stack = [Dense(3, name="s0")]
            self.table = {"b": Dense(2, name="tb"), "a": Dense(2, name="ta")}

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
            self.stack.append(Dense(3, name="s1"))  # appended after assignment: still tracked

        def call(self, x):
            h = self.first(x)
            for layer in self.stack:
                h = layer(h)
            return self.table["a"](h) + self.table["b"](h) * self.scale

    block = Block(name="block")
    block(tg.ones([1, 4]))
    assert [layer.name for layer in block.layers] == ["first", "s0", "tb", "ta", "s1"]
    assert [w.path for w in block.weights] == [
        "block/scale",
        "block/first/kernel",
        "block/first/bias",
        "block/s0/kernel",
        "block/s0/bias",
        "block/tb/kernel",
        "block/tb/bias",
        "block/ta/kernel",
        "block/ta/bias",
        "block/s1/kernel",
        "block/s1/bias",
    ]
    assert type(block.stack) is not list and isinstance(block.stack, list)
    popped = block.stack.pop()
    assert popped not in block.layers
    assert block.count_params() == 1 + 15 + 12 + 8 + 8


def test_trainable_flag_recurses():
    outer = layers.Layer(name="outer")
    outer.inner = Dense(2)
    outer.inner.build((None, 3))
    own = outer.add_weight(shape=(), name="own")
    frozen = outer.add_weight(shape=(), name="frozen", trainable=False)
    assert len(outer.trainable_weights) == 3 and outer.non_trainable_weights == [frozen]
    outer.trainable = False
    assert outer.trainable_weights == [] and outer.inner.trainable is False
    assert len(outer.non_trainable_weights) == 4 and not own.trainable
    outer.trainable = True
    assert len(outer.trainable_weights) == 3 and own.trainable and not frozen.trainable


def test_training_argument_resolution():
    seen = {}

    class Leaf(layers.Layer):
        def call(self, x, training=None):
            seen[self.name] = training
            return x

    class Default(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.leaf = Leaf(name="leaf_d")

        def call(self, x, training=False):
            seen[self.name] = training
            return self.leaf(x)

    class Outer(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.leaf = Leaf(name="leaf_o")
            self.default = Default(name="default")

        def call(self, x):  # no training argument: still passes the context down
            return self.default(self.leaf(x))

    x = tg.ones([1, 2])
    Outer(name="outer")(x, training=True)
    assert seen == {"leaf_o": True, "default": True, "leaf_d": True}
    seen.clear()
    Outer(name="outer2")(x)
    assert seen == {"leaf_o": None, "default": False, "leaf_d": False}  # the signature default is passed down
    seen.clear()
    Leaf(name="solo")(x, training=False)
    assert seen == {"solo": False}


def test_losses_add_loss_regularizers_and_activity():
    def l2(w):
        return 0.5 * tg.reduce_sum(w * w)

    class WithLoss(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = Dense(2, kernel_regularizer=l2, name="reg")

        def call(self, x):
            self.add_loss(tg.reduce_sum(x))
            return self.dense(x)

    layer = WithLoss(activity_regularizer=lambda y: tg.reduce_sum(tg.abs(y)))
    x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    y = layer(x)
    kernel = layer.dense.kernel.numpy()
    losses = [float(v) for v in layer.losses]
    assert len(losses) == 3
    np.testing.assert_allclose(losses[0], 10.0)
    np.testing.assert_allclose(losses[1], np.abs(y.numpy()).sum() / 2, rtol=1e-6)  # activity loss / batch size
    np.testing.assert_allclose(losses[2], 0.5 * (kernel**2).sum(), rtol=1e-6)
    layer(x)
    assert len(layer.losses) == 3  # add_loss values are reset by each top-level call


def test_masks_flow_between_layers():
    class MakeMask(layers.Layer):
        def call(self, x):
            return x

        def compute_mask(self, x, previous_mask=None):
            return tg.not_equal(x, 0.0)

    class UsesMask(layers.Layer):
        supports_masking = True

        def call(self, x, mask=None):
            self.got = mask
            return x * 2.0

    class NoMask(layers.Layer):
        def call(self, x):
            return x

    assert MakeMask().supports_masking and not NoMask().supports_masking
    x = tg.constant([[1.0, 0.0, 3.0]])
    h = MakeMask()(x)
    assert h._keras_mask.numpy().tolist() == [[True, False, True]]
    user = UsesMask()
    out = user(h)
    assert user.got.numpy().tolist() == [[True, False, True]]
    assert out._keras_mask is not None  # supports_masking passes it through
    with pytest.warns(
        UserWarning,
        match="was passed an input with a mask attached to it. However, this layer does not support masking",
    ):
        NoMask(name="no_mask")(h)


def test_input_spec_errors_name_layer_and_shapes():
    dense = Dense(3, name="dd")
    dense(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError) as e:
        dense(np.zeros((2, 5), np.float32))
    assert str(e.value) == (
        "Input 0 with name 'None' of layer 'dd' is incompatible with the layer: expected axis -1 "
        "of input shape to have value 4, but received input with shape (2, 5)"
    )
    with pytest.raises(ValueError) as e:
        dense(np.zeros((2,), np.float32))
    assert str(e.value) == (
        "Input 0 with name 'None' of layer 'dd' is incompatible with the layer: expected "
        "min_ndim=2, found ndim=1. Full shape received: (2,)"
    )

    class Exact(layers.Layer):
        def __init__(self):
            super().__init__(name="exact")
            self.input_spec = layers.InputSpec(ndim=3, dtype="float32", name="img")

        def call(self, x):
            return x

    with pytest.raises(
        ValueError,
        match=r"Input 0 with name 'img' of layer 'exact' is incompatible with the layer: "
        r"expected ndim=3, found ndim=2. Full shape received: \(1, 2\)",
    ):
        Exact()(tg.ones([1, 2]))
    with pytest.raises(ValueError, match="expected dtype=float32, found dtype=int32"):
        Exact()(tg.zeros([1, 2, 2], dtype=tg.int32))
    with pytest.raises(
        ValueError,
        match=r'Layer "exact" expects 1 named input\(s\) with keys \[\'img\'\], but it '
        "received 2 input tensors",
    ):
        Exact()([tg.ones([1, 1, 1]), tg.ones([1, 1, 1])])
    spec = layers.InputSpec(shape=(None, 3))
    assert spec.ndim == 2 and repr(spec) == "InputSpec(shape=(None, 3), ndim=2)"


def test_auto_config_and_from_config():
    class Plain(layers.Layer):
        def __init__(self, units, act=None, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def call(self, x):
            return x

    config = Plain(3, name="p").get_config()
    assert config == {"name": "p", "units": 3, "act": None, "trainable": True, "dtype": "float32"}
    clone = Plain.from_config(config)
    assert clone.name == "p" and clone.units == 3

    class NoKwargs(layers.Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

        def call(self, x):
            return x

    assert "name" not in NoKwargs(2).get_config()  # cannot be passed back: Keras drops it
    with pytest.raises(
        NotImplementedError,
        match="Object Plain was created by passing\nnon-serializable argument values in `__init__\\(\\)`",
    ):
        Plain(3, act=lambda x: x).get_config()

    class Variadic(layers.Layer):
        def __init__(self, *args, **kwargs):
            super().__init__(**kwargs)

        def call(self, x):
            return x

    with pytest.raises(NotImplementedError, match="positional only or variadic positional arguments"):
        Variadic(1).get_config()
    d = Dense(4, use_bias=False, name="d4", trainable=False)
    assert d.get_config() == {"name": "d4", "trainable": False, "dtype": "float32", "units": 4, "use_bias": False}
    d2 = Dense.from_config(d.get_config())
    assert (d2.name, d2.units, d2.use_bias, d2.trainable) == ("d4", 4, False, False)


def test_weights_io_and_counts():
    d = Dense(2, name="io")
    with pytest.raises(ValueError, match="You tried to call `count_params` on layer 'io', but the layer isn't built"):
        d.count_params()
    d.build((None, 3))
    assert d.count_params() == 8
    values = [np.arange(6, dtype=np.float32).reshape(3, 2), np.array([1.0, -1.0], np.float32)]
    d.set_weights(values)
    for got, want in zip(d.get_weights(), values):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(d(np.ones((1, 3), np.float32)).numpy(), [[7.0, 8.0]])
    with pytest.raises(ValueError, match="with a weight list of length 1, but the layer was expecting 2 weights"):
        d.set_weights(values[:1])
    with pytest.raises(
        ValueError,
        match=r"Layer io weight shape \(3, 2\) is not compatible with provided weight "
        r"shape \(2, 2\)",
    ):
        d.set_weights([np.zeros((2, 2)), values[1]])


def test_compute_output_shape_default_runs_the_layer():
    d = Dense(5)
    assert d.compute_output_shape((None, 3)) == (None, 5)
    assert d.built and d.kernel.shape == (3, 5)

    class Split(layers.Layer):
        def call(self, x):
            return [x[:, :1], {"rest": x[:, 1:]}]

    assert Split().compute_output_shape((None, 4)) == [(None, 1), {"rest": (None, 3)}]


def test_auto_names_are_unique():
    a, b = Dense(1), Dense(1)
    assert a.name != b.name and a.name.startswith("dense")


def test_no_warning_for_plain_call():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Dense(2)(np.ones((1, 2), np.float32))
