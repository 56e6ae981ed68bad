"""The engine side of tapegrad.distribute's overlap for sparse gradients, in one process: the
sparse-keeping backward pass reports each source as it becomes final (compute_gradient_sparse's
on_source_ready, Note [Source ready]) and Tape._sparse_plan says before the walk which sources it
will give a sparse gradient (Note [Sparse plan]). The MPI side is in test_distribute.py."""

import numpy as np
import pytest

import tapegrad as tg


def _kinds(grads):
    return [isinstance(g, tg.IndexedSlices) for g in grads]


def _check(tape, targets, sources):
    """The plan made before the walk equals what the walk gives, source by source; returns the plan."""
    plan = tape._tape._sparse_plan(targets, sources)
    got = tape.gradient(targets, sources)
    assert plan == _kinds(got), (plan, [type(g).__name__ for g in got])
    return plan


@pytest.fixture
def w():
    return tg.Variable(np.arange(20, dtype=np.float32).reshape(5, 4) / 10, name="table")


IDS = tg.constant([[1, 3], [3, 0]])


def test_source_ready_sparse_values_and_order(w):
    # each source reported once, when final, with the value compute_gradient_sparse returns; a sparse
    # gradient arrives as (values, indices, dense_shape), a dense one as a Tensor, an unconnected one as None
    k = tg.Variable(np.ones((4, 3), np.float32))
    b = tg.Variable(np.zeros(3, np.float32))
    u = tg.Variable(1.0)
    with tg.GradientTape(persistent=True) as tape:
        h = tg.reduce_mean(tg.gather(w, IDS), axis=1)
        loss = tg.reduce_sum(tg.matmul(h, k) + b)
    events = []
    res = tg._core.compute_gradient_sparse(
        tape._tape, [loss], [w, k, b, u], [None], False, lambda i, g: events.append((i, g))
    )
    assert sorted(i for i, _ in events) == [0, 1, 2, 3]
    order = [i for i, _ in events]
    assert order.index(2) < order.index(1) < order.index(0)  # b (last op) before k before the table (first op)
    got = dict(events)
    values, indices, shape = got[0]
    assert shape == [5, 4]
    np.testing.assert_array_equal(indices.numpy(), [1, 3, 3, 0])
    np.testing.assert_allclose(values.numpy(), np.full((4, 4), 1.5, np.float32))
    assert got[3] is None and res[3] is None
    for i in (1, 2):
        assert isinstance(got[i], tg.Tensor)
        np.testing.assert_array_equal(got[i].numpy(), res[i].numpy())
    np.testing.assert_array_equal(res[0][0].numpy(), values.numpy())
    np.testing.assert_array_equal(res[0][1].numpy(), indices.numpy())
    # zero_unconnected: zeros (dense) reported for the unconnected source; dense gradients as the dense pass
    seen = {}
    tg._core.compute_gradient_sparse(tape._tape, [loss], [u, k], [None], True, lambda i, g: seen.setdefault(i, g))
    assert float(tg.reduce_sum(tg.abs(seen[0]))) == 0.0
    dense = tg._core.compute_gradient(tape._tape, [loss], [k], [None], False)
    np.testing.assert_array_equal(seen[1].numpy(), dense[0].numpy())
    # the same sources through the densifying pass: the table's gradient densified
    tdense = tg._core.compute_gradient(tape._tape, [loss], [w], [None], False)[0].numpy()
    want = np.zeros((5, 4), np.float32)
    np.add.at(want, [1, 3, 3, 0], values.numpy())
    np.testing.assert_allclose(tdense, want)


def test_source_ready_callback_error_propagates(w):
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, IDS))

    def boom(i, g):
        raise KeyError("from the callback")

    with pytest.raises(KeyError, match="from the callback"):
        tg._core.compute_gradient_sparse(tape._tape, [loss], [w], [None], False, boom)


def test_plan_embedding_only(w):
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.nn.embedding_lookup(w, IDS))
    assert _check(tape, [loss], [w]) == [True]


def test_plan_embedding_and_dense_use_of_the_same_variable(w):
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, IDS)) + tg.reduce_sum(w * w)
    assert _check(tape, [loss], [w]) == [False]


def test_plan_gather_through_identity_and_cast(w):
    w64 = tg.Variable(np.ones((5, 4)), name="w64")
    with tg.GradientTape() as tape:
        a = tg.gather(tg.identity(w), IDS)
        c = tg.gather(tg.cast(w64, tg.float32), [0, 4])
        loss = tg.reduce_sum(a) + tg.reduce_sum(c)
    assert _check(tape, [loss], [w, w64]) == [True, True]
    # an intermediate source: the identity's output, whose gradient the identity passes on
    with tg.GradientTape() as tape:
        h = tg.identity(w)
        loss = tg.reduce_sum(tg.gather(h, IDS))
    assert _check(tape, [loss], [h, w]) == [True, True]


def test_plan_batch_dims_and_other_axes_are_dense(w):
    with tg.GradientTape() as tape:
        a = tg.gather(w, [[0, 1], [2, 3], [1, 1], [0, 0], [3, 2]], batch_dims=1)
        loss = tg.reduce_sum(a)
    assert _check(tape, [loss], [w]) == [False]
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, [0, 2], axis=1))
    assert _check(tape, [loss], [w]) == [False]
    with tg.GradientTape() as tape:  # axis -2 is axis 0, but TF gives a dense gradient (not a static 0)
        loss = tg.reduce_sum(tg.gather(w, [0, 2], axis=-2))
    assert _check(tape, [loss], [w]) == [False]


def test_plan_two_gathers_and_unconnected(w):
    other = tg.Variable(np.ones((3, 2), np.float32))
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, IDS)) + 2.0 * tg.reduce_sum(tg.gather(w, [4]))
        tape.watch(other)
    assert _check(tape, [loss], [w, other]) == [True, False]
    with tg.GradientTape() as tape:  # one gather reads a dense function of w: dense
        loss = tg.reduce_sum(tg.gather(w, IDS)) + tg.reduce_sum(tg.gather(w * 2.0, [4]))
    assert _check(tape, [loss], [w]) == [False]
    with tg.GradientTape() as tape:  # a gather whose result does not reach the target
        tg.gather(w, IDS)
        loss = tg.reduce_sum(other)
    assert _check(tape, [loss], [w, other]) == [False, False]


def test_plan_rules_that_give_none_and_targets(w):
    with tg.GradientTape() as tape:  # floor's gradient is None: the gather's slices are all the table gets
        loss = tg.reduce_sum(tg.gather(w, IDS)) + tg.reduce_sum(tg.floor(w))
    assert _check(tape, [loss], [w]) == [True]
    with tg.GradientTape() as tape:  # the gather's result reaches the target only through round: None
        loss = tg.reduce_sum(tg.round(tg.gather(w, IDS)))
    assert _check(tape, [loss], [w]) == [False]
    with tg.GradientTape() as tape:  # a gather's result as a target; the table as a target too
        g = tg.gather(w, IDS)
    assert _check(tape, [g], [w]) == [True]
    with tg.GradientTape(persistent=True) as tape:
        g = tg.gather(w, IDS)
    assert _check(tape, [g, w], [w]) == [False]
    assert _check(tape, [g], [w]) == [True]


def test_plan_custom_gradient_is_unknown(w):
    @tg.custom_gradient
    def scaled(x):
        return 3.0 * x, lambda dy: 3.0 * dy

    k = tg.Variable(np.ones(4, np.float32))
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(scaled(tg.gather(w, IDS))) + tg.reduce_sum(scaled(k))
    plan = tape._tape._sparse_plan([loss], [w, k])
    assert plan == [None, False]  # the custom function decides whether the gather runs
    got = tape.gradient(loss, [w, k])
    assert _kinds(got) == [True, False]


def test_plan_persistent_tape_reused(w):
    k = tg.Variable(np.ones((4, 2), np.float32))
    with tg.GradientTape(persistent=True) as tape:
        e = tg.gather(w, IDS)
        loss = tg.reduce_sum(tg.matmul(tg.reshape(e, [4, 4]), k))
        loss2 = loss + tg.reduce_sum(w)
    for _ in range(2):
        assert _check(tape, [loss], [w, k]) == [True, False]
        assert _check(tape, [loss2], [w, k]) == [False, False]
        assert _check(tape, [e], [w, k]) == [True, False]


def test_plan_keras_embedding_and_dense():
    emb = tg.keras.layers.Embedding(10, 4)
    dense = tg.keras.layers.Dense(3)
    x = tg.constant([[1, 2, 2], [9, 0, 1]])
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(dense(tg.reduce_mean(emb(x), axis=1)))
    sources = [emb.embeddings, *dense.trainable_variables]
    assert _check(tape, [loss], sources) == [True, False, False]


def _random_program(rng, ws):
    """A random tape over two tables: gathers (axis 0 or 1), identity, cast, dense ops, floor."""
    pool = list(ws)
    outs = []
    for _ in range(rng.integers(2, 7)):
        x = pool[rng.integers(len(pool))]
        op = rng.integers(7)
        if op == 0:
            y = tg.gather(x, [int(i) for i in rng.integers(0, x.shape[0], 3)])
        elif op == 1:
            y = tg.gather(x, [0, x.shape[1] - 1], axis=1)
        elif op == 2:
            y = tg.identity(x)
        elif op == 3:
            y = tg.cast(tg.cast(x, tg.float64), tg.float32)
        elif op == 4:
            y = x * 2.0
        elif op == 5:
            y = tg.floor(x)
        else:
            y = tg.sin(x)
        pool.append(y)
        outs.append(y)
    used = [o for o in outs if rng.random() < 0.7] or outs[-1:]
    return tg.add_n([tg.reduce_sum(o) for o in used]), pool


def test_plan_matches_the_walk_on_random_tapes():
    rng = np.random.default_rng(0)
    seen = set()
    for _ in range(150):
        ws = [tg.Variable(rng.standard_normal((4, 3)).astype(np.float32)) for _ in range(2)]
        with tg.GradientTape(persistent=True) as tape:
            loss, pool = _random_program(rng, ws)
        sources = ws + [pool[int(i)] for i in rng.integers(0, len(pool), 2)]
        seen.add(tuple(_check(tape, [loss], sources)))
        # the callback path reports the same kinds, each source once
        events = {}
        tg._core.compute_gradient_sparse(
            tape._tape, [loss], sources, [None], False, lambda i, g: events.setdefault(i, g)
        )
        assert sorted(events) == list(range(len(sources)))
        assert [type(events[i]) is tuple for i in range(len(sources))] == tape._tape._sparse_plan([loss], sources)
    assert any(any(s) for s in seen) and any(not all(s) for s in seen)  # both kinds were exercised
