"""``tg.keras.callbacks``: Keras 3's training callbacks (``Callback``, ``History``, ``ProgbarLogger``,
``EarlyStopping``, ``ModelCheckpoint``, ``LearningRateScheduler``, ``ReduceLROnPlateau``,
``CSVLogger``, ``LambdaCallback``, ``TerminateOnNaN``, ``TensorBoard``)."""

from .callback import Callback, CallbackList
from .history import History
from .misc import (
    BackupAndRestore,
    CSVLogger,
    LambdaCallback,
    LearningRateScheduler,
    RemoteMonitor,
    TerminateOnNaN,
)
from .tensorboard import TensorBoard
from .monitor import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from .progbar_logger import ProgbarLogger

__all__ = [
    "BackupAndRestore",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "RemoteMonitor",
    "TensorBoard",
    "TerminateOnNaN",
]
