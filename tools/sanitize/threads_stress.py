"""Python threads on one Variable, for the sanitizers (tools/sanitize.sh --thread, and under ASan).

Four threads step one Adam over one shared [512, 512] Variable through the C++ step, bypassing
the optimizer's Python lock (Note [Optimizer lock]) the way two optimizers over one Variable, or a
step and a `v.assign` from another thread, meet in C++; two threads assign the Variable (large
enough that the write releases the GIL) and two read it (numpy copies, read_value, reductions,
tape reads). The values are not checked here (lost updates are the lock's business): only what
ThreadSanitizer / AddressSanitizer say about the memory.

    python tools/sanitize/threads_stress.py [--seconds S]
"""

import argparse
import sys
import threading
import time

import numpy as np

import tapegrad as tf


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--shape", type=int, nargs=2, default=[512, 512])
    ap.add_argument(
        "--only", default="step,assign,assign_add,read", help="which kinds of thread to start (comma-separated)"
    )
    args = ap.parse_args(argv)
    shape = tuple(args.shape)
    v = tf.Variable(np.zeros(shape, np.float32), name="shared")
    opt = tf.keras.optimizers.Adam(1e-3)
    opt.build([v])
    grad = tf.constant(np.full(shape, 0.5, np.float32))
    stop = time.monotonic() + args.seconds
    errors, counts = [], {}

    def run(name, body):
        def loop():
            n = 0
            try:
                while time.monotonic() < stop:
                    body(n)
                    n += 1
            except Exception as e:  # noqa: BLE001 - reported below, the run fails
                errors.append(f"{name}: {type(e).__name__}: {e}")
            counts[name] = n

        return threading.Thread(target=loop, name=name)

    def step(n):  # the C++ step without the optimizer's lock
        opt._apply_locked([grad], [v])

    def assign(n):
        v.assign(np.full(shape, float(n % 7), np.float32))

    def assign_add(n):
        v.assign_add(grad)

    def read(n):
        a = v.numpy()
        t = v.read_value()
        s = tf.reduce_sum(v)
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v * 2.0)
        g = tape.gradient(y, v)
        assert a.shape == shape and t.shape == shape and g.shape == shape and s.shape == ()

    kinds = set(args.only.split(","))
    threads = [run(f"step{i}", step) for i in range(4)] if "step" in kinds else []
    threads += [run("assign", assign)] if "assign" in kinds else []
    threads += [run("assign_add", assign_add)] if "assign_add" in kinds else []
    threads += [run(f"read{i}", read) for i in range(2)] if "read" in kinds else []
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("iterations per thread:", dict(sorted(counts.items())))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
