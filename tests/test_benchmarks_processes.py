"""The per-process benchmark suite (benchmarks/_processes.py, Note [One process per library]): which
process measures which library, the alternating order, how the parent merges the rounds, checks
results across processes and evaluates budgets (with synthetic child outputs: no timing), and one
real run with child processes on tiny sizes. Timings are never asserted."""

import os
import sys

import numpy as np
import pytest

_SAVED_ENV = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from benchmarks import _processes  # noqa: E402
from benchmarks import run as suite  # noqa: E402

os.environ.update({k: v for k, v in _SAVED_ENV.items() if v is not None})


@pytest.mark.parametrize(
    "library, family",
    [
        ("tapegrad", "tapegrad"),
        ("copy probe, 7 streams in 1 pass (tapegrad C++, 2 threads)", "tapegrad"),
        ("numpy by hand", "numpy"),
        ("numpy", "numpy"),
        ("copy probe, 7 streams in 3 passes (numpy, 1 thread)", "numpy"),
        ("PyTorch eager, fused Adam", "torch"),
        ("triad a = b + s*c (torch, 2 threads)", "torch"),
        ("TF tf.function", "tf"),
        ("Keras 3 on TF fit (jit_compile=False, the CPU default)", "tf"),
        ("JAX jit, donated", "jax"),
    ],
)
def test_library_family(library, family):
    assert suite.library_family(library) == family


def test_rounds_alternate():
    fams = ["numpy", "tapegrad", "torch", "tf"]
    assert [_processes.round_order(fams, r) for r in range(3)] == [fams, fams[::-1], fams]


class _Workload:
    NAME = "fake"
    FAMILIES = ("numpy", "tapegrad", "torch")


def _row(case, library, seconds, status="ok", note=""):
    return dict(workload="fake", case=case, library=library, seconds=seconds, note=note, status=status, detail=None)


def _out(rows, results=(), dump=None, budget_specs=(), skipped=(), budgets=(), tables=()):
    return dict(
        rows=list(rows),
        skipped=[list(s) for s in skipped],
        budgets=list(budgets),
        budget_specs=list(budget_specs),
        tables=list(tables),
        results=list(results),
        notes=[],
        dump=dump,
        seconds=0.0,
    )


def _parent(mode="quick"):
    peers = {"numpy": np, "torch": object(), "tf": "tensorflow is not installed", "jax": "excluded by --peers"}
    ctx = suite.Context(mode, 2, peers, suite.Progress(1, enabled=False))
    ctx.workload = "fake"
    return ctx, peers


def _fake_children(monkeypatch, tmp_path, per_round):
    """_launch replaced: per_round[(family, round)] -> (rows, result arrays by (case, library))."""
    launched = []

    def launch(args, w, family, r, absent, tmp):
        launched.append((family, r))
        rows, arrays = per_round[(family, r)]
        results, store = [], {}
        for i, ((case, library), got) in enumerate(arrays.items()):
            for j, a in enumerate(got):
                store[f"r{i}_{j}"] = np.asarray(a, np.float64)
            results.append(dict(case=case, library=library, count=len(got), rtol=1e-3, atol=1e-5))
        dump = None
        if store:
            dump = str(tmp_path / f"{family}-{r}.npz")
            np.savez(dump, **store)
        specs = [dict(case="c", text="tapegrad <= 0.8x PyTorch eager", peer="PyTorch eager", limit=0.8, strict=False)]
        skipped = [("fake", "", "tf", "tensorflow is not installed")]
        return _out(rows, results, dump, budget_specs=specs, skipped=skipped), None, ""

    monkeypatch.setattr(_processes, "_launch", launch)
    return launched


def test_parent_merges_rounds_checks_and_evaluates_budgets(monkeypatch, tmp_path):
    ref = [np.array([1.0, 2.0])]
    per_round = {
        ("numpy", 0): ([_row("c", "numpy by hand", 4.0)], {("c", "numpy by hand"): ref}),
        ("numpy", 1): ([_row("c", "numpy by hand", 6.0)], {}),
        ("tapegrad", 0): ([_row("c", "tapegrad", 1.0, note="per step")], {("c", "tapegrad"): ref}),
        ("tapegrad", 1): ([_row("c", "tapegrad", 3.0, note="per step")], {}),
        ("torch", 0): (
            [_row("c", "PyTorch eager", 2.0), _row("c", "PyTorch bad", 1.0)],
            {("c", "PyTorch eager"): [np.array([1.0, 2.0005])], ("c", "PyTorch bad"): [np.array([1.0, 2.5])]},
        ),
        ("torch", 1): ([_row("c", "PyTorch eager", 4.0), _row("c", "PyTorch bad", 1.0)], {}),
    }
    launched = _fake_children(monkeypatch, tmp_path, per_round)
    ctx, peers = _parent("quick")  # 2 rounds
    _processes.run_workload(ctx, _Workload, None, peers, str(tmp_path))
    # tf is not installed, jax excluded: three families, the order reversed in round 1
    assert launched == [("numpy", 0), ("tapegrad", 0), ("torch", 0), ("torch", 1), ("tapegrad", 1), ("numpy", 1)]
    got = {r["library"]: r for r in ctx.rows}
    assert [r["library"] for r in ctx.rows] == ["numpy by hand", "tapegrad", "PyTorch eager", "PyTorch bad"]
    assert got["numpy by hand"]["seconds"] == 5.0 and got["tapegrad"]["seconds"] == 2.0
    assert got["PyTorch eager"]["seconds"] == 3.0 and got["PyTorch eager"]["status"] == "ok"
    assert got["tapegrad"]["note"].startswith("per step; rounds 0.50-1.50x")
    # checked against numpy by hand (the first family), across processes
    assert got["PyTorch bad"]["status"] == "mismatch" and got["PyTorch bad"]["seconds"] is None
    assert "MISMATCH vs numpy by hand" in got["PyTorch bad"]["note"]
    # the budget the children declared, evaluated once, on the merged medians
    assert len(ctx.budgets) == 1
    assert ctx.budgets[0]["met"] is True and ctx.budgets[0]["measured"] == "measured 0.667x PyTorch eager"
    assert ctx.skipped == [("fake", "", "tf", "tensorflow is not installed")]


def test_an_error_in_any_round_shows_instead_of_a_time(monkeypatch, tmp_path):
    per_round = {
        ("numpy", 0): ([_row("c", "numpy by hand", 1.0)], {}),
        ("numpy", 1): ([_row("c", "numpy by hand", 1.0)], {}),
        ("tapegrad", 0): ([_row("c", "tapegrad", 1.0)], {}),
        ("tapegrad", 1): ([_row("c", "tapegrad", None, status="error", note="ERROR RuntimeError: boom")], {}),
        ("torch", 0): ([], {}),
        ("torch", 1): ([], {}),
    }
    _fake_children(monkeypatch, tmp_path, per_round)
    ctx, peers = _parent("quick")
    _processes.run_workload(ctx, _Workload, None, peers, str(tmp_path))
    tg_row = next(r for r in ctx.rows if r["library"] == "tapegrad")
    assert tg_row["status"] == "error" and tg_row["note"] == "ERROR RuntimeError: boom"
    assert ctx.budgets[0]["met"] is None  # no tapegrad time, no PyTorch time: not measured


def test_a_failed_child_is_an_error_row(monkeypatch, tmp_path):
    monkeypatch.setattr(_processes, "_launch", lambda *a: (None, "child process failed (exit 1): boom", "trace"))
    ctx, peers = _parent("smoke")
    _processes.run_workload(ctx, _Workload, None, peers, str(tmp_path))
    assert {(r["library"], r["status"]) for r in ctx.rows} == {
        ("numpy", "error"),
        ("tapegrad", "error"),
        ("torch", "error"),
    }
    assert all("child process failed" in r["note"] for r in ctx.rows)


def test_real_children_smoke(tmp_path, capsys):
    # numpy by hand and tapegrad, each in its own process, one round: the checks pass across processes
    ctx = suite.main(["--smoke", "--only", "tape,linreg", "--peers", "numpy", "--out", str(tmp_path), "--no-progress"])
    ok = {(r["workload"], r["library"]) for r in ctx.rows if r["status"] == "ok" and r["seconds"] is not None}
    assert ok == {(w, lib) for w in ("tape", "linreg") for lib in ("numpy by hand", "tapegrad", "tapegrad tf.function")}
    out = capsys.readouterr().out
    assert "each library in its own process" in out and "Budgets (benchmarks/README.md):" in out
    assert (tmp_path / "results.md").exists()


def test_child_flags_are_checked():
    with pytest.raises(SystemExit):
        suite.parse_args(["--child", "tapegrad"])  # needs exactly one workload
    with pytest.raises(SystemExit):
        suite.parse_args(["--child", "mxnet", "--only", "tape"])


def test_jax_child_thread_count(monkeypatch):
    # XLA has no thread-count setting: the JAX child gets as many CPUs as the suite's threads, and
    # with one thread XLA's single-threaded Eigen flags (added to what the user exported)
    assert _processes.jax_cpus(1, {3, 1, 2}) == [1]
    assert _processes.jax_cpus(2, {0, 1, 2, 3}) == [0, 1]
    assert _processes.jax_cpus(2, {0, 1}) is None and _processes.jax_cpus(4, {0, 1}) is None
    monkeypatch.setattr(_processes.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    env = {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    assert _processes._jax_threads(env, 2) is None and env == {"XLA_FLAGS": "--xla_dump_to=/tmp/x"}
    pin = _processes._jax_threads(env, 1)
    assert env["XLA_FLAGS"] == "--xla_dump_to=/tmp/x --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    pinned = []
    monkeypatch.setattr(_processes.os, "sched_setaffinity", lambda pid, cpus: pinned.append((pid, cpus)), raising=False)
    pin()
    assert pinned == [(0, [0])]
