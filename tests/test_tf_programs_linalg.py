"""The porting claim for einsum, tensordot, matvec, trace, conv and pooling: small TF programs run
twice, with `tensorflow` and with `tapegrad` as the module, and every result compared (float32
within 2e-4 relative, float64 within 1e-9). Skips cleanly without TensorFlow."""

import os

import numpy as np
import pytest

import tapegrad

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
tf = pytest.importorskip("tensorflow")


def data(shape, seed, dtype="float32"):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def prog_einsum_attention(m):
    q = m.constant(data((2, 2, 5, 4), 0))
    k = m.constant(data((2, 2, 6, 4), 1))
    v = m.Variable(data((2, 2, 6, 3), 2))
    with m.GradientTape() as tape:
        tape.watch([q, k])
        s = m.einsum("bhqd,bhkd->bhqk", q, k) / 2.0
        p = m.exp(s) / m.reduce_sum(m.exp(s), axis=-1, keepdims=True)
        o = m.einsum("bhqk,bhkd->bqhd", p, v)
        loss = m.reduce_sum(o * o)
    gq, gk, gv = tape.gradient(loss, [q, k, v])
    return [s, o, loss, gq, gk, gv]


def prog_einsum_specs(m):
    a = m.constant(data((3, 3), 3, "float64"))
    b = m.constant(data((2, 3, 4), 4, "float64"))
    c = m.constant(data((4,), 5, "float64"))
    b0 = m.constant(data((3, 4), 24, "float64"))
    with m.GradientTape(persistent=True) as tape:
        tape.watch([a, b, c, b0])
        outs = [
            m.einsum("ii->", a),
            m.einsum("ii->i", a),
            m.einsum("ij->ji", a),
            m.einsum("i,j->ij", c, c),
            m.einsum("...jk,k->...j", b, c),
            m.einsum("ij,bjk->bik", a, b),
            m.einsum("bij->", b),
            m.einsum("ij,jk,k->i", a, b0, c),
        ]
        total = sum(m.reduce_sum(o * o) for o in outs)
    return outs + tape.gradient(total, [a, b, c, b0])


def prog_tensordot_matvec_trace(m):
    a = m.Variable(data((2, 3, 4), 6, "float64"))
    b = m.Variable(data((4, 3, 5), 7, "float64"))
    mat = m.Variable(data((2, 4, 4), 8, "float64"))
    vec = m.constant(data((4,), 9, "float64"))
    with m.GradientTape() as tape:
        t1 = m.tensordot(a, b, axes=[[1, 2], [1, 0]])
        t2 = m.tensordot(a, b, axes=1)
        mv = m.linalg.matvec(mat, vec)
        mvt = m.linalg.matvec(mat, vec, transpose_a=True)
        tr = m.linalg.trace(mat)
        dp = m.linalg.diag_part(mat)
        loss = (
            m.reduce_sum(t1**2)
            + m.reduce_sum(t2)
            + m.reduce_sum(mv * mvt)
            + m.reduce_sum(tr * tr)
            + m.reduce_sum(dp**3)
        )
    return [t1, t2, mv, mvt, tr, dp, loss] + tape.gradient(loss, [a, b, mat])


def prog_matrix_functions(m):
    rng = np.random.default_rng(30)
    a = m.Variable(rng.standard_normal((2, 4, 4)) + 3 * np.eye(4))
    b = m.constant(rng.standard_normal((2, 4, 3)))
    v = m.constant(rng.standard_normal((3,)))
    with m.GradientTape() as tape:
        ai = m.linalg.inv(a)
        d = m.linalg.det(a)
        x = m.linalg.solve(a, b)
        xt = m.linalg.solve(a, b, adjoint=True)
        bp = m.linalg.band_part(a, 1, 0)
        dg = m.linalg.diag(v)
        at = m.linalg.matrix_transpose(a)
        e = m.eye(3, 4, batch_shape=[2], dtype=m.float64)
        spd = m.matmul(a, a, transpose_b=True)
        ch = m.linalg.cholesky(spd)
        ts = m.linalg.triangular_solve(ch, b, lower=True)
        tsu = m.linalg.triangular_solve(m.linalg.matrix_transpose(ch), b, lower=False, adjoint=True)
        sg, la = m.linalg.slogdet(a)
        ld = m.linalg.logdet(spd)
        loss = (
            m.reduce_sum(ai * ai)
            + m.reduce_sum(d)
            + m.reduce_sum(x * xt)
            + m.reduce_sum(bp * at)
            + m.reduce_sum(dg)
            + m.reduce_sum(e)
            + m.reduce_sum(ch * ch)
            + m.reduce_sum(ts * tsu)
            + m.reduce_sum(la * sg)
            + m.reduce_sum(ld)
        )
    return [ai, d, x, xt, bp, dg, at, e, ch, ts, tsu, sg, la, ld, loss, tape.gradient(loss, a)]


def prog_solvers_and_small_helpers(m):
    rng = np.random.default_rng(41)
    a = m.Variable(rng.standard_normal((5, 3)))
    rhs = m.constant(rng.standard_normal((5, 2)))
    u = m.Variable(rng.standard_normal((4, 3)))
    v = m.constant(rng.standard_normal((4, 3)))
    x = m.Variable(rng.standard_normal((2, 3, 3)))
    d = m.constant(rng.standard_normal((2, 3)))
    with m.GradientTape() as tape:
        ls = m.linalg.lstsq(a, rhs, l2_regularizer=0.1)
        ls0 = m.linalg.lstsq(a, rhs)
        gram = m.matmul(a, a, transpose_a=True) + m.eye(3, dtype=m.float64)
        cs = m.linalg.cholesky_solve(m.linalg.cholesky(gram), ls)
        cr = m.linalg.cross(u, v)
        sd = m.linalg.set_diag(x, d)
        loss = m.reduce_sum(ls**2) + m.reduce_sum(ls0) + m.reduce_sum(cs) + m.reduce_sum(cr * cr) + m.reduce_sum(sd**3)
    return [ls, ls0, cs, cr, sd, loss] + tape.gradient(loss, [a, u, x])


def prog_qr(m):
    rng = np.random.default_rng(42)
    a = m.Variable(rng.standard_normal((2, 5, 3)))
    w = m.constant(rng.standard_normal((2, 5, 3)))
    with m.GradientTape() as tape:
        q, r = m.linalg.qr(a)
        qf, rf = m.linalg.qr(a, full_matrices=True)
        loss = m.reduce_sum(q * w) + m.reduce_sum(r**2)
    return [q, r, qf, rf, loss, tape.gradient(loss, a)]


def prog_svd(m):
    rng = np.random.default_rng(43)
    a = m.Variable(rng.standard_normal((2, 5, 3)))
    b = m.Variable(rng.standard_normal((3, 4)))
    wu, wv = m.constant(rng.standard_normal((2, 5, 3))), m.constant(rng.standard_normal((2, 3, 3)))
    with m.GradientTape() as tape:
        s, u, v = m.linalg.svd(a)
        sb = m.linalg.svd(b, compute_uv=False)
        loss = m.reduce_sum(s**3) + m.reduce_sum(u * u * wu) + m.reduce_sum(v * v * wv) + m.reduce_sum(sb)
    return [s, u * u, v * v, sb, loss] + tape.gradient(loss, [a, b])


def prog_eigh(m):
    rng = np.random.default_rng(40)
    r = rng.standard_normal((2, 4, 4))
    x = m.Variable(r + np.swapaxes(r, -1, -2))
    w = m.constant(rng.standard_normal((2, 4, 4)))
    with m.GradientTape() as tape:
        e, v = m.linalg.eigh(x)
        ev = m.linalg.eigvalsh(x)
        loss = m.reduce_sum(e * e) + m.reduce_sum(v * v * w) + m.reduce_sum(ev)  # eigenvector sign-invariant
    return [e, ev, v * v, loss, tape.gradient(loss, x)]


def prog_small_cnn(m):
    x = m.constant(data((4, 12, 12, 3), 10))
    w1 = m.Variable(data((3, 3, 3, 8), 11) * 0.3)
    b1 = m.Variable(np.zeros(8, "float32"))
    w2 = m.Variable(data((3, 3, 8, 6), 12) * 0.2)
    wd = m.Variable(data((3 * 3 * 6, 5), 13) * 0.1)
    labels = m.constant(data((4, 5), 14))
    with m.GradientTape() as tape:
        h = m.nn.relu(m.nn.conv2d(x, w1, strides=1, padding="SAME") + b1)
        h = m.nn.max_pool2d(h, ksize=2, strides=2, padding="VALID")
        h = m.nn.relu(m.nn.conv2d(h, w2, strides=[1, 2, 2, 1], padding="SAME"))
        h = m.nn.avg_pool2d(h, ksize=3, strides=1, padding="SAME")
        logits = m.matmul(m.reshape(h, [4, -1]), wd)
        loss = m.reduce_mean((logits - labels) ** 2)
    grads = tape.gradient(loss, [w1, b1, w2, wd])
    return [h, logits, loss] + grads


def prog_conv_variants(m):
    x = m.constant(data((2, 9, 8, 2), 15, "float64"))
    w = m.constant(data((3, 2, 2, 3), 16, "float64"))
    out = []
    with m.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        for strides, padding in [(1, "VALID"), (2, "SAME"), ([3, 2], "VALID"), (1, [[0, 0], [1, 0], [2, 1], [0, 0]])]:
            out.append(m.nn.conv2d(x, w, strides=strides, padding=padding))
        total = sum(m.reduce_sum(o * m.sin(o)) for o in out)
    grads = tape.gradient(total, [x, w])
    # TF's CPU kernels have no gradient for dilations > 1: compare the forward only
    dilated = [m.nn.conv2d(x, w, strides=1, padding=p, dilations=d) for p, d in [("SAME", 2), ("VALID", [2, 3])]]
    return out + grads + dilated


def prog_depthwise_separable_grouped(m):
    x = m.constant(data((2, 7, 6, 4), 26))
    dw = m.Variable(data((3, 3, 4, 2), 27) * 0.5)
    pw = m.Variable(data((1, 1, 8, 3), 28) * 0.5)
    gw = m.Variable(data((3, 3, 2, 6), 29) * 0.5)  # 2 groups
    with m.GradientTape() as tape:
        tape.watch(x)
        y1 = m.nn.depthwise_conv2d(x, dw, strides=[1, 1, 1, 1], padding="SAME")
        y2 = m.nn.separable_conv2d(x, dw, pw, strides=[1, 2, 2, 1], padding="VALID")
        y3 = m.nn.conv2d(x, gw, strides=1, padding="SAME")
        loss = m.reduce_sum(y1**2) + m.reduce_sum(m.tanh(y2)) + m.reduce_sum(y3 * y3)
    return [y1, y2, y3, loss] + tape.gradient(loss, [x, dw, pw, gw])


def prog_conv1d_and_transpose(m):
    x = m.constant(data((2, 10, 3), 17))
    w = m.constant(data((4, 3, 5), 18))
    g = m.constant(data((2, 3, 3, 4), 19))
    wt = m.constant(data((3, 3, 2, 4), 20))
    with m.GradientTape(persistent=True) as tape:
        tape.watch([x, w, g, wt])
        y1 = m.nn.conv1d(x, w, stride=2, padding="SAME")
        y2 = m.nn.conv1d(x, w, stride=1, padding="VALID", dilations=2)
        y3 = m.nn.conv2d_transpose(g, wt, output_shape=[2, 6, 6, 2], strides=2, padding="SAME")
        loss = m.reduce_sum(y1**2) + m.reduce_sum(y2) + m.reduce_sum(y3**2)
    return [y1, y2, y3] + tape.gradient(loss, [x, w, g, wt])


def prog_generic_conv_and_pool(m):
    x = m.constant(data((2, 8, 3), 31))
    w = m.constant(data((3, 3, 4), 32))
    x4 = m.constant(data((1, 7, 7, 2), 33))
    w4 = m.constant(data((3, 3, 2, 3), 34))
    gt = m.constant(data((2, 4, 4), 35))
    wt = m.constant(data((3, 2, 4), 36))
    with m.GradientTape(persistent=True) as tape:
        tape.watch([x, w, x4, w4, gt, wt])
        ys = [
            m.nn.convolution(x, w, padding="SAME"),
            m.nn.convolution(x4, w4, strides=2, padding="VALID"),
            m.nn.atrous_conv2d(x4, w4, rate=2, padding="SAME"),
            m.nn.conv1d_transpose(gt, wt, output_shape=[2, 8, 2], strides=2, padding="SAME"),
            m.nn.pool(x4, [2, 2], "MAX", strides=[2, 2], padding="SAME"),
            m.nn.pool(x, [3], "AVG", padding="VALID"),
        ]
        loss = sum(m.reduce_sum(y * y) for y in ys[:2] + ys[3:])  # TF has no CPU gradient for dilations > 1
    return ys + tape.gradient(loss, [x, w, x4, w4, gt, wt])


def prog_pools(m):
    x = m.constant(data((2, 7, 6, 3), 21, "float64"))
    x1 = m.constant(data((7, 6, 3), 25, "float64"))
    outs = []
    with m.GradientTape(persistent=True) as tape:
        tape.watch([x, x1])
        for fn in (m.nn.max_pool2d, m.nn.avg_pool2d):
            for k, s, p in [(2, 2, "VALID"), (3, 2, "SAME"), ([2, 3], [1, 2], "SAME"), (3, 1, "VALID")]:
                outs.append(fn(x, ksize=k, strides=s, padding=p))
        outs.append(m.nn.max_pool1d(x1, ksize=2, strides=2, padding="SAME"))
        outs.append(m.nn.avg_pool(x, ksize=2, strides=2, padding="VALID"))
        total = sum(m.reduce_sum(o * o) for o in outs)
    return outs + tape.gradient(total, [x, x1])


def prog_second_derivatives(m):
    x = m.constant(data((1, 5, 5, 2), 22, "float64"))
    w = m.constant(data((3, 3, 2, 2), 23, "float64"))
    with m.GradientTape(persistent=True) as outer:
        outer.watch([x, w])
        with m.GradientTape() as inner:
            inner.watch([x, w])
            y = m.nn.conv2d(x, w, 1, "SAME")
            y = m.nn.max_pool2d(y * y, 2, 1, "VALID") + m.nn.avg_pool2d(y, 2, 1, "VALID")
            loss = m.reduce_sum(y * m.sin(y))
        gx, gw = inner.gradient(loss, [x, w])
        s = m.reduce_sum(gx * gx) + m.reduce_sum(gw * m.cos(gw))
    return [gx, gw] + outer.gradient(s, [x, w])


def prog_dropout_shapes(m):
    # random values differ by design (see tg.random); shapes, dtypes and the kept-value scale match
    m.random.set_seed(3)
    x = m.ones([50, 40])
    y = m.nn.dropout(x, rate=0.25, seed=1)
    kept = y.numpy()[y.numpy() != 0]
    u = m.random.uniform([3, 2], minval=2, maxval=7, dtype=m.int64)
    return [np.unique(kept), m.shape(m.random.normal([2, 5])), u.dtype.name, np.all((u.numpy() >= 2) & (u.numpy() < 7))]


PROGRAMS = [
    prog_einsum_attention,
    prog_einsum_specs,
    prog_tensordot_matvec_trace,
    prog_matrix_functions,
    prog_solvers_and_small_helpers,
    prog_qr,
    prog_svd,
    prog_eigh,
    prog_small_cnn,
    prog_conv_variants,
    prog_depthwise_separable_grouped,
    prog_conv1d_and_transpose,
    prog_generic_conv_and_pool,
    prog_pools,
    prog_second_derivatives,
    prog_dropout_shapes,
]


def _np(v):
    if isinstance(v, (str, bool, np.bool_)):
        return v
    return np.asarray(v.numpy() if hasattr(v, "numpy") else v)


@pytest.mark.parametrize("prog", PROGRAMS, ids=lambda p: p.__name__)
def test_program_matches_tensorflow(prog):
    expected = prog(tf)
    got = prog(tapegrad)
    assert len(expected) == len(got)
    for i, (e, g) in enumerate(zip(expected, got)):
        e, g = _np(e), _np(g)
        if isinstance(e, (str, bool, np.bool_)):
            assert e == g, f"result {i}"
            continue
        assert e.shape == g.shape, f"result {i}: shape {g.shape} != TF's {e.shape}"
        assert e.dtype == g.dtype, f"result {i}: dtype {g.dtype} != TF's {e.dtype}"
        if e.dtype == np.float32:
            scale = max(np.abs(e).max(initial=0.0), 1e-3)
            np.testing.assert_allclose(g, e, rtol=2e-4, atol=2e-4 * scale, err_msg=f"result {i}")
        elif e.dtype == np.float64:
            scale = max(np.abs(e).max(initial=0.0), 1e-6)
            np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9 * scale, err_msg=f"result {i}")
        else:
            np.testing.assert_array_equal(g, e, err_msg=f"result {i}")
