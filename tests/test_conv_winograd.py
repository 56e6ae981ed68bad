"""Winograd F(4x4, 3x3) and F(2x2, 5x5) for float32 3x3 and 5x5 stride-1 convolutions (Note
[Winograd] in cpp/ops/conv.cpp): forward, input gradient and filter gradient against a float64
numpy transcription, within the error bound the Note states (per output: kappa * 2^-24 * sum over
input channels of the largest |x| in the output's 6x6 input tile times sum |w| over the RxR
window), over SAME / VALID / explicit pads, odd sizes, batch 1, 1..128 channels and random shapes;
the path is really taken on AVX-512 CPUs (and `TAPEGRAD_CONV_WINOGRAD=0` turns it off); results do
not depend on the thread count."""

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


def _out(n, a, b, r=3):
    return n + a + b - r + 1


def _ref_forward(x, w, pads):
    """float64 forward conv, RxR stride 1, pads [pt, pb, pl, pr]."""
    pt, pb, pl, pr = pads
    r = w.shape[0]
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = xp.shape[1] - r + 1, xp.shape[2] - r + 1
    out = np.zeros((x.shape[0], max(oh, 0), max(ow, 0), w.shape[3]))
    for kh in range(r):
        for kw in range(r):
            out += np.einsum("nhwc,co->nhwo", xp[:, kh : kh + oh, kw : kw + ow], w[kh, kw].astype(np.float64))
    return out


def _ref_input_grad(g, w, xs, pads):
    pt, pb, pl, pr = pads
    n, h, wd, c = xs
    dxp = np.zeros((n, h + pt + pb, wd + pl + pr, c))
    oh, ow = g.shape[1], g.shape[2]
    for kh in range(w.shape[0]):
        for kw in range(w.shape[1]):
            dxp[:, kh : kh + oh, kw : kw + ow] += np.einsum("nhwo,co->nhwc", g, w[kh, kw].astype(np.float64))
    return dxp[:, pt : pt + h, pl : pl + wd]


def _ref_filter_grad(x, g, pads, r):
    pt, pb, pl, pr = pads
    xp = np.pad(x.astype(np.float64), ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh, ow = g.shape[1], g.shape[2]
    dw = np.zeros((r, r, x.shape[3], g.shape[3]))
    for kh in range(r):
        for kw in range(r):
            dw[kh, kw] = np.einsum("nhwc,nhwo->co", xp[:, kh : kh + oh, kw : kw + ow], g.astype(np.float64))
    return dw


def _tile_max(x, oh, ow, pt, pl, m):
    """[N, ceil(oh/m), ceil(ow/m), C]: the largest |x| in each m x m output tile's 6x6 input window
    (rows m i - pt .. m i - pt + 5; outside the image counts as 0)."""
    n, h, w, c = x.shape
    th, tw = -(-oh // m), -(-ow // m)
    ot, ol = max(0, -pt), max(0, -pl)  # pads below zero (mirrored wide pads): windows start inside
    big = np.zeros((n, ot + m * th + 6 + pt + h, ol + m * tw + 6 + pl + w, c))
    big[:, ot + pt : ot + pt + h, ol + pl : ol + pl + w] = np.abs(x)
    out = np.zeros((n, th, tw, c))
    for i in range(th):
        for j in range(tw):
            out[:, i, j] = big[:, ot + m * i : ot + m * i + 6, ol + m * j : ol + m * j + 6].max(axis=(1, 2))
    return out


def _forward_scale(x, w, oh, ow, pt, pl):
    """Per output: sum over channels of the tile's largest |x| times sum |w| over the window."""
    m = 7 - w.shape[0]  # the tile's outputs per side: F(4x4, 3x3), F(2x2, 5x5)
    s = np.einsum("nijc,co->nijo", _tile_max(x, oh, ow, pt, pl, m), np.abs(w).sum(axis=(0, 1)))
    return np.repeat(np.repeat(s, m, axis=1), m, axis=2)[:, :oh, :ow]


def _filter_scale(x, g, pt, pl, r):
    """Per filter entry: sum over tiles of the tile's largest |x| times sum |g| over the tile."""
    n, oh, ow, o = g.shape
    m = 7 - r
    tm = _tile_max(x, oh, ow, pt, pl, m)
    th, tw = tm.shape[1:3]
    gp = np.zeros((n, m * th, m * tw, o))
    gp[:, :oh, :ow] = np.abs(g)
    return np.einsum("nijc,nijo->co", tm, gp.reshape(n, th, m, tw, m, o).sum(axis=(2, 4)))[None, None]


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
    r = w.shape[0]
    oh, ow = _out(h, pt, pb, r), _out(wd, pl, pr, r)
    got = _primitives(x.astype(np.float32), w.astype(np.float32), g.astype(np.float32), pads)
    refs = [_ref_forward(x, w, pads), _ref_input_grad(g, w, x.shape, pads), _ref_filter_grad(x, g, pads, r)]
    flipped = np.transpose(w[::-1, ::-1], (0, 1, 3, 2))  # the input gradient's filter
    scales = [
        _forward_scale(x, w, oh, ow, pt, pl),
        _forward_scale(g, flipped, h, wd, r - 1 - pt, r - 1 - pl),
        _filter_scale(x, g, pt, pl, r),
    ]
    for name, a, b, s in zip(("forward", "grad input", "grad filter"), got, refs, scales):
        assert a.dtype == np.float32 and a.shape == b.shape, name
        err = np.abs(a.astype(np.float64) - b)
        bound = kappa * EPS * s + 1e-30
        assert np.all(err <= bound), f"{name}: worst error {np.max(err / bound) * kappa:.1f} x 2^-24 x scale"
    return got


def _pads(spec, r):
    """SAME / VALID / FULL for an RxR filter, or explicit [pt, pb, pl, pr]."""
    named = {"SAME": (r // 2,) * 4, "VALID": (0,) * 4, "FULL": (r - 1,) * 4}
    return named[spec] if isinstance(spec, str) else spec


CASES = [
    # x shape [N, H, W, C], output channels, pads [pt, pb, pl, pr]
    ((2, 8, 8, 16), 16, "SAME"),
    ((1, 9, 13, 19), 33, "SAME"),  # H, W not multiples of 4 or 2; channels not multiples of 16
    ((1, 9, 13, 19), 33, "VALID"),
    ((3, 7, 5, 32), 32, "VALID"),
    ((1, 14, 14, 64), 64, "SAME"),
    ((2, 6, 11, 64), 17, "SAME"),
    ((1, 5, 7, 17), 64, "SAME"),
    ((2, 4, 4, 16), 4, "SAME"),  # few output channels (filter gradient and forward Winograd only)
    ((2, 6, 6, 4), 16, "SAME"),  # few input channels (input gradient Winograd only)
    ((2, 9, 9, 8), 12, "SAME"),  # 8 input channels (5x5: Winograd forward and filter gradient)
    ((1, 7, 9, 1), 1, "SAME"),  # not selected: the direct path, same bound
    ((1, 5, 5, 16), 16, "VALID"),  # a 1x1 output (3x3: 3x3)
    ((1, 1, 1, 16), 16, "SAME"),
    ((2, 10, 9, 24), 20, (0, 1, 2, 0)),  # explicit asymmetric pads
    ((1, 6, 7, 16), 24, "FULL"),  # the full convolution
    ((1, 6, 7, 16), 16, (0, 3, 1, 3)),  # bottom / right pads wider than the 3x3 window
    ((1, 7, 8, 16), 16, (4, 1, 3, 5)),  # pads of 4 (the 5x5 window's widest mirrored pad)
    ((1, 10, 10, 128), 48, "SAME"),  # long channel sums
    ((4, 28, 28, 32), 32, "SAME"),  # the benchmark suite's image (many interior tiles)
]


def _case_params():
    out = []
    for r in (3, 5):
        for xs, o, spec in CASES:
            pads = _pads(spec, r)
            if _out(xs[1], pads[0], pads[1], r) >= 1 and _out(xs[2], pads[2], pads[3], r) >= 1:
                out.append(pytest.param(r, xs, o, pads, id=f"{r}x{r}-{xs}-{o}-{spec}"))
    return out


@pytest.mark.parametrize("r, xs, o, pads", _case_params())
def test_winograd_within_bound_of_float64(r, xs, o, pads):
    rng = np.random.default_rng(sum(xs) + o + sum(pads) + r)
    n, h, w, c = xs
    x = rng.standard_normal(xs)
    wt = rng.standard_normal((r, r, c, o))
    g = rng.standard_normal((n, _out(h, pads[0], pads[1], r), _out(w, pads[2], pads[3], r), o))
    _check_within_bound(x, wt, g, pads)


@pytest.mark.parametrize("r", [3, 5])
def test_wide_dynamic_range_within_looser_bound(r):
    """Values spanning ~5 decades: an entry far larger than its neighbours leaks into the whole
    output tile (the reason the bound uses the tile's largest |x|)."""
    rng = np.random.default_rng(7)

    def draw(shape):
        return rng.lognormal(0.0, 2.0, shape) * rng.choice([-1.0, 1.0], shape)

    x, w, g = draw((2, 12, 10, 32)), draw((r, r, 32, 32)), draw((2, 12, 10, 32))
    _check_within_bound(x, w, g, _pads("SAME", r), kappa=KAPPA_WIDE)


@pytest.mark.skipif(
    not WINOGRAD_EXPECTED,
    reason="the Winograd path runs only on CPUs with AVX-512F, without TAPEGRAD_NO_AVX512 or TAPEGRAD_CONV=gemm",
)
@pytest.mark.parametrize("r, o", [(3, 32), (3, 40), (5, 32), (5, 40)])
def test_winograd_path_taken_and_switch_turns_it_off(monkeypatch, r, o):
    rng = np.random.default_rng(o + r)
    x = rng.standard_normal((2, 9, 10, 32))
    w = rng.standard_normal((r, r, 32, o))
    g = rng.standard_normal((2, 9, 10, o))
    wino = _check_within_bound(x, w, g, _pads("SAME", r))
    monkeypatch.setenv("TAPEGRAD_CONV_WINOGRAD", "0")
    direct = _check_within_bound(x, w, g, _pads("SAME", r))
    for name, a, b in zip(("forward", "grad input", "grad filter"), wino, direct):
        # Different sums of products: equal within the bound, never bit for bit on random data.
        assert not np.array_equal(a, b), f"{name}: the Winograd switch changed nothing"


@pytest.mark.parametrize("r", [3, 5])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
def test_gradients_through_tape_match_float64(padding, r):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 11, 9, 24))
    w = rng.standard_normal((r, r, 24, 32)) * 0.2
    pads = _pads(padding, r)
    res = rng.standard_normal((2, _out(11, pads[0], pads[1], r), _out(9, pads[2], pads[3], r), 32))
    xv, wv = tg.Variable(x.astype(np.float32)), tg.Variable(w.astype(np.float32))
    with tg.GradientTape() as tape:
        y = tg.nn.conv2d(xv, wv, 1, padding)
        loss = tg.reduce_sum(y * tg.constant(res.astype(np.float32)))
    dx, dw = tape.gradient(loss, [xv, wv])
    y_scale = _forward_scale(x, w, res.shape[1], res.shape[2], pads[0], pads[2])
    assert np.all(np.abs(np.asarray(y) - _ref_forward(x, w, pads)) <= KAPPA * EPS * y_scale)
    flipped = np.transpose(w[::-1, ::-1], (0, 1, 3, 2))
    dx_scale = _forward_scale(res, flipped, 11, 9, r - 1 - pads[0], r - 1 - pads[2])
    assert np.all(np.abs(np.asarray(dx) - _ref_input_grad(res, w, x.shape, pads)) <= KAPPA * EPS * dx_scale)
    dw_scale = _filter_scale(x, res, pads[0], pads[2], r)
    assert np.all(np.abs(np.asarray(dw) - _ref_filter_grad(x, res, pads, r)) <= KAPPA * EPS * dw_scale)


@settings(max_examples=20, deadline=None)
@given(
    r=st.sampled_from([3, 5]),
    n=st.integers(1, 2),
    h=st.integers(1, 11),
    w=st.integers(1, 11),
    c=st.integers(1, 40),
    o=st.integers(1, 40),
    same=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_random_shapes_within_bound(r, n, h, w, c, o, same, seed):
    pads = _pads("SAME" if same else "VALID", r)
    oh, ow = _out(h, pads[0], pads[1], r), _out(w, pads[2], pads[3], r)
    if oh < 1 or ow < 1:
        return  # no output (VALID on an image smaller than the filter)
    rng = np.random.default_rng(seed)
    _check_within_bound(
        rng.standard_normal((n, h, w, c)), rng.standard_normal((r, r, c, o)), rng.standard_normal((n, oh, ow, o)), pads
    )


@pytest.mark.parametrize("r", [3, 5])
def test_results_do_not_depend_on_thread_count(r):
    rng = np.random.default_rng(3)
    # 32 x 4 x 4 = 512 tiles of 4x4 (2048 of 2x2): the filter gradient sums several fixed blocks
    x = rng.standard_normal((32, 16, 13, 32)).astype("float32")
    w = rng.standard_normal((r, r, 32, 24)).astype("float32")
    g = rng.standard_normal((32, 16, 13, 24)).astype("float32")
    pads = _pads("SAME", r)
    before = tg.config.get_num_threads()
    try:
        tg.config.set_num_threads(1)
        one = _primitives(x, w, g, pads)
        tg.config.set_num_threads(3)
        three = _primitives(x, w, g, pads)
    finally:
        tg.config.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)
