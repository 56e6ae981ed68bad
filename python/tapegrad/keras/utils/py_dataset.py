"""``keras.utils.PyDataset`` (and its old name ``Sequence``): a Python-indexed dataset of batches
that ``Model.fit``/``evaluate``/``predict`` take as ``x``, loaded by worker threads.

Subclasses define ``__len__`` (or the ``num_batches`` property) and ``__getitem__(index)``
returning one batch ``x``, ``(x, y)`` or ``(x, y, sample_weight)``; ``on_epoch_end`` runs after
each pass. ``fit(shuffle=True)`` (the default) visits the batches in a new random order each epoch
(Python's ``random``, as Keras); ``evaluate``/``predict`` and plain iteration go in index order.
With ``workers > 1`` the batches are computed in a thread pool, up to ``max_queue_size`` ahead,
and still come out in that order. ``use_multiprocessing=True`` is not supported (raises
NotImplementedError): use threads.
"""

import collections
import concurrent.futures
import random

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class for datasets that compute each batch in Python.

    >>> import numpy as np, tapegrad as tg
    >>> class Squares(tg.keras.utils.PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         x = np.full((2, 1), float(i), dtype="float32")
    ...         return x, x * x
    >>> [float(y[0, 0]) for _, y in Squares(workers=2)]
    [0.0, 1.0, 4.0]
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        if not hasattr(self, "_workers"):
            import warnings

            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass "
                "these arguments to `fit()`, as they will be ignored.",
                stacklevel=3,
            )
            self._workers, self._use_multiprocessing, self._max_queue_size = 1, False, 10

    @property
    def workers(self):
        self._warn_if_super_not_called()
        return self._workers

    @workers.setter
    def workers(self, value):
        self._workers = value

    @property
    def use_multiprocessing(self):
        self._warn_if_super_not_called()
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value):
        self._use_multiprocessing = value

    @property
    def max_queue_size(self):
        self._warn_if_super_not_called()
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value):
        self._max_queue_size = value

    def _set_shuffle(self, shuffle):
        self._tg_shuffle = shuffle

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError

    @property
    def num_batches(self):
        """The number of batches in an epoch (``len(self)`` when defined, else None: infinite)."""
        if type(self).__len__ is not PyDataset.__len__:
            return len(self)
        return None

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define `__len__` or the `num_batches` property.")

    def on_epoch_begin(self):
        """Runs at the start of each epoch."""

    def on_epoch_end(self):
        """Runs at the end of each epoch."""

    def __iter__(self):
        """One epoch of batches in index order (computed by ``workers`` threads)."""
        self._warn_if_super_not_called()
        if self._use_multiprocessing:
            raise NotImplementedError(
                "PyDataset(use_multiprocessing=True) is not supported by tapegrad: use "
                "`workers` threads (use_multiprocessing=False)."
            )
        n = self.num_batches
        self.on_epoch_begin()
        indices = range(n) if n is not None else _count()
        if n is not None and getattr(self, "_tg_shuffle", False):
            indices = list(indices)
            random.shuffle(indices)
        self._tg_shuffle = False
        if self._workers is None or self._workers <= 1:
            for i in indices:
                yield self[i]
        else:
            ahead = max(1, self._max_queue_size or self._workers)
            with concurrent.futures.ThreadPoolExecutor(self._workers) as pool:
                pending = collections.deque()
                it = iter(indices)
                for i in it:
                    pending.append(pool.submit(self.__getitem__, i))
                    if len(pending) >= ahead:
                        break
                while pending:
                    batch = pending.popleft().result()
                    nxt = next(it, None)
                    if nxt is not None:
                        pending.append(pool.submit(self.__getitem__, nxt))
                    yield batch
        self.on_epoch_end()


def _count():
    i = 0
    while True:
        yield i
        i += 1


Sequence = PyDataset
