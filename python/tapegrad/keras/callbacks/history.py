"""``History``: records each epoch's logs; ``fit`` returns it (also ``model.history``)."""

from .callback import Callback


class History(Callback):
    """Collects ``history[key]`` = one value per epoch, and ``epoch`` = the epoch indices.

    >>> import tapegrad as tg
    >>> h = tg.keras.callbacks.History()
    >>> h.on_train_begin(); h.on_epoch_end(0, {"loss": 1.5}); h.history
    {'loss': [1.5]}
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self
