"""Float32 GEMM timings at the MLP's shapes (issue 15): tapegrad's `tg.matmul` (OpenBLAS through the
engine) against numpy's `@` (numpy's own OpenBLAS), `torch.matmul`, and two candidate libraries
called directly: MKL's `cblas_sgemm` (the `mkl` wheel's `libmkl_rt`, through ctypes) and BLIS (the
`blis` package's `blis.py.gemm`). One process, same threads, same data; every result is first
checked against a float64 numpy reference.

    python benchmarks/gemm_shapes.py [--threads 1] [--cpu] [--rounds 5] [--libs tapegrad,numpy,torch,mkl,blis]
                                     [--mkl-lib /path/to/libmkl_rt.so.3] [--blis-dir DIR] [--only fwd,1024]

The shapes are the MLP's layers (x[128,784] @ W[784,256] -> [128,256] -> [128,10]) forward and
backward (dX = dY @ W^T, dW = X^T @ dY, as the tape computes them: transposed operands are passed as
flags, not copied), plus 256^3 and 1024^3. `1x1x1` measures each library's per-call overhead.

`--cpu` times process CPU time (min of repeats; use with 1 thread on a loaded machine); otherwise
wall time (median of repeats). `--rounds N` repeats the table, libraries interleaved per shape with
their order rotated each round, and ends with a Markdown summary (min and median over rounds, ratios
to PyTorch). Libraries that are not installed or not found are skipped. MKL and BLIS write into a
preallocated output; tapegrad, numpy and PyTorch allocate theirs (as their users' code does).

MKL is not a dependency: get it without installing it anywhere, e.g.
    pip download mkl --no-deps -d /tmp/mkl && unzip -q /tmp/mkl/mkl-*.whl -d /tmp/mkl/x
    python benchmarks/gemm_shapes.py --mkl-lib /tmp/mkl/x/mkl-*.data/data/lib/libmkl_rt.so.3
MKL runs with `MKL_THREADING_LAYER=GNU` (libgomp, the OpenMP runtime PyTorch already loaded) unless
the variable is set.
"""

import argparse
import ctypes
import glob
import os
import statistics
import sys
import time

if __package__:
    from ._common import clock_time  # first: it unsets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
else:  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from _common import clock_time  # noqa: E402

import numpy as np  # noqa: E402

import tapegrad as tg  # noqa: E402

# name: (m, k, n, transpose_a, transpose_b): C[m,n] = op(A) @ op(B), A stored [k,m] when transposed
# (else [m,k]), B stored [n,k] when transposed (else [k,n]).
SHAPES = {
    "1x1x1 (call overhead)": (1, 1, 1, False, False),
    "L1 fwd 128x784 @ 784x256": (128, 784, 256, False, False),
    "L1 dX 128x256 @ (784x256)^T": (128, 256, 784, False, True),
    "L1 dW (128x784)^T @ 128x256": (784, 128, 256, True, False),
    "L2 fwd 128x256 @ 256x256": (128, 256, 256, False, False),
    "L2 dX 128x256 @ (256x256)^T": (128, 256, 256, False, True),
    "L2 dW (128x256)^T @ 128x256": (256, 128, 256, True, False),
    "L3 fwd 128x256 @ 256x10": (128, 256, 10, False, False),
    "L3 dX 128x10 @ (256x10)^T": (128, 10, 256, False, True),
    "L3 dW (128x256)^T @ 128x10": (256, 128, 10, True, False),
    "256^3": (256, 256, 256, False, False),
    "1024^3": (1024, 1024, 1024, False, False),
}
LIBS = ("tapegrad", "numpy", "torch", "mkl", "blis")

CLOCK = time.perf_counter


def time_us(fn, repeat=5, min_time=0.02):
    """One figure in microseconds (_common.clock_time under CLOCK)."""
    return 1e6 * clock_time(fn, CLOCK, repeat, min_time)


def operands(m, k, n, ta, tb, rng):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    return a, b


def reference(a, b, ta, tb):
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    return (a64.T if ta else a64) @ (b64.T if tb else b64)


# --- libraries: each maker returns a closure computing C (as something np.asarray accepts) ---------


def make_tapegrad(a, b, ta, tb):
    at, bt = tg.constant(a), tg.constant(b)
    return lambda: tg.matmul(at, bt, transpose_a=ta, transpose_b=tb)


def make_numpy(a, b, ta, tb):
    ao, bo = (a.T if ta else a), (b.T if tb else b)  # views: numpy passes the transposes to BLAS
    return lambda: ao @ bo


def make_torch(torch, a, b, ta, tb):
    at, bt = torch.from_numpy(a), torch.from_numpy(b)
    ao, bo = (at.t() if ta else at), (bt.t() if tb else bt)
    return lambda: torch.matmul(ao, bo)


class Mkl:
    """`cblas_sgemm` and the thread count of a `libmkl_rt` loaded with ctypes."""

    ROW_MAJOR, NO_TRANS, TRANS = 101, 111, 112
    BRANCHES = {2: "AUTO", 3: "COMPATIBLE", 4: "SSE2", 6: "SSSE3", 7: "SSE4_1", 8: "SSE4_2", 9: "AVX", 10: "AVX2"}
    BRANCHES.update({12: "AVX512", 14: "AVX512_E1"})

    def __init__(self, path):
        self.lib = ctypes.CDLL(path)
        self.sgemm = self.lib.cblas_sgemm
        i, f, p = ctypes.c_int, ctypes.c_float, ctypes.c_void_p
        self.sgemm.argtypes = [i, i, i, i, i, i, f, p, i, p, i, f, p, i]
        self.sgemm.restype = None
        self.lib.MKL_Set_Num_Threads.argtypes = [i]
        self.lib.MKL_Get_Max_Threads.restype = i
        buf = ctypes.create_string_buffer(256)
        self.lib.MKL_Get_Version_String(buf, 256)
        self.version = buf.value.decode(errors="replace").strip()
        branch = self.lib.MKL_CBWR_Get_Auto_Branch()  # the code path MKL picked for this CPU
        self.branch = self.BRANCHES.get(branch, str(branch))

    def set_num_threads(self, n):
        self.lib.MKL_Set_Num_Threads(n)
        return self.lib.MKL_Get_Max_Threads()

    def make(self, a, b, ta, tb):
        m, k = (a.shape[1], a.shape[0]) if ta else a.shape
        n = b.shape[0] if tb else b.shape[1]
        c = np.empty((m, n), np.float32)
        args = (
            self.ROW_MAJOR,
            self.TRANS if ta else self.NO_TRANS,
            self.TRANS if tb else self.NO_TRANS,
            m,
            n,
            k,
            1.0,
            a.ctypes.data,
            a.shape[1],
            b.ctypes.data,
            b.shape[1],
            0.0,
            c.ctypes.data,
            n,
        )
        sgemm = self.sgemm

        def run():
            sgemm(*args)
            return c

        run.keep = (a, b, c)
        return run


def make_blis(blis_py, a, b, ta, tb):
    m = a.shape[1] if ta else a.shape[0]
    n = b.shape[0] if tb else b.shape[1]
    c = np.empty((m, n), np.float32)
    gemm = blis_py.gemm
    return lambda: gemm(a, b, out=c, trans1=ta, trans2=tb, alpha=1.0, beta=0.0)


def blis_build(blis):
    """The kernel set BLIS picked for this CPU and whether it was built with threads, read from the
    extension module's exported `bli_*` functions (the `blis` package has no Python API for it)."""
    try:
        lib = ctypes.CDLL(glob.glob(os.path.join(os.path.dirname(blis.__file__), "cy*.so"))[0])
        lib.bli_arch_string.restype = ctypes.c_char_p
        arch = lib.bli_arch_string(lib.bli_arch_query_id()).decode()
        return f"kernels {arch}, threading {'on' if lib.bli_info_get_enable_threading() else 'off (1 thread)'}"
    except (IndexError, OSError, AttributeError):
        return "build unknown"


def find_mkl(path):
    """The libmkl_rt to load: `path` (a glob) if given, else one next to this Python's packages."""
    if path:
        hits = sorted(glob.glob(path))
        return hits[-1] if hits else None
    for pattern in ("lib/libmkl_rt.so*", "lib/python*/site-packages/mkl*/**/libmkl_rt.so*"):
        hits = sorted(glob.glob(os.path.join(sys.prefix, pattern), recursive=True))
        if hits:
            return hits[-1]
    return None


def set_numpy_threads(n):
    """Set the thread count of numpy's bundled OpenBLAS (found among the loaded libraries); False if
    it could not be found."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower() and "numpy" in line}
    except OSError:
        return False
    for path in paths:
        lib = ctypes.CDLL(path)
        for sym in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, sym):
                getattr(lib, sym)(ctypes.c_int(n))
                return True
    return False


def load_libs(names, threads, mkl_lib, blis_dir):
    """{name: maker(a, b, ta, tb)} for the libraries that load, and a note per library."""
    makers, notes = {}, {}
    if "tapegrad" in names:
        tg.config.set_num_threads(threads)
        makers["tapegrad"] = make_tapegrad
        notes["tapegrad"] = f"tapegrad {tg.__version__}, engine OpenBLAS"
    if "numpy" in names:
        np.ones((2, 2), np.float32) @ np.ones((2, 2), np.float32)  # load the BLAS
        ok = set_numpy_threads(threads)
        makers["numpy"] = make_numpy
        notes["numpy"] = f"numpy {np.__version__}" + ("" if ok else " (thread count not set: OpenBLAS not found)")
    if "torch" in names:
        try:
            import torch
        except ImportError:
            notes["torch"] = "not installed: skipped"
        else:
            torch.set_num_threads(threads)
            makers["torch"] = lambda a, b, ta, tb: make_torch(torch, a, b, ta, tb)
            notes["torch"] = f"torch {torch.__version__}, {torch.get_num_threads()} threads"
    if "mkl" in names:
        path = find_mkl(mkl_lib)
        if path is None:
            notes["mkl"] = "libmkl_rt not found (--mkl-lib): skipped"
        else:
            os.environ.setdefault("MKL_THREADING_LAYER", "GNU")  # read when libmkl_rt loads
            try:
                mkl = Mkl(path)
            except (OSError, AttributeError) as e:
                notes["mkl"] = f"{path} did not load ({e}): skipped"
            else:
                got = mkl.set_num_threads(threads)
                makers["mkl"] = mkl.make
                layer = os.environ.get("MKL_THREADING_LAYER")
                notes["mkl"] = (
                    f"{mkl.version}; MKL_CBWR_Get_Auto_Branch {mkl.branch}; {got} threads, MKL_THREADING_LAYER={layer}; {path}"
                )
    if "blis" in names:
        if blis_dir:
            sys.path.insert(0, blis_dir)
        try:
            import blis
            import blis.py as blis_py
        except ImportError:
            notes["blis"] = "blis package not found (--blis-dir): skipped"
        else:
            makers["blis"] = lambda a, b, ta, tb: make_blis(blis_py, a, b, ta, tb)
            notes["blis"] = f"blis package ({os.path.dirname(blis.__file__)}); {blis_build(blis)}"
    return makers, notes


def summary(results, flops, threads, clock):
    """Markdown table: per GEMM and library, min (median) over rounds in us, and ratios of the
    minima to PyTorch's (and tapegrad / numpy)."""
    libs = [lib for lib in LIBS if any(lib in per for per in results.values())]
    print(f"\n### Summary: {threads} thread(s), {clock}, us: min (median) over rounds")
    head = ["GEMM (m x k x n)"] + libs
    ratio_libs = [lib for lib in libs if lib != "torch"] if "torch" in libs else []
    head += [f"{lib} / torch" for lib in ratio_libs]
    if "numpy" in libs and "tapegrad" in libs:
        head.append("tapegrad / numpy")
    print("| " + " | ".join(head) + " |")
    print("|" + " --- |" * len(head))
    for name, per in results.items():
        mins = {lib: min(v) for lib, v in per.items() if v}
        row = [name]
        for lib in libs:
            v = per.get(lib)
            row.append(f"{min(v):.1f} ({statistics.median(v):.1f})" if v else "")
        for lib in ratio_libs:
            row.append(f"{mins[lib] / mins['torch']:.2f}" if lib in mins and "torch" in mins else "")
        if "numpy" in libs and "tapegrad" in libs:
            row.append(f"{mins['tapegrad'] / mins['numpy']:.3f}" if "numpy" in mins else "")
        print("| " + " | ".join(row) + " |")
    big = [n for n in results if n == "1024^3"]
    for name in big:
        rates = ", ".join(f"{lib} {flops[name] / min(v) / 1e3:.0f}" for lib, v in results[name].items() if v)
        print(f"\n{name}: GFLOP/s from the minima: {rates}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--cpu", action="store_true", help="process CPU time (min of repeats); use with 1 thread")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--libs", default=",".join(LIBS))
    ap.add_argument("--only", default="", help="comma-separated substrings of the GEMM names")
    ap.add_argument("--mkl-lib", default="", help="path (or glob) of libmkl_rt.so.*")
    ap.add_argument("--blis-dir", default="", help="directory holding the `blis` package (an unzipped wheel)")
    ap.add_argument(
        "--settle", type=float, default=None, help="seconds of sleep between libraries (default: 0.1 with >1 thread)"
    )
    ap.add_argument("--smoke", action="store_true", help="one short round without 1024^3: checks the code paths")
    args = ap.parse_args(argv)
    global CLOCK
    if args.cpu:
        CLOCK = time.process_time
    settle = args.settle if args.settle is not None else (0.1 if args.threads > 1 else 0.0)
    repeat, min_time, rounds = (1, 0.0, 1) if args.smoke else (5, 0.02, args.rounds)
    makers, notes = load_libs(args.libs.split(","), args.threads, args.mkl_lib, args.blis_dir)
    clock = "CPU time, min of repeats" if args.cpu else "wall time, median of repeats"
    print(f"threads {args.threads}; times in us ({clock})")
    for lib, note in notes.items():
        print(f"  {lib}: {note}")
    rng = np.random.default_rng(0)
    cases, flops, bad = {}, {}, []
    for name, (m, k, n, ta, tb) in SHAPES.items():
        if args.only and not any(o in name for o in args.only.split(",")):
            continue
        if args.smoke and name == "1024^3":
            continue
        a, b = operands(m, k, n, ta, tb, rng)
        ref = reference(a, b, ta, tb)
        fns = {lib: make(a, b, ta, tb) for lib, make in makers.items()}
        for lib, fn in fns.items():
            got = np.asarray(fn())
            err = np.max(np.abs(got - ref)) / (np.max(np.abs(ref)) + 1e-30) if got.shape == ref.shape else np.inf
            if not err < 2e-5:
                bad.append(f"{name} {lib}: max rel err {err:.2e} against float64 (shape {got.shape})")
        cases[name] = (fns, (a, b))
        flops[name] = 2.0 * m * k * n
    for line in bad:
        print("  MISMATCH " + line)
    print(f"  checked {len(cases)} GEMMs x {len(makers)} libraries against float64 numpy: {len(bad)} mismatches")
    results = {name: {lib: [] for lib in fns} for name, (fns, _) in cases.items()}
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}")
        for name, (fns, _) in cases.items():
            libs = list(fns)
            libs = libs[r % len(libs) :] + libs[: r % len(libs)]
            cells = {}
            for lib in libs:
                if settle:
                    time.sleep(settle)
                cells[lib] = time_us(fns[lib], repeat=repeat, min_time=min_time)
                results[name][lib].append(cells[lib])
            line = "  ".join(f"{lib} {cells[lib]:9.1f}" for lib in fns)
            print(f"  {name:30s} {line}", flush=True)
    summary(results, flops, args.threads, clock)
    return results, bad


if __name__ == "__main__":
    _, _bad = main()
    sys.exit(1 if _bad else 0)
