"""Keras losses against a plain-numpy transcription of Keras's formulas (float32 and float64),
reductions, sample weights, masks, label smoothing, ignore_class, extreme logits, gradients
against finite differences, errors, and the Loss base class (subclassing, config, get)."""

import numpy as np
import pytest

import tapegrad as tg

L = tg.keras.losses
EPS = 1e-7
RNG = np.random.default_rng(1)


# ---- numpy transcriptions of keras/src/losses/losses.py (per-sample values) -------------------


def _f64(*a):
    return [np.asarray(x, np.float64) for x in a]


def _clip(x, lo, hi):
    return np.minimum(np.maximum(x, lo), hi)


def _log_softmax(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _bce_elems(y, p, from_logits):
    if from_logits:
        return np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    p = _clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def _hinge_labels(y):
    return 2 * y - 1 if np.all((y == 0) | (y == 1)) else y


def _l2n(x, axis):
    return x * np.minimum(1 / np.sqrt((x * x).sum(axis=axis, keepdims=True)), 1 / EPS)


def np_loss(name, y, p, **kw):
    y, p = _f64(y, p)
    if name == "mse":
        return ((y - p) ** 2).mean(-1)
    if name == "mae":
        return np.abs(y - p).mean(-1)
    if name == "mape":
        return 100 * np.abs((y - p) / np.maximum(np.abs(y), EPS)).mean(-1)
    if name == "msle":
        return ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(y, EPS) + 1)) ** 2).mean(-1)
    if name == "cosine":
        ax = kw.get("axis", -1)
        return -(_l2n(y, ax) * _l2n(p, ax)).sum(ax)
    if name == "huber":
        d = kw.get("delta", 1.0)
        e = np.abs(p - y)
        return np.where(e <= d, 0.5 * e**2, d * e - 0.5 * d**2).mean(-1)
    if name == "logcosh":
        return np.log(np.cosh(p - y)).mean(-1)
    if name == "hinge":
        return np.maximum(1 - _hinge_labels(y) * p, 0).mean(-1)
    if name == "squared_hinge":
        return (np.maximum(1 - _hinge_labels(y) * p, 0) ** 2).mean(-1)
    if name == "categorical_hinge":
        return np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0)
    if name == "kld":
        y, p = _clip(y, EPS, 1), _clip(p, EPS, 1)
        return (y * np.log(y / p)).sum(-1)
    if name == "poisson":
        return (p - y * np.log(p + EPS)).mean(-1)
    ls = kw.get("label_smoothing", 0.0)
    fl = kw.get("from_logits", False)
    ax = kw.get("axis", -1)
    if name == "bce":
        y = y * (1 - ls) + 0.5 * ls
        return _bce_elems(y, p, fl).mean(ax)
    if name == "bfce":
        y = y * (1 - ls) + 0.5 * ls
        if fl:
            p = 1 / (1 + np.exp(-p))
        bce = _bce_elems(y, p, False)
        p_t = y * p + (1 - y) * (1 - p)
        out = (1 - p_t) ** kw.get("gamma", 2.0) * bce
        if kw.get("apply_class_balancing"):
            a = kw.get("alpha", 0.25)
            out = (y * a + (1 - y) * (1 - a)) * out
        return out.mean(ax)
    if name in ("cce", "cfce"):
        y = y * (1 - ls) + ls / y.shape[-1]
        if name == "cce" and fl:
            return -(y * _log_softmax(p, ax)).sum(ax)
        if fl:
            p = np.exp(_log_softmax(p, ax))
        q = _clip(p / p.sum(ax, keepdims=True), EPS, 1 - EPS)
        if name == "cce":
            return -(y * np.log(q)).sum(ax)
        return (kw.get("alpha", 0.25) * (1 - q) ** kw.get("gamma", 2.0) * -y * np.log(q)).sum(ax)
    if name == "scce":
        labels = y.astype(np.int64)
        if labels.ndim == p.ndim:
            labels = labels[..., 0]
        logits = p if fl else np.log(_clip(p, EPS, 1 - EPS))
        out = -np.take_along_axis(_log_softmax(logits), labels[..., None], -1)[..., 0]
        ic = kw.get("ignore_class")
        return out if ic is None else np.where(labels == ic, 0.0, out)
    if name == "dice":
        ax = kw.get("axis")
        return 1 - 2 * (y * p).sum(ax) / (y.sum(ax) + p.sum(ax) + EPS)
    if name == "tversky":
        ax, a, b = kw.get("axis"), kw.get("alpha", 0.5), kw.get("beta", 0.5)
        tp = (y * p).sum(ax)
        fp = ((1 - p) * y).sum(ax)
        fn = (p * (1 - y)).sum(ax)
        return 1 - tp / (tp + a * fp + b * fn + EPS)
    raise KeyError(name)


# ---- data ------------------------------------------------------------------------------------

N, C = 4, 5
REG_T = RNG.normal(size=(N, C))
REG_P = RNG.normal(size=(N, C))
BIN = RNG.integers(0, 2, (N, C)).astype(np.float64)
PROB = RNG.uniform(0.05, 0.95, (N, C))
LOGITS = RNG.normal(0, 3, (N, C))
ONEHOT = np.eye(C)[RNG.integers(0, C, N)]
SPARSE = RNG.integers(0, C, N)
SOFT = np.exp(_log_softmax(RNG.normal(size=(N, C))))
# Labels that sum to 1 along axis 0 once smoothed by 0.2 over shape[-1] classes (Keras's rule): TF's
# softmax_cross_entropy_with_logits gradient (softmax - labels) is exact only for such labels.
SOFT_AXIS0 = np.exp(_log_softmax(RNG.normal(size=(C, N)))).T * (1 - 0.2 * N / C) / (1 - 0.2)

# (class, kwargs, numpy name, y_true, y_pred, function, twice differentiable)
CASES = [
    (L.MeanSquaredError, {}, "mse", REG_T, REG_P, L.mean_squared_error),
    (L.MeanAbsoluteError, {}, "mae", REG_T, REG_P, L.mean_absolute_error),
    (L.MeanAbsolutePercentageError, {}, "mape", REG_T, REG_P, L.mean_absolute_percentage_error),
    (L.MeanSquaredLogarithmicError, {}, "msle", np.abs(REG_T), np.abs(REG_P), L.mean_squared_logarithmic_error),
    (L.CosineSimilarity, {}, "cosine", REG_T, REG_P, L.cosine_similarity),
    (L.CosineSimilarity, {"axis": 0}, "cosine", REG_T, REG_P, L.cosine_similarity),
    (L.Huber, {"delta": 0.7}, "huber", REG_T, REG_P, L.huber),
    (L.LogCosh, {}, "logcosh", REG_T, REG_P, L.log_cosh),
    (L.Hinge, {}, "hinge", BIN, REG_P, L.hinge),
    (L.Hinge, {}, "hinge", 2 * BIN - 1, REG_P, L.hinge),
    (L.SquaredHinge, {}, "squared_hinge", BIN, REG_P, L.squared_hinge),
    (L.CategoricalHinge, {}, "categorical_hinge", ONEHOT, REG_P, L.categorical_hinge),
    (L.KLDivergence, {}, "kld", SOFT, PROB, L.kl_divergence),
    (L.Poisson, {}, "poisson", np.abs(REG_T), PROB, L.poisson),
    (L.BinaryCrossentropy, {}, "bce", BIN, PROB, L.binary_crossentropy),
    (L.BinaryCrossentropy, {"label_smoothing": 0.2}, "bce", BIN, PROB, L.binary_crossentropy),
    (L.BinaryCrossentropy, {"from_logits": True, "label_smoothing": 0.1}, "bce", BIN, LOGITS, L.binary_crossentropy),
    (L.BinaryCrossentropy, {"from_logits": True, "axis": 0}, "bce", BIN, LOGITS, L.binary_crossentropy),
    (L.BinaryFocalCrossentropy, {}, "bfce", BIN, PROB, L.binary_focal_crossentropy),
    (
        L.BinaryFocalCrossentropy,
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.1},
        "bfce",
        BIN,
        PROB,
        L.binary_focal_crossentropy,
    ),
    (L.BinaryFocalCrossentropy, {"from_logits": True}, "bfce", BIN, LOGITS, L.binary_focal_crossentropy),
    (L.CategoricalCrossentropy, {}, "cce", ONEHOT, PROB, L.categorical_crossentropy),
    (L.CategoricalCrossentropy, {"label_smoothing": 0.3}, "cce", ONEHOT, PROB, L.categorical_crossentropy),
    (L.CategoricalCrossentropy, {"from_logits": True}, "cce", SOFT, LOGITS, L.categorical_crossentropy),
    (
        L.CategoricalCrossentropy,
        {"from_logits": True, "label_smoothing": 0.2, "axis": 0},
        "cce",
        SOFT_AXIS0,
        LOGITS,
        L.categorical_crossentropy,
    ),
    (L.CategoricalFocalCrossentropy, {}, "cfce", ONEHOT, PROB, L.categorical_focal_crossentropy),
    (
        L.CategoricalFocalCrossentropy,
        {"from_logits": True, "alpha": 0.5, "gamma": 3.0, "label_smoothing": 0.1},
        "cfce",
        ONEHOT,
        LOGITS,
        L.categorical_focal_crossentropy,
    ),
    (L.SparseCategoricalCrossentropy, {}, "scce", SPARSE, PROB, L.sparse_categorical_crossentropy),
    (
        L.SparseCategoricalCrossentropy,
        {"from_logits": True},
        "scce",
        SPARSE[:, None],
        LOGITS,
        L.sparse_categorical_crossentropy,
    ),
    (L.Dice, {}, "dice", BIN, PROB, L.dice),
    (L.Dice, {"axis": -1}, "dice", BIN, PROB, L.dice),
    (L.Tversky, {"alpha": 0.3, "beta": 0.7}, "tversky", BIN, PROB, L.tversky),
    (L.Tversky, {"axis": 1}, "tversky", BIN, PROB, L.tversky),
]
IDS = [f"{c.__name__}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for c, kw, *_ in CASES]


def _reduce(values, reduction, w=None):
    if reduction in ("none", None) or values.ndim == 0:
        return values
    s = values.sum()
    if reduction == "sum":
        return s
    if reduction == "mean_with_sample_weight" and w is not None:
        return s / np.broadcast_to(w, values.shape).sum() if np.ndim(w) else s / w
    return s / values.size


@pytest.mark.parametrize("cls,kw,ref,yt,yp,fn", CASES, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_against_numpy_formula(cls, kw, ref, yt, yp, fn, dtype):
    want = np_loss(ref, yt, yp, **kw)
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == "float32" else dict(rtol=1e-10, atol=1e-11)
    # the function form: per-sample values in y_pred's dtype
    fkw = {k: v for k, v in kw.items()}
    per_sample = fn(yt, tg.constant(yp, dtype=dtype), **fkw)
    assert per_sample.dtype == tg.as_dtype(dtype)
    np.testing.assert_allclose(per_sample.numpy(), want, **tol)
    # the class with every reduction
    for reduction in ["sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None]:
        loss = cls(reduction=reduction, dtype=dtype, **kw)
        got = loss(yt, yp)
        assert got.dtype == tg.as_dtype(dtype) and loss.dtype == dtype
        np.testing.assert_allclose(got.numpy(), _reduce(want, reduction), **tol)


@pytest.mark.parametrize("cls,kw,ref,yt,yp,fn", CASES, ids=IDS)
def test_gradients_against_finite_differences(cls, kw, ref, yt, yp, fn):
    # float64; order 2 (every case sits away from the kinks of max/abs/clip)
    loss = cls(dtype="float64", **kw)
    per = np_loss(ref, yt, yp, **kw)
    sw = RNG.uniform(0.5, 1.5, per.shape) if per.ndim == 1 else None
    f = lambda p: loss(yt, p, sample_weight=sw)  # noqa: E731
    tg.testing.check_gradients(f, [yp], order=2)
    if ref not in ("scce", "hinge", "squared_hinge"):  # labels are differentiable inputs too
        tg.testing.check_gradients(lambda t, p: fn(t, p, **kw), [yt, yp], order=2)


# ---- reductions and sample weights ------------------------------------------------------------


def test_invalid_reduction_raises():
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`.*Received: reduction=avg"):
        L.MeanSquaredError(reduction="avg")


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("weight_shape", ["scalar", "(N,)", "(N,1)"])
def test_sample_weight_shapes(reduction, weight_shape):
    yt, yp = REG_T, REG_P
    per = np_loss("mse", yt, yp)
    w = {"scalar": 0.7, "(N,)": RNG.uniform(size=N), "(N,1)": RNG.uniform(size=(N, 1))}[weight_shape]
    got = L.MeanSquaredError(reduction=reduction, dtype="float64")(yt, yp, sample_weight=w).numpy()
    wv = np.asarray(w, np.float64)
    if weight_shape == "(N,1)":  # values (N,) are expanded to (N,1) to meet the weights
        weighted = per[:, None] * wv
    else:
        weighted = per * wv
    if reduction == "none":
        np.testing.assert_allclose(got, weighted, rtol=1e-12)
    elif reduction == "sum":
        np.testing.assert_allclose(got, weighted.sum(), rtol=1e-12)
    elif reduction == "sum_over_batch_size":  # divided by the element count, not by the weights
        np.testing.assert_allclose(got, weighted.sum() / weighted.size, rtol=1e-12)
    else:
        den = np.broadcast_to(wv, weighted.shape).sum() if weight_shape != "scalar" else wv
        np.testing.assert_allclose(got, weighted.sum() / den, rtol=1e-12)


def test_per_element_sample_weight_on_sequences():
    yt, yp = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(2, 3, 4))
    w = RNG.uniform(size=(2, 3))
    got = L.MeanAbsoluteError(dtype="float64")(yt, yp, sample_weight=w)
    per = np_loss("mae", yt, yp)  # (2, 3)
    np.testing.assert_allclose(got.numpy(), (per * w).sum() / 6, rtol=1e-12)
    w_bad = RNG.uniform(size=(3, 2))
    with pytest.raises(ValueError, match=r"\[2,3\] vs. \[3,2\]"):
        L.MeanAbsoluteError()(yt, yp, sample_weight=w_bad)


def test_zero_weights_give_zero_not_nan():
    got = L.MeanSquaredError(reduction="mean_with_sample_weight")(REG_T, REG_P, sample_weight=np.zeros(N))
    assert float(got) == 0.0


def test_rank_alignment_n_vs_n1_has_no_broadcast_trap():
    yt = RNG.normal(size=(6,))
    yp = RNG.normal(size=(6, 1))
    for cls, ref in [
        (L.MeanSquaredError, "mse"),
        (L.MeanAbsoluteError, "mae"),
        (L.Huber, "huber"),
        (L.LogCosh, "logcosh"),
    ]:
        got = cls(reduction="none", dtype="float64")(yt, yp)
        assert got.shape == (6,)
        np.testing.assert_allclose(got.numpy(), np_loss(ref, yt[:, None], yp), rtol=1e-12)
        np.testing.assert_allclose(
            float(cls(dtype="float64")(yp, yt)), np_loss(ref, yt[:, None], yp).mean(), rtol=1e-12
        )
    # both rank 1: `call` reduces the only axis to one scalar, returned unreduced
    assert L.MeanSquaredError()(yt, yt + 1).shape == ()


def test_scalar_and_empty_values_are_returned_unreduced():
    d = L.Dice()(BIN, PROB)
    assert d.shape == ()
    np.testing.assert_allclose(
        float(L.Dice(dtype="float64")(BIN, PROB, sample_weight=2.0)), 2 * np_loss("dice", BIN, PROB), rtol=1e-12
    )
    empty = L.MeanSquaredError()(np.zeros((0, 3), "f4"), np.zeros((0, 3), "f4"))
    assert empty.shape == (0,)


# ---- label smoothing, ignore_class, masks ------------------------------------------------------


def test_ignore_class_masks_entries_out_of_the_mean():
    labels = np.array([0, 2, -1, 1, -1])
    logits = RNG.normal(size=(5, 3))
    valid = labels != -1
    per = np.where(valid, -np.take_along_axis(_log_softmax(logits), np.maximum(labels, 0)[:, None], -1)[:, 0], 0)
    loss = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, dtype="float64")
    np.testing.assert_allclose(float(loss(labels, logits)), per.sum() / valid.sum(), rtol=1e-12)
    np.testing.assert_allclose(
        L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="none", dtype="float64")(
            labels, logits
        ).numpy(),
        per,
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        float(
            L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction="sum", dtype="float64")(
                labels, logits
            )
        ),
        per.sum(),
        rtol=1e-12,
    )
    w = RNG.uniform(size=5)
    np.testing.assert_allclose(
        float(
            L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, dtype="float64")(
                labels, logits, sample_weight=w
            )
        ),
        (per * w * 5 / valid.sum()).sum() / 5,
        rtol=1e-12,
    )
    # the function form carries the mask, and the ignored entries give no gradient
    res = L.sparse_categorical_crossentropy(labels, tg.constant(logits), from_logits=True, ignore_class=-1)
    np.testing.assert_array_equal(np.asarray(res._keras_mask), valid)
    x = tg.constant(logits)
    with tg.GradientTape() as tape:
        tape.watch(x)
        v = loss(labels, x)
    g = tape.gradient(v, x).numpy()
    assert np.all(g[~valid] == 0) and np.all(np.abs(g[valid]).sum(-1) > 0)
    tg.testing.check_gradients(lambda p: loss(labels, p), [logits], order=2)
    # ignore_class with a class label on probabilities too
    probs = np.exp(_log_softmax(logits))
    got = L.SparseCategoricalCrossentropy(ignore_class=2, dtype="float64")(np.array([0, 2, 1, 1, 2]), probs)
    np.testing.assert_allclose(
        float(got), np_loss("scce", np.array([0, 2, 1, 1, 2]), probs, ignore_class=2).sum() / 3, rtol=1e-10
    )


def test_input_mask_on_y_pred_is_respected():
    yp = tg.constant(REG_P)
    yp._keras_mask = tg.constant(np.array([True, False, True, True]))
    got = L.MeanSquaredError(dtype="float64")(REG_T, yp)
    per = np_loss("mse", REG_T, REG_P)
    np.testing.assert_allclose(float(got), per[[0, 2, 3]].mean(), rtol=1e-12)


def test_label_smoothing_changes_targets_as_keras():
    yt = np.array([[0.0, 1.0, 0.0]])
    p = np.array([[0.2, 0.5, 0.3]])
    got = float(L.CategoricalCrossentropy(label_smoothing=0.3, dtype="float64")(yt, p))
    smooth = yt * 0.7 + 0.1
    np.testing.assert_allclose(got, -(smooth * np.log(p)).sum(), rtol=1e-12)
    got = float(L.BinaryCrossentropy(label_smoothing=0.4, dtype="float64")(yt, p))
    s = yt * 0.6 + 0.2
    np.testing.assert_allclose(got, -(s * np.log(p) + (1 - s) * np.log(1 - p)).mean(), rtol=1e-12)


def test_categorical_probabilities_are_renormalised_and_clipped():
    yt = np.array([[0.0, 1.0, 0.0]])
    p = np.array([[2.0, 2.0, 0.0]])  # sums to 4, a zero entry
    got = float(L.CategoricalCrossentropy(dtype="float64")(yt, p))
    np.testing.assert_allclose(got, -np.log(0.5), rtol=1e-12)
    got = float(L.CategoricalCrossentropy(dtype="float64")(np.array([[0.0, 0.0, 1.0]]), p))
    np.testing.assert_allclose(got, -np.log(EPS), rtol=1e-12)


# ---- extreme logits -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_give_finite_losses_and_gradients(dtype):
    x = tg.constant([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], dtype=dtype)
    onehot = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    losses = {
        "cce": (L.CategoricalCrossentropy(from_logits=True, dtype=dtype), onehot, 2000.0 + np.log(2) / 2),
        "cce_ls": (L.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, dtype=dtype), onehot, None),
        "scce": (
            L.SparseCategoricalCrossentropy(from_logits=True, dtype=dtype),
            np.array([1, 0]),
            2000.0 + np.log(2) / 2,
        ),
        "bce": (L.BinaryCrossentropy(from_logits=True, dtype=dtype), onehot, (5000.0 + np.log(2)) / 6),
        "bfce": (L.BinaryFocalCrossentropy(from_logits=True, dtype=dtype), onehot, None),
        "cfce": (L.CategoricalFocalCrossentropy(from_logits=True, dtype=dtype), onehot, None),
        "logcosh": (L.LogCosh(dtype=dtype), onehot, None),
        "huber": (L.Huber(dtype=dtype), onehot, None),
        "hinge": (L.CategoricalHinge(dtype=dtype), onehot, None),
    }
    for name, (loss, yt, want) in losses.items():
        with tg.GradientTape() as tape:
            tape.watch(x)
            v = loss(yt, x)
        g = tape.gradient(v, x).numpy()
        assert np.isfinite(float(v)) and np.all(np.isfinite(g)), name
        if want is not None:
            np.testing.assert_allclose(float(v), want, rtol=1e-6, err_msg=name)
    # log_cosh at |x| = 1000 is |x| - log 2, not inf
    np.testing.assert_allclose(L.log_cosh([[0.0]], tg.constant([[1000.0]])).numpy(), [1000.0 - np.log(2)], rtol=1e-6)


# ---- errors ------------------------------------------------------------------------------------


def test_bad_inputs_raise_with_shapes():
    with pytest.raises(ValueError, match=r"target.shape=\(2, 3\), output.shape=\(2, 4\)"):
        L.CategoricalCrossentropy()(np.zeros((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"must have the same rank.*target.shape=\(2, 3\), output.shape=\(2, 3, 2\)"):
        L.categorical_crossentropy(np.zeros((2, 3)), tg.ones((2, 3, 2)))
    with pytest.raises(ValueError, match=r"target.shape=\(2, 3\), output.shape=\(3, 2\)"):
        L.BinaryCrossentropy()(np.zeros((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Incompatible shapes: \[2,3\] vs. \[3,2\]"):
        L.MeanSquaredError()(np.zeros((2, 3)), np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"target.shape=\(3,\), output.shape=\(2, 4\)"):
        L.SparseCategoricalCrossentropy()(np.zeros(3), np.ones((2, 4)) / 4)
    with pytest.raises(tg.errors.InvalidArgumentError, match="label value of 7"):
        L.SparseCategoricalCrossentropy(from_logits=True)(np.array([7, 0]), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="Only axis=-1"):
        L.SparseCategoricalCrossentropy(axis=0)(np.zeros(4), np.ones((4, 3)))
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        L.categorical_crossentropy(ONEHOT, tg.constant(PROB), axis=True)
    with pytest.raises(ValueError, match="float dtype"):
        L.MeanSquaredError(dtype="int32")
    with pytest.warns(SyntaxWarning, match=r"y_pred.shape=\(2, 1\)"):
        L.CategoricalCrossentropy()(np.ones((2, 1)), np.ones((2, 1)))


# ---- the Loss base class ------------------------------------------------------------------------


def test_subclassing_loss_with_call():
    class Scaled(L.Loss):
        def __init__(self, k, **kwargs):
            super().__init__(**kwargs)
            self.k = k

        def call(self, y_true, y_pred):
            return self.k * tg.reduce_mean(tg.abs(y_pred - y_true), axis=-1)

    loss = Scaled(2.0, reduction="sum", dtype="float64")
    np.testing.assert_allclose(float(loss(REG_T, REG_P)), 2 * np_loss("mae", REG_T, REG_P).sum(), rtol=1e-12)
    assert loss.name.startswith("scaled") and loss.get_config()["reduction"] == "sum"
    with pytest.raises(NotImplementedError):
        L.Loss()(REG_T, REG_P)


def test_names_default_to_keras_names_and_are_unique_for_unnamed_losses():
    assert L.CategoricalCrossentropy().name == "categorical_crossentropy"
    assert L.Huber().name == "huber_loss"

    class MyLoss(L.Loss):
        def call(self, y_true, y_pred):
            return y_pred

    assert [MyLoss().name for _ in range(3)] == ["my_loss", "my_loss_1", "my_loss_2"]


@pytest.mark.parametrize("cls,kw,ref,yt,yp,fn", CASES, ids=IDS)
def test_config_round_trip(cls, kw, ref, yt, yp, fn):
    loss = cls(reduction="sum", name="x", **kw)
    config = loss.get_config()
    assert config["name"] == "x" and config["reduction"] == "sum"
    for k, v in kw.items():
        assert config[k] == v
    again = cls.from_config(config)
    np.testing.assert_allclose(again(yt, yp).numpy(), loss(yt, yp).numpy(), rtol=1e-6)
    restored = L.deserialize(L.serialize(loss))
    assert type(restored) is cls and restored.get_config() == config


def test_get_and_plain_functions():
    assert L.get(None) is None
    assert L.get("mse") is L.mean_squared_error is L.MSE is L.mse
    assert L.get("categorical_crossentropy") is L.categorical_crossentropy
    assert isinstance(L.get("CategoricalCrossentropy"), L.CategoricalCrossentropy)
    assert isinstance(L.get(L.Huber), L.Huber)
    inst = L.Poisson()
    assert L.get(inst) is inst
    got = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert got.from_logits is True
    fn = lambda y_true, y_pred: tg.reduce_mean(y_pred - y_true)  # noqa: E731
    assert L.get(fn) is fn
    with pytest.raises(ValueError, match="Could not interpret loss identifier: nope"):
        L.get("nope")
    assert L.serialize(L.mean_squared_error) == "mean_squared_error"
    for a, b in [
        ("mae", "mean_absolute_error"),
        ("MAE", "mean_absolute_error"),
        ("mape", "mean_absolute_percentage_error"),
        ("MAPE", "mean_absolute_percentage_error"),
        ("msle", "mean_squared_logarithmic_error"),
        ("MSLE", "mean_squared_logarithmic_error"),
        ("kld", "kl_divergence"),
        ("KLD", "kl_divergence"),
        ("logcosh", "log_cosh"),
    ]:
        assert getattr(L, a) is getattr(L, b)
    assert tg.losses is tg.keras.losses


def test_wrapper_around_a_plain_function_and_its_config():
    w = L.LossFunctionWrapper(L.huber, delta=0.5, reduction="sum", dtype="float64")
    np.testing.assert_allclose(float(w(REG_T, REG_P)), np_loss("huber", REG_T, REG_P, delta=0.5).sum(), rtol=1e-12)
    config = w.get_config()
    assert config["fn"] == "huber" and config["delta"] == 0.5
    again = L.LossFunctionWrapper.from_config(config)
    assert again.dtype == "float32"  # Keras's config carries no dtype
    np.testing.assert_allclose(float(again(REG_T, REG_P)), float(w(REG_T, REG_P)), rtol=1e-6)


def test_losses_accept_variables_and_int_labels():
    v = tg.Variable(PROB.astype("float32"))
    with tg.GradientTape() as tape:
        loss = L.SparseCategoricalCrossentropy()(tg.constant(SPARSE.astype("int32")), v)
    g = tape.gradient(loss, v)
    assert g is not None and g.shape == (N, C)
    np.testing.assert_allclose(float(loss), np_loss("scce", SPARSE, PROB).mean(), rtol=1e-5)


# ---- random shapes (hypothesis) and NaN propagation ---------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(
    batch=st.integers(1, 6),
    classes=st.integers(2, 7),
    scale=st.sampled_from([0.5, 5.0, 500.0]),
    smoothing=st.sampled_from([0.0, 0.15]),
    seed=st.integers(0, 2**31 - 1),
)
@settings(max_examples=25, deadline=None)
def test_cross_entropies_random_shapes(batch, classes, scale, smoothing, seed):
    r = np.random.default_rng(seed)
    logits = r.normal(0, scale, (batch, classes))
    labels = r.integers(0, classes, batch)
    onehot = np.eye(classes)[labels]
    got = L.CategoricalCrossentropy(from_logits=True, label_smoothing=smoothing, reduction="none", dtype="float64")(
        onehot, logits
    )
    np.testing.assert_allclose(
        got.numpy(), np_loss("cce", onehot, logits, from_logits=True, label_smoothing=smoothing), rtol=1e-10, atol=1e-10
    )
    got = L.SparseCategoricalCrossentropy(from_logits=True, reduction="none", dtype="float64")(labels, logits)
    np.testing.assert_allclose(got.numpy(), np_loss("scce", labels, logits, from_logits=True), rtol=1e-10, atol=1e-10)
    got = L.BinaryCrossentropy(from_logits=True, label_smoothing=smoothing, reduction="none", dtype="float64")(
        onehot, logits
    )
    np.testing.assert_allclose(
        got.numpy(), np_loss("bce", onehot, logits, from_logits=True, label_smoothing=smoothing), rtol=1e-10, atol=1e-10
    )


def test_nan_inputs_propagate_like_tensorflow():
    logits = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]])
    got = L.CategoricalCrossentropy(from_logits=True, reduction="none", dtype="float64")(np.eye(3)[:2], logits).numpy()
    assert np.isnan(got[0]) and np.isfinite(got[1])
    got = L.MeanSquaredError(reduction="none", dtype="float64")(np.zeros((2, 3)), logits).numpy()
    assert np.isnan(got[0]) and np.isfinite(got[1])
