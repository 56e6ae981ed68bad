"""tf.keras.Model: the functional API, Sequential, subclassed models, summary(), configs and errors.

Where Keras is installed, the same architectures are built with real Keras (its Dense against our test
double of the same name) and the weight paths/shapes and the summary() text are compared.
"""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad.keras import layers


class Dense(layers.Layer):
    """Test double with Keras Dense's weights, names, input spec and config (optional relu)."""

    def __init__(self, units, activation=None, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = activation
        self.use_bias = use_bias
        self.input_spec = layers.InputSpec(min_ndim=2)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")
        self.input_spec = layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    def call(self, x):
        y = tg.matmul(x, self.kernel)
        if self.use_bias:
            y = y + self.bias
        return tg.nn.relu(y) if self.activation == "relu" else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "activation": self.activation, "use_bias": self.use_bias})
        return config


class Concatenate(layers.Layer):
    """Test double of Keras's Concatenate (last axis)."""

    def call(self, inputs):
        return tg.concat(list(inputs), axis=-1)


def dense_np(layer, x):
    w = [v.numpy() for v in layer.weights]
    y = x @ w[0] + (w[1] if len(w) > 1 else 0)
    return np.maximum(y, 0) if layer.activation == "relu" else y


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def _fresh_names():
    tg.keras.backend.clear_session()


# ---- functional -----------------------------------------------------------------------------------


def test_keras_tensor_and_input():
    x = tg.keras.Input(shape=(4,), name="x")
    assert x.shape == (None, 4) and x.dtype == "float32" and x.name == "x" and x._is_keras_tensor
    layer, node_index, tensor_index = x._keras_history
    assert isinstance(layer, layers.InputLayer) and (node_index, tensor_index) == (0, 0)
    assert layer.name == "x" and layer.batch_shape == (None, 4)
    assert repr(x) == "<KerasTensor shape=(None, 4), dtype=float32, sparse=False, ragged=False, name=x>"
    auto = tg.keras.Input((3,), batch_size=8, dtype="int32")
    assert auto.shape == (8, 3) and auto.dtype == "int32" and auto.name.startswith("keras_tensor")
    assert auto._keras_history.operation.name == "input_layer"
    assert tg.keras.Input(batch_shape=(None, None, 2)).shape == (None, None, 2)
    with pytest.raises(ValueError, match="You must pass a `shape` argument."):
        tg.keras.Input()
    with pytest.raises(ValueError, match="You cannot pass both `shape` and `batch_shape` at the same time."):
        tg.keras.Input((2,), batch_shape=(None, 2))
    with pytest.raises(TypeError, match="cannot be used as a boolean"):
        bool(x)


def test_ops_on_keras_tensors_record_operations():
    x = tg.keras.Input(shape=(4,), name="x")
    w = np.arange(10, dtype=np.float32).reshape(2, 5)
    y = -((2.0 * x + x - 1.0) / 2.0)[:, 1:3] @ w
    assert y.shape == (None, 5)
    model = tg.keras.Model(x, y)
    assert [op.name for op in model.operations] == [
        "x",
        "multiply",
        "add",
        "subtract",
        "true_divide",
        "get_item",
        "negative",
        "matmul",
    ]  # unary minus binds first
    assert [layer.name for layer in model.layers] == ["x"]  # ops are not layers
    xv = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    want = -((2 * xv + xv - 1) / 2)[:, 1:3] @ w
    np.testing.assert_allclose(model(xv).numpy(), want, rtol=1e-6)
    assert (x[:, 0]).shape == (None,) and (x**2).shape == (None, 4) and (1.0 - x).shape == (None, 4)


def test_multi_input_multi_output_and_shared_layer():
    a = tg.keras.Input((3,), name="a")
    b = tg.keras.Input((3,), name="b")
    shared = Dense(2, name="shared")
    ha, hb = shared(a), shared(b)
    merged = Concatenate(name="cat")([ha, hb])
    out1 = Dense(1, name="out1")(merged)
    out2 = Dense(2, activation="relu", name="out2")(ha + hb)
    model = tg.keras.Model([a, b], [out1, out2], name="two")
    assert len(shared._inbound_nodes) == 2 and hb._keras_history.node_index == 1
    assert [layer.name for layer in model.layers] == ["a", "b", "shared", "cat", "out1", "out2"]
    assert model.input_shape == [(None, 3), (None, 3)] and model.output_shape == [(None, 1), (None, 2)]
    assert [w.path for w in model.weights] == [
        "shared/kernel",
        "shared/bias",
        "out1/kernel",
        "out1/bias",
        "out2/kernel",
        "out2/bias",
    ]
    rng = np.random.default_rng(1)
    av, bv = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=(5, 3)).astype(np.float32)
    y1, y2 = model([av, bv])
    sa, sb = dense_np(shared, av), dense_np(shared, bv)
    np.testing.assert_allclose(y1.numpy(), dense_np(model.get_layer("out1"), np.concatenate([sa, sb], 1)), rtol=1e-5)
    np.testing.assert_allclose(y2.numpy(), dense_np(model.get_layer("out2"), sa + sb), rtol=1e-5, atol=1e-6)
    # dict inputs by name, gradients through the graph
    y1d, _ = model({"a": av, "b": bv})
    np.testing.assert_array_equal(y1d.numpy(), y1.numpy())
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(model([av, bv])[0])
    grads = tape.gradient(loss, model.trainable_variables)
    assert [g is None for g in grads] == [False] * 4 + [True] * 2  # out2 is not in the loss
    k = model.get_layer("out1").kernel.numpy()
    np.testing.assert_allclose(
        grads[2].numpy(), np.concatenate([sa, sb], 1).sum(0)[:, None] * np.ones_like(k), rtol=1e-5
    )


def test_nested_structures_and_nested_models():
    inputs = {"x": tg.keras.Input((2,), name="x"), "y": tg.keras.Input((2,), name="y")}
    inner_in = tg.keras.Input((2,), name="inner_in")
    inner = tg.keras.Model(inner_in, Dense(2, name="inner_dense")(inner_in), name="inner")
    hx = inner(inputs["x"])
    hy = inner(inputs["y"])  # the same model used twice: shared weights
    model = tg.keras.Model(inputs, {"sum": hx + hy, "x": hx}, name="outer")
    assert [layer.name for layer in model.layers] == ["x", "y", "inner"]
    assert [w.path for w in model.weights] == ["inner_dense/kernel", "inner_dense/bias"]
    assert model.output_shape == [(None, 2), (None, 2)]  # Keras: shapes of the flat outputs
    xv, yv = np.ones((1, 2), np.float32), np.full((1, 2), 2.0, np.float32)
    out = model({"x": xv, "y": yv})
    d = inner.get_layer("inner_dense")
    np.testing.assert_allclose(out["sum"].numpy(), dense_np(d, xv) + dense_np(d, yv), rtol=1e-6)
    np.testing.assert_allclose(out["x"].numpy(), dense_np(d, xv), rtol=1e-6)
    # a model from intermediate tensors
    h = tg.keras.Input((3,), name="h")
    mid = Dense(4, name="mid")(h)
    end = Dense(1, name="end")(mid)
    tail = tg.keras.Model(mid, end)
    assert tail.input_shape == (None, 4) and [layer.name for layer in tail.layers][1:] == ["end"]
    np.testing.assert_allclose(
        tail(np.ones((2, 4), np.float32)).numpy(), dense_np(tail.get_layer("end"), np.ones((2, 4))), rtol=1e-6
    )


def test_training_and_masks_reach_layers_in_a_graph():
    seen = []

    class Probe(layers.Layer):
        supports_masking = True

        def call(self, x, training=None):
            seen.append(training)
            return x

    class Masker(layers.Layer):
        def call(self, x):
            return x

        def compute_mask(self, x, previous_mask=None):
            return tg.not_equal(x, 0.0)

    class MaskUser(layers.Layer):
        supports_masking = True

        def call(self, x, mask=None):
            return x * tg.cast(mask, x.dtype)

    x = tg.keras.Input((3,))
    model = tg.keras.Model(x, MaskUser()(Probe()(Masker()(x))))
    seen.clear()
    out = model(np.array([[1.0, 0.0, 2.0]], np.float32), training=True)
    assert seen == [True]
    np.testing.assert_array_equal(out.numpy(), [[1.0, 0.0, 2.0]])
    assert out._keras_mask.numpy().tolist() == [[True, False, True]]
    model(np.ones((1, 3), np.float32))
    assert seen[-1] is None


def test_functional_errors():
    x = tg.keras.Input((4,), name="x")
    d = Dense(3, name="d")
    y = d(x)
    with pytest.raises(ValueError) as e:
        d(tg.keras.Input((5,)))
    assert str(e.value) == (
        "Input 0 with name 'None' of layer 'd' is incompatible with the layer: expected axis -1 "
        "of input shape to have value 4, but received input with shape (None, 5)"
    )
    model = tg.keras.Model(x, y)
    assert model.name == "functional"
    with pytest.raises(ValueError) as e:
        model(np.zeros((2, 5), np.float32))
    assert str(e.value) == (
        "Input 0 with name 'x' of layer 'functional' is incompatible with the layer: expected "
        "shape=(None, 4), found shape=(2, 5)"
    )
    with pytest.raises(
        ValueError,
        match=r"Layer \"functional\" expects 1 named input\(s\) with keys \['x'\], but "
        "it received 2 input tensors",
    ):
        model([np.zeros((2, 4)), np.zeros((2, 4))])
    other = tg.keras.Input((4,), name="other")
    with pytest.raises(ValueError, match="Output with path `` is not connected to `inputs`"):
        tg.keras.Model(other, d(x) + Dense(3)(other))
    with pytest.raises(ValueError, match="Output with path `1` is not connected to `inputs`"):
        tg.keras.Model(other, [Dense(3)(other), d(x)])
    with pytest.raises(ValueError, match="All `outputs` values must be KerasTensors"):
        tg.keras.Model(x, tg.ones([1]))
    # a trailing dim of 1 is squeezed or added, as Keras does
    x1 = tg.keras.Input((2, 1))
    m1 = tg.keras.Model(x1, x1 * 1.0)
    assert m1(np.ones((3, 2), np.float32)).shape == (3, 2, 1)


def test_functional_config_round_trip():
    x = tg.keras.Input((3,), name="x")
    shared = Dense(2, name="shared")
    y = Concatenate(name="cat")([shared(x), Dense(2, name="other")(shared(x))])
    model = tg.keras.Model(x, y, name="round")
    config = model.get_config()
    assert [layer["name"] for layer in config["layers"]] == ["x", "shared", "other", "cat"]
    assert config["input_layers"] == ["x", 0, 0] and config["output_layers"] == ["cat", 0, 0]
    assert len(config["layers"][1]["inbound_nodes"]) == 2
    clone = tg.keras.Model.from_config(config, custom_objects={"Dense": Dense, "Concatenate": Concatenate})
    assert [layer.name for layer in clone.layers] == ["x", "shared", "other", "cat"]
    assert [tuple(w.shape) for w in clone.weights] == [tuple(w.shape) for w in model.weights]
    clone.set_weights(model.get_weights())
    xv = np.random.default_rng(2).normal(size=(2, 3)).astype(np.float32)
    np.testing.assert_allclose(clone(xv).numpy(), model(xv).numpy(), rtol=1e-6)
    copy = tg.keras.models.clone_model(model)
    assert copy.weights[0] is not model.weights[0] and copy.output_shape == (None, 4)
    assert '"class_name": "Functional"' in model.to_json()


# ---- Sequential -----------------------------------------------------------------------------------


def test_sequential_with_input_builds_at_once():
    model = tg.keras.Sequential([tg.keras.Input((4,)), Dense(3, name="a"), Dense(2, name="b")], name="seq")
    assert model.built and [layer.name for layer in model.layers] == ["a", "b"]
    assert model.input_shape == (None, 4) and model.output_shape == (None, 2)
    assert model.inputs[0].shape == (None, 4) and model.outputs[0].shape == (None, 2)
    assert [w.path for w in model.weights] == ["seq/a/kernel", "seq/a/bias", "seq/b/kernel", "seq/b/bias"]
    xv = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(model(xv).numpy(), dense_np(model.layers[1], dense_np(model.layers[0], xv)), rtol=1e-6)
    assert model.get_layer(index=1).name == "b" and model.get_layer("a") is model.layers[0]
    with pytest.raises(ValueError, match=r"No such layer: c. Existing layers are: \['a', 'b'\]."):
        model.get_layer("c")


def test_sequential_deferred_build_add_pop():
    model = tg.keras.Sequential(name="lazy")
    model.add(Dense(3, name="a"))
    model.add(Dense(2, name="b"))
    assert not model.built and model.weights == []
    with pytest.raises(AttributeError, match="Sequential model 'lazy' has no defined input shape yet."):
        model.input_shape
    out = model(np.ones((5, 4), np.float32))
    assert out.shape == (5, 2) and model.built and len(model.weights) == 4
    assert model.input_shape == (5, 4)  # Keras 3 builds the graph from the first call's shape
    assert [w.path for w in model.weights][:2] == ["lazy/a/kernel", "lazy/a/bias"]
    popped = model.pop()
    assert popped.name == "b" and [layer.name for layer in model.layers] == ["a"]
    assert model.output_shape == (5, 3)
    model.add(Dense(1, name="c"))
    assert model.output_shape == (5, 1) and model(np.ones((5, 4), np.float32)).shape == (5, 1)

    built = tg.keras.Sequential([Dense(3, name="p")])
    built.build((None, 7))
    assert built.layers[0].kernel.shape == (7, 3) and built.input_shape == (None, 7)


def test_sequential_first_layer_input_shape_argument():
    with pytest.warns(UserWarning, match="Do not pass an `input_shape`"):
        first = Dense(3, input_shape=(5,))
    model = tg.keras.Sequential([first, Dense(1)])
    assert model.built and model.input_shape == (None, 5) and model.count_params() == 18 + 4


def test_sequential_errors():
    model = tg.keras.Sequential([Dense(3, name="a")], name="errs")
    with pytest.raises(
        ValueError,
        match=r"Only instances of `keras.Layer` can be added to a Sequential model. "
        r"Received: 3 \(of type <class 'int'>\)",
    ):
        model.add(3)
    with pytest.raises(
        ValueError,
        match="All layers added to a Sequential model should have unique names. Name 'a' "
        "is already the name of a layer in this model.",
    ):
        model.add(Dense(2, name="a"))
    with pytest.raises(ValueError, match="Sequential model errs_1 cannot be built because it has no layers."):
        tg.keras.Sequential(name="errs_1").build((None, 3))
    with_input = tg.keras.Sequential([tg.keras.Input((3,)), Dense(2)], name="fixed")
    with pytest.raises(
        ValueError,
        match=r"Sequential model 'fixed' has already been configured to use input shape "
        r"\(None, 3\). You cannot add a different Input layer to it.",
    ):
        with_input.add(tg.keras.Input((5,)))
    with pytest.raises(AttributeError, match="`Sequential.layers` attribute is reserved"):
        with_input.layers = []
    with pytest.raises(ValueError) as e:
        with_input(np.zeros((2, 4), np.float32))
    assert "is incompatible with the layer" in str(e.value) and "(2, 4)" in str(e.value)


def test_sequential_config_round_trip():
    model = tg.keras.Sequential(
        [tg.keras.Input((4,)), Dense(3, activation="relu", name="a"), Dense(1, name="b")], name="cfg"
    )
    config = model.get_config()
    assert config["name"] == "cfg" and config["build_input_shape"] == (None, 4)
    assert [c["class_name"] for c in config["layers"]] == ["InputLayer", "Dense", "Dense"]
    clone = tg.keras.Sequential.from_config(config, custom_objects={"Dense": Dense})
    assert clone.input_shape == (None, 4) and clone.layers[0].activation == "relu"
    clone.set_weights(model.get_weights())
    xv = np.random.default_rng(3).normal(size=(2, 4)).astype(np.float32)
    np.testing.assert_allclose(clone(xv).numpy(), model(xv).numpy(), rtol=1e-6)


# ---- subclassed -----------------------------------------------------------------------------------


class Sub(tg.keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = Dense(3, activation="relu")
        self.blocks = [Dense(2), Dense(2)]
        self.scale = tg.Variable(2.0, name="scale")

    def call(self, x, training=None):
        x = self.a(x)
        for block in self.blocks:
            x = block(x)
        return x * self.scale if training else x


def test_subclassed_model():
    model = Sub(name="sub")
    assert not model.built and len(model.layers) == 3
    xv = np.ones((2, 4), np.float32)
    out = model(xv)
    # a plain tf.Variable attribute is not a Keras weight (Keras 3 tracks only its own variables)
    assert [w.path for w in model.weights] == [
        "sub/dense/kernel",
        "sub/dense/bias",
        "sub/dense_1/kernel",
        "sub/dense_1/bias",
        "sub/dense_2/kernel",
        "sub/dense_2/bias",
    ]
    want = dense_np(model.blocks[1], dense_np(model.blocks[0], dense_np(model.a, xv)))
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(model(xv, training=True).numpy(), 2 * want, rtol=1e-6)
    assert len(model.trainable_variables) == 6 and model.count_params() == 15 + 8 + 6
    model.trainable = False
    assert model.trainable_variables == [] and model.blocks[0].trainable is False


def test_subclassed_build_and_call_without_call():
    model = Sub()
    model.build((None, 4))
    assert model.built and model.a.kernel.shape == (4, 3) and model.blocks[1].kernel.shape == (2, 2)

    class NoCall(tg.keras.Model):
        pass

    with pytest.raises(NotImplementedError, match="Model NoCall does not have a `call\\(\\)` method implemented."):
        NoCall()(np.ones((1, 1), np.float32))
    with pytest.raises(AttributeError, match="`Model.layers` attribute is reserved"):
        model.layers = []


def test_subclassed_model_inside_functional():
    x = tg.keras.Input((4,))
    sub = Sub(name="inner_sub")
    y = Dense(1, name="head")(sub(x))
    model = tg.keras.Model(x, y)
    assert [layer.name for layer in model.layers][1:] == ["inner_sub", "head"]
    assert model.output_shape == (None, 1) and len(model.weights) == 8  # 6 in Sub (its tf.Variable is no weight) + 2
    xv = np.ones((3, 4), np.float32)
    np.testing.assert_allclose(model(xv).numpy(), dense_np(model.get_layer("head"), sub(xv).numpy()), rtol=1e-6)


# ---- summary --------------------------------------------------------------------------------------


def _summary(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "".join(lines)


def test_summary_text():
    model = tg.keras.Sequential([tg.keras.Input((4,)), Dense(3), Dense(2, trainable=False)], name="s")
    text = _summary(model, line_length=76)
    assert text.splitlines() == [
        'Model: "s"',
        "┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓",
        "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃",
        "┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩",
        "│ dense (Dense)                   │ (None, 3)              │            15 │",
        "├─────────────────────────────────┼────────────────────────┼───────────────┤",
        "│ dense_1 (Dense)                 │ (None, 2)              │             8 │",
        "└─────────────────────────────────┴────────────────────────┴───────────────┘",
        " Total params: 23 (92.00 B)",
        " Trainable params: 15 (60.00 B)",
        " Non-trainable params: 8 (32.00 B)",
    ]
    unbuilt = tg.keras.Sequential([Dense(3)], name="u")
    assert "│ dense_2 (Dense)                 │ ?                      │   0 (unbuilt) │" in _summary(
        unbuilt, line_length=76
    )


def _both(keras, build):
    """(our text, Keras's text) for the same architecture built by build(api, Dense)."""
    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours = _summary(build(tg.keras, Dense, Concatenate), line_length=76)
    ref_lines = []
    build(keras, keras.layers.Dense, keras.layers.Concatenate).summary(print_fn=ref_lines.append, line_length=76)
    return ours, "".join(ref_lines)


ARCHITECTURES = {
    "sequential": lambda k, D, C: k.Sequential([k.Input((4,)), D(3), D(2)]),
    "sequential_unbuilt": lambda k, D, C: k.Sequential([D(3), D(2)]),
    "functional_multi": lambda k, D, C: _multi(k, D, C),
    "functional_ops": lambda k, D, C: _ops(k, D),
    "nested": lambda k, D, C: _nested(k, D),
}


def _multi(k, D, C):
    a, b = k.Input((3,)), k.Input((3,))
    shared = D(2, name="shared")
    cat = C()([shared(a), shared(b)])
    return k.Model([a, b], [D(1, name="out")(cat), D(5)(shared(a))], name="multi")


def _ops(k, D):
    x = k.Input((4,), name="x")
    return k.Model(x, D(3)((x * 2 + x)[:, 1:3]))


def _nested(k, D):
    i = k.Input((4,), name="i")
    inner = k.Model(i, D(2)(i))
    j = k.Input((4,))
    return k.Model(j, D(1)(inner(j)))


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_summary_matches_keras(keras, arch):
    ours, ref = _both(keras, ARCHITECTURES[arch])
    assert ours == ref


def test_summary_options_match_keras(keras):
    for kwargs in ({"expand_nested": True, "show_trainable": True}, {"layer_range": ["dense", "dense_1"]}):
        tg.keras.backend.clear_session()
        keras.backend.clear_session()
        ours = []
        _nested(tg.keras, Dense).summary(print_fn=ours.append, line_length=76, **kwargs)
        ref = []
        _nested(keras, keras.layers.Dense).summary(print_fn=ref.append, line_length=76, **kwargs)
        assert "".join(ours) == "".join(ref), kwargs


def test_subclassed_summary_matches_keras(keras):
    def build(k, D):
        class S(k.Model):
            def __init__(self):
                super().__init__(name="s")
                self.a = D(3)
                self.b = D(2)

            def call(self, x):
                return self.b(self.a(x))

        return S()

    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours_model, ref_model = build(tg.keras, Dense), build(keras, keras.layers.Dense)
    ours, ref = [], []
    ours_model.summary(print_fn=ours.append, line_length=76)
    ref_model.summary(print_fn=ref.append, line_length=76)
    assert ours == ref  # unbuilt: "?" and "0 (unbuilt)"
    ours_model(np.zeros((2, 4), np.float32))
    ref_model(np.zeros((2, 4), np.float32))
    ours, ref = [], []
    ours_model.summary(print_fn=ours.append, line_length=76)
    ref_model.summary(print_fn=ref.append, line_length=76)
    assert ours == ref


def test_weights_order_matches_keras(keras):
    def build(k, D):
        class Block(k.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.first = D(3)
                self.rest = [D(3), D(2)]

            def build(self, input_shape):
                self.gain = self.add_weight(shape=(2,), initializer="ones", name="gain")

            def call(self, x):
                h = self.first(x)
                for layer in self.rest:
                    h = layer(h)
                return h * self.gain

        class Net(k.Model):
            def __init__(self):
                super().__init__(name="net")
                self.block = Block(name="block")
                self.head = D(1)

            def call(self, x):
                return self.head(self.block(x))

        x = k.Input((4,))
        seq = k.Sequential([k.Input((4,)), D(5), D(4)])
        net = Net()
        net(np.zeros((1, 4), np.float32))
        functional = k.Model(x, net(seq(x)))
        return functional

    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours, ref = build(tg.keras, Dense), build(keras, keras.layers.Dense)
    assert [(w.path, tuple(w.shape)) for w in ours.weights] == [(w.path, tuple(w.shape)) for w in ref.weights]
    assert [w.path for w in ours.trainable_variables] == [w.path for w in ref.trainable_variables]
    assert [layer.name for layer in ours.layers] == [layer.name for layer in ref.layers]


def test_model_subclass_built_functionally():
    class CustomModel(tg.keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.steps = 0

        def train_step_count(self):
            self.steps += 1
            return self.steps

    x = tg.keras.Input((3,), name="x")
    model = CustomModel(x, Dense(1, name="head")(x), name="custom")
    assert isinstance(model, CustomModel) and type(model).__name__ == "CustomModel"
    assert model.train_step_count() == 1 and [layer.name for layer in model.layers] == ["x", "head"]
    xv = np.ones((2, 3), np.float32)
    np.testing.assert_allclose(model(xv).numpy(), dense_np(model.get_layer("head"), xv), rtol=1e-6)
    keyword = CustomModel(inputs=x, outputs=Dense(2)(x))
    assert type(keyword) is type(model) and keyword.output_shape == (None, 2)


def test_shape_inference_unknown_dims():
    class SqueezeAll(layers.Layer):
        def call(self, x):
            return tg.squeeze(x)  # drops a batch of 1: the inference must not take it for a fixed dim

    class Stats(layers.Layer):
        def call(self, x):
            return [tg.reduce_mean(x, axis=0), tg.shape(x)[1:2]]

    x = tg.keras.Input((None, 3))
    assert SqueezeAll()(x).shape == (None, None, 3)
    mean, size = Stats()(x)
    assert mean.shape == (None, 3) and size.shape == (1,) and size.dtype == "int32"
    seq = tg.keras.Input((None,), dtype="int32")
    assert (seq * 2).dtype == "int32" and (seq * 2).shape == (None, None)


def test_summary_wider_than_console_matches_keras(keras, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours, ref = [], []
    ARCHITECTURES["sequential"](tg.keras, Dense, Concatenate).summary(
        print_fn=ours.append, line_length=90, show_trainable=True
    )
    ARCHITECTURES["sequential"](keras, keras.layers.Dense, None).summary(
        print_fn=ref.append, line_length=90, show_trainable=True
    )
    assert ours == ref and max(len(line) for line in ours[0].splitlines()) == 80


def test_keras_tensor_in_a_tf_op_raises_keras_message():
    x = tg.keras.Input((3,))
    with pytest.raises(ValueError, match="A KerasTensor cannot be used as input to a TensorFlow function"):
        tg.nn.relu(x)


def test_wrong_shape_messages_match_keras(keras):
    def messages(api, dense):
        out = []
        layer = dense(3, name="dd")
        layer(np.zeros((2, 4), np.float32))
        for bad in (np.zeros((2, 5), np.float32), np.zeros((2,), np.float32), api.Input((7,))):
            with pytest.raises(ValueError) as e:
                layer(bad)
            out.append(str(e.value))
        x = api.Input((4,), name="x")
        model = api.Model(x, dense(2, name="d2")(x), name="m")
        with pytest.raises(ValueError) as e:
            model(np.zeros((2, 5), np.float32))
        out.append(str(e.value))
        return out

    ours, ref = messages(tg.keras, Dense), messages(keras, keras.layers.Dense)
    assert ours == ref
    assert "(None, 7)" in ours[2] and "layer 'dd'" in ours[2]


def test_input_layer_config_and_layer_io_properties():
    layer = layers.InputLayer(shape=(3,), name="feats")
    assert layer.get_config() == {
        "batch_shape": (None, 3),
        "dtype": "float32",
        "sparse": False,
        "ragged": False,
        "name": "feats",
        "optional": False,
    }
    same = tg.keras.Input(tensor=layer.output)
    assert same.shape == (None, 3)
    with pytest.raises(ValueError, match="cannot provide an incompatible `dtype` argument"):
        tg.keras.Input(tensor=layer.output, dtype="int32")
    d = Dense(2, name="io_d")
    y = d(layer.output)
    assert d.input is layer.output and d.output is y
    d(tg.keras.Input((3,)))
    assert d.output is y  # the first call's, as Keras 3 (checked)
    with pytest.raises(AttributeError, match="has never been called and thus has no defined input"):
        Dense(1, name="fresh").input
    model = tg.keras.Model(layer.output, y)
    with pytest.raises(ValueError, match="Was asked to retrieve layer at index 5 but model only has 2 layers."):
        model.get_layer(index=5)
    with pytest.raises(ValueError, match="Provide only a layer name or a layer index"):
        model.get_layer(name="io_d", index=0)


def test_more_keras_tensor_operators():
    x = tg.keras.Input((3,), name="x")
    outs = [
        x // 2.0,
        x % 2.0,
        5.0 // x,
        x < 1.0,
        x >= 1.0,
        x != 0.0,
        (x > 0.0) & (x < 2.0),
        (x > 2.0) | (x < 0.5),
        ~(x > 1.0),
        (x > 1.0) ^ (x > 2.0),
        round(x),
    ]
    model = tg.keras.Model(x, outs)
    assert {"floor_divide", "mod", "floor_divide_1", "logical_xor", "round"} <= {op.name for op in model.operations}
    xv = np.array([[0.4, 1.5, 3.0]], np.float32)
    want = [
        xv // 2,
        xv % 2,
        5 // xv,
        xv < 1,
        xv >= 1,
        xv != 0,
        (xv > 0) & (xv < 2),
        (xv > 2) | (xv < 0.5),
        ~(xv > 1),
        (xv > 1) ^ (xv > 2),
        np.round(xv),
    ]
    for got, w in zip(model(xv), want):
        np.testing.assert_array_equal(got.numpy(), w)
    assert {x: 1}[x] == 1


def test_config_round_trip_with_operations(keras):
    def build(k, D):
        x = k.Input((4,), name="x")
        h = D(3, name="h")(x * 2.0 + 1.0)
        return k.Model(x, -h[:, 1:] @ np.ones((2, 2), np.float32))

    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    model, ref = build(tg.keras, Dense), build(keras, keras.layers.Dense)
    config = model.get_config()
    ref_config = ref.get_config()
    assert [(c["class_name"], c["name"]) for c in config["layers"]] == [
        (c["class_name"], c["name"]) for c in ref_config["layers"]
    ]
    assert [c["module"] for c in config["layers"] if c["class_name"] != "Dense"] == [
        c["module"] for c in ref_config["layers"] if c["class_name"] != "Dense"
    ]
    slice_arg = config["layers"][4]["inbound_nodes"][0]["args"][1]
    assert slice_arg == ref_config["layers"][4]["inbound_nodes"][0]["args"][1]
    clone = tg.keras.Model.from_config(config, custom_objects={"Dense": Dense})
    clone.set_weights(model.get_weights())
    xv = np.random.default_rng(4).normal(size=(3, 4)).astype(np.float32)
    np.testing.assert_allclose(clone(xv).numpy(), model(xv).numpy(), rtol=1e-6)
    assert tg.keras.models.clone_model(model).output_shape == (None, 2)


def test_nested_custom_layer_summary_matches_keras(keras):
    def build(k, D):
        class Block(k.layers.Layer):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.inner = D(3)

            def call(self, x):
                return self.inner(x)

        class Net(k.Model):
            def __init__(self):
                super().__init__(name="net")
                self.block = Block(name="block")

            def call(self, x):
                return self.block(x)

        x = k.Input((4,))
        return k.Model(x, Net()(x))

    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours, ref = [], []
    build(tg.keras, Dense).summary(print_fn=ours.append, line_length=76, expand_nested=True)
    build(keras, keras.layers.Dense).summary(print_fn=ref.append, line_length=76, expand_nested=True)
    assert ours == ref


def test_ops_inside_a_subclassed_call_make_no_operations(keras):
    def build(k, D):
        class Net(k.Model):
            def __init__(self):
                super().__init__(name="net")
                self.d = D(2)

            def call(self, x):
                return self.d(x * 2.0) + 1.0

        x = k.Input((3,))
        return k.Model(x, Net()(x) + 1.0)

    tg.keras.backend.clear_session()
    keras.backend.clear_session()
    ours, ref = build(tg.keras, Dense), build(keras, keras.layers.Dense)
    assert [op.name for op in ours.operations] == [op.name for op in ref.operations]
    out_ours, out_ref = [], []
    ours.summary(print_fn=out_ours.append, line_length=76, expand_nested=True)
    ref.summary(print_fn=out_ref.append, line_length=76, expand_nested=True)
    assert out_ours == out_ref


def test_operation_configs_are_not_taken_for_layers_of_the_same_name():
    class Add(layers.Layer):  # a layer named like the "Add" operation (as keras.layers.Add is)
        def call(self, inputs):
            return inputs[0] + inputs[1]

    x = tg.keras.Input((2,), name="x")
    model = tg.keras.Model(x, Add(name="merge")([x + 1.0, x]))
    clone = tg.keras.Model.from_config(model.get_config(), custom_objects={"Add": Add})
    assert [type(op).__name__ for op in clone.operations] == ["InputLayer", "Add", "Add"]
    np.testing.assert_array_equal(clone(np.ones((1, 2), np.float32)).numpy(), [[3.0, 3.0]])


def test_json_round_trip():
    model = tg.keras.Sequential([tg.keras.Input((3,)), Dense(2, name="a")], name="js")
    clone = tg.keras.models.model_from_json(model.to_json(), custom_objects={"Dense": Dense})
    assert isinstance(clone, tg.keras.Sequential) and clone.input_shape == (None, 3) and clone.name == "js"
    x = tg.keras.Input((3,), name="x")
    functional = tg.keras.Model(x, [Dense(1, name="o1")(x), x[:, 1:] * 2.0])
    back = tg.keras.models.model_from_json(functional.to_json(), custom_objects={"Dense": Dense})
    assert back.output_shape == [(None, 1), (None, 2)] and [layer.name for layer in back.layers] == ["x", "o1"]


def test_subclass_with_two_constructor_arguments_is_not_functional():
    # regression: `Autoencoder(latent_dim, shape)` was taken for Model(inputs, outputs)
    class Autoencoder(tg.keras.Model):
        def __init__(self, latent_dim, shape):
            super().__init__()
            self.shape_ = shape
            self.encoder = tg.keras.layers.Dense(latent_dim)

        def call(self, x):
            return self.encoder(x)

    model = Autoencoder(4, (3,))
    assert model(tg.ones([2, 3])).shape == [2, 4]
    assert not isinstance(model, tg.keras.models.functional.Functional)


def test_training_of_the_model_call_overrides_a_recorded_training_argument():
    # Keras 3.15: model(x, training=True) reaches a layer recorded as bn(x, training=False)
    inp = tg.keras.Input((3,))
    bn = tg.keras.layers.BatchNormalization()
    model = tg.keras.Model(inp, bn(inp, training=False))
    model(np.ones((4, 3), "float32") * 5, training=True)
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0.05] * 3, rtol=1e-6)
    model(np.ones((4, 3), "float32") * 5)  # no training given: the recorded False holds
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0.05] * 3, rtol=1e-6)


def test_sequential_inside_a_layer_called_on_keras_tensors():
    # regression: the inner Sequential was built symbolically, then again on the zero-run's real
    # batch, and refused the (1, 5, 8) shape against its (None, 5, 8) InputLayer
    class Block(tg.keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.ffn = tg.keras.Sequential([Dense(4, activation="relu"), Dense(8)])

        def call(self, x):
            return self.ffn(x)

    out = Block()(tg.keras.Input((5, 8)))
    assert out.shape == (None, 5, 8)
