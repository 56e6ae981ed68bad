"""Per-shape convolution timings: forward, gradient w.r.t. input and w.r.t. filter, in ms, for
tapegrad's engine primitives and (when installed) TF's raw ops and PyTorch's, one process, same
threads, same data. The shapes are the suite's conv layers (issue 15).

    python benchmarks/conv_shapes.py [--threads 1] [--only 3x3,1x1] [--peers tf,torch] [--check]

`--cpu` times process CPU time instead of wall time (A/B on a loaded machine, with 1 thread).
`--check` compares every tapegrad result with TF's (float32 tolerance) before timing.
"""

import argparse
import os
import statistics
import time

for _var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # they halve OpenBLAS speed here (benchmarks/README.md)
    os.environ.pop(_var, None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402
from tapegrad import _core  # noqa: E402

# name: (input NHWC, filter, stride, kind); kind: conv, depthwise (filter [KH, KW, C, M]), transposed
# (filter [KH, KW, out_channels, in_channels], input is the transposed conv's input).
SHAPES = {
    "3x3 1->32 28x28 b64": ((64, 28, 28, 1), (3, 3, 1, 32), 1, "conv"),
    "3x3 32->32 28x28 b64": ((64, 28, 28, 32), (3, 3, 32, 32), 1, "conv"),
    "3x3 16->32 32x32 b16": ((16, 32, 32, 16), (3, 3, 16, 32), 1, "conv"),
    "3x3 64->64 14x14 b64": ((64, 14, 14, 64), (3, 3, 64, 64), 1, "conv"),
    "1x1 32->64 28x28 b64": ((64, 28, 28, 32), (1, 1, 32, 64), 1, "conv"),
    "5x5 32->32 28x28 b64": ((64, 28, 28, 32), (5, 5, 32, 32), 1, "conv"),
    "3x3 s2 32->64 28x28 b64": ((64, 28, 28, 32), (3, 3, 32, 64), 2, "conv"),
    "dw3x3 32 28x28 b64": ((64, 28, 28, 32), (3, 3, 32, 1), 1, "depthwise"),
    "tr3x3 s2 32->16 14x14 b64": ((64, 14, 14, 32), (3, 3, 16, 32), 2, "transposed"),
}


CLOCK = time.perf_counter


def median_ms(fn, repeat=5, min_time=0.05):
    fn()
    t0 = CLOCK()
    fn()
    one = max(CLOCK() - t0, 1e-6)
    number = max(1, int(min_time / one))
    times = []
    for _ in range(repeat):
        t0 = CLOCK()
        for _ in range(number):
            fn()
        times.append((CLOCK() - t0) / number)
    return 1e3 * (min(times) if CLOCK is time.process_time else statistics.median(times))


def same_pads(i, k, s):
    o = -(-i // s)
    total = max((o - 1) * s + k - i, 0)
    return [total // 2, total - total // 2]


def tg_fns(x, w, stride, kind):
    """(forward, grad input, grad filter) closures over tapegrad's engine primitives, and the
    conv-equivalent geometry they use."""
    xt, wt = tg.constant(x), tg.constant(w)
    st, dl = [stride, stride], [1, 1]
    if kind == "conv":
        pads = same_pads(x.shape[1], w.shape[0], stride) + same_pads(x.shape[2], w.shape[1], stride)
        y = _core._conv2d(xt, wt, st, dl, pads)
        g = tg.constant(np.random.default_rng(1).standard_normal(tuple(y.shape)).astype(x.dtype))
        return (
            lambda: _core._conv2d(xt, wt, st, dl, pads),
            lambda: _core._conv2d_backprop_input(list(x.shape), wt, g, st, dl, pads),
            lambda: _core._conv2d_backprop_filter(xt, list(w.shape), g, st, dl, pads),
        ), g
    if kind == "depthwise":
        return _forward_and_tape_grads(
            lambda: tg.nn.depthwise_conv2d(xt, wt, [1, stride, stride, 1], "SAME"), xt, wt, x.dtype
        )
    # transposed: output spatial = input * stride
    n, h, ww, c = x.shape
    out_shape = [n, h * stride, ww * stride, w.shape[2]]
    return _forward_and_tape_grads(lambda: tg.nn.conv2d_transpose(xt, wt, out_shape, stride, "SAME"), xt, wt, x.dtype)


def _forward_and_tape_grads(fwd, xt, wt, dtype):
    """((forward, both gradients through the tape, None), the output gradient used) for ops
    timed through the public API rather than the engine's primitives."""
    g = tg.constant(np.random.default_rng(1).standard_normal(tuple(fwd().shape)).astype(dtype))

    def both():
        with tg.GradientTape() as tape:
            tape.watch([xt, wt])
            y = fwd()
        return tape.gradient(y, [xt, wt], output_gradients=g)

    return (fwd, both, None), g


def tf_fns(tf, x, w, g, stride, kind):
    xf, wf, gf = tf.constant(x), tf.constant(w), tf.constant(np.asarray(g))
    s4 = [1, stride, stride, 1]
    if kind == "conv":
        return (
            lambda: tf.raw_ops.Conv2D(input=xf, filter=wf, strides=s4, padding="SAME"),
            lambda: tf.raw_ops.Conv2DBackpropInput(
                input_sizes=list(x.shape), filter=wf, out_backprop=gf, strides=s4, padding="SAME"
            ),
            lambda: tf.raw_ops.Conv2DBackpropFilter(
                input=xf, filter_sizes=list(w.shape), out_backprop=gf, strides=s4, padding="SAME"
            ),
        )
    if kind == "depthwise":

        def fwd():
            return tf.nn.depthwise_conv2d(xf, wf, s4, "SAME")
    else:
        n, h, ww, c = x.shape
        out_shape = [n, h * stride, ww * stride, w.shape[2]]

        def fwd():
            return tf.nn.conv2d_transpose(xf, wf, out_shape, stride, "SAME")

    def both():
        with tf.GradientTape() as tape:
            tape.watch([xf, wf])
            yy = fwd()
        return tape.gradient(yy, [xf, wf], output_gradients=gf)

    return fwd, both, None


def torch_fns(torch, x, w, g, stride, kind):
    F = torch.nn.functional
    xp = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    gp = torch.tensor(np.ascontiguousarray(np.asarray(g).transpose(0, 3, 1, 2)))
    if kind == "conv":
        wp = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
        pad = w.shape[0] // 2

        def fwd():
            with torch.no_grad():
                return F.conv2d(xp, wp, stride=stride, padding=pad)

        def gin():
            return torch.nn.grad.conv2d_input(xp.shape, wp, gp, stride=stride, padding=pad)

        def gfi():
            return torch.nn.grad.conv2d_weight(xp, wp.shape, gp, stride=stride, padding=pad)

        return fwd, gin, gfi
    if kind == "depthwise":
        c = x.shape[3]
        wp = torch.tensor(np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(c * w.shape[3], 1, 3, 3)))

        def f(xx, ww):
            return F.conv2d(xx, ww, stride=stride, padding=1, groups=c)
    else:
        wp = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))

        def f(xx, ww):
            return F.conv_transpose2d(xx, ww, stride=stride, padding=1, output_padding=stride - 1)

    def fwd():
        with torch.no_grad():
            return f(xp, wp)

    def both():
        xx, ww = xp.clone().requires_grad_(), wp.clone().requires_grad_()
        f(xx, ww).backward(gp)
        return xx.grad, ww.grad

    return fwd, both, None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--only", default="")
    ap.add_argument("--peers", default="tf,torch")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument(
        "--cpu",
        action="store_true",
        help="process CPU time (min of rounds) instead of wall time: for A/B on a loaded machine, 1 thread",
    )
    args = ap.parse_args()
    if args.cpu:
        global CLOCK
        CLOCK = time.process_time
    tg.config.set_num_threads(args.threads)
    peers = {}
    if "tf" in args.peers:
        try:
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
            peers["tf"] = tf
        except ImportError:
            pass
    if "torch" in args.peers:
        try:
            import torch

            torch.set_num_threads(args.threads)
            peers["torch"] = torch
        except ImportError:
            pass
    rng = np.random.default_rng(0)
    print(f"threads {args.threads}; peers: {', '.join(peers) or 'none'}; times in ms (median)")
    print(f"{'shape':28s} {'lib':9s} {'fwd':>8s} {'d input':>8s} {'d filter':>8s} {'total':>8s}")
    for name, (xs, ws, stride, kind) in SHAPES.items():
        if args.only and not any(o in name for o in args.only.split(",")):
            continue
        x = rng.standard_normal(xs).astype(args.dtype)
        w = (rng.standard_normal(ws) * 0.1).astype(args.dtype)
        fns, g = tg_fns(x, w, stride, kind)
        table = {"tapegrad": fns}
        if "tf" in peers:
            table["tf"] = tf_fns(peers["tf"], x, w, g, stride, kind)
        if "torch" in peers:
            table["torch"] = torch_fns(peers["torch"], x, w, g, stride, kind)
        if args.check and "tf" in table:
            for i, (a, b) in enumerate(zip(table["tapegrad"], table["tf"])):
                if a is None:
                    continue
                ra, rb = a(), b()
                ra = ra if isinstance(ra, (list, tuple)) else [ra]
                rb = rb if isinstance(rb, (list, tuple)) else [rb]
                for u, v in zip(ra, rb):
                    u, v = np.asarray(u), np.asarray(v)
                    err = np.max(np.abs(u - v)) / (np.max(np.abs(v)) + 1e-30)
                    if not err < 1e-5:
                        print(f"  MISMATCH {name} part {i}: max rel err {err:.2e}")
        for lib, parts in table.items():
            ms = [median_ms(f) if f is not None else None for f in parts]
            cells = [f"{m:8.2f}" if m is not None else f"{'':8s}" for m in ms]
            if parts[2] is None:  # fwd, both grads together
                cells[1] = f"{ms[1]:8.2f}"
                cells[1] = cells[1] + " (both)"
            total = sum(m for m in ms if m is not None)
            print(f"{name:28s} {lib:9s} {' '.join(cells)} {total:8.2f}", flush=True)


if __name__ == "__main__":
    main()
