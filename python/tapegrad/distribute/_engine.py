"""The MPI side of tapegrad.distribute: the communicator, one communication thread, and the
collectives on tensors' memory.

Note [Collective order]
Every rank must issue the same collectives in the same order. All of them go through `Engine`:
every collective runs under ``Engine.lock``. Synchronous calls (``hvd.allreduce``) run on the
caller's thread; the gradient reduction of ``DistributedGradientTape`` reduces its buckets in
their fixed plan order (waiting for each to be ready), never in the order they happen to become
ready: the communication thread takes each bucket as it becomes ready while the backward pass
runs, and the caller's thread takes the ones left when the backward pass ends (no wait for a
thread wake-up on the critical path). Each collective is checked by a 16-byte allreduce of
``[h, -h]`` with MAX (h a hash of what this rank is about to do): equal hashes on all ranks or a
``FailedPreconditionError`` on all ranks naming the tensor and the ranks, never a mismatched MPI
call (which would crash or silently sum the wrong bytes). Direct calls check just before the data;
a gradient reduction checks its whole plan with a non-blocking allreduce posted before the
backward pass, and None-ness travels with each bucket (_gradients.py).

Note [Zero copy]
MPI reads the source tensor's buffer through a read-only numpy view (`_array_view`) and writes the
result straight into a fresh tensor's buffer (`_core._empty_with_view`): a single-tensor
allreduce copies nothing. A bucket of several tensors is packed into one buffer and unpacked into
fresh tensors (Horovod's fusion buffer: one copy in, one copy out).

Note [Native collectives]
``hvd.allreduce`` of one dense Tensor (no tape recording it, no compression, prescale and postscale
1, a real dtype, more than one rank) is one engine call: `_core._mpi_allreduce` runs the cross-rank
check and the data allreduce back to back without the GIL, into a fresh tensor. It calls the MPI
library that mpi4py loaded: MPI_Allreduce found with ``dlopen(soname, RTLD_NOLOAD)`` (only a library
already in the process), handles from mpi4py's ``_handleof``, int-sized (MPICH) or pointer-sized
(Open MPI, the MPI-5 ABI) as ``MPI._sizeof`` says. The build links no MPI. Its check hashes the same
description as the Python path and moves the same bytes with the same MPI datatype (the one mpi4py
gives a numpy array of that dtype), so a rank on either path matches the other. Every rank decides at init, together, whether the library was found
(a LAND allreduce) and works (a test sum through the native call, compared, then a second LAND), so
no rank takes a path another does not. ``TAPEGRAD_DISTRIBUTE_NATIVE=0`` turns it off (for A/B).
Why: the Python path costs ~20 us a call on top of MPI (argument handling, the plan, a 16-byte
mpi4py call for the check, a numpy view): +16% to +67% over raw mpi4py at 1 MiB, where the issue's
budget is 5%.
"""

import ctypes
import hashlib
import os
import queue
import sys
import threading
import time
import traceback

import numpy as np

from .. import _core
from .._dtypes import as_dtype
from ..errors import FailedPreconditionError

_KIND_NAMES = {"allreduce": "ALLREDUCE", "allgather": "ALLGATHER", "broadcast": "BROADCAST"}


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


class Job:
    """A unit of work for the communication thread; `result()` waits for it and re-raises."""

    def __init__(self, fn):
        self.fn, self.done = fn, threading.Event()
        self.value, self.error = None, None

    def result(self):
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value


class _Collective:
    """Engine.collective's context: a plain class, not @contextmanager (its generator cost ~1.5 us
    a call, a tenth of a small native allreduce; Note [Native collectives])."""

    __slots__ = ("eng", "what", "outer")

    def __init__(self, eng, what):
        self.eng, self.what, self.outer = eng, what, None

    def __enter__(self):
        eng = self.eng
        eng.lock.acquire()
        self.outer = eng.pending
        if self.outer is None:
            eng.pending = (self.what, time.monotonic())

    def __exit__(self, *exc):
        eng = self.eng
        if self.outer is None:
            eng.pending = None
        eng.lock.release()


class Engine:
    """The world: communicators, topology, the communication thread and the collectives."""

    def __init__(self, MPI, comm, fusion_threshold):
        self.MPI = MPI
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.local_comm = comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = self.local_comm.Get_rank(), self.local_comm.Get_size()
        self.cross_comm = comm.Split(color=self.local_rank, key=self.rank)
        self.cross_rank, self.cross_size = self.cross_comm.Get_rank(), self.cross_comm.Get_size()
        self.homogeneous = len(set(comm.allgather(self.local_size))) == 1
        self.fusion_threshold = int(fusion_threshold)
        self.overlap = True
        self.lock = threading.RLock()
        self._hashes = {}
        self.native_entries = {}  # (dtype code, shape, op) -> what the native path needs (__init__.py)
        self._check_in = np.zeros(2, np.int64)
        self._check_out = np.zeros(2, np.int64)
        self._ops = {"sum": MPI.SUM, "min": MPI.MIN, "max": MPI.MAX, "product": MPI.PROD}
        self.native = bind_native(MPI, comm, self._ops) if self.size > 1 else None
        self.pending = None  # (what, since): the collective this process is inside, for the watchdog
        self.stall_warn = float(os.environ.get("HOROVOD_STALL_CHECK_TIME_SECONDS", 60))
        self.stall_abort = float(os.environ.get("HOROVOD_STALL_SHUTDOWN_TIME_SECONDS", 0))
        if os.environ.get("HOROVOD_STALL_CHECK_DISABLE", "0") not in ("", "0") or self.size == 1:
            self.stall_warn = self.stall_abort = 0.0
        self._queue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._loop, name="tapegrad-distribute-comm", daemon=True)
        self._thread.start()
        if self.stall_warn > 0 or self.stall_abort > 0:
            threading.Thread(target=self._watchdog, name="tapegrad-distribute-watchdog", daemon=True).start()

    # --- the communication thread ---------------------------------------------------------------
    def _loop(self):
        while True:
            job = self._queue.get()
            if job is None:
                return
            try:  # a job takes self.lock around each collective itself
                job.value = job.fn()
            except BaseException as e:  # noqa: BLE001  (handed to the waiting thread)
                job.error = e
            job.done.set()

    def collective(self, what):
        """Holds the lock around one collective and tells the watchdog what this rank waits in (a
        context manager)."""
        return _Collective(self, what)

    def _watchdog(self):
        """Horovod's stall check: a rank blocked in one collective for HOROVOD_STALL_CHECK_TIME_SECONDS
        (60) says so; after HOROVOD_STALL_SHUTDOWN_TIME_SECONDS (0: never) it ends the job, e.g. when
        another rank has exited (sys.exit) without joining the collective."""
        warned = None
        while self._thread.is_alive():
            time.sleep(0.25)
            pending = self.pending
            if pending is None:
                continue
            what, since = pending
            waited = time.monotonic() - since
            if self.stall_warn > 0 and waited > self.stall_warn and warned is not pending:
                warned = pending
                sys.stderr.write(
                    f"tapegrad.distribute: rank {self.rank} has waited {waited:.0f} s in {what}; "
                    "one or more ranks have not submitted it (stalled or exited)\n"
                )
                sys.stderr.flush()
            if self.stall_abort > 0 and waited > self.stall_abort:
                sys.stderr.write(
                    f"tapegrad.distribute: rank {self.rank} of {self.size} waited {waited:.0f} s in "
                    f"{what} (HOROVOD_STALL_SHUTDOWN_TIME_SECONDS={self.stall_abort:g}); calling "
                    "MPI_Abort to end the job on every rank\n"
                )
                sys.stderr.flush()
                time.sleep(0.5)
                self.MPI.COMM_WORLD.Abort(1)

    def submit(self, fn):
        job = Job(fn)
        self._queue.put(job)
        return job

    def close(self):
        self._queue.put(None)
        self._thread.join(timeout=10)
        for c in (self.cross_comm, self.local_comm, self.comm):
            try:
                c.Free()
            except Exception:  # noqa: BLE001
                pass

    # --- the cross-rank check (See Note [Collective order]) ---------------------------------------
    def hash_of(self, desc):
        """A 56-bit hash of desc (a tuple of str/int/float/None), cached: the same on every rank."""
        h = self._hashes.get(desc)
        if h is None:
            h = int.from_bytes(hashlib.blake2b(repr(desc).encode(), digest_size=7).digest(), "little")
            if len(self._hashes) > 4096:
                self._hashes.clear()
            self._hashes[desc] = h
        return h

    def check(self, desc, name):
        """desc: a hashable tuple saying what this rank is about to do, the same on every rank."""
        h = self.hash_of(desc)
        self._check_in[0], self._check_in[1] = h, -h
        self.comm.Allreduce(self._check_in, self._check_out, op=self.MPI.MAX)
        if self._check_out[0] != h or self._check_out[1] != -h:
            self._mismatch(desc, name)

    def _mismatch(self, desc, name):
        descs = self.comm.allgather((desc, name))
        raise FailedPreconditionError(None, None, mismatch_message(descs))


def mismatch_message(descs):
    """Horovod's message (controller.cc::ConstructResponse) for the first field that differs, then
    which rank sent what for which tensor. descs: one (desc, name) per rank; desc = (kind, dtype,
    shape, extra...) or ("group", (desc, ...))."""
    flat = []  # per rank: list of (desc, name)
    for desc, name in descs:
        if desc[0] == "group":
            flat.append([(d, n) for d, n in zip(desc[1], name)])
        else:
            flat.append([(desc, name)])
    counts = {len(f) for f in flat}
    if len(counts) > 1:
        per = "; ".join(f"rank {r} sent {len(f)}" for r, f in enumerate(flat))
        return f"Mismatched number of tensors in a grouped collective: {per}."
    for i in range(len(flat[0])):
        column = [f[i] for f in flat]
        ref = column[0][0]
        for r, (d, n) in enumerate(column):
            if d == ref:
                continue
            return _describe(ref, d, 0, r, column[0][1], n)
    return "Mismatched collectives across ranks."


def _describe(a, b, ra, rb, name_a, name_b):
    who = (
        f" (tensor {name_a!r} on rank {ra}, tensor {name_b!r} on rank {rb})"
        if name_a != name_b
        else f" (tensor {name_a!r}: rank {ra} and rank {rb})"
    )
    if a[0] != b[0]:
        return (
            f"Mismatched operations: One rank did an {_KIND_NAMES.get(a[0], a[0])}, but another rank did an "
            f"{_KIND_NAMES.get(b[0], b[0])}.{who}"
        )
    kind = _KIND_NAMES.get(a[0], a[0])
    if a[1] != b[1]:
        return f"Mismatched data types: One rank had type {a[1]}, but another rank had type {b[1]}.{who}"
    if a[0] == "allgather":
        if len(a[2]) != len(b[2]):
            return (
                f"Mismatched ALLGATHER tensor shapes: One rank sent a tensor of rank {len(a[2])}, but another "
                f"rank sent a tensor of rank {len(b[2])}.{who}"
            )
        for dim, (x, y) in enumerate(zip(a[2], b[2])):
            if dim and x != y:
                return (
                    f"Mismatched ALLGATHER tensor shapes: One rank sent a tensor with dimension {dim} equal "
                    f"to {x}, but another rank sent a tensor with dimension {dim} equal to {y}.{who}"
                )
    elif a[2] != b[2]:
        return (
            f"Mismatched {kind} tensor shapes: One rank sent a tensor of shape {_shape_text(a[2])}, but another "
            f"rank sent a tensor of shape {_shape_text(b[2])}.{who}"
        )
    if a[0] == "allreduce":
        if a[3] != b[3]:
            return f"Mismatched reduction operations: One rank sent {a[3]}, but another rank sent {b[3]}.{who}"
        if a[4:6] != b[4:6]:
            return (
                f"Mismatched prescale and/or postscale factors: One rank sent factors ({a[4]}, {a[5]}), but "
                f"another rank sent factors ({b[4]}, {b[5]}).{who}"
            )
        if a[6] != b[6]:
            return f"Mismatched compression: One rank used {a[6]}, but another rank used {b[6]}.{who}"
        if a[7] != b[7]:
            return f"Mismatched gradients: One rank has {a[7]}, but another rank has {b[7]}.{who}"
    if a[0] == "broadcast" and a[3] != b[3]:
        return (
            f"Mismatched BROADCAST root ranks: One rank specified root rank {a[3]}, but another rank "
            f"specified root rank {b[3]}.{who}"
        )
    return f"Mismatched {kind} requests: {a} on rank {ra}, {b} on rank {rb}.{who}"


def install_abort_hook(engine):
    """An uncaught exception on one rank ends the whole job (MPI_Abort) instead of leaving the other
    ranks blocked in a collective; the message names the rank and the error."""
    previous = sys.excepthook

    def hook(typ, value, tb):
        try:
            previous(typ, value, tb)
        except Exception:  # noqa: BLE001
            traceback.print_exception(typ, value, tb)
        if engine.size > 1:
            msg = "".join(traceback.format_exception_only(typ, value)).strip()
            sys.stderr.write(
                f"tapegrad.distribute: rank {engine.rank} of {engine.size} failed with {msg}; "
                f"calling MPI_Abort to end the job on every rank\n"
            )
            sys.stderr.flush()
            sys.stdout.flush()
            time.sleep(0.5)  # mpiexec forwards output asynchronously and drops what is left at the abort
            engine.MPI.COMM_WORLD.Abort(1)

    def thread_hook(args):  # the same for an uncaught exception in any other thread
        if args.exc_type is SystemExit:
            return
        hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook
    return previous


def empty_like_shape(shape, dtype_code):
    """A fresh tensor and a writable numpy view of its buffer (See Note [Zero copy])."""
    return _core._empty_with_view(list(shape), dtype_code)


# --- the native path (See Note [Native collectives]) ---------------------------------------------
_LIBMPI_SONAMES = ("libmpi.so.12", "libmpi.so.40", "libmpi_abi.so.0", "libmpi.so")
# The real dtypes the native path reduces. Their MPI datatypes are the ones mpi4py gives numpy
# arrays of the dtype (MPI._typedict, by the numpy type character: MPI_LONG for int64, not
# MPI_INT64_T), so that a rank on the Python path, which hands mpi4py numpy views, names the same.
_NATIVE_DTYPES = ("float32", "float64", "int32", "int64", "uint8", "int8", "int16", "uint16", "uint32", "uint64")


class Native:
    """The MPI library's entry points and this communicator's handles, for `_core._mpi_allreduce`."""

    def __init__(self, MPI, comm, ops):
        lib = None
        for soname in _LIBMPI_SONAMES:  # only a library already loaded (by mpi4py): RTLD_NOLOAD
            try:
                lib = ctypes.CDLL(soname, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
                lib.MPI_Allreduce, lib.MPI_Error_string  # noqa: B018  (AttributeError: not an MPI)
                break
            except (OSError, AttributeError):
                lib = None
        if lib is None:
            raise OSError(f"none of {', '.join(_LIBMPI_SONAMES)} is loaded in this process")

        def address(fn):
            return ctypes.cast(fn, ctypes.c_void_p).value

        def handle(obj):
            return MPI._handleof(obj) & 0xFFFFFFFFFFFFFFFF

        _core._mpi_bind(address(lib.MPI_Allreduce), address(lib.MPI_Error_string), MPI._sizeof(MPI.COMM_WORLD) > 4)
        self.comm = handle(comm)
        self.types = {as_dtype(n)._code: handle(MPI._typedict[np.dtype(n).char]) for n in _NATIVE_DTYPES}
        self.ops = {name: handle(op) for name, op in ops.items()}  # the engine's table, as handles
        self.int64 = self.types[as_dtype("int64")._code]  # the check's [h, -h], as the Python path's

    def allreduce(self, t, mpi_type, mpi_op, h, scale):
        """The reduced tensor, or None when the ranks' check hashes `h` differ (on every rank alike)."""
        return _core._mpi_allreduce(t, self.comm, mpi_type, self.ops[mpi_op], h, self.int64, self.ops["max"], scale)


def bind_native(MPI, comm, ops):
    """The Native of this communicator when every rank found and tested one, else None on every rank.
    ops: the engine's reduction table (name -> MPI.Op)."""
    native = None
    if os.environ.get("TAPEGRAD_DISTRIBUTE_NATIVE", "1") != "0":
        try:
            native = Native(MPI, comm, ops)
        except (OSError, AttributeError, KeyError, ValueError):
            native = None
    if not comm.allreduce(native is not None, op=MPI.LAND):
        return None
    rank, size = comm.Get_rank(), comm.Get_size()
    from .._ops import convert_to_tensor

    probe = convert_to_tensor(np.array([rank, 1], np.int64))
    try:
        got = native.allreduce(probe, native.int64, "sum", 0x5A17, 1.0)
        works = got is not None and got.numpy().tolist() == [size * (size - 1) // 2, size]
    except RuntimeError:
        works = False
    return native if comm.allreduce(works, op=MPI.LAND) else None
