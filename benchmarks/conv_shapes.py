"""Per-shape convolution timings: forward, gradient w.r.t. input and w.r.t. filter, in ms, for
tapegrad's engine primitives and (when installed) TF's raw ops and PyTorch's, one process, same
threads, same data. The shapes are the suite's conv layers (issue 15).

    python benchmarks/conv_shapes.py [--threads 1] [--only 3x3,1x1] [--peers tf,torch] [--check]
                                     [--cpu] [--rounds 5]

`--cpu` times process CPU time instead of wall time (A/B on a loaded machine, with 1 thread).
`--check` compares every tapegrad result with TF's and PyTorch's (float32 tolerance) before timing.
`--rounds N` repeats the whole table N times (libraries interleaved per shape, their order rotated
each round) and ends with a Markdown summary: per pass the minimum and the median over rounds, and
tapegrad / PyTorch ratios against issue 15's goal (at most 0.8x).

`--peers direct` adds "tg-direct": tapegrad with `TAPEGRAD_CONV_WINOGRAD=0` (the direct kernels
instead of Note [Winograd]'s path), set around each call, for A/B in the same run.

PyTorch is timed with its idiomatic symmetric `padding=k//2` (transposed: `padding=1,
output_padding=stride-1`): the same output shapes and work as TF's "SAME", but for stride 2 the
windows sit one pixel off TF's (which pads only after); `--check` compares an explicitly padded
PyTorch variant instead.
"""

import argparse
import os
import statistics
import sys
import time

if __package__:
    from ._common import clock_time  # first: it unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import clock_time  # noqa: E402
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
    """One figure in milliseconds (_common.clock_time under CLOCK)."""
    return 1e3 * clock_time(fn, CLOCK, repeat, min_time)


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


def _with_env(fns, var, value):
    """The closures `fns` run with environment variable `var` set to `value` (restored after)."""

    def wrap(f):
        if f is None:
            return None

        def run():
            old = os.environ.get(var)
            os.environ[var] = value
            try:
                return f()
            finally:
                if old is None:
                    del os.environ[var]
                else:
                    os.environ[var] = old

        return run

    return tuple(wrap(f) for f in fns)


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

    xx, ww = xp.clone().requires_grad_(), wp.clone().requires_grad_()  # leaves made once, not timed

    def both():
        xx.grad = ww.grad = None
        f(xx, ww).backward(gp)
        return xx.grad, ww.grad

    return fwd, both, None


def torch_exact(torch, x, w, g, stride, kind):
    """The PyTorch results with TF's "SAME" geometry (explicit, possibly asymmetric padding),
    converted to tapegrad's layouts: ([fwd], [d input], [d filter]) for conv, ([fwd], [d input, d
    filter]) otherwise, matching what tg_fns' closures return."""
    F = torch.nn.functional
    xx = torch.tensor(np.ascontiguousarray(x.transpose(0, 3, 1, 2)), requires_grad=True)
    gp = torch.tensor(np.ascontiguousarray(np.asarray(g).transpose(0, 3, 1, 2)))
    kh, kw = w.shape[0], w.shape[1]
    if kind == "transposed":
        ww = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
        n, h, wd, c = x.shape
        oh, ow = h * stride, wd * stride
        ph, pw = same_pads(oh, kh, stride)[0], same_pads(ow, kw, stride)[0]
        y = F.conv_transpose2d(xx, ww, stride=stride)[:, :, ph : ph + oh, pw : pw + ow]
        dw_layout = (2, 3, 1, 0)
    else:
        pads = same_pads(x.shape[2], kw, stride) + same_pads(x.shape[1], kh, stride)  # F.pad: W first
        if kind == "depthwise":
            c, m = w.shape[2], w.shape[3]
            ww = torch.tensor(
                np.ascontiguousarray(w.transpose(2, 3, 0, 1).reshape(c * m, 1, kh, kw)), requires_grad=True
            )
            y = F.conv2d(F.pad(xx, pads), ww, stride=stride, groups=c)
        else:
            ww = torch.tensor(np.ascontiguousarray(w.transpose(3, 2, 0, 1)), requires_grad=True)
            y = F.conv2d(F.pad(xx, pads), ww, stride=stride)
        dw_layout = (2, 3, 1, 0)
    y.backward(gp)
    out = [y.detach().numpy().transpose(0, 2, 3, 1)]
    dx = xx.grad.numpy().transpose(0, 2, 3, 1)
    if kind == "depthwise":
        dw = ww.grad.numpy().reshape(w.shape[2], w.shape[3], kh, kw).transpose(2, 3, 0, 1)
    else:
        dw = ww.grad.numpy().transpose(*dw_layout)
    if kind == "conv":
        return [out, [dx], [dw]]
    return [out, [dx, dw]]


def _as_list(r):
    return [np.asarray(v) for v in (r if isinstance(r, (list, tuple)) else [r])]


def _rel_err(u, v):
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    if u.shape != v.shape:
        return float("inf")
    return float(np.max(np.abs(u - v)) / (np.max(np.abs(v)) + 1e-30))


def check(name, table, peers, x, w, g, stride, kind):
    """Print a line per tapegrad result that differs from a peer's beyond float32 tolerance."""
    ours = [_as_list(f()) if f is not None else None for f in table["tapegrad"]]
    refs = {}
    if "tf" in table:
        refs["tf"] = [_as_list(f()) if f is not None else None for f in table["tf"]]
    if "torch" in peers:
        refs["torch"] = torch_exact(peers["torch"], x, w, g, stride, kind)
    for lib, parts in refs.items():
        worst = 0.0
        for i, (a, b) in enumerate(zip(ours, parts)):
            if a is None or b is None:
                continue
            for u, v in zip(a, b):
                err = _rel_err(u, v)
                worst = max(worst, err)
                # Two float32 results, each a few 1e-6 (relative to the largest entry) from
                # float64: the 32->32 filter gradient is 3.4e-6 off with Winograd, 4.6e-6 with
                # PyTorch, 1.3e-6 with the direct kernels (benchmarks/README.md).
                if not err < 2e-5:
                    print(f"  MISMATCH {name} vs {lib} part {i}: max rel err {err:.2e}")
        print(f"  check {name} vs {lib}: max rel err {worst:.1e}")


PARTS = ("fwd", "d input", "d filter")


def summary(results, threads, clock):
    """Markdown: per shape and library, each pass's minimum (median) over rounds in ms, and the
    tapegrad / PyTorch ratio of the minima (issue 15's goal: at most 0.8x per pass)."""
    print(f"\n### Summary: {threads} thread(s), {clock}, ms: min (median) over rounds")
    libs = sorted({lib for per in results.values() for lib in per}, key=["tapegrad", "tg-direct", "tf", "torch"].index)
    head = ["shape"] + [f"{lib} fwd / d in / d filter" for lib in libs]
    if "torch" in libs:
        head += ["tapegrad / torch", "<= 0.8x"]
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for name, per in results.items():
        row = [name]
        mins = {}
        for lib in libs:
            rounds = per.get(lib)
            if not rounds:
                row.append("")
                continue
            cols = list(zip(*rounds))
            cells, mins[lib] = [], []
            for col in cols:
                if col[0] is None:
                    continue
                lo, med = min(col), statistics.median(col)
                mins[lib].append(lo)
                cells.append(f"{lo:.2f} ({med:.2f})")
            row.append(" / ".join(cells) + (" (fwd / both)" if len(cells) == 2 else ""))
        if "torch" in libs and "torch" in mins:
            ratios = [a / b for a, b in zip(mins["tapegrad"], mins["torch"])]
            row.append(" / ".join(f"{r:.2f}" for r in ratios))
            row.append("yes" if all(r <= 0.8 for r in ratios) else "no")
        print("| " + " | ".join(row) + " |")


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
    ap.add_argument("--rounds", type=int, default=1, help="repeat the table; end with a min/median summary")
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
    clock = "CPU time, min of repeats" if args.cpu else "wall time, median of repeats"
    print(f"threads {args.threads}; peers: {', '.join(peers) or 'none'}; times in ms ({clock})")
    cases = {}
    for name, (xs, ws, stride, kind) in SHAPES.items():
        if args.only and not any(o in name for o in args.only.split(",")):
            continue
        x = rng.standard_normal(xs).astype(args.dtype)
        w = (rng.standard_normal(ws) * 0.1).astype(args.dtype)
        fns, g = tg_fns(x, w, stride, kind)
        table = {"tapegrad": fns}
        if "direct" in args.peers.split(","):
            table["tg-direct"] = _with_env(fns, "TAPEGRAD_CONV_WINOGRAD", "0")
        if "tf" in peers:
            table["tf"] = tf_fns(peers["tf"], x, w, g, stride, kind)
        if "torch" in peers:
            table["torch"] = torch_fns(peers["torch"], x, w, g, stride, kind)
        if args.check:
            check(name, table, peers, x, w, g, stride, kind)
        cases[name] = table
    results = {name: {lib: [] for lib in table} for name, table in cases.items()}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}")
        print(f"{'shape':28s} {'lib':9s} {'fwd':>8s} {'d input':>8s} {'d filter':>8s} {'total':>8s}")
        for name, table in cases.items():
            libs = list(table)
            libs = libs[r % len(libs) :] + libs[: r % len(libs)]  # rotate who goes first
            for lib in libs:
                parts = table[lib]
                ms = [median_ms(f) if f is not None else None for f in parts]
                results[name][lib].append(ms)
                cells = [f"{m:8.2f}" if m is not None else f"{'':8s}" for m in ms]
                if parts[2] is None:  # fwd, both grads together
                    cells[1] = f"{ms[1]:8.2f} (both)"
                total = sum(m for m in ms if m is not None)
                print(f"{name:28s} {lib:9s} {' '.join(cells)} {total:8.2f}", flush=True)
    if args.rounds > 1 or "torch" in peers:
        summary(results, args.threads, clock)


if __name__ == "__main__":
    main()
