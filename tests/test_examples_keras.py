"""The Keras examples run (short settings) and reach what they claim: the CNN learns the synthetic
digits, the custom loop's checkpoint restores the same predictions, the functional model's
weights file reloads to the same predictions."""

import os
import runpy
import sys

import pytest

import tapegrad  # noqa: F401  (imported before capsys captures: an editable dev install rebuilds on import)

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "examples")


def _run(name, argv, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", [name] + argv)
    return runpy.run_path(os.path.join(EXAMPLES, name), run_name="not_main")


@pytest.mark.slow
def test_mnist_cnn_learns(monkeypatch, tmp_path, capsys):
    mod = _run("mnist_cnn.py", [], monkeypatch, tmp_path)
    history, accuracy = mod["main"](samples=1500, epochs=2, batch_size=64, verbose=1)
    out = capsys.readouterr().out
    assert "Total params: 12,810" in out and "Epoch 2/2" in out and "val_accuracy" in out
    assert history.history["loss"][1] < history.history["loss"][0]
    assert accuracy > 0.5  # ten classes: chance is 0.1


@pytest.mark.slow
def test_custom_training_loop_checkpoints(monkeypatch, tmp_path, capsys):
    mod = _run("custom_training_loop.py", [], monkeypatch, tmp_path)
    val_acc, same = mod["main"](epochs=2, samples=1200, ckpt_dir=str(tmp_path / "ckpts"))
    out = capsys.readouterr().out
    assert same and val_acc > 0.8
    assert sorted(p for p in os.listdir(tmp_path / "ckpts") if p.endswith(".index")) == ["ckpt-1.index", "ckpt-2.index"]
    assert "Epoch 2: loss" in out


@pytest.mark.slow
def test_functional_two_inputs(monkeypatch, tmp_path, capsys):
    mod = _run("functional_two_inputs.py", [], monkeypatch, tmp_path)
    history, same = mod["main"](epochs=2, samples=600, verbose=0)
    assert same
    assert {"loss", "priority_loss", "department_loss", "department_accuracy", "val_loss"} <= set(history.history)
    assert history.history["loss"][1] < history.history["loss"][0]
