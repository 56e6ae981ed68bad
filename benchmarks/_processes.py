"""The per-process suite (Note [One process per library]): the parent launches one child process per
(workload, library family, round), alternating the order of the families between rounds; each child
imports and measures one family and prints its rows as JSON; the parent takes the median of the
rounds, compares the results of every library with the case's reference and evaluates the budgets.

Note [One process per library]
Timed in one process, PyTorch's MLP step took 5.2 ms right after tapegrad's blocks against 1.9-2.5
ms in a process of its own (issue 15): the threads one library leaves spinning (tapegrad's pool,
an OpenBLAS, an OpenMP runtime) take the cores the next one needs, so a comparison in one process
slows whoever runs second. Each child therefore imports only its family's library (numpy and, for
the workloads that need it, tapegrad's module are imported but never run outside the tapegrad
child), sets its thread count and times its rows. The rounds alternate: round 0 runs the families
in FAMILIES order, round 1 in reverse, and so on, so that no library always follows the same
neighbour or always meets the machine's load at the same point. Checks run in round 0 only: each
child saves its results (small arrays, an .npz next to the JSON) and the parent compares them
against the case's reference (numpy by hand where it runs, else tapegrad), as the one-process suite
does. Workloads whose module sets OWN_PROCESSES (memory, data, distributed) already run each library
in a child of their own; the parent runs them as before.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback

import benchmarks._common as _common

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "BENCHMARKS-CHILD-JSON "


class LazyPeer:
    """An installed peer in the parent, imported only if a workload that runs in the parent uses it
    (the OWN_PROCESSES workloads only ask whether it is installed)."""

    def __init__(self, module):
        self._module = module

    def __getattr__(self, name):
        import importlib

        return getattr(importlib.import_module(self._module), name)


def installed_peers(wanted):
    """{peer: LazyPeer, or why it is absent}, without importing the peers."""
    import importlib.util

    from benchmarks.run import _PEER_MODULES, PEERS

    peers = {}
    for name in PEERS:
        if name not in wanted:
            peers[name] = "excluded by --peers"
        elif name == "numpy":
            import numpy

            peers[name] = numpy
        elif importlib.util.find_spec(_PEER_MODULES[name]) is None:
            peers[name] = f"{_PEER_MODULES[name]} is not installed"
        else:
            peers[name] = LazyPeer(_PEER_MODULES[name])
    return peers


# --- the child --------------------------------------------------------------------------------


def child_main(args):
    """Runs one workload for one family; prints MARK + JSON; writes the results to args.dump."""
    from benchmarks.run import _ELSEWHERE, _PEER_MODULES, PEERS, Context, Progress
    from benchmarks.workloads import load

    absent = json.loads(args.absent or "{}")
    family = args.child
    peers, notes = {}, []
    for name in PEERS:
        if name in absent:
            peers[name] = absent[name]
        elif name != family:
            peers[name] = _ELSEWHERE
        elif name == "numpy":
            import numpy

            peers[name] = numpy
        else:
            mod = _common.import_peer(_PEER_MODULES[name])
            peers[name] = mod if mod is not None else f"{_PEER_MODULES[name]} could not be imported"
    if family == "tapegrad":
        import tapegrad as tg

        tg.config.set_num_threads(args.threads)
    torch = peers.get("torch") if family == "torch" and not isinstance(peers.get("torch"), str) else None
    tf = peers.get("tf") if family == "tf" and not isinstance(peers.get("tf"), str) else None
    if torch is not None:
        torch.set_num_threads(args.threads)
    if tf is not None:
        note = _common.set_threads(args.threads, None, tf, tapegrad=False)
        if note:
            notes.append(note)
    (w,) = load([args.only[0]])
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    ctx = Context(mode, args.threads, peers, Progress(1, enabled=False), family=family, check=args.round == 0)
    ctx.args = args
    ctx.workload = w.NAME
    t0 = time.perf_counter()
    try:
        w.run(ctx)
    except Exception as e:  # noqa: BLE001  (reported as the family's error row)
        ctx.rows.append(
            dict(
                workload=w.NAME,
                case="",
                library=family,
                seconds=None,
                note=f"ERROR {type(e).__name__}: {str(e).strip()[:120]}",
                status="error",
                detail=traceback.format_exc(),
            )
        )
    arrays, results = {}, []
    for i, (case, library, got, rtol, atol) in enumerate(ctx.results):
        for j, a in enumerate(got):
            arrays[f"r{i}_{j}"] = a
        results.append(dict(case=case, library=library, count=len(got), rtol=rtol, atol=atol))
    if arrays and args.dump:
        import numpy as np

        np.savez(args.dump, **arrays)
    out = dict(
        rows=ctx.rows,
        skipped=ctx.skipped,
        budgets=ctx.budgets,
        budget_specs=ctx.budget_specs,
        tables=ctx.tables,
        results=results,
        notes=notes,
        seconds=time.perf_counter() - t0,
    )
    sys.stdout.flush()
    print(MARK + json.dumps(out), flush=True)


# --- the parent -------------------------------------------------------------------------------


def _families(w, peers):
    from benchmarks.run import FAMILIES

    allowed = getattr(w, "FAMILIES", FAMILIES)
    return [f for f in FAMILIES if f in allowed and (f == "tapegrad" or not isinstance(peers[f], str))]


def round_order(families, r):
    """The families' order in round r: as given in even rounds, reversed in odd ones.

    >>> round_order(["numpy", "tapegrad", "torch"], 1)
    ['torch', 'tapegrad', 'numpy']
    """
    return list(families) if r % 2 == 0 else list(reversed(families))


def jax_cpus(threads, available):
    """The CPUs the JAX child may run on: XLA sizes its CPU thread pool by the CPUs the process may
    use (it has no thread-count setting), so a suite run with fewer threads than the machine's
    CPUs gives JAX that many of them; None: all of them.

    >>> jax_cpus(2, [0, 1]), jax_cpus(1, [0, 1, 2, 3]), jax_cpus(8, [0, 1])
    (None, [0], None)
    """
    return sorted(available)[:threads] if threads < len(available) else None


def _jax_threads(env, threads):
    """Sets the JAX child's thread count as far as XLA allows: the CPUs it runs on (jax_cpus), and
    with 1 thread also XLA's flags for a single-threaded Eigen pool. Returns the preexec function."""
    cpus = jax_cpus(threads, os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    if threads == 1:
        flags = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " " + flags).strip()
    if cpus is None:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def _launch(args, w, family, r, absent, tmp):
    """(output dict, None) or (None, why it failed, stderr tail)."""
    dump = os.path.join(tmp, f"{w.NAME}-{family}-{r}.npz")
    mode = ["--smoke"] if args.smoke else ["--quick"] if args.quick else []
    cmd = [sys.executable, "-m", "benchmarks", "--child", family, "--only", w.NAME, "--round", str(r)]
    cmd += ["--threads", str(args.threads), "--dump", dump, "--absent", json.dumps(absent)] + mode
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get("PYTHONPATH")) if p))
    # numpy's (and tapegrad's, until set_num_threads) OpenBLAS: the suite's count, as threadpoolctl
    # would set it in one process; a value the user exported wins
    env.setdefault("OPENBLAS_NUM_THREADS", str(args.threads))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    preexec = None
    if family == "jax":
        preexec = _jax_threads(env, args.threads)
    try:
        proc = subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=args.child_timeout, preexec_fn=preexec
        )
    except subprocess.TimeoutExpired:
        return None, f"child process timed out after {args.child_timeout} s", ""
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines() or ["no output"]
        return None, f"child process failed (exit {proc.returncode}): {tail[-1][:160]}", proc.stderr[-4000:]
    out = json.loads(lines[-1][len(MARK) :])
    out["dump"] = dump if out["results"] else None
    return out, None, proc.stderr[-4000:]


def run_workload(ctx, w, args, peers, tmp):
    """Runs workload w in child processes and merges what they report into ctx (the parent's)."""
    from benchmarks.run import FAMILIES, ROUNDS, _compare

    families = _families(w, peers)
    absent = {name: v for name, v in peers.items() if isinstance(v, str)}
    rounds = ROUNDS[ctx.mode]
    outs = []  # (round, family, output)
    for r in range(rounds):
        for family in round_order(families, r):
            ctx.progress.describe(f"{w.NAME}: {family}, round {r + 1}/{rounds} (child process)")
            out, why, stderr = _launch(args, w, family, r, absent, tmp)
            if out is None:
                ctx._row("", family, None, f"ERROR {why}", "error", detail=stderr)
                continue
            outs.append((r, family, out))
    # rows: the median over rounds of each round's median; an error in any round shows instead
    merged, order, case_rank = {}, [], {}
    for r, family, out in sorted(outs, key=lambda o: (FAMILIES.index(o[1]), o[0])):
        for i, row in enumerate(out["rows"]):
            case_rank.setdefault(row["case"], len(case_rank))  # cases in the order the workload runs them
            key = (row["case"], row["library"])
            if key not in merged:
                merged[key] = []
                order.append((case_rank[row["case"]], FAMILIES.index(family), r, i, key))
            merged[key].append(row)
    order.sort()
    for *_, key in order:
        rows = merged[key]
        bad = [x for x in rows if x["status"] != "ok"]
        if bad:
            ctx.rows.append(bad[0])
            continue
        times = [x["seconds"] for x in rows]
        mid = statistics.median(times)
        pick = min(rows, key=lambda x: abs(x["seconds"] - mid))
        note = pick["note"]
        if len(rows) > 1:
            spread = f"rounds {min(times) / mid:.2f}-{max(times) / mid:.2f}x"
            note = f"{note}; {spread}" if note else spread
        ctx.rows.append(dict(pick, seconds=mid, note=note))
    _check(ctx, outs, _compare)
    for _r, _family, out in outs:
        for s in out["skipped"]:
            if tuple(s) not in ctx.skipped:
                ctx.skipped.append(tuple(s))
    seen = {}
    for _r, _family, out in outs:
        for b in out["budgets"]:
            seen[(b["case"], b["text"])] = b
        for spec in out["budget_specs"]:
            seen.setdefault((spec["case"], spec["text"]), dict(spec, _spec=True))
    for b in seen.values():
        if b.get("_spec"):
            ctx.budget(b["case"], b["text"], b["peer"], b["limit"], b["strict"], b.get("subject", "tapegrad"))
        else:
            ctx.budgets.append(b)
    tables = {}
    for _r, _family, out in outs:
        for title, headers, trows in out["tables"]:
            tables[title] = (title, headers, trows)
    ctx.tables.extend(tables.values())
    notes = sorted({n for _, _, out in outs for n in out["notes"]})
    if hasattr(w, "finish"):
        w.finish(ctx)
    return notes


def _check(ctx, outs, compare):
    """Round 0's results, in family order: the first is the case's reference (numpy by hand where it
    ran, else tapegrad); a library that differs shows MISMATCH instead of its time."""
    import numpy as np

    from benchmarks.run import FAMILIES

    got = []  # (family index, position, case, library, arrays, rtol, atol)
    for r, family, out in outs:
        if r != 0 or not out["results"]:
            continue
        with np.load(out["dump"]) as z:
            for i, res in enumerate(out["results"]):
                arrays = [z[f"r{i}_{j}"] for j in range(res["count"])]
                got.append((FAMILIES.index(family), i, res["case"], res["library"], arrays, res["rtol"], res["atol"]))
    got.sort(key=lambda g: g[:2])
    refs = {}
    for _, _, case, library, arrays, rtol, atol in got:
        if case not in refs:
            refs[case] = (library, arrays)
            continue
        ref_lib, ref = refs[case]
        problem = compare(arrays, ref, rtol, atol)
        if problem:
            for row in ctx.rows:
                if row["workload"] == ctx.workload and row["case"] == case and row["library"] == library:
                    row.update(seconds=None, note=f"MISMATCH vs {ref_lib}: {problem}", status="mismatch")


def run_all(ctx, selected, args, peers):
    """The per-process suite over `selected`; returns (per-workload durations, header notes)."""
    durations, notes = [], []
    with tempfile.TemporaryDirectory(prefix="tapegrad-bench-") as tmp:
        for w in selected:
            ctx.workload = w.NAME
            ctx.progress.describe(w.NAME)
            t_w = time.perf_counter()
            if getattr(w, "OWN_PROCESSES", False):
                w.run(ctx)
            else:
                for n in run_workload(ctx, w, args, peers, tmp):
                    if n not in notes:
                        notes.append(n)
            durations.append(f"{w.NAME} {time.perf_counter() - t_w:.0f}")
            ctx.progress.advance(w.NAME)
    return durations, notes
