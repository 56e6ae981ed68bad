"""examples/compare_optimizers.py runs and every optimizer fits the line."""

import os
import runpy
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(__file__), os.pardir, "examples", "compare_optimizers.py")


@pytest.mark.slow
def test_compare_optimizers_runs(tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(sys, "argv", [EXAMPLE, "--steps", "200", "--out", os.fspath(tmp_path / "curves.png")])
    runpy.run_path(EXAMPLE, run_name="__main__")
    out = capfd.readouterr().out
    sensible = [line for line in out.splitlines() if "* " in line and line[:15].rstrip().endswith("*")]
    assert len(sensible) == 15, out
    for line in sensible:  # at the sensible learning rate, every optimizer reaches the threshold
        assert "never" not in line, line
    assert ("plot was skipped" in out) or os.path.exists(tmp_path / "curves.png")
