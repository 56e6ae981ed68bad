"""The direct float32 conv kernels (Note [Direct conv] in cpp/ops/conv_kernels.h) against the
float64 im2col + gemm path, an independent implementation: forward and both gradient primitives
over tile tails (output channels not a multiple of the vector width, rows not a multiple of the
pixel tile), strides, dilations, explicit asymmetric pads and odd filter shapes; and results that do
not depend on the thread count. Winograd (Note [Winograd], tests/test_conv_winograd.py) is switched
off here, so the 3x3 stride-1 cases with 16 or more channels reach the direct kernels."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tapegrad as tg
from tapegrad import _core


@pytest.fixture(autouse=True)
def _direct_kernels_only(monkeypatch):
    monkeypatch.setenv("TAPEGRAD_CONV_WINOGRAD", "0")


CASES = [
    # x shape, w shape, strides, dilations, pads [pt, pb, pl, pr]
    ((2, 7, 9, 1), (3, 3, 1, 32), (1, 1), (1, 1), [1, 1, 1, 1]),
    ((2, 8, 8, 3), (3, 3, 3, 5), (1, 1), (1, 1), [1, 1, 1, 1]),
    ((1, 6, 30, 16), (3, 3, 16, 17), (1, 1), (1, 1), [1, 1, 1, 1]),
    ((2, 5, 13, 32), (3, 3, 32, 33), (1, 1), (1, 1), [0, 0, 0, 0]),
    ((2, 9, 11, 8), (5, 5, 8, 40), (1, 1), (1, 1), [2, 2, 2, 2]),
    ((2, 9, 11, 8), (3, 3, 8, 16), (2, 2), (1, 1), [0, 1, 0, 1]),
    ((2, 10, 12, 4), (3, 3, 4, 64), (1, 2), (1, 1), [1, 1, 1, 1]),
    ((1, 11, 11, 5), (3, 3, 5, 7), (1, 1), (2, 2), [2, 2, 2, 2]),
    ((1, 11, 14, 6), (3, 2, 6, 9), (2, 1), (1, 3), [1, 0, 2, 1]),
    ((2, 6, 6, 12), (1, 1, 12, 24), (1, 1), (1, 1), [0, 0, 0, 0]),
    ((2, 6, 7, 12), (1, 7, 12, 3), (1, 1), (1, 1), [0, 0, 3, 3]),
    ((1, 4, 3, 2), (4, 4, 2, 1), (1, 1), (1, 1), [3, 0, 0, 3]),
    ((3, 5, 40, 2), (2, 5, 2, 31), (1, 1), (1, 1), [1, 0, 4, 0]),
    ((1, 5, 5, 2), (2, 2, 2, 3), (1, 1), (1, 1), [2, 2, 2, 2]),  # pads wider than the window
    ((2, 9, 10, 2), (3, 3, 2, 16), (2, 2), (1, 1), [1, 1, 1, 1]),  # few input channels, strided
    ((1, 8, 9, 3), (5, 3, 3, 48), (2, 1), (2, 1), [3, 4, 1, 1]),
    ((1, 7, 8, 1), (2, 3, 1, 8), (1, 3), (3, 1), [0, 2, 2, 0]),
    ((2, 7, 9, 16), (3, 3, 16, 64), (1, 1), (1, 1), [1, 1, 1, 1]),  # 4-vector filter-gradient tiles
    ((2, 7, 9, 8), (3, 3, 8, 64), (1, 1), (1, 1), [1, 1, 1, 1]),  # 4-vector forward tiles (18 KiB of filter)
    ((1, 9, 13, 64), (3, 3, 64, 128), (2, 2), (1, 1), [1, 1, 1, 1]),
    ((2, 10, 12, 32), (3, 3, 32, 64), (2, 2), (1, 1), [0, 1, 0, 1]),  # "SAME" s2: last pixel's tail copy
    ((1, 6, 9, 16), (3, 3, 16, 20), (1, 1), (2, 2), [0, 0, 0, 5]),  # tail pixels past the row's end
    ((1, 6, 30, 16), (3, 3, 16, 64), (2, 2), (1, 1), [0, 1, 0, 1]),  # tiles in place, then a tail
    # Forward rows read in place although the last pixel's last taps fall in the right pad (its
    # last tile skips them), with 2-, 4- and 1-vector tiles and two pad columns:
    ((2, 28, 28, 32), (3, 3, 32, 64), (2, 2), (1, 1), [0, 1, 0, 1]),  # the suite's strided layer
    ((1, 12, 24, 8), (3, 3, 8, 64), (2, 2), (1, 1), [0, 1, 0, 1]),
    ((1, 7, 28, 16), (3, 3, 16, 16), (2, 2), (1, 1), [0, 1, 0, 1]),
    ((1, 5, 42, 8), (3, 5, 8, 32), (1, 3), (1, 1), [1, 1, 0, 2]),
]


def _out(n, k, s, d, a, b):
    return (n + a + b - (k - 1) * d - 1) // s + 1


def _run(x, w, g, st, dl, pads):
    xt, wt, gt = tg.constant(x), tg.constant(w), tg.constant(g)
    y = _core._conv2d(xt, wt, list(st), list(dl), pads)
    dx = _core._conv2d_backprop_input(list(x.shape), wt, gt, list(st), list(dl), pads)
    dw = _core._conv2d_backprop_filter(xt, list(w.shape), gt, list(st), list(dl), pads)
    return [np.asarray(t) for t in (y, dx, dw)]


@pytest.mark.parametrize("xs, ws, st, dl, pads", CASES)
def test_direct_float32_matches_float64_path(xs, ws, st, dl, pads):
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    oh = _out(xs[1], ws[0], st[0], dl[0], pads[0], pads[1])
    ow = _out(xs[2], ws[1], st[1], dl[1], pads[2], pads[3])
    g = rng.standard_normal((xs[0], oh, ow, ws[3]))
    ref = _run(x, w, g, st, dl, pads)
    got = _run(x.astype("float32"), w.astype("float32"), g.astype("float32"), st, dl, pads)
    for name, a, b in zip(("forward", "grad input", "grad filter"), got, ref):
        assert a.dtype == np.float32 and a.shape == b.shape, name
        scale = np.sqrt(ws[0] * ws[1] * max(xs[3], ws[3]) * xs[0] * oh * ow) + 1
        np.testing.assert_allclose(a, b, atol=3e-6 * scale, rtol=1e-5, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 2),
    h=st.integers(1, 9),
    w=st.integers(1, 40),
    c=st.sampled_from([8, 1, 3, 16, 33]),
    o=st.sampled_from([32, 1, 7, 16, 17, 64]),
    kh=st.integers(1, 5),
    kw=st.integers(1, 5),
    st_=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    dl=st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2)]),
    pads=st.lists(st.sampled_from([0, 1, 2, 3]), min_size=4, max_size=4),
)
def test_direct_float32_random_geometry(n, h, w, c, o, kh, kw, st_, dl, pads):
    """Any geometry (row lengths that are and are not whole tiles, taps that do or do not reach
    the pads, the in-place rows of Note [Direct conv]) against the float64 path."""
    oh = _out(h, kh, st_[0], dl[0], pads[0], pads[1])
    ow = _out(w, kw, st_[1], dl[1], pads[2], pads[3])
    assume(oh >= 1 and ow >= 1)
    rng = np.random.default_rng(n * 1000 + h * 100 + w)
    x = rng.standard_normal((n, h, w, c))
    f = rng.standard_normal((kh, kw, c, o))
    g = rng.standard_normal((n, oh, ow, o))
    ref = _run(x, f, g, st_, dl, pads)
    got = _run(x.astype("float32"), f.astype("float32"), g.astype("float32"), st_, dl, pads)
    scale = np.sqrt(kh * kw * max(c, o) * n * oh * ow) + 1
    for name, a, b in zip(("forward", "grad input", "grad filter"), got, ref):
        np.testing.assert_allclose(a, b, atol=3e-6 * scale, rtol=1e-5, err_msg=name)


def _last_pixel_cases():
    """Rows whose last pixel alone reaches the right pad, in its last `over` taps (over <= stride
    and < KW): the forward reads such rows in place and skips those taps (Note [Direct conv])."""
    for sw in (1, 2, 3):
        for kw in (2, 3, 4, 5):
            for over in range(1, min(sw, kw - 1) + 1):
                w = 13 * sw + kw - over  # 14 output pixels: whole tiles of 14 and of 7
                for c, o in ((5, 32), (8, 64), (3, 16)):  # 2-, 4- and 1-vector tiles
                    yield (1, 3, w, c), (2, kw, c, o), (1, sw), (1, 1), [1, 0, 0, over]


@pytest.mark.parametrize("xs, ws, st, dl, pads", list(_last_pixel_cases()))
def test_direct_forward_skips_the_last_pixels_pad_taps(xs, ws, st, dl, pads):
    rng = np.random.default_rng(xs[2] * 10 + ws[1])
    x = rng.standard_normal(xs)
    w = rng.standard_normal(ws)
    y = _core._conv2d(tg.constant(x), tg.constant(w), list(st), list(dl), pads)
    got = _core._conv2d(tg.constant(x.astype("float32")), tg.constant(w.astype("float32")), list(st), list(dl), pads)
    assert got.shape[2] == 14
    np.testing.assert_allclose(np.asarray(got), np.asarray(y), atol=2e-5, rtol=1e-5)


DEPTHWISE = [
    # x shape, w shape [KH, KW, C, M], strides, dilations, padding
    ((2, 9, 10, 32), (3, 3, 32, 1), 1, 1, "SAME"),
    ((2, 9, 10, 19), (3, 3, 19, 1), 1, 1, "SAME"),
    ((1, 11, 12, 40), (5, 3, 40, 1), 2, 1, "SAME"),
    ((1, 11, 12, 17), (3, 3, 17, 1), 1, 2, "VALID"),
    ((2, 6, 7, 8), (3, 3, 8, 2), 1, 1, "SAME"),
    ((2, 5, 23, 48), (3, 3, 48, 1), 1, 1, "SAME"),  # rows of 4-pixel blocks and a remainder
    ((1, 6, 21, 33), (5, 5, 33, 1), 1, 1, "SAME"),
    ((1, 5, 30, 16), (3, 3, 16, 1), 3, 1, "SAME"),  # blocks at stride 3
]


@pytest.mark.parametrize("xs, ws, st, dl, padding", DEPTHWISE)
def test_depthwise_float32_matches_float64(xs, ws, st, dl, padding):
    rng = np.random.default_rng(sum(xs) + sum(ws))
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)

    def run(dtype):
        xt, wt = tg.constant(x.astype(dtype)), tg.constant(w.astype(dtype))
        with tg.GradientTape() as tape:
            tape.watch([xt, wt])
            y = tg.nn.depthwise_conv2d(xt, wt, [1, st, st, 1], padding, dilations=[dl, dl])
            loss = tg.reduce_sum(y * y)
        return [np.asarray(t) for t in [y] + tape.gradient(loss, [xt, wt])]

    for name, a, b in zip(("forward", "grad input", "grad filter"), run("float32"), run("float64")):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * np.abs(b).max(), err_msg=name)


def test_direct_results_do_not_depend_on_thread_count():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((8, 12, 12, 16)).astype("float32")
    w = rng.standard_normal((3, 3, 16, 24)).astype("float32")
    g = rng.standard_normal((8, 12, 12, 24)).astype("float32")
    before = tg.config.get_num_threads()
    try:
        tg.config.set_num_threads(1)
        one = _run(x, w, g, (1, 1), (1, 1), [1, 1, 1, 1])
        tg.config.set_num_threads(3)
        three = _run(x, w, g, (1, 1), (1, 1), [1, 1, 1, 1])
    finally:
        tg.config.set_num_threads(before)
    for a, b in zip(one, three):
        np.testing.assert_array_equal(a, b)


def test_cnn_step_gradients_float32_match_float64():
    """A conv + bias + relu + dense step through the tape: float32 gradients vs float64's."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 10, 10, 3))
    w = rng.standard_normal((3, 3, 3, 20)) * 0.3
    v = rng.standard_normal((10 * 10 * 20, 4)) * 0.05

    def grads(dtype):
        xt, wt, vt = tg.constant(x.astype(dtype)), tg.Variable(w.astype(dtype)), tg.Variable(v.astype(dtype))
        with tg.GradientTape() as tape:
            tape.watch(xt)
            h = tg.nn.relu(tg.nn.conv2d(xt, wt, 1, "SAME"))
            loss = tg.reduce_sum(tg.matmul(tg.reshape(h, [4, -1]), vt) ** 2)
        return [np.asarray(t) for t in tape.gradient(loss, [xt, wt, vt])]

    for a, b in zip(grads("float32"), grads("float64")):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-4 * np.abs(b).max())


def test_threading_config_uses_tf_names():
    th = tg.config.threading
    before = tg.config.get_num_threads()
    try:
        th.set_intra_op_parallelism_threads(1)
        assert th.get_intra_op_parallelism_threads() == 1 and tg.config.get_num_threads() == 1
        th.set_inter_op_parallelism_threads(2)
        assert th.get_inter_op_parallelism_threads() == 2
        th.set_intra_op_parallelism_threads(0)
        assert th.get_intra_op_parallelism_threads() == 0 and tg.config.get_num_threads() >= 1
        with pytest.raises(ValueError):
            th.set_intra_op_parallelism_threads(-1)
    finally:
        th.set_inter_op_parallelism_threads(0)
        th.set_intra_op_parallelism_threads(0)
        tg.config.set_num_threads(before)
