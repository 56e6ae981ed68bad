"""Winograd F(4x4, 3x3) for float32 3x3 stride-1 convolutions (Note [Winograd] in cpp/ops/conv.cpp):
forward, input gradient and filter gradient against a float64 numpy transcription, within the
error bound the Note states (per output: kappa * 2^-24 * sum over input channels of the largest
|x| in the output's 6x6 input tile times sum |w| over the 3x3 window), over SAME / VALID / explicit
pads, odd sizes, batch 1, 1..64 channels and random shapes; the path is really taken on AVX-512
CPUs (and `TAPEGRAD_CONV_WINOGRAD=0` turns it off); results do not depend on the thread count."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad import _core

EPS = 2.0**-24
KAPPA = 64  # ordinary data (normal, uniform): observed up to ~20
KAPPA_WIDE = 512  # values spanning ~5 decades in one tile: observed up to ~190


def _cpu_has_avx512f():
    try:
        with open("/proc/cpuinfo") as f:
            return " avx512f" in f.read()
    except OSError:
        return False


# The engine takes the Winograd path on CPUs with AVX-512F unless a switch turns it (or the
# AVX-512 kernels, or the direct kernels) off.
WINOGRAD_EXPECTED = (
    _cpu_has_avx512f()
    and os.environ.get("TAPEGRAD_NO_AVX512", "0") in ("", "0")
    and os.environ.get("TAPEGRAD_CONV") != "gemm"
)


@pytest.fixture(autouse=True)
def _winograd_on(monkeypatch):
    monkeypatch.setenv("TAPEGRAD_CONV_WINOGRAD", "1")


def _out(n, a, b):
    return n + a + b - 2


def _ref_forward(x, w, pads):
    """float64 forward conv, 3x3 stride 1, pads [pt, pb, pl, pr]."""
    pt, pb, pl, pr = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = xp.shape[1] - 2, xp.shape[2] - 2
    out = np.zeros((x.shape[0], max(oh, 0), max(ow, 0), w.shape[3]))
    for kh in range(3):
        for kw in range(3):
            out += np.einsum("nhwc,co->nhwo", xp[:, kh : kh + oh, kw : kw + ow], w[kh, kw].astype(np.float64))
    return out


def _ref_input_grad(g, w, xs, pads):
    pt, pb, pl, pr = pads
    n, h, wd, c = xs
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    oh, ow = g.shape[1], g.shape[2]
    for kh in range(3):
        for kw in range(3):
            dxp[:, kh : kh + oh, kw : kw + ow] += np.einsum("nhwo,co->nhwc", g, w[kh, kw].astype(np.float64))
    return dxp[:, pt : pt + h, pl : pl + wd]


def _ref_filter_grad(x, g, pads):
    pt, pb, pl, pr = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = g.shape[1], g.shape[2]
    dw = np.zeros((3, 3, x.shape[3], g.shape[3]))
    for kh in range(3):
        for kw in range(3):
            dw[kh, kw] = np.einsum("nhwc,nhwo->co", xp[:, kh : kh + oh, kw : kw + ow], g.astype(np.float64))
    return dw


def _tile_max(x, oh, ow, pt, pl):
    """[N, ceil(oh/4), ceil(ow/4), C]: the largest |x| in each 4x4 output tile's 6x6 input window
    (rows 4i - pt .. 4i - pt + 5; outside the image counts as 0)."""
    n, h, w, c = x.shape
    th, tw = -(-oh // 4), -(-ow // 4)
    big = np.zeros((n, 4 * th + 2 + pt + h, 4 * tw + 2 + pl + w, c))
    big[:, pt : pt + h, pl : pl + w] = np.abs(x)
    m = np.zeros((n, th, tw, c))
    for i in range(th):
        for j in range(tw):
            m[:, i, j] = big[:, 4 * i : 4 * i + 6, 4 * j : 4 * j + 6].max(axis=(1, 2))
    return m


def _forward_scale(x, w, oh, ow, pt, pl):
    """Per output: sum over channels of the tile's largest |x| times sum |w| over the window."""
    s = np.einsum("nijc,co->nijo", _tile_max(x, oh, ow, pt, pl), np.abs(w).sum(axis=(0, 1)))
    return np.repeat(np.repeat(s, 4, axis=1), 4, axis=2)[:, :oh, :ow]


def _filter_scale(x, g, pt, pl):
    """Per filter entry: sum over tiles of the tile's largest |x| times sum |g| over the tile."""
    n, oh, ow, o = g.shape
    m = _tile_max(x, oh, ow, pt, pl)
    th, tw = m.shape[1:3]
    gp = np.zeros((n, 4 * th, 4 * tw, o))
    gp[:, :oh, :ow] = np.abs(g)
    return np.einsum("nijc,nijo->co", m, gp.reshape(n, th, 4, tw, 4, o).sum(axis=(2, 4)))[None, None]


def _primitives(x, w, g, pads):
    xt, wt, gt = tg.constant(x), tg.constant(w), tg.constant(g)
    return [
        np.asarray(t)
        for t in (
            _core._conv2d(xt, wt, [1, 1], [1, 1], list(pads)),
            _core._conv2d_backprop_input(list(x.shape), wt, gt, [1, 1], [1, 1], list(pads)),
            _core._conv2d_backprop_filter(xt, list(w.shape), gt, [1, 1], [1, 1], list(pads)),
        )
    ]


def _check_within_bound(x, w, g, pads, kappa=KAPPA):
    """float32 forward / input gradient / filter gradient within kappa * 2^-24 * (tile scale) of
    the float64 transcription."""
    pt, pb, pl, pr = pads
    n, h, wd, c = x.shape
    oh, ow = _out(h, pt, pb), _out(wd, pl, pr)
    got = _primitives(x.astype(np.float32), w.astype(np.float32), g.astype(np.float32), pads)
    refs = [_ref_forward(x, w, pads), _ref_input_grad(g, w, x.shape, pads), _ref_filter_grad(x, g, pads)]
    flipped = np.transpose(w[::-1, ::-1], (0, 1, 3, 2))  # the input gradient's filter
    scales = [
        _forward_scale(x, w, oh, ow, pt, pl),
        _forward_scale(g, flipped, h, wd, 2 - pt, 2 - pl),
        _filter_scale(x, g, pt, pl),
    ]
    for name, a, b, s in zip(("forward", "grad input", "grad filter"), got, refs, scales):
        assert a.dtype == np.float32 and a.shape == b.shape, name
        err = np.abs(a.astype(np.float64) - b)
        bound = kappa * EPS * s + 1e-30
        assert np.all(err <= bound), f"{name}: worst error {np.max(err / bound) * kappa:.1f} x 2^-24 x scale"
    return got


SAME, VALID = (1, 1, 1, 1), (0, 0, 0, 0)
CASES = [
    # x shape [N, H, W, C], output channels, pads [pt, pb, pl, pr]
    ((2, 8, 8, 16), 16, SAME),
    ((1, 9, 13, 19), 33, SAME),  # H, W not multiples of 4; channels not multiples of 16
    ((1, 9, 13, 19), 33, VALID),
    ((3, 7, 5, 32), 32, VALID),
    ((1, 14, 14, 64), 64, SAME),
    ((2, 6, 11, 64), 17, SAME),
    ((1, 5, 7, 17), 64, SAME),
    ((2, 4, 4, 16), 4, SAME),  # few output channels (filter gradient and forward Winograd only)
    ((2, 6, 6, 4), 16, SAME),  # few input channels (input gradient Winograd only)
    ((1, 7, 9, 1), 1, SAME),  # not selected: the direct path, same bound
    ((1, 3, 3, 16), 16, VALID),  # a 1x1 output
    ((1, 1, 1, 16), 16, SAME),
    ((2, 10, 9, 24), 20, (0, 1, 2, 0)),  # explicit asymmetric pads
    ((1, 6, 7, 16), 24, (2, 2, 2, 2)),  # the full convolution
    ((1, 6, 7, 16), 16, (0, 3, 1, 3)),  # bottom / right pads wider than the window
    ((1, 10, 10, 128), 48, SAME),  # long channel sums
]


@pytest.mark.parametrize("xs, o, pads", CASES)
def test_winograd_within_bound_of_float64(xs, o, pads):
    rng = np.random.default_rng(sum(xs) + o + sum(pads))
    n, h, w, c = xs
    x = rng.standard_normal(xs)
    wt = rng.standard_normal((3, 3, c, o))
    g = rng.standard_normal((n, _out(h, pads[0], pads[1]), _out(w, pads[2], pads[3]), o))
    _check_within_bound(x, wt, g, pads)


def test_wide_dynamic_range_within_looser_bound():
    """Values spanning ~5 decades: an entry far larger than its neighbours leaks into the whole
    4x4 output tile (the reason the bound uses the tile's largest |x|)."""
    rng = np.random.default_rng(7)

    def draw(shape):
        return rng.lognormal(0.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)

    x, w, g = draw((2, 12, 10, 32)), draw((3, 3, 32, 32)), draw((2, 12, 10, 32))
    _check_within_bound(x, w, g, SAME, kappa=KAPPA_WIDE)


@pytest.mark.skipif(
    not WINOGRAD_EXPECTED,
    reason="the Winograd path runs only on CPUs with AVX-512F, without TAPEGRAD_NO_AVX512 or TAPEGRAD_CONV=gemm",
)
@pytest.mark.parametrize("o", [32, 40])
def test_winograd_path_taken_and_switch_turns_it_off(monkeypatch, o):
    rng = np.random.default_rng(o)
    x = rng.standard_normal((2, 9, 10, 32))
    w = rng.standard_normal((3, 3, 32, o))
    g = rng.standard_normal((2, 9, 10, o))
    wino = _check_within_bound(x, w, g, SAME)
    monkeypatch.setenv("TAPEGRAD_CONV_WINOGRAD", "0")
    direct = _check_within_bound(x, w, g, SAME)
    for name, a, b in zip(("forward", "grad input", "grad filter"), wino, direct):
        # Different sums of products: equal within the bound, never bit for bit on random data.
        assert not np.array_equal(a, b), f"{name}: the Winograd switch changed nothing"


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_gradients_through_tape_match_float64(padding):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 11, 9, 24))
    w = rng.standard_normal((3, 3, 24, 32)) * 0.2
    pads = SAME if padding == "SAME" else VALID
    r = rng.standard_normal((2, _out(11, pads[0], pads[1]), _out(9, pads[2], pads[3]), 32))
    xv, wv = tg.Variable(x.astype(np.float32)), tg.Variable(w.astype(np.float32))
    with tg.GradientTape() as tape:
        y = tg.nn.conv2d(xv, wv, 1, padding)
        loss = tg.reduce_sum(y * tg.constant(r.astype(np.float32)))
    dx, dw = tape.gradient(loss, [xv, wv])
    y_scale = _forward_scale(x, w, r.shape[1], r.shape[2], pads[0], pads[2])
    assert np.all(np.abs(np.asarray(y) - _ref_forward(x, w, pads)) <= KAPPA * EPS * y_scale)
    flipped = np.transpose(w[::-1, ::-1], (0, 1, 3, 2))
    dx_scale = _forward_scale(r, flipped, 11, 9, 2 - pads[0], 2 - pads[2])
    assert np.all(np.abs(np.asarray(dx) - _ref_input_grad(r, w, x.shape, pads)) <= KAPPA * EPS * dx_scale)
    dw_scale = _filter_scale(x, r, pads[0], pads[2])
    assert np.all(np.abs(np.asarray(dw) - _ref_filter_grad(x, r, pads)) <= KAPPA * EPS * dw_scale)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 2),
    h=st.integers(1, 11),
    w=st.integers(1, 11),
    c=st.integers(1, 40),
    o=st.integers(1, 40),
    same=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_random_shapes_within_bound(n, h, w, c, o, same, seed):
    pads = SAME if same else VALID
    oh, ow = _out(h, pads[0], pads[1]), _out(w, pads[2], pads[3])
    if oh < 1 or ow < 1:
        return  # no output (VALID on an image smaller than the filter)
    rng = np.random.default_rng(seed)
    _check_within_bound(
        rng.standard_normal((n, h, w, c)), rng.standard_normal((3, 3, c, o)), rng.standard_normal((n, oh, ow, o)), pads
    )


def test_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(3)
    # 32 x 4 x 4 = 512 tiles: the filter gradient sums two fixed blocks of tiles
    x = rng.standard_normal((32, 16, 13, 32)).astype("float32")
    w = rng.standard_normal((3, 3, 32, 24)).astype("float32")
    g = rng.standard_normal((32, 16, 13, 24)).astype("float32")
    before = tg.config.get_num_threads()
    try:
        tg.config.set_num_threads(1)
        one = _primitives(x, w, g, SAME)
        tg.config.set_num_threads(3)
        three = _primitives(x, w, g, SAME)
    finally:
        tg.config.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)
