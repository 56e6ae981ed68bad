"""Conv, pooling and normalization layers against real Keras 3 (TensorFlow backend): the same layer
with the same weights (copied with get_weights/set_weights) gives the same outputs and the same
gradients of a loss w.r.t. every trainable weight and the input, in float64; get_config has the
same keys and values; BatchNormalization's moving statistics match after several training calls.
Skips without TensorFlow/Keras."""

import warnings
import zlib

import numpy as np
import pytest

import tapegrad as tg

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

RTOL, ATOL = 1e-9, 1e-10


def _pair(cls_name, kwargs, dtype="float64"):
    tg_layer = getattr(tg.keras.layers, cls_name)(dtype=dtype, name="layer", **kwargs)
    k_layer = getattr(keras.layers, cls_name)(dtype=dtype, name="layer", **kwargs)
    return tg_layer, k_layer


def _copy_random_weights(tg_layer, k_layer, shape, rng, positive=(), tg_shape=None):
    k_layer.build(shape)
    tg_layer.build(tg.TensorShape(tg_shape or shape))
    tg_layer.built = True
    ws = []
    for w in k_layer.weights:
        v = rng.normal(size=tuple(w.shape))
        if any(w.path.endswith(p) for p in positive):
            v = np.abs(v) + 0.5
        ws.append(v)
    k_layer.set_weights(ws)
    tg_layer.set_weights(k_layer.get_weights())
    assert [w.name for w in tg_layer.weights] == [w.name for w in k_layer.weights]
    assert [tuple(w.shape) for w in tg_layer.weights] == [tuple(w.shape) for w in k_layer.weights]


def _channels_last_twin(cls_name, kwargs):
    """TF's CPU kernels refuse NCHW convs: the Keras reference for a channels_first conv layer is
    the channels_last layer run on transposed data (same weight layout)."""
    kwargs = dict(kwargs, data_format="channels_last")
    return getattr(keras.layers, cls_name)(dtype="float64", name="layer", **kwargs)


def _run_both(tg_layer, k_layer, x, rng, call_kwargs=None, tg_extra=None, k_extra=None, k_transpose=False):
    """Outputs and gradients of sum(y * r) w.r.t. (trainable weights..., x) from both libraries.
    With `k_transpose` the Keras layer is channels_last and sees x with its channels moved last."""
    call_kwargs = call_kwargs or {}
    rank = x.ndim - 2
    to_last = [0] + list(range(2, rank + 2)) + [1]
    to_first = [0, rank + 1] + list(range(1, rank + 1))
    k_x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(k_x)
        k_y = k_layer(tf.transpose(k_x, to_last) if k_transpose else k_x, **call_kwargs, **(k_extra or {}))
        if k_transpose:
            k_y = tf.transpose(k_y, to_first)
        r = rng.normal(size=tuple(k_y.shape)).astype(k_y.dtype.as_numpy_dtype)
        k_loss = tf.reduce_sum(k_y * r)
    k_grads = tape.gradient(k_loss, list(k_layer.trainable_weights) + [k_x])
    t_x = tg.constant(x)
    with tg.GradientTape() as tape:
        tape.watch(t_x)
        t_y = tg_layer(t_x, **call_kwargs, **(tg_extra or {}))
        t_loss = tg.reduce_sum(t_y * tg.constant(r))
    t_grads = tape.gradient(t_loss, list(tg_layer.trainable_weights) + [t_x])
    assert len(t_grads) == len(k_grads)
    return (
        np.asarray(t_y),
        [None if g is None else np.asarray(g) for g in t_grads],
        k_y.numpy(),
        [None if g is None else np.asarray(g) for g in k_grads],
    )


def _compare(tg_layer, k_layer, x, rng, rtol=RTOL, atol=ATOL, **kw):
    t_y, t_g, k_y, k_g = _run_both(tg_layer, k_layer, x, rng, **kw)
    assert t_y.shape == k_y.shape
    np.testing.assert_allclose(t_y, k_y, rtol=rtol, atol=atol)
    for t, k, name in zip(t_g, k_g, [w.name for w in k_layer.trainable_weights] + ["input"]):
        assert (t is None) == (k is None), name
        if k is not None:
            np.testing.assert_allclose(t, k, rtol=rtol, atol=atol, err_msg=name)


def _assert_same_config(t_cfg, k_cfg):
    assert set(t_cfg) == set(k_cfg)
    for key, k_val in k_cfg.items():
        t_val = t_cfg[key]
        if key == "dtype":  # Keras 3 writes the dtype policy as a dict (see report)
            k_val = k_val["config"]["name"] if isinstance(k_val, dict) else k_val
            t_val = t_val["config"]["name"] if isinstance(t_val, dict) else t_val
        assert t_val == k_val, (key, t_val, k_val)


CONV_CASES = [
    ("Conv1D", {"filters": 3, "kernel_size": 3}, (2, 7, 2)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "activation": "tanh"}, (2, 8, 2)),
    ("Conv1D", {"filters": 2, "kernel_size": 2, "padding": "causal", "dilation_rate": 2}, (2, 6, 3)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "groups": 2, "use_bias": False}, (1, 6, 4)),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "data_format": "channels_first", "padding": "same"}, (2, 3, 5)),
    ("Conv2D", {"filters": 3, "kernel_size": (2, 3)}, (2, 5, 6, 2)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 6, 5, 2)),
    ("Conv2D", {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "padding": "same"}, (1, 5, 5, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": 2, "groups": 2}, (1, 4, 4, 4)),
    ("Conv2D", {"filters": 2, "kernel_size": 3, "data_format": "channels_first", "activation": "relu"}, (2, 3, 5, 4)),
    ("Conv3D", {"filters": 2, "kernel_size": (2, 2, 3)}, (1, 4, 4, 5, 2)),
    ("Conv3D", {"filters": 2, "kernel_size": 3, "strides": (2, 1, 2), "padding": "same"}, (1, 5, 4, 5, 2)),
    (
        "Conv3D",
        {"filters": 4, "kernel_size": 2, "groups": 2, "padding": "same", "dilation_rate": (2, 1, 1)},
        (1, 4, 3, 3, 4),
    ),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "data_format": "channels_first"}, (1, 2, 3, 4, 3)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3}, (2, 4, 3)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 4, 2)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3, "strides": 3, "output_padding": 1}, (1, 3, 2)),
    (
        "Conv1DTranspose",
        {"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same", "output_padding": 1},
        (1, 3, 2),
    ),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2}, (1, 3, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": (2, 3), "strides": (2, 1), "padding": "same"}, (2, 3, 3, 2)),
    (
        "Conv2DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1, "padding": "same"},
        (1, 3, 3, 2),
    ),
    ("Conv2DTranspose", {"filters": 2, "kernel_size": 2, "strides": 2, "data_format": "channels_first"}, (1, 3, 2, 3)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 2}, (1, 2, 3, 2, 2)),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (1, 2, 2, 3, 2)),
    (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": (2, 3, 2), "strides": (2, 2, 3), "output_padding": (1, 0, 2)},
        (1, 2, 2, 2, 2),
    ),
    (
        "Conv3DTranspose",
        {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
        (1, 2, 2, 2, 1),
    ),
    (
        "Conv3DTranspose",
        {"filters": 1, "kernel_size": 2, "strides": (1, 2, 1), "data_format": "channels_first"},
        (1, 2, 2, 3, 2),
    ),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2}, (2, 6, 2)),
    (
        "DepthwiseConv1D",
        {"kernel_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"},
        (1, 3, 7),
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2}, (1, 5, 4, 2)),
    ("DepthwiseConv2D", {"kernel_size": 2, "strides": 2, "dilation_rate": 2, "padding": "same"}, (1, 6, 5, 2)),
    ("DepthwiseConv2D", {"kernel_size": (2, 3), "padding": "same", "data_format": "channels_first"}, (1, 2, 4, 4)),
    ("SeparableConv1D", {"filters": 3, "kernel_size": 3, "depth_multiplier": 2}, (2, 6, 2)),
    ("SeparableConv1D", {"filters": 2, "kernel_size": 2, "strides": 2, "padding": "same"}, (1, 7, 3)),
    (
        "SeparableConv2D",
        {"filters": 3, "kernel_size": 3, "depth_multiplier": 2, "padding": "same", "strides": 2},
        (1, 5, 5, 2),
    ),
    (
        "SeparableConv2D",
        {"filters": 2, "kernel_size": 2, "data_format": "channels_first", "activation": "relu"},
        (1, 2, 4, 3),
    ),
]


@pytest.mark.parametrize(
    "cls_name,kwargs,shape", CONV_CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CONV_CASES)]
)
def test_conv_matches_keras(cls_name, kwargs, shape):
    rng = np.random.default_rng(zlib.crc32(f"{cls_name}{sorted(kwargs.items())}".encode()))
    tg_layer, k_layer = _pair(cls_name, kwargs)
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())
    assert tuple(tg_layer.compute_output_shape(shape)) == tuple(k_layer.compute_output_shape(shape))
    first = kwargs.get("data_format") == "channels_first"
    k_run = _channels_last_twin(cls_name, kwargs) if first else k_layer
    k_shape = tuple(np.array(shape)[[0] + list(range(2, len(shape))) + [1]]) if first else shape
    _copy_random_weights(tg_layer, k_run, k_shape, rng, tg_shape=shape)
    _compare(tg_layer, k_run, rng.normal(size=shape), rng, k_transpose=first)
    if not first:
        _assert_same_config(tg_layer.get_config(), k_layer.get_config())


POOL_CASES = [
    ("MaxPooling1D", {}, (2, 6, 2)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 6, 2)),
    ("MaxPooling1D", {"pool_size": 2, "data_format": "channels_first"}, (1, 2, 5)),
    ("MaxPooling2D", {"pool_size": (2, 3), "padding": "same"}, (1, 5, 5, 2)),
    ("MaxPooling2D", {"pool_size": 2, "strides": (1, 2), "data_format": "channels_first"}, (1, 2, 4, 5)),
    ("MaxPooling3D", {}, (1, 4, 4, 5, 2)),
    ("MaxPooling3D", {"pool_size": (2, 3, 2), "strides": 1, "padding": "same"}, (1, 3, 4, 3, 2)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, (2, 7, 2)),
    ("AveragePooling2D", {"pool_size": 2}, (1, 4, 5, 2)),
    (
        "AveragePooling2D",
        {"pool_size": 3, "strides": 2, "padding": "same", "data_format": "channels_first"},
        (1, 2, 5, 4),
    ),
    ("AveragePooling3D", {"pool_size": 2}, (1, 4, 4, 5, 2)),
    ("AveragePooling3D", {"pool_size": (3, 2, 2), "strides": (2, 1, 2), "padding": "same"}, (1, 5, 3, 4, 2)),
    ("GlobalMaxPooling1D", {}, (2, 5, 3)),
    ("GlobalMaxPooling2D", {"keepdims": True, "data_format": "channels_first"}, (2, 3, 4, 2)),
    ("GlobalMaxPooling3D", {}, (1, 2, 3, 4, 2)),
    ("GlobalAveragePooling1D", {"keepdims": True}, (2, 5, 3)),
    ("GlobalAveragePooling2D", {}, (2, 4, 3, 2)),
    ("GlobalAveragePooling3D", {"data_format": "channels_first", "keepdims": True}, (1, 2, 3, 2, 2)),
]


@pytest.mark.parametrize(
    "cls_name,kwargs,shape", POOL_CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(POOL_CASES)]
)
def test_pooling_matches_keras(cls_name, kwargs, shape):
    rng = np.random.default_rng(len(shape) * 100 + len(kwargs))
    # TF has no float64 CPU kernels for 3-D pooling: those compare in float32
    dtype = "float32" if cls_name[-2:] == "3D" and not cls_name.startswith("Global") else "float64"
    tg_layer, k_layer = _pair(cls_name, kwargs, dtype)
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())
    assert tg_layer.built == k_layer.built
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == "float32" else {}
    _compare(tg_layer, k_layer, rng.normal(size=shape).astype(dtype), rng, **tol)
    assert tuple(tg_layer.compute_output_shape(shape)) == tuple(k_layer.compute_output_shape(shape))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling_1d_mask_matches_keras(data_format):
    rng = np.random.default_rng(5)
    shape = (3, 5, 2) if data_format == "channels_last" else (3, 2, 5)
    x = rng.normal(size=shape)
    mask = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)
    tg_layer, k_layer = _pair("GlobalAveragePooling1D", {"data_format": data_format})
    _compare(tg_layer, k_layer, x, rng, tg_extra={"mask": tg.constant(mask)}, k_extra={"mask": tf.constant(mask)})


NORM_CASES = [
    ("LayerNormalization", {}, (3, 4)),
    ("LayerNormalization", {"axis": [1, 2], "epsilon": 0.1}, (2, 3, 4)),
    ("LayerNormalization", {"axis": 1, "center": False}, (2, 3, 2)),
    ("LayerNormalization", {"scale": False, "axis": -2}, (2, 3, 2)),
    ("LayerNormalization", {"rms_scaling": True}, (2, 5)),
    ("GroupNormalization", {"groups": 2}, (2, 3, 4)),
    ("GroupNormalization", {"groups": 3, "axis": 1}, (2, 6, 2, 2)),
    ("GroupNormalization", {"groups": -1, "center": False}, (2, 3, 2)),
    ("GroupNormalization", {"groups": 1, "axis": -2, "epsilon": 0.5}, (2, 4, 3)),
    ("RMSNormalization", {}, (3, 4)),
    ("RMSNormalization", {"axis": [-2, -1], "epsilon": 0.1}, (2, 3, 2)),
    ("UnitNormalization", {}, (3, 4)),
    ("UnitNormalization", {"axis": [1, 2]}, (2, 3, 2)),
]


@pytest.mark.parametrize(
    "cls_name,kwargs,shape", NORM_CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(NORM_CASES)]
)
def test_normalization_matches_keras(cls_name, kwargs, shape):
    rng = np.random.default_rng(len(shape) * 10 + len(kwargs))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rms_scaling's deprecation warnings, in both
        tg_layer, k_layer = _pair(cls_name, kwargs)
        _assert_same_config(tg_layer.get_config(), k_layer.get_config())
        if not k_layer.built:
            _copy_random_weights(tg_layer, k_layer, shape, rng)
        _compare(tg_layer, k_layer, rng.normal(size=shape) * 2 + 1, rng)
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())


BN_CASES = [
    ({}, (4, 3)),
    ({"axis": 1, "momentum": 0.9, "epsilon": 0.01}, (2, 3, 2, 2)),
    ({"center": False, "axis": -2}, (3, 2, 4)),
    ({"scale": False, "momentum": 0.5}, (2, 2, 3)),
    (
        {
            "renorm": True,
            "renorm_clipping": {"rmax": 1.5, "rmin": 0.7, "dmax": 0.4},
            "renorm_momentum": 0.6,
            "momentum": 0.8,
        },
        (5, 3),
    ),
    ({"renorm": True, "momentum": 0.7}, (4, 2, 2)),
]


@pytest.mark.parametrize("kwargs,shape", BN_CASES, ids=[str(i) for i in range(len(BN_CASES))])
def test_batch_normalization_matches_keras(kwargs, shape):
    rng = np.random.default_rng(11 + len(shape))
    tg_layer, k_layer = _pair("BatchNormalization", kwargs)
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())
    _copy_random_weights(tg_layer, k_layer, shape, rng, positive=("variance", "stddev"))
    for step in range(3):
        x = rng.normal(size=shape) * (step + 1) + step
        _compare(tg_layer, k_layer, x, rng, call_kwargs={"training": True})
        for t, k in zip(tg_layer.weights, k_layer.weights):
            np.testing.assert_allclose(np.asarray(t), k.numpy(), rtol=RTOL, atol=ATOL, err_msg=k.path)
    for training in (False, None):
        _compare(tg_layer, k_layer, rng.normal(size=shape), rng, call_kwargs={"training": training})
    tg_layer.trainable = False  # inference mode even with training=True; no statistic moves
    k_layer.trainable = False
    before = [np.asarray(w) for w in tg_layer.weights]
    _compare(tg_layer, k_layer, rng.normal(size=shape), rng, call_kwargs={"training": True})
    for b, t in zip(before, tg_layer.weights):
        np.testing.assert_array_equal(b, np.asarray(t))
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())


def test_batch_normalization_mask_matches_keras():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 4, 3))
    mask = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], dtype=bool)
    tg_layer, k_layer = _pair("BatchNormalization", {"momentum": 0.5})
    _copy_random_weights(tg_layer, k_layer, x.shape, rng, positive=("variance",))
    _compare(
        tg_layer,
        k_layer,
        x,
        rng,
        call_kwargs={"training": True},
        tg_extra={"mask": tg.constant(mask)},
        k_extra={"mask": tf.constant(mask)},
    )
    for t, k in zip(tg_layer.weights, k_layer.weights):
        np.testing.assert_allclose(np.asarray(t), k.numpy(), rtol=RTOL, atol=ATOL)


ERROR_CASES = [
    ("Conv2D", {"filters": 2, "kernel_size": 3}, (1, 5, 5, 3), (1, 5, 5, 4)),
    ("Conv2D", {"filters": 2, "kernel_size": 3}, (1, 5, 5, 3), (5, 5, 3)),
    ("Conv1DTranspose", {"filters": 2, "kernel_size": 3}, (1, 5, 3), (1, 5, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "data_format": "channels_first"}, (1, 3, 5, 5), (1, 2, 5, 5)),
    ("SeparableConv1D", {"filters": 2, "kernel_size": 3}, (1, 5, 3), (1, 5)),
    ("MaxPooling2D", {}, (1, 4, 4, 3), (1, 4, 4, 3, 1)),
    ("GlobalAveragePooling3D", {}, (1, 2, 2, 2, 3), (1, 2, 2, 3)),
    ("BatchNormalization", {}, (2, 3), (2, 4)),
    ("BatchNormalization", {}, (2, 3), (2, 1, 3)),
    ("GroupNormalization", {"groups": 1}, (2, 3), (2, 4)),
]


@pytest.mark.parametrize(
    "cls_name,kwargs,good,bad", ERROR_CASES, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(ERROR_CASES)]
)
def test_bad_input_raises_like_keras(cls_name, kwargs, good, bad):
    """The layer sets Keras's InputSpec after build: the same expectation in the message, which
    names the layer and the received shape (the message's prefix is the base InputSpec's)."""
    tg_layer, k_layer = _pair(cls_name, kwargs)
    tg_layer(tg.zeros(good, "float64"))
    k_layer(np.zeros(good))
    with pytest.raises(ValueError) as k_err:
        k_layer(np.zeros(bad))
    with pytest.raises(ValueError) as t_err:
        tg_layer(tg.zeros(bad, "float64"))
    t_msg, k_msg = str(t_err.value), str(k_err.value)
    assert "layer" in t_msg and '"layer"' in t_msg or "'layer'" in t_msg
    assert str(bad) in t_msg and str(bad) in k_msg
    tail = "is incompatible with the layer:"
    assert t_msg.split(tail)[1] == k_msg.split(tail)[1]


CONFIG_CASES = [
    (
        "Conv2D",
        {
            "filters": 2,
            "kernel_size": 3,
            "kernel_initializer": "he_normal",
            "kernel_regularizer": "l2",
            "bias_constraint": "non_neg",
            "activity_regularizer": {"class_name": "L1", "config": {"l1": 0.5}},
            "activation": "swish",
        },
    ),
    (
        "SeparableConv1D",
        {
            "filters": 2,
            "kernel_size": 3,
            "pointwise_regularizer": {"class_name": "L1L2", "config": {"l1": 0.25, "l2": 0.5}},
        },
    ),
    ("DepthwiseConv2D", {"kernel_size": 3, "depthwise_constraint": "max_norm"}),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "output_padding": 1, "strides": 2}),
    ("BatchNormalization", {"gamma_regularizer": "l2", "beta_constraint": "unit_norm", "synchronized": True}),
    ("GroupNormalization", {"groups": 4, "gamma_initializer": "zeros"}),
    ("AveragePooling1D", {"pool_size": 3, "padding": "same"}),
    ("Conv1D", {"filters": 2, "kernel_size": 3, "activity_regularizer": "l1", "bias_regularizer": "l1l2"}),
]


@pytest.mark.parametrize("cls_name,kwargs", CONFIG_CASES, ids=[c for c, _ in CONFIG_CASES])
def test_config_round_trip_matches_keras(cls_name, kwargs):
    tg_layer, k_layer = _pair(cls_name, kwargs)
    _assert_same_config(tg_layer.get_config(), k_layer.get_config())
    again = type(tg_layer).from_config(tg_layer.get_config())
    _assert_same_config(again.get_config(), k_layer.get_config())
