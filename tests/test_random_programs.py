"""Random programs (tests/randprog.py): chains of 2-8 ops over 1-3 inputs with random shapes,
broadcasting, dtypes. Forward values and dtypes against independent numpy transcriptions (every
step, and float64 end to end); float64 gradients of sum(out * w) against finite differences of the
numpy transcription.

CI: 500 programs, reproducible (derandomize=True, no example database). With
TAPEGRAD_RANDOM_PROGRAMS=N: N programs with fresh random seeds each run (hypothesis prints the
seed and a reproduce blob of a failure). A failure's message prints the program readably.
"""

import os

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from randprog import OPS, programs

import tapegrad as tg

N_ENV = int(os.environ.get("TAPEGRAD_RANDOM_PROGRAMS", "0") or 0)
TOTAL = N_ENV or 500
SHARES = {"float64": 0.45, "second": 0.1, "float32": 0.15, "int": 0.2, "big": 0.1}


def _settings(kind):
    return settings(
        max_examples=max(1, round(TOTAL * SHARES[kind])),
        derandomize=not N_ENV,
        database=None,
        deadline=None,
        print_blob=bool(N_ENV),
        suppress_health_check=list(HealthCheck),
    )


RTOL = {"float64": 1e-12, "float32": 1e-5}
E2E_RTOL = 1e-10  # float64 end to end (scale: the largest intermediate): rounding propagates


def _close(got, want, rtol, scale):
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    return bool(np.all(err <= rtol * (np.abs(want.astype(np.float64)) + scale)))


def _maxabs(*arrays):
    return max([float(np.max(np.abs(np.asarray(a, np.float64)), initial=0.0)) for a in arrays] + [0.0])


def _check_values(what, prog, got, want, scale, rtol=None):
    """dtype and shape equal; integers and bools exact; floats within rtol * (|want| + scale)."""
    __tracebackhide__ = True
    assert got.dtype == want.dtype, f"{what}: dtype {got.dtype}, numpy {want.dtype}\n{prog}"
    assert got.shape == want.shape, f"{what}: shape {got.shape}, numpy {want.shape}\n{prog}"
    if want.dtype.kind in "biu":
        ok = np.array_equal(got, want)
    else:
        ok = _close(got, want, rtol or RTOL[want.dtype.name], scale)
    assert ok, (
        f"{what}: tapegrad\n{got}\nnumpy\n{want}\nmax abs diff "
        f"{np.max(np.abs(got.astype(float) - want.astype(float)), initial=0)}\n{prog}"
    )


def check_forward(prog):
    """Every step against numpy on tapegrad's own inputs to it; float64 also end to end."""

    def hook(step, ins, out):
        arrays = [t.numpy() for t in ins]
        with np.errstate(all="ignore"):
            want = np.asarray(step.ref(*arrays))
            got = out.numpy()
            scale = (
                step.scale(*arrays, want)
                if step.scale is not None
                else _maxabs(want, *[a for a in arrays if a.dtype.kind == "f"])
            )
        _check_values(f"step {prog.name(step.out)} = {step.name}", prog, got, want, scale)

    out = prog.run_tg(tg, [tg.constant(a) for _, a, _ in prog.inputs], hook)
    if prog.output.dtype == np.float64:
        _check_values(
            "end to end",
            prog,
            out.numpy(),
            prog.output,
            _maxabs(*[v for v in prog.values if v.dtype.kind == "f"]),
            E2E_RTOL,
        )
    return out


def _fd(f, x, h):
    """4-point central differences of scalar f at every element of x."""
    g = np.zeros_like(x)
    flat, gf = x.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        fs = []
        for d in (2 * h, h, -h, -2 * h):
            flat[i] = v + d
            fs.append(f())
        flat[i] = v
        gf[i] = (-fs[0] + 8 * fs[1] - 8 * fs[2] + fs[3]) / (12 * h)
    return g


def _dense(g):
    """A gather's IndexedSlices gradient (as TF's) as its dense value; others unchanged."""
    return tg.convert_to_tensor(g) if isinstance(g, tg.IndexedSlices) else g


def check_gradients(prog):
    """Tape gradients of sum(out * w) w.r.t. every input against finite differences of the numpy
    transcription. An input the output does not depend on differentiably may get None (TF's
    answer for e.g. floor or a where condition): then the differences must be zero."""
    out_i = prog.steps[-1].out
    w = np.random.default_rng(prog.seed).uniform(0.5, 1.5, prog.output.shape)
    arrays = [a.copy() for _, a, _ in prog.inputs]
    if prog.seed % 2:  # trainable Variables, watched by the tape on their own
        ts = [tg.Variable(a) for a in arrays]
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(prog.run_tg(tg, ts) * tg.constant(w))
    else:
        ts = [tg.constant(a) for a in arrays]
        with tg.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            loss = tg.reduce_sum(prog.run_tg(tg, ts) * tg.constant(w))
    grads = [_dense(g) for g in tape.gradient(loss, ts)]

    def f():
        with np.errstate(all="ignore"):
            return float(np.sum(prog.run_ref(arrays)[out_i] * w))

    f_scale = float(np.sum(np.abs(prog.output * w)))
    for k, (g, a) in enumerate(zip(grads, arrays)):
        name = prog.name(prog.inputs[k][0])
        fd = _fd(f, a, 1e-4)
        # relative, plus the differences' own rounding noise: numpy's sums are not bitwise
        # reproducible between calls (einsum's inner loops depend on the arrays' alignment)
        tol = 1e-6 * (np.abs(fd) + _maxabs(fd) + 1e-3) + 100 * 2.2e-16 * f_scale / 1e-4
        if g is None:
            assert np.all(np.abs(fd) <= tol), f"gradient of {name} is None, FD\n{fd}\n{prog}"
            continue
        g = g.numpy()
        assert g.dtype == np.float64 and g.shape == a.shape, (
            f"gradient of {name}: {g.dtype}{g.shape}, input float64{a.shape}\n{prog}"
        )
        if np.all(np.abs(g - fd) <= tol):
            continue
        # Before blaming the tape: is the numpy function smooth here (two step sizes agree)?
        fd2 = _fd(f, a, 2.5e-5)
        smooth = np.all(np.abs(fd2 - fd) <= tol)
        assert not smooth, (
            f"gradient of {name}: tape\n{g}\nfinite differences\n{fd}\nmax abs diff {np.max(np.abs(g - fd))}\n{prog}"
        )
        assume(False)  # the numpy function is not smooth here: finite differences say nothing


def check_directional_gradient(prog):
    """Big programs: the tape gradient along a random direction v, <g, v>, against finite
    differences of t -> f(x + t v) for the numpy transcription (4 evaluations, any size)."""
    out_i = prog.steps[-1].out
    rng = np.random.default_rng(prog.seed)
    w = rng.uniform(0.5, 1.5, prog.output.shape)
    arrays = [a.copy() for _, a, _ in prog.inputs]
    vs = [rng.uniform(-1.0, 1.0, a.shape) for a in arrays]
    ts = [tg.constant(a) for a in arrays]
    with tg.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        loss = tg.reduce_sum(prog.run_tg(tg, ts) * tg.constant(w))
    grads = [_dense(g) for g in tape.gradient(loss, ts)]
    terms = [np.zeros(1) if g is None else g.numpy() * v for g, v in zip(grads, vs)]
    got = float(sum(np.sum(t) for t in terms))

    def f(t):
        with np.errstate(all="ignore"):
            vals = prog.run_ref([a + t * v for a, v in zip(arrays, vs)])
        return float(np.sum(vals[out_i] * w))

    def fd(h):
        return (-f(2 * h) + 8 * f(h) - 8 * f(-h) + f(-2 * h)) / (12 * h)

    h = 1e-4
    f_scale = float(np.sum(np.abs(prog.output * w)))  # the differences' rounding noise, as above
    tol = 1e-6 * sum(float(np.sum(np.abs(t))) for t in terms) + 100 * 2.2e-16 * f_scale / h + 1e-9
    want = fd(h)
    if abs(got - want) <= tol:
        return
    smooth = abs(fd(h / 4) - want) <= tol
    assert not smooth, f"directional derivative: tape {got!r}, finite differences {want!r}, tolerance {tol:.3g}\n{prog}"
    assume(False)  # the numpy function is not smooth along this direction


def check_second_order(prog):
    """v^T H u from nested tapes against finite differences, along v, of the first-order tape
    gradient dotted with u (first-order gradients are checked against numpy separately)."""
    rng = np.random.default_rng(prog.seed + 1)
    w = rng.uniform(0.5, 1.5, prog.output.shape)
    arrays = [a.copy() for _, a, _ in prog.inputs]
    us = [rng.uniform(-1.0, 1.0, a.shape) for a in arrays]
    vs = [rng.uniform(-1.0, 1.0, a.shape) for a in arrays]

    def first(arrs, outer=None):
        ts = [tg.constant(a) for a in arrs]
        if outer is not None:
            outer.watch(ts)
        with tg.GradientTape() as tape:
            tape.watch(ts)
            loss = tg.reduce_sum(prog.run_tg(tg, ts) * tg.constant(w))
        gs = [_dense(g) for g in tape.gradient(loss, ts)]
        return ts, [tg.zeros_like(t) if g is None else g for g, t in zip(gs, ts)]

    with tg.GradientTape() as outer:
        ts, gs = first(arrays, outer)
        gu = tg.add_n([tg.reduce_sum(g * tg.constant(u)) for g, u in zip(gs, us)])
    hu = [_dense(h) for h in outer.gradient(gu, ts)]
    got = sum(0.0 if h is None else float(np.sum(h.numpy() * v)) for h, v in zip(hu, vs))

    def dg(t):
        _, g = first([a + t * v for a, v in zip(arrays, vs)])
        return sum(float(np.sum(x.numpy() * u)) for x, u in zip(g, us))

    def fd(h):
        return (-dg(2 * h) + 8 * dg(h) - 8 * dg(-h) + dg(-2 * h)) / (12 * h)

    scale = sum(0.0 if h is None else float(np.sum(np.abs(h.numpy() * v))) for h, v in zip(hu, vs))
    g_scale = sum(float(np.sum(np.abs(g.numpy() * u))) for g, u in zip(gs, us))
    tol = 1e-6 * (scale + abs(got)) + 100 * 2.2e-16 * g_scale / 1e-4 + 1e-7
    want = fd(1e-4)
    if abs(got - want) <= tol:
        return
    smooth = abs(fd(2.5e-5) - want) <= tol
    assert not smooth, (
        f"second order v^T H u: nested tapes {got!r}, finite differences of the "
        f"gradient {want!r}, tolerance {tol:.3g}\n{prog}"
    )
    assume(False)


@_settings("second")
@given(prog=programs(np.float64, max_ops=5, exclude={"moments"}))
def test_float64_second_order(prog):
    """Nested tapes. tf.nn.moments is left out: TF's variance stops the gradient through its mean
    (first order exact, second order not the true Hessian), which tapegrad reproduces."""
    check_second_order(prog)


@_settings("float64")
@given(prog=programs(np.float64))
def test_float64_forward_and_gradients(prog):
    check_forward(prog)
    check_gradients(prog)


@_settings("float32")
@given(prog=programs(np.float32))
def test_float32_forward(prog):
    check_forward(prog)


@_settings("int")
@given(prog=programs(np.int32) | programs(np.int64))
def test_int_forward(prog):
    check_forward(prog)


@_settings("big")
@given(prog=programs(np.float32, big=True) | programs(np.float64, big=True))
def test_big_forward_and_directional_gradients(prog):
    """Rows of up to thousands of elements: SIMD bodies and tails, the thread pool's splits."""
    check_forward(prog)
    if prog.output.dtype == np.float64:
        check_directional_gradient(prog)


def test_op_table_is_broad():
    """The table covers each family the issue lists (a guard against silently dropping ops)."""
    for name in [
        "exp",
        "log",
        "tanh",
        "sigmoid",
        "sin",
        "cos",
        "sqrt",
        "square",
        "abs",
        "softplus",
        "erf",
        "add",
        "subtract",
        "multiply",
        "divide",
        "maximum",
        "minimum",
        "pow",
        "reduce_sum",
        "reduce_mean",
        "reduce_max",
        "reduce_min",
        "reduce_prod",
        "reduce_logsumexp",
        "reshape",
        "transpose",
        "expand_dims",
        "squeeze",
        "concat",
        "stack",
        "tile",
        "getitem",
        "strided_slice",
        "gather",
        "reverse",
        "pad",
        "matmul",
        "einsum",
        "softmax",
        "cumsum",
        "where",
        "clip_by_value",
        "det",
        "inv",
        "solve",
    ]:
        assert name in OPS, name


# ---- regressions: bugs the random programs found -----------------------------------------------


def test_band_part_bounds_equal_to_the_matrix_size():
    """TF allows num_lower == rows and num_upper == columns (keep everything); tapegrad refused
    them ("num_upper must be ... less or equal to number of columns (2) got: 2")."""
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tg.linalg.band_part(x, 2, 3).numpy(), x)
    assert tg.linalg.band_part(np.zeros((2, 0)), 0, 0).shape == (2, 0)
    np.testing.assert_array_equal(tg.linalg.band_part(np.ones((3, 1)), 1, 1).numpy().ravel(), [1, 1, 0])
    with np.testing.assert_raises(ValueError):  # InvalidArgumentError, as TF, one past the size
        tg.linalg.band_part(np.ones((3, 1)), 1, 2)


def test_band_part_zeroes_non_finite_entries_outside_the_band():
    """A select, as TF's kernel: inf/nan outside the band become 0 (a 0/1 product gave nan)."""
    x = np.array([[1.0, np.inf], [np.nan, 2.0]])
    np.testing.assert_array_equal(tg.linalg.band_part(x, 0, 0).numpy(), [[1.0, 0.0], [0.0, 2.0]])


def test_matmul_adjoint_flags():
    """tf.matmul / tf.linalg.matmul take adjoint_a/adjoint_b (transposes for real dtypes); tapegrad
    raised TypeError. Both flags for one operand: TF's ValueError."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 3))
    got = tg.linalg.matmul(a, b, adjoint_a=True, adjoint_b=True).numpy()
    np.testing.assert_allclose(got, np.swapaxes(a, -1, -2) @ np.swapaxes(b, -1, -2), rtol=1e-12)
    got = tg.matmul(a, np.swapaxes(b, -1, -2), adjoint_a=True, a_is_sparse=True).numpy()
    np.testing.assert_allclose(got, np.swapaxes(a, -1, -2) @ np.swapaxes(b, -1, -2), rtol=1e-12)
    with np.testing.assert_raises(ValueError) as e:
        tg.matmul(a, b, transpose_a=True, adjoint_a=True)
    assert str(e.exception) == "Only one of transpose_a and adjoint_a can be True."


def test_matmul_gradient_with_an_empty_inner_dimension_and_a_shared_b():
    """Batched a [.., m, 0] times an unbatched b [0, n] (matvec with a vector b does this): the
    VJP's folded gemm reshaped with -1, which a 0-element tensor cannot resolve; TF gives zero
    gradients of the inputs' shapes."""
    for sa, sb in [((1, 3, 3, 0), (0, 1)), ((2, 3, 0), (0, 2)), ((2, 3, 2), (2, 0))]:
        a, b = tg.constant(np.ones(sa)), tg.constant(np.ones(sb))
        with tg.GradientTape() as tape:
            tape.watch([a, b])
            y = tg.reduce_sum(tg.matmul(a, b) * 2.0)
        ga, gb = tape.gradient(y, [a, b])
        np.testing.assert_array_equal(ga.numpy(), np.full(sa, 2.0 * sb[-1]))
        np.testing.assert_array_equal(gb.numpy(), np.full(sb, 2.0 * np.prod(sa[:-1])))
    a, v = tg.constant(np.ones((1, 3, 3, 0))), tg.constant(np.ones((0,)))
    with tg.GradientTape() as tape:
        tape.watch([a, v])
        y = tg.reduce_sum(tg.linalg.matvec(a, v))
    assert [g.shape for g in tape.gradient(y, [a, v])] == [(1, 3, 3, 0), (0,)]
