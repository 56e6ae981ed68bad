"""The primitive registry (Note [One spot per primitive], Note [Saved tensors]).

Every `Op` the engine knows must either have a vector-Jacobian rule or be listed as not
differentiable, never both. A rule reads only the tensors its entry declares saved: the rest of a
node is kept without data, and reading it raises instead of reading freed memory. The whole
gradient suite runs each rule with exactly what it declared; the tests here check the registry's
shape and that the check itself fires.
"""

import numpy as np
import pytest

import tapegrad as tg
from tapegrad import _core

ROWS = _core._op_registry()
BY_NAME = {r["name"]: r for r in ROWS}


def test_every_op_has_a_rule_or_is_listed_not_differentiable():
    missing = [r["name"] for r in ROWS if not r["vjp"] and not r["not_differentiable"]]
    both = [r["name"] for r in ROWS if r["vjp"] and r["not_differentiable"]]
    assert missing == [], f"ops with neither a VJP rule nor a place in kNotDifferentiable: {missing}"
    assert both == [], f"ops with a VJP rule that are also listed as not differentiable: {both}"


def test_registry_rows_are_unique_and_named():
    names = [r["name"] for r in ROWS]
    assert len(names) == len(set(names))
    assert all(r["tf_name"] for r in ROWS)
    # a few fixed points, so that a shifted table cannot pass
    assert BY_NAME["Add"]["tf_name"] == "AddV2"
    assert BY_NAME["MatMul"]["saves_inputs"] and not BY_NAME["MatMul"]["saves_outputs"]
    assert BY_NAME["Exp"]["saves_outputs"] and not BY_NAME["Exp"]["saves_inputs"]
    assert BY_NAME["Add"]["vjp"] and not BY_NAME["Add"]["saves_inputs"]
    assert BY_NAME["Equal"]["not_differentiable"] and not BY_NAME["Equal"]["vjp"]


def test_comparisons_are_never_recorded():
    x = tg.constant([1.0, 2.0])
    with tg.GradientTape() as tape:
        tape.watch(x)
        m = tg.equal(x, 1.0)
    assert tape.gradient(m, x) is None


@pytest.fixture
def save_nothing():
    _core._set_save_nothing(True)
    yield
    _core._set_save_nothing(False)


def test_a_rule_that_reads_an_unsaved_tensor_raises(save_nothing):
    x, y = tg.constant([1.0, 2.0]), tg.constant([3.0, 4.0])
    with tg.GradientTape() as tape:
        tape.watch([x, y])
        z = x * y  # Mul's rule reads both inputs
    with pytest.raises(RuntimeError, match="has no data: a gradient rule read a tensor"):
        tape.gradient(z, [x, y])


def test_a_rule_that_saves_nothing_runs_without_data(save_nothing):
    x = tg.constant([[1.0, 2.0], [3.0, 4.0]])
    with tg.GradientTape() as tape:
        tape.watch(x)
        z = tg.reduce_sum(tg.transpose(x + x))  # Add, Transpose, Sum save nothing
    np.testing.assert_array_equal(tape.gradient(z, x).numpy(), np.full((2, 2), 2.0, np.float32))


def test_save_nothing_is_per_thread(save_nothing):
    import threading

    out = {}

    def work():
        x = tg.constant([1.0, 2.0])
        with tg.GradientTape() as tape:
            tape.watch(x)
            z = x * x
        out["g"] = tape.gradient(z, x).numpy()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    np.testing.assert_array_equal(out["g"], [2.0, 4.0])


def test_variable_assign_add_leaves_no_node():
    v = tg.Variable([1.0, 2.0])
    with tg.GradientTape() as tape:
        tape.watch(v)
        v.assign_add([1.0, 1.0])
        v.assign_sub([0.5, 0.5])
    assert tape._tape.num_nodes() == 0
