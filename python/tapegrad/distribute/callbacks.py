"""Horovod's Keras callbacks (``hvd.callbacks``) for ``model.fit``."""

import numpy as np

from .._tensor import Variable
from ..keras.callbacks import Callback
from . import Average, allreduce, broadcast_variables


class BroadcastGlobalVariablesCallback(Callback):
    """Broadcasts the model's variables and then the optimizer's from `root_rank` at the end of the
    first batch (as Horovod: the first step runs from each rank's own initial weights, with averaged
    gradients, and then every rank continues from root's weights). `local_variables` are skipped."""

    def __init__(self, root_rank, device="", local_variables=None):
        super().__init__()
        self.root_rank = root_rank
        self.device = device
        local_variables = list(local_variables or [])
        for v in local_variables:
            if not isinstance(v, Variable):
                raise ValueError("All local variables must be of tf.Variable type.")
        self._local_ids = {id(v) for v in local_variables}
        self.broadcast_done = False

    def on_batch_end(self, batch, logs=None):
        if self.broadcast_done:
            return
        variables = [v for v in self.model.variables if id(v) not in self._local_ids]
        broadcast_variables(variables, root_rank=self.root_rank)
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None:
            opt_vars = optimizer.variables
            opt_vars = opt_vars() if callable(opt_vars) else opt_vars
            broadcast_variables([v for v in opt_vars if id(v) not in self._local_ids], root_rank=self.root_rank)
        self.broadcast_done = True


class MetricAverageCallback(Callback):
    """Averages every metric in the epoch's logs over the ranks, in sorted name order, in place. List it
    before callbacks that read the metrics (checkpoints, ReduceLROnPlateau, CSVLogger)."""

    def __init__(self, device=""):
        super().__init__()
        self.device = device

    def on_epoch_end(self, epoch, logs=None):
        if not logs:
            return
        for metric in sorted(logs):
            value = logs[metric]
            reduced = allreduce(np.asarray(value, dtype=np.float32), op=Average, name=metric)
            logs[metric] = float(reduced.numpy())


__all__ = ["BroadcastGlobalVariablesCallback", "MetricAverageCallback"]
