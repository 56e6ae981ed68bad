"""Run by tests/test_distribute.py under ``mpiexec -n N``: ``python tests/distribute_worker.py SCENARIO``.
Each scenario asserts on every rank and prints ``OK <scenario> rank R`` at the end; a failing assert
is an uncaught exception, which ends the whole job (that is also what the `raise` scenario checks)."""

import hashlib
import os
import sys

import numpy as np

import tapegrad as tg
import tapegrad.distribute as hvd

DTYPES = [np.float32, np.float64, np.int32, np.int64]
for _name in ("float16", "int8", "uint8", "int16", "uint16", "uint32", "uint64"):  # when the engine has them
    if hasattr(tg, _name):
        DTYPES.append(np.dtype(_name).type)
try:  # bfloat16 needs ml_dtypes (TF's) to be seen from numpy
    if hasattr(tg, "bfloat16"):
        import ml_dtypes

        DTYPES.append(ml_dtypes.bfloat16)
except ImportError:
    pass
SMALL = {"int8", "uint8", "int16", "uint16", "float16", "bfloat16"}
OPS = {hvd.Average: "Average", hvd.Sum: "Sum", hvd.Min: "Min", hvd.Max: "Max", hvd.Product: "Product"}


def value_of(r, dtype, shape=(2, 3)):
    """Rank r's input: distinct per rank and element, exact in every dtype."""
    base = np.arange(np.prod(shape)).reshape(shape)
    name = np.dtype(dtype).name
    if name in SMALL:  # products of four ranks stay in range, float16/bfloat16 stay exact
        v = (base % 3) + (r % 2) - (1 if name.startswith(("int", "float", "bfloat")) else 0)
    else:
        v = (base % 5 + 1) * (r + 1) - 2 * r
        if name.startswith("uint"):
            v = np.abs(v)
    if name.startswith(("float", "bfloat")):
        v = v + 0.25 * ((base + r) % 3)
    return v.astype(dtype)


def expected(op, xs):
    st = np.stack(xs).astype(np.float64)
    dt = xs[0].dtype
    if op == hvd.Sum:
        out = st.sum(0)
    elif op == hvd.Average:
        out = st.sum(0)
        if dt.name == "bfloat16":  # reduced in float32, rounded once
            return (out.astype(np.float32) * np.float32(1.0 / len(xs))).astype(dt)
        if dt.kind == "f":
            return (out.astype(dt) * dt.type(1.0 / len(xs))).astype(dt)
        return (out.astype(dt) * (1.0 / len(xs))).astype(dt)
    elif op == hvd.Min:
        out = st.min(0)
    elif op == hvd.Max:
        out = st.max(0)
    else:
        out = st.prod(0)
    return out.astype(xs[0].dtype)


def same_on_all_ranks(arrays, what):
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()
    digests = hvd.allgather_object(digest)
    assert len(set(digests)) == 1, f"{what} differs across ranks: {digests}"


def collectives():
    r, n = hvd.rank(), hvd.size()
    assert (hvd.local_rank(), hvd.local_size(), hvd.cross_rank(), hvd.cross_size()) == (r, n, 0, 1)
    assert hvd.is_initialized() and hvd.is_homogeneous()
    results = []
    for dtype in DTYPES:
        xs = [value_of(q, dtype) for q in range(n)]
        for op, name in OPS.items():
            got = hvd.allreduce(tg.constant(xs[r]), op=op, name=f"{name}_{np.dtype(dtype).name}")
            want = expected(op, xs)
            assert got.dtype.name == np.dtype(dtype).name, (got.dtype, dtype)
            np.testing.assert_allclose(
                got.numpy().astype(np.float64), want.astype(np.float64), rtol=1e-6, err_msg=f"{name} {dtype}"
            )
            if op != hvd.Average or not np.dtype(dtype).name.startswith(("float", "bfloat")):
                assert (got.numpy() == want).all(), (name, dtype, got.numpy(), want)
            results.append(got.numpy())
        # allgather: rank q sends q + 1 rows
        rows = [np.repeat(value_of(q, dtype)[:1], q + 1, axis=0) for q in range(n)]
        g = hvd.allgather(tg.constant(rows[r]))
        assert (g.numpy() == np.concatenate(rows)).all() and g.dtype.name == np.dtype(dtype).name
        # broadcast from the last rank
        b = hvd.broadcast(tg.constant(xs[r]), root_rank=n - 1)
        assert (b.numpy() == xs[n - 1]).all()
        results += [g.numpy(), b.numpy()]
    # scale factors: postscale * sum(prescale * x)
    x = value_of(r, np.float64)
    got = hvd.allreduce(tg.constant(x), op=hvd.Sum, prescale_factor=0.5, postscale_factor=3.0)
    np.testing.assert_allclose(got.numpy(), 3.0 * sum(0.5 * value_of(q, np.float64) for q in range(n)), rtol=1e-12)
    got = hvd.allreduce(tg.constant(x), op=hvd.Average, prescale_factor=2.0)
    np.testing.assert_allclose(got.numpy(), sum(2.0 * value_of(q, np.float64) for q in range(n)) / n, rtol=1e-12)
    # fp16 compression: float16 on the wire, float32 back
    x32 = value_of(r, np.float32)
    got = hvd.allreduce(tg.constant(x32), op=hvd.Sum, compression=hvd.Compression.fp16)
    assert got.dtype.name == "float32"
    assert (got.numpy() == sum(value_of(q, np.float32) for q in range(n))).all()
    # grouped, mixed dtypes and a scalar
    group = [tg.constant(value_of(r, np.float32)), tg.constant(value_of(r, np.int64, (4,))), tg.constant(float(r))]
    outs = hvd.grouped_allreduce(group, op=hvd.Sum)
    assert (outs[0].numpy() == sum(value_of(q, np.float32) for q in range(n))).all()
    assert (outs[1].numpy() == sum(value_of(q, np.int64, (4,)) for q in range(n))).all()
    assert outs[2].numpy() == sum(range(n)) and outs[2].shape == ()
    # a Variable in, bool through allgather/broadcast, empty tensors
    v = tg.Variable(value_of(r, np.float32))
    assert (hvd.allreduce(v, op=hvd.Max).numpy() == np.max([value_of(q, np.float32) for q in range(n)], 0)).all()
    flags = hvd.allgather(tg.constant(np.array([r % 2 == 0])))
    assert flags.numpy().tolist() == [q % 2 == 0 for q in range(n)]
    assert hvd.allreduce(tg.zeros((0, 3))).shape == (0, 3)
    # objects
    assert hvd.broadcast_object({"r": r, "s": "x" * r}, root_rank=1) == {"r": 1, "s": "x"}
    assert hvd.allgather_object((r, "a")) == [(q, "a") for q in range(n)]
    same_on_all_ranks(results, "collective results")
    # gradients through the collectives (Horovod's registered gradients)
    w = tg.Variable(value_of(r, np.float64, (4, 3)))  # n <= 4 rows: rank r gathers r + 1 of them
    with tg.GradientTape(persistent=True) as tape:
        s = hvd.allreduce(w * w, op=hvd.Sum, name="sq")
        g_rows = hvd.allgather(w[: r + 1], name="rows")
        b = hvd.broadcast(w, root_rank=0, name="b")
        loss_s, loss_g, loss_b = tg.reduce_sum(s * float(r + 1)), tg.reduce_sum(g_rows * g_rows), tg.reduce_sum(b)
    # d/dw sum((r'+1) * sum_q w_q^2) over ranks r': each rank's upstream is summed again
    np.testing.assert_allclose(tape.gradient(loss_s, w).numpy(), 2 * w.numpy() * sum(range(1, n + 1)), rtol=1e-12)
    # allgather: the averaged upstream gradient, this rank's rows
    gathered = np.concatenate([value_of(q, np.float64, (4, 3))[: q + 1] for q in range(n)])
    want = np.zeros_like(w.numpy())
    start = sum(q + 1 for q in range(r))
    want[: r + 1] = 2 * gathered[start : start + r + 1]
    np.testing.assert_allclose(tape.gradient(loss_g, w).numpy(), want, rtol=1e-12)
    # broadcast: the averaged gradient on the root, zeros elsewhere
    np.testing.assert_allclose(tape.gradient(loss_b, w).numpy(), np.ones_like(want) * (r == 0))
    del tape
    # broadcast_variables: differently initialised ranks end equal (to root's values)
    rng = np.random.default_rng(100 + r)
    vs = [
        tg.Variable(rng.standard_normal((3, 4)).astype(np.float32)),
        tg.Variable(rng.standard_normal(5)),
        tg.Variable(np.int32(r)),
    ]
    root_vals = [w.numpy() for w in vs] if r == 1 else None
    root_vals = hvd.broadcast_object(root_vals, root_rank=1)
    hvd.broadcast_variables(vs, root_rank=1)
    for w, want in zip(vs, root_vals):
        assert (w.numpy() == want).all()
    same_on_all_ranks([w.numpy() for w in vs], "broadcast variables")


# --- training: n ranks with a share of the batch each == one process with the whole batch ------------
SIZES, BATCH, STEPS = (12, 16, 16, 4), 24, 6


def init_params(seed):
    rng = np.random.default_rng(seed)
    ps = []
    for a, b in zip(SIZES[:-1], SIZES[1:]):
        ps += [
            (rng.standard_normal((a, b)) / np.sqrt(a)).astype(np.float32),
            (0.1 * rng.standard_normal(b)).astype(np.float32),
        ]
    return ps


def data():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((STEPS, BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], (STEPS, BATCH)).astype(np.int32)
    return x, y


def mlp_loss(ws, x, y):
    h = tg.constant(x)
    for i in range(0, len(ws) - 2, 2):
        h = tg.nn.relu(tg.matmul(h, ws[i]) + ws[i + 1])
    logits = tg.matmul(h, ws[-2]) + ws[-1]
    return tg.reduce_mean(tg.nn.sparse_softmax_cross_entropy_with_logits(labels=tg.constant(y), logits=logits))


def train(distributed, use_optimizer=False, seed=0):
    """Returns (per-step losses, final weights). Distributed: this rank's share of every batch."""
    r, n = hvd.rank(), hvd.size()
    ws = [tg.Variable(p) for p in init_params(seed + (r if distributed else 0))]
    opt = tg.keras.optimizers.Adam(0.01)
    if distributed and use_optimizer:
        opt = hvd.DistributedOptimizer(opt)
    xs, ys = data()
    share = BATCH // n
    losses = []
    for step in range(STEPS):
        x, y = xs[step], ys[step]
        if distributed:
            x, y = x[r * share : (r + 1) * share], y[r * share : (r + 1) * share]
        with tg.GradientTape() as tape:
            loss = mlp_loss(ws, x, y)
        if distributed and not use_optimizer:
            tape = hvd.DistributedGradientTape(tape)
        grads = tape.gradient(loss, ws)
        opt.apply_gradients(zip(grads, ws))
        if distributed and step == 0:
            hvd.broadcast_variables(ws + list(opt.variables), root_rank=0)
        losses.append(float(hvd.allreduce(loss).numpy()) if distributed else float(loss))
    return losses, [w.numpy() for w in ws]


def training():
    ref_losses, ref_ws = train(distributed=False)  # one process, the whole batch
    for use_optimizer in (False, True):
        for threshold in (0, 64 * 1024 * 1024):
            hvd._engine_state.fusion_threshold = threshold
            for overlap in (True, False):
                hvd._engine_state.overlap = overlap
                losses, ws = train_same_init(use_optimizer)
                np.testing.assert_allclose(losses, ref_losses, rtol=2e-5, atol=1e-6)
                for a, b in zip(ws, ref_ws):
                    np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6)
                same_on_all_ranks(ws, "trained weights")
    hvd._engine_state.overlap = True
    hvd._engine_state.fusion_threshold = 64 * 1024 * 1024
    # run to run: the same script gives the same bits
    a = train_same_init(False)[1]
    b = train_same_init(False)[1]
    assert all((x == y).all() for x, y in zip(a, b))
    # different initial weights + broadcast after step 0: every rank ends equal to the others
    _, ws = train(distributed=True)
    same_on_all_ranks(ws, "weights after broadcast_variables")
    if hvd.rank() == 0:  # for the run-to-run test: the bits of the final weights and losses
        losses, ws = train_same_init(False)
        digest = hashlib.sha256(b"".join(np.float32(w).tobytes() for w in ws) + np.float64(losses).tobytes())
        path = os.environ.get("TAPEGRAD_TEST_DIGEST_FILE")
        if path:  # a file, not stdout: mpiexec interleaves the ranks' output
            with open(path, "w") as f:
                f.write(digest.hexdigest())
        print("DIGEST", digest.hexdigest(), flush=True)
    else:
        train_same_init(False)


def train_same_init(use_optimizer):
    r, n = hvd.rank(), hvd.size()
    ws = [tg.Variable(p) for p in init_params(0)]
    opt = tg.keras.optimizers.Adam(0.01)
    if use_optimizer:
        opt = hvd.DistributedOptimizer(opt)
    xs, ys = data()
    share = BATCH // n
    losses = []
    for step in range(STEPS):
        x, y = xs[step][r * share : (r + 1) * share], ys[step][r * share : (r + 1) * share]
        with tg.GradientTape() as tape:
            loss = mlp_loss(ws, x, y)
        if not use_optimizer:
            tape = hvd.DistributedGradientTape(tape)
        grads = tape.gradient(loss, ws)
        opt.apply_gradients(zip(grads, ws))
        losses.append(float(hvd.allreduce(loss).numpy()))
    return losses, [w.numpy() for w in ws]


def tape_options():
    """DistributedGradientTape's options against numpy: groups, predivide, local sources, fp16, Sum."""
    r, n = hvd.rank(), hvd.size()
    rng = np.random.default_rng(3)
    w_all = [rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal((4, 3))]
    x_all = rng.standard_normal((n, 6, 5))

    def grads(options, local=None):
        ws = [tg.Variable(w.astype(np.float32), name=f"w{i}") for i, w in enumerate(w_all)]
        with tg.GradientTape() as tape:
            h = tg.nn.relu(tg.matmul(tg.constant(x_all[r].astype(np.float32)), ws[0]) + ws[1])
            loss = tg.reduce_sum(tg.matmul(h, ws[2]) ** 2) * float(r + 1)
        tape = hvd.DistributedGradientTape(tape, **options)
        if local is not None:
            tape.register_local_source(ws[local])
        return [g.numpy() for g in tape.gradient(loss, ws)]

    def local_grads(q):  # rank q's own gradients, in numpy (float64)
        x = x_all[q]
        pre = x @ w_all[0] + w_all[1]
        h = np.maximum(pre, 0)
        dz = 2 * (h @ w_all[2]) * (q + 1)
        dh = (dz @ w_all[2].T) * (pre > 0)
        return [x.T @ dh, dh.sum(0), h.T @ dz]

    per_rank = [local_grads(q) for q in range(n)]
    mean = [sum(g[i] for g in per_rank) / n for i in range(3)]
    total = [sum(g[i] for g in per_rank) for i in range(3)]
    tol = dict(rtol=2e-5, atol=2e-5)
    for options, want in (
        ({}, mean),
        ({"groups": 2}, mean),
        ({"groups": [[]]}, mean),
        ({"gradient_predivide_factor": 4.0}, mean),
        ({"op": hvd.Sum}, total),
    ):
        for got, ref in zip(grads(options), want):
            np.testing.assert_allclose(got, ref, **tol, err_msg=str(options))
    got = grads({"compression": hvd.Compression.fp16})
    for g, ref in zip(got, mean):
        assert g.dtype == np.float32
        np.testing.assert_allclose(g, ref, rtol=5e-3, atol=5e-3 * np.abs(ref).max())
    for dt in ("float16", "bfloat16"):  # half-precision variables (when the engine has them)
        if not hasattr(tg, dt):
            continue
        w = tg.Variable(tg.cast(tg.constant([1.0, 2.0, 3.0]), getattr(tg, dt)))
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(w * w) * float(r + 1)
        g = hvd.DistributedGradientTape(tape).gradient(loss, [w])[0]
        assert g.dtype.name == dt, g.dtype
        np.testing.assert_allclose(
            g.numpy().astype(np.float64), np.array([2.0, 4.0, 6.0]) * np.mean(np.arange(n) + 1.0), rtol=1e-2
        )
    got = grads({}, local=1)  # the bias stays local, divided by size
    np.testing.assert_allclose(got[1], per_rank[r][1] / n, **tol)
    np.testing.assert_allclose(got[0], mean[0], **tol)


def keras_fit():
    """model.fit with DistributedOptimizer and Horovod's callbacks: differently initialised ranks end
    with the same weights; MetricAverageCallback averages the logs."""
    from tapegrad.keras.callbacks import Callback

    r = hvd.rank()
    model = tg.keras.Sequential([tg.keras.layers.Dense(8, activation="relu"), tg.keras.layers.Dense(3)])
    model.build((None, 5))
    rng = np.random.default_rng(r)
    for w in model.trainable_variables:
        w.assign(rng.standard_normal(tuple(w.shape)).astype(np.float32))
    model.compile(
        optimizer=hvd.DistributedOptimizer(tg.keras.optimizers.SGD(0.05)),
        loss=tg.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x = np.random.default_rng(50 + r).standard_normal((32, 5)).astype(np.float32)
    y = (np.arange(32) % 3).astype(np.int32)
    seen = {}

    class Record(Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen[epoch] = dict(logs)

    local = {}

    class Local(Callback):  # listed before the average: the rank's own value
        def on_epoch_end(self, epoch, logs=None):
            local[epoch] = dict(logs)

    model.fit(
        x,
        y,
        batch_size=8,
        epochs=2,
        shuffle=False,
        verbose=0,
        callbacks=[
            Local(),
            hvd.callbacks.BroadcastGlobalVariablesCallback(0),
            hvd.callbacks.MetricAverageCallback(),
            Record(),
        ],
    )
    same_on_all_ranks([w.numpy() for w in model.variables], "weights after fit")
    all_local = hvd.allgather_object(local[1]["loss"])
    np.testing.assert_allclose(seen[1]["loss"], np.mean(np.float32(all_local)), rtol=1e-6)
    assert len(set(hvd.allgather_object(seen[1]["loss"]))) == 1


def mismatch():
    r, n = hvd.rank(), hvd.size()
    shape = (2, 3) if r == 0 else (3, 3)
    try:
        hvd.allreduce(tg.zeros(shape), name="weights")
    except tg.errors.FailedPreconditionError as e:
        msg = str(e)
    else:
        raise AssertionError("no error for mismatched shapes")
    assert (
        "Mismatched ALLREDUCE tensor shapes: One rank sent a tensor of shape [2, 3], but another rank sent a "
        "tensor of shape [3, 3]."
    ) in msg, msg
    assert "'weights'" in msg and "rank 0" in msg and "rank 1" in msg, msg
    try:
        hvd.allreduce(tg.zeros((2,), dtype=tg.float32 if r == 0 else tg.int32), name="counts")
    except tg.errors.FailedPreconditionError as e:
        assert "Mismatched data types: One rank had type float32, but another rank had type int32." in str(e), str(e)
        assert "'counts'" in str(e)
    else:
        raise AssertionError("no error for mismatched dtypes")
    try:
        hvd.allgather(tg.zeros((r + 1, 2 + (r > 0))), name="rows")
    except tg.errors.FailedPreconditionError as e:
        assert (
            "Mismatched ALLGATHER tensor shapes: One rank sent a tensor with dimension 1 equal to 2, but another "
            "rank sent a tensor with dimension 1 equal to 3."
        ) in str(e), str(e)
    else:
        raise AssertionError("no error for mismatched allgather")
    # in a DistributedGradientTape: the variable is named
    w = tg.Variable(np.ones((4,) if r == 0 else (5,), np.float32), name="dense/kernel")
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(w * w)
    try:
        hvd.DistributedGradientTape(tape).gradient(loss, [w])
    except tg.errors.FailedPreconditionError as e:
        assert "Mismatched ALLREDUCE tensor shapes" in str(e) and "dense/kernel" in str(e), str(e)
    else:
        raise AssertionError("no error for mismatched gradients")
    # a gradient that is None on one rank only (its loss does not use the variable)
    w1, w2 = tg.Variable([1.0, 2.0], name="used"), tg.Variable([3.0], name="sometimes")
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(w1 * w1) + (tg.reduce_sum(w2) if r == 0 else 0.0)
    try:
        hvd.DistributedGradientTape(tape).gradient(loss, [w1, w2])
    except tg.errors.FailedPreconditionError as e:
        assert "Mismatched gradients: One rank has a tensor, but another rank has None." in str(e), str(e)
        assert "sometimes" in str(e), str(e)
    else:
        raise AssertionError("no error for a gradient that is None on one rank only")
    # compression that differs
    try:
        hvd.allreduce(tg.ones((3,)), compression=hvd.Compression.fp16 if r else hvd.Compression.none, name="c")
    except tg.errors.FailedPreconditionError as e:
        assert "Mismatched compression" in str(e), str(e)
    else:
        raise AssertionError("no error for mismatched compression")
    # the job goes on: a matching allreduce still works
    assert float(hvd.allreduce(tg.constant(1.0), op=hvd.Sum)) == n


def native():
    """Note [Native collectives]: one engine call for a Tensor's allreduce when every rank has the MPI
    library; ranks on the native and the Python path (a Variable, a numpy array) interoperate."""
    r, n = hvd.rank(), hvd.size()
    eng = hvd._engine_state
    disabled = os.environ.get("TAPEGRAD_DISTRIBUTE_NATIVE") == "0"
    assert (eng.native is None) == (disabled or n == 1), (eng.native, disabled, n)
    xs = [value_of(q, np.float32, (3, 4)) for q in range(n)]
    for op in OPS:
        # rank 0 passes a Tensor (native unless disabled), the others a Variable or a numpy array
        mine = tg.constant(xs[r]) if r == 0 else (tg.Variable(xs[r]) if r % 2 else xs[r])
        got = hvd.allreduce(mine, op=op, name=f"mixed_{OPS[op]}")
        want = expected(op, xs)
        assert got.dtype.name == "float32" and got.shape == (3, 4)
        assert (got.numpy() == want).all(), (OPS[op], got.numpy(), want)
    # a mismatch between the two paths: the same error on every rank, and the job goes on
    shape = (2, 3) if r == 0 else (3, 3)
    mine = tg.zeros(shape) if r == 0 else tg.Variable(np.zeros(shape, np.float32))
    try:
        hvd.allreduce(mine, name="mixed_weights")
    except tg.errors.FailedPreconditionError as e:
        assert "One rank sent a tensor of shape [2, 3], but another rank sent a tensor of shape [3, 3]" in str(e)
        assert "'mixed_weights'" in str(e), str(e)
    else:
        raise AssertionError("no error for shapes that differ between the native and the Python path")
    # the same shape, a different op: the check tells them apart
    try:
        hvd.allreduce(tg.ones((2,)), op=hvd.Max if r == 0 else hvd.Min, name="ops")
    except tg.errors.FailedPreconditionError as e:
        assert "'ops'" in str(e), str(e)
    else:
        raise AssertionError("no error for ops that differ across ranks")
    # every real dtype, large enough to be split by MPI's algorithms, the results bit-equal everywhere
    results = []
    for dtype in (np.float32, np.float64, np.int32, np.int64, np.uint8, np.int8, np.int16, np.uint16, np.uint32):
        big = [value_of(q, dtype, (1000, 131)) for q in range(n)]
        for op in (hvd.Sum, hvd.Max, hvd.Min):
            got = hvd.allreduce(tg.constant(big[r]), op=op)
            assert (got.numpy() == expected(op, big)).all(), (dtype, OPS[op])
            results.append(got.numpy())
    same_on_all_ranks(results, "native results")
    # the Python path still runs where the native one does not apply: under a tape, and Average on
    # integers (which truncates)
    w = tg.Variable(xs[r])
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(hvd.allreduce(w * 1.0, op=hvd.Sum))
    assert (tape.gradient(loss, w).numpy() == n).all()
    ints = [value_of(q, np.int32) for q in range(n)]
    assert (hvd.allreduce(tg.constant(ints[r])).numpy() == expected(hvd.Average, ints)).all()
    # inside tf.function: a collective cannot be replayed, so the function runs as eager would, and
    # every call reduces once on every rank (a hang or a wrong count would show here)

    @tg.function
    def doubled_sum(x):
        return hvd.allreduce(x * 2.0, op=hvd.Sum, name="in_function")

    for k in range(3):
        got = doubled_sum(tg.constant([float(r + k), 1.0]))
        assert got.numpy().tolist() == [2.0 * sum(q + k for q in range(n)), 2.0 * n], (k, got.numpy())
    assert float(hvd.allreduce(tg.constant(1.0), op=hvd.Sum)) == n  # still in step with the other ranks


# --- sparse gradients: tf.IndexedSlices allgathered (sparse_as_dense=False) or densified ------------
VOCAB, DIM, CLASSES, LOOKUPS, EMB_STEPS = 20, 4, 3, 5, 4


def slices_of(r, dtype, index_dtype):
    """Rank r's IndexedSlices of a [VOCAB, DIM] tensor: r + 1 rows (counts differ across ranks)."""
    values = value_of(r, dtype, (r + 1, DIM))
    indices = ((np.arange(r + 1) * 7 + 3 * r) % VOCAB).astype(index_dtype)
    return values, indices


def check_slices(got, values, indices):
    assert isinstance(got, tg.IndexedSlices), type(got)
    assert got.values.dtype == tg.as_dtype(values.dtype) and got.indices.dtype == tg.as_dtype(indices.dtype)
    np.testing.assert_array_equal(got.values.numpy(), values)
    np.testing.assert_array_equal(got.indices.numpy(), indices)
    assert got.dense_shape.numpy().tolist() == [VOCAB, DIM], got.dense_shape


def emb_setup():
    rng = np.random.default_rng(11)
    table = (0.5 * rng.standard_normal((VOCAB, DIM))).astype(np.float32)
    kernel = (rng.standard_normal((DIM, CLASSES)) / 2).astype(np.float32)
    bias = (0.1 * rng.standard_normal(CLASSES)).astype(np.float32)
    ids = rng.integers(0, VOCAB, (EMB_STEPS, BATCH, LOOKUPS)).astype(np.int32)  # many repeated rows
    y = rng.integers(0, CLASSES, (EMB_STEPS, BATCH)).astype(np.int32)
    return (table, kernel, bias), ids, y


def train_embedding(distributed, sparse_as_dense, use_optimizer, optimizer):
    """An Embedding layer + a dense softmax layer, trained on this rank's share of every batch
    (distributed) or on the whole batch in one process. Returns the final weights."""
    r, n = (hvd.rank(), hvd.size()) if distributed else (0, 1)
    (table, kernel, bias), ids, ys = emb_setup()
    emb = tg.keras.layers.Embedding(VOCAB, DIM)
    emb.build((None, LOOKUPS))
    emb.embeddings.assign(table)
    k, b = tg.Variable(kernel), tg.Variable(bias)
    ws = [emb.embeddings, k, b]
    opt = tg.keras.optimizers.SGD(0.5, momentum=0.9) if optimizer == "sgd" else tg.keras.optimizers.Adam(0.05)
    if distributed and use_optimizer:
        opt = hvd.DistributedOptimizer(opt, sparse_as_dense=sparse_as_dense)
    share = BATCH // n
    for step in range(EMB_STEPS):
        x, y = ids[step][r * share : (r + 1) * share], ys[step][r * share : (r + 1) * share]
        with tg.GradientTape() as tape:
            h = tg.reduce_mean(emb(tg.constant(x)), axis=1)
            logits = tg.matmul(h, k) + b
            loss = tg.reduce_mean(tg.nn.sparse_softmax_cross_entropy_with_logits(labels=tg.constant(y), logits=logits))
        if distributed and not use_optimizer:
            tape = hvd.DistributedGradientTape(tape, sparse_as_dense=sparse_as_dense)
        grads = tape.gradient(loss, ws)
        if distributed and not use_optimizer:
            if sparse_as_dense:
                assert isinstance(grads[0], tg.Tensor), type(grads[0])
            else:  # every rank's lookups, in rank order: the whole batch's, as one process has them
                assert isinstance(grads[0], tg.IndexedSlices), type(grads[0])
                np.testing.assert_array_equal(grads[0].indices.numpy(), ids[step].reshape(-1))
                assert grads[0].values.shape == (BATCH * LOOKUPS, DIM)
        elif not distributed:
            assert isinstance(grads[0], tg.IndexedSlices), type(grads[0])
            if sparse_as_dense:  # the reference of a densified run: the same dense gradient
                grads[0] = tg.convert_to_tensor(grads[0])
        opt.apply_gradients(zip(grads, ws))
    return [w.numpy() for w in ws]


def sparse():
    r, n = hvd.rank(), hvd.size()
    # hvd.allreduce of an IndexedSlices: values and indices allgathered in rank order, values / n (Average)
    for dtype, index_dtype in ((np.float32, np.int32), (np.float64, np.int64)):
        parts = [slices_of(q, dtype, index_dtype) for q in range(n)]
        mine = tg.IndexedSlices(tg.constant(parts[r][0]), tg.constant(parts[r][1]), tg.constant([VOCAB, DIM]))
        values = np.concatenate([p[0] for p in parts])
        indices = np.concatenate([p[1] for p in parts])
        check_slices(hvd.allreduce(mine, op=hvd.Sum, name="emb"), values, indices)
        check_slices(hvd.allreduce(mine, name="emb"), values / dtype(n), indices)
        check_slices(hvd.allreduce(mine, average=False), values, indices)
        dense = tg.constant(value_of(r, dtype))
        out = hvd.grouped_allreduce([dense, mine, dense], op=hvd.Sum)
        check_slices(out[1], values, indices)
        want = expected(hvd.Sum, [value_of(q, dtype) for q in range(n)])
        np.testing.assert_array_equal(out[0].numpy(), want)
        np.testing.assert_array_equal(out[2].numpy(), want)
    for kwargs, message in (
        ({"op": hvd.Max}, "Only Sum and Average ops are supported with tf.IndexedSlices"),
        ({"op": hvd.Product}, "Only Sum and Average ops are supported with tf.IndexedSlices"),
        (
            {"op": hvd.Adasum},
            "The Adasum reduction does not currently support sparse tensors. As a workaround "
            "please pass sparse_as_dense=True to DistributedOptimizer",
        ),
        ({"prescale_factor": 2.0}, "Pre/postscale_factor are not supported with tf.IndexedSlices"),
        ({"postscale_factor": 0.5, "op": hvd.Sum}, "Pre/postscale_factor are not supported with tf.IndexedSlices"),
    ):
        try:
            hvd.allreduce(mine, **kwargs)
        except NotImplementedError as e:
            assert str(e) == message, (kwargs, str(e))
        else:
            raise AssertionError(f"no error for an IndexedSlices allreduce with {kwargs}")
    # gradient_predivide_factor is a prescale: Horovod's error for a sparse gradient, on every rank
    w = tg.Variable(np.ones((VOCAB, DIM), np.float32))
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, [1, 2]))
    try:
        hvd.DistributedGradientTape(tape, gradient_predivide_factor=2.0).gradient(loss, [w])
    except NotImplementedError as e:
        assert str(e) == "Pre/postscale_factor are not supported with tf.IndexedSlices", str(e)
    else:
        if n > 1:
            raise AssertionError("no error for gradient_predivide_factor with a sparse gradient")
    # local sources: not allgathered, values divided by size
    with tg.GradientTape() as tape:
        loss = tg.reduce_sum(tg.gather(w, [r % VOCAB, 3]))
    t = hvd.DistributedGradientTape(tape)
    t.register_local_source(w)
    check_slices(t.gradient(loss, [w])[0], np.full((2, DIM), 1.0 / n, np.float32), np.array([r % VOCAB, 3], np.int32))
    # training: n ranks, each with its share of the batch == one process with the whole batch
    for optimizer in ("sgd", "adam"):
        for sparse_as_dense in (False, True):
            ref = train_embedding(False, sparse_as_dense, False, optimizer)
            for use_optimizer in (False, True):
                ws = train_embedding(True, sparse_as_dense, use_optimizer, optimizer)
                for a, b_ in zip(ws, ref):
                    np.testing.assert_allclose(a, b_, rtol=2e-5, atol=2e-6, err_msg=f"{optimizer} {sparse_as_dense}")
                same_on_all_ranks(ws, "trained embedding weights")
    if n > 1:  # the tape trainings above kept sparse gradients sparse and overlapped (Note [Sparse plan])
        assert hvd._gradients.counters["sparse_overlapped"] >= 2 * EMB_STEPS, hvd._gradients.counters
        assert hvd._gradients.counters["sparse_whole_first"] == 0, hvd._gradients.counters
    if n > 1:  # a tape without a gather overlaps through the densifying pass; one with a gather does not
        calls, sparse_calls = [], []

        class Spy:
            def __getattr__(self, name):
                return getattr(tg._core, name)

            def compute_gradient(self, *args):
                calls.append(len(args) == 6 and args[5] is not None)
                return tg._core.compute_gradient(*args)

            def compute_gradient_sparse(self, *args):
                sparse_calls.append(len(args) == 6 and args[5] is not None)
                return tg._core.compute_gradient_sparse(*args)

        hvd._gradients._core = Spy()
        hvd._engine_state.fusion_threshold = 0  # a bucket per gradient: the communication thread runs
        try:
            d1, d2 = tg.Variable(np.ones((3, 2), np.float32)), tg.Variable(np.ones(2, np.float32))
            for step in range(3):
                with tg.GradientTape() as tape:
                    loss = tg.reduce_sum(tg.matmul(tg.constant(np.full((1, 3), r + 1.0, np.float32)), d1) + d2)
                g = hvd.DistributedGradientTape(tape).gradient(loss, [d1, d2])
                np.testing.assert_allclose(g[0].numpy(), np.full((3, 2), (n + 1) / 2))
                assert calls == [True] * (step + 1), calls  # overlapped from the first step
            with tg.GradientTape() as tape:  # another graph over the same variables: sparse-aware again
                loss = tg.reduce_sum(tg.gather(d1, [r % 3])) + tg.reduce_sum(d2)
            g = hvd.DistributedGradientTape(tape).gradient(loss, [d1, d2])
            check_slices_shape = g[0].dense_shape.numpy().tolist()
            assert isinstance(g[0], tg.IndexedSlices) and check_slices_shape == [3, 2], g[0]
            np.testing.assert_array_equal(g[0].indices.numpy(), np.arange(n) % 3)
            assert calls == [True, True, True], calls  # the gather's tape ran the sparse-aware pass,
            assert sparse_calls == [True], sparse_calls  # with the engine's callback (Note [Sparse plan])
        finally:
            hvd._gradients._core = tg._core
            hvd._engine_state.fusion_threshold = 64 * 1024 * 1024
        # a gradient sparse on one rank and dense on another: Horovod's mismatch error on every rank
        v = tg.Variable(np.ones((VOCAB, DIM), np.float32), name="emb/embeddings")
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(tg.gather(v, [1, 2])) if r == 0 else tg.reduce_sum(v)
        try:
            hvd.DistributedGradientTape(tape).gradient(loss, [v])
        except tg.errors.FailedPreconditionError as e:
            assert "Mismatched gradients: One rank has an IndexedSlices, but another rank has a tensor." in str(e), str(
                e
            )
            assert "emb/embeddings" in str(e), str(e)
        else:
            raise AssertionError("no error for a gradient sparse on one rank only")
        assert float(hvd.allreduce(tg.constant(1.0), op=hvd.Sum)) == n  # the job goes on


def sparse_overlap():
    """DistributedGradientTape(sparse_as_dense=False) of an Embedding + Dense model overlaps: the dense
    buckets are reduced on the communication thread while the sparse-keeping backward pass runs (the
    walk is held in the engine's callback until the first bucket is reduced, so that this is checked
    deterministically), the sparse gradient is allgathered after the last bucket, every rank issues
    the same collectives in the same order, and SGD-momentum and Adam training == one process."""
    import time

    n = hvd.size()
    eng, grads_mod = hvd._engine_state, hvd._gradients
    counters = grads_mod.counters
    log = []
    plain_collective, plain_on_ready = eng.collective, grads_mod._GradientReduction.on_ready

    def collective(what):
        log.append(what)
        return plain_collective(what)

    def on_ready(self, i, grad):
        plain_on_ready(self, i, grad)
        if n > 1 and grads_mod._walking[0] and self.bucket_of[i] == 0 and self.pending[0] == 0:
            deadline = time.monotonic() + 30  # hold the walk until the communication thread reduced it
            while self.next == 0 and self.error is None and time.monotonic() < deadline:
                time.sleep(0.0005)
            assert self.next > 0, "the communication thread did not reduce the first bucket during the walk"

    eng.collective, grads_mod._GradientReduction.on_ready = collective, on_ready
    eng.fusion_threshold = 0  # a bucket per dense gradient: the communication thread takes them
    try:
        for optimizer in ("sgd", "adam"):
            ref = train_embedding(False, False, False, optimizer)
            before = dict(counters)
            log.clear()
            ws = train_embedding(True, False, False, optimizer)
            per_rank = hvd._engine_state.comm.allgather(list(log))
            assert all(p == per_rank[0] for p in per_rank), per_rank  # the same collectives, same order
            if n > 1:
                assert counters["sparse_overlapped"] - before["sparse_overlapped"] == EMB_STEPS, counters
                assert counters["sparse_whole_first"] == before["sparse_whole_first"], counters
                assert counters["started_during_backward"] - before["started_during_backward"] >= EMB_STEPS
                kinds = [w.split(" ")[0] for w in log]  # per step: bias, kernel buckets; the table's allgathers
                assert kinds == ["ALLREDUCE", "ALLREDUCE", "ALLGATHER", "ALLGATHER"] * EMB_STEPS, log
            for a, b_ in zip(ws, ref):
                np.testing.assert_allclose(a, b_, rtol=2e-5, atol=2e-6, err_msg=optimizer)
            same_on_all_ranks(ws, "trained embedding weights")
    finally:
        eng.collective, grads_mod._GradientReduction.on_ready = plain_collective, plain_on_ready
        eng.fusion_threshold = 64 * 1024 * 1024
    if n > 1:
        # a custom gradient on the gather's path: the plan cannot tell, the whole backward pass runs first
        @tg.custom_gradient
        def scaled(x):
            return 3.0 * x, lambda dy: 3.0 * dy

        v = tg.Variable(np.ones((VOCAB, DIM), np.float32))
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(scaled(tg.gather(v, [hvd.rank() % VOCAB, 1])))
        before = dict(counters)
        got = hvd.DistributedGradientTape(tape).gradient(loss, [v])[0]
        assert counters["sparse_whole_first"] == before["sparse_whole_first"] + 1, counters
        assert counters["sparse_overlapped"] == before["sparse_overlapped"], counters
        want_indices = np.array([i for q in range(n) for i in (q % VOCAB, 1)], np.int32)
        check_slices(got, np.full((2 * n, DIM), 3.0 / n, np.float32), want_indices)
        # a plan that the walk contradicts is an internal error naming the source, on every rank
        plain_plan = tg._core.Tape._sparse_plan
        tg._core.Tape._sparse_plan = lambda self, targets, sources: [False] * len(sources)
        v = tg.Variable(np.ones((VOCAB, DIM), np.float32), name="emb/embeddings")
        try:
            with tg.GradientTape() as tape:
                loss = tg.reduce_sum(tg.gather(v, [1, 2]))
            hvd.DistributedGradientTape(tape).gradient(loss, [v])
        except RuntimeError as e:
            assert "internal error" in str(e) and "'emb/embeddings" in str(e) and "an IndexedSlices" in str(e), e
        else:
            raise AssertionError("no error for a gradient contrary to the plan")
        finally:
            tg._core.Tape._sparse_plan = plain_plan
        assert float(hvd.allreduce(tg.constant(1.0), op=hvd.Sum)) == n  # the job goes on


def raise_on_one():
    if hvd.rank() == 1:
        raise ValueError("boom on purpose")
    hvd.allreduce(tg.constant([1.0]), name="never_matched")  # blocks until the abort
    hvd.barrier()


def exit_on_one():
    if hvd.rank() == 1:
        sys.exit(3)  # SystemExit skips the exception hook: the stall watchdog ends the job
    hvd.allreduce(tg.constant([1.0]), name="left_alone")


if __name__ == "__main__":
    tg.config.set_num_threads(1)  # ranks share the machine's cores
    hvd.init()
    scenario = sys.argv[1]
    for name in scenario.split(","):
        {
            "collectives": collectives,
            "training": training,
            "fit": keras_fit,
            "mismatch": mismatch,
            "native": native,
            "tape_options": tape_options,
            "sparse": sparse,
            "sparse_overlap": sparse_overlap,
            "raise": raise_on_one,
            "exit": exit_on_one,
        }[name]()
    print(f"OK {scenario} rank {hvd.rank()}", flush=True)
