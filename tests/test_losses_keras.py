"""Every loss class against real Keras 3 (TensorFlow backend): values for each reduction with and
without sample weights, and gradients in y_pred, including extreme logits. Skips without TF."""

import numpy as np
import pytest

import tapegrad as tg

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

RNG = np.random.default_rng(7)
N, C = 6, 4
REG_T = RNG.normal(size=(N, C)).astype("float32")
REG_P = RNG.normal(size=(N, C)).astype("float32")
BIN = RNG.integers(0, 2, (N, C)).astype("float32")
PROB = RNG.uniform(0.05, 0.95, (N, C)).astype("float32")
LOGITS = RNG.normal(0, 3, (N, C)).astype("float32")
EXTREME = np.where(RNG.uniform(size=(N, C)) < 0.5, -1000.0, 1000.0).astype("float32")
ONEHOT = np.eye(C, dtype="float32")[RNG.integers(0, C, N)]
SPARSE = RNG.integers(0, C, N).astype("float32")
SOFT = (np.exp(LOGITS) / np.exp(LOGITS).sum(-1, keepdims=True)).astype("float32")
SW = RNG.uniform(0.2, 2.0, N).astype("float32")

CASES = [
    ("MeanSquaredError", {}, REG_T, REG_P),
    ("MeanAbsoluteError", {}, REG_T, REG_P),
    ("MeanAbsolutePercentageError", {}, REG_T, REG_P),
    ("MeanSquaredLogarithmicError", {}, np.abs(REG_T), np.abs(REG_P)),
    ("CosineSimilarity", {"axis": -1}, REG_T, REG_P),
    ("Huber", {"delta": 0.8}, REG_T, REG_P),
    ("LogCosh", {}, REG_T, REG_P),
    ("Hinge", {}, BIN, REG_P),
    ("SquaredHinge", {}, BIN, REG_P),
    ("CategoricalHinge", {}, ONEHOT, REG_P),
    ("KLDivergence", {}, SOFT, PROB),
    ("Poisson", {}, np.abs(REG_T), PROB),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, BIN, PROB),
    ("BinaryCrossentropy", {"from_logits": True}, BIN, LOGITS),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, BIN, EXTREME),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "gamma": 1.5}, BIN, PROB),
    ("BinaryFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, BIN, LOGITS),
    ("CategoricalCrossentropy", {"label_smoothing": 0.1}, ONEHOT, PROB),
    ("CategoricalCrossentropy", {"from_logits": True}, SOFT, LOGITS),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONEHOT, EXTREME),
    ("CategoricalFocalCrossentropy", {"alpha": 0.4}, ONEHOT, PROB),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "gamma": 1.0}, ONEHOT, LOGITS),
    ("SparseCategoricalCrossentropy", {}, SPARSE, PROB),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, SPARSE, LOGITS),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, SPARSE, EXTREME),
    ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 1}, SPARSE, LOGITS),
    ("Dice", {}, BIN, PROB),
    ("Dice", {"axis": -1}, BIN, PROB),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, BIN, PROB),
]
IDS = [f"{n}-{i}" for i, (n, *_) in enumerate(CASES)]


def _tf_value_and_grad(loss, yt, yp, sw):
    x = tf.constant(yp)
    with tf.GradientTape() as tape:
        tape.watch(x)
        v = loss(yt, x, sample_weight=sw)
        s = tf.reduce_sum(v * np.linspace(0.5, 1.5, int(np.prod(v.shape)), dtype="float32").reshape(v.shape))
    return v.numpy(), tape.gradient(s, x).numpy()


def _tg_value_and_grad(loss, yt, yp, sw):
    x = tg.constant(yp)
    with tg.GradientTape() as tape:
        tape.watch(x)
        v = loss(yt, x, sample_weight=sw)
        s = tg.reduce_sum(v * np.linspace(0.5, 1.5, int(np.prod(v.shape)), dtype="float32").reshape(v.shape))
    return v.numpy(), tape.gradient(s, x).numpy()


@pytest.mark.parametrize("name,kw,yt,yp", CASES, ids=IDS)
def test_matches_keras(name, kw, yt, yp):
    for reduction in ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"]:
        for sw in [None, SW]:
            if sw is not None and name in ("Dice", "Tversky") and "axis" not in kw:
                sw = np.float32(0.7)  # a scalar loss takes only a scalar weight
            k = getattr(keras.losses, name)(reduction=reduction, **kw)
            t = getattr(tg.keras.losses, name)(reduction=reduction, **kw)
            kv, kg = _tf_value_and_grad(k, yt, yp, sw)
            tv, tgr = _tg_value_and_grad(t, yt, yp, sw)
            assert np.all(np.isfinite(tv)) and np.all(np.isfinite(tgr))
            np.testing.assert_allclose(tv, kv, rtol=2e-5, atol=2e-5, err_msg=f"{name} {reduction} values")
            np.testing.assert_allclose(tgr, kg, rtol=2e-4, atol=2e-5, err_msg=f"{name} {reduction} gradients")
    k = getattr(keras.losses, name)(**kw)
    t = getattr(tg.keras.losses, name)(**kw)
    assert t.name == k.name and t.get_config().items() >= {"name": k.name, "reduction": k.reduction}.items()


@pytest.mark.parametrize(
    "fn",
    [
        "mean_squared_error",
        "mean_absolute_error",
        "mean_absolute_percentage_error",
        "mean_squared_logarithmic_error",
        "cosine_similarity",
        "huber",
        "log_cosh",
        "kl_divergence",
        "poisson",
        "hinge",
        "squared_hinge",
        "categorical_hinge",
        "binary_crossentropy",
        "binary_focal_crossentropy",
        "categorical_crossentropy",
        "categorical_focal_crossentropy",
        "dice",
        "tversky",
    ],
)
def test_functions_match_keras(fn):
    yt, yp = (ONEHOT, PROB) if "categorical" in fn or fn in ("kl_divergence", "dice", "tversky") else (BIN, PROB)
    want = getattr(keras.losses, fn)(yt, tf.constant(yp)).numpy()
    got = getattr(tg.keras.losses, fn)(yt, tg.constant(yp)).numpy()
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_rank_alignment_matches_keras():
    yt = RNG.normal(size=(N,)).astype("float32")
    yp = RNG.normal(size=(N, 1)).astype("float32")
    for name in ["MeanSquaredError", "MeanAbsoluteError", "Huber", "LogCosh", "BinaryCrossentropy"]:
        a, b = (np.abs(yt) % 1, 1 / (1 + np.exp(-yp))) if name == "BinaryCrossentropy" else (yt, yp)
        for sw in [None, SW, SW[:, None]]:
            want = getattr(keras.losses, name)()(a, b, sample_weight=sw).numpy()
            got = getattr(tg.keras.losses, name)()(a, b, sample_weight=sw).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=name)
