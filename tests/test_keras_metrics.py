"""tg.keras.metrics: numpy transcriptions of Keras's formulas, several batches with sample weights,
reset, names/configs/get rules, tapes; and the same streams through real Keras 3 when installed."""

import numpy as np
import pytest

import tapegrad as tg

M = tg.keras.metrics
RNG = np.random.default_rng(0)


def _batches(kind, n_batches=3, n=8, c=4, seed=0):
    """(y_true, y_pred, sample_weight) triples of the given kind."""
    rng = np.random.default_rng(seed)
    out = []
    for b in range(n_batches):
        w = rng.uniform(0.0, 2.0, size=n).astype("float32")
        if kind == "binary":
            yt = rng.integers(0, 2, size=(n, 1)).astype("float32")
            yp = rng.uniform(0, 1, size=(n, 1)).astype("float32")
        elif kind == "binary_multi":
            yt = rng.integers(0, 2, size=(n, c)).astype("float32")
            yp = rng.uniform(0, 1, size=(n, c)).astype("float32")
        elif kind == "onehot":
            yt = np.eye(c, dtype="float32")[rng.integers(0, c, size=n)]
            yp = rng.dirichlet(np.ones(c), size=n).astype("float32")
        elif kind == "sparse":
            yt = rng.integers(0, c, size=(n,)).astype("int32")
            yp = rng.dirichlet(np.ones(c), size=n).astype("float32")
        elif kind == "logits":
            yt = np.eye(c, dtype="float32")[rng.integers(0, c, size=n)]
            yp = rng.normal(0, 2, size=(n, c)).astype("float32")
        elif kind == "regression":
            yt = rng.normal(size=(n, c)).astype("float32")
            yp = (yt + rng.normal(scale=0.5, size=(n, c))).astype("float32")
        elif kind == "positive":
            yt = rng.uniform(0.1, 2, size=(n, c)).astype("float32")
            yp = rng.uniform(0.1, 2, size=(n, c)).astype("float32")
        else:
            raise ValueError(kind)
        out.append((yt, yp, None if b == 0 else w))
    return out


def _run(metric, batches):
    results = []
    for yt, yp, w in batches:
        if w is None:
            metric.update_state(yt, yp)
        else:
            metric.update_state(yt, yp, sample_weight=w)
        results.append(np.asarray(metric.result()))
    return results


# ---- numpy transcriptions ---------------------------------------------------------------------


def _weighted_mean(values_per_sample, weights):
    v = np.concatenate(values_per_sample)
    w = np.concatenate(weights)
    return (v * w).sum() / w.sum()


def _stream(batches, per_sample):
    """Running weighted mean of per_sample(yt, yp) over the batches (weight 1 when None)."""
    vals, ws, out = [], [], []
    for yt, yp, w in batches:
        v = per_sample(yt, yp)
        vals.append(v)
        ws.append(np.ones(len(v), "float32") if w is None else w)
        out.append(_weighted_mean(vals, ws))
    return out


NUMPY_CASES = {
    "binary_accuracy": (
        lambda: M.BinaryAccuracy(),
        "binary",
        lambda yt, yp: ((yp > 0.5).astype("float32") == yt).mean(-1),
    ),
    "binary_accuracy_t0.7": (
        lambda: M.BinaryAccuracy(threshold=0.7),
        "binary",
        lambda yt, yp: ((yp > 0.7).astype("float32") == yt).mean(-1),
    ),
    "categorical_accuracy": (
        lambda: M.CategoricalAccuracy(),
        "onehot",
        lambda yt, yp: (yt.argmax(-1) == yp.argmax(-1)).astype("float32"),
    ),
    "sparse_categorical_accuracy": (
        lambda: M.SparseCategoricalAccuracy(),
        "sparse",
        lambda yt, yp: (yt == yp.argmax(-1)).astype("float32"),
    ),
    "top_k": (
        lambda: M.TopKCategoricalAccuracy(k=2),
        "onehot",
        lambda yt, yp: (np.argsort(-yp, -1)[:, :2] == yt.argmax(-1)[:, None]).any(-1).astype("float32"),
    ),
    "sparse_top_k": (
        lambda: M.SparseTopKCategoricalAccuracy(k=2),
        "sparse",
        lambda yt, yp: (np.argsort(-yp, -1)[:, :2] == yt[:, None]).any(-1).astype("float32"),
    ),
    "mse": (lambda: M.MeanSquaredError(), "regression", lambda yt, yp: ((yt - yp) ** 2).mean(-1)),
    "mae": (lambda: M.MeanAbsoluteError(), "regression", lambda yt, yp: np.abs(yt - yp).mean(-1)),
    "mape": (
        lambda: M.MeanAbsolutePercentageError(),
        "positive",
        lambda yt, yp: 100 * (np.abs(yt - yp) / np.maximum(np.abs(yt), 1e-7)).mean(-1),
    ),
    "msle": (
        lambda: M.MeanSquaredLogarithmicError(),
        "positive",
        lambda yt, yp: ((np.log1p(yp) - np.log1p(yt)) ** 2).mean(-1),
    ),
    "logcosh": (lambda: M.LogCoshError(), "regression", lambda yt, yp: np.log(np.cosh(yp - yt)).mean(-1)),
    "cosine": (
        lambda: M.CosineSimilarity(),
        "regression",
        lambda yt, yp: (yt * yp).sum(-1) / np.linalg.norm(yt, axis=-1) / np.linalg.norm(yp, axis=-1),
    ),
    "poisson": (lambda: M.Poisson(), "positive", lambda yt, yp: (yp - yt * np.log(yp + 1e-7)).mean(-1)),
    "kld": (
        lambda: M.KLDivergence(),
        "onehot",
        lambda yt, yp: (np.clip(yt, 1e-7, 1) * np.log(np.clip(yt, 1e-7, 1) / np.clip(yp, 1e-7, 1))).sum(-1),
    ),
    "bce": (
        lambda: M.BinaryCrossentropy(),
        "binary",
        lambda yt, yp: (
            -(yt * np.log(np.clip(yp, 1e-7, 1 - 1e-7)) + (1 - yt) * np.log(1 - np.clip(yp, 1e-7, 1 - 1e-7))).mean(-1)
        ),
    ),
    "cce": (
        lambda: M.CategoricalCrossentropy(),
        "onehot",
        lambda yt, yp: -(yt * np.log(np.clip(yp / yp.sum(-1, keepdims=True), 1e-7, 1 - 1e-7))).sum(-1),
    ),
    "cce_logits": (
        lambda: M.CategoricalCrossentropy(from_logits=True),
        "logits",
        lambda yt, yp: -(yt * (yp - np.log(np.exp(yp).sum(-1, keepdims=True)))).sum(-1),
    ),
    "scce": (
        lambda: M.SparseCategoricalCrossentropy(),
        "sparse",
        lambda yt, yp: -np.log(np.clip(yp[np.arange(len(yt)), yt], 1e-7, 1 - 1e-7)),
    ),
    "hinge": (lambda: M.Hinge(), "binary_multi", lambda yt, yp: np.maximum(1 - (2 * yt - 1) * yp, 0).mean(-1)),
    "squared_hinge": (
        lambda: M.SquaredHinge(),
        "binary_multi",
        lambda yt, yp: (np.maximum(1 - (2 * yt - 1) * yp, 0) ** 2).mean(-1),
    ),
    "categorical_hinge": (
        lambda: M.CategoricalHinge(),
        "onehot",
        lambda yt, yp: np.maximum(((1 - yt) * yp).max(-1) - (yt * yp).sum(-1) + 1, 0),
    ),
}


@pytest.mark.parametrize("case", sorted(NUMPY_CASES))
def test_mean_metrics_match_numpy_over_weighted_batches(case):
    make, kind, per_sample = NUMPY_CASES[case]
    batches = _batches(kind)
    m = make()
    got = _run(m, batches)
    want = _stream(batches, per_sample)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    m.reset_state()
    assert float(m.result()) == 0.0
    np.testing.assert_allclose(_run(m, batches[:1]), want[:1], rtol=2e-5, atol=1e-6)


def test_mean_sum_weights_and_ranks():
    m = M.Mean()
    assert float(m.result()) == 0.0  # divide_no_nan before any update
    m.update_state([1.0, 3.0, 5.0, 7.0])
    assert float(m.result()) == 4.0
    m.update_state([[1.0, 3.0], [5.0, 9.0]], sample_weight=[1.0, 3.0])  # rows mean-reduced: 2, 7
    # total = 16 + 2*1 + 7*3 = 39, count = 4 + 4 = 8
    assert float(m.result()) == pytest.approx(39.0 / 8.0)
    m.update_state(2.0)  # a scalar counts as one sample
    assert float(m.result()) == pytest.approx(41.0 / 9.0)
    m.update_state([[1.0, 2.0]], sample_weight=[[0.0, 4.0]])  # weights per entry: sum(v*w)/mean(w)
    # values*w = [0, 8] -> row mean 4; weight row mean 2
    assert float(m.result()) == pytest.approx(45.0 / 11.0)
    s = M.Sum()
    s.update_state([[1.0, 2.0], [3.0, 4.0]], sample_weight=[1.0, 0.5])
    assert float(s.result()) == pytest.approx(3.0 + 3.5)
    s.reset_state()
    assert float(s.result()) == 0.0


def test_masked_values_are_left_out_of_the_mean():
    values = tg.constant([1.0, 2.0, 3.0, 4.0])
    values._keras_mask = tg.constant([True, False, True, False])
    m = M.Mean()
    m.update_state(values, sample_weight=[1.0, 1.0, 1.0, 1.0])
    assert float(m.result()) == pytest.approx(2.0)


def test_rmse_and_r2_and_fscore_against_numpy():
    batches = _batches("regression")
    rm = M.RootMeanSquaredError()
    got = _run(rm, batches)
    sq, ws, want = [], [], []
    for yt, yp, w in batches:
        sq.append(((yt - yp) ** 2).mean(-1))
        ws.append(np.ones(len(yt)) if w is None else w)
        want.append(np.sqrt(_weighted_mean(sq, ws)))
    np.testing.assert_allclose(got, want, rtol=2e-5)

    r2 = M.R2Score()
    got = _run(r2, batches)[-1]
    yt = np.concatenate([b[0] for b in batches])
    yp = np.concatenate([b[1] for b in batches])
    w = np.concatenate([np.ones(8) if b[2] is None else b[2] for b in batches])[:, None]
    mean = (yt * w).sum(0) / w.sum(0)
    ss_tot = (w * (yt - mean) ** 2).sum(0)
    ss_res = (w * (yt - yp) ** 2).sum(0)
    np.testing.assert_allclose(got, np.mean(1 - ss_res / ss_tot), rtol=1e-4)

    f1 = M.F1Score(threshold=0.5)
    batches = _batches("binary_multi")
    got = _run(f1, batches)[-1]
    yt = np.concatenate([b[0] for b in batches])
    yp = np.concatenate([b[1] for b in batches]) > 0.5
    w = np.concatenate([np.ones(8) if b[2] is None else b[2] for b in batches])[:, None]
    tp = (w * yp * yt).sum(0)
    fp = (w * yp * (1 - yt)).sum(0)
    fn = (w * (1 - yp) * yt).sum(0)
    p, r = tp / (tp + fp), tp / (tp + fn)
    np.testing.assert_allclose(got, 2 * p * r / (p + r), rtol=1e-4)


def _div(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def _confusion(yt, yp, w, thresholds):
    yt = yt.reshape(-1).astype(bool)
    yp = yp.reshape(-1)
    w = np.ones_like(yp) if w is None else np.broadcast_to(w, yp.shape)
    pos = yp[None, :] > np.asarray(thresholds, dtype="float32")[:, None]
    return {
        "tp": (w * (pos & yt)).sum(1),
        "fp": (w * (pos & ~yt)).sum(1),
        "tn": (w * (~pos & ~yt)).sum(1),
        "fn": (w * (~pos & yt)).sum(1),
    }


def _accumulate(batches, thresholds):
    tot = None
    for yt, yp, w in batches:
        c = _confusion(yt, yp, w, thresholds)
        tot = c if tot is None else {k: tot[k] + c[k] for k in tot}
    return tot


@pytest.mark.parametrize("thresholds", [None, [0.3, 0.5, 0.8], [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_confusion_counts_precision_recall_against_numpy(thresholds):
    batches = _batches("binary")
    th = [0.5] if thresholds is None else thresholds
    c = _accumulate(batches, th)
    for cls, key in (
        (M.TruePositives, "tp"),
        (M.FalsePositives, "fp"),
        (M.TrueNegatives, "tn"),
        (M.FalseNegatives, "fn"),
    ):
        got = _run(cls(thresholds=thresholds), batches)[-1]
        np.testing.assert_allclose(np.atleast_1d(got), c[key], rtol=1e-5)
    got = _run(M.Precision(thresholds=thresholds), batches)[-1]
    np.testing.assert_allclose(np.atleast_1d(got), _div(c["tp"], c["tp"] + c["fp"]), rtol=1e-5)
    got = _run(M.Recall(thresholds=thresholds), batches)[-1]
    np.testing.assert_allclose(np.atleast_1d(got), _div(c["tp"], c["tp"] + c["fn"]), rtol=1e-5)


def test_precision_recall_top_k_and_class_id():
    yt = np.array([[0, 1, 0, 1], [1, 0, 0, 1]], "float32")
    yp = np.array([[0.1, 0.9, 0.8, 0.2], [0.7, 0.1, 0.3, 0.6]], "float32")
    # top_k=2: row 0 keeps classes 1, 2 (tp 1, fp 1); row 1 keeps 0, 3 (tp 2)
    assert float(M.Precision(top_k=2)(yt, yp)) == pytest.approx(3 / 4)
    assert float(M.Recall(top_k=2)(yt, yp)) == pytest.approx(3 / 4)
    # class_id=2 at 0.5: predictions 0.8 (label 0) and 0.3 -> precision 0, recall 0/0 -> 0
    assert float(M.Precision(class_id=2)(yt, yp)) == 0.0
    assert float(M.Recall(class_id=3)(yt, yp)) == pytest.approx(1 / 2)


def _numpy_auc(c, curve="ROC", method="interpolation"):
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]
    div = _div
    rec = div(tp, tp + fn)
    if curve == "ROC":
        x, y = div(fp, fp + tn), rec
    else:
        x, y = rec, div(tp, tp + fp)
    h = {
        "interpolation": (y[:-1] + y[1:]) / 2,
        "minoring": np.minimum(y[:-1], y[1:]),
        "majoring": np.maximum(y[:-1], y[1:]),
    }[method]
    return ((x[:-1] - x[1:]) * h).sum()


@pytest.mark.parametrize(
    "curve,method",
    [("ROC", "interpolation"), ("ROC", "minoring"), ("ROC", "majoring"), ("PR", "majoring"), ("PR", "minoring")],
)
def test_auc_riemann_sums_against_numpy(curve, method):
    batches = _batches("binary", n=50)
    m = M.AUC(num_thresholds=50, curve=curve, summation_method=method)
    got = _run(m, batches)[-1]
    th = [0.0 - 1e-7] + [(i + 1) / 49 for i in range(48)] + [1.0 + 1e-7]
    np.testing.assert_allclose(got, _numpy_auc(_accumulate(batches, th), curve, method), rtol=1e-5)
    # the general (unevenly spaced) path gives the same counts
    m2 = M.AUC(thresholds=[(i + 1) / 49 for i in range(48)] + [0.001], curve=curve, summation_method=method)
    assert not m2._thresholds_distributed_evenly
    th2 = [0.0 - 1e-7] + sorted([(i + 1) / 49 for i in range(48)] + [0.001]) + [1.0 + 1e-7]
    np.testing.assert_allclose(_run(m2, batches)[-1], _numpy_auc(_accumulate(batches, th2), curve, method), rtol=1e-5)


def test_auc_perfect_and_reversed_rankings_and_multi_label():
    yt = np.array([0, 0, 1, 1], "float32")
    assert float(M.AUC()(yt, [0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert float(M.AUC()(yt, [0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)
    yt2 = np.array([[0, 1], [0, 0], [1, 1], [1, 0]], "float32")
    yp2 = np.array([[0.1, 0.9], [0.2, 0.3], [0.8, 0.2], [0.9, 0.7]], "float32")
    ml = M.AUC(multi_label=True)
    per_label = [float(M.AUC()(yt2[:, j], yp2[:, j])) for j in range(2)]
    assert float(ml(yt2, yp2)) == pytest.approx(np.mean(per_label), rel=1e-5)
    assert tuple(ml.true_positives.shape) == (200, 2)
    ml.reset_state()
    assert float(np.asarray(ml.true_positives).sum()) == 0.0


def test_names_configs_and_defaults():
    assert M.AUC().get_config()["curve"] == "ROC"
    assert M.Precision().name.startswith("precision")
    assert M.BinaryAccuracy().get_config() == {"name": "binary_accuracy", "dtype": "float32", "threshold": 0.5}
    assert M.LogCoshError().name == "logcosh"
    assert M.F1Score().get_config() == {"name": "f1_score", "dtype": "float32", "average": None, "threshold": None}
    m = M.TopKCategoricalAccuracy(k=3, name="top3")
    m2 = M.TopKCategoricalAccuracy.from_config(m.get_config())
    assert (m2.name, m2.k) == ("top3", 3)
    w = M.MeanMetricWrapper(M.binary_accuracy, threshold=0.3)
    assert w.name.startswith("mean_metric_wrapper")
    cfg = w.get_config()
    assert cfg["fn"]["config"] == "binary_accuracy" and cfg["threshold"] == 0.3
    assert M.MeanMetricWrapper.from_config(cfg)._fn is M.binary_accuracy
    assert repr(M.Mean(name="x")) == "<Mean name=x>"
    assert [v.name for v in M.Mean().variables] == ["total", "count"]
    assert all(not v.trainable for v in M.AUC().variables)


def test_get_serialize_deserialize_rules():
    assert isinstance(M.get("AUC"), M.AUC) and isinstance(M.get("auc"), M.AUC)
    assert isinstance(M.get("mse"), M.MeanSquaredError) and isinstance(M.get("MAPE"), M.MeanAbsolutePercentageError)
    assert isinstance(M.get("sparse_top_k_categorical_accuracy"), M.SparseTopKCategoricalAccuracy)
    assert isinstance(M.get("f1_score"), M.F1Score) and isinstance(M.get("r2_score"), M.R2Score)
    assert M.get(M.binary_accuracy) is M.binary_accuracy
    assert M.get(None) is None
    assert isinstance(M.get("accuracy"), M.Accuracy)  # snake_case of the class; compile resolves it differently
    for bad in ("acc", "crossentropy", "nope", 3):
        with pytest.raises(ValueError, match=f"Could not interpret metric identifier: {bad}"):
            M.get(bad)
    cfg = M.serialize(M.AUC(num_thresholds=10, curve="PR"))
    assert cfg["class_name"] == "AUC" and cfg["module"] == "keras.metrics"
    back = M.deserialize(cfg)
    assert isinstance(back, M.AUC) and back.num_thresholds == 10 and back.curve.value == "PR"
    assert M.serialize(M.binary_accuracy) == {
        "module": "builtins",
        "class_name": "function",
        "config": "binary_accuracy",
        "registered_name": "function",
    }
    assert M.deserialize(M.serialize(M.binary_accuracy)) is M.binary_accuracy
    assert isinstance(M.deserialize("binary_accuracy"), M.BinaryAccuracy)


def test_compile_metric_resolution():
    gcm = M.get_compile_metric
    assert type(gcm("accuracy", tg.zeros([4, 1]), tg.zeros([4, 1]))).__name__ == "BinaryAccuracy"
    assert type(gcm("ACC", tg.zeros([4]), tg.zeros([4, 3]))).__name__ == "SparseCategoricalAccuracy"
    assert type(gcm("acc", tg.zeros([4, 1]), tg.zeros([4, 3]))).__name__ == "SparseCategoricalAccuracy"
    m = gcm("Accuracy", tg.zeros([4, 3]), tg.zeros([4, 3]))
    assert type(m).__name__ == "CategoricalAccuracy" and m.name == "Accuracy"
    assert gcm("mse", None, None).name == "mse"
    assert gcm("AUC", None, None).name == "AUC"
    fm = gcm(M.mean_squared_error, None, None)
    assert isinstance(fm, M.MeanMetricWrapper) and fm.name == "mean_squared_error"
    inst = M.Precision(name="prec")
    assert gcm(inst, None, None) is inst and inst.name == "prec"
    with pytest.raises(ValueError, match="Expected metric, received `None`"):
        gcm(None, None, None)
    with pytest.raises(ValueError, match="Could not interpret metric identifier: crossentropy"):
        gcm("crossentropy", None, None)


def test_updates_are_not_recorded_on_an_active_tape():
    w = tg.Variable([[0.5, -0.5], [1.0, 2.0]])
    metrics = [M.Mean(), M.CategoricalAccuracy(), M.AUC(), M.Precision(), M.MeanSquaredError(), M.R2Score()]
    with tg.GradientTape() as tape:
        y = tg.nn.softmax(tg.matmul(tg.constant([[1.0, 2.0], [3.0, 1.0]]), w))
        loss = tg.reduce_sum(y * y)
        nodes_before = tape._tape.num_nodes()
        for m in metrics:
            if isinstance(m, M.Mean) and not isinstance(m, M.MeanMetricWrapper):
                m.update_state(loss)
            else:
                m.update_state(tg.constant([[0.0, 1.0], [1.0, 0.0]]), y)
            m.result()
        assert tape._tape.num_nodes() == nodes_before
    assert list(tape.watched_variables()) == [w]
    g = tape.gradient(loss, w)
    assert g is not None and tuple(g.shape) == (2, 2)


def test_subclass_contract_and_errors():
    class NoSuper(M.Metric):
        def __init__(self):
            pass

    with pytest.raises(RuntimeError, match="You forgot to call `super\\(\\).__init__\\(\\)`"):
        NoSuper()([1.0])

    class Nested(M.Metric):
        def __init__(self):
            super().__init__(name="nested")
            self.inner = M.Mean()
            self.extra = self.add_variable(shape=(2,), initializer="ones", name="extra")

        def update_state(self, x):
            self.inner.update_state(x)

        def result(self):
            return self.inner.result()

    n = Nested()
    assert [v.name for v in n.variables] == ["extra", "total", "count"]
    assert float(n([2.0, 4.0])) == 3.0
    n.reset_state()
    assert float(n.result()) == 0.0 and np.asarray(n.extra).tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="Threshold values must be in \\[0, 1\\]"):
        M.Precision(thresholds=[1.5])
    with pytest.raises(ValueError, match="Invalid AUC curve value"):
        M.AUC(curve="XY")
    with pytest.raises(ValueError, match="`num_thresholds` must be an integer > 1"):
        M.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="Invalid `beta` argument value"):
        M.FBetaScore(beta=1)
    with pytest.raises(ValueError, match="R2Score expects 2D inputs"):
        M.R2Score()([1.0, 2.0], [1.0, 2.0])


# ---- against real Keras 3 ---------------------------------------------------------------------

KERAS_CASES = [
    ("Mean", {}, "values"),
    ("Sum", {}, "values"),
    ("Accuracy", {}, "sparse_argmax"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "binary"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"num_thresholds": 7, "summation_method": "minoring"}, "binary"),
    ("AUC", {"curve": "PR", "thresholds": [0.1, 0.4, 0.45, 0.9]}, "binary"),
    ("AUC", {"from_logits": True}, "logits_binary"),
    ("AUC", {"multi_label": True}, "binary_multi"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("Precision", {}, "binary"),
    ("Recall", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.6]}, "binary"),
    ("Precision", {"top_k": 2}, "binary_multi"),
    ("Recall", {"class_id": 1}, "binary_multi"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.1, 0.9]}, "binary"),
    ("TrueNegatives", {}, "binary"),
    ("FalseNegatives", {}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.5}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary"),
    ("RecallAtPrecision", {"precision": 0.6}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("RootMeanSquaredError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "binary"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True}, "logits"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("Hinge", {}, "binary_multi"),
    ("SquaredHinge", {}, "binary_multi"),
    ("CategoricalHinge", {}, "onehot"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "binary_multi"),
    ("FBetaScore", {"beta": 2.0, "average": "weighted", "threshold": 0.4}, "binary_multi"),
    ("F1Score", {"average": "micro", "threshold": 0.5}, "binary_multi"),
    ("AUC", {"multi_label": True, "label_weights": [0.2, 0.5, 1.0, 0.3]}, "binary_multi"),
    ("AUC", {"label_weights": [0.2, 0.5, 1.0, 0.3]}, "binary_multi"),
    ("AUC", {"multi_label": True, "num_labels": 4, "curve": "PR"}, "binary_multi"),
    ("AUC", {"multi_label": True, "thresholds": [0.3, 0.6]}, "binary_multi"),
    ("Recall", {"thresholds": [0.0, 0.25, 0.5, 0.75, 1.0]}, "binary"),
    ("Precision", {"thresholds": [0.0, 0.5, 1.0]}, "binary"),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("BinaryCrossentropy", {"from_logits": True}, "logits_binary"),
    ("PearsonCorrelation", {}, "regression"),
    ("ConcordanceCorrelation", {}, "regression"),
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, "sparse_labels"),
    ("MeanIoU", {"num_classes": 4}, "sparse_labels"),
    ("MeanIoU", {"num_classes": 4, "ignore_class": 1}, "sparse_labels"),
    ("BinaryIoU", {}, "binary"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary"),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [1, 3]}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": 4}, "onehot"),
]


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


def _keras_batches(kind):
    if kind == "values":
        rng = np.random.default_rng(3)
        return [
            (
                rng.normal(size=(6, 3)).astype("float32"),
                None,
                None if b == 0 else rng.uniform(0, 2, size=6).astype("float32"),
            )
            for b in range(3)
        ]
    if kind == "sparse_argmax":
        return [(yt, yp.argmax(-1).astype("int32"), w) for yt, yp, w in _batches("sparse")]
    if kind == "sparse_labels":  # integer labels and integer predictions, integer weights
        return [
            (yt, yp.argmax(-1).astype("int32"), None if w is None else np.round(w * 2))
            for yt, yp, w in _batches("sparse")
        ]
    if kind == "sparse_logits":
        return [(yt, np.log(yp) * 3, w) for yt, yp, w in _batches("sparse")]
    if kind == "logits_binary":
        return [(yt, (yp - 0.5) * 6, w) for yt, yp, w in _batches("binary")]
    return _batches(kind)


@pytest.mark.parametrize("name,kwargs,kind", KERAS_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(KERAS_CASES)])
@pytest.mark.filterwarnings("ignore:You are passing weight as `float`")
def test_against_keras(keras, name, kwargs, kind):
    ours, theirs = getattr(M, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for yt, yp, w in _keras_batches(kind):
        args = (yt,) if yp is None else (yt, yp)
        kw = {} if w is None else {"sample_weight": w}
        ours.update_state(*args, **kw)
        theirs.update_state(*args, **kw)
        np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(theirs.result()), rtol=2e-5, atol=2e-6)
    ours_cfg = ours.get_config()
    theirs_cfg = theirs.get_config()
    theirs_cfg["name"] = ours_cfg["name"] = None  # auto-names count instances per process
    if theirs_cfg.get("label_weights") is not None:  # Keras keeps the tensor itself in its config
        theirs_cfg["label_weights"] = np.asarray(theirs_cfg["label_weights"]).tolist()
    assert ours_cfg == theirs_cfg
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(theirs.result()))


def test_functions_against_keras(keras):
    for yt, yp, _ in _batches("onehot"):
        for fn in ("categorical_accuracy", "top_k_categorical_accuracy"):
            np.testing.assert_allclose(
                np.asarray(getattr(M, fn)(yt, yp)), np.asarray(getattr(keras.metrics, fn)(yt, yp))
            )
    for yt, yp, _ in _batches("sparse"):
        for fn in ("sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy"):
            np.testing.assert_allclose(
                np.asarray(getattr(M, fn)(yt, yp)), np.asarray(getattr(keras.metrics, fn)(yt, yp))
            )
        yt2 = yt.reshape(-1, 1)
        np.testing.assert_allclose(
            np.asarray(M.sparse_categorical_accuracy(yt2, yp)),
            np.asarray(keras.metrics.sparse_categorical_accuracy(yt2, yp)),
        )
    for yt, yp, _ in _batches("binary"):
        np.testing.assert_allclose(
            np.asarray(M.binary_accuracy(yt, yp, threshold=0.4)),
            np.asarray(keras.metrics.binary_accuracy(yt, yp, threshold=0.4)),
        )


def test_metric_names_and_get_match_keras(keras):
    names = sorted(n for n in dir(keras.metrics) if not n.startswith("_"))
    ours = set(dir(M))
    missing = [n for n in names if n not in ours]
    assert missing == []
    for ident in (
        "auc",
        "AUC",
        "mse",
        "MAE",
        "f1_score",
        "sparse_top_k_categorical_accuracy",
        "r2_score",
        "bce",
        "log_cosh_error",
        "f_beta_score",
        "accuracy",
        "Accuracy",
    ):
        assert type(M.get(ident)).__name__ == type(keras.metrics.get(ident)).__name__


def test_tf_guide_style_custom_metric_and_tf_function():
    class BinaryTruePositives(tg.keras.metrics.Metric):  # the TF guide's example, unchanged
        def __init__(self, name="binary_true_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.true_positives = self.add_weight(name="tp", initializer="zeros")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = tg.cast(y_true, tg.bool)
            y_pred = tg.cast(y_pred, tg.bool)
            values = tg.logical_and(tg.equal(y_true, True), tg.equal(y_pred, True))
            values = tg.cast(values, self.dtype)
            if sample_weight is not None:
                values = tg.multiply(values, tg.cast(sample_weight, self.dtype))
            self.true_positives.assign_add(tg.reduce_sum(values))

        def result(self):
            return self.true_positives

    m = BinaryTruePositives()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[1.0, 2.0, 3.0, 4.0])
    assert float(m.result()) == 9.0
    m.reset_state()
    assert float(m.result()) == 0.0

    acc = M.SparseCategoricalAccuracy()

    @tg.function
    def step(y, logits):
        acc.update_state(y, logits)
        return acc.result()

    step(tg.constant([1, 0]), tg.constant([[0.1, 0.9], [0.2, 0.8]]))
    assert float(step(tg.constant([1, 1]), tg.constant([[0.1, 0.9], [0.3, 0.7]]))) == pytest.approx(0.75)
