"""Keras layers (core, activation, reshaping, merging, regularization, preprocessing) against numpy
transcriptions of Keras's formulas; gradients w.r.t. inputs (tg.testing.check_gradients) and
w.r.t. weights (central differences along random directions), in float64; masks, configs, errors."""

import warnings

import numpy as np
import pytest

import tapegrad as tg

L = tg.keras.layers
RNG = np.random.default_rng(0)


def f64(*shape):
    return RNG.normal(size=shape)


def T(x):
    """A float64 tensor (the Layer base turns numpy float64 into float32, as `tg.keras` does for now)."""
    return tg.constant(x)


def check_weight_gradients(layer, x, eps=1e-6, rtol=1e-5, atol=1e-7, **call_kwargs):
    """<u, d<v, layer(x)>/dw> from the tape against central differences, for each weight."""
    x = tg.constant(x)
    out = layer(x, **call_kwargs)
    v = tg.constant(RNG.normal(size=tuple(out.shape)))
    with tg.GradientTape() as tape:
        s = tg.reduce_sum(layer(x, **call_kwargs) * v)
    grads = tape.gradient(s, layer.trainable_weights)
    assert len(grads) == len(layer.trainable_weights) > 0
    for w, g in zip(layer.trainable_weights, grads):
        w0 = np.array(w)
        u = RNG.normal(size=w0.shape)
        analytic = float(np.sum(np.asarray(g) * u))
        w.assign(w0 + eps * u)
        plus = float(tg.reduce_sum(layer(x, **call_kwargs) * v))
        w.assign(w0 - eps * u)
        minus = float(tg.reduce_sum(layer(x, **call_kwargs) * v))
        w.assign(w0)
        numeric = (plus - minus) / (2 * eps)
        assert np.isclose(analytic, numeric, rtol=rtol, atol=atol), (w.path, analytic, numeric)


def roundtrip(layer):
    """from_config(get_config()) gives the same config (name included)."""
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone


# ---- core ---------------------------------------------------------------------------------------


def test_dense_matches_numpy_rank2_and_rank3():
    layer = L.Dense(4, activation="tanh", dtype="float64")
    x2, x3 = f64(5, 3), f64(2, 5, 3)
    y2 = layer(T(x2))
    k, b = (np.array(w) for w in layer.weights)
    np.testing.assert_allclose(y2, np.tanh(x2 @ k + b), rtol=1e-12)
    np.testing.assert_allclose(layer(T(x3)), np.tanh(x3 @ k + b), rtol=1e-12)
    assert [w.path for w in layer.weights] == [f"{layer.name}/kernel", f"{layer.name}/bias"]
    assert layer.compute_output_shape((None, 7, 3)) == (None, 7, 4)


def test_dense_gradients():
    layer = L.Dense(3, activation="sigmoid", dtype="float64")
    x = f64(4, 2, 5)
    layer(T(x))
    tg.testing.check_gradients(lambda t: layer(t), [x], order=1)
    check_weight_gradients(layer, x)


def test_dense_no_bias_and_input_spec_errors():
    layer = L.Dense(2, use_bias=False, kernel_initializer="ones")
    np.testing.assert_allclose(layer(np.ones((1, 3), "float32")), [[3.0, 3.0]])
    assert len(layer.weights) == 1 and layer.bias is None
    with pytest.raises(
        ValueError, match=r'layer [\'"]dense.*expected axis -1 of input shape to have value 3.*\(2, 4\)'
    ):
        layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match=r"expected min_ndim=2, found ndim=1"):
        L.Dense(2)(np.ones((3,), "float32"))
    with pytest.raises(ValueError, match="Received an invalid value for `units`"):
        L.Dense(0)
    with pytest.raises(NotImplementedError, match="LoRA"):
        L.Dense(2, lora_rank=2)
    with pytest.raises(AttributeError, match="You must build the layer before accessing `kernel`"):
        L.Dense(2).kernel


def test_dense_regularizers_and_config():
    layer = L.Dense(
        3,
        kernel_regularizer=tg.keras.regularizers.L2(0.1),
        bias_regularizer="l1",
        activity_regularizer=tg.keras.regularizers.L1(0.5),
        kernel_initializer="ones",
        bias_initializer=tg.keras.initializers.Constant(2.0),
    )
    x = np.ones((4, 2), "float32")
    y = layer(x)
    losses = [float(v) for v in layer.losses]
    # activity loss (divided by the batch size), then each weight's penalty
    assert losses[0] == pytest.approx(0.5 * np.abs(np.asarray(y)).sum() / 4)
    assert sorted(losses[1:]) == pytest.approx(sorted([0.1 * 6.0, 0.01 * 6.0]))
    config = layer.get_config()
    assert config["units"] == 3 and config["activation"] == "linear"
    assert config["kernel_regularizer"]["class_name"] == "L2"
    clone = L.Dense.from_config(config)
    assert clone.units == 3 and isinstance(clone.kernel_regularizer, tg.keras.regularizers.L2)


def test_einsum_dense_matches_numpy():
    layer = L.EinsumDense(
        "abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de", activation="relu", dtype="float64"
    )
    x = f64(3, 5, 6)
    y = layer(T(x))
    k, b = (np.array(w) for w in layer.weights)
    assert k.shape == (6, 2, 4) and b.shape == (2, 4)
    np.testing.assert_allclose(y, np.maximum(np.einsum("abc,cde->abde", x, k) + b, 0), rtol=1e-12)
    assert layer.compute_output_shape((3, 5, 6)) == (3, None, 2, 4)  # Keras keeps the None
    check_weight_gradients(layer, x)
    left = L.EinsumDense("...b,bc->...c", output_shape=4, bias_axes="c")
    assert left(np.ones((2, 3, 5), "float32")).shape == (2, 3, 4)
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        L.EinsumDense("ab->b", output_shape=2)(np.ones((1, 2), "float32"))


def test_activation_identity_lambda():
    x = f64(2, 3)
    np.testing.assert_allclose(L.Activation("relu", dtype="float64")(T(x)), np.maximum(x, 0))
    np.testing.assert_allclose(
        L.Activation(tg.keras.activations.sigmoid)(x.astype("float32")), 1 / (1 + np.exp(-x)), rtol=1e-6
    )
    assert L.Activation("softmax").get_config()["activation"] == "softmax"
    np.testing.assert_array_equal(L.Identity(dtype="float64")(T(x)), x)
    lam = L.Lambda(lambda t, a, b: t * a + b, arguments={"a": 2.0, "b": 1.0}, output_shape=(3,))
    np.testing.assert_allclose(lam(x.astype("float32")), 2 * x + 1, rtol=1e-6)
    assert lam.compute_output_shape((None, 3)) == (None, 3)


def test_lambda_mask_training_and_config():
    seen = {}

    def fn(t, mask=None, training=None):
        seen["mask"], seen["training"] = mask, training
        return t

    layer = L.Lambda(fn, mask=lambda inputs, mask: tg.constant([True, False]))
    out = layer(tg.ones([2, 3]), training=True)
    assert seen["training"] is True and seen["mask"] is None
    np.testing.assert_array_equal(out._keras_mask, [True, False])
    config = layer.get_config()
    assert config["function"] == {
        "module": "builtins",
        "class_name": "function",
        "config": "fn",
        "registered_name": "function",
    }
    with pytest.raises(ValueError, match="Could not locate function 'fn'"):
        L.Lambda.from_config(config, safe_mode=False)
    assert L.Lambda.from_config(config, custom_objects={"fn": fn}, safe_mode=False).function is fn
    assert L.Lambda.from_config(L.Lambda(tg.keras.activations.relu).get_config()).function is tg.keras.activations.relu
    assert config["mask"]["class_name"] == "__lambda__"
    lam = L.Lambda(lambda t: t * 3.0)
    config = lam.get_config()
    assert config["function"]["class_name"] == "__lambda__" and config["arguments"] == {}
    with pytest.raises(ValueError, match="deserialization of a `Lambda` layer whose `function` is a Python lambda"):
        L.Lambda.from_config(config)
    clone = L.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(clone(tg.ones([1, 2])), [[3.0, 3.0]])


def test_embedding_lookup_mask_and_gradient():
    layer = L.Embedding(6, 3, mask_zero=True, dtype="float64")
    ids = np.array([[1, 0, 5], [2, 2, 0]])
    y = layer(ids)
    table = np.array(layer.embeddings)
    np.testing.assert_array_equal(y, table[ids])
    np.testing.assert_array_equal(y._keras_mask, ids != 0)
    # float ids are cast to int32 as Keras does
    np.testing.assert_array_equal(layer(ids.astype("float32")), table[ids])
    assert layer.compute_output_shape((None, 3)) == (None, 3, 3)
    check_weight_gradients(layer, ids)
    wide = L.Embedding(50, 40)
    wide.build()
    table = np.array(wide.embeddings)
    assert 0.045 < np.abs(table).max() <= 0.05  # "uniform" = RandomUniform(-0.05, 0.05)
    assert getattr(L.Embedding(4, 2)(np.array([[1]])), "_keras_mask", None) is None


def test_embedding_arguments():
    with pytest.warns(UserWarning, match="Argument `input_length` is deprecated"):
        L.Embedding(4, 2, input_length=3)
    with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
        L.Embedding(0, 2)
    with pytest.raises(tg.errors.InvalidArgumentError, match=r"indices\[0,1\] = 9 is not in \[0, 4\)"):
        L.Embedding(4, 2)(np.array([[1, 9]]))
    w = np.arange(8.0).reshape(4, 2)
    layer = L.Embedding(4, 2, weights=[w])
    np.testing.assert_array_equal(layer(np.array([3])), [[6.0, 7.0]])
    config = roundtrip(L.Embedding(4, 2, mask_zero=True)).get_config()
    assert config["mask_zero"] is True and config["embeddings_initializer"]["class_name"] == "RandomUniform"


def test_masking():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [0.0, 3.0]]], "float32")
    out = L.Masking()(x)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(out._keras_mask, [[True, False, True]])
    out = L.Masking(mask_value=3.0)(np.array([[[3.0, 3.0], [3.0, 1.0]]], "float32"))
    np.testing.assert_array_equal(out, [[[0.0, 0.0], [3.0, 1.0]]])
    np.testing.assert_array_equal(out._keras_mask, [[False, True]])
    # the mask flows through mask-passing layers
    d = L.Activation("tanh")(L.Dropout(0.5)(L.Masking()(x)))
    np.testing.assert_array_equal(d._keras_mask, [[True, False, True]])


# ---- activation layers -----------------------------------------------------------------------------


def np_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    """Keras's definition: x above threshold, else negative_slope * (x - threshold); capped at max_value."""
    y = np.where(x > threshold, x, negative_slope * (x - threshold))
    return np.minimum(y, max_value) if max_value is not None else y


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"max_value": 1.5},
        {"negative_slope": 0.2},
        {"threshold": 0.5},
        {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.3},
    ],
)
def test_relu_variants(kwargs):
    x = np.linspace(-3, 3, 25).reshape(5, 5) + 0.01
    y = L.ReLU(dtype="float64", **kwargs)(T(x))
    # TF's leaky_relu takes its slope as a float32 attribute, also for float64 features
    np.testing.assert_allclose(y, np_relu(x, **kwargs), rtol=1e-7 if "negative_slope" in kwargs else 1e-12, atol=1e-12)
    tg.testing.check_gradients(lambda t: L.ReLU(dtype="float64", **kwargs)(t), [x], order=1)


def test_relu_keras_cases_and_errors():
    np.testing.assert_allclose(
        L.ReLU(max_value=8, threshold=5)(np.array([6.0, 7.0, 0.0, 5, 10])), [6.0, 7.0, 0.0, 0.0, 8.0]
    )
    np.testing.assert_allclose(
        L.ReLU(max_value=10, negative_slope=0.5)(np.array([-10, -5, 0.0, 5, 10])), [-5.0, -2.5, 0.0, 5.0, 10.0]
    )
    for kwargs, msg in [
        ({"max_value": -1}, "max_value of a ReLU layer cannot be a negative value"),
        ({"negative_slope": None}, "negative_slope of a ReLU layer cannot be None"),
        ({"threshold": -1}, "threshold of a ReLU layer cannot be None"),
    ]:
        with pytest.raises(ValueError, match=msg):
            L.ReLU(**kwargs)


def test_leaky_relu_elu():
    x = f64(4, 3)
    np.testing.assert_allclose(L.LeakyReLU(dtype="float64")(T(x)), np.where(x > 0, x, 0.3 * x))
    with pytest.warns(UserWarning, match="Argument `alpha` is deprecated. Use `negative_slope` instead."):
        layer = L.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1 and layer.get_config()["negative_slope"] == 0.1
    with pytest.raises(ValueError, match="The negative_slope value of a Leaky ReLU layer cannot be None"):
        L.LeakyReLU(negative_slope=-1)
    np.testing.assert_allclose(L.ELU(0.7, dtype="float64")(T(x)), np.where(x > 0, x, 0.7 * (np.exp(x) - 1)), rtol=1e-12)
    tg.testing.check_gradients(lambda t: L.ELU(0.7, dtype="float64")(t), [x])
    tg.testing.check_gradients(lambda t: L.LeakyReLU(dtype="float64")(t), [x])


def test_prelu_shared_axes_and_gradients():
    layer = L.PReLU(
        alpha_initializer=tg.keras.initializers.RandomUniform(0.1, 0.5), shared_axes=[1, 2], dtype="float64"
    )
    x = f64(2, 4, 5, 3)
    y = layer(T(x))
    alpha = np.array(layer.alpha)
    assert alpha.shape == (1, 1, 3)
    np.testing.assert_allclose(y, np.where(x > 0, x, alpha * x), rtol=1e-12)
    check_weight_gradients(layer, x)
    tg.testing.check_gradients(lambda t: layer(t), [x], order=1)
    with pytest.raises(ValueError, match="expected axis 3 of input shape to have value 3"):
        layer(np.ones((2, 4, 5, 2)))
    assert L.PReLU(shared_axes=1).get_config()["shared_axes"] == [1]


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_axes_and_masks():
    x = f64(2, 3, 4)
    np.testing.assert_allclose(L.Softmax(dtype="float64")(T(x)), np_softmax(x, -1), rtol=1e-12)
    np.testing.assert_allclose(L.Softmax(axis=1, dtype="float64")(T(x)), np_softmax(x, 1), rtol=1e-12)
    np.testing.assert_allclose(L.Softmax(axis=(1, 2), dtype="float64")(T(x)), np_softmax(x, (1, 2)), rtol=1e-12)
    mask = RNG.uniform(size=(2, 3, 4)) > 0.3
    y = np.asarray(L.Softmax(dtype="float64")(T(x), mask=mask))
    ref = np.where(mask, np_softmax(np.where(mask, x, -1e9), -1), 0.0)
    np.testing.assert_allclose(y, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(
        L.Softmax()(np.array([[1.0, 2.0, 1.0], [3.0, 4.0, 5.0]]), mask=np.array([1.0, 0.0, 1.0]))[:, 1], [0.0, 0.0]
    )
    tg.testing.check_gradients(lambda t: L.Softmax(dtype="float64")(t, mask=mask), [x])
    with pytest.raises(ValueError, match="must not have more dimensions"):
        L.Softmax()(np.ones((1, 3)), mask=np.ones((1, 1, 3)))
    with pytest.raises(ValueError, match="broadcastable"):
        L.Softmax()(np.ones((1, 3)), mask=np.ones((2, 3)))


# ---- reshaping -------------------------------------------------------------------------------------


def test_flatten_reshape_permute_repeat():
    x = f64(2, 3, 4, 5)
    np.testing.assert_array_equal(L.Flatten(dtype="float64")(T(x)), x.reshape(2, -1))
    np.testing.assert_array_equal(
        L.Flatten(data_format="channels_first", dtype="float64")(T(x)), x.transpose(0, 2, 3, 1).reshape(2, -1)
    )
    np.testing.assert_array_equal(L.Flatten()(np.ones(3, "float32")), np.ones((3, 1)))
    assert L.Flatten().compute_output_shape((None, 3, None)) == (None, None)
    np.testing.assert_array_equal(L.Reshape((-1, 10), dtype="float64")(T(x)), x.reshape(2, 6, 10))
    assert L.Reshape((-1, 10)).compute_output_shape((None, 3, 4, 5)) == (None, 6, 10)
    np.testing.assert_array_equal(L.Permute((3, 1, 2), dtype="float64")(T(x)), x.transpose(0, 3, 1, 2))
    assert L.Permute((3, 1, 2)).compute_output_shape((None, 3, 4, 5)) == (None, 5, 3, 4)
    v = f64(2, 3)
    np.testing.assert_array_equal(L.RepeatVector(4, dtype="float64")(T(v)), np.repeat(v[:, None, :], 4, axis=1))
    tg.testing.check_gradients(lambda t: L.RepeatVector(4, dtype="float64")(t), [v])
    tg.testing.check_gradients(lambda t: L.Permute((2, 1), dtype="float64")(t), [f64(2, 3, 4)])


def test_reshaping_errors():
    with pytest.raises(ValueError, match="cannot by divided by the specified dimensions in target_shape"):
        L.Reshape((-1, 7))(np.ones((2, 3, 4), "float32"))
    with pytest.raises(ValueError, match="There must be at most one unknown dimension"):
        L.Reshape((-1, -1))
    with pytest.raises(ValueError, match="Invalid permutation argument `dims`"):
        L.Permute((1, 3))
    with pytest.raises(ValueError, match=r'layer [\'"]permute.*expected ndim=3, found ndim=2'):
        L.Permute((2, 1))(np.ones((2, 3), "float32"))
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        L.RepeatVector(2.0)
    with pytest.raises(ValueError, match="`cropping` parameter of `Cropping1D` layer must be smaller"):
        L.Cropping1D((2, 2))(np.ones((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="Values in `cropping` argument should be smaller"):
        L.Cropping2D(((2, 2), (0, 0)))(np.ones((1, 4, 4, 2), "float32"))
    with pytest.raises(ValueError, match="The `data_format` argument must be one of"):
        L.ZeroPadding2D(data_format="nhwc")
    with pytest.raises(ValueError, match="`padding` should have two elements"):
        L.ZeroPadding2D((1, 2, 3))


def test_zero_padding_and_cropping():
    x1, x2, x3 = f64(2, 5, 3), f64(2, 5, 6, 3), f64(1, 4, 5, 6, 2)
    np.testing.assert_array_equal(L.ZeroPadding1D((1, 2), dtype="float64")(T(x1)), np.pad(x1, ((0, 0), (1, 2), (0, 0))))
    np.testing.assert_array_equal(
        L.ZeroPadding2D(((1, 0), (2, 1)), dtype="float64")(T(x2)), np.pad(x2, ((0, 0), (1, 0), (2, 1), (0, 0)))
    )
    np.testing.assert_array_equal(
        L.ZeroPadding2D(1, data_format="channels_first", dtype="float64")(T(x2)),
        np.pad(x2, ((0, 0), (0, 0), (1, 1), (1, 1))),
    )
    np.testing.assert_array_equal(
        L.ZeroPadding3D(dtype="float64")(T(x3)), np.pad(x3, ((0, 0), (1, 1), (1, 1), (1, 1), (0, 0)))
    )
    np.testing.assert_array_equal(L.Cropping1D((1, 2), dtype="float64")(T(x1)), x1[:, 1:3])
    np.testing.assert_array_equal(L.Cropping1D((1, 0), dtype="float64")(T(x1)), x1[:, 1:])
    np.testing.assert_array_equal(L.Cropping2D(((1, 0), (2, 1)), dtype="float64")(T(x2)), x2[:, 1:, 2:5])
    np.testing.assert_array_equal(
        L.Cropping2D(1, data_format="channels_first", dtype="float64")(T(x2)), x2[:, :, 1:5, 1:2]
    )
    np.testing.assert_array_equal(L.Cropping3D(((1, 1), (0, 2), (1, 0)), dtype="float64")(T(x3)), x3[:, 1:3, 0:3, 1:])
    assert L.ZeroPadding2D(((1, 0), (2, 1))).compute_output_shape((None, None, 6, 3)) == (None, None, 9, 3)
    assert L.Cropping2D(((1, 0), (2, 1))).compute_output_shape((None, 5, None, 3)) == (None, 4, None, 3)
    assert L.Cropping1D().compute_output_shape((None, 5, 3)) == (None, 3, 3)
    tg.testing.check_gradients(lambda t: L.ZeroPadding2D(1, dtype="float64")(t), [x2])
    tg.testing.check_gradients(lambda t: L.Cropping2D(1, dtype="float64")(t), [x2])


def np_resize_bilinear(x, out_h, out_w):
    """Half-pixel-centre bilinear resize of NHWC, pixel by pixel (TF's ResizeBilinear)."""
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c))

    def coords(o, size_in, size_out):
        f32 = np.float32  # TF's kernel works in float32
        pos = (f32(o) + f32(0.5)) * (f32(size_in) / f32(size_out)) - f32(0.5)
        lo = int(np.floor(pos))
        return max(lo, 0), min(int(np.ceil(pos)), size_in - 1), float(pos - np.floor(pos))

    for i in range(out_h):
        y0, y1, wy = coords(i, h, out_h)
        for j in range(out_w):
            x0, x1, wx = coords(j, w, out_w)
            top = x[:, y0, x0] + (x[:, y0, x1] - x[:, y0, x0]) * wx
            bottom = x[:, y1, x0] + (x[:, y1, x1] - x[:, y1, x0]) * wx
            out[:, i, j] = top + (bottom - top) * wy
    return out


def test_upsampling():
    x1, x2, x3 = f64(2, 3, 4), f64(2, 3, 4, 2), f64(1, 2, 3, 2, 2)
    np.testing.assert_array_equal(L.UpSampling1D(3, dtype="float64")(T(x1)), np.repeat(x1, 3, axis=1))
    np.testing.assert_array_equal(
        L.UpSampling2D((2, 3), dtype="float64")(T(x2)), np.repeat(np.repeat(x2, 2, axis=1), 3, axis=2)
    )
    np.testing.assert_array_equal(
        L.UpSampling2D(2, data_format="channels_first", dtype="float64")(T(x2)),
        np.repeat(np.repeat(x2, 2, axis=2), 2, axis=3),
    )
    np.testing.assert_allclose(
        L.UpSampling2D((2, 3), interpolation="bilinear", dtype="float64")(T(x2)),
        np_resize_bilinear(x2, 6, 12),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_array_equal(
        L.UpSampling3D((1, 2, 3), dtype="float64")(T(x3)), np.repeat(np.repeat(x3, 2, axis=2), 3, axis=3)
    )
    assert L.UpSampling2D((2, 3)).compute_output_shape((None, 3, None, 2)) == (None, 6, None, 2)
    tg.testing.check_gradients(lambda t: L.UpSampling2D(2, interpolation="bilinear", dtype="float64")(t), [x2])
    tg.testing.check_gradients(lambda t: L.UpSampling1D(2, dtype="float64")(t), [x1])
    with pytest.raises(NotImplementedError, match="interpolation='bicubic'"):
        L.UpSampling2D(interpolation="bicubic")


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: L.Flatten(data_format="channels_first", dtype="float64"), (2, 3, 4)),
        (lambda: L.Reshape((-1, 2), dtype="float64"), (2, 3, 4)),
        (lambda: L.ZeroPadding1D((2, 1), dtype="float64"), (2, 3, 4)),
        (lambda: L.ZeroPadding3D(1, dtype="float64"), (1, 2, 2, 3, 2)),
        (lambda: L.Cropping1D((1, 1), dtype="float64"), (2, 4, 3)),
        (lambda: L.Cropping3D(((1, 0), (0, 1), (1, 1)), dtype="float64"), (1, 3, 3, 4, 2)),
        (lambda: L.UpSampling3D((2, 1, 2), dtype="float64"), (1, 2, 2, 3, 2)),
        (
            lambda: L.UpSampling2D((3, 2), interpolation="bilinear", data_format="channels_first", dtype="float64"),
            (1, 2, 3, 4),
        ),
        (lambda: L.Masking(dtype="float64"), (2, 3, 4)),
        (lambda: L.Activation("swish", dtype="float64"), (2, 3)),
        (lambda: L.Lambda(lambda t: tg.sin(t) * t, dtype="float64"), (2, 3)),
        (lambda: L.CenterCrop(5, 3, dtype="float64"), (1, 4, 6, 2)),
    ],
)
def test_shape_layer_gradients(make, shape):
    layer = make()
    tg.testing.check_gradients(lambda t: layer(t), [f64(*shape)])


@pytest.mark.parametrize(
    "cls", ["Flatten", "Permute", "RepeatVector", "ZeroPadding2D", "Cropping3D", "UpSampling2D", "Reshape"]
)
def test_reshaping_config_roundtrip(cls):
    args = {"Permute": ((2, 1),), "RepeatVector": (3,), "Reshape": ((2, -1),)}.get(cls, ())
    roundtrip(getattr(L, cls)(*args))


# ---- merging ---------------------------------------------------------------------------------------


def test_elementwise_merges():
    a, b, c = f64(3, 4), f64(3, 4), f64(3, 4)
    cases = [
        (L.add, a + b + c),
        (L.multiply, a * b * c),
        (L.average, (a + b + c) / 3),
        (L.maximum, np.maximum(np.maximum(a, b), c)),
        (L.minimum, np.minimum(np.minimum(a, b), c)),
    ]
    for fn, ref in cases:
        np.testing.assert_allclose(fn([T(a), T(b), T(c)], dtype="float64"), ref, rtol=1e-12)
        tg.testing.check_gradients(lambda x, y, z, fn=fn: fn([x, y, z], dtype="float64"), [a, b, c])
    np.testing.assert_allclose(L.subtract([T(a), T(b)], dtype="float64"), a - b)
    np.testing.assert_allclose(L.Subtract(dtype="float64")([T(a), T(b)]), a - b)
    # lower-rank inputs get axes after the batch axis, then broadcast
    d = f64(3, 2, 4)
    np.testing.assert_allclose(L.add([T(a), T(d)], dtype="float64"), a[:, None, :] + d)
    assert L.Add().compute_output_shape([(None, 4), (None, 2, 4)]) == (None, 2, 4)
    assert L.Add().compute_output_shape([(3, 1), (None, 4)]) == (3, 4)


def test_concatenate_and_dot():
    a, b = f64(3, 4), f64(3, 2)
    np.testing.assert_allclose(L.concatenate([T(a), T(b)], dtype="float64"), np.concatenate([a, b], -1))
    c = f64(3, 5, 4)
    np.testing.assert_allclose(L.Concatenate(axis=1, dtype="float64")([c, c]), np.concatenate([c, c], 1))
    assert L.Concatenate().compute_output_shape([(None, 4), (None, 2)]) == (None, 6)
    assert L.Concatenate().compute_output_shape([(None, 4), (None, None)]) == (None, None)
    tg.testing.check_gradients(lambda x, y: L.concatenate([x, y], dtype="float64"), [a, b])
    x, y = f64(3, 5, 4), f64(3, 6, 4)
    np.testing.assert_allclose(
        L.dot([T(x), T(y)], axes=2, dtype="float64"), np.einsum("bik,bjk->bij", x, y), rtol=1e-12
    )
    np.testing.assert_allclose(L.Dot(axes=(1, 1), dtype="float64")([T(x), T(f64(3, 5, 2))]).shape, (3, 4, 2))
    p, q = f64(3, 4), f64(3, 4)
    np.testing.assert_allclose(L.dot([T(p), T(q)], axes=1, dtype="float64"), (p * q).sum(1, keepdims=True), rtol=1e-12)
    cos = (p * q).sum(1) / np.linalg.norm(p, axis=1) / np.linalg.norm(q, axis=1)
    np.testing.assert_allclose(L.Dot(1, normalize=True, dtype="float64")([T(p), T(q)])[:, 0], cos, rtol=1e-12)
    r = f64(3, 4, 6)
    np.testing.assert_allclose(
        L.Dot(axes=(1, 1), dtype="float64")([T(p), T(r)]), np.einsum("bk,bkj->bj", p, r), rtol=1e-12
    )
    assert L.Dot(axes=2).compute_output_shape([(None, 5, 4), (None, 6, 4)]) == (None, 5, 6)
    assert L.Dot(axes=1).compute_output_shape([(None, 4), (None, 4)]) == (None, 1)
    tg.testing.check_gradients(lambda s, t: L.Dot(2, normalize=True, dtype="float64")([s, t]), [x, y])


def test_merge_errors():
    a = np.ones((2, 3), "float32")
    with pytest.raises(ValueError, match="A merge layer should be called on a list of inputs"):
        L.Add()(a)
    with pytest.raises(
        ValueError,
        match=r"Cannot merge tensors with different batch sizes. Received tensors with "
        r"shapes \[\(2, 3\), \(3, 3\)\]",
    ):
        L.Add()([a, np.ones((3, 3), "float32")])
    with pytest.raises(ValueError, match=r"Inputs have incompatible shapes. Received shapes \(3,\) and \(4,\)"):
        L.Multiply()([a, np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="A `Subtract` layer should be called on exactly 2 inputs"):
        L.Subtract()([a, a, a])
    with pytest.raises(
        ValueError, match="A `Concatenate` layer requires inputs with matching shapes except for the concatenation axis"
    ):
        L.Concatenate(axis=1)([a, np.ones((2, 3, 1), "float32")])
    with pytest.raises(ValueError, match=r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4 \(at axis 1\)"):
        L.Dot(axes=1)([a, np.ones((2, 4), "float32")])
    with pytest.raises(ValueError, match="A `Dot` layer should be called on a list of 2 inputs"):
        L.Dot(axes=1)([a, a, a])
    with pytest.raises(TypeError, match="Invalid type for argument `axes`"):
        L.Dot(axes="1")


def test_merge_masks():
    emb = L.Embedding(5, 2, mask_zero=True, embeddings_initializer="ones")
    x = emb(np.array([[1, 0, 2, 0]]))
    y = emb(np.array([[0, 0, 3, 4]]))
    either = [[True, False, True, True]]
    for fn in (L.add, L.average, L.subtract, L.maximum, L.minimum, L.multiply, L.concatenate):
        np.testing.assert_array_equal(fn([x, y])._keras_mask, either)
    np.testing.assert_array_equal(
        L.concatenate([x, y], axis=1)._keras_mask, [[True, False, True, False, False, False, True, True]]
    )
    assert getattr(L.dot([x, y], axes=2), "_keras_mask", None) is None
    # Maximum ignores masked entries of an input; Multiply treats them as 1 and zeroes fully masked ones
    a = tg.constant([[[-5.0], [2.0]]])
    a._keras_mask = tg.constant([[False, True]])
    b = tg.constant([[[-1.0], [-3.0]]])
    b._keras_mask = tg.constant([[True, False]])
    np.testing.assert_array_equal(L.maximum([a, b]), [[[-1.0], [2.0]]])
    np.testing.assert_array_equal(L.multiply([a, b]), [[[-1.0], [2.0]]])
    # an input without a mask makes the merged mask None
    assert getattr(L.add([x, tg.ones([1, 4, 2])]), "_keras_mask", None) is None


@pytest.mark.parametrize("layer", [L.Add(), L.Concatenate(axis=1), L.Dot(axes=(1, 2), normalize=True)])
def test_merge_config_roundtrip(layer):
    roundtrip(layer)


# ---- regularization --------------------------------------------------------------------------------


def test_dropout_inference_and_training():
    x = np.ones((200, 50), "float32")
    layer = L.Dropout(0.3, seed=3)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    y = np.asarray(layer(x, training=True))
    assert set(np.unique(y).tolist()) <= {0.0, np.float32(1 / 0.7)}
    assert abs((y == 0).mean() - 0.3) < 0.02  # 10000 draws: 5 sigma is 0.023
    # same seed -> same sequence of masks; calls continue the sequence
    again = L.Dropout(0.3, seed=3)
    np.testing.assert_array_equal(again(x, training=True), y)
    assert not np.array_equal(again(x, training=True), y)
    np.testing.assert_array_equal(L.Dropout(1.0)(x, training=True), np.zeros_like(x))
    np.testing.assert_array_equal(L.Dropout(0.0)(x, training=True), x)


def test_dropout_noise_shape_gradient_and_errors():
    x = np.ones((4, 5, 3), "float32")
    y = np.asarray(L.Dropout(0.5, noise_shape=(None, 1, 3), seed=0)(x, training=True))
    assert (y == y[:, :1, :]).all()
    xd = f64(4, 5)
    layer = L.Dropout(0.4, seed=1, dtype="float64")
    xt = tg.constant(xd)
    with tg.GradientTape() as tape:
        tape.watch(xt)
        out = layer(xt, training=True)
    g = np.asarray(tape.gradient(out, xt))
    np.testing.assert_allclose(g, np.where(np.asarray(out) == 0, 0, 1 / 0.6))
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`"):
        L.Dropout(1.5)
    with pytest.raises(ValueError, match="Invalid value received for argument `noise_shape`"):
        L.Dropout(0.5, noise_shape="abc")
    with pytest.raises(ValueError, match="positive integers or None"):
        L.Dropout(0.5, noise_shape=(0, 1))


def test_training_flag_reaches_inner_dropout():
    class Block(L.Layer):
        def __init__(self):
            super().__init__()
            self.drop = L.Dropout(0.5, seed=0)

        def call(self, x):
            return self.drop(x)

    x = np.ones((50, 50), "float32")
    block = Block()
    np.testing.assert_array_equal(block(x), x)
    assert (np.asarray(block(x, training=True)) == 0).any()


def test_spatial_dropout():
    x = np.ones((8, 6, 7, 5), "float32")
    y = np.asarray(L.SpatialDropout2D(0.5, seed=0)(x, training=True))
    assert (y == y[:, :1, :1, :]).all() and set(np.unique(y).tolist()) == {0.0, 2.0}
    y = np.asarray(L.SpatialDropout2D(0.5, data_format="channels_first", seed=0)(x, training=True))
    assert (y == y[:, :, :1, :1]).all()
    y = np.asarray(L.SpatialDropout1D(0.5, seed=0)(np.ones((8, 6, 5), "float32"), training=True))
    assert (y == y[:, :1, :]).all()
    y = np.asarray(L.SpatialDropout3D(0.5, seed=0)(np.ones((4, 3, 3, 3, 5), "float32"), training=True))
    assert (y == y[:, :1, :1, :1, :]).all()
    np.testing.assert_array_equal(L.SpatialDropout1D(0.5)(np.ones((2, 3, 4), "float32")), np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="expected ndim=4"):
        L.SpatialDropout2D(0.5)(np.ones((2, 3, 4), "float32"), training=True)
    config = L.SpatialDropout2D(0.2, seed=1).get_config()
    assert set(config) == {"rate", "seed", "name", "dtype", "data_format"}
    assert L.SpatialDropout2D.from_config(config).rate == 0.2


def test_gaussian_noise_dropout_alpha_dropout_statistics():
    x = np.full((400, 250), 2.0, "float32")
    y = np.asarray(L.GaussianNoise(0.5, seed=1)(x, training=True)) - 2.0
    assert abs(y.mean()) < 0.01 and abs(y.std() - 0.5) < 0.01  # 1e5 draws
    rate = 0.3
    y = np.asarray(L.GaussianDropout(rate, seed=1)(x, training=True)) / 2.0
    assert abs(y.mean() - 1.0) < 0.01 and abs(y.std() - np.sqrt(rate / (1 - rate))) < 0.01
    # AlphaDropout keeps zero mean / unit variance of standard normal inputs
    z = np.random.default_rng(1).normal(size=(400, 250)).astype("float32")
    y = np.asarray(L.AlphaDropout(0.2, seed=1)(z, training=True))
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02
    for layer in (L.GaussianNoise(0.5), L.GaussianDropout(0.5), L.AlphaDropout(0.5)):
        np.testing.assert_array_equal(layer(x), x)
    with pytest.raises(ValueError, match="Invalid value received for argument `stddev`"):
        L.GaussianNoise(-1.0)


def test_activity_regularization():
    layer = L.ActivityRegularization(l1=0.1, l2=0.01)
    x = f64(4, 3).astype("float32")
    np.testing.assert_array_equal(layer(x), x)
    (loss,) = layer.losses
    assert float(loss) == pytest.approx((0.1 * np.abs(x).sum() + 0.01 * (x**2).sum()) / 4, rel=1e-5)
    config = layer.get_config()
    assert "activity_regularizer" not in config and config["l1"] == 0.1
    assert L.ActivityRegularization.from_config(config).l2 == 0.01


# ---- preprocessing ---------------------------------------------------------------------------------


def test_rescaling():
    np.testing.assert_allclose(L.Rescaling(1 / 255.0, offset=-1.0)(np.array([[0, 255]], "int32")), [[-1.0, 0.0]])
    x = f64(2, 3)
    np.testing.assert_allclose(L.Rescaling([1.0, 2.0, 3.0], dtype="float64")(T(x)), x * [1.0, 2.0, 3.0])
    tg.testing.check_gradients(lambda t: L.Rescaling(0.5, 2.0, dtype="float64")(t), [x])
    layer = L.Rescaling(np.array([1.0, 2.0]), 0.5)
    config = layer.get_config()
    assert config["scale"]["class_name"] == "__numpy__"
    clone = L.Rescaling.from_config(config)
    np.testing.assert_array_equal(clone.scale, [1.0, 2.0])


def test_normalization_adapt_numpy_tensor_batches():
    data = RNG.normal(3.0, 2.0, size=(64, 5))
    layer = L.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.adapt_mean, data.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance, data.var(0), rtol=1e-5)
    np.testing.assert_allclose(layer(data.astype("float32")), (data - data.mean(0)) / data.std(0), rtol=1e-4, atol=1e-5)
    assert [w.path for w in layer.weights] == [f"{layer.name}/{n}" for n in ("mean", "variance", "count")]
    assert layer.trainable_weights == []
    t = L.Normalization()
    t.adapt(tg.constant(data))
    np.testing.assert_allclose(t.adapt_variance, data.var(0), rtol=1e-5)
    # an iterable of (x, y) batches of unequal size is merged exactly
    b = L.Normalization(axis=None)
    b.adapt([(data[:10], None), (data[10:50], None), (data[50:], None)])
    np.testing.assert_allclose(b.adapt_mean, data.mean(), rtol=1e-6)
    np.testing.assert_allclose(b.adapt_variance, data.var(), rtol=1e-5)
    # axis keeps several axes
    img = RNG.normal(size=(8, 4, 4, 3))
    c = L.Normalization(axis=(1, 3))
    c.adapt(img)
    np.testing.assert_allclose(c.adapt_mean, img.mean(axis=(0, 2)), rtol=1e-5, atol=1e-7)


def test_normalization_adapt_dataset():
    if not hasattr(tg, "data"):
        pytest.skip("tg.data is not in this build")
    x = RNG.normal(1.0, 2.0, size=(300, 3)).astype("float32")
    layer = L.Normalization()
    layer.adapt(tg.data.Dataset.from_tensor_slices(x))  # unbatched elements: batched by 128, as Keras
    np.testing.assert_allclose(layer.adapt_mean, x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.adapt_variance, x.var(0), rtol=1e-5)
    layer = L.Normalization()
    layer.adapt(tg.data.Dataset.from_tensor_slices((x, x[:, 0])).batch(64))  # (x, y) batches use x
    np.testing.assert_allclose(layer.adapt_variance, x.var(0), rtol=1e-5)


def test_normalization_given_stats_invert_errors():
    layer = L.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], dtype="float64")
    x = f64(3, 2)
    y = layer(T(x))
    np.testing.assert_allclose(y, (x - [1.0, 2.0]) / [2.0, 3.0], rtol=1e-12)
    inv = L.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True, dtype="float64")
    np.testing.assert_allclose(inv(y), x, rtol=1e-12)
    tg.testing.check_gradients(lambda t: layer(t), [x])
    assert layer.weights == []
    assert layer.get_config()["mean"] == [1.0, 2.0]
    assert L.Normalization.from_config(layer.get_config()).input_variance == [4.0, 9.0]
    zero_var = L.Normalization(mean=0.0, variance=0.0, axis=None)
    assert np.isfinite(np.asarray(zero_var(np.ones((2, 2), "float32")))).all()
    with pytest.raises(ValueError, match="both `mean` and `variance` must be set"):
        L.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="adapt\\(\\) received an empty iterable"):
        L.Normalization().adapt([])
    with pytest.raises(TypeError, match="Unsupported data type"):
        L.Normalization().adapt(3)
    built = L.Normalization()
    built.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        built.adapt(np.ones((4, 2)))


def test_normalization_set_weights_refreshes():
    layer = L.Normalization()
    layer.build((None, 2))
    layer.set_weights([np.array([1.0, 1.0]), np.array([4.0, 4.0]), np.array(0)])
    np.testing.assert_allclose(layer(np.array([[3.0, 5.0]], "float32")), [[1.0, 2.0]])


def test_resizing_and_center_crop():
    x = f64(2, 6, 9, 3)
    np.testing.assert_allclose(
        L.Resizing(4, 5, dtype="float64")(T(x)), np_resize_bilinear(x, 4, 5), rtol=1e-12, atol=1e-12
    )
    rows = np.minimum(np.floor((np.arange(4) + 0.5) * 6 / 4), 5).astype(int)
    cols = np.minimum(np.floor((np.arange(12) + 0.5) * 9 / 12), 8).astype(int)
    np.testing.assert_array_equal(
        L.Resizing(4, 12, interpolation="nearest", dtype="float64")(T(x)), x[:, rows][:, :, cols]
    )
    # crop to the target aspect ratio first: a centred 6x6 region, then resize
    np.testing.assert_allclose(
        L.Resizing(3, 3, crop_to_aspect_ratio=True, dtype="float64")(T(x)),
        np_resize_bilinear(x[:, :, 1:7], 3, 3),
        rtol=1e-12,
        atol=1e-12,
    )
    padded = np.pad(x, ((0, 0), (1, 1), (0, 0), (0, 0)), constant_values=0.5)
    np.testing.assert_allclose(
        L.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=0.5, dtype="float64")(T(x)),
        np_resize_bilinear(padded, 4, 4),
        rtol=1e-12,
        atol=1e-12,
    )
    single = L.Resizing(3, 3, data_format="channels_first", dtype="float64")(T(x[0].transpose(2, 0, 1)))
    np.testing.assert_allclose(single, np_resize_bilinear(x[:1], 3, 3)[0].transpose(2, 0, 1), rtol=1e-12, atol=1e-12)
    assert L.Resizing(3, 4).compute_output_shape((None, 10, 10, 3)) == (None, 3, 4, 3)
    tg.testing.check_gradients(lambda t: L.Resizing(4, 5, dtype="float64")(t), [x])
    np.testing.assert_array_equal(L.CenterCrop(3, 4, dtype="float64")(T(x)), x[:, 1:4, 2:6])
    np.testing.assert_allclose(
        L.CenterCrop(8, 4, dtype="float64")(T(x)), np_resize_bilinear(x[:, :, 3:6], 8, 4), rtol=1e-12, atol=1e-12
    )
    assert L.CenterCrop(3, 4, data_format="channels_first").compute_output_shape((None, 3, 9, 9)) == (None, 3, 3, 4)
    with pytest.raises(NotImplementedError, match="bicubic"):
        L.Resizing(2, 2, interpolation="bicubic")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio`"):
        L.Resizing(2, 2, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="Invalid images rank"):
        L.Resizing(2, 2)(np.ones((2, 3), "float32"))
    roundtrip(L.Resizing(2, 3, interpolation="nearest"))
    roundtrip(L.CenterCrop(2, 3))


def test_layers_have_docstrings_and_all():
    from tapegrad.keras.layers import activation_layers, core, merging, preprocessing, regularization, reshaping

    for mod in (core, activation_layers, reshaping, merging, regularization, preprocessing):
        for name in mod.__all__:
            assert getattr(L, name) is getattr(mod, name)
            assert getattr(mod, name).__doc__, name


def test_no_warnings_on_plain_use():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.Dense(2)(np.ones((1, 3), "float32"))
        L.LeakyReLU()(np.ones((1, 3), "float32"))
