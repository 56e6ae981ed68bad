"""The benchmark suite's code paths on tiny sizes (`--smoke`): tables and Markdown are produced, every
library that ran agrees with the reference, nothing errors. Timings are not asserted.

While tapegrad lacks a feature a workload needs (Adam, sparse softmax cross-entropy, conv2d), the
second test installs small stand-ins written with tapegrad ops so that those workloads' code paths
run; the suite checks their numbers against numpy by hand and the peers like any other library.
"""

import os
import sys

import numpy as np
import pytest

import tapegrad as tg

# Importing the suite unsets the OpenBLAS variables (see benchmarks/_common.py); tests leave the
# environment as they found it.
_SAVED_ENV = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import run as suite  # noqa: E402

os.environ.update({k: v for k, v in _SAVED_ENV.items() if v is not None})


class _StandInAdam:
    """Keras 3's Adam rule with tapegrad ops (only while tg.keras.optimizers.Adam is missing)."""

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        self.lr, self.b1, self.b2, self.eps = learning_rate, beta_1, beta_2, epsilon
        self.t, self.slots = 0, {}

    def apply_gradients(self, grads_and_vars):
        self.t += 1
        alpha = self.lr * np.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        for g, var in grads_and_vars:
            if id(var) not in self.slots:
                zeros = np.zeros(var.shape, np.float32)
                self.slots[id(var)] = (tg.Variable(zeros), tg.Variable(zeros))
            m, v = self.slots[id(var)]
            m.assign_add((g - m) * (1 - self.b1))
            v.assign_add((g * g - v) * (1 - self.b2))
            var.assign_sub(m * alpha / (tg.sqrt(v) + self.eps))


def _stand_in_sparse_xent(labels, logits):
    z = logits - tg.stop_gradient(tg.reduce_max(logits, axis=-1, keepdims=True))
    one_hot = tg.constant(np.eye(z.shape[-1], dtype=np.float32)[labels.numpy()])
    return tg.math.log(tg.reduce_sum(tg.exp(z), axis=-1)) - tg.reduce_sum(one_hot * z, axis=-1)


def _stand_in_conv2d(input, filters, strides, padding):
    """3x3 stride-1 SAME NHWC conv as im2col (numpy, on a constant input) + matmul: differentiable in
    the filters only, which is all the CNN workload needs."""
    assert strides == 1 and padding == "SAME"
    x = input.numpy()
    kh, kw, c, o = filters.shape
    n, h, w, _ = x.shape
    xp = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    cols = np.concatenate([xp[:, i : i + h, j : j + w, :] for i in range(kh) for j in range(kw)], axis=-1)
    out = tg.matmul(tg.constant(cols.reshape(n * h * w, kh * kw * c)), tg.reshape(filters, [kh * kw * c, o]))
    return tg.reshape(out, [n, h, w, o])


def _problems(ctx):
    return [(r["workload"], r["case"], r["library"], r["note"]) for r in ctx.rows if r["status"] != "ok"]


def test_smoke_tapegrad_alone(tmp_path, capsys):
    ctx = suite.main(["--smoke", "--in-process", "--peers", "", "--out", str(tmp_path), "--no-progress"])
    assert _problems(ctx) == []
    text = (tmp_path / "results.md").read_text()
    assert "| workload | case | library | median | time / tapegrad | note |" in text
    ran = {r["workload"] for r in ctx.rows if r["library"] == "tapegrad"}
    skipped = {w for w, _, lib, _ in ctx.skipped if lib in ("tapegrad", "(all)")}
    assert {"tape", "linreg", "elementwise", "matmul"} <= ran
    assert ran | skipped >= {"tape", "mlp", "linreg", "adam", "elementwise", "matmul", "cnn"}
    for name in skipped:  # a missing tapegrad feature, or a machine without mpi4py or MPI's launcher
        assert any(w == name and ("needs tg." in r or "needs mpi" in r) for w, _, _, r in ctx.skipped)
    out = capsys.readouterr().out
    assert "Budgets (benchmarks/README.md):" in out and "saved " in out


def test_smoke_with_peers(tmp_path, monkeypatch, capsys):
    if not hasattr(tg.keras.optimizers, "Adam"):
        monkeypatch.setattr(tg.keras.optimizers, "Adam", _StandInAdam, raising=False)
    if not hasattr(tg.nn, "sparse_softmax_cross_entropy_with_logits"):
        monkeypatch.setattr(tg.nn, "sparse_softmax_cross_entropy_with_logits", _stand_in_sparse_xent, raising=False)
    if not hasattr(tg.nn, "conv2d"):
        monkeypatch.setattr(tg.nn, "conv2d", _stand_in_conv2d, raising=False)
    # JAX (not in the project's environment) is left out: its compile times alone would double this test
    ctx = suite.main(
        [
            "--smoke",
            "--in-process",
            "--out",
            str(tmp_path),
            "--only",
            "tape,mlp,adam,cnn,linreg",
            "--peers",
            "numpy,torch,tf",
        ],
        use_tqdm=False,
    )
    assert _problems(ctx) == []
    timed = {r["workload"] for r in ctx.rows if r["library"] == "tapegrad" and r["seconds"] is not None}
    assert timed == {"tape", "mlp", "adam", "cnn", "linreg"}
    peers = {r["library"] for r in ctx.rows}
    assert "numpy by hand" in peers
    if "PyTorch eager" in peers:  # torch installed: the budget is computed, met or not
        assert any(b["workload"] == "tape" and b["met"] is not None for b in ctx.budgets)
    md = (tmp_path / "results.md").read_text()
    assert "## Budgets" in md and "cnn" in md
    out = capsys.readouterr().out
    try:
        import matplotlib  # noqa: F401

        assert (tmp_path / "results.png").stat().st_size > 0
    except ImportError:
        assert "matplotlib is not installed" in out


def test_bad_arguments():
    with pytest.raises(SystemExit):
        suite.parse_args(["--only", "nosuch"])
    with pytest.raises(SystemExit):
        suite.parse_args(["--peers", "mxnet"])
    with pytest.raises(SystemExit):
        suite.parse_args(["--threads", "0"])
