"""``keras.callbacks.TensorBoard``: scalar summaries in TensorBoard's event-file format.

The files are written by a small built-in writer (no TensorFlow or ``tensorboard`` package needed):
TFRecord framing (length, masked CRC-32C, ``Event`` protobuf, masked CRC-32C) of ``Event``
messages whose ``Summary.Value.simple_value`` carries each scalar, as TensorBoard's reader expects.
Like Keras 3 (``keras/src/callbacks/tensorboard.py``) it writes to ``log_dir/train`` and
``log_dir/validation``: ``epoch_<metric>`` at each epoch end (step = epoch; the learning rate as
``epoch_learning_rate``), ``batch_<metric>`` every ``update_freq`` batches when ``update_freq`` is
an int or "batch" (step = the training batch count), and ``evaluation_<metric>_vs_iterations``
(step = the optimizer's iterations) for validation. Histograms, images, embeddings, profiling and
the model graph are not written (``histogram_freq``, ``write_images``, ``embeddings_freq`` and
``profile_batch`` other than their defaults raise NotImplementedError; ``write_graph`` is ignored).
"""

import os
import socket
import struct
import time

import numpy as np

from .callback import Callback

__all__ = ["TensorBoard", "EventFileWriter"]


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli) of ``data``."""
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked_crc(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _field_bytes(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _event(wall_time, step=None, file_version=None, scalars=None):
    """An ``Event`` protobuf: wall_time (1, double), step (2), file_version (3), summary (5)."""
    out = _varint(1 << 3 | 1) + struct.pack("<d", wall_time)
    if step is not None:
        out += _varint(2 << 3) + _varint(int(step))
    if file_version is not None:
        out += _field_bytes(3, file_version.encode())
    if scalars:
        summary = b""
        for tag, value in scalars:
            val = _field_bytes(1, tag.encode()) + _varint(2 << 3 | 5) + struct.pack("<f", float(value))
            summary += _field_bytes(1, val)
        out += _field_bytes(5, summary)
    return out


class EventFileWriter:
    """Appends scalar ``Event`` records to a new ``events.out.tfevents.*`` file in ``logdir``."""

    _count = 0

    def __init__(self, logdir):
        os.makedirs(logdir, exist_ok=True)
        EventFileWriter._count += 1
        name = (
            f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{EventFileWriter._count}.v2"
        )
        self.path = os.path.join(logdir, name)
        self._file = open(self.path, "wb")  # noqa: SIM115 -- closed by close()
        self._write(_event(time.time(), file_version="brain.Event:2"))

    def _write(self, record):
        header = struct.pack("<Q", len(record))
        self._file.write(
            header + struct.pack("<I", _masked_crc(header)) + record + struct.pack("<I", _masked_crc(record))
        )

    def add_scalars(self, scalars, step):
        """Writes one event holding ``[(tag, value), ...]`` at ``step``."""
        self._write(_event(time.time(), step=step, scalars=scalars))

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()


def read_scalars(path):
    """``[(step, tag, value), ...]`` from an event file written by `EventFileWriter` (checks CRCs)."""
    out = []
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        header = data[pos : pos + 8]
        (n,) = struct.unpack("<Q", header)
        if struct.unpack("<I", data[pos + 8 : pos + 12])[0] != _masked_crc(header):
            raise ValueError(f"{path}: corrupt record length at byte {pos}")
        record = data[pos + 12 : pos + 12 + n]
        if struct.unpack("<I", data[pos + 12 + n : pos + 16 + n])[0] != _masked_crc(record):
            raise ValueError(f"{path}: corrupt record at byte {pos}")
        pos += 16 + n
        out.extend(_parse_event(record))
    return out


def _read_varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, i


def _fields(buf):
    i = 0
    while i < len(buf):
        key, i = _read_varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _read_varint(buf, i)
        elif wt == 1:
            v, i = buf[i : i + 8], i + 8
        elif wt == 5:
            v, i = buf[i : i + 4], i + 4
        else:
            n, i = _read_varint(buf, i)
            v, i = buf[i : i + n], i + n
        yield num, v


def _parse_event(record):
    step, out = 0, []
    for num, v in _fields(record):
        if num == 2:
            step = v
        elif num == 5:
            for vnum, val in _fields(v):
                if vnum == 1:
                    tag, value = None, None
                    for fnum, fv in _fields(val):
                        if fnum == 1:
                            tag = fv.decode()
                        elif fnum == 2:
                            value = struct.unpack("<f", fv)[0]
                    out.append((tag, value))
    return [(step, t, v) for t, v in out]


class TensorBoard(Callback):
    """Logs the training and validation metrics as TensorBoard scalars (see the module docstring).

    >>> import numpy as np, tempfile, os, tapegrad as tg
    >>> model = tg.keras.Sequential([tg.keras.Input((2,)), tg.keras.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> logdir = tempfile.mkdtemp()
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0,
    ...               callbacks=[tg.keras.callbacks.TensorBoard(logdir)])
    >>> sorted(os.listdir(logdir))
    ['train']
    """

    def __init__(
        self,
        log_dir="logs",
        histogram_freq=0,
        write_graph=True,
        write_images=False,
        write_steps_per_second=False,
        update_freq="epoch",
        profile_batch=0,
        embeddings_freq=0,
        embeddings_metadata=None,
    ):
        super().__init__()
        unsupported = {
            "histogram_freq": (histogram_freq, 0),
            "write_images": (write_images, False),
            "profile_batch": (profile_batch, 0),
            "embeddings_freq": (embeddings_freq, 0),
        }
        for arg, (value, default) in unsupported.items():
            if value != default and value is not None:
                raise NotImplementedError(
                    f"TensorBoard({arg}={value!r}) is not supported by tapegrad: only scalar summaries are written."
                )
        self.log_dir = str(log_dir)
        self.write_graph = write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self._writers = {}
        self._train_step = 0
        self._epoch_start = None
        self._batches_in_epoch = 0

    def _writer(self, kind):
        if kind not in self._writers:
            self._writers[kind] = EventFileWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._train_step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.time()
        self._batches_in_epoch = 0

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        self._batches_in_epoch += 1
        if isinstance(self.update_freq, int) and self._train_step % self.update_freq == 0:
            scalars = [("batch_" + k, v) for k, v in (logs or {}).items() if _is_scalar(v)]
            if scalars:
                self._writer("train").add_scalars(scalars, self._train_step)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = [("epoch_" + k, v) for k, v in logs.items() if not k.startswith("val_") and _is_scalar(v)]
        lr = _learning_rate(self.model)
        if lr is not None and "learning_rate" not in logs:
            train.append(("epoch_learning_rate", lr))
        if self.write_steps_per_second and self._epoch_start is not None:
            dt = time.time() - self._epoch_start
            train.append(("epoch_steps_per_second", self._batches_in_epoch / dt if dt > 0 else 0.0))
        if train:
            self._writer("train").add_scalars(train, epoch)
        val = [(k[4:], v) for k, v in logs.items() if k.startswith("val_") and _is_scalar(v)]
        if val:
            w = self._writer("validation")
            w.add_scalars([("epoch_" + k, v) for k, v in val], epoch)
            it = _iterations(self.model)
            if it is not None:
                w.add_scalars([("evaluation_" + k + "_vs_iterations", v) for k, v in val], it)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


def _is_scalar(v):
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return np.ndim(v) == 0


def _learning_rate(model):
    opt = getattr(model, "optimizer", None)
    lr = getattr(opt, "learning_rate", None)
    if lr is None:
        return None
    try:
        return float(np.asarray(lr.numpy() if hasattr(lr, "numpy") else lr))
    except (TypeError, ValueError):
        return None


def _iterations(model):
    opt = getattr(model, "optimizer", None)
    it = getattr(opt, "iterations", None)
    if it is None:
        return None
    return int(np.asarray(it.numpy() if hasattr(it, "numpy") else it))
