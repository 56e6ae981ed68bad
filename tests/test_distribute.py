"""tapegrad.distribute: real MPI processes (``mpiexec -n 2`` and ``-n 4`` on this machine,
oversubscribed) running tests/distribute_worker.py, plus the one-process world and the missing-extra
error in subprocesses. Every subprocess has a timeout, so a hang fails a test instead of the run."""

import os
import shutil
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tapegrad as tg

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distribute_worker.py")
ROOT = os.path.dirname(HERE)


def _env():
    env = dict(os.environ)  # PYTHONPATH (if any) as given: the children import this tapegrad
    env.setdefault("OMP_NUM_THREADS", "1")
    env["OPENBLAS_NUM_THREADS"] = "1"
    return env


def _python(code, timeout=60):
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
        cwd=ROOT,
    )


def _have_mpi():
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'tapegrad[mpi]')"
    if shutil.which("mpiexec") is None:
        return "mpiexec is not on PATH"
    return None


needs_mpi = pytest.mark.skipif(_have_mpi() is not None, reason=str(_have_mpi()))


def _mpiexec(n, scenario, timeout=120, extra_env=None):
    env = _env()
    env.update(extra_env or {})
    cmd = ["mpiexec", "-n", str(n), sys.executable, WORKER, scenario]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout} s (a hang); output:\n{e.stdout}\n{e.stderr}")
    return p, time.monotonic() - t0


def _assert_ok(p, n, scenario):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout:\n{p.stdout}\nstderr:\n{p.stderr}"
    for r in range(n):
        assert f"OK {scenario} rank {r}" in p.stdout, p.stdout + p.stderr


def test_import_without_mpi4py_and_init_error():
    # mpi4py made unimportable: the module imports, init() says what to install
    p = _python("""
        import sys
        sys.modules["mpi4py"] = None
        import tapegrad.distribute as hvd
        assert not hvd.is_initialized()
        try:
            hvd.rank()
        except ValueError as e:
            print("before:", e)
        try:
            hvd.init()
        except ImportError as e:
            print("init:", e)
        """)
    assert p.returncode == 0, p.stderr
    assert "before: Horovod has not been initialized; use hvd.init()." in p.stdout
    assert 'pip install "tapegrad[mpi]"' in p.stdout


@needs_mpi
def test_one_process_world_without_mpiexec():
    p = _python("""
        import numpy as np, tapegrad as tg, tapegrad.distribute as hvd
        hvd.init()
        assert (hvd.rank(), hvd.size(), hvd.local_rank(), hvd.local_size(), hvd.cross_rank()) == (0, 1, 0, 1, 0)
        w = tg.Variable([1.0, -2.0, 3.0])
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(w * w * w)
        g = hvd.DistributedGradientTape(tape).gradient(loss, [w])[0]
        assert type(hvd.DistributedGradientTape(tg.GradientTape())).__name__ == "GradientTape"
        np.testing.assert_allclose(g.numpy(), 3 * w.numpy() ** 2)
        with tg.GradientTape() as tape:  # wrapped and used inside the `with` block: one tape state
            loss = tg.reduce_sum(w * w)
            tape = hvd.DistributedGradientTape(tape)
            np.testing.assert_allclose(tape.gradient(loss, w).numpy(), 2 * w.numpy())
        assert hvd.allreduce(tg.constant([4, 6]), op=hvd.Average).numpy().tolist() == [4, 6]
        assert hvd.allreduce(tg.constant([4.0]), postscale_factor=0.5).numpy().tolist() == [2.0]
        assert hvd.allgather(tg.constant([[1.0, 2.0]])).numpy().tolist() == [[1.0, 2.0]]
        assert hvd.broadcast_object({"a": 1}) == {"a": 1} and hvd.allgather_object(5) == [5]
        hvd.broadcast_variables([w], root_rank=0)
        try:
            hvd.broadcast(tg.constant(1.0), root_rank=1)
        except ValueError as e:
            assert "root_rank must be an integer in [0, 1)" in str(e), e
        else:
            raise AssertionError("root_rank 1 of 1 accepted")
        try:
            hvd.DistributedGradientTape(tg.GradientTape(), op=hvd.Sum, gradient_predivide_factor=2.0)
        except ValueError as e:
            assert str(e) == "gradient_predivide_factor not supported with op != Average"
        try:
            hvd.DistributedGradientTape(tg.GradientTape(), groups="x")
        except ValueError as e:
            assert str(e) == "groups should be a non-negative integer or a list of list of tf.Variable."
        hvd.shutdown()
        assert not hvd.is_initialized()
        print("done")
        """)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "done" in p.stdout


def test_bucket_plan():
    from tapegrad.distribute import _plan

    keys = [("float32", 400), ("float32", 400), ("float64", 800), ("float32", 100), ("float32", 900)]
    order = list(range(5))[::-1]
    assert _plan(keys, order, 1000) == [[4, 3], [2], [1, 0]]
    assert _plan(keys, order, 0) == [[4], [3], [2], [1], [0]]
    assert _plan(keys, order, 10**9) == [[4, 3, 1, 0], [2]]


def test_source_ready_hook_order_and_values():
    # the C++ backward pass reports each source once, when its gradient is final, with the value
    # gradient() returns; a source read by the last op is ready before one read by the first op
    w1, w2, b = tg.Variable([[1.0, 2.0], [3.0, 4.0]]), tg.Variable([[0.5], [-1.0]]), tg.Variable([0.1])
    x = tg.constant([[1.0, -1.0]])
    with tg.GradientTape() as tape:
        h = tg.nn.relu(tg.matmul(x, w1))
        y = tg.matmul(h, w2) + b
        loss = tg.reduce_sum(y * y) + tg.reduce_sum(w1)
    events = []
    grads = tg._core.compute_gradient(
        tape._tape,
        [loss],
        [w1, w2, b],
        [None],
        False,
        lambda i, g: events.append((i, None if g is None else g.numpy())),
    )
    assert sorted(i for i, _ in events) == [0, 1, 2]
    assert events[-1][0] == 0  # w1 is read by the first op
    for i, g in events:
        np.testing.assert_array_equal(g, grads[i].numpy())
    # unconnected sources are reported too (None, or zeros with zero_unconnected)
    v = tg.Variable(1.0)
    with tg.GradientTape() as tape:
        tape.watch(v)
        out = w2 * 2.0
    seen = []
    tg._core.compute_gradient(tape._tape, [out], [v, w2], [None], True, lambda i, g: seen.append((i, g.numpy())))
    assert sorted((i, float(np.sum(g))) for i, g in seen) == [(0, 0.0), (1, 4.0)]


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_collectives_training_and_fit(n):
    scenario = "collectives,tape_options,training" + (",fit" if hasattr(tg.keras, "Sequential") else "")
    p, _ = _mpiexec(n, scenario, timeout=150)
    _assert_ok(p, n, scenario)


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_sparse_gradients_allgathered_or_densified(n):
    # hvd.allreduce of tf.IndexedSlices against numpy; an Embedding model trained on n ranks
    # (sparse_as_dense False and True, tape and optimizer, SGD and Adam) == one process, whole batch;
    # sparse_overlap: with sparse_as_dense=False the dense buckets are reduced while the backward pass
    # runs, collectives in the same order on every rank, a plan the walk contradicts raises
    p, _ = _mpiexec(n, "sparse,sparse_overlap", timeout=150)
    _assert_ok(p, n, "sparse,sparse_overlap")


@needs_mpi
def test_sparse_gradients_one_process_world_without_mpiexec():
    # size 1: IndexedSlices come back untouched (sparse_as_dense=False) or densified (True), as Horovod
    p = subprocess.run(
        [sys.executable, WORKER, "sparse,sparse_overlap"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        cwd=ROOT,
    )
    _assert_ok(p, 1, "sparse,sparse_overlap")


@needs_mpi
def test_same_numbers_run_to_run(tmp_path):
    digests = []
    for i in range(2):
        path = tmp_path / f"digest{i}"
        p, _ = _mpiexec(2, "training", timeout=120, extra_env={"TAPEGRAD_TEST_DIGEST_FILE": str(path)})
        _assert_ok(p, 2, "training")
        digests.append(path.read_text())  # a file: mpiexec interleaves the ranks' stdout
    assert len(digests[0]) == 64 and digests[0] == digests[1], digests


@needs_mpi
@pytest.mark.parametrize("n", [2, 4])
def test_native_allreduce_and_the_python_path_agree(n):
    # Note [Native collectives]: every real dtype and op, ranks on either path, mismatches between them
    p, _ = _mpiexec(n, "native,mismatch", timeout=120)
    _assert_ok(p, n, "native,mismatch")


@needs_mpi
def test_native_call_in_one_process():
    # the engine call itself on a one-process world: the check with any hash passes, the result is
    # the input times `scale` in a fresh tensor; scaling integers is refused (the Python side never asks)
    p = _python(
        """
from mpi4py import MPI
import numpy as np, tapegrad as tg
from tapegrad.distribute import _engine
nat = _engine.Native(MPI, MPI.COMM_WORLD.Dup(), {"sum": MPI.SUM, "max": MPI.MAX})
x = tg.constant(np.arange(6, dtype=np.float32).reshape(2, 3))
out = nat.allreduce(x, nat.types[0], "sum", 12345, 0.5)
assert out is not x and out.shape == (2, 3) and out.dtype == tg.float32
assert (out.numpy() == x.numpy() * 0.5).all() and (x.numpy() == np.arange(6).reshape(2, 3)).all()
assert nat.allreduce(tg.zeros((0, 4), tg.float64), nat.types[1], "max", -7, 1.0).shape == (0, 4)
try:
    nat.allreduce(tg.constant([1, 2]), nat.types[2], "sum", 1, 0.5)
except ValueError as e:
    assert "scales float32 and float64 only" in str(e), str(e)
else:
    raise AssertionError("an integer tensor was scaled")
print("OK")
"""
    )
    assert p.returncode == 0 and "OK" in p.stdout, p.stdout + p.stderr


@needs_mpi
def test_python_path_when_native_is_off():
    # TAPEGRAD_DISTRIBUTE_NATIVE=0: every collective and check through mpi4py, as before
    scenario = "collectives,native,mismatch"
    p, _ = _mpiexec(2, scenario, timeout=150, extra_env={"TAPEGRAD_DISTRIBUTE_NATIVE": "0"})
    _assert_ok(p, 2, scenario)


@needs_mpi
def test_mismatched_tensors_raise_on_every_rank():
    p, _ = _mpiexec(2, "mismatch", timeout=60)
    _assert_ok(p, 2, "mismatch")


@needs_mpi
def test_raising_rank_ends_the_job():
    p, seconds = _mpiexec(2, "raise", timeout=60)
    assert p.returncode != 0
    assert seconds < 30, f"took {seconds:.1f} s"
    err = p.stdout + p.stderr
    assert "ValueError: boom on purpose" in err
    assert "tapegrad.distribute: rank 1 of 2 failed with ValueError: boom on purpose" in err, err
    assert "OK raise" not in p.stdout


@needs_mpi
@pytest.mark.slow
def test_example_runs_on_two_ranks(tmp_path):
    cmd = [
        "mpiexec",
        "-n",
        "2",
        sys.executable,
        os.path.join(ROOT, "examples", "distributed_training.py"),
        "--steps",
        "12",
        "--ckpt-dir",
        str(tmp_path),
    ]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=_env(), cwd=ROOT)
    assert p.returncode == 0, p.stdout + p.stderr
    losses = [float(line.split()[3]) for line in p.stdout.splitlines() if line.startswith("step")]
    assert len(losses) == 3 and losses[-1] < losses[0], p.stdout  # rank 0 alone prints
    assert "(2 ranks x 32 examples)" in p.stdout
    assert p.stdout.count("saved checkpoint") == 1 and os.listdir(tmp_path), p.stdout


@needs_mpi
def test_stall_watchdog_ends_a_job_whose_rank_exited():
    p, seconds = _mpiexec(
        2,
        "exit",
        timeout=60,
        extra_env={"HOROVOD_STALL_CHECK_TIME_SECONDS": "1", "HOROVOD_STALL_SHUTDOWN_TIME_SECONDS": "3"},
    )
    assert p.returncode != 0 and seconds < 30, (p.returncode, seconds)
    err = p.stdout + p.stderr
    assert "tapegrad.distribute: rank 0 has waited" in err and "ALLREDUCE left_alone" in err, err
    assert "HOROVOD_STALL_SHUTDOWN_TIME_SECONDS=3" in err, err
