"""The threads contract (docs/architecture.md Note [Threads contract], README "Threads"), issue 14.

A Variable read from one Python thread while another writes it (assign, assign_add, an optimizer
step: all release the GIL) gives the old value or the new one, never a mix; a numpy view of a
Variable never changes after it is taken; concurrent assign_add / assign_sub lose nothing. The
writers here alternate between values every element of which is equal, so a read that mixes two
values is caught by checking that it is uniform. Each test runs its threads for a fixed, short
time and joins them with a timeout (a deadlock fails the test instead of hanging the suite)."""

import threading
import time

import numpy as np
import pytest

import tapegrad as tf

N = 1 << 20  # 4 MiB of float32: the GIL is released around every write and the write takes ~1 ms
RUN_S = 1.0


def _uniform(a):
    a = np.asarray(a)
    return a.size == 0 or bool(a.min() == a.max())


class _Threads:
    """Start the workers, let them run, stop them, join with a timeout, re-raise their errors."""

    def __init__(self, *targets):
        self.stop = threading.Event()
        self.errors = []
        self.threads = [threading.Thread(target=self._wrap(t), daemon=True) for t in targets]

    def _wrap(self, target):
        def run():
            try:
                target(self.stop)
            except BaseException as e:  # noqa: BLE001 - reported by join()
                self.errors.append(e)
                self.stop.set()

        return run

    def run(self, seconds=RUN_S):
        """Workers that loop until `stop` get `seconds`; ones that end on their own may end sooner."""
        for t in self.threads:
            t.start()
        deadline = time.monotonic() + seconds
        for t in self.threads:
            t.join(timeout=max(0.0, deadline - time.monotonic()))
        self.stop.set()
        for t in self.threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in self.threads), "a thread did not finish: deadlock?"
        if self.errors:
            raise self.errors[0]


def _alternating_writer(v, values, count):
    def write(stop):
        i = 0
        while not stop.is_set():
            v.assign(values[i % 2])
            i += 1
            count[0] = i

    return write


READS = {
    "numpy": lambda v: v.numpy(),
    "identity": lambda v: tf.identity(v).numpy(),
    "add_zero": lambda v: (v + 0).numpy(),
    "asarray": lambda v: np.asarray(v),
    "read_value": lambda v: v.read_value().numpy(),
    "value": lambda v: v.value().numpy(),
    "convert_to_tensor": lambda v: tf.convert_to_tensor(v).numpy(),
    "constant": lambda v: tf.constant(v).numpy(),
    "slice": lambda v: v[::997].numpy(),  # a gather-like op reading the variable
}


@pytest.mark.parametrize("how", sorted(READS))
def test_a_read_sees_the_old_or_the_new_value_never_a_mix(how):
    read = READS[how]
    v = tf.Variable(np.zeros(N, np.float32))
    values = [tf.zeros([N]), tf.ones([N])]
    count, bad, reads = [0], [], [0]

    def reader(stop):
        while not stop.is_set():
            a = read(v)
            reads[0] += 1
            if not _uniform(a):
                bad.append(int((a != a[0]).sum()))

    _Threads(_alternating_writer(v, values, count), reader).run(0.5)
    assert count[0] > 2 and reads[0] > 2
    assert not bad, f"{len(bad)} of {reads[0]} reads mixed the old and new values ({count[0]} writes)"


def test_ops_and_tapes_read_one_value():
    # an op reads the variable once: the sum of a uniform 0/1 vector is exactly 0 or N (float32
    # sums of integers below 2**24 are exact); inside a tape the recorded read is one value too
    v = tf.Variable(np.zeros(N, np.float32))
    values = [tf.zeros([N]), tf.ones([N])]
    count, bad, reads = [0], [], [0]

    def reader(stop):
        while not stop.is_set():
            s = float(tf.reduce_sum(v))
            with tf.GradientTape() as tape:
                y = tf.reduce_sum(v * v)
            g = tape.gradient(y, v)
            reads[0] += 1
            if s not in (0.0, float(N)) or float(y) not in (0.0, float(N)) or not _uniform(g.numpy()):
                bad.append((s, float(y)))

    _Threads(_alternating_writer(v, values, count), reader, reader).run()
    assert count[0] > 2 and reads[0] > 2
    assert not bad, f"{len(bad)} of {reads[0]} reads inside ops mixed values, e.g. {bad[:3]}"


def test_a_numpy_view_never_changes_after_it_is_taken():
    v = tf.Variable(np.zeros(N, np.float32))
    values = [tf.zeros([N]), tf.ones([N])]
    count, bad, checked = [0], [], [0]

    def viewer(stop):
        ring = []  # (view, copy taken at once, writes done then)
        while not stop.is_set():
            a = np.asarray(v)
            assert not a.flags.writeable  # read-only: nobody writes through it either
            ring.append((a, a.copy(), count[0]))
            if len(ring) > 4:
                a, first, at = ring.pop(0)
                if count[0] > at:  # the writer has assigned since the view was taken
                    checked[0] += 1
                    if not (_uniform(first) and np.array_equal(a, first)):
                        bad.append(at)
        for a, first, _ in ring:
            if not (_uniform(first) and np.array_equal(a, first)):
                bad.append(-1)

    _Threads(_alternating_writer(v, values, count), viewer).run()
    assert checked[0] > 2
    assert not bad, f"{len(bad)} of {checked[0]} numpy views changed or mixed values after they were taken"


@pytest.mark.parametrize("op", ["assign_add", "assign_sub"])
def test_assign_add_and_sub_from_several_threads_lose_nothing(op):
    # as TF's resource variables: each assign_add / assign_sub is one atomic read-modify-write
    n, per_thread, threads = N, 40, 4  # each add takes ~1 ms without the GIL: they overlap
    v = tf.Variable(np.zeros(n, np.float32))
    one = tf.ones([n])
    done = []

    def work(stop):
        for _ in range(per_thread):
            getattr(v, op)(one)
        done.append(1)

    _Threads(*[work] * threads).run(seconds=60)  # the workers end on their own
    assert len(done) == threads
    want = per_thread * threads * (1.0 if op == "assign_add" else -1.0)
    got = v.numpy()
    assert _uniform(got) and got[0] == want, f"expected {want} everywhere, got {got.min()}..{got.max()}"


def test_a_small_variable_is_exact_too():
    # below the size where the GIL is released: still exact (and int variables too)
    v = tf.Variable(0, dtype=tf.int64)

    def work(stop):
        for _ in range(2000):
            v.assign_add(1)

    _Threads(*[work] * 4).run(seconds=60)
    assert int(v) == 8000


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_optimizer_steps_concurrent_with_readers(name):
    # Every element gets the same gradient, so every element of the variable moves the same way:
    # a read during a step must be uniform (the value before the step or after it).
    v = tf.Variable(np.zeros([1024, 1024], np.float32))
    opt = getattr(tf.keras.optimizers, name)(learning_rate=0.01)
    g = tf.ones([1024, 1024])
    bad, reads, steps = [], [0], [0]

    def stepper(stop):
        while not stop.is_set():
            opt.apply_gradients([(g, v)])
            steps[0] += 1

    def reader(stop):
        while not stop.is_set():
            for a in (v.numpy(), np.asarray(v), (v * 1).numpy()):
                reads[0] += 1
                if not _uniform(a):
                    bad.append(1)

    _Threads(stepper, stepper, reader).run()
    assert steps[0] > 2 and reads[0] > 2
    assert not bad, f"{len(bad)} of {reads[0]} reads saw a half-applied {name} step ({steps[0]} steps)"
    assert int(opt.iterations) == steps[0]
    if name == "SGD":  # steps are serialised (Note [Optimizer lock]): none lost
        np.testing.assert_allclose(v.numpy(), -0.01 * steps[0] * np.ones([1024, 1024]), rtol=1e-4)


def test_a_variable_written_by_an_optimizer_and_by_assign():
    # two kinds of writer on one variable: each write is whole; the result is one of the writes'
    v = tf.Variable(np.zeros(N, np.float32))
    opt = tf.keras.optimizers.SGD(learning_rate=1.0)
    g = tf.ones([N])
    bad, reads = [], [0]

    def stepper(stop):
        while not stop.is_set():
            opt.apply_gradients([(g, v)])

    def assigner(stop):
        k = 0
        while not stop.is_set():
            v.assign(tf.fill([N], float(k)))
            k += 1

    def reader(stop):
        while not stop.is_set():
            reads[0] += 1
            if not _uniform(v.numpy()):
                bad.append(1)

    _Threads(stepper, assigner, reader).run()
    assert reads[0] > 2 and not bad, f"{len(bad)} of {reads[0]} reads mixed values"
    assert _uniform(v.numpy())
