"""Data-parallel training over MPI with Horovod's TF-2 API (``import tapegrad.distribute as hvd``).

A Horovod script ports by changing its imports::

    import tapegrad as tf
    import tapegrad.distribute as hvd

    hvd.init()
    ...
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    tape = hvd.DistributedGradientTape(tape)     # gradient() all-reduces (Average)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
    if first_step:
        hvd.broadcast_variables(model.variables, root_rank=0)

launched with ``mpiexec -n 4 python train.py``. The engine is MPI through mpi4py (the ``mpi``
extra: ``pip install "tapegrad[mpi]"``); without ``mpiexec`` ``init()`` gives a world of one.
Gradients are fused into buckets (``HOROVOD_FUSION_THRESHOLD`` bytes, default 64 MiB) whose
allreduce starts on a communication thread as soon as the C++ backward pass has finished every
gradient in the bucket. See docs/scaling_out.md.

Without ``mpiexec``, in one process:

>>> import tapegrad as tg
>>> import tapegrad.distribute as hvd
>>> hvd.init()
>>> hvd.rank(), hvd.size()
(0, 1)
>>> hvd.allreduce(tg.constant([1.0, 2.0])).numpy().tolist()
[1.0, 2.0]
"""

import atexit
import os

import numpy as np

from .. import _core
from .._custom_gradient import custom_gradient
from .._indexed_slices import IndexedSlices
from .._ops import convert_to_tensor
from .._tensor import Tensor, Variable
from ..errors import FailedPreconditionError
from . import _engine

__all__ = [
    "init",
    "shutdown",
    "is_initialized",
    "rank",
    "size",
    "local_rank",
    "local_size",
    "cross_rank",
    "cross_size",
    "is_homogeneous",
    "mpi_threads_supported",
    "mpi_enabled",
    "mpi_built",
    "allreduce",
    "grouped_allreduce",
    "allgather",
    "broadcast",
    "broadcast_variables",
    "broadcast_object",
    "allgather_object",
    "DistributedGradientTape",
    "DistributedOptimizer",
    "Compression",
    "Average",
    "Sum",
    "Adasum",
    "Min",
    "Max",
    "Product",
    "FailedPreconditionError",
]

# Reduction ops, with Horovod's values (horovod/common/basics.py).
Average, Sum, Adasum, Min, Max, Product = 0, 1, 2, 3, 4, 5
_OP_NAMES = {Average: "Average", Sum: "Sum", Adasum: "Adasum", Min: "Min", Max: "Max", Product: "Product"}
_MPI_OP = {Average: "sum", Sum: "sum", Min: "min", Max: "max", Product: "product"}
DEFAULT_FUSION_THRESHOLD = 64 * 1024 * 1024

_NOT_INITIALIZED = "Horovod has not been initialized; use hvd.init()."
_MISSING_MPI = (
    'tapegrad.distribute needs mpi4py and an MPI library; install them with: pip install "tapegrad[mpi]" '
    "(mpi4py and the mpich wheel, which ships mpiexec)"
)

_engine_state = None
_previous_excepthook = None
_recorded_collectives = 0  # collectives recorded on a tape so far (See _gradients.reduce_gradients)


# --- init and topology ------------------------------------------------------------------------------
def init(comm=None, process_sets=None, fusion_threshold=None):
    """Starts tapegrad.distribute (Horovod's ``hvd.init``): MPI's world, or `comm` (an mpi4py
    communicator or a list of world ranks). Without ``mpiexec`` the world is this one process.

    `fusion_threshold`: bucket size in bytes for fused gradient allreduces (default: the
    ``HOROVOD_FUSION_THRESHOLD`` environment variable, else 64 MiB; 0 puts each tensor alone).
    Calling it again is a no-op, as in Horovod. An uncaught exception on any rank then ends the
    whole job with MPI_Abort, never leaving the other ranks blocked.
    """
    global _engine_state, _previous_excepthook
    if _engine_state is not None:
        return
    if process_sets is not None:
        raise NotImplementedError("tapegrad.distribute has no process sets: init(process_sets=...) must be None")
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(_MISSING_MPI) from e
    if fusion_threshold is None:
        fusion_threshold = int(os.environ.get("HOROVOD_FUSION_THRESHOLD", DEFAULT_FUSION_THRESHOLD))
    if fusion_threshold < 0:
        raise ValueError(f"fusion_threshold must be >= 0 bytes, got {fusion_threshold}")
    if comm is None:
        comm = MPI.COMM_WORLD.Dup()
    elif isinstance(comm, (list, tuple)):
        ranks = [int(r) for r in comm]
        group = MPI.COMM_WORLD.Get_group().Incl(ranks)
        comm = MPI.COMM_WORLD.Create_group(group)
        if comm == MPI.COMM_NULL:
            raise ValueError(f"This process (world rank {MPI.COMM_WORLD.Get_rank()}) is not in init(comm={ranks})")
    else:
        comm = comm.Dup()
    _engine_state = _engine.Engine(MPI, comm, fusion_threshold)
    _previous_excepthook = _engine.install_abort_hook(_engine_state)


def shutdown():
    """Stops the communication thread and frees the communicators (MPI itself is finalized at exit)."""
    global _engine_state, _previous_excepthook
    if _engine_state is None:
        return
    import sys
    import threading

    eng, _engine_state = _engine_state, None
    if _previous_excepthook is not None:
        sys.excepthook, _previous_excepthook = _previous_excepthook, None
        threading.excepthook = threading.__excepthook__
    eng.close()


atexit.register(shutdown)


def is_initialized():
    """Whether ``init()`` has been called (and not ``shutdown()``)."""
    return _engine_state is not None


def _eng():
    if _engine_state is None:
        raise ValueError(_NOT_INITIALIZED)
    return _engine_state


def rank():
    """This process's rank in the world, 0 .. size()-1."""
    return _eng().rank


def size():
    """The number of processes."""
    return _eng().size


def local_rank():
    """This process's rank among the processes on its machine."""
    return _eng().local_rank


def local_size():
    """The number of processes on this machine."""
    return _eng().local_size


def cross_rank():
    """The index of this machine among the machines (the rank among processes with the same local rank)."""
    return _eng().cross_rank


def cross_size():
    """The number of machines (processes with the same local rank)."""
    return _eng().cross_size


def is_homogeneous():
    """Whether every machine runs the same number of processes."""
    return _eng().homogeneous


def mpi_threads_supported():
    """Whether MPI was initialised with MPI_THREAD_MULTIPLE."""
    e = _eng()
    return e.MPI.Query_thread() == e.MPI.THREAD_MULTIPLE


def mpi_enabled():
    """Whether MPI is available (mpi4py imports)."""
    try:
        import mpi4py.MPI  # noqa: F401
    except ImportError:
        return False
    return True


mpi_built = mpi_enabled


# --- compression ------------------------------------------------------------------------------------
class Compressor:
    """Interface of Horovod's compressors: ``compress(array) -> (array, ctx)``, ``decompress(array, ctx)``.
    Here they act on the numpy views that go to MPI, below the tensors."""

    @staticmethod
    def compress(array):
        return array, None

    @staticmethod
    def decompress(array, ctx):
        return array


class NoneCompressor(Compressor):
    """No compression: tensors go to MPI as they are."""


class FP16Compressor(Compressor):
    """Floating tensors travel (and are summed and scaled) as float16, then are cast back."""

    @staticmethod
    def compress(array):
        if array.dtype.kind == "f" and array.dtype != np.float16:
            return array.astype(np.float16), array.dtype
        return array, None

    @staticmethod
    def decompress(array, ctx):
        return array if ctx is None else array.astype(ctx)


class Compression:
    """``hvd.Compression.none`` and ``hvd.Compression.fp16``."""

    none = NoneCompressor
    fp16 = FP16Compressor


# --- collectives ------------------------------------------------------------------------------------
def _as_tensor(x):
    if isinstance(x, (Tensor, Variable)):
        return x
    return convert_to_tensor(x)


def _view(t):
    return t._array_view()


def _check_op(op, average=None):
    if average is not None:
        if op is not None:
            raise ValueError("The op parameter supersedes average. Please provide only one of them.")
        op = Average if average else Sum
    if op is None:
        op = Average
    if op == Adasum:
        raise NotImplementedError("tapegrad.distribute does not implement op=hvd.Adasum")
    if op not in _MPI_OP:
        raise ValueError(f"Unknown reduction op {op!r}; use hvd.Average, hvd.Sum, hvd.Min, hvd.Max or hvd.Product")
    return op


def _scale_in_place(arr, factor):
    if factor == 1.0:
        return
    if arr.dtype.kind == "f":
        arr *= arr.dtype.type(factor)
    else:
        np.multiply(arr, factor, out=arr, casting="unsafe")


def _reduce_arrays(eng, views, codes_shapes, op, pre, post, compression):
    """Allreduce of one or more numpy views of the same dtype (the same on every rank): one MPI
    call. Returns fresh tensors. See Note [Zero copy]."""
    mpi_op = eng._ops[_MPI_OP[op]]
    post = post / eng.size if op == Average else post
    bf16 = views[0].dtype.name == "bfloat16"  # MPI has no bfloat16: reduced as float32, rounded back
    if len(views) == 1 and compression is NoneCompressor and pre == 1.0 and not bf16:
        code, shape = codes_shapes[0]
        out_t, out = _engine.empty_like_shape(shape, code)
        if out.size:
            eng.comm.Allreduce(views[0], out, op=mpi_op)
        _scale_in_place(out, post)
        return [out_t]
    sizes = [v.size for v in views]
    src_dtype = views[0].dtype
    wire_dtype = np.dtype(np.float32) if bf16 else compression.compress(np.empty(0, src_dtype))[0].dtype
    buf = np.empty(sum(sizes), wire_dtype)
    off = 0
    for v, n in zip(views, sizes):
        buf[off : off + n] = v.reshape(-1)
        off += n
    if pre != 1.0:
        _scale_in_place(buf, pre)
    if buf.size:
        eng.comm.Allreduce(eng.MPI.IN_PLACE, buf, op=mpi_op)
    _scale_in_place(buf, post)
    outs, off = [], 0
    for (code, shape), n in zip(codes_shapes, sizes):
        out_t, out = _engine.empty_like_shape(shape, code)
        out.reshape(-1)[:] = buf[off : off + n]
        off += n
        outs.append(out_t)
    return outs


def _bytes_view(a):
    """For collectives that only move bytes (allgather, broadcast): bfloat16 travels as uint16."""
    return a.view(np.uint16) if a.dtype.name == "bfloat16" else a


def _desc(kind, t, *extra):
    return (kind, t.dtype.name, tuple(int(d) for d in t.shape)) + extra


def allreduce(
    tensor,
    average=None,
    device_dense="",
    device_sparse="",
    compression=Compression.none,
    op=None,
    prescale_factor=1.0,
    postscale_factor=1.0,
    name=None,
    process_set=None,
    ignore_name_scope=False,
):
    """The reduction of `tensor` over all ranks: ``postscale * op_ranks(prescale * tensor)``, with
    ``op`` one of ``hvd.Average`` (the default), ``Sum``, ``Min``, ``Max``, ``Product``. Shape and
    dtype must be the same on every rank, else ``tapegrad.errors.FailedPreconditionError`` on every
    rank (Horovod's message, with the tensor's name and the ranks). Average on integer tensors
    truncates, as a cast back to the integer type does.

    >>> import tapegrad as tg, tapegrad.distribute as hvd
    >>> hvd.init()
    >>> hvd.allreduce(tg.constant([2, 4]), op=hvd.Sum).numpy().tolist()
    [2, 4]

    A ``tf.IndexedSlices`` (e.g. the gradient of an embedding) is allgathered instead, as Horovod
    does: values and indices of every rank concatenated in rank order, the values divided by
    ``size()`` for Average; the result is an IndexedSlices with the same ``dense_shape``. Only
    Average and Sum, without prescale/postscale factors (``NotImplementedError``, Horovod's words).

    >>> s = hvd.allreduce(tg.IndexedSlices(tg.constant([[1.0, 2.0]]), tg.constant([3]), tg.constant([5, 2])))
    >>> s.values.numpy().tolist(), s.indices.numpy().tolist(), s.dense_shape.numpy().tolist()
    ([[1.0, 2.0]], [3], [5, 2])
    """

    eng = _engine_state
    if (
        eng is not None
        and eng.native is not None
        and type(tensor) is Tensor
        and average is None
        and compression is Compression.none
        and process_set is None
        and prescale_factor == 1.0
        and postscale_factor == 1.0
        and not _core.any_tape_active()
    ):
        out = _allreduce_native(eng, tensor, Average if op is None else op, name)
        if out is not None:
            return out

    def fwd(x):
        return grouped_allreduce(
            [x],
            average,
            device_dense,
            device_sparse,
            compression,
            op,
            prescale_factor,
            postscale_factor,
            process_set,
            ignore_name_scope,
            name=None if name is None else [name],
        )[0]

    if isinstance(tensor, IndexedSlices):  # allgathered (See Note [Sparse gradients across ranks])
        return fwd(tensor)

    def grad(dy):  # Horovod: the same reduction of the upstream gradient
        return fwd(dy)

    return _differentiable(fwd, grad, _as_tensor(tensor))


def _allreduce_native(eng, t, op, name):
    """hvd.allreduce of one Tensor in one engine call (Note [Native collectives] in _engine.py):
    the reduced tensor, or None, before anything collective, when the call is not one it takes."""
    key = (t._dtype_code, t._shape_tuple, op)
    entry = eng.native_entries.get(key)
    if entry is None:
        if len(eng.native_entries) > 4096:  # as hash_of's cache: programs with ever new shapes
            eng.native_entries.clear()
        entry = eng.native_entries[key] = _native_entry(eng, t, op)
    if not entry:
        return None
    h, mpi_type, mpi_op, scale, desc = entry
    name = "allreduce.0" if name is None else name
    with eng.collective(f"ALLREDUCE {name}"):
        out = eng.native.allreduce(t, mpi_type, mpi_op, h, scale)
        if out is None:
            eng._mismatch(desc, name)
    return out


def _native_entry(eng, t, op):
    """(check hash, MPI datatype, MPI op, scale, description) of an allreduce of tensors like t, as
    the Python path would check and scale it; False where the native path does not apply."""
    mpi_type = eng.native.types.get(t._dtype_code)
    if mpi_type is None or op not in _MPI_OP or int(np.prod(t._shape_tuple)) > 2**31 - 1:  # (Adasum: not in _MPI_OP)
        return False
    floating = t.dtype.is_floating
    if op == Average and not floating:  # integer Average truncates: the Python path does that
        return False
    desc = _desc("allreduce", t, _OP_NAMES[op], 1.0, 1.0, Compression.none.__name__, "a tensor")
    return eng.hash_of(desc), mpi_type, _MPI_OP[op], (1.0 / eng.size if op == Average else 1.0), desc


def _differentiable(fwd, grad, t):
    """fwd(t), recorded with backward `grad` when a tape is recording (Horovod's registered gradients).
    See _gradients.reduce_gradients: a step that records a collective is reduced without overlap."""
    if not (_core.any_tape_active() and t.dtype.is_floating):
        return fwd(t)
    global _recorded_collectives
    _recorded_collectives += 1

    @custom_gradient
    def op(x):
        out = fwd(x)
        return (_core.identity(out) if out is x else out), grad

    return op(t)


def grouped_allreduce(
    tensors,
    average=None,
    device_dense="",
    device_sparse="",
    compression=Compression.none,
    op=None,
    prescale_factor=1.0,
    postscale_factor=1.0,
    process_set=None,
    ignore_name_scope=False,
    name=None,
):
    """Allreduce of a list of tensors as one group (fused per dtype); returns a list, position-wise.
    ``tf.IndexedSlices`` entries are allgathered first (see `allreduce`), the tensors reduced after."""
    eng = _eng()
    _no_process_set(process_set)
    slices = [i for i, t in enumerate(tensors) if isinstance(t, IndexedSlices)]
    if slices:
        names = list(name) if isinstance(name, (list, tuple)) else [name] * len(tensors)
        out = list(tensors)
        for i, r in zip(
            slices,
            _allgather_slices(
                [tensors[i] for i in slices], average, op, prescale_factor, postscale_factor, [names[i] for i in slices]
            ),
        ):
            out[i] = r
        dense = [i for i in range(len(tensors)) if i not in set(slices)]
        if dense:
            reduced = grouped_allreduce(
                [tensors[i] for i in dense],
                average,
                device_dense,
                device_sparse,
                compression,
                op,
                prescale_factor,
                postscale_factor,
                process_set,
                ignore_name_scope,
                name=[names[i] for i in dense],
            )
            for i, r in zip(dense, reduced):
                out[i] = r
        return out
    op = _check_op(op, average)
    ts = [_as_tensor(t) for t in tensors]
    names = list(name) if isinstance(name, (list, tuple)) else [name] * len(ts)
    names = [n if n is not None else f"allreduce.{i}" for i, n in enumerate(names)]
    for t in ts:
        if t.dtype.name == "bool":
            raise TypeError(f"hvd.allreduce does not support bool tensors (got {t!r}); cast to an integer type first")
    pre, post = float(prescale_factor), float(postscale_factor)
    if op not in (Average, Sum) and (pre != 1.0 or post != 1.0):
        raise ValueError("prescale_factor and postscale_factor are only supported with op=hvd.Average or hvd.Sum")
    if eng.size == 1 and pre == 1.0 and post == 1.0:
        return [t if isinstance(t, Tensor) else convert_to_tensor(t) for t in ts]
    descs = tuple(_desc("allreduce", t, _OP_NAMES[op], pre, post, compression.__name__, "a tensor") for t in ts)
    with eng.collective(f"ALLREDUCE {names[0] if len(names) == 1 else names}"):
        eng.check(("group", descs) if len(ts) != 1 else descs[0], tuple(names) if len(ts) != 1 else names[0])
        return _reduce_groups(eng, ts, op, pre, post, compression, eng.fusion_threshold)


def _check_slices_op(op, average, prescale_factor=1.0, postscale_factor=1.0):
    """Horovod's checks for an allreduce of tf.IndexedSlices; returns the op (Average or Sum)."""
    if op == Adasum and average is None:
        raise NotImplementedError(
            "The Adasum reduction does not currently support sparse tensors. As a "
            "workaround please pass sparse_as_dense=True to DistributedOptimizer"
        )
    op = _check_op(op, average)
    if op != Sum and op != Average:
        raise NotImplementedError("Only Sum and Average ops are supported with tf.IndexedSlices")
    if float(prescale_factor) != 1.0 or float(postscale_factor) != 1.0:
        raise NotImplementedError("Pre/postscale_factor are not supported with tf.IndexedSlices")
    return op


def _allgather_slices(slices, average, op, prescale_factor, postscale_factor, names):
    """Horovod's allreduce of tf.IndexedSlices: two allgathers each (values, then indices), in list
    order; Average divides the gathered values by size(). Returns IndexedSlices (same dense_shape)."""
    op = _check_slices_op(op, average, prescale_factor, postscale_factor)
    size = _eng().size
    out = []
    for s, n in zip(slices, names):
        n = n or "allreduce"
        values = allgather(s.values, name=f"{n}.values")
        indices = allgather(s.indices, name=f"{n}.indices")
        if op == Average:
            values = values / convert_to_tensor(np.asarray(size, values.dtype.as_numpy_dtype))
        out.append(IndexedSlices(values, indices, s.dense_shape))
    return out


def _reduce_groups(eng, ts, op, pre, post, compression, threshold):
    out = [None] * len(ts)
    for bucket in _plan([(t.dtype.name, _nbytes(t)) for t in ts], range(len(ts)), threshold):
        outs = _reduce_arrays(
            eng,
            [_view(ts[i]) for i in bucket],
            [(ts[i]._dtype_code, tuple(ts[i].shape)) for i in bucket],
            op,
            pre,
            post,
            compression,
        )
        for i, o in zip(bucket, outs):
            out[i] = o
    return out


def _nbytes(t):
    n = t.dtype.size
    for d in t.shape:
        n *= int(d)
    return n


def _plan(keys, order, threshold):
    """Buckets of indices: `order` walked once, each index joins the open bucket of its dtype unless
    that would pass `threshold` bytes (then a new one opens). keys[i] = (dtype name, bytes).
    Deterministic: a function of shapes and dtypes only, the same on every rank."""
    buckets, open_ = [], {}
    for i in order:
        dt, nb = keys[i]
        b = open_.get(dt)
        if b is None or (b[1] + nb > threshold and b[1] > 0) or threshold == 0:
            b = [len(buckets), 0]
            open_[dt] = b
            buckets.append([])
        buckets[b[0]].append(i)
        b[1] += nb
    return buckets


def _no_process_set(process_set):
    if process_set is not None:
        raise NotImplementedError("tapegrad.distribute has no process sets: process_set must be None")


def allgather(tensor, name=None, ignore_name_scope=False, process_set=None):
    """The concatenation along dimension 0 of `tensor` from every rank, in rank order. The first
    dimension may differ across ranks; the others and the dtype must match.

    >>> import tapegrad as tg, tapegrad.distribute as hvd
    >>> hvd.init()
    >>> hvd.allgather(tg.constant([[1.0, 2.0]])).shape
    TensorShape([1, 2])
    """
    t = _as_tensor(tensor)
    rows = []

    def fwd(x):
        out, counts = _allgather(x, name, process_set)
        rows[:] = counts
        return out

    def grad(dy):  # Horovod: average the upstream gradient, keep this rank's rows
        dy = allreduce(dy, op=Average)
        start = sum(rows[: _eng().rank])
        return dy[start : start + rows[_eng().rank]]

    return _differentiable(fwd, grad, t)


def _allgather(t, name, process_set):
    eng = _eng()
    _no_process_set(process_set)
    shape = tuple(int(d) for d in t.shape)
    if not shape:
        raise ValueError(f"hvd.allgather needs a tensor of rank >= 1, got a scalar ({name or 'allgather'})")
    name = name or "allgather"
    desc = ("allgather", t.dtype.name, (None,) + shape[1:])
    with eng.collective(f"ALLGATHER {name}"):
        h = eng.hash_of(desc)
        meta = np.array([h, shape[0]], np.int64)
        metas = np.empty((eng.size, 2), np.int64)
        eng.comm.Allgather(meta, metas)
        if (metas[:, 0] != h).any():
            eng._mismatch(desc, name)
        row = int(np.prod(shape[1:], dtype=np.int64))
        counts = [int(d) * row for d in metas[:, 1]]
        out_t, out = _engine.empty_like_shape((int(metas[:, 1].sum()),) + shape[1:], t._dtype_code)
        if eng.size == 1:
            out[...] = _view(t)
        elif out.size:
            eng.comm.Allgatherv(_bytes_view(_view(t)), [_bytes_view(out), counts])
    return out_t, [int(d) for d in metas[:, 1]]


def broadcast(tensor, root_rank, name=None, ignore_name_scope=False, process_set=None):
    """`tensor`'s value on `root_rank`, on every rank (shape and dtype must match).

    >>> import tapegrad as tg, tapegrad.distribute as hvd
    >>> hvd.init()
    >>> hvd.broadcast(tg.constant([3.0]), root_rank=0).numpy().tolist()
    [3.0]
    """
    eng = _eng()
    _no_process_set(process_set)
    _check_root(eng, root_rank)
    name = name or "broadcast"

    def fwd(x):
        with eng.collective(f"BROADCAST {name}"):
            if eng.size > 1:
                eng.check(_desc("broadcast", x, int(root_rank)), name)
            return _broadcast_unchecked(eng, x, root_rank)

    def grad(dy):  # Horovod: the averaged gradient on the root, zeros elsewhere
        dy = allreduce(dy, op=Average)
        return dy if eng.rank == root_rank else dy * 0.0

    return _differentiable(fwd, grad, _as_tensor(tensor))


def _broadcast_unchecked(eng, t, root_rank):
    if eng.rank == root_rank:
        if eng.size > 1 and t.shape.num_elements():
            eng.comm.Bcast(_bytes_view(_view(t)), root=root_rank)
        return t if isinstance(t, Tensor) else convert_to_tensor(t)
    out_t, out = _engine.empty_like_shape(tuple(int(d) for d in t.shape), t._dtype_code)
    if out.size:
        eng.comm.Bcast(_bytes_view(out), root=root_rank)
    return out_t


def _check_root(eng, root_rank):
    if not isinstance(root_rank, (int, np.integer)) or not 0 <= int(root_rank) < eng.size:
        raise ValueError(f"root_rank must be an integer in [0, {eng.size}), got {root_rank!r}")


def broadcast_variables(variables, root_rank, process_set=None, inplace=False):
    """Assigns every variable its value on `root_rank` (one check, then one broadcast each)."""
    eng = _eng()
    _no_process_set(process_set)
    _check_root(eng, root_rank)
    variables = list(variables)
    for v in variables:
        if not isinstance(v, Variable):
            raise TypeError(f"broadcast_variables expects tf.Variable objects, got {type(v).__name__}")
    if eng.size == 1 or not variables:
        return
    names = tuple(getattr(v, "name", f"variable.{i}") for i, v in enumerate(variables))
    with eng.collective(f"BROADCAST of {len(variables)} variables"):
        eng.check(("group", tuple(_desc("broadcast", v, int(root_rank)) for v in variables)), names)
        values = [_broadcast_unchecked(eng, v, root_rank) for v in variables]
    if eng.rank != root_rank:
        for v, value in zip(variables, values):
            v.assign(value)


def broadcast_global_variables(root_rank):
    """Not available in eager execution (Horovod's error)."""
    raise RuntimeError(
        "hvd.broadcast_global_variables() does not support eager execution. Please use "
        "`hvd.broadcast_variables(<model/optimizer variables>)` instead."
    )


def broadcast_object(obj, root_rank=0, name=None, process_set=None):
    """`obj` (any picklable Python object) from `root_rank`, on every rank."""
    eng = _eng()
    _no_process_set(process_set)
    _check_root(eng, root_rank)
    if eng.size == 1:
        return obj
    with eng.collective("broadcast_object"):
        return eng.comm.bcast(obj, root=int(root_rank))


def allgather_object(obj, name=None, process_set=None):
    """A list with every rank's `obj` (picklable), in rank order."""
    eng = _eng()
    _no_process_set(process_set)
    if eng.size == 1:
        return [obj]
    with eng.collective("allgather_object"):
        return eng.comm.allgather(obj)


def barrier(process_set=None):
    """Waits until every rank has called it."""
    eng = _eng()
    _no_process_set(process_set)
    with eng.collective("barrier"):
        eng.comm.Barrier()


from ._gradients import DistributedGradientTape, DistributedOptimizer  # noqa: E402


def __getattr__(name):
    if name == "callbacks":  # imports Keras only when asked for
        import importlib

        return importlib.import_module(__name__ + ".callbacks")
    raise AttributeError(f"module 'tapegrad.distribute' has no attribute {name!r}")
