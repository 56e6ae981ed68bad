"""Deferred checkpoint restoration: objects that create state late tell pending restores.

``tf.train.Checkpoint.restore`` matches what exists at once; for a Keras layer that is not built
yet, or an optimizer whose slots do not exist yet, the restore status registers itself here under
that object. ``Layer.add_weight``, the end of ``Layer._maybe_build`` and the end of
``Optimizer.build`` call :func:`notify`, which hands the object to every pending status so it can
assign the saved values to the newly created variables. Without pending restores ``notify`` is a
dictionary-emptiness check.
"""

import weakref

pending: "weakref.WeakKeyDictionary[object, list]" = (
    weakref.WeakKeyDictionary()
)  # live object -> [status, ...] waiting for its state


def register(obj, status):
    """Asks `status._on_created(obj)` to run whenever `obj` creates state."""
    lst = pending.setdefault(obj, [])
    if not any(s is status for s in lst):
        lst.append(status)


def notify(obj):
    """Called by objects right after they create variables (build, add_weight, optimizer build)."""
    if not pending:
        return
    statuses = pending.get(obj)
    if statuses:
        from . import _core  # noqa: PLC0415

        for status in list(statuses):
            # restoring assigns initial values: inside a traced tf.function, once, outside the trace
            _core._trace_call_paused(lambda s=status: s._on_created(obj))
