"""Replaying one traced function from several Python threads at once (tf.function tests)."""

import threading

import numpy as np


def replay_in_threads(traced, xs, want, calls):
    """Thread i replays traced(xs[i]) `calls` times; each result must equal want[i] exactly."""
    errors = []

    def work(i):
        try:
            for _ in range(calls):
                np.testing.assert_array_equal(traced(xs[i]).numpy(), want[i])
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
