"""Forward mode (tf.autodiff.ForwardAccumulator): every primitive's JVP against finite differences
and against its VJP (the transpose identity), first and second order; nesting with tapes and
accumulators; custom_gradient, stop_gradient, Variables; bad tangents."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tapegrad as tf
from tapegrad import _core
from tapegrad.autodiff import ForwardAccumulator

F64 = "float64"
RNG = np.random.default_rng(0)


def c(a):
    return tf.constant(np.asarray(a, dtype=np.float64))


def r(*shape, lo=-1.0, hi=1.0):
    return RNG.uniform(lo, hi, size=shape)


def spd(n):
    a = RNG.standard_normal((n, n))
    return a @ a.T + n * np.eye(n)


def grad_of(fn, x, w):
    """d <fn(x), w> / dx: a program whose ops are fn's backward primitives (TanhGrad, ...)."""
    with tf.GradientTape() as t:
        t.watch(x)
        y = fn(x)
    return t.gradient(y, x, output_gradients=w)


X34 = r(3, 4)
POS34 = r(3, 4, lo=0.5, hi=2.0)
IMG = r(1, 5, 5, 2)
FILT = r(3, 3, 2, 3)
DFILT = r(3, 3, 2, 2)
G_2x2x3, G_3x3x3, G_3x3x4, X_4x4x2 = c(r(1, 2, 2, 3)), c(r(1, 3, 3, 3)), c(r(1, 3, 3, 4)), c(r(1, 4, 4, 2))
# one program per differentiable primitive (TF's op name): (f, args); the args avoid kinks
PROGRAMS = {
    # complex primitives, reached from real inputs and back (Note [Complex dtypes])
    "Complex": (lambda a, b: tf.math.real(tf.complex(a, b) * tf.complex(b, a)), [r(3, 4), r(3, 4)]),
    "Real": (lambda a, b: tf.math.real(tf.complex(a, b) * tf.complex(b, b)), [r(3, 4), r(3, 4)]),
    "Imag": (lambda a, b: tf.math.imag(tf.complex(a, b) * tf.complex(a, b)), [r(3, 4), r(3, 4)]),
    "Conj": (lambda a, b: tf.math.real(tf.math.conj(tf.complex(a, b)) * tf.complex(b, a)), [r(3, 4), r(3, 4)]),
    "Angle": (lambda a, b: tf.math.angle(tf.complex(a, b)), [POS34, r(3, 4)]),
    "ComplexAbs": (lambda a, b: tf.abs(tf.complex(a, b)), [POS34, r(3, 4)]),
    "AddV2": (lambda a, b: a + b, [r(3, 4), r(4)]),
    "Sub": (lambda a, b: a - b, [r(3, 1), r(4)]),
    "Mul": (lambda a, b: a * b, [r(3, 4), r(3, 4)]),
    "RealDiv": (lambda a, b: a / b, [r(3, 4), POS34]),
    "Pow": (lambda a, b: a**b, [POS34, r(3, 4)]),
    "Maximum": (lambda a, b: tf.maximum(a, b), [r(3, 4), r(3, 4) + 3.0]),
    "Minimum": (lambda a, b: tf.minimum(a, b), [r(3, 4), r(3, 4) + 3.0]),
    "FloorDiv": (lambda a, b: tf.math.floordiv(a, b) * a, [POS34 + 0.25, c(np.full((3, 4), 0.7))]),
    "FloorMod": (lambda a, b: tf.math.floormod(a, b), [r(3, 4, lo=0.1, hi=0.6), r(3, 4, lo=0.7, hi=0.9)]),
    "SquaredDifference": (lambda a, b: tf.math.squared_difference(a, b), [r(3, 4), r(4)]),
    "Atan2": (lambda a, b: tf.math.atan2(a, b), [r(3, 4), POS34]),
    "TanhGrad": (lambda x, w: grad_of(tf.tanh, x, w), [r(3, 4), r(3, 4)]),
    "SigmoidGrad": (lambda x, w: grad_of(tf.sigmoid, x, w), [r(3, 4), r(3, 4)]),
    "ReluGrad": (lambda x, w: grad_of(tf.nn.relu, x, w) * x, [POS34 - 1.2, r(3, 4)]),
    "Neg": (lambda x: -x, [X34]),
    "Square": (tf.square, [X34]),
    "Sqrt": (tf.sqrt, [POS34]),
    "Rsqrt": (tf.math.rsqrt, [POS34]),
    "Exp": (tf.exp, [X34]),
    "Expm1": (tf.math.expm1, [X34]),
    "Log": (tf.math.log, [POS34]),
    "Log1p": (tf.math.log1p, [POS34]),
    "Sin": (tf.sin, [X34]),
    "Cos": (tf.cos, [X34]),
    "Tan": (tf.tan, [X34]),
    "Tanh": (tf.tanh, [X34]),
    "Sinh": (tf.sinh, [X34]),
    "Cosh": (tf.cosh, [X34]),
    "Asin": (tf.asin, [X34 * 0.8]),
    "Acos": (tf.acos, [X34 * 0.8]),
    "Atan": (tf.atan, [X34]),
    "Abs": (tf.abs, [POS34 - 1.25]),
    "Sign": (lambda x: tf.sign(x) * x, [POS34 - 1.25]),
    "Relu": (tf.nn.relu, [POS34 - 1.25]),
    "Sigmoid": (tf.sigmoid, [X34]),
    "Softplus": (tf.nn.softplus, [X34]),
    "Reciprocal": (tf.math.reciprocal, [POS34]),
    "Floor": (lambda x: tf.floor(x) * x, [POS34 + 0.1]),
    "Ceil": (lambda x: tf.math.ceil(x) * x, [POS34 + 0.1]),
    "Round": (lambda x: tf.round(x) * x, [c([[0.2, 0.7, 1.3], [1.8, 2.2, 2.6]])]),
    "Erf": (tf.math.erf, [X34]),
    "Sum": (lambda x: tf.reduce_sum(x, axis=1), [X34]),
    "Mean": (lambda x: tf.reduce_mean(x, axis=0, keepdims=True), [X34]),
    "Max": (lambda x: tf.reduce_max(x, axis=1), [X34]),
    "Min": (lambda x: tf.reduce_min(x), [X34]),
    "Prod": (lambda x: tf.reduce_prod(x, axis=0), [POS34]),
    "MatMul": (lambda a, b: tf.matmul(a, b, transpose_b=True), [r(2, 3, 4), r(5, 4)]),
    "Reshape": (lambda x: tf.reshape(x, [4, 3]) * x[0, 0], [X34]),
    "Transpose": (lambda x: tf.transpose(x), [X34]),
    "BroadcastTo": (lambda x: tf.broadcast_to(x, [2, 3, 4]), [r(3, 1)]),
    "Cast": (lambda x: tf.cast(tf.cast(x, "float32"), F64), [X34], {"eps": 1e-2, "rtol": 1e-4, "atol": 1e-4}),
    "SelectV2": (lambda a, b: tf.where(a > 0, a, b), [POS34 - 1.25, r(3, 4)]),
    "Identity": (lambda x: tf.identity(x) * x, [X34]),
    "Erfc": (tf.math.erfc, [X34]),
    "Relu6": (tf.nn.relu6, [POS34 * 4.0 - 1.0]),
    "Cumsum": (lambda x: tf.cumsum(x, axis=1, exclusive=True), [X34]),
    "LeakyRelu": (lambda x: tf.nn.leaky_relu(x, 0.3), [POS34 - 1.25]),
    "LeakyReluGrad": (lambda x, w: grad_of(lambda t: tf.nn.leaky_relu(t, 0.3), x, w), [POS34 - 1.25, r(3, 4)]),
    "Relu6Grad": (lambda x, w: grad_of(tf.nn.relu6, x, w), [POS34 * 4.0 - 1.0, r(3, 4)]),
    "Asinh": (tf.asinh, [X34]),
    "Acosh": (tf.acosh, [POS34 + 1.0]),
    "Atanh": (tf.atanh, [X34 * 0.8]),
    "Cumprod": (lambda x: tf.math.cumprod(x, axis=0), [POS34]),
    "Elu": (tf.nn.elu, [POS34 - 1.25]),
    "EluGrad": (lambda x, w: grad_of(tf.nn.elu, x, w), [POS34 - 1.25, r(3, 4)]),
    "Selu": (tf.nn.selu, [POS34 - 1.25]),
    "SeluGrad": (lambda x, w: grad_of(tf.nn.selu, x, w), [POS34 - 1.25, r(3, 4)]),
    "StridedSlice": (lambda x: x[1:, ::2], [X34]),
    "StridedSliceGrad": (lambda x, w: grad_of(lambda t: t[1:, ::2] * t[1:, ::2], x, w), [X34, r(2, 2)]),
    "ConcatV2": (lambda a, b: tf.concat([a, b, a], axis=1), [r(3, 2), r(3, 4)]),
    "GatherV2": (lambda x: tf.gather(x, [2, 0, 2], axis=1), [X34]),
    "UnsortedSegmentSum": (lambda d: tf.math.unsorted_segment_sum(d * d, [0, 2, 0], 3), [X34[:3]]),
    "TensorScatterUpdate": (lambda t, u: tf.tensor_scatter_nd_update(t, [[0], [2]], u), [X34, r(2, 4)]),
    "Conv2D": (lambda x, w: tf.nn.conv2d(x, w, 1, "SAME"), [IMG, FILT]),
    "Conv2DBackpropInput": (lambda x, w: grad_of(lambda t: tf.nn.conv2d(t, w, 2, "VALID"), x, G_2x2x3), [IMG, FILT]),
    "Conv2DBackpropFilter": (lambda w, x: grad_of(lambda t: tf.nn.conv2d(x, t, 1, "VALID"), w, G_3x3x3), [FILT, IMG]),
    "MaxPool": (lambda x: tf.nn.max_pool2d(x, 2, 2, "VALID"), [r(1, 4, 4, 2)]),
    "MaxPoolGrad": (
        lambda x, w: grad_of(lambda t: tf.nn.max_pool2d(t, 2, 2, "VALID"), x, w),
        [r(1, 4, 4, 2), r(1, 2, 2, 2)],
    ),
    "MaxPoolGradGrad": (
        lambda x, w, h: _max_pool_grad_grad(x, w, h),
        [r(1, 4, 4, 2), r(1, 2, 2, 2), r(1, 4, 4, 2)],
    ),
    "AvgPool": (lambda x: tf.nn.avg_pool2d(x, 2, 1, "SAME"), [r(1, 4, 4, 2)]),
    "AvgPoolGrad": (lambda w: grad_of(lambda t: tf.nn.avg_pool2d(t, 2, 1, "SAME"), X_4x4x2, w), [r(1, 4, 4, 2)]),
    "MatrixInverse": (tf.linalg.inv, [spd(3)]),
    "MatrixDeterminant": (tf.linalg.det, [spd(3)]),
    "MatrixSolve": (lambda a, b: tf.linalg.solve(a, b), [spd(3), r(3, 2)]),
    "Cholesky": (lambda a: tf.linalg.cholesky(a + tf.transpose(a)), [spd(3)]),  # reads the lower triangle
    "MatrixTriangularSolve": (
        lambda a, b: tf.linalg.triangular_solve(a, b, lower=True),
        [np.tril(spd(3)), r(3, 2)],
    ),
    "LogMatrixDeterminant": (lambda a: tf.linalg.slogdet(a)[1], [spd(3)]),
    "SelfAdjointEigV2": (lambda a: tf.linalg.eigh(a)[0], [np.diag([1.0, 2.0, 4.0]) + 0.1 * np.ones((3, 3))]),
    "Qr": (lambda a: tf.reduce_sum(tf.linalg.qr(a)[1] ** 2, axis=0), [r(4, 3)]),
    "Svd": (lambda a: tf.linalg.svd(a, compute_uv=False), [np.diag([1.0, 2.0, 4.0]) + 0.1 * r(3, 3)]),
    "Eig": (  # phase-free functions of e and v; eigenvalues 1 +- 2i and ~3 (a conjugate pair)
        lambda a: tf.concat([tf.math.real(tf.linalg.eigvals(a)), tf.reshape(tf.abs(tf.linalg.eig(a)[1]), [-1])], 0),
        [np.array([[1.0, -2.0, 0.1], [2.0, 1.0, 0.3], [0.2, 0.1, 3.0]])],
    ),
    "DepthwiseConv2dNative": (lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME"), [IMG, DFILT]),
    "DepthwiseConv2dNativeBackpropInput": (
        lambda x, w: grad_of(lambda t: tf.nn.depthwise_conv2d(t, w, [1, 1, 1, 1], "VALID"), x, G_3x3x4),
        [IMG, DFILT],
    ),
    "DepthwiseConv2dNativeBackpropFilter": (
        lambda w, x: grad_of(lambda t: tf.nn.depthwise_conv2d(x, t, [1, 1, 1, 1], "VALID"), w, G_3x3x4),
        [DFILT, IMG],
    ),
    "Softmax": (lambda x: tf.nn.softmax(x, axis=0), [X34]),
    "LogSoftmax": (tf.nn.log_softmax, [X34]),
    "SoftmaxCrossEntropyWithLogits": (
        # TF's backprop output is the derivative only for labels that sum to 1
        lambda lab, lg: tf.nn.softmax_cross_entropy_with_logits(labels=tf.nn.softmax(lab), logits=lg),
        [POS34, X34],
    ),
    "SparseSoftmaxCrossEntropyWithLogits": (
        lambda lg: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=[1, 0, 3], logits=lg),
        [X34],
    ),
    "SigmoidCrossEntropyWithLogits": (
        lambda lab, lg: tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=lg),
        [POS34 * 0.4, X34],
    ),
    "IdentityN": (lambda x: _cube_custom(x), [X34]),
}


def _max_pool_grad_grad(x, w, h):
    """MaxPoolGradGrad: the gradient of <MaxPoolGrad(x, w), h> with respect to w."""
    with tf.GradientTape() as t:
        t.watch(w)
        g = grad_of(lambda s: tf.nn.max_pool2d(s, 2, 2, "VALID"), x, w)
        y = tf.reduce_sum(g * h)
    return t.gradient(y, w) * x[:, :2, :2, :]


@tf.custom_gradient
def _cube_custom(x):
    """x**3 whose forward the accumulators cannot see: its JVP comes from the custom gradient."""
    y = tf.constant(x.numpy() ** 3)

    def grad(dy):
        return dy * 3.0 * x * x

    return y, grad


def _rules():
    """TF's name -> "explicit" (its own JVP rule) or "double_back" (the transposed VJP)."""
    return {r["tf_name"]: "explicit" if r["jvp"] else "double_back" for r in _core._op_registry() if r["vjp"]}


def test_every_differentiable_primitive_has_a_program():
    assert set(_rules()) == set(PROGRAMS)


@pytest.fixture
def double_back():
    _core._set_force_double_back(True)
    try:
        yield
    finally:
        _core._set_force_double_back(False)


def _jvp(f, args, us):
    with ForwardAccumulator(list(args), list(us)) as acc:
        y = f(*args)
    return acc.jvp(y, unconnected_gradients="zero"), acc._accumulator.ops_seen()


def _hvps(f, args, us):
    """H u of s = <f(x), w>, forward-over-reverse and reverse-over-reverse, flattened."""
    w = c(RNG.standard_normal(f(*args).shape))
    zero = tf.UnconnectedGradients.ZERO
    with ForwardAccumulator(list(args), list(us)) as acc:
        with tf.GradientTape() as t:
            t.watch(args)
            s = tf.reduce_sum(f(*args) * w)
        grads = t.gradient(s, list(args), unconnected_gradients=zero)
    fwd_rev = [acc.jvp(g, unconnected_gradients=zero).numpy().ravel() for g in grads]
    with tf.GradientTape() as outer:
        outer.watch(args)
        with tf.GradientTape() as inner:
            inner.watch(args)
            s = tf.reduce_sum(f(*args) * w)
        grads = inner.gradient(s, list(args), unconnected_gradients=zero)
        gu = tf.add_n([tf.reduce_sum(g * u) for g, u in zip(grads, us)])
    rev_rev = [h.numpy().ravel() for h in outer.gradient(gu, list(args), unconnected_gradients=zero)]
    return np.concatenate(fwd_rev), np.concatenate(rev_rev)


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_primitive_jvp(name):
    f, args, *opts = PROGRAMS[name]
    opts = {"rtol": 1e-4, "atol": 1e-5, **(opts[0] if opts else {})}
    # first and second order, forward and reverse, against finite differences and each other
    tf.testing.check_gradients(f, args, order=2, modes=("rev", "fwd"), **opts)
    args = [c(a) if not isinstance(a, tf.Tensor) else a for a in args]
    us = [c(RNG.standard_normal(a.shape)) for a in args]
    jvp, seen = _jvp(f, args, us)
    assert name in seen  # the program exercised the primitive's JVP
    np.testing.assert_allclose(*_hvps(f, args, us), rtol=1e-7, atol=1e-9)
    if _rules()[name] == "explicit":  # the explicit rule agrees with the transposed VJP
        _core._set_force_double_back(True)
        try:
            jvp_db, _ = _jvp(f, args, us)
        finally:
            _core._set_force_double_back(False)
        np.testing.assert_allclose(jvp.numpy(), jvp_db.numpy(), rtol=1e-10, atol=1e-12)


# ---- hypothesis: broadcasting binary and unary elementwise ops, JVP vs VJP (transpose identity)

_BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0),
    "maximum": lambda a, b: tf.maximum(a, b),
    "sqdiff": lambda a, b: tf.math.squared_difference(a, b),
    "matmul_like": lambda a, b: tf.reduce_sum(a * tf.tanh(b), axis=-1),
}


@settings(max_examples=15, deadline=None)
@given(
    shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
    op=st.sampled_from(sorted(_BINARY)),
    seed=st.integers(0, 2**16),
)
def test_binary_transpose_identity_hypothesis(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    f = _BINARY[op]
    tf.testing.check_gradients(f, [a, b], order=2, modes=("rev", "fwd"), seed=seed, rtol=1e-4, atol=1e-5)


_SHAPED = {  # op of one array and an axis in range, shape-generic
    "tanh": lambda x, ax: tf.tanh(x),
    "softplus": lambda x, ax: tf.nn.softplus(x),
    "sum": lambda x, ax: tf.reduce_sum(x * x, axis=ax),
    "mean_keepdims": lambda x, ax: tf.reduce_mean(tf.sin(x), axis=ax, keepdims=True),
    "max": lambda x, ax: tf.reduce_max(x, axis=ax),
    "softmax": lambda x, ax: tf.nn.softmax(x, axis=ax),
    "log_softmax": lambda x, ax: tf.nn.log_softmax(x, axis=ax),
    "cumsum": lambda x, ax: tf.cumsum(x * x, axis=ax, reverse=True),
    "transpose": lambda x, ax: tf.transpose(x * x),
    "concat": lambda x, ax: tf.concat([x, tf.exp(x)], axis=ax),
    "slice": lambda x, ax: tf.reverse(x, [ax])[..., ::2] * x[..., ::2],
    "matmul": lambda x, ax: tf.matmul(x[..., None], tf.sin(x)[..., None], transpose_b=True),
}


@settings(max_examples=20, deadline=None)
@given(
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4),
    op=st.sampled_from(sorted(_SHAPED)),
    data=st.data(),
)
def test_shaped_ops_hypothesis(shape, op, data):
    ax = data.draw(st.integers(-len(shape), len(shape) - 1))
    seed = data.draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).permutation(np.prod(shape)).reshape(shape) / np.prod(shape) - 0.5  # no ties
    f = _SHAPED[op]
    tf.testing.check_gradients(lambda t: f(t, ax), [x], order=2, modes=("rev", "fwd"), seed=seed, rtol=1e-4, atol=1e-5)


# ---- forward-over-reverse Hessian-vector products vs reverse-over-reverse


def _mlp_loss(w1, b1, w2, x, y):
    h = tf.tanh(tf.matmul(x, w1) + b1)
    logits = tf.matmul(h, w2)
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


def test_hvp_forward_over_reverse_matches_reverse_over_reverse():
    rng = np.random.default_rng(1)
    params = [c(rng.standard_normal(s) * 0.5) for s in [(4, 5), (5,), (5, 3)]]
    x, y = c(rng.standard_normal((6, 4))), tf.constant([0, 1, 2, 0, 1, 2])
    vs = [c(rng.standard_normal(p.shape)) for p in params]
    with ForwardAccumulator(params, vs) as acc:
        with tf.GradientTape() as t:
            t.watch(params)
            loss = _mlp_loss(*params, x, y)
        grads = t.gradient(loss, params)
    hvp_fwd = acc.jvp(grads)
    with tf.GradientTape() as outer:
        outer.watch(params)
        with tf.GradientTape() as inner:
            inner.watch(params)
            loss = _mlp_loss(*params, x, y)
        g = inner.gradient(loss, params)
        gv = tf.add_n([tf.reduce_sum(a * b) for a, b in zip(g, vs)])
    hvp_rev = outer.gradient(gv, params)
    for a, b in zip(hvp_fwd, hvp_rev):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)
    # reverse-over-forward: the gradient of the JVP
    with tf.GradientTape() as t:
        t.watch(params)
        with ForwardAccumulator(params, vs) as acc:
            loss = _mlp_loss(*params, x, y)
        jvp = acc.jvp(loss)
    for a, b in zip(t.gradient(jvp, params), hvp_rev):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-9, atol=1e-12)


# ---- TF's semantics (numbers from TF's docstring and runs of TF 2.21)


def test_nesting_higher_order_and_order_of_entry():
    x = tf.constant(1.1)
    with ForwardAccumulator(x, tf.constant(1.0)) as outer:
        with ForwardAccumulator(x, tf.constant(1.0)) as inner:
            y = x ** tf.constant(3.5)
    np.testing.assert_allclose(float(inner.jvp(y)), 3.5 * 1.1**2.5, rtol=1e-6)
    np.testing.assert_allclose(float(outer.jvp(inner.jvp(y))), 3.5 * 2.5 * 1.1**1.5, rtol=1e-6)
    assert inner.jvp(outer.jvp(y)) is None  # inner accumulators do not see outer JVP computations


def test_tapes_and_accumulators_nest_in_entry_order():
    x = tf.constant([1.0, 2.0, 3.0])
    with ForwardAccumulator(x, tf.ones(3)) as acc:
        with tf.GradientTape() as t:
            t.watch(x)
            y = tf.reduce_sum(x**3)
            j = acc.jvp(y)
    assert t.gradient(j, x) is None  # a tape inside the accumulator ignores its JVPs
    with tf.GradientTape() as t:
        t.watch(x)
        with ForwardAccumulator(x, tf.ones(3)) as acc:
            y = tf.reduce_sum(x**3)
        j = acc.jvp(y)
    np.testing.assert_allclose(t.gradient(j, x).numpy(), [6.0, 12.0, 18.0])


def test_variable_primal_hvp_docstring():
    v = tf.Variable([1.0, 2.0])
    with ForwardAccumulator(v, tf.constant([1.0, 0.0])) as acc:
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(v**3.0)
        backward = tape.gradient(y, v)
    np.testing.assert_allclose(backward.numpy(), [3.0, 12.0])
    np.testing.assert_allclose(acc.jvp(backward).numpy(), [6.0, 0.0])
    np.testing.assert_allclose(acc.jvp(v).numpy(), [1.0, 0.0])
    with ForwardAccumulator(v, tf.constant([1.0, 0.0])) as acc:
        v.assign([3.0, 4.0])  # the tangent belongs to the variable, not to one value
        y = v * 3.0
    np.testing.assert_allclose(acc.jvp(y).numpy(), [3.0, 0.0])


def test_unconnected_and_stop_gradient():
    x = tf.constant([1.0, 2.0, 3.0])
    acc = ForwardAccumulator(x, tf.ones(3))
    before = x * 2.0  # computed while not active: no JVP
    with acc:
        y = tf.stop_gradient(x * 2.0)
        i = tf.cast(x, "int32")
        z = x * 3.0
    assert acc.jvp(before) is None and acc.jvp(y) is None and acc.jvp(i) is None
    np.testing.assert_allclose(acc.jvp(y, unconnected_gradients="zero").numpy(), [0.0, 0.0, 0.0])
    assert acc.jvp(i, unconnected_gradients=tf.UnconnectedGradients.ZERO).dtype == tf.int32
    np.testing.assert_allclose(acc.jvp(z).numpy(), [3.0, 3.0, 3.0])  # jvp() works after exit
    out = acc.jvp({"a": x, "b": [z, tf.constant(1.0)]})
    assert out["b"][1] is None and out["a"].numpy().tolist() == [1.0, 1.0, 1.0]
    for f in (tf.floor, tf.sign, tf.round, tf.zeros_like, tf.ones_like):  # None, as TF
        with ForwardAccumulator(x, tf.ones(3)) as acc:
            y = f(x)
        assert acc.jvp(y) is None, f


def test_custom_gradient_under_accumulator():
    x = tf.constant([1.0, 2.0, 3.0])

    @tf.custom_gradient
    def visible(x):  # the forward is differentiable: TF keeps its JVP and ignores grad
        return x * 2.0, lambda dy: dy * 10.0

    @tf.custom_gradient
    def hidden(x):  # the forward is opaque: the JVP is the custom gradient's transpose
        return tf.constant(x.numpy() * 2.0), lambda dy: dy * 10.0

    with ForwardAccumulator(x, tf.ones(3)) as acc:
        a, b = visible(x), hidden(x)
    np.testing.assert_allclose(acc.jvp(a).numpy(), [2.0, 2.0, 2.0])
    np.testing.assert_allclose(acc.jvp(b).numpy(), [10.0, 10.0, 10.0])


def test_errors():
    x = tf.constant([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"Tensor conversion requested dtype float32 for Tensor with dtype int32"):
        ForwardAccumulator(x, tf.constant([1, 2, 3]))
    with pytest.raises(ValueError, match=r"requested dtype float32 for Tensor with dtype float64"):
        ForwardAccumulator(x, tf.constant([1.0, 2.0, 3.0], "float64"))
    with pytest.raises(ValueError, match=r"Shapes \(2,\) and \(3,\) are incompatible"):
        ForwardAccumulator(x, tf.constant([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"Shapes \(1, 3\) and \(3,\) are incompatible"):
        ForwardAccumulator(x, tf.ones([1, 3]))
    with pytest.raises(ValueError, match="was specified as a primal multiple times"):
        ForwardAccumulator([x, x], [x, x])
    with pytest.raises(ValueError, match="same nested structure"):
        ForwardAccumulator([x], x)
    acc = ForwardAccumulator(x, tf.ones(3))
    with acc:
        with pytest.raises(ValueError, match="Accumulator is already recording."):
            acc.__enter__()
    with pytest.raises(ValueError, match="'foo' is not a valid UnconnectedGradients"):
        acc.jvp(x, unconnected_gradients="foo")
    with pytest.warns(UserWarning, match="The dtype of the watched primal must be floating"):
        ForwardAccumulator(tf.constant([1, 2]), tf.constant([1, 2]))


def test_check_gradients_modes():
    tf.testing.check_gradients(lambda x: tf.sin(x) * x, [[0.5, 1.5]], modes=("rev", "fwd"))
    tf.testing.check_gradients(lambda x: tf.sin(x) * x, [[0.5, 1.5]], modes="fwd", order=3)
    with pytest.raises(ValueError, match="modes must be"):
        tf.testing.check_gradients(tf.sin, [[0.5]], modes=("bwd",))


def test_namespace():
    assert tf.autodiff.ForwardAccumulator is ForwardAccumulator
    assert tf.autodiff.GradientTape is tf.GradientTape


def test_tangents_of_deleted_tensors_are_dropped():
    x = tf.constant([1.0, 2.0])
    v = tf.Variable([1.0, 2.0])
    with ForwardAccumulator([x, v], [tf.ones(2), tf.ones(2)]) as acc:
        y = x
        for _ in range(3000):  # each step's temporaries die
            y = tf.sin(y) + 0.0 * v
            v.assign(v * 1.0)
    n = acc._accumulator.num_tangents()
    assert n < 6000, n  # bounded, though 12000 tangents were computed
    np.testing.assert_allclose(acc.jvp(v).numpy(), [1.0, 1.0])  # watched primals stay
    assert acc.jvp(x) is not None and acc.jvp(y) is not None


def test_keras_dense_jvps_are_gradient_columns():
    """TF's ForwardAccumulator docstring: JVPs along unit tangents are the gradient's entries."""
    x = tf.constant([[2.0, 3.0], [1.0, 4.0]])
    targets = tf.constant([[1.0], [-1.0]])
    dense = tf.keras.layers.Dense(1)
    dense.build([None, 2])

    def loss_fn():
        return tf.reduce_sum((dense(x) - targets) ** 2.0)

    kernel_fprop = []
    for t in ([[1.0], [0.0]], [[0.0], [1.0]]):
        with ForwardAccumulator(dense.kernel, tf.constant(t)) as acc:
            kernel_fprop.append(acc.jvp(loss_fn()))
    with ForwardAccumulator(dense.bias, tf.constant([1.0])) as acc:
        bias_fprop = acc.jvp(loss_fn())
    with tf.GradientTape() as tape:
        loss = loss_fn()
    kernel_grad, bias_grad = tape.gradient(loss, (dense.kernel, dense.bias))
    np.testing.assert_allclose(kernel_grad.numpy()[:, 0], [float(k) for k in kernel_fprop], rtol=1e-5)
    np.testing.assert_allclose(bias_grad.numpy(), [float(bias_fprop)], rtol=1e-5)


def test_recompute_grad_under_accumulator():
    """TF raises NotImplementedError here ("recompute_grad tried to transpose grad of ..."); tapegrad
    computes the JVP through the function's own ops, and the HVP through its recomputed backward."""
    x = c([1.0, 2.0])
    f = tf.recompute_grad(lambda t: tf.sin(t) * t)
    with ForwardAccumulator(x, tf.ones_like(x)) as acc:
        y = f(x)
        with tf.GradientTape() as t:
            t.watch(x)
            s = tf.reduce_sum(f(x))
        g = t.gradient(s, x)
    xs = np.array([1.0, 2.0])
    np.testing.assert_allclose(acc.jvp(y).numpy(), np.cos(xs) * xs + np.sin(xs))
    np.testing.assert_allclose(acc.jvp(g).numpy(), 2 * np.cos(xs) - xs * np.sin(xs))
