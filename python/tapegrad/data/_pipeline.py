"""The moving parts under ``tf.data``: the shuffle buffer (vectorised over row indices and per
element), the prefetch thread and the parallel map.

Note [Shuffle buffer]
TF's shuffle fills a buffer with the first `B` elements; then, for each further input element, it
emits a uniformly chosen buffer slot and puts the new element in that slot; when the input ends it
drains the buffer in random order. Both implementations here draw the same numbers from the same
numpy Generator (slot choices in blocks of _BLOCK, then one permutation of the remaining slots), so
the vectorised path over row indices and the per-element path give the same order for the same
seed. The values differ from TF's (its Philox stream); the semantics (which orders are possible and
their probabilities) are TF's.

Note [Prefetch thread]
A prefetching iterator owns one daemon thread and a bounded queue. The thread iterates the input
and puts ("item", x); at the end ("end", None); on an exception ("error", e), which the consumer
raises. The consumer's generator stops the thread in its `finally`: when it is exhausted, closed,
or garbage-collected (an iterator dropped early). The thread refers only to the queue, a stop
event and the input, never to the consumer, so dropping the consumer is what stops it. Threads
still running at interpreter exit are stopped by an atexit hook.
"""

import atexit
import collections
import concurrent.futures
import os
import queue
import threading
import weakref

import numpy as np

_BLOCK = 1024  # slot choices drawn per rng call (both shuffle paths draw the same way)


def _slot_draws(rng, buffer_size, count):
    """`count` uniform slot numbers in [0, buffer_size), drawn in whole blocks of _BLOCK."""
    parts = [rng.integers(0, buffer_size, size=_BLOCK) for _ in range(0, count, _BLOCK)]
    return np.concatenate(parts)[:count] if parts else np.zeros(0, np.int64)


def buffer_shuffle_positions(n, buffer_size, rng):
    """Positions 0..n-1 in the order a shuffle buffer of `buffer_size` emits them (Note [Shuffle buffer]).

    At step t of the steady phase the emitted slot r_t holds the element written there last: the one
    that entered at the previous step t' with r_t' == r_t (position buffer_size + t'), or, if there
    was none, its initial element (position r_t). One stable sort by slot finds every t'.
    """
    b = int(buffer_size)
    if n <= b:
        return rng.permutation(n)
    m = n - b
    r = _slot_draws(rng, b, m)
    order = np.argsort(r, kind="stable")  # steps grouped by slot, in time order within a slot
    sr = r[order]
    same = sr[1:] == sr[:-1]
    prev = np.full(m, -1, np.int64)
    prev[order[1:][same]] = order[:-1][same]
    out = np.where(prev >= 0, b + prev, r)
    last = np.arange(b, dtype=np.int64)  # what each slot holds when the input ends
    ends = np.append(~same, True)
    last[sr[ends]] = b + order[ends]
    return np.concatenate([out, last[rng.permutation(b)]])


def buffer_shuffle(elements, buffer_size, rng):
    """Per-element shuffle buffer over any iterable (same draws as buffer_shuffle_positions)."""
    b = int(buffer_size)
    buf = []
    draws, k = np.zeros(0, np.int64), 0
    for x in elements:
        if len(buf) < b:
            buf.append(x)
            continue
        if k == len(draws):
            draws, k = rng.integers(0, b, size=_BLOCK), 0
        j = draws[k]
        k += 1
        out, buf[j] = buf[j], x
        yield out
    for j in rng.permutation(len(buf)):
        yield buf[j]


# --- prefetch (Note [Prefetch thread]) ----------------------------------------------------------

_ITEM, _END, _ERROR = "item", "end", "error"
_live: "weakref.WeakSet[object]" = weakref.WeakSet()


class _Producer:
    def __init__(self, source, size):
        self.queue = queue.Queue(maxsize=size)
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=_produce, args=(source, self.queue, self.stop), daemon=True, name="tapegrad-data-prefetch"
        )

    def close(self, timeout=5.0):
        self.stop.set()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout)


def _put(q, stop, item):
    while not stop.is_set():
        try:
            q.put(item, timeout=0.05)
            return True
        except queue.Full:
            continue
    return False


def _produce(source, q, stop):
    it = iter(source)
    try:
        for x in it:
            if not _put(q, stop, (_ITEM, x)):
                return
        _put(q, stop, (_END, None))
    except BaseException as e:  # noqa: BLE001  (handed to the consumer, which raises it)
        _put(q, stop, (_ERROR, e))
    finally:
        close = getattr(it, "close", None)
        if close is not None:
            close()


def prefetch(source, size):
    """Yields `source`'s items, produced ahead by a background thread into a queue of `size`."""
    p = _Producer(source, size)
    _live.add(p)
    p.thread.start()
    try:
        while True:
            kind, x = p.queue.get()
            if kind == _ITEM:
                yield x
            elif kind == _END:
                return
            else:
                raise x
    finally:
        p.close()


@atexit.register
def _stop_all():
    for p in list(_live):
        p.close(timeout=1.0)


def live_prefetch_threads():
    """Prefetch threads still running (for tests)."""
    return [p.thread for p in list(_live) if p.thread.is_alive()]


# --- parallel map -------------------------------------------------------------------------------


def parallel_map(source, fn, num_calls, deterministic):
    """fn over `source` on a pool of `num_calls` threads; input order unless not deterministic."""
    pool = concurrent.futures.ThreadPoolExecutor(num_calls, thread_name_prefix="tapegrad-data-map")
    pending = collections.deque()
    window = 2 * num_calls
    try:
        for x in source:
            pending.append(pool.submit(fn, x))
            while len(pending) >= window:
                yield _next_done(pending, deterministic)
        while pending:
            yield _next_done(pending, deterministic)
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=False)


def _next_done(pending, deterministic):
    if deterministic:
        return pending.popleft().result()
    done, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
    f = next(f for f in pending if f in done)
    pending.remove(f)
    return f.result()


def autotune_threads():
    return max(1, os.cpu_count() or 1)
