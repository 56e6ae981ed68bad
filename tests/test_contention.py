"""The contention probe (Note [Contention] in cpp/tensor/parallel.cpp): with CPU-bound neighbours
on the same core, a training loop's kernels see the cores as contended (workers do not spin, one BLAS
thread). The child process and its neighbours are pinned to one CPU, so this holds on any machine."""

import os
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import os, subprocess, sys, time
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    hogs = [subprocess.Popen([sys.executable, "-c",
                              f"import os; os.sched_setaffinity(0, {{{cpu}}})\\nwhile True: pass"])
            for _ in range(2)]
    try:
        import numpy as np
        import tapegrad as tg
        from tapegrad import _core
        tg.config.set_num_threads(2)
        a = tg.constant(np.random.default_rng(0).standard_normal((256, 256)).astype("float32"))
        x = tg.constant(np.ones(1 << 18, "float32"))
        seen = False
        t0 = time.time()
        while time.time() - t0 < 3.0 and not seen:
            tg.matmul(a, a)
            tg.tanh(x)
            seen = _core._cores_contended()
        print("CONTENDED" if seen else "NOT CONTENDED")
    finally:
        for h in hogs:
            h.kill()
""")


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or not os.path.exists("/proc/thread-self/schedstat"),
    reason="needs Linux scheduler statistics",
)
def test_probe_sees_neighbours_on_the_same_core():
    env = {k: v for k, v in os.environ.items() if k != "TAPEGRAD_CONTENTION"}
    r = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "CONTENDED" in r.stdout.splitlines()[-1] and "NOT" not in r.stdout.splitlines()[-1], r.stdout


def test_probe_can_be_turned_off():
    code = "import tapegrad as tg; from tapegrad import _core; tg.tanh(tg.ones([1 << 18])); print(_core._cores_contended())"
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, TAPEGRAD_CONTENTION="0"),
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1] == "False"
