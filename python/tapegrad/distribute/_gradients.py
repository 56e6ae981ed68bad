"""DistributedGradientTape and DistributedOptimizer: gradients all-reduced in fused buckets, each
started as soon as the C++ backward pass has finished it (See Note [Source ready] in
cpp/autodiff/tape.cpp and Note [Collective order] in _engine.py)."""

import os
import threading

import numpy as np

from .. import _core
from .. import distribute as _distribute
from .._indexed_slices import IndexedSlices, _from_engine
from .._ops import convert_to_tensor
from .._tape import GradientTape
from .._tensor import Tensor, Variable
from ..errors import FailedPreconditionError
from . import (
    _OP_NAMES,
    Average,
    Compression,
    _allgather_slices,
    _check_op,
    _check_slices_op,
    _desc,
    _eng,
    _engine,
    _nbytes,
    _no_process_set,
    _plan,
    _reduce_arrays,
)

_seen = [0]  # _distribute._recorded_collectives at the last reduction
# See Note [Sparse gradients across ranks]: TAPEGRAD_DISTRIBUTE_SPARSE_OVERLAP=0 (or setting this to
# False) brings back the whole backward pass first for tapes with sparse gradients (benchmarks).
SPARSE_OVERLAP = os.environ.get("TAPEGRAD_DISTRIBUTE_SPARSE_OVERLAP", "1") != "0"
# Counters (tests, benchmarks): backward passes that kept sparse gradients sparse and reported each
# source as it became final ("sparse_overlapped"), or ran whole first ("sparse_whole_first"); bucket
# reductions the communication thread started while the backward pass still ran ("started_during_backward").
counters = {"sparse_overlapped": 0, "sparse_whole_first": 0, "started_during_backward": 0}
_walking = [False]  # an engine backward pass with a per-source callback runs on the caller's thread
_abandoned: list = []  # plan checks of failed reductions that could not be completed (See `abandon`)

# Note [Sparse gradients across ranks]
# ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
# A tf.IndexedSlices gradient (a gather along axis 0, an embedding) is not all-reduced but
# allgathered, as Horovod does with sparse_as_dense=False: every rank's values and indices,
# concatenated in rank order (values / size for Average), an IndexedSlices with the same
# dense_shape. The optimizer's sparse step then adds duplicate rows, so the update equals the dense
# one. Such gradients are in no bucket: they are allgathered on the caller's thread after the last
# bucket, in source order, so every rank runs the same collectives in the same order. The plan
# checked before the first bucket lists them, so a source sparse on one rank and dense on another
# fails on every rank ("Mismatched gradients: One rank has a tensor, but another rank has an
# IndexedSlices.").
# Which sources are sparse must therefore be known before the backward pass: with
# sparse_as_dense=False, a tape whose recording holds a gather that can make a sparse gradient
# (Tape._may_give_sparse) asks the engine (Tape._sparse_plan, Note [Sparse plan] in
# cpp/autodiff/tape.cpp: the walk's own rules run on kinds of gradients, not values). Then the
# sparse-keeping backward pass (compute_gradient_sparse) reports each source as it becomes final
# (on_source_ready, See Note [Source ready]), as the dense path does: the dense buckets are reduced
# on the communication thread while the walk goes on, and the sparse sources of the plan are
# allgathered after the last bucket. A gradient that arrives sparse where the plan said dense (or
# the reverse) is an internal error naming the source, raised before any collective of that
# gradient, never a silent difference between ranks. Where the plan cannot tell (a custom gradient
# between a gather and the target: its Python function decides at run time), or with
# SPARSE_OVERLAP off, the whole backward pass runs first and the sparse sources are those that came
# back sparse (no overlap). A tape without such a gather takes the densifying overlapped path, which
# gives the same gradients. The same program on every rank makes the same choice.
# sparse_as_dense=True always takes the densifying overlapped path.


class _GradientReduction:
    """One gradient() call's reduction: a fixed plan of buckets (sources walked in reverse order,
    the order a backward pass finishes them, grouped by dtype up to the fusion threshold or as
    `groups` says), readiness counters fed by the backward pass, and `run()`, the communication
    thread's part, which reduces the buckets in plan order. Sources in `sparse` (their gradients are
    tf.IndexedSlices, known before the reduction starts) are in no bucket: `finish` allgathers them,
    in source order, after the last bucket (See Note [Sparse gradients across ranks])."""

    def __init__(self, eng, sources, op, compression, pre, post, local, scale_local, groups, sparse=()):
        n = len(sources)
        self.eng, self.sources, self.op, self.compression = eng, sources, op, compression
        self.pre, self.post, self.local, self.scale_local = pre, post, local, scale_local
        self.sparse = [i for i in sorted(sparse) if i not in local]
        self.grads = [None] * n
        self.results = [None] * n
        shared = [i for i in range(n) if i not in local and i not in sparse]
        if groups is None:
            keys = [(s.dtype.name, _nbytes(s)) for s in sources]
            self.buckets = _plan(keys, shared[::-1], eng.fusion_threshold)
        else:
            self.buckets = _group_plan(sources, shared, groups)
        self.bucket_of = [-1] * n
        for b, members in enumerate(self.buckets):
            for i in members:
                self.bucket_of[i] = b
        self.pending = [len(m) for m in self.buckets]
        self.ready = [threading.Event() for _ in self.buckets]
        self.cancelled = False
        self.next, self.error = 0, None  # the next bucket to reduce, guarded by eng.lock
        self.names = [_source_name(s, i) for i, s in enumerate(sources)]
        self._plan_req = None

    def on_ready(self, i, grad):
        """Called from the backward pass (GIL held) when source i's gradient is final."""
        if grad is not None and not isinstance(grad, Tensor) and not (i in self.sparse or i in self.local):
            raise TypeError(f"tapegrad.distribute: expected a Tensor gradient for {self.names[i]!r}, got {grad!r}")
        self.grads[i] = grad
        b = self.bucket_of[i]
        if b >= 0:
            self.pending[b] -= 1
            if self.pending[b] == 0:
                self.ready[b].set()

    def cancel(self):
        self.cancelled = True
        for e in self.ready:
            e.set()

    def abandon(self):
        """The backward pass raised: no more buckets. The plan check every rank posted in `start` is
        completed here when no collective holds the lock (never waiting for one: the communication
        thread may be inside a bucket another rank will not join); otherwise its buffers are kept
        alive (`_abandoned`) for MPI to finish writing them."""
        self.cancel()
        if self._plan_req is None:
            return
        if self.eng.lock.acquire(blocking=False):
            try:
                if self._plan_req is not None:
                    self._plan_req.Wait()
                    self._plan_req = None
            finally:
                self.eng.lock.release()
        else:
            _abandoned.append((self._plan_req, self._plan_in, self._plan_out))

    def run(self):
        """The communication thread's part: reduces bucket after bucket, in plan order, as each
        becomes ready; stops when the caller's thread has taken over (see `drain`)."""
        eng = self.eng
        while True:
            b = self.next
            if b >= len(self.buckets) or self.cancelled:
                return
            self.ready[b].wait()
            with eng.lock:
                if self.next != b or self.cancelled:
                    continue
                if _walking[0]:
                    counters["started_during_backward"] += 1
                try:
                    self._reduce(b)
                except BaseException as e:  # noqa: BLE001  (re-raised on the caller's thread by drain)
                    self.error = e
                    self.next = len(self.buckets)
                    return
                self.next = b + 1

    def drain(self):
        """On the caller's thread, once every gradient is final: reduces the buckets the
        communication thread has not started, so the caller never waits for a thread wake-up."""
        with self.eng.lock:
            while self.next < len(self.buckets):
                b = self.next
                try:
                    self._reduce(b)
                except BaseException:
                    self.next = len(self.buckets)  # the communication thread stops
                    raise
                self.next = b + 1
            if self.error is not None:
                raise self.error
            if self._plan_req is not None:  # no bucket at all (every source local or sparse): check the plan
                self._plan_req.Wait()
                self._plan_req = None
                if self._plan_out[0] != self._plan_in[0] or self._plan_out[1] != self._plan_in[1]:
                    self.eng._mismatch(*self.plan)

    def start(self):
        """Posts the check of the whole plan (a non-blocking 16-byte allreduce, See Note [Collective
        order]) before the backward pass: it completes while the pass runs, so a bucket costs one
        rendezvous of the ranks (its allreduce), not two."""
        eng = self.eng
        self.descs = [
            _desc("allreduce", s, _OP_NAMES[self.op], self.pre, self.post, self.compression.__name__, "a tensor")
            for s in self.sources
        ]
        for i in self.sparse:  # allgathered: the dense shape and the kind of gradient must match
            self.descs[i] = self.descs[i][:-1] + ("an IndexedSlices",)
        order = [i for members in self.buckets for i in members] + self.sparse
        self.plan = (("group", tuple(self.descs[i] for i in order)), tuple(self.names[i] for i in order))
        h = eng.hash_of(self.plan[0])
        self._plan_in = np.array([h, -h], np.int64)
        self._plan_out = np.zeros(2, np.int64)
        with eng.lock:
            self._plan_req = eng.comm.Iallreduce(self._plan_in, self._plan_out, op=eng.MPI.MAX)

    def _reduce(self, b):
        eng, members = self.eng, self.buckets[b]
        names = tuple(self.names[i] for i in members)
        with eng.collective(f"ALLREDUCE of gradients {', '.join(names)}"):
            if self._plan_req is not None:
                self._plan_req.Wait()
                self._plan_req = None
                if self._plan_out[0] != self._plan_in[0] or self._plan_out[1] != self._plan_in[1]:
                    eng._mismatch(*self.plan)
            # None gradients travel as zeros, so that the message is the same on every rank; how many
            # ranks had each gradient rides along (posted first, so it completes with the data)
            flags = np.array([self.grads[i] is not None for i in members], np.int32)
            counts = np.zeros_like(flags)
            req = eng.comm.Iallreduce(flags, counts, op=eng.MPI.SUM)
            views = [
                self.grads[i]._array_view() if self.grads[i] is not None else _zeros_view(self.sources[i])
                for i in members
            ]
            outs = _reduce_arrays(
                eng,
                views,
                [(self.sources[i]._dtype_code, tuple(self.sources[i].shape)) for i in members],
                self.op,
                self.pre,
                self.post,
                self.compression,
            )
            req.Wait()
            if ((counts > 0) & (counts < eng.size)).any():
                self._presence_mismatch(members, flags, counts)
        for i, o, c in zip(members, outs, counts):
            self.results[i] = o if c else None

    def _presence_mismatch(self, members, flags, counts):
        every = self.eng.comm.allgather(flags.tolist())  # the same decision on every rank: all get here
        j = int(np.argmax((counts > 0) & (counts < self.eng.size)))
        have = [r for r, f in enumerate(every) if f[j]]
        lack = [r for r, f in enumerate(every) if not f[j]]
        raise FailedPreconditionError(
            None,
            None,
            f"Mismatched gradients: One rank has a tensor, but another rank has None. (tensor "
            f"{self.names[members[j]]!r}: a gradient on rank(s) {have}, None on rank(s) {lack})",
        )

    def finish(self):
        for i in self.local:
            g = self.grads[i]
            if g is not None and self.scale_local:
                if isinstance(g, IndexedSlices):
                    g = IndexedSlices(g.values / self.eng.size, g.indices, g.dense_shape)
                else:
                    g = g / self.eng.size
            self.results[i] = g
        if self.sparse:
            slices = [self.grads[i] for i in self.sparse]
            names = [self.names[i] for i in self.sparse]
            for i, r in zip(self.sparse, _allgather_slices(slices, None, self.op, self.pre, self.post, names)):
                self.results[i] = r
        return self.results


def _zeros_view(source):
    """Zeros shaped and typed like `source`, as a numpy view (any dtype the engine has)."""
    _, view = _engine.empty_like_shape(tuple(int(d) for d in source.shape), source._dtype_code)
    view[...] = 0
    return view


def _source_name(s, i):
    name = getattr(s, "name", None) if isinstance(s, Variable) else None
    return name if name else f"gradient.{i}"


def _group_plan(sources, shared, groups):
    shared_set = set(shared)
    if isinstance(groups, int):
        per = -(-len(shared) // groups) if groups else len(shared)
        chunks = [shared[k : k + per] for k in range(0, len(shared), max(per, 1))]
    else:
        index = {id(s): i for i, s in enumerate(sources)}
        chunks, used = [], set()
        for g in groups:
            chunk = [index[id(v)] for v in g if id(v) in index and index[id(v)] in shared_set]
            used.update(chunk)
            chunks.append(chunk)
        chunks += [[i] for i in shared if i not in used]
    out = []
    for chunk in chunks:  # one dtype per bucket
        by_dtype = {}
        for i in chunk:
            by_dtype.setdefault(sources[i].dtype.name, []).append(i)
        out.extend(by_dtype.values())
    return [c for c in out if c]


def _check_groups(groups, num_groups):
    if groups is None and num_groups:
        groups = num_groups
    if groups is None or groups == 0:
        return None
    if isinstance(groups, int) and groups > 0:
        return groups
    if isinstance(groups, (list, tuple)) and all(
        isinstance(g, (list, tuple)) and all(isinstance(v, Variable) for v in g) for g in groups
    ):
        return groups
    raise ValueError("groups should be a non-negative integer or a list of list of tf.Variable.")


def _scale_factors(op, gradient_predivide_factor):
    if gradient_predivide_factor != 1.0:
        if op != Average:
            raise ValueError("gradient_predivide_factor not supported with op != Average")
        return 1.0 / gradient_predivide_factor, float(gradient_predivide_factor)
    return 1.0, 1.0


def reduce_gradients(
    eng, sources, compute, op, compression, pre, post, local=(), scale_local=True, groups=None, sparse=()
):
    """Runs compute(on_ready) (the backward pass, or None for gradients already there) while the
    communication thread reduces the finished buckets; returns the reduced gradients. `sparse`: the
    indices whose gradients are tf.IndexedSlices (known before compute runs), allgathered after the
    buckets."""
    local = set(local)
    if any(i not in local for i in sparse):
        _check_slices_op(op, None, pre, post)  # before any collective: Horovod's error on every rank
    red = _GradientReduction(eng, sources, op, compression, pre, post, local, scale_local, groups, set(sparse))
    red.start()
    # A backward pass that runs collectives itself (gradients of hvd.allreduce & co. recorded since
    # the last reduction) must not race the communication thread: the order of collectives would
    # then depend on timing (See Note [Collective order]).
    recorded = _distribute._recorded_collectives
    ran_collectives, _seen[0] = recorded != _seen[0], recorded
    if not eng.overlap or len(red.buckets) < 2 or ran_collectives:  # no thread hand-off
        try:
            grads = compute(None)
        except BaseException:
            red.abandon()
            raise
        for i, g in enumerate(grads):
            red.on_ready(i, g)
        red.drain()
        return red.finish()
    eng.submit(red.run)
    try:
        compute(red.on_ready)
    except BaseException:
        red.abandon()
        raise
    red.drain()
    return red.finish()


class _DistributedGradientTapeMixin:
    """What DistributedGradientTape adds to the tape's own class (see DistributedGradientTape)."""

    def gradient(self, target, sources, output_gradients=None, use_generic_names=False):
        """The tape's gradient, all-reduced over the ranks (Average by default); None stays None."""
        return GradientTape.gradient(self, target, sources, output_gradients)

    def register_local_source(self, source):
        """Marks `source` as local: its gradient is not all-reduced (divided by size() when
        scale_local_gradients)."""
        self._local_sources.add(id(source))

    def _compute_gradient(self, tape, flat_targets, flat_sources, flat_og, zero_unconnected):
        eng = _eng()
        dense = self._sparse_as_dense or not tape._may_give_sparse()
        if dense:  # the engine densifies sparse gradients (and the overlap stays)
            if eng.size == 1:  # as Horovod: one process returns the gradients untouched
                return _core.compute_gradient(tape, flat_targets, flat_sources, flat_og, zero_unconnected)
            sparse = []
        elif eng.size == 1:
            return GradientTape._compute_gradient(self, tape, flat_targets, flat_sources, flat_og, zero_unconnected)
        else:  # See Note [Sparse gradients across ranks]
            plan = tape._sparse_plan(flat_targets, flat_sources) if SPARSE_OVERLAP else [None]
            if None in plan:  # the whole backward pass first
                counters["sparse_whole_first"] += 1
                grads = GradientTape._compute_gradient(
                    self, tape, flat_targets, flat_sources, flat_og, zero_unconnected
                )
                sparse = [i for i, g in enumerate(grads) if isinstance(g, IndexedSlices)]
            else:
                counters["sparse_overlapped"] += 1
                grads = None
                sparse = [i for i, p in enumerate(plan) if p]
        local = [i for i, s in enumerate(flat_sources) if id(s) in self._local_sources]
        result = [None] * len(flat_sources)

        def compute(on_ready):
            if dense:
                _walking[0] = on_ready is not None
                try:
                    result[:] = _core.compute_gradient(
                        tape, flat_targets, flat_sources, flat_og, zero_unconnected, on_ready
                    )
                finally:
                    _walking[0] = False
            elif grads is not None:
                result[:] = grads
                if on_ready is not None:
                    for i, g in enumerate(grads):
                        on_ready(i, g)
            else:
                planned = set(sparse)

                def ready(i, g):  # the engine's on_source_ready: as the walk finishes source i
                    if type(g) is tuple:
                        g = _from_engine(g)
                    if isinstance(g, IndexedSlices) != (i in planned):
                        _plan_broken(flat_sources, i, g, i in planned)
                    result[i] = g
                    if on_ready is not None:
                        on_ready(i, g)

                _walking[0] = True
                try:
                    _core.compute_gradient_sparse(tape, flat_targets, flat_sources, flat_og, zero_unconnected, ready)
                finally:
                    _walking[0] = False
            return result

        return reduce_gradients(
            eng,
            flat_sources,
            compute,
            self._hvd_op,
            self._hvd_compression,
            self._hvd_pre,
            self._hvd_post,
            local,
            self._scale_local,
            self._hvd_groups,
            sparse,
        )


def _plan_broken(sources, i, grad, planned_sparse):
    got = "an IndexedSlices" if isinstance(grad, IndexedSlices) else "None" if grad is None else "a dense tensor"
    want = "an IndexedSlices" if planned_sparse else "a dense tensor or None"
    raise RuntimeError(
        f"tapegrad.distribute: internal error: the gradient of {_source_name(sources[i], i)!r} (source {i}) is "
        f"{got}, but the engine's plan made before the backward pass (Tape._sparse_plan) said {want}; "
        "see Note [Sparse plan] in cpp/autodiff/tape.cpp"
    )


_TAPE_CLASSES: dict = {}


def DistributedGradientTape(
    gradtape,
    device_dense="",
    device_sparse="",
    compression=Compression.none,
    sparse_as_dense=False,
    op=Average,
    gradient_predivide_factor=1.0,
    num_groups=0,
    groups=None,
    process_set=None,
    scale_local_gradients=True,
):
    """Wraps a used GradientTape so that ``gradient()`` all-reduces the gradients over the ranks.

    Returns an object of a subclass of the tape's own class (same class name) that shares its
    recording, as Horovod does; use it after the ``with`` block. The reduction is bucketed (see
    ``hvd.init(fusion_threshold=...)``) and overlaps the backward pass: a bucket is reduced on the
    communication thread as soon as its last gradient is final. With one process the gradients
    come back untouched. Sparse (``tf.IndexedSlices``) gradients, e.g. of an embedding, are
    allgathered as Horovod does (values and indices of every rank in rank order, values divided by
    ``size()`` for Average; see ``hvd.allreduce``) and stay IndexedSlices; with
    ``sparse_as_dense=True`` they are densified and all-reduced with the others. Either way the
    dense buckets are reduced while the backward pass runs; the sparse gradients are allgathered
    after the last bucket.

    >>> import tapegrad as tg, tapegrad.distribute as hvd
    >>> hvd.init()
    >>> w = tg.Variable([1.0, 2.0])
    >>> with tg.GradientTape() as tape:
    ...     loss = tg.reduce_sum(w * w)
    >>> tape = hvd.DistributedGradientTape(tape)
    >>> tape.gradient(loss, [w])[0].numpy().tolist()
    [2.0, 4.0]
    """
    _no_process_set(process_set)
    if not isinstance(gradtape, GradientTape):
        raise TypeError(f"DistributedGradientTape wraps a tf.GradientTape, got {type(gradtape).__name__}")
    op = _check_op(op)
    pre, post = _scale_factors(op, gradient_predivide_factor)
    base = type(gradtape)
    cls = _TAPE_CLASSES.get(base)
    if cls is None:  # one subclass per tape class, as Horovod (same name)
        cls = _TAPE_CLASSES[base] = type(
            base.__name__, (_DistributedGradientTapeMixin, base), {"__module__": base.__module__}
        )
    tape = cls.__new__(cls)
    tape.__dict__ = gradtape.__dict__  # one state: wrapping inside the `with` block works too
    tape._hvd_op, tape._hvd_compression, tape._hvd_pre, tape._hvd_post = op, compression, pre, post
    tape._hvd_groups = _check_groups(groups, num_groups)
    tape._sparse_as_dense = bool(sparse_as_dense)
    tape._local_sources, tape._scale_local = set(), bool(scale_local_gradients)
    return tape


def DistributedOptimizer(
    optimizer,
    name=None,
    device_dense="",
    device_sparse="",
    compression=Compression.none,
    sparse_as_dense=False,
    backward_passes_per_step=1,
    op=Average,
    gradient_predivide_factor=1.0,
    average_aggregated_gradients=False,
    num_groups=0,
    groups=None,
    process_set=None,
    scale_local_gradients=True,
):
    """A new optimizer of the same class (and class name), built from ``optimizer.get_config()``, whose
    ``apply``/``apply_gradients`` all-reduce the gradients first (Horovod's Keras wrapper; the state of
    `optimizer` is not carried over, as in Horovod). Works with ``model.fit``. ``tf.IndexedSlices``
    gradients are allgathered (see ``hvd.allreduce``), or densified first with ``sparse_as_dense=True``.

    >>> import tapegrad as tg, tapegrad.distribute as hvd
    >>> hvd.init()
    >>> opt = hvd.DistributedOptimizer(tg.keras.optimizers.SGD(0.1))
    >>> type(opt).__name__
    'SGD'
    """
    _no_process_set(process_set)
    if op == 2:
        raise ValueError("op == Adasum is not supported yet with Keras")
    op = _check_op(op)
    if backward_passes_per_step != 1:
        raise NotImplementedError(
            "tapegrad.distribute.DistributedOptimizer: backward_passes_per_step > 1 "
            "(local gradient aggregation) is not implemented"
        )
    pre, post = _scale_factors(op, gradient_predivide_factor)
    groups = _check_groups(groups, num_groups)
    base = type(optimizer)

    def apply(self, grads, trainable_variables=None):
        eng = _eng()
        grads = [
            g
            if g is None or isinstance(g, Tensor) or (isinstance(g, IndexedSlices) and not sparse_as_dense)
            else convert_to_tensor(g)
            for g in grads
        ]
        if eng.size > 1:
            variables = trainable_variables
            if variables is None:
                variables = self._trainable_variables if self.built else grads
            sources = [v if g is None or isinstance(g, IndexedSlices) else g for g, v in zip(grads, list(variables))]
            if len(sources) != len(grads) or any(s is None or isinstance(s, IndexedSlices) for s in sources):
                return base.apply(self, grads, trainable_variables)  # the base class raises its error

            def compute(on_ready):
                if on_ready is not None:
                    for i, g in enumerate(grads):
                        on_ready(i, g)
                return grads

            sparse = [i for i, g in enumerate(grads) if isinstance(g, IndexedSlices)]
            grads = reduce_gradients(eng, sources, compute, op, compression, pre, post, groups=groups, sparse=sparse)
        return base.apply(self, grads, trainable_variables)

    cls = type(base.__name__, (base,), {"apply": apply, "__module__": base.__module__, "_hvd_distributed": True})
    config = optimizer.get_config()
    if name is not None:
        config["name"] = name
    return cls.from_config(config)
