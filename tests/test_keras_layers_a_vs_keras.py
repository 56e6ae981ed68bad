"""Keras layers (core, activation, reshaping, merging, regularization, preprocessing) against real
Keras 3 (TensorFlow backend): the same layer built in both, Keras's weights copied over with
get_weights/set_weights; outputs, output masks, gradients of a loss w.r.t. the inputs and every
weight, and get_config (same keys and values). Skips without TensorFlow/Keras."""

import numpy as np
import pytest

import tapegrad as tg

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

RNG = np.random.default_rng(11)


def _id(x):
    return x


CASES = [
    # (class name, kwargs, input shapes (or "ids:" for integer inputs), call kwargs)
    ("Dense", {"units": 4, "activation": "relu"}, [(3, 5)], {}),
    ("Dense", {"units": 4, "use_bias": False, "activation": "tanh"}, [(2, 3, 5)], {}),
    ("EinsumDense", {"equation": "abc,cde->abde", "output_shape": (None, 2, 4), "bias_axes": "de"}, [(2, 3, 5)], {}),
    (
        "EinsumDense",
        {"equation": "...b,bc->...c", "output_shape": 4, "bias_axes": "c", "activation": "gelu"},
        [(2, 3, 5)],
        {},
    ),
    ("Embedding", {"input_dim": 7, "output_dim": 3, "mask_zero": True}, ["ids:(3, 4)"], {}),
    ("Activation", {"activation": "gelu"}, [(3, 5)], {}),
    ("Activation", {"activation": "softmax"}, [(3, 5)], {}),
    ("Identity", {}, [(3, 5)], {}),
    ("Masking", {"mask_value": 0.0}, ["masked:(2, 4, 3)"], {}),
    ("Lambda", {"function": _id}, [(3, 5)], {}),
    ("ReLU", {}, [(3, 5)], {}),
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.1, "threshold": 0.3}, [(3, 5)], {}),
    ("LeakyReLU", {}, [(3, 5)], {}),
    ("LeakyReLU", {"negative_slope": 0.05}, [(3, 5)], {}),
    ("PReLU", {"alpha_initializer": "glorot_uniform", "shared_axes": [1]}, [(2, 3, 4)], {}),
    ("ELU", {"alpha": 0.5}, [(3, 5)], {}),
    ("Softmax", {"axis": 1}, [(2, 3, 4)], {}),
    ("Softmax", {"axis": (1, 2)}, [(2, 3, 4)], {}),
    ("Flatten", {}, [(2, 3, 4)], {}),
    ("Flatten", {"data_format": "channels_first"}, [(2, 3, 4, 5)], {}),
    ("Reshape", {"target_shape": (-1, 2)}, [(2, 3, 4)], {}),
    ("Permute", {"dims": (3, 1, 2)}, [(2, 3, 4, 5)], {}),
    ("RepeatVector", {"n": 3}, [(2, 4)], {}),
    ("ZeroPadding1D", {"padding": (1, 2)}, [(2, 3, 4)], {}),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 1))}, [(2, 3, 4, 2)], {}),
    ("ZeroPadding2D", {"padding": 1, "data_format": "channels_first"}, [(2, 3, 4, 2)], {}),
    ("ZeroPadding3D", {"padding": 1}, [(1, 2, 3, 2, 2)], {}),
    ("Cropping1D", {"cropping": (1, 2)}, [(2, 6, 3)], {}),
    ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, [(2, 5, 6, 2)], {}),
    ("Cropping3D", {"cropping": ((1, 1), (0, 2), (1, 0))}, [(1, 4, 5, 6, 2)], {}),
    ("UpSampling1D", {"size": 3}, [(2, 3, 4)], {}),
    ("UpSampling2D", {"size": (2, 3)}, [(2, 3, 4, 2)], {}),
    ("UpSampling2D", {"size": (2, 3), "interpolation": "bilinear"}, [(2, 3, 4, 2)], {}),
    ("UpSampling2D", {"size": 2, "interpolation": "bilinear", "data_format": "channels_first"}, [(1, 2, 3, 5)], {}),
    ("UpSampling3D", {"size": (1, 2, 3)}, [(1, 2, 3, 2, 2)], {}),
    ("Add", {}, [(3, 4), (3, 4), (3, 4)], {}),
    ("Add", {}, [(3, 4), (3, 2, 4)], {}),
    ("Subtract", {}, [(3, 4), (3, 4)], {}),
    ("Multiply", {}, [(3, 4), (3, 4)], {}),
    ("Average", {}, [(3, 4), (3, 4), (3, 4)], {}),
    ("Maximum", {}, [(3, 4), (3, 4)], {}),
    ("Minimum", {}, [(3, 4), (3, 4)], {}),
    ("Concatenate", {"axis": 1}, [(3, 4, 2), (3, 1, 2)], {}),
    ("Dot", {"axes": 2}, [(3, 4, 5), (3, 6, 5)], {}),
    ("Dot", {"axes": (1, 2)}, [(3, 4), (3, 2, 4)], {}),
    ("Dot", {"axes": 1, "normalize": True}, [(3, 4), (3, 4)], {}),
    ("Dropout", {"rate": 0.5, "seed": 1}, [(3, 5)], {"training": False}),
    ("SpatialDropout2D", {"rate": 0.5}, [(2, 3, 4, 2)], {}),
    ("GaussianNoise", {"stddev": 0.5}, [(3, 5)], {}),
    ("GaussianDropout", {"rate": 0.5}, [(3, 5)], {}),
    ("AlphaDropout", {"rate": 0.5}, [(3, 5)], {}),
    ("ActivityRegularization", {"l1": 0.1, "l2": 0.01}, [(3, 5)], {}),
    ("Rescaling", {"scale": 0.5, "offset": 1.0}, [(3, 5)], {}),
    ("Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 0.25]}, [(4, 3)], {}),
    ("Normalization", {"axis": None, "mean": 2.0, "variance": 4.0, "invert": True}, [(4, 3)], {}),
    ("Resizing", {"height": 5, "width": 7}, [(2, 3, 4, 2)], {}),
    ("Resizing", {"height": 3, "width": 2}, [(2, 7, 5, 2)], {}),
    ("Resizing", {"height": 5, "width": 3, "interpolation": "nearest"}, [(2, 3, 7, 2)], {}),
    ("Resizing", {"height": 4, "width": 4, "crop_to_aspect_ratio": True}, [(2, 6, 9, 1)], {}),
    ("Resizing", {"height": 4, "width": 4, "pad_to_aspect_ratio": True, "fill_value": 0.5}, [(2, 6, 9, 1)], {}),
    ("Resizing", {"height": 4, "width": 6, "data_format": "channels_first"}, [(2, 3, 5, 5)], {}),
    ("Resizing", {"height": 4, "width": 6}, [(5, 5, 3)], {}),
    ("CenterCrop", {"height": 3, "width": 2}, [(2, 6, 5, 3)], {}),
    ("CenterCrop", {"height": 8, "width": 4}, [(2, 6, 5, 3)], {}),
    ("CenterCrop", {"height": 2, "width": 3, "data_format": "channels_first"}, [(2, 3, 5, 6)], {}),
]


def _case_id(case):
    name, kwargs, _, _ = case
    return name + "-" + "-".join(f"{k}={v}" for k, v in kwargs.items() if k != "function")[:40]


def _inputs(specs):
    out = []
    for spec in specs:
        if isinstance(spec, str) and spec.startswith("ids:"):
            shape = eval(spec[4:])  # noqa: S307 - test-local literal
            ids = RNG.integers(0, 7, shape)
            ids[0, -1] = 0
            out.append(ids.astype("int32"))
        elif isinstance(spec, str) and spec.startswith("masked:"):
            x = RNG.normal(size=eval(spec[7:])).astype("float32")  # noqa: S307
            x[0, 1] = 0.0
            x[1, 3] = 0.0
            out.append(x)
        else:
            out.append(RNG.normal(size=spec).astype("float32"))
    return out


def _run(module, layer, xs, call_kwargs, tape_cls, watch):
    """Output, output mask and gradients (inputs then trainable weights) of sum(out * v)."""
    ts = [module.constant(x) for x in xs]
    arg = ts if len(ts) > 1 else ts[0]
    out = layer(arg, **call_kwargs)
    v = np.random.default_rng(5).normal(size=tuple(out.shape)).astype("float32")
    with tape_cls() as tape:
        for t in ts:
            if t.dtype.is_floating:
                watch(tape, t)
        out = layer(arg, **call_kwargs)
        loss = module.reduce_sum(out * module.constant(v))
    sources = [t for t in ts if t.dtype.is_floating] + list(layer.trainable_weights)
    grads = tape.gradient(loss, sources)
    mask = getattr(out, "_keras_mask", None)
    return np.asarray(out), None if mask is None else np.asarray(mask), grads


def _dense(g):
    if g is None:
        return None
    if isinstance(g, tf.IndexedSlices):
        g = tf.convert_to_tensor(g)
    return np.asarray(g)


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_layer_matches_keras(case):
    name, kwargs, specs, call_kwargs = case
    xs = _inputs(specs)
    k_layer = getattr(keras.layers, name)(**kwargs)
    t_layer = getattr(tg.keras.layers, name)(**kwargs)
    arg_k = [tf.constant(x) for x in xs] if len(xs) > 1 else tf.constant(xs[0])
    k_layer(arg_k, **call_kwargs)  # builds
    t_layer([tg.constant(x) for x in xs] if len(xs) > 1 else tg.constant(xs[0]), **call_kwargs)
    weights = k_layer.get_weights()
    assert [w.shape for w in weights] == [tuple(w.shape) for w in t_layer.weights]
    assert [w.path.split("/")[-1] for w in k_layer.weights] == [w.path.split("/")[-1] for w in t_layer.weights]
    t_layer.set_weights(weights)

    k_out, k_mask, k_grads = _run(tf, k_layer, xs, call_kwargs, tf.GradientTape, lambda tp, t: tp.watch(t))
    t_out, t_mask, t_grads = _run(tg, t_layer, xs, call_kwargs, tg.GradientTape, lambda tp, t: tp.watch(t))
    assert t_out.shape == k_out.shape
    np.testing.assert_allclose(t_out, k_out, rtol=2e-5, atol=2e-6)
    if k_mask is None:
        assert t_mask is None
    else:
        np.testing.assert_array_equal(t_mask, k_mask)
    assert len(t_grads) == len(k_grads)
    for tg_g, k_g in zip(t_grads, k_grads):
        k_g = _dense(k_g)
        if k_g is None:
            assert tg_g is None or not np.asarray(tg_g).any()
            continue
        np.testing.assert_allclose(np.asarray(tg_g), k_g, rtol=2e-5, atol=2e-5)
    if name == "ActivityRegularization":
        np.testing.assert_allclose([float(x) for x in t_layer.losses], [float(x) for x in k_layer.losses], rtol=1e-5)


def _normalized(config):
    config = dict(config)
    if isinstance(config.get("dtype"), dict):
        config["dtype"] = config["dtype"]["config"]["name"]
    return config


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_get_config_matches_keras(case):
    name, kwargs, _, _ = case
    k_config = _normalized(getattr(keras.layers, name)(name="layer_x", **kwargs).get_config())
    t_layer = getattr(tg.keras.layers, name)(name="layer_x", **kwargs)
    t_config = _normalized(t_layer.get_config())
    assert set(t_config) == set(k_config)
    assert t_config == k_config
    extra = {"custom_objects": {"_id": _id}} if name == "Lambda" else {}  # plain functions need it, as in Keras
    clone = type(t_layer).from_config(t_layer.get_config(), **extra)
    assert _normalized(clone.get_config()) == t_config


def test_dense_activity_regularizer_loss_matches_keras():
    x = RNG.normal(size=(4, 3)).astype("float32")
    k_layer = keras.layers.Dense(2, activity_regularizer="l2", kernel_regularizer="l1")
    t_layer = tg.keras.layers.Dense(2, activity_regularizer="l2", kernel_regularizer="l1")
    k_layer(x)
    t_layer(x)
    t_layer.set_weights(k_layer.get_weights())
    k_layer(x)
    t_layer(x)
    np.testing.assert_allclose(
        sorted(float(v) for v in t_layer.losses), sorted(float(v) for v in k_layer.losses), rtol=1e-5
    )


def test_normalization_adapt_matches_keras():
    data = RNG.normal(2.0, 3.0, size=(50, 4, 3)).astype("float32")
    for axis in (-1, (1, 2), None):
        k_layer = keras.layers.Normalization(axis=axis)
        t_layer = tg.keras.layers.Normalization(axis=axis)
        k_layer.adapt(data)
        t_layer.adapt(data)
        for k_w, t_w in zip(k_layer.get_weights(), t_layer.get_weights()):
            np.testing.assert_allclose(t_w, k_w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(t_layer(data), k_layer(data), rtol=1e-5, atol=1e-5)
    batches = [data[:7], data[7:30], data[30:]]
    k_layer = keras.layers.Normalization()
    t_layer = tg.keras.layers.Normalization()
    k_layer.adapt(batches)
    t_layer.adapt(batches)
    for k_w, t_w in zip(k_layer.get_weights(), t_layer.get_weights()):
        np.testing.assert_allclose(t_w, k_w, rtol=1e-5, atol=1e-6)


def test_dropout_training_statistics_match_keras():
    """Different random streams, same distribution: fraction dropped and the kept value."""
    x = np.ones((100, 100), "float32")
    k_out = np.asarray(keras.layers.Dropout(0.25, seed=0)(x, training=True))
    t_out = np.asarray(tg.keras.layers.Dropout(0.25, seed=0)(x, training=True))
    assert set(np.unique(t_out).tolist()) == set(np.unique(k_out).tolist())
    assert abs((t_out == 0).mean() - (k_out == 0).mean()) < 0.03  # each within ~3.5 sigma of 0.25


@pytest.mark.parametrize("name", ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate"])
def test_masked_merge_matches_keras(name):
    """Inputs carrying masks: Keras's masked-entry handling in the merge and the combined mask."""
    xs = [RNG.normal(size=(2, 4, 3)).astype("float32") for _ in range(2)]
    masks = [
        np.array([[True, False, True, False], [True, True, False, False]]),
        np.array([[False, False, True, True], [True, False, True, False]]),
    ]

    def with_masks(module):
        out = []
        for x, m in zip(xs, masks):
            t = module.constant(x)
            t._keras_mask = module.constant(m)
            out.append(t)
        return out

    k_out = getattr(keras.layers, name)()(with_masks(tf))
    t_out = getattr(tg.keras.layers, name)()(with_masks(tg))
    np.testing.assert_allclose(np.asarray(t_out), np.asarray(k_out), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(t_out._keras_mask), np.asarray(k_out._keras_mask))


def test_resizing_integer_images_match_keras():
    x = RNG.integers(0, 255, (2, 5, 7, 3)).astype("int32")
    for kwargs in ({"height": 3, "width": 4}, {"height": 8, "width": 9, "interpolation": "nearest"}):
        k_out = keras.layers.Resizing(**kwargs)(x)
        t_out = tg.keras.layers.Resizing(**kwargs)(x)
        assert t_out.dtype.name == k_out.dtype.name == "int32"
        np.testing.assert_array_equal(t_out, k_out)
    np.testing.assert_array_equal(tg.keras.layers.CenterCrop(3, 3)(x), keras.layers.CenterCrop(3, 3)(x))


def test_masked_softmax_and_embedding_float_ids_match_keras():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    mask = RNG.uniform(size=(2, 3, 4)) > 0.4
    np.testing.assert_allclose(
        tg.keras.layers.Softmax()(x, mask=mask), keras.layers.Softmax()(x, mask=mask), rtol=1e-6, atol=1e-7
    )
    ids = np.array([[1.0, 0.0, 2.7]], "float32")
    k_layer, t_layer = keras.layers.Embedding(4, 2), tg.keras.layers.Embedding(4, 2)
    k_out = k_layer(ids)
    t_layer.build()
    t_layer.set_weights(k_layer.get_weights())
    np.testing.assert_array_equal(t_layer(ids), k_out)
