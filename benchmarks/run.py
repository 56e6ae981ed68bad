"""tapegrad benchmark suite: every workload against the installed peers, each library in its own
process (benchmarks/_processes.py), with the same data and thread count; prints medians and ratios
to tapegrad, checks the budgets (the workload table in benchmarks/README.md), and saves the table
as Markdown and a PNG bar chart.

    python -m benchmarks [--quick] [--only tape,mlp] [--threads 2] [--peers torch,tf] [--out DIR] [--in-process]
    python benchmarks/run.py ...
"""

import os
import sys

if not __package__:  # run as a script: make `benchmarks` importable
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

import benchmarks._common as _common  # noqa: E402  (unsets the OpenBLAS variables before numpy loads)

PEERS = ("numpy", "torch", "tf", "jax")  # numpy = numpy by hand
_PEER_MODULES = {"torch": "torch", "tf": "tensorflow", "jax": "jax"}
DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# The child processes of the per-process suite, one per library family, in the order their rows
# are shown (numpy by hand first: where it runs it is the reference of the equality checks).
FAMILIES = ("numpy", "tapegrad", "torch", "tf", "jax")
ROUNDS = {"full": 3, "quick": 2, "smoke": 1}
_ELSEWHERE = "measured in another process"  # a peer's entry in a child that measures another family


def library_family(library):
    """Which process measures a table's library: "numpy", "tapegrad", "torch", "tf" or "jax".

    >>> [library_family(s) for s in ("PyTorch eager", "Keras 3 on TF fit (jit_compile=True)", "numpy by hand")]
    ['torch', 'tf', 'numpy']
    >>> library_family("copy probe, 7 streams in 3 passes (torch, 2 threads)")
    'torch'
    """
    for family, prefixes, marks in (
        ("numpy", ("numpy",), ("(numpy",)),
        ("torch", ("PyTorch",), ("(torch",)),
        ("tf", ("TF", "Keras"), ("(TF",)),
        ("jax", ("JAX",), ("(JAX",)),
    ):
        if library.startswith(prefixes) or any(m in library for m in marks):
            return family
    return "tapegrad"  # tapegrad itself and its C++ probes


class Progress:
    """A progress bar over the workloads on stderr: tqdm when installed, else a small built-in one.
    When stderr is not a terminal, one line per finished workload instead."""

    def __init__(self, total, enabled=True, use_tqdm=True):
        self.total, self.done, self.enabled, self._bar = total, 0, enabled, None
        self.tty = sys.stderr.isatty()
        self.t0 = time.perf_counter()
        if enabled and use_tqdm and self.tty:
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, file=sys.stderr, unit="workload", leave=False)
            except ImportError:
                pass

    def _line(self, text):
        filled = int(20 * self.done / max(self.total, 1))
        return f"[{'#' * filled}{'.' * (20 - filled)}] {self.done}/{self.total} {time.perf_counter() - self.t0:4.0f}s {text}"

    def describe(self, text):
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.set_postfix_str(text[:60], refresh=True)
        elif self.tty:
            sys.stderr.write("\r" + self._line(text)[:100].ljust(100))
            sys.stderr.flush()

    def advance(self, name=""):
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        elif self.enabled and not self.tty:
            print(self._line(f"{name} done"), file=sys.stderr, flush=True)
        else:
            self.describe(f"{name} done")

    def close(self):
        if self._bar is not None:
            self._bar.close()
        elif self.enabled and self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")
            sys.stderr.flush()


class Context:
    """What a workload gets: sizes for the mode, peers, and `bench`/`budget`/`skip` to record results."""

    def __init__(self, mode, threads, peers, progress, family=None, check=True):
        self.mode, self.threads, self.progress = mode, threads, progress
        self.quick, self.smoke = mode == "quick", mode == "smoke"
        # family: None in one process (every library here); in a child process of the per-process
        # suite, the one library family it measures (see Note [One process per library])
        self.family, self.check = family, check
        if family is None:
            self.repeat, self.min_time = {"full": (9, 0.5), "quick": (5, 0.1), "smoke": (1, 0.0)}[mode]
        else:  # each of ROUNDS child processes takes a share of the rounds
            self.repeat, self.min_time = {"full": (3, 0.3), "quick": (3, 0.1), "smoke": (1, 0.0)}[mode]
        self._peers = peers  # name -> module, or a string saying why it is absent
        self.rows, self.budgets, self.skipped, self.tables = [], [], [], []
        self.budget_specs = []  # in a child: budgets the parent evaluates once every library has a time
        self.results = []  # in a child: (case, library, arrays, rtol, atol) for the parent's checks
        self.workload = None
        self._refs = {}
        self._skipped_peers = set()

    def wants(self, library):
        """Whether this process measures `library` (always, in one process)."""
        return self.family is None or library_family(library) == self.family

    # --- sizes and peers ------------------------------------------------------------------------
    def pick(self, full, quick=None, smoke=None):
        if self.smoke and smoke is not None:
            return smoke
        if (self.quick or self.smoke) and quick is not None:
            return quick
        return full

    def peer(self, name):
        """The peer's module (numpy for "numpy"), or None after recording why it is skipped."""
        got = self._peers[name]
        if got is _ELSEWHERE:  # measured in another child process
            return None
        if isinstance(got, str):
            if (self.workload, name) not in self._skipped_peers:
                self._skipped_peers.add((self.workload, name))
                self.skip("", name, got)
            return None
        return got

    def skip(self, case, library, reason):
        self.skipped.append((self.workload, case, library, reason))

    # --- measuring ------------------------------------------------------------------------------
    def bench(self, case, library, fn, result=None, rtol=1e-3, atol=1e-5, per=1, bytes_moved=None, note=""):
        """Checks `result()` (numpy arrays) against the case's reference, then times `fn`.

        The first result recorded for a case is its reference (workloads run numpy by hand first when
        they have it). `per`: units per call (the table shows time per unit); `bytes_moved`: bytes per
        unit, for a GB/s note. Returns seconds per unit, or None when it failed or did not match.
        """
        if not self.wants(library):
            return None
        self.progress.describe(f"{self.workload}: {case} {library}")
        key = (self.workload, case)
        try:
            if result is not None and self.family is not None:  # the parent compares
                if self.check:
                    self.results.append(
                        (case, library, _as_arrays(result() if callable(result) else result), rtol, atol)
                    )
            elif result is not None:
                got = _as_arrays(result() if callable(result) else result)
                if key not in self._refs:
                    self._refs[key] = (library, got)
                else:
                    ref_lib, ref = self._refs[key]
                    problem = _compare(got, ref, rtol, atol)
                    if problem:
                        self._row(case, library, None, f"MISMATCH vs {ref_lib}: {problem}", "mismatch")
                        return None
            seconds = (
                _common.median_time(fn, self.repeat, min_time=self.min_time, slow=0.2 if self.quick else None) / per
            )
        except Exception as e:  # noqa: BLE001  (a failing library is reported in the table, not fatal)
            msg = str(e).strip().splitlines()[0][:120] if str(e).strip() else ""
            self._row(case, library, None, f"ERROR {type(e).__name__}: {msg}", "error", detail=traceback.format_exc())
            return None
        if bytes_moved:
            note = (note + "; " if note else "") + f"{bytes_moved / seconds / 1e9:.1f} GB/s"
        self._row(case, library, seconds, note, "ok")
        return seconds

    def _row(self, case, library, seconds, note, status, detail=None):
        if not self.wants(library):
            return
        self.rows.append(
            dict(
                workload=self.workload,
                case=case,
                library=library,
                seconds=seconds,
                note=note,
                status=status,
                detail=detail,
            )
        )

    def time_of(self, case, library, workload=None):
        for r in self.rows:
            if r["workload"] == (workload or self.workload) and r["case"] == case and r["library"] == library:
                return r["seconds"]
        return None

    def budget(self, case, text, peer, limit, strict=False, subject="tapegrad"):
        """Budget `time(subject) / time(peer) <= limit` (`< limit` when strict), from this run;
        `subject` is a tapegrad row ("tapegrad", "tapegrad tf.function")."""
        if self.family is not None:  # the parent evaluates it when both times are in
            self.budget_specs.append(dict(case=case, text=text, peer=peer, limit=limit, strict=strict, subject=subject))
            return
        t_tg, t_peer = self.time_of(case, subject), self.time_of(case, peer)
        if t_tg is None or t_peer is None:
            missing = subject if t_tg is None else peer
            self.budget_result(case, text, f"not measured ({missing} has no time)", None)
            return
        ratio = t_tg / t_peer
        met = ratio < limit if strict else ratio <= limit
        self.budget_result(case, text, f"measured {ratio:.3f}x {peer}", met)

    def budget_result(self, case, text, measured, met):
        self.budgets.append(dict(workload=self.workload, case=case, text=text, measured=measured, met=met))

    def table(self, title, headers, rows):
        self.tables.append((title, headers, rows))


def _as_arrays(value):
    import numpy as np

    if isinstance(value, (list, tuple)):
        return [np.asarray(v, dtype=np.float64) for v in value]
    return [np.asarray(value, dtype=np.float64)]


def _compare(got, ref, rtol, atol):
    import numpy as np

    if len(got) != len(ref):
        return f"{len(got)} results, expected {len(ref)}"
    for i, (g, r) in enumerate(zip(got, ref)):
        if g.shape != r.shape:
            return f"result {i}: shape {g.shape}, expected {r.shape}"
        if not np.allclose(g, r, rtol=rtol, atol=atol):
            err = np.max(np.abs(g - r) / (atol + rtol * np.abs(r)))
            return f"result {i} off by {err:.1f}x the tolerance (rtol={rtol}, atol={atol})"
    return None


# --- output ------------------------------------------------------------------------------------


def _ratio_text(ctx, row):
    t_tg = ctx.time_of(row["case"], "tapegrad", row["workload"])
    if row["seconds"] is None or t_tg is None:
        return "-"
    return f"{row['seconds'] / t_tg:.2f}x"


def _table_lines(headers, rows, markdown):
    if markdown:
        out = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
        return out + ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return [fmt.format(*headers), fmt.format(*("-" * w for w in widths))] + [fmt.format(*map(str, r)) for r in rows]


def report(ctx, header, markdown=False):
    """The whole report as text (console or Markdown)."""
    lines = []
    if markdown:
        lines += ["# tapegrad benchmarks", ""] + [f"- {h}" for h in header] + [""]
    else:
        lines += header + [""]
    headers = ["workload", "case", "library", "median", "time / tapegrad", "note"]
    rows = [
        (
            r["workload"],
            r["case"],
            r["library"],
            "-" if r["seconds"] is None else _common.format_time(r["seconds"]),
            _ratio_text(ctx, r),
            r["note"],
        )
        for r in ctx.rows
    ]
    lines += _table_lines(headers, rows, markdown) if rows else ["(no timings)"]
    lines += ["", "## Budgets (benchmarks/README.md)" if markdown else "Budgets (benchmarks/README.md):"]
    for b in ctx.budgets:
        verdict = {True: "met", False: "NOT MET", None: "not checked"}[b["met"]]
        case = f" {b['case']}" if b["case"] else ""
        lines.append(
            f"{'- ' if markdown else '  '}{b['workload']}{case}: budget: {b['text']}; {b['measured']}: {verdict}"
        )
    for title, theaders, trows in ctx.tables:
        lines += ["", f"## {title}" if markdown else f"{title}:"] + _table_lines(theaders, trows, markdown)
    if ctx.skipped:
        lines += ["", "## Skipped" if markdown else "Skipped:"]
        for workload, case, library, reason in ctx.skipped:
            where = " ".join(x for x in (workload, case, library) if x)
            lines.append(f"{'- ' if markdown else '  '}{where}: skipped: {reason}")
    return "\n".join(lines) + "\n"


# one colour per library family, whatever the variant ("PyTorch Adam fused", "TF tf.function", ...)
_FAMILY_COLORS = {
    "tapegrad": "tab:red",
    "numpy": "tab:gray",
    "PyTorch": "tab:orange",
    "TF": "tab:blue",
    "JAX": "tab:green",
    "probe": "tab:purple",
}


def _family(library):
    for prefix, family in (
        ("tapegrad", "tapegrad"),
        ("numpy", "numpy"),
        ("PyTorch", "PyTorch"),
        ("TF", "TF"),
        ("JAX", "JAX"),
    ):
        if library.startswith(prefix):
            return family
    return "probe"  # copy probes and the triad


def save_png(ctx, path):
    """Bar chart of time / tapegrad per row (log scale). Returns None, or why no PNG was written."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no PNG (pip install matplotlib)"
    rows = [r for r in ctx.rows if r["seconds"] is not None and ctx.time_of(r["case"], "tapegrad", r["workload"])]
    if not rows:
        return "no rows with a tapegrad time: no PNG"
    labels = [f"{r['workload']} {r['case']} - {r['library']}" for r in rows]
    ratios = [r["seconds"] / ctx.time_of(r["case"], "tapegrad", r["workload"]) for r in rows]
    families = [_family(r["library"]) for r in rows]
    fig, ax = plt.subplots(figsize=(11, 1.5 + 0.22 * len(rows)))
    ax.barh(range(len(rows)), ratios, color=[_FAMILY_COLORS[f] for f in families])
    from matplotlib.patches import Patch

    ax.legend(
        handles=[Patch(color=_FAMILY_COLORS[f], label=f) for f in _FAMILY_COLORS if f in families],
        loc="best",
        fontsize=8,
    )
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("time / tapegrad time (log scale; > 1: tapegrad is faster)")
    ax.set_title(f"tapegrad benchmarks ({ctx.threads} threads, {ctx.mode})")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


# --- entry point -------------------------------------------------------------------------------


def _load_peers(wanted, threads):
    """{peer: module or reason}, plus notes on thread control."""
    import numpy as np

    peers, notes = {}, []
    for name in PEERS:
        if name not in wanted:
            peers[name] = "excluded by --peers"
        elif name == "numpy":
            peers[name] = np
        else:
            mod = _common.import_peer(_PEER_MODULES[name])
            peers[name] = mod if mod is not None else f"{_PEER_MODULES[name]} is not installed"
    torch = peers["torch"] if not isinstance(peers["torch"], str) else None
    peers["_torch_threads"] = torch.get_num_threads() if torch is not None else None
    tf = peers["tf"] if not isinstance(peers["tf"], str) else None
    tf_note = _common.set_threads(threads, torch, tf)
    if tf_note:
        notes.append(tf_note)
    try:
        from threadpoolctl import threadpool_limits

        peers["_threadpool"] = threadpool_limits(limits=threads)  # kept alive for the run
        notes.append(f"numpy (and every loaded BLAS/OpenMP pool): {threads} threads via threadpoolctl")
    except ImportError:
        if os.environ.get("OPENBLAS_NUM_THREADS") == str(threads):
            notes.append(
                f"threadpoolctl is not installed: numpy's BLAS set to {threads} threads "
                "with OPENBLAS_NUM_THREADS before numpy loaded"
            )
        else:
            notes.append(
                "threadpoolctl is not installed and numpy was already loaded: numpy's BLAS uses "
                "its default thread count (pip install threadpoolctl)"
            )
    if "jax" in wanted and not isinstance(peers["jax"], str):
        notes.append(
            f"JAX: XLA sizes its pool by the CPUs a process may use, so its child process (per-process mode) runs on {threads} "
            "of them when the machine has more (sched_setaffinity); with 1 thread XLA_FLAGS also asks for a "
            "single-threaded Eigen pool (benchmarks/_processes.py jax_cpus)"
        )
    return peers, notes


def _restore_threads(peers, tg_threads):
    """Puts thread counts back (the suite may run inside a test process)."""
    import tapegrad as tg

    if "_threadpool" in peers:
        peers["_threadpool"].restore_original_limits()
    if tg.config.get_num_threads() != tg_threads:
        tg.config.set_num_threads(tg_threads)
    if not isinstance(peers["torch"], str):
        peers["torch"].set_num_threads(peers["_torch_threads"])


def mode_of(args):
    return "smoke" if args.smoke else "quick" if args.quick else "full"


def _version(module, name):
    """A peer's version without importing it where it is a LazyPeer (the per-process parent)."""
    if isinstance(module, __import__("types").ModuleType):
        return module.__version__
    from importlib import metadata

    for dist in (name, name + "-cpu"):  # CI installs tensorflow-cpu
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return "?"


def parse_args(argv=None):
    from benchmarks.workloads import NAMES as names

    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=" ".join(__doc__.split("\n\n")[0].split()))
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats (about a minute)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, one repeat: checks the code paths only")
    ap.add_argument("--only", default="", help="comma-separated workloads: " + ", ".join(names))
    ap.add_argument("--threads", type=int, default=2, help="threads for every library (default 2)")
    ap.add_argument(
        "--peers",
        default=",".join(PEERS),
        help=f"comma-separated peers to run besides tapegrad (default all installed: {','.join(PEERS)})",
    )
    ap.add_argument("--out", default=DEFAULT_OUT, help="directory for results.md and results.png")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument(
        "--in-process",
        action="store_true",
        help="time every library in this one process (the old suite; a library's idle threads slow "
        "the next one: see benchmarks/README.md)",
    )
    ap.add_argument("--child-timeout", type=int, default=900, help=argparse.SUPPRESS)
    # a child process of the per-process suite (benchmarks/_processes.py)
    ap.add_argument("--child", choices=FAMILIES, help=argparse.SUPPRESS)
    ap.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--dump", default="", help=argparse.SUPPRESS)
    ap.add_argument("--absent", default="", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.only = [s for s in args.only.split(",") if s]
    for s in args.only:
        if s not in names:
            ap.error(f"unknown workload {s!r}; choose from {', '.join(names)}")
    args.peers = [s for s in args.peers.split(",") if s]
    for s in args.peers:
        if s not in PEERS:
            ap.error(f"unknown peer {s!r}; choose from {', '.join(PEERS)}")
    if args.threads < 1:
        ap.error("--threads must be at least 1")
    if args.child and len(args.only) != 1:
        ap.error("--child needs one workload in --only")
    return args


def main(argv=None, use_tqdm=True):
    """Runs the suite; returns the Context (rows, budgets, skipped) and writes results.md / .png."""
    args = parse_args(argv)
    if args.child:
        if "numpy" not in sys.modules:
            os.environ.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
        from benchmarks import _processes

        return _processes.child_main(args)
    if "numpy" not in sys.modules and args.in_process:  # without threadpoolctl numpy's only thread control
        os.environ["OPENBLAS_NUM_THREADS"] = str(args.threads)
    import numpy as np

    import tapegrad as tg
    from benchmarks import _processes
    from benchmarks.workloads import NAMES, load

    saved_threads = tg.config.get_num_threads()
    if args.in_process:
        peers, notes = _load_peers(args.peers, args.threads)
    else:
        peers = _processes.installed_peers(args.peers)
        notes = [
            f"each library in its own process: {ROUNDS[mode_of(args)]} round(s) of one child process per "
            "library and workload, the order of the libraries reversed every other round; the median of the "
            "rounds' medians ('rounds a-bx': the fastest and slowest round / the median); results checked "
            "across processes (benchmarks/README.md)"
        ]
    mode = mode_of(args)
    selected = load([n for n in NAMES if not args.only or n in args.only])
    progress = Progress(len(selected), enabled=not args.no_progress, use_tqdm=use_tqdm)
    ctx = Context(mode, args.threads, peers, progress)
    ctx.args = args
    t0 = time.perf_counter()
    durations = []
    try:
        if args.in_process:
            for w in selected:
                ctx.workload = w.NAME
                progress.describe(w.NAME)
                t_w = time.perf_counter()
                w.run(ctx)
                if hasattr(w, "finish"):  # derived tables and budgets (the per-process parent calls it too)
                    w.finish(ctx)
                durations.append(f"{w.NAME} {time.perf_counter() - t_w:.0f}")
                progress.advance(w.NAME)
        else:
            durations, child_notes = _processes.run_all(ctx, selected, args, peers)
            notes += child_notes
    finally:
        progress.close()
        if args.in_process:
            _restore_threads(peers, saved_threads)
    versions = [f"tapegrad {tg.__version__}", f"numpy {np.__version__}"] + [
        f"{_PEER_MODULES[p]} {_version(peers[p], _PEER_MODULES[p])}"
        for p in ("torch", "tf", "jax")
        if not isinstance(peers[p], str)
    ]
    header = (
        [
            f"tapegrad benchmark suite, {mode} mode, {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
            f"{time.perf_counter() - t0:.0f} s (per workload: {', '.join(durations)} s)",
            f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_implementation()} "
            f"{platform.python_version()}; {', '.join(versions)}",
            f"threads: {args.threads} for every library (tg.config.set_num_threads, torch.set_num_threads, "
            "TF intra/inter-op"
            + (
                ""
                if args.in_process
                else f", OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', args.threads)}"
            )
            + "); OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset",
        ]
        + notes
        + ["medians; 'time / tapegrad' > 1 means tapegrad is faster; errors and mismatches are shown instead of a time"]
    )
    text = report(ctx, header)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    md_path = os.path.join(args.out, "results.md")
    with open(md_path, "w") as f:
        f.write(report(ctx, header, markdown=True))
    png_problem = save_png(ctx, os.path.join(args.out, "results.png"))
    print(f"saved {md_path}" + (f"; {png_problem}" if png_problem else f" and {os.path.join(args.out, 'results.png')}"))
    for r in ctx.rows:
        if r["detail"]:
            print(f"\n{r['workload']} {r['case']} {r['library']}:\n{r['detail']}", file=sys.stderr)
    ctx.markdown_path = md_path
    return ctx


if __name__ == "__main__":
    main()
