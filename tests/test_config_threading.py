"""tg.config.threading (TF's names, issue 15): round trips, the pool and OpenBLAS follow the intra-op
setting, and bad values raise TF 2.21's errors (TF raises them when its context first reads the
setting; tapegrad when it is set). The last test compares the messages with live TensorFlow in a
child process (TF cannot take a new setting once its context has run an op, which other tests in
this process may have done); it is skipped without TF."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import tapegrad as tg

th = tg.config.threading

BAD = [  # value, error type, message: as TF 2.21 reports them
    ("abc", TypeError, "'str' object cannot be interpreted as an integer"),
    (2.5, TypeError, "'float' object cannot be interpreted as an integer"),
    ("3", TypeError, "'str' object cannot be interpreted as an integer"),
    (True, TypeError, "Field tensorflow.ConfigProto.{field}: Expected an int, got a boolean."),
    (2**40, ValueError, "Value out of range: 1099511627776"),
]


@pytest.fixture(autouse=True)
def _restore():
    before = tg.config.get_num_threads()
    yield
    th.set_intra_op_parallelism_threads(0)
    th.set_inter_op_parallelism_threads(0)
    tg.config.set_num_threads(before)


def test_names_are_tfs():
    assert sorted(th.__all__) == [
        "get_inter_op_parallelism_threads",
        "get_intra_op_parallelism_threads",
        "set_inter_op_parallelism_threads",
        "set_intra_op_parallelism_threads",
    ]
    for name in th.__all__:
        assert callable(getattr(th, name))
    import tapegrad.config.threading as by_import

    assert by_import is th


def test_defaults_are_zero():
    assert th.get_intra_op_parallelism_threads() == 0
    assert th.get_inter_op_parallelism_threads() == 0


@pytest.mark.parametrize("n", [1, 2, 3, np.int64(2)])
def test_intra_round_trip_sizes_the_pool(n):
    th.set_intra_op_parallelism_threads(n)
    assert th.get_intra_op_parallelism_threads() == int(n)
    assert type(th.get_intra_op_parallelism_threads()) is int
    assert tg.config.get_num_threads() == int(n)
    # the pool of that size computes what one thread does (chunk bounds are fixed per size)
    x = np.arange(1 << 18, dtype=np.float32) / (1 << 18)
    np.testing.assert_allclose(tg.tanh(tg.constant(x)).numpy(), np.tanh(x), rtol=1e-6, atol=1e-7)
    assert float(tg.reduce_sum(tg.ones([1 << 18]))) == float(1 << 18)


def test_intra_zero_and_none_restore_the_default():
    default = tg.config.get_num_threads() if th.get_intra_op_parallelism_threads() == 0 else None
    th.set_intra_op_parallelism_threads(1)
    th.set_intra_op_parallelism_threads(0)
    assert th.get_intra_op_parallelism_threads() == 0
    if default is not None:
        assert tg.config.get_num_threads() == default
    th.set_intra_op_parallelism_threads(1)
    th.set_intra_op_parallelism_threads(None)  # TF: None is the default, read back as 0
    assert th.get_intra_op_parallelism_threads() == 0
    if default is not None:
        assert tg.config.get_num_threads() == default


def test_can_change_after_ops_ran():
    # TF refuses once its context is up; the engine resizes its pool at any time
    float(tg.reduce_sum(tg.ones([10])))
    th.set_intra_op_parallelism_threads(1)
    th.set_intra_op_parallelism_threads(2)
    assert tg.config.get_num_threads() == 2


@pytest.mark.parametrize("n", [0, 1, 4, -1, None])
def test_inter_round_trip(n):
    threads = tg.config.get_num_threads()
    th.set_inter_op_parallelism_threads(n)
    assert th.get_inter_op_parallelism_threads() == (0 if n is None else n)
    assert tg.config.get_num_threads() == threads  # the inter-op setting changes nothing here


@pytest.mark.parametrize("value, error, message", BAD)
@pytest.mark.parametrize("which", ["intra", "inter"])
def test_bad_values_raise_tfs_errors(which, value, error, message):
    setter = getattr(th, f"set_{which}_op_parallelism_threads")
    getter = getattr(th, f"get_{which}_op_parallelism_threads")
    setter(1)
    threads = tg.config.get_num_threads()
    with pytest.raises(error) as e:
        setter(value)
    assert str(e.value) == message.format(field=f"{which}_op_parallelism_threads")
    assert getter() == 1 and tg.config.get_num_threads() == threads  # nothing changed


def test_negative_intra_is_a_value_error():
    # TF aborts the whole process on it ("Check failed: num_threads >= 1")
    with pytest.raises(ValueError, match=r"intra_op_parallelism_threads must be >= 0 \(0: the default\), got -2"):
        th.set_intra_op_parallelism_threads(-2)
    assert th.get_intra_op_parallelism_threads() == 0


_TF_PROBE = r"""
import json, os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import tensorflow as tf
t = tf.config.threading
out = {}
for which in ("intra", "inter"):
    for v in json.loads(os.environ["VALUES"]):
        v = True if v == "true" else v
        getattr(t, f"set_{which}_op_parallelism_threads")(v)
        try:
            got = ["ok", getattr(t, f"get_{which}_op_parallelism_threads")()]
        except Exception as e:
            got = [type(e).__name__, str(e)]
        getattr(t, f"set_{which}_op_parallelism_threads")(0)
        out[f"{which} {v!r}"] = got
print("RESULT", json.dumps(out))
"""


def test_messages_match_live_tensorflow():
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("tensorflow is not installed")
    values = [v for v, _, _ in BAD if not isinstance(v, bool)] + ["true", None, 3]
    env = dict(os.environ, VALUES=json.dumps(values))
    p = subprocess.run([sys.executable, "-c", _TF_PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    tf_out = json.loads([ln for ln in p.stdout.splitlines() if ln.startswith("RESULT")][-1][len("RESULT ") :])
    for which in ("intra", "inter"):
        setter = getattr(th, f"set_{which}_op_parallelism_threads")
        getter = getattr(th, f"get_{which}_op_parallelism_threads")
        for v in values:
            value = True if v == "true" else v
            try:
                setter(value)
                ours = ["ok", getter()]
            except Exception as e:  # noqa: BLE001
                ours = [type(e).__name__, str(e)]
            setter(0)
            assert ours == tf_out[f"{which} {value!r}"], (which, value)
