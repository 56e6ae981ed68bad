"""The same trajectories against real Keras 3 (TensorFlow backend), when it is installed."""

import os

import numpy as np
import pytest

import tapegrad as tg

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
pytest.importorskip("tensorflow")

SHAPES = [(7,), (3, 5), (33,)]
CASES = [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
    ("Adam", {"learning_rate": 0.01, "amsgrad": True}),
    ("AdamW", {"learning_rate": 0.01, "weight_decay": 0.1}),
    ("Adagrad", {"learning_rate": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adamax", {"learning_rate": 0.01}),
    ("Nadam", {"learning_rate": 0.01}),
    (
        "Ftrl",
        {
            "learning_rate": 0.1,
            "l1_regularization_strength": 0.01,
            "l2_regularization_strength": 0.1,
            "l2_shrinkage_regularization_strength": 0.05,
            "beta": 0.2,
        },
    ),
    ("Lion", {"learning_rate": 0.01}),
    ("Lamb", {"learning_rate": 0.01}),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.01, "clipnorm": 1.0, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 2.0, "weight_decay": 0.05}),
    ("RMSprop", {"clipvalue": 0.5, "gradient_accumulation_steps": 2}),
]


def _trajectory_tg(name, cfg, params, grads):
    vs = [tg.Variable(p.copy(), name=f"v{k}") for k, p in enumerate(params)]
    opt = getattr(tg.keras.optimizers, name)(**cfg)
    out = []
    for gs in grads:
        opt.apply_gradients(zip([tg.constant(g) for g in gs], vs))
        out.append([v.numpy() for v in vs])
    return out


def _trajectory_keras(name, cfg, params, grads, lr=None):
    vs = [keras.Variable(p.copy(), name=f"v{k}") for k, p in enumerate(params)]
    cfg = dict(cfg)
    if lr is not None:
        cfg["learning_rate"] = lr
    opt = getattr(keras.optimizers, name)(**cfg)
    out = []
    for gs in grads:
        opt.apply_gradients(zip([keras.ops.convert_to_tensor(g) for g in gs], vs))
        out.append([np.array(v.numpy()) for v in vs])
    return out


@pytest.mark.parametrize("name,cfg", CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_matches_keras(name, cfg):
    rng = np.random.default_rng(3)
    params = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    grads = [[rng.standard_normal(s).astype(np.float32) for s in SHAPES] for _ in range(4)]
    ours = _trajectory_tg(name, cfg, params, grads)
    theirs = _trajectory_keras(name, cfg, params, grads)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for k, (x, y) in enumerate(zip(a, b)):
            np.testing.assert_allclose(x, y, rtol=3e-5, atol=3e-6, err_msg=f"{name} step {step} variable {k}")


def test_schedule_matches_keras():
    ours = tg.keras.optimizers.schedules
    theirs = keras.optimizers.schedules
    pairs = [
        ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
        ("PiecewiseConstantDecay", ([2, 5], [1.0, 0.5, 0.1]), {}),
        ("PolynomialDecay", (0.1, 4), {"cycle": True, "power": 0.5}),
        ("InverseTimeDecay", (0.1, 2, 0.5), {}),
        ("CosineDecay", (0.01, 6), {"warmup_target": 0.2, "warmup_steps": 3, "alpha": 0.1}),
        ("CosineDecayRestarts", (0.1, 2), {"t_mul": 2.0, "m_mul": 0.5, "alpha": 0.05}),
    ]
    for cls, args, kw in pairs:
        a, b = getattr(ours, cls)(*args, **kw), getattr(theirs, cls)(*args, **kw)
        for s in range(15):
            assert float(a(s)) == pytest.approx(float(b(s)), rel=1e-6, abs=1e-9), (cls, s)
        assert a.get_config() == b.get_config()
    sched_cfg = {"learning_rate": ours.ExponentialDecay(0.1, 2, 0.5), "momentum": 0.9}
    rng = np.random.default_rng(4)
    params = [rng.standard_normal((5,)).astype(np.float32)]
    grads = [[rng.standard_normal((5,)).astype(np.float32)] for _ in range(5)]
    a = _trajectory_tg("SGD", sched_cfg, params, grads)
    b = _trajectory_keras("SGD", sched_cfg, params, grads, lr=theirs.ExponentialDecay(0.1, 2, 0.5))
    np.testing.assert_allclose(a[-1][0], b[-1][0], rtol=3e-5, atol=3e-6)


def test_config_keys_match_keras():
    for name in [
        "SGD",
        "RMSprop",
        "Adam",
        "AdamW",
        "Adagrad",
        "Adadelta",
        "Adamax",
        "Nadam",
        "Ftrl",
        "Lion",
        "Lamb",
        "Adafactor",
    ]:
        ours = getattr(tg.keras.optimizers, name)().get_config()
        theirs = getattr(keras.optimizers, name)().get_config()
        assert set(ours) == set(theirs), name
        for key in theirs:
            if key not in ("name",):
                assert (
                    ours[key] == pytest.approx(theirs[key])
                    if isinstance(theirs[key], float)
                    else ours[key] == theirs[key]
                ), (name, key)
