"""Recurrent and attention layers (keras/layers/rnn.py, attention.py).

Checked against numpy transcriptions of the cell equations and of Keras's masked time loop, against
finite differences in float64, and (when installed) against real Keras 3 with the same weights:
outputs, states, masks, go_backwards, Bidirectional merge modes, MultiHeadAttention with masks, and
gradients of a loss w.r.t. the inputs and every weight.
"""

import numpy as np
import pytest

import tapegrad as tg

L = tg.keras.layers
RNG = np.random.default_rng(7)


# ---- numpy transcriptions ------------------------------------------------------------------------


def _sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def _np_step(kind, x, states, w, units, reset_after=True):
    K, R = w[0], w[1]
    b = w[2] if len(w) > 2 else None
    if kind == "simple":
        h = x @ K + states[0] @ R + (0 if b is None else b)
        h = np.tanh(h)
        return h, [h]
    if kind == "lstm":
        h, c = states
        z = x @ K + h @ R + (0 if b is None else b)
        i, f, g, o = np.split(z, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        h = _sig(o) * np.tanh(c)
        return h, [h, c]
    h = states[0]
    if reset_after:
        bi, br = (b[0], b[1]) if b is not None else (0, 0)
        xz, xr, xh = np.split(x @ K + bi, 3, axis=1)
        iz, ir, ih = np.split(h @ R + br, 3, axis=1)
        z, r = _sig(xz + iz), _sig(xr + ir)
        hh = np.tanh(xh + r * ih)
    else:
        xz, xr, xh = np.split(x @ K + (0 if b is None else b), 3, axis=1)
        iz, ir = np.split(h @ R[:, : 2 * units], 2, axis=1)
        z, r = _sig(xz + iz), _sig(xr + ir)
        hh = np.tanh(xh + (r * h) @ R[:, 2 * units :])
    h = z * h + (1 - z) * hh
    return h, [h]


def np_rnn(kind, x, w, units, mask=None, go_backwards=False, zero_output=False, init=None, reset_after=True):
    """Keras's TF-backend loop: (sequence in processing order, last output, final states)."""
    B, T, _ = x.shape
    n_states = 2 if kind == "lstm" else 1
    states = [np.zeros((B, units))] * n_states if init is None else list(init)
    prev = np.zeros((B, units))
    outs = []
    for t in range(T - 1, -1, -1) if go_backwards else range(T):
        o, new = _np_step(kind, x[:, t], states, w, units, reset_after)
        if mask is not None:
            m = mask[:, t][:, None]
            o = np.where(m, o, 0.0 if zero_output else prev)
            new = [np.where(m, n, s) for n, s in zip(new, states)]
            prev = o
        states = new
        outs.append(o)
    return np.stack(outs, 1), outs[-1], states


def _weights(kind, in_dim, units, use_bias=True, reset_after=True, dtype=np.float32):
    g = {"simple": 1, "lstm": 4, "gru": 3}[kind]
    w = [RNG.normal(size=(in_dim, g * units)) * 0.5, RNG.normal(size=(units, g * units)) * 0.5]
    if use_bias:
        shape = (2, g * units) if (kind == "gru" and reset_after) else (g * units,)
        w.append(RNG.normal(size=shape) * 0.3)
    return [a.astype(dtype) for a in w]


CELLS = {"simple": L.SimpleRNNCell, "lstm": L.LSTMCell, "gru": L.GRUCell}
LAYERS = {"simple": L.SimpleRNN, "lstm": L.LSTM, "gru": L.GRU}
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 1]], bool)


RNN_OPTS = [
    {},
    {"mask": True},
    {"mask": True, "go_backwards": True},
    {"mask": True, "zero_output_for_mask": True},
    {"go_backwards": True, "use_bias": False},
]


@pytest.mark.parametrize(
    "kind,opts",
    [(k, o) for k in ("simple", "lstm", "gru") for o in RNN_OPTS]
    + [
        ("gru", {"reset_after": False, "mask": True}),
        ("gru", {"reset_after": False, "use_bias": False, "go_backwards": True}),
    ],
)
def test_rnn_matches_numpy(kind, opts):
    opts = dict(opts)
    use_mask = opts.pop("mask", False)
    use_bias = opts.pop("use_bias", True)
    reset_after = opts.pop("reset_after", True)
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    cell_kw = {"use_bias": use_bias} | ({"reset_after": reset_after} if kind == "gru" else {})
    layer = L.RNN(CELLS[kind](3, **cell_kw), return_sequences=True, return_state=True, **opts)
    mask = MASK if use_mask else None
    layer(x, mask=mask)
    w = _weights(kind, 4, 3, use_bias, reset_after)
    layer.set_weights(w)
    seq, *states = layer(x, mask=mask)
    want_seq, want_last, want_states = np_rnn(
        kind,
        x.astype(np.float64),
        w,
        3,
        mask,
        opts.get("go_backwards", False),
        opts.get("zero_output_for_mask", False),
        reset_after=reset_after,
    )
    np.testing.assert_allclose(seq.numpy(), want_seq, rtol=1e-5, atol=1e-5)
    for s, ws in zip(states, want_states):
        np.testing.assert_allclose(s.numpy(), ws, rtol=1e-5, atol=1e-5)
    # the layer class with return_sequences=False gives the last output
    single = LAYERS[kind](3, **cell_kw, **opts)
    single(x)
    single.set_weights(w)
    np.testing.assert_allclose(single(x, mask=mask).numpy(), want_last, rtol=1e-5, atol=1e-5)
    assert seq.dtype == tg.float32


def test_weight_layouts_and_initial_values():
    lstm = L.LSTM(3)
    lstm(np.zeros((2, 4, 5), np.float32))
    k, rk, b = lstm.get_weights()
    assert (k.shape, rk.shape, b.shape) == ((5, 12), (3, 12), (12,))
    np.testing.assert_array_equal(b, [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0])  # unit_forget_bias
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)  # orthogonal rows
    assert [v.name for v in lstm.weights] == ["kernel", "recurrent_kernel", "bias"]
    gru = L.GRU(4)
    gru(np.zeros((2, 3, 2), np.float32))
    assert [w.shape for w in gru.get_weights()] == [(2, 12), (4, 12), (2, 12)]
    gru2 = L.GRU(4, reset_after=False, use_bias=True)
    gru2(np.zeros((2, 3, 2), np.float32))
    assert gru2.get_weights()[2].shape == (12,)
    assert L.LSTM(3, unit_forget_bias=False, bias_initializer="ones").cell.unit_forget_bias is False
    assert lstm.units == 3 and lstm.recurrent_activation is tg.keras.activations.sigmoid


def test_initial_state_and_stateful():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    h0, c0 = RNG.normal(size=(2, 5)).astype(np.float32), RNG.normal(size=(2, 5)).astype(np.float32)
    layer = L.LSTM(5, return_state=True)
    layer(x)
    w = _weights("lstm", 3, 5)
    layer.set_weights(w)
    out, h, c = layer(x, initial_state=[h0, c0])
    _, want_last, (wh, wc) = np_rnn("lstm", x.astype(np.float64), w, 5, init=[h0, c0])
    np.testing.assert_allclose(out.numpy(), want_last, atol=1e-5)
    np.testing.assert_allclose(c.numpy(), wc, atol=1e-5)
    # stateful: the second call starts from the first call's final states; reset_state zeroes them
    st = L.LSTM(5, stateful=True)
    st(x)
    st.set_weights(w)
    st.reset_state()
    st(x[:, :2])
    second = st(x[:, 2:]).numpy()
    np.testing.assert_allclose(second, np_rnn("lstm", x.astype(np.float64), w, 5)[1], atol=1e-5)
    assert len(st.weights) == 3  # the state variables are not weights
    st.reset_state()
    np.testing.assert_allclose(st(x[:, :2]).numpy(), np_rnn("lstm", x[:, :2].astype(np.float64), w, 5)[1], atol=1e-5)
    with pytest.raises(ValueError, match="expects 2 state"):
        layer(x, initial_state=[h0])


def test_stacked_cells_and_custom_cell():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    layer = L.RNN([L.LSTMCell(4), L.GRUCell(2)], return_sequences=True, return_state=True)
    seq, lstm_states, gru_state = layer(x, mask=MASK[:2, :4])
    w = [a.numpy() for a in layer.weights]
    assert [a.shape for a in w] == [(3, 16), (4, 16), (16,), (4, 6), (2, 6), (2, 6)]
    # numpy: both cells per step, masked as one cell
    B = 2
    st1, st2, prev, outs = [np.zeros((B, 4))] * 2, [np.zeros((B, 2))], np.zeros((B, 2)), []
    for t in range(4):
        o1, n1 = _np_step("lstm", x[:, t], st1, w[:3], 4)
        o2, n2 = _np_step("gru", o1, st2, w[3:], 2)
        m = MASK[:2, t][:, None]
        o2 = np.where(m, o2, prev)
        st1 = [np.where(m, a, b) for a, b in zip(n1, st1)]
        st2 = [np.where(m, a, b) for a, b in zip(n2, st2)]
        prev = o2
        outs.append(o2)
    np.testing.assert_allclose(seq.numpy(), np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(lstm_states[1].numpy(), st1[1], atol=1e-5)
    np.testing.assert_allclose(gru_state[0].numpy(), st2[0], atol=1e-5)  # Keras: GRU states as a list

    class MinimalRNNCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), name="recurrent_kernel")

        def call(self, inputs, states):
            out = tg.matmul(inputs, self.kernel) + tg.matmul(states[0], self.recurrent_kernel)
            return out, [out]

    custom = L.RNN(MinimalRNNCell(3), return_sequences=True)
    y = custom(x)
    k, rk = custom.get_weights()
    h, want = np.zeros((2, 3)), []
    for t in range(4):
        h = x[:, t] @ k + h @ rk
        want.append(h)
    np.testing.assert_allclose(y.numpy(), np.stack(want, 1), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_numpy(merge_mode):
    x = RNG.normal(size=(3, 5, 2)).astype(np.float32)
    layer = L.Bidirectional(L.GRU(3, return_sequences=True, return_state=True), merge_mode=merge_mode)
    layer(x)
    wf, wb = _weights("gru", 2, 3), _weights("gru", 2, 3)
    layer.set_weights(wf + wb)
    out = layer(x, mask=MASK)
    fseq, _, fst = np_rnn("gru", x.astype(np.float64), wf, 3, MASK, zero_output=True)
    bseq, _, bst = np_rnn("gru", x.astype(np.float64), wb, 3, MASK, go_backwards=True, zero_output=True)
    bseq = bseq[:, ::-1]
    want = {
        "concat": np.concatenate([fseq, bseq], -1),
        "sum": fseq + bseq,
        "mul": fseq * bseq,
        "ave": (fseq + bseq) / 2,
        None: None,
    }[merge_mode]
    if merge_mode is None:
        (y, y_rev), states = out[:2], out[2:]
        np.testing.assert_allclose(y.numpy(), fseq, atol=1e-5)
        np.testing.assert_allclose(y_rev.numpy(), bseq, atol=1e-5)
    else:
        y, states = out[0], out[1:]
        np.testing.assert_allclose(y.numpy(), want, atol=1e-5)
    np.testing.assert_allclose(states[0].numpy(), fst[0], atol=1e-5)
    np.testing.assert_allclose(states[1].numpy(), bst[0], atol=1e-5)
    assert layer.forward_layer.name.startswith("forward_") and layer.backward_layer.go_backwards
    assert len(layer.weights) == 6


def test_bidirectional_initial_state_and_shapes():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    layer = L.Bidirectional(L.LSTM(2))
    assert layer.compute_output_shape((2, 4, 3)) == (2, 4)
    layer(x)
    init = [RNG.normal(size=(2, 2)).astype(np.float32) for _ in range(4)]
    w = layer.get_weights()
    y = layer(x, initial_state=init).numpy()
    f = np_rnn("lstm", x.astype(np.float64), w[:3], 2, init=init[:2])[1]
    b = np_rnn("lstm", x.astype(np.float64), w[3:], 2, init=init[2:], go_backwards=True)[1]
    np.testing.assert_allclose(y, np.concatenate([f, b], -1), atol=1e-5)
    rs = L.Bidirectional(L.LSTM(2, return_state=True, return_sequences=True), merge_mode=None)
    assert rs.compute_output_shape((2, 4, 3)) == ((2, 4, 2), (2, 4, 2), (2, 2), (2, 2), (2, 2), (2, 2))
    with pytest.raises(ValueError, match="Invalid merge mode"):
        L.Bidirectional(L.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="different `go_backwards`"):
        L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2))


def test_time_distributed():
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    inner = L.LSTM(2)
    td = L.TimeDistributed(inner)
    y = td(x)
    assert td.compute_output_shape((2, 3, 4, 5)) == (2, 3, 2)
    w = inner.get_weights()
    want = np.stack([np_rnn("lstm", x[:, t].astype(np.float64), w, 2)[1] for t in range(3)], 1)
    np.testing.assert_allclose(y.numpy(), want, atol=1e-5)
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        L.TimeDistributed(L.LSTM(2))(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        L.TimeDistributed(lambda t: t)


def _np_conv1d(x, w, padding):
    """x [B, L, C], w [K, C, F], stride 1: TF's VALID / SAME (extra padding at the end)."""
    k = w.shape[0]
    if padding == "same":
        total = k - 1
        x = np.pad(x, ((0, 0), (total // 2, total - total // 2), (0, 0)))
    n = x.shape[1] - k + 1
    return np.stack([np.einsum("bkc,kcf->bf", x[:, i : i + k], w) for i in range(n)], 1)


@pytest.mark.parametrize("padding,use_mask", [("valid", False), ("same", True)])
def test_conv_lstm1d_matches_numpy(padding, use_mask):
    x = RNG.normal(size=(2, 4, 6, 3)).astype(np.float32)
    mask = MASK[:2, :4] if use_mask else None
    layer = L.ConvLSTM1D(2, 3, padding=padding, return_sequences=True, return_state=True)
    layer(x)
    k, rk, b = layer.get_weights()
    assert (k.shape, rk.shape, b.shape) == ((3, 3, 8), (3, 2, 8), (8,))
    seq, h, c = layer(x, mask=mask)
    length = 6 if padding == "same" else 4
    hs, cs, prev, outs = np.zeros((2, length, 2)), np.zeros((2, length, 2)), np.zeros((2, length, 2)), []
    for t in range(4):
        z = _np_conv1d(x[:, t].astype(np.float64), k, padding) + b + _np_conv1d(hs, rk, "same")
        i, f, g, o = np.split(z, 4, axis=-1)
        c_new = _sig(f) * cs + _sig(i) * np.tanh(g)
        h_new = _sig(o) * np.tanh(c_new)
        if mask is not None:
            m = mask[:, t][:, None, None]
            h_new, c_new, out = np.where(m, h_new, hs), np.where(m, c_new, cs), np.where(m, h_new, prev)
        else:
            out = h_new
        hs, cs, prev = h_new, c_new, out
        outs.append(out)
    np.testing.assert_allclose(seq.numpy(), np.stack(outs, 1), atol=1e-5)
    np.testing.assert_allclose(c.numpy(), cs, atol=1e-5)
    assert layer.compute_output_shape((2, 4, 6, 3)) == ((2, 4, length, 2), (2, length, 2), (2, length, 2))
    # the cell alone computes one step
    cell_h, (_, cell_c) = layer.cell(x[:, 0], [np.zeros((2, length, 2), np.float32)] * 2)
    first = L.ConvLSTM1D(2, 3, padding=padding)
    first(x[:, :1])
    first.set_weights([k, rk, b])
    np.testing.assert_allclose(cell_h.numpy(), first(x[:, :1]).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        L.ConvLSTM1D(2, 3)(np.ones((2, 4, 2, 1), np.float32))


# ---- masks from the inputs, output masks ---------------------------------------------------------


def test_keras_mask_attribute_is_used_and_propagated():
    x = tg.constant(RNG.normal(size=(3, 5, 2)).astype(np.float32))
    x._keras_mask = tg.constant(MASK)
    layer = L.SimpleRNN(3, return_sequences=True)
    y = layer(x)
    y_explicit = layer(tg.constant(x.numpy()), mask=MASK)
    np.testing.assert_array_equal(y.numpy(), y_explicit.numpy())
    np.testing.assert_array_equal(np.asarray(y._keras_mask), MASK)
    last = L.SimpleRNN(3)(x)
    assert getattr(last, "_keras_mask", None) is None
    # float masks are read as booleans
    np.testing.assert_array_equal(layer(tg.constant(x.numpy()), mask=MASK.astype(np.float32)).numpy(), y.numpy())


# ---- dropout -------------------------------------------------------------------------------------


def test_dropout():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    simple = L.SimpleRNN(3, dropout=1.0)
    inference = simple(x).numpy()
    # dropout=1 drops every input: the same as zero inputs
    np.testing.assert_allclose(simple(x, training=True).numpy(), simple(np.zeros_like(x)).numpy(), atol=1e-6)
    assert not np.allclose(inference, simple(np.zeros_like(x)).numpy())
    a = L.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    b = L.LSTM(4, dropout=0.5, recurrent_dropout=0.5, seed=3)
    a(x)
    b(x)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    ta, tb = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(ta, tb)  # same seed, same masks
    assert not np.allclose(ta, a(x).numpy())
    x4 = RNG.normal(size=(2, 3, 5, 2)).astype(np.float32)
    c1, c2 = (L.ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.3, seed=1) for _ in range(2))
    c1(x4)
    c2(x4)
    c2.set_weights(c1.get_weights())
    np.testing.assert_array_equal(c1(x4, training=True).numpy(), c2(x4, training=True).numpy())
    assert not np.allclose(c1(x4, training=True).numpy(), c1(x4).numpy())
    g = L.GRU(4, recurrent_dropout=0.3, seed=1)
    with tg.GradientTape() as tape:
        y = g(x, training=True)
        loss = tg.reduce_sum(y * y)
    grads = tape.gradient(loss, g.trainable_variables)
    assert all(gr is not None and np.isfinite(gr.numpy()).all() for gr in grads)


def test_regularizer_losses_and_traced_call():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    layer = L.LSTM(3, kernel_regularizer=tg.keras.regularizers.L2(0.1), bias_regularizer="l1")
    layer(x)
    k, _, b = layer.get_weights()
    losses = [float(v) for v in layer.losses]
    np.testing.assert_allclose(sorted(losses), sorted([0.1 * np.sum(k**2), 0.01 * np.sum(np.abs(b))]), rtol=1e-5)
    # the Python time loop traces into tf.function and replays with the same numbers and gradients
    gru = L.GRU(3, return_sequences=True)
    gru(x)

    def loss_and_grads(t, m):
        with tg.GradientTape() as tape:
            loss = tg.reduce_sum(tg.square(gru(t, mask=m)))
        return loss, tape.gradient(loss, gru.trainable_variables)

    traced = tg.function(loss_and_grads)
    xt, mt = tg.constant(x), tg.constant(MASK[:2, :4])
    eager_loss, eager_grads = loss_and_grads(xt, mt)
    loss, grads = traced(xt, mt)
    np.testing.assert_allclose(loss.numpy(), eager_loss.numpy(), rtol=1e-6)
    for a, b in zip(grads, eager_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7)


# ---- attention: numpy transcriptions -------------------------------------------------------------


def _np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_multi_head_attention_matches_numpy():
    q = RNG.normal(size=(2, 4, 5))
    v = RNG.normal(size=(2, 3, 6))
    am = RNG.random((2, 4, 3)) > 0.3
    am[:, :, 0] = True
    mha = L.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, dtype="float64")
    out, scores = mha(tg.constant(q), tg.constant(v), attention_mask=am, return_attention_scores=True)
    w = mha.get_weights()
    assert [a.shape for a in w] == [(5, 2, 3), (2, 3), (6, 2, 3), (2, 3), (6, 2, 2), (2, 2), (2, 2, 5), (5,)]
    assert [p.name for p in mha.weights] == ["kernel", "bias"] * 4
    qk, qb, kk, kb, vk, vb, ok, ob = w
    Q = np.einsum("btd,dnh->btnh", q, qk) + qb
    Kt = np.einsum("bsd,dnh->bsnh", v, kk) + kb
    V = np.einsum("bsd,dnh->bsnh", v, vk) + vb
    logits = np.einsum("btnh,bsnh->bnts", Q / np.sqrt(3), Kt)
    logits = np.where(am[:, None], logits, -1e9)
    p = _np_softmax(logits) * am[:, None]
    ctx = np.einsum("bnts,bsnh->btnh", p, V)
    want = np.einsum("btnh,nhd->btd", ctx, ok) + ob
    np.testing.assert_allclose(scores.numpy(), p, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), want, atol=1e-12)
    # causal self-attention: position t sees positions <= t only
    _, sc = L.MultiHeadAttention(2, 3, dtype="float64")(q, q, use_causal_mask=True, return_attention_scores=True)
    assert np.all(np.triu(np.ones((4, 4)), 1)[None, None] * sc.numpy() == 0)
    np.testing.assert_allclose(sc.numpy().sum(-1), 1.0, atol=1e-12)


def test_multi_head_attention_axes_and_output_shape():
    x = RNG.normal(size=(2, 3, 4, 5)).astype(np.float32)
    mha = L.MultiHeadAttention(num_heads=2, key_dim=2, attention_axes=(1, 2), output_shape=(7,))
    out, scores = mha(x, x, return_attention_scores=True)
    assert out.shape == (2, 3, 4, 7) and scores.shape == (2, 2, 3, 4, 3, 4)
    np.testing.assert_allclose(scores.numpy().sum(axis=(-2, -1)), 1.0, atol=1e-5)
    assert mha.compute_output_shape((2, 3, 4, 5), (2, 3, 4, 5)) == (2, 3, 4, 7)
    with pytest.raises(ValueError, match="except the last one"):
        L.MultiHeadAttention(2, 2)(
            np.zeros((1, 3, 4), np.float32), np.zeros((1, 5, 4), np.float32), np.zeros((1, 6, 4), np.float32)
        )
    with pytest.raises(ValueError, match="num_heads"):
        L.MultiHeadAttention(0, 2)


def test_multi_head_attention_masks_from_inputs_and_dropout():
    q = tg.constant(RNG.normal(size=(2, 4, 5)).astype(np.float32))
    v = tg.constant(RNG.normal(size=(2, 3, 5)).astype(np.float32))
    vm = np.array([[1, 1, 0], [1, 0, 1]], bool)
    mha = L.MultiHeadAttention(2, 3, dropout=0.5, seed=5)
    explicit, s1 = mha(q, v, value_mask=vm, return_attention_scores=True)
    v._keras_mask = tg.constant(vm)
    implicit, s2 = mha(q, v, return_attention_scores=True)
    np.testing.assert_array_equal(explicit.numpy(), implicit.numpy())
    assert np.all(s2.numpy()[:, :, :, ~vm[0]][0] == 0)
    # dropout acts on the attention probabilities in training only; a seed makes it repeatable
    twin = L.MultiHeadAttention(2, 3, dropout=0.5, seed=5)
    twin(q, v)
    twin.set_weights(mha.get_weights())
    a, b = mha(q, v, training=True).numpy(), twin(q, v, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, implicit.numpy())
    np.testing.assert_array_equal(mha(q, v).numpy(), implicit.numpy())


def test_attention_layers_match_numpy():
    q = RNG.normal(size=(2, 3, 4))
    v = RNG.normal(size=(2, 5, 4))
    k = RNG.normal(size=(2, 5, 4))
    tq, tv, tk = tg.constant(q), tg.constant(v), tg.constant(k)
    qm = np.array([[1, 1, 0], [1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    att = L.Attention(use_scale=True, dtype="float64")
    att([tq, tv, tk])
    att.set_weights([np.array(0.7)])
    out, w = att([tq, tv, tk], mask=[qm, vm], return_attention_scores=True)
    s = 0.7 * q @ k.transpose(0, 2, 1)
    s = np.where(vm[:, None], s, s - 1e9)
    p = _np_softmax(s)
    np.testing.assert_allclose(w.numpy(), p, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), (p @ v) * qm[..., None], atol=1e-12)
    concat = L.Attention(score_mode="concat", dtype="float64")
    y = concat([tq, tv], use_causal_mask=True, return_attention_scores=True)[1].numpy()
    s = np.tanh(q[:, :, None] + v[:, None]).sum(-1)
    s = np.where(np.tril(np.ones((3, 5), bool))[None], s, s - 1e9)
    np.testing.assert_allclose(y, _np_softmax(s), atol=1e-12)
    add = L.AdditiveAttention(dtype="float64")
    out = add([tq, tv]).numpy()
    scale = add.get_weights()[0]
    s = (scale * np.tanh(q[:, :, None] + v[:, None])).sum(-1)
    np.testing.assert_allclose(out, _np_softmax(s) @ v, atol=1e-12)
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        L.Attention()(q)


# ---- gradients (float64, finite differences) -----------------------------------------------------


def _check_weight_grads(layer, fn, eps=1e-6, rtol=1e-5, atol=1e-7):
    """<u, d loss / d weights> against the central difference of loss along u."""
    weights = layer.trainable_weights
    with tg.GradientTape() as tape:
        loss = fn()
    grads = tape.gradient(loss, weights)
    us = [RNG.normal(size=tuple(w.shape)) for w in weights]
    analytic = sum(float(np.sum(g.numpy() * u)) for g, u in zip(grads, us))
    base = [w.numpy() for w in weights]
    vals = []
    for sign in (1, -1):
        for w, b, u in zip(weights, base, us):
            w.assign(b + sign * eps * u)
        vals.append(float(fn()))
    for w, b in zip(weights, base):
        w.assign(b)
    numeric = (vals[0] - vals[1]) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=rtol, atol=atol)


@pytest.mark.parametrize("kind", ["simple", "lstm", "gru"])
def test_rnn_gradients_finite_differences(kind):
    x = RNG.normal(size=(2, 4, 3))
    mask = MASK[:2, :4]
    layer = L.RNN(CELLS[kind](3, dtype="float64"), return_sequences=True, go_backwards=kind == "gru", dtype="float64")
    layer(x)
    tg.testing.check_gradients(lambda t: layer(t, mask=mask), [x], order=1)
    c = tg.constant(RNG.normal(size=(2, 4, 3)))
    _check_weight_grads(layer, lambda: tg.reduce_sum(layer(tg.constant(x), mask=mask) * c))


def test_attention_gradients_finite_differences():
    q = RNG.normal(size=(2, 3, 4))
    v = RNG.normal(size=(2, 5, 4))
    vm = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    mha = L.MultiHeadAttention(2, 2, dtype="float64")
    mha(q, v)
    tg.testing.check_gradients(lambda a, b: mha(a, b, value_mask=vm), [q, v], order=1)
    c = tg.constant(RNG.normal(size=(2, 3, 4)))
    _check_weight_grads(
        mha, lambda: tg.reduce_sum(mha(tg.constant(q), tg.constant(v), use_causal_mask=False, value_mask=vm) * c)
    )
    for layer in (
        L.Attention(use_scale=True, score_mode="concat", dtype="float64"),
        L.AdditiveAttention(dtype="float64"),
    ):
        layer([q, v])
        tg.testing.check_gradients(lambda a, b: layer([a, b], mask=[None, vm]), [q, v], order=1)
        _check_weight_grads(layer, lambda: tg.reduce_sum(layer([tg.constant(q), tg.constant(v)]) * c))


# ---- errors, shapes, config ----------------------------------------------------------------------


def test_bad_input_rank():
    rank_message = r"""layer ["']lstm_rank["'].*expected ndim=3, found ndim=2. Full shape received: \(2, 3\)"""
    with pytest.raises(ValueError, match=rank_message):
        L.LSTM(2, name="lstm_rank")(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r'layer "rnn_rank".*ndim>=3.*\(4,\)'):
        L.RNN(L.GRUCell(2), name="rnn_rank")(np.zeros((4,), np.float32))
    with pytest.raises(ValueError, match=r"mha_rank.*query.*\(2, 3\)"):
        L.MultiHeadAttention(2, 2, name="mha_rank")(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="positive integer"):
        L.LSTMCell(0)
    with pytest.raises(ValueError, match="`call` method"):
        L.RNN(object())


def test_compute_output_shape():
    assert L.LSTM(4).compute_output_shape((2, 5, 3)) == (2, 4)
    assert L.GRU(4, return_sequences=True, return_state=True).compute_output_shape((2, 5, 3)) == ((2, 5, 4), (2, 4))
    assert L.LSTM(4, return_state=True).compute_output_shape((None, 5, 3)) == ((None, 4), (None, 4), (None, 4))
    assert L.Attention().compute_output_shape([(2, 3, 4), (2, 5, 6)]) == (2, 3, 6)


CONFIG_LAYERS = [
    lambda: L.SimpleRNN(3, activation="relu", dropout=0.1, return_sequences=True),
    lambda: L.LSTM(3, recurrent_activation="hard_sigmoid", kernel_regularizer="l2", go_backwards=True),
    lambda: L.GRU(3, reset_after=False, seed=4, return_state=True),
    lambda: L.RNN([L.LSTMCell(2), L.SimpleRNNCell(3)], return_sequences=True),
    lambda: L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="sum"),
    lambda: L.TimeDistributed(L.GRU(2)),
    lambda: L.ConvLSTM1D(2, 3, padding="same", recurrent_dropout=0.1),
    lambda: L.MultiHeadAttention(2, 3, value_dim=4, output_shape=5, dropout=0.1),
    lambda: L.Attention(use_scale=True, score_mode="concat"),
    lambda: L.AdditiveAttention(use_scale=False),
]


@pytest.mark.parametrize("make", CONFIG_LAYERS)
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = RNG.normal(size=(2, 3, 4, 3) if isinstance(layer, (L.TimeDistributed, L.ConvLSTM1D)) else (2, 4, 3)).astype(
        np.float32
    )
    args = (
        ([x, x],) if isinstance(layer, L.Attention) else ((x, x) if isinstance(layer, L.MultiHeadAttention) else (x,))
    )
    y = layer(*args)
    clone(*args)
    clone.set_weights(layer.get_weights())
    for a, b in zip(tg.nest.flatten(y), tg.nest.flatten(clone(*args))):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


# ---- against real Keras 3 ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("tensorflow")
    return pytest.importorskip("keras")


def _compare_with_keras(keras, kl, tl, args, call_kwargs=None, atol=2e-5):
    """Same weights; outputs, and gradients of sum(out_i * c_i) w.r.t. the float inputs and weights."""
    import tensorflow as tf

    call_kwargs = call_kwargs or {}
    kargs = [tf.constant(a) for a in args]
    kl(*kargs, **call_kwargs)
    tl(*args, **call_kwargs)
    tl.set_weights(kl.get_weights())
    assert [w.shape for w in tl.get_weights()] == [tuple(w.shape) for w in kl.get_weights()]
    with tf.GradientTape() as ktape:
        for a in kargs:
            ktape.watch(a)
        kout = tf.nest.flatten(kl(*kargs, **call_kwargs))
        cs = [RNG.normal(size=tuple(o.shape)).astype(np.float32) for o in kout]
        kloss = tf.add_n([tf.reduce_sum(o * c) for o, c in zip(kout, cs)])
    kgrads = ktape.gradient(kloss, kargs + list(kl.trainable_weights))
    targs = [tg.constant(a) for a in args]
    with tg.GradientTape() as ttape:
        for a in targs:
            ttape.watch(a)
        tout = tg.nest.flatten(tl(*targs, **call_kwargs))
        tloss = tg.add_n([tg.reduce_sum(o * c) for o, c in zip(tout, cs)])
    tgrads = ttape.gradient(tloss, targs + list(tl.trainable_weights))
    assert len(kout) == len(tout)
    for k, t in zip(kout, tout):
        np.testing.assert_allclose(t.numpy(), k.numpy(), atol=atol, rtol=1e-4)
    for k, t in zip(kgrads, tgrads):
        if k is None:
            assert t is None or not np.any(t.numpy())
            continue
        k = tf.convert_to_tensor(k).numpy()
        np.testing.assert_allclose(t.numpy(), k, atol=atol * 10, rtol=1e-4)


KERAS_RNN_CASES = [
    ("SimpleRNN", {"units": 3, "return_sequences": True}, {"mask": True}),
    ("LSTM", {"units": 3, "return_sequences": True, "return_state": True}, {"mask": True}),
    ("LSTM", {"units": 3, "go_backwards": True, "return_state": True}, {}),
    ("GRU", {"units": 3, "return_sequences": True, "go_backwards": True}, {"mask": True}),
    ("GRU", {"units": 3, "reset_after": False, "return_state": True}, {"mask": True}),
    ("LSTM", {"units": 2, "use_bias": False, "zero_output_for_mask": True, "return_sequences": True}, {"mask": True}),
]


@pytest.mark.parametrize("name,kwargs,call", KERAS_RNN_CASES)
def test_rnn_layers_against_keras(keras, name, kwargs, call):
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    call = {"mask": MASK} if call.get("mask") else {}
    _compare_with_keras(keras, getattr(keras.layers, name)(**kwargs), getattr(L, name)(**kwargs), [x], call)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_against_keras(keras, merge_mode):
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    kl = keras.layers.Bidirectional(
        keras.layers.LSTM(2, return_sequences=True, return_state=True), merge_mode=merge_mode
    )
    tl = L.Bidirectional(L.LSTM(2, return_sequences=True, return_state=True), merge_mode=merge_mode)
    _compare_with_keras(keras, kl, tl, [x], {"mask": MASK})


@pytest.mark.parametrize(
    "kwargs",
    [
        {"padding": "same", "return_sequences": True, "return_state": True},
        {"strides": (2, 1), "go_backwards": True},
        {"dilation_rate": 2, "padding": "same", "data_format": "channels_first", "return_sequences": True},
    ],
)
def test_conv_lstm2d_against_keras(keras, kwargs):
    shape = (2, 3, 3, 5, 4) if kwargs.get("data_format") == "channels_first" else (2, 3, 5, 4, 3)
    x = RNG.normal(size=shape).astype(np.float32)
    _compare_with_keras(
        keras, keras.layers.ConvLSTM2D(2, 3, **kwargs), L.ConvLSTM2D(2, 3, **kwargs), [x], {"mask": MASK[:2, :3]}
    )


def test_stacked_and_time_distributed_against_keras(keras):
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    kl = keras.layers.RNN([keras.layers.GRUCell(3), keras.layers.LSTMCell(2)], return_sequences=True)
    tl = L.RNN([L.GRUCell(3), L.LSTMCell(2)], return_sequences=True)
    _compare_with_keras(keras, kl, tl, [x], {"mask": MASK})
    x4 = RNG.normal(size=(2, 3, 4, 2)).astype(np.float32)
    _compare_with_keras(
        keras, keras.layers.TimeDistributed(keras.layers.SimpleRNN(3)), L.TimeDistributed(L.SimpleRNN(3)), [x4]
    )


def test_embedding_mask_flows_into_rnn_against_keras(keras):
    import tensorflow as tf

    ids = np.array([[3, 1, 4, 0, 0], [5, 9, 2, 6, 0], [0, 0, 7, 1, 8]])
    k_emb, t_emb = keras.layers.Embedding(10, 3, mask_zero=True), L.Embedding(10, 3, mask_zero=True)
    k_rnn = keras.layers.Bidirectional(keras.layers.LSTM(2, return_sequences=True), merge_mode="sum")
    t_rnn = L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode="sum")
    k_last, t_last = keras.layers.GRU(3), L.GRU(3)
    ko = k_last(k_rnn(k_emb(tf.constant(ids))))
    t_last(t_rnn(t_emb(tg.constant(ids))))
    for k, t in ((k_emb, t_emb), (k_rnn, t_rnn), (k_last, t_last)):
        t.set_weights(k.get_weights())
    seq = t_rnn(t_emb(tg.constant(ids)))
    np.testing.assert_array_equal(np.asarray(seq._keras_mask), ids != 0)
    np.testing.assert_allclose(t_last(seq).numpy(), ko.numpy(), atol=1e-5)


def test_fit_trains_a_recurrent_model():
    tg.keras.utils.set_random_seed(0)
    x = RNG.normal(size=(32, 5, 3)).astype(np.float32)
    y = x.sum(axis=(1, 2))[:, None]
    model = tg.keras.Sequential([tg.keras.Input((5, 3)), L.Bidirectional(L.GRU(4)), L.Dense(1)])
    model.compile(optimizer=tg.keras.optimizers.Adam(0.05), loss="mse")
    losses = model.fit(x, y, epochs=4, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]


MHA_CASES = [
    ({}, {}),
    ({}, {"value_mask": True, "return_attention_scores": True}),
    ({"value_dim": 2, "output_shape": 7}, {"attention_mask": True}),
    ({}, {"use_causal_mask": True, "self": True}),
    ({}, {"use_causal_mask": True, "self": True, "return_attention_scores": True, "value_mask": True}),
    ({"use_bias": False, "attention_axes": (1,)}, {"key": True}),
]


@pytest.mark.parametrize("kwargs,call", MHA_CASES)
def test_multi_head_attention_against_keras(keras, kwargs, call):
    call = dict(call)
    q = RNG.normal(size=(2, 4, 5)).astype(np.float32)
    v = (
        q
        if call.pop("self", False)
        else RNG.normal(size=(2, 4 if call.get("use_causal_mask") else 3, 6)).astype(np.float32)
    )
    args = [q, v]
    if call.pop("key", False):
        args.append(RNG.normal(size=(2, v.shape[1], 3)).astype(np.float32))
    if call.pop("value_mask", False):
        vm = np.ones((2, v.shape[1]), bool)
        vm[0, -1] = vm[1, 1] = False
        call["value_mask"] = vm
    if call.pop("attention_mask", False):
        am = RNG.random((2, 4, v.shape[1])) > 0.4
        am[..., 0] = True
        call["attention_mask"] = am
    _compare_with_keras(
        keras, keras.layers.MultiHeadAttention(2, 3, **kwargs), L.MultiHeadAttention(2, 3, **kwargs), args, call
    )


def test_multi_head_attention_query_mask_against_keras(keras):
    import tensorflow as tf

    q = RNG.normal(size=(2, 4, 5)).astype(np.float32)
    qm = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    km, tm = keras.layers.MultiHeadAttention(2, 3), L.MultiHeadAttention(2, 3)
    km(q, q)
    tm(q, q)
    tm.set_weights(km.get_weights())
    for scores in (False, True):  # Keras's two code paths differ on fully masked query rows
        kq, tq = tf.constant(q), tg.constant(q)
        kq._keras_mask, tq._keras_mask = tf.constant(qm), tg.constant(qm)
        ko = tf.nest.flatten(km(kq, kq, return_attention_scores=scores))
        to = tg.nest.flatten(tm(tq, tq, return_attention_scores=scores))
        for k, t in zip(ko, to):
            np.testing.assert_allclose(t.numpy(), k.numpy(), atol=1e-5)
        np.testing.assert_array_equal(np.asarray(to[0]._keras_mask), qm)


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Attention", {}),
        ("Attention", {"use_scale": True}),
        ("Attention", {"score_mode": "concat", "use_scale": True}),
        ("AdditiveAttention", {}),
    ],
)
def test_attention_against_keras(keras, name, kwargs):
    import tensorflow as tf

    q = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    v = RNG.normal(size=(2, 5, 4)).astype(np.float32)
    qm = np.array([[1, 1, 0], [1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1]], bool)
    kl, tl = getattr(keras.layers, name)(**kwargs), getattr(L, name)(**kwargs)
    kl([tf.constant(q), tf.constant(v)])
    tl([q, v])
    tl.set_weights(kl.get_weights())
    for call in ({}, {"mask": [qm, vm], "return_attention_scores": True}, {"use_causal_mask": True}):
        ko = tf.nest.flatten(kl([tf.constant(q), tf.constant(v)], **call))
        to = tg.nest.flatten(tl([q, v], **call))
        for k, t in zip(ko, to):
            np.testing.assert_allclose(t.numpy(), k.numpy(), atol=1e-5)
    # gradients w.r.t. inputs and weights
    kq, kv = tf.constant(q), tf.constant(v)
    with tf.GradientTape() as tape:
        tape.watch([kq, kv])
        kloss = tf.reduce_sum(tf.sin(kl([kq, kv], mask=[qm, vm])))
    kg = tape.gradient(kloss, [kq, kv] + list(kl.trainable_weights))
    tq, tv = tg.constant(q), tg.constant(v)
    with tg.GradientTape() as tape:
        tape.watch([tq, tv])
        tloss = tg.reduce_sum(tg.sin(tl([tq, tv], mask=[qm, vm])))
    tgr = tape.gradient(tloss, [tq, tv] + list(tl.trainable_weights))
    for k, t in zip(kg, tgr):
        np.testing.assert_allclose(t.numpy(), k.numpy(), atol=1e-5)


def test_keras_weights_file_loads(keras, tmp_path):
    """A Keras-saved .weights.h5 of recurrent and attention layers loads into the same tapegrad
    model (Keras's walk: forward_layer/cell, cell/cells/<cell>, query_dense, ...)."""
    pytest.importorskip("h5py")

    def build(m):
        q = m.Input((4, 6))
        o = m.layers.MultiHeadAttention(2, 2)(q, q)
        o = m.layers.Attention(use_scale=True)([o, o])
        o = m.layers.Bidirectional(m.layers.LSTM(2, return_sequences=True))(o)
        o = m.layers.RNN([m.layers.GRUCell(2), m.layers.LSTMCell(2)], return_sequences=True)(o)
        o = m.layers.ConvLSTM1D(2, 3, padding="same")(m.layers.Reshape((4, 2, 1))(o))
        return m.Model(q, o)

    km, tm = build(keras), build(tg.keras)
    for v in km.weights:
        v.assign(RNG.normal(size=tuple(v.shape)).astype(np.float32) * 0.5)
    km.save_weights(str(tmp_path / "k.weights.h5"))
    tm.load_weights(str(tmp_path / "k.weights.h5"))
    x = RNG.normal(size=(2, 4, 6)).astype(np.float32)
    np.testing.assert_allclose(tm(x).numpy(), np.asarray(km(x)), atol=1e-5)


def _normalize_config(config):
    config = dict(config)
    config.pop("name", None)
    config.pop("dtype", None)
    for key in ("cell", "layer", "backward_layer"):
        if isinstance(config.get(key), dict):
            config[key] = {**config[key], "config": _normalize_config(config[key]["config"])}
    if "cells" in config:
        config["cells"] = [{**c, "config": _normalize_config(c["config"])} for c in config["cells"]]
    return config


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.SimpleRNNCell(3),
        lambda m: m.LSTMCell(3),
        lambda m: m.GRUCell(3, reset_after=False),
        lambda m: m.SimpleRNN(3, return_sequences=True),
        lambda m: m.LSTM(3, dropout=0.2),
        lambda m: m.GRU(3, seed=2),
        lambda m: m.RNN([m.LSTMCell(3), m.GRUCell(2)], go_backwards=True),
        lambda m: m.Bidirectional(m.GRU(3, return_sequences=True), merge_mode="ave"),
        lambda m: m.TimeDistributed(m.LSTM(2)),
        lambda m: m.ConvLSTM2D(2, (3, 2), strides=(2, 1), data_format="channels_first", unit_forget_bias=False),
        lambda m: m.MultiHeadAttention(2, 3, attention_axes=1),
        lambda m: m.Attention(score_mode="concat"),
        lambda m: m.AdditiveAttention(dropout=0.1),
    ],
)
def test_get_config_matches_keras(keras, make):
    kc = make(keras.layers).get_config()
    tc = make(L).get_config()
    assert list(tc) == list(kc)
    assert _normalize_config(tc) == _normalize_config(kc)
