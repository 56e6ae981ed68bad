"""The pool's adaptive spin (cpp/tensor/parallel.h SpinBudget, Note [Adaptive spin] in
cpp/tensor/parallel.cpp): the spin after each job is a deterministic function of the gaps between
jobs and of whether the worker found a chunk to run. tests/cpp/spin_budget.cpp replays gaps; the
traces below are worked out by hand from the Note's rule (no timing is measured)."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
US = 1000  # ns


@pytest.fixture(scope="module")
def replay(tmp_path_factory):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None or not (ROOT / "cpp" / "tensor" / "parallel.h").exists():
        pytest.skip("needs a C++ compiler and the source tree")
    exe = tmp_path_factory.mktemp("spin") / "spin_budget"
    subprocess.run(
        [
            cxx,
            "-std=c++17",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Werror",
            f"-I{ROOT / 'cpp'}",
            str(ROOT / "tests" / "cpp" / "spin_budget.cpp"),
            "-o",
            str(exe),
        ],
        check=True,
        capture_output=True,
    )

    def run(max_ns, steps):
        text = f"{max_ns}\n" + "".join(f"{gap} {int(did)}\n" for gap, did in steps)
        out = subprocess.run([str(exe)], input=text, capture_output=True, text=True, check=True).stdout
        return [int(x) for x in out.split()]

    return run


def test_back_to_back_jobs_keep_the_full_spin(replay):
    assert replay(100 * US, [(5 * US, True)] * 5) == [100 * US] * 6


def test_long_gaps_halve_the_spin_down_to_zero(replay):
    # a 16th of 100 us is 6.25 us: under it the worker sleeps at once
    assert replay(100 * US, [(500 * US, True)] * 6) == [100_000, 50_000, 25_000, 12_500, 6_250, 0, 0]


def test_a_job_found_done_halves_the_spin(replay):
    # the caller ran every chunk before the worker looked (its core was taken): the wake paid nothing
    assert replay(100 * US, [(1 * US, False), (1 * US, False), (1 * US, True)]) == [100_000, 50_000, 25_000, 50_000]


def test_close_jobs_bring_the_spin_back(replay):
    trace = replay(100 * US, [(500 * US, True)] * 5 + [(1 * US, True), (30 * US, True), (1 * US, True)])
    assert trace[5] == 0
    # from 0: at least a 16th of the maximum; then twice the gap; then twice the spin, capped
    assert trace[6:] == [6_250, 60_000, 100_000]


def test_the_spin_covers_twice_the_gap_it_saw(replay):
    assert replay(100 * US, [(500 * US, True)] * 3 + [(20 * US, True)]) == [100_000, 50_000, 25_000, 12_500, 40_000]


def test_no_spin_when_the_maximum_is_zero(replay):
    # TAPEGRAD_POOL_SPIN_US=0: workers always sleep
    assert replay(0, [(0, True), (10, True), (10**9, False)]) == [0, 0, 0, 0]
