"""ForwardAccumulator against real TensorFlow (skipped when it is not installed): the same programs
give the same JVPs (None where TF gives None), nesting with accumulators and tapes, custom_gradient,
Variables, and the same exception types for bad tangents."""

import numpy as np
import pytest

import tapegrad as tg

tf_ref = pytest.importorskip("tensorflow")

X = np.array([0.3, -1.2, 2.0], np.float32)
T = np.array([1.0, 0.5, -2.0], np.float32)


def _both(program):
    """program(lib, x) -> structure of jvps, run with tapegrad and TF; compared leaf by leaf."""
    got = program(tg, tg.constant(X))
    want = program(tf_ref, tf_ref.constant(X))
    flat_got, flat_want = tg.nest.flatten(got), tf_ref.nest.flatten(want)
    assert len(flat_got) == len(flat_want)
    for g, w in zip(flat_got, flat_want):
        if w is None:
            assert g is None
        else:
            assert g is not None
            np.testing.assert_allclose(np.asarray(g), w.numpy(), rtol=1e-5, atol=1e-6)


def test_ops_and_unconnected():
    def program(lib, x):
        with lib.autodiff.ForwardAccumulator(x, lib.constant(T)) as acc:
            outs = [
                lib.nn.softmax(x),
                lib.reduce_max(x),
                lib.nn.relu(x) * x,
                lib.gather(x, [2, 0]),
                lib.floor(x),
                lib.stop_gradient(x),
                lib.cast(x, "int32"),
                lib.math.log1p(lib.abs(x)),
                lib.concat([x, x * 2.0], 0),
            ]
        return [acc.jvp(o) for o in outs] + [acc.jvp(o, unconnected_gradients="zero") for o in outs[4:7]]

    _both(program)


def test_nesting():
    def program(lib, x):
        with lib.autodiff.ForwardAccumulator(x, lib.constant(T)) as outer:
            with lib.autodiff.ForwardAccumulator(x, lib.constant(T * 2)) as inner:
                y = lib.reduce_sum(lib.sin(x) * x**3)
        return [inner.jvp(y), outer.jvp(inner.jvp(y)), inner.jvp(outer.jvp(y)), outer.jvp(y)]

    _both(program)


def test_tapes_and_accumulators():
    def program(lib, x):
        with lib.autodiff.ForwardAccumulator(x, lib.constant(T)) as acc:
            with lib.GradientTape() as tape:
                tape.watch(x)
                y = lib.reduce_sum(lib.tanh(x) * x)
                inner_sees = acc.jvp(y)
            g = tape.gradient(y, x)
        hvp = acc.jvp(g)
        with lib.autodiff.ForwardAccumulator(x, lib.constant(T)) as acc2:
            with lib.GradientTape() as tape2:
                tape2.watch(x)
                z = lib.reduce_sum(lib.exp(x) * x)
            ignored = tape2.gradient(acc2.jvp(z), x)
        with lib.GradientTape() as tape3:
            tape3.watch(x)
            with lib.autodiff.ForwardAccumulator(x, lib.constant(T)) as acc3:
                w = lib.reduce_sum(lib.exp(x) * x)
            j = acc3.jvp(w)
        return [g, hvp, ignored, tape3.gradient(j, x), inner_sees]

    _both(program)


def test_variables_and_custom_gradient():
    def program(lib, x):
        v = lib.Variable(X)

        @lib.custom_gradient
        def visible(t):
            return t * 2.0, lambda dy: dy * 10.0

        @lib.custom_gradient
        def hidden(t):
            return lib.constant(t.numpy() * 2.0), lambda dy: dy * 10.0

        with lib.autodiff.ForwardAccumulator(v, lib.constant(T)) as acc:
            a = v * 3.0
            v.assign(X * 2.0)
            b = lib.reduce_sum(v**2)
            c, d = visible(v), hidden(v)
        return [acc.jvp(a), acc.jvp(b), acc.jvp(v), acc.jvp(c), acc.jvp(d)]

    _both(program)


@pytest.mark.parametrize(
    "tangent",
    [np.array([1, 2, 3], np.int32), np.array([1.0, 2.0, 3.0], np.float64)],
)
def test_dtype_errors_match(tangent):
    with pytest.raises(ValueError) as ours:
        tg.autodiff.ForwardAccumulator(tg.constant(X), tg.constant(tangent))
    with pytest.raises(ValueError) as theirs:
        tf_ref.autodiff.ForwardAccumulator(tf_ref.constant(X), tf_ref.constant(tangent))
    assert str(theirs.value).split(":")[0] == str(ours.value).split(":")[0]


def test_duplicate_and_structure_errors_match():
    x, tx = tg.constant(X), tf_ref.constant(X)
    for lib, t in ((tg, x), (tf_ref, tx)):
        with pytest.raises(ValueError, match="was specified as a primal multiple times"):
            lib.autodiff.ForwardAccumulator([t, t], [t, t])
        with pytest.raises(ValueError, match="same nested structure"):
            lib.autodiff.ForwardAccumulator([t], t)
        acc = lib.autodiff.ForwardAccumulator(t, t)
        with acc:
            with pytest.raises(ValueError, match="Accumulator is already recording."):
                acc.__enter__()
