"""``tf.train.CheckpointManager``, ``tf.train.latest_checkpoint`` and the ``checkpoint`` state file.

The state file has TF's text format (``model_checkpoint_path: "ckpt-2"``, one
``all_model_checkpoint_paths`` line per kept checkpoint, timestamps), paths relative to the
directory when they are inside it.

>>> import os, tempfile
>>> import tapegrad as tg
>>> d = tempfile.mkdtemp()
>>> manager = tg.train.CheckpointManager(tg.train.Checkpoint(v=tg.Variable(1.0)), d, max_to_keep=2)
>>> paths = [manager.save() for _ in range(3)]
>>> [os.path.basename(p) for p in manager.checkpoints]
['ckpt-2', 'ckpt-3']
>>> tg.train.latest_checkpoint(d) == paths[-1]
True
"""

import collections
import glob
import os
import re
import time

from .checkpoint import INDEX_SUFFIX

_STATE = "checkpoint"


class CheckpointState:
    """The parsed ``checkpoint`` state file (``tf.train.get_checkpoint_state``); paths are joined
    with the directory when they were stored relative to it."""

    def __init__(
        self,
        model_checkpoint_path,
        all_model_checkpoint_paths=(),
        all_model_checkpoint_timestamps=(),
        last_preserved_timestamp=None,
    ):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return (
            f"model_checkpoint_path: {self.model_checkpoint_path!r}\n"
            f"all_model_checkpoint_paths: {self.all_model_checkpoint_paths!r}"
        )


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _rel(directory, path):
    if os.path.isabs(path) and os.path.dirname(os.path.abspath(path)) == os.path.abspath(directory):
        return os.path.basename(path)
    if not os.path.isabs(path) and os.path.dirname(path) == os.path.normpath(directory):
        return os.path.basename(path)
    return path


def update_checkpoint_state(
    directory,
    model_checkpoint_path,
    all_model_checkpoint_paths=None,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp=None,
    latest_filename=None,
):
    """Writes the ``checkpoint`` state file in `directory` (TF's text format), atomically."""
    directory = directory or "."
    paths = list(all_model_checkpoint_paths or [])
    lines = [f"model_checkpoint_path: {_quote(_rel(directory, model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(_rel(directory, p))}" for p in paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in (all_model_checkpoint_timestamps or [])]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {last_preserved_timestamp!r}")
    path = os.path.join(directory, latest_filename or _STATE)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, path)


_LINE = re.compile(r"^\s*(\w+)\s*:\s*(.*?)\s*$")


def _unquote(s):
    if len(s) >= 2 and s[0] == s[-1] == '"':
        return s[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return s


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The ``checkpoint`` state file of `checkpoint_dir` as a `CheckpointState`, or None."""
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or _STATE)
    if not os.path.isfile(path):
        return None
    fields = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            m = _LINE.match(line)
            if m:
                fields[m.group(1)].append(_unquote(m.group(2)))
    if not fields.get("model_checkpoint_path"):
        raise ValueError("Invalid checkpoint state loaded from " + checkpoint_dir)

    def full(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    last = fields.get("last_preserved_timestamp")
    return CheckpointState(
        full(fields["model_checkpoint_path"][0]),
        [full(p) for p in fields.get("all_model_checkpoint_paths", [])],
        [float(t) for t in fields.get("all_model_checkpoint_timestamps", [])],
        float(last[0]) if last else None,
    )


def checkpoint_exists(prefix):
    return os.path.exists(os.fspath(prefix) + INDEX_SUFFIX)


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint recorded in `checkpoint_dir`, or None if there is none
    (no state file, or its files are gone)."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state and state.model_checkpoint_path and checkpoint_exists(state.model_checkpoint_path):
        return state.model_checkpoint_path
    return None


def _delete_checkpoint_files(prefix):
    for path in [prefix + INDEX_SUFFIX] + glob.glob(glob.escape(prefix) + ".data-?????-of-?????"):
        if os.path.exists(path):
            os.remove(path)


class CheckpointManager:
    """``tf.train.CheckpointManager``: numbered saves in `directory`, keeping the newest
    `max_to_keep` (``None``: all) plus one every `keep_checkpoint_every_n_hours`."""

    def __init__(
        self,
        checkpoint,
        directory,
        max_to_keep,
        keep_checkpoint_every_n_hours=None,
        checkpoint_name="ckpt",
        step_counter=None,
        checkpoint_interval=None,
        init_fn=None,
        last_checkpoint_step=None,
    ):
        self._checkpoint = checkpoint
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}.")
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        directory = os.fspath(directory)
        self._directory = directory
        self._checkpoint_prefix = os.path.join(directory, checkpoint_name)
        self._init_fn = init_fn
        if checkpoint_interval is not None:
            if step_counter is None:
                raise ValueError("`step_counter` should be passed if `checkpoint_interval` is not None.")
            self._last_checkpoint_step = last_checkpoint_step
            self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        recovered = get_checkpoint_state(directory)
        now = time.time()
        self._maybe_delete = collections.OrderedDict()
        if recovered is None:
            self._latest_checkpoint = None
            self._last_preserved_timestamp = now - 1.0
        else:
            self._latest_checkpoint = recovered.model_checkpoint_path
            last = recovered.last_preserved_timestamp
            self._last_preserved_timestamp = min(last, now) if last is not None else now - 1.0
            stamps = recovered.all_model_checkpoint_timestamps or [self._last_preserved_timestamp] * len(
                recovered.all_model_checkpoint_paths
            )
            if recovered.all_model_checkpoint_timestamps:
                for path, stamp in zip(recovered.all_model_checkpoint_paths, stamps):
                    stamp = min(stamp, now)
                    if stamp > self._last_preserved_timestamp:
                        self._maybe_delete[path] = stamp
            else:
                for path in recovered.all_model_checkpoint_paths:
                    self._maybe_delete[path] = self._last_preserved_timestamp

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def checkpoint_interval(self):
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self):
        """The newest checkpoint prefix in `directory`, or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self):
        """The managed checkpoint prefixes, oldest first."""
        return list(self._maybe_delete.keys())

    def _sweep(self):
        if not self._max_to_keep:
            return
        while len(self._maybe_delete) > self._max_to_keep:
            filename, timestamp = self._maybe_delete.popitem(last=False)
            if (
                self._keep_checkpoint_every_n_hours
                and timestamp - self._keep_checkpoint_every_n_hours * 3600.0 >= self._last_preserved_timestamp
            ):
                self._last_preserved_timestamp = timestamp
                continue
            _delete_checkpoint_files(filename)

    def _record_state(self):
        filenames, timestamps = zip(*self._maybe_delete.items())
        update_checkpoint_state(
            self._directory, self._latest_checkpoint, filenames, timestamps, self._last_preserved_timestamp
        )

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Saves a numbered checkpoint (``save_counter`` is incremented even when
        `checkpoint_number` is given), records it and deletes the oldest beyond `max_to_keep`.
        Returns the path, or None when `checkpoint_interval` says it is too early."""
        if self._checkpoint_interval is not None:
            current = int(_value(self._step_counter))
            if self._last_checkpoint_step is not None:
                if current == self._last_checkpoint_step:
                    return None
                if check_interval and current < self._last_checkpoint_step + self._checkpoint_interval:
                    return None
            self._last_checkpoint_step = current
        counter = self._checkpoint.save_counter
        counter.assign_add(1)
        if checkpoint_number is None:
            checkpoint_number = counter
        prefix = "%s-%d" % (self._checkpoint_prefix, int(_value(checkpoint_number)))
        save_path = self._checkpoint.write(prefix, options=options)
        timestamp = time.time()
        self._maybe_delete.pop(save_path, None)
        self._maybe_delete[save_path] = timestamp
        self._latest_checkpoint = save_path
        self._sweep()
        self._record_state()
        return save_path

    def restore_or_initialize(self):
        """Restores the latest checkpoint and returns its path, or runs `init_fn` and returns None."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = int(_value(self._step_counter))
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None

    def sync(self):
        """Nothing to wait for: writes are synchronous."""


def _value(x):
    if hasattr(x, "numpy"):
        return x.numpy()
    return x
