"""``Callback`` (every hook a no-op) and ``CallbackList`` (dispatches each hook to its callbacks,
converting the logs to Python floats first, as Keras's ``CallbackList`` does)."""

from ... import nest


def pythonify_logs(logs):
    """Flattens nested dicts and turns each value into a Python float where ``float()`` accepts it,
    in sorted key order (Keras's ``python_utils.pythonify_logs``)."""
    out = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            out.update(pythonify_logs(value))
            continue
        try:
            value = float(value)
        except Exception:  # noqa: BLE001 -- non-scalars are passed through as given
            pass
        out[key] = value
    return out


class Callback:
    """Base class of Keras callbacks (``tf.keras.callbacks.Callback``).

    ``model`` and ``params`` (``{"verbose", "epochs", "steps"}``) are set by ``fit``/``evaluate``/
    ``predict`` before the first hook. ``on_train_batch_begin/end`` call ``on_batch_begin/end``.

    >>> import tapegrad as tg
    >>> class Count(tg.keras.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.last = epoch
    >>> cb = Count(); cb.on_epoch_end(3); cb.last
    3
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """A backwards-compatibility alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """A backwards-compatibility alias of ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch (training only)."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch; `logs` holds the epoch's metrics and ``val_`` ones."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called before a training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called after a training batch; `logs` holds the running metric values."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called before an `evaluate` batch (also during `fit`'s validation)."""

    def on_test_batch_end(self, batch, logs=None):
        """Called after an `evaluate` batch."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called before a `predict` batch."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called after a `predict` batch; ``logs["outputs"]`` holds the batch's outputs."""

    def on_train_begin(self, logs=None):
        """Called at the start of `fit`."""

    def on_train_end(self, logs=None):
        """Called at the end of `fit` with the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the start of `evaluate` (and of each validation run)."""

    def on_test_end(self, logs=None):
        """Called at the end of `evaluate` with its results."""

    def on_predict_begin(self, logs=None):
        """Called at the start of `predict`."""

    def on_predict_end(self, logs=None):
        """Called at the end of `predict`."""


class CallbackList(Callback):
    """The callbacks of one `fit`/`evaluate`/`predict` call, plus `History` and `ProgbarLogger`
    appended when asked for and not already present; ``params`` are given to every callback."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        super().__init__()
        self.callbacks = nest.flatten(callbacks) if callbacks else []
        from .history import History  # noqa: PLC0415
        from .progbar_logger import ProgbarLogger  # noqa: PLC0415

        self._history = next((c for c in self.callbacks if isinstance(c, History)), None)
        self._progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self._history is None and add_history:
            self._history = History()
            self.callbacks.append(self._history)
        if self._progbar is None and add_progbar:
            self._progbar = ProgbarLogger()
            self.callbacks.append(self._progbar)
        self._depth = 0
        self.set_model(model)
        self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        if params:
            for cb in self.callbacks:
                cb.set_params(params)

    def set_model(self, model):
        if not model:
            return
        super().set_model(model)
        if self._history:
            model.history = self._history
        for cb in self.callbacks:
            cb.set_model(model)

    def _each(self, hook, *args, logs=None):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(*args, logs)

    def _each_batch(self, hook, batch, logs):
        logs = pythonify_logs(logs)
        for cb in self.callbacks:
            getattr(cb, hook)(batch, logs=logs)

    def _begin(self, hook, logs):
        self._depth += 1
        self._each(hook, logs=logs)

    def _end(self, hook, logs):
        self._depth -= 1
        if self._depth < 0:
            raise ValueError("`on_xxx_end` called without corresponding `on_xxx_begin`")
        self._each(hook, logs=logs)

    def on_batch_begin(self, batch, logs=None):
        self._each_batch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        self._each_batch("on_batch_end", batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._each("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._each("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._each_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._each_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._each_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._each_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._each_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        # the outputs stay tensors/arrays: pythonify leaves non-scalars as they are
        for cb in self.callbacks:
            cb.on_predict_batch_end(batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._begin("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._end("on_train_end", logs)

    def on_test_begin(self, logs=None):
        self._begin("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._end("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self._begin("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._end("on_predict_end", logs)
