"""Small TF-2 programs in the shape/indexing/tape-feature area, run with `tensorflow` and with
`tapegrad` (the same source, only the module differs); every result is compared."""

import numpy as np
import pytest

tf_real = pytest.importorskip("tensorflow")
import tapegrad  # noqa: E402

RNG = np.random.default_rng(7)
EMB = RNG.standard_normal((6, 4)).astype(np.float32)
X = RNG.standard_normal((3, 5)).astype(np.float32)
W = RNG.standard_normal((5, 2)).astype(np.float32)
X64 = RNG.standard_normal((4, 3))


def as_np(v):
    if v is None:
        return None
    if hasattr(v, "values") and hasattr(v, "indices") and hasattr(v, "dense_shape"):  # TF IndexedSlices
        v = tf_real.convert_to_tensor(v)
    return np.asarray(v)


def program_embedding(tf):
    emb = tf.Variable(EMB)
    ids = tf.constant([[0, 3], [3, 5]])
    with tf.GradientTape() as tape:
        vecs = tf.gather(emb, ids)  # [2, 2, 4]
        pooled = tf.reduce_mean(vecs, axis=1)
        loss = tf.reduce_sum(tf.square(pooled))
    g = tape.gradient(loss, emb)
    return {"vecs": vecs, "loss": loss, "grad": tf.convert_to_tensor(g)}


def program_slicing(tf):
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        a = x[..., 1:, ::-1]
        b = x[:, tf.newaxis, 2]
        c = x[-1, -3:-1]
        rows = tf.unstack(x)
        s = tf.stack([rows[0], rows[2]], axis=1)
        parts = tf.split(x, [2, -1], axis=1)
        t = tf.tile(parts[0], [2, 3])
        p = tf.pad(parts[1], [[1, 0], [0, 2]], constant_values=0.5)
        r = tf.pad(x, [[1, 1], [2, 2]], mode="REFLECT")
        e = tf.squeeze(tf.expand_dims(c, 0))
        cat = tf.concat([tf.reverse(a, [0]), tf.reshape(b, [3, 1])[1:]], axis=-1)
        loss = (
            tf.reduce_sum(a * a)
            + tf.reduce_sum(b)
            + tf.reduce_sum(s**3)
            + tf.reduce_sum(t * p[0, 0])
            + tf.reduce_sum(r**2)
            + tf.reduce_sum(e)
            + tf.reduce_sum(tf.sin(cat))
        )
    return {
        "a": a,
        "b": b,
        "c": c,
        "s": s,
        "t": t,
        "p": p,
        "r": r,
        "cat": cat,
        "loss": loss,
        "grad": tape.gradient(loss, x),
    }


def program_masks(tf):
    x = tf.constant(X)
    labels = tf.constant([1, 0, 4])
    with tf.GradientTape() as tape:
        tape.watch(x)
        oh = tf.one_hot(labels, 5)
        picked = tf.reduce_sum(x * oh, axis=1)
        pos = tf.boolean_mask(x, x > 0)
        rows = tf.boolean_mask(x, [True, False, True])
        w = tf.where(x > 0, x, tf.zeros_like(x) - 1.0)
        loss = tf.reduce_sum(picked**2) + tf.reduce_sum(pos) + tf.reduce_sum(rows * rows) + tf.reduce_sum(w * x)
    return {
        "oh": oh,
        "oh_axis0": tf.one_hot(labels, 5, on_value=2.0, off_value=-1.0, axis=0),
        "pos": pos,
        "rows": rows,
        "idx": tf.where(x > 0),
        "loss": loss,
        "grad": tape.gradient(loss, x),
    }


def program_nd(tf):
    x = tf.constant(X64)
    u = tf.constant([1.0, 2.0, 3.0], dtype=tf.float64)
    idx = tf.constant([[0, 1], [3, 2], [0, 1]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, u])
        g = tf.gather_nd(x, idx)
        s = tf.scatter_nd(idx, u * u, [4, 3])
        a = tf.tensor_scatter_nd_add(x, idx, u)
        up = tf.tensor_scatter_nd_update(x * 2.0, idx[:2], u[:2] ** 2)
        gb = tf.gather(tf.reshape(x, [2, 2, 3]), [[1, 0, 1], [2, 2, 0]], axis=2, batch_dims=1)
        loss = (
            tf.reduce_sum(g * g)
            + tf.reduce_sum(s * x)
            + tf.reduce_sum(a**2)
            + tf.reduce_sum(up**3)
            + tf.reduce_sum(gb * gb)
        )
    gx, gu = tape.gradient(loss, [x, u])
    return {"g": g, "s": s, "a": a, "up": up, "gb": gb, "loss": loss, "gx": gx, "gu": gu}


def program_jacobians(tf):
    w = tf.Variable(W)
    x = tf.constant(X)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.tanh(tf.matmul(x, w))
        z = tf.reduce_sum(y * y, axis=1)
    return {
        "jw": tape.jacobian(y, w),
        "jx": tape.jacobian(z, x),
        "bj": tape.batch_jacobian(y, x),
        "jlist": tape.jacobian(z, [x, w])[1],
    }


def program_hessian(tf):
    x = tf.Variable(X64[0])
    with tf.GradientTape() as t2:
        with tf.GradientTape() as t1:
            y = tf.reduce_sum(tf.sin(x) * x[0] + x * x * x)
        g = t1.gradient(y, x)
    return {"g": g, "h": t2.jacobian(g, x)}


def program_custom_gradient(tf):
    @tf.custom_gradient
    def log1pexp(x):
        e = tf.exp(x)

        def grad(upstream):
            return upstream * (1 - 1 / (1 + e))

        return tf.math.log(1 + e), grad

    @tf.custom_gradient
    def clip_gradients(y):
        def backward(dy):
            norm = tf.sqrt(tf.reduce_sum(dy * dy))
            return dy * tf.minimum(0.5 / norm, 1.0)

        return y, backward

    w = tf.Variable(1.5)

    @tf.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * w * 3.0, [tf.reduce_sum(dy * x) * 2.0]

        return x * w, grad

    x = tf.constant([0.5, 100.0, -3.0])
    v = tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = log1pexp(x)
        b = clip_gradients(v * v)
        c = scaled(x)
        loss = tf.reduce_sum(a) + tf.reduce_sum(c * c)
    gx, gw = tape.gradient(loss, [x, w])
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.reduce_sum(log1pexp(x))
        gi = inner.gradient(y, x)
    return {"a": a, "gb": tape.gradient(b, v), "gx": gx, "gw": gw, "gi": gi, "h": outer.gradient(gi, x)}


def program_iterate(tf):
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = tf.constant(0.0)
        for row in x:
            total = total + tf.reduce_max(row) * row[0]
    return {"total": total, "grad": tape.gradient(total, x)}


def program_misc(tf):
    x = tf.constant(X)
    ids = tf.constant([1, 0, 1])
    with tf.GradientTape() as tape:
        tape.watch(x)
        rep = tf.repeat(x, [1, 0, 2], axis=0)
        rol = tf.roll(x, shift=[2, -1], axis=[1, 0])
        seg = tf.math.unsorted_segment_sum(x * x, ids, 3)
        ssum = tf.math.segment_sum(x, [0, 0, 2])
        sl = tf.slice(x, [1, 1], [-1, 3])
        ss = tf.strided_slice(x, [0, 4], [3, 0], [2, -2])
        loss = (
            tf.reduce_sum(rep * rep)
            + tf.reduce_sum(rol * x)
            + tf.reduce_sum(seg)
            + tf.reduce_sum(ssum**2)
            + tf.reduce_sum(sl)
            + tf.reduce_sum(ss * ss)
        )
    gx, gy = tf.meshgrid(tf.constant([1.0, 2.0, 3.0]), tf.constant([5.0, 6.0]))
    ii, jj = tf.meshgrid(tf.range(2), tf.range(3), indexing="ij")
    uy, ui = tf.unique(tf.constant([4, 1, 4, 7, 1]))
    sub = tf.tensor_scatter_nd_sub(x, [[0, 1], [2, 2]], [1.0, 2.0])
    smean = tf.math.unsorted_segment_mean(x, [2, 0, 2], 4)
    mask = tf.sequence_mask([1, 3, 0], 4)
    return {
        "rep": rep,
        "rol": rol,
        "seg": seg,
        "ssum": ssum,
        "sl": sl,
        "ss": ss,
        "mask": mask,
        "mask_f": tf.sequence_mask([2, 1], dtype=tf.float32),
        "loss": loss,
        "grad": tape.gradient(loss, x),
        "rev": tf.reverse(x, [-1]),
        "where": tf.where([[True, False], [True, True]]),
        "gx": gx,
        "gy": gy,
        "ii": ii,
        "jj": jj,
        "uy": uy,
        "ui": ui,
        "sub": sub,
        "smean": smean,
        "segmean": tf.math.segment_mean(x, [0, 1, 1]),
    }


def program_variable_slices(tf):
    v = tf.Variable(X)
    v[1:, ::2].assign(tf.ones([2, 3]) * 5.0)
    v[0].assign(v[0] + tf.range(5, dtype=tf.float32))
    v[..., -1].assign([1.0, 2.0, 3.0])
    v.scatter_nd_update([[0, 0], [2, 3]], [7.0, 8.0])
    v.scatter_nd_add([[1, 1]], [0.5])
    v.scatter_nd_sub([[1, 1]], [2.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(v[1] * v[:, 2][0]) + tf.reduce_sum(v[tf.constant(2), 1:3])
    return {"v": tf.convert_to_tensor(v), "y": y, "g": tape.gradient(y, v)}


PROGRAMS = [
    program_variable_slices,
    program_misc,
    program_embedding,
    program_slicing,
    program_masks,
    program_nd,
    program_jacobians,
    program_hessian,
    program_custom_gradient,
    program_iterate,
]


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.__name__)
def test_program_matches_tensorflow(program):
    want = program(tf_real)
    got = program(tapegrad)
    assert set(want) == set(got)
    for k in want:
        w, g = as_np(want[k]), as_np(got[k])
        assert (w is None) == (g is None), k
        if w is None:
            continue
        assert w.shape == g.shape, (k, w.shape, g.shape)
        assert w.dtype == g.dtype, (k, w.dtype, g.dtype)
        if w.dtype == np.float64:
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=k)
        elif w.dtype == np.float32:
            np.testing.assert_allclose(g, w, rtol=2e-4, atol=1e-5, err_msg=k)
        else:
            np.testing.assert_array_equal(g, w, err_msg=k)
