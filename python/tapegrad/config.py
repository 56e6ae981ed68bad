"""Engine settings (``tg.config``): threads, and TF's device queries for this CPU-only engine.

tapegrad runs every op on the host CPU, so the device functions describe one CPU device, as TF
does on a machine without accelerators, and ``tg.device(...)`` placement is a no-op (TF's soft
placement on such a machine puts everything on the CPU as well).

>>> import tapegrad as tg
>>> tg.config.list_physical_devices("GPU")
[]
>>> tg.config.list_physical_devices()
[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]
"""

import collections
import re
import sys
import types
from typing import Any

from ._core import get_num_threads
from ._core import set_num_threads as _core_set_num_threads
from .function import functions_run_eagerly, run_functions_eagerly

__all__ = [
    "functions_run_eagerly",
    "get_num_threads",
    "run_functions_eagerly",
    "set_num_threads",
    "PhysicalDevice",
    "LogicalDevice",
    "list_physical_devices",
    "list_logical_devices",
    "get_visible_devices",
    "set_visible_devices",
    "get_logical_device_configuration",
    "device",
    "experimental",
    "threading",
]

PhysicalDevice = collections.namedtuple("PhysicalDevice", ["name", "device_type"])
PhysicalDevice.__doc__ = "A physical device of this machine (``tf.config.PhysicalDevice``)."
LogicalDevice = collections.namedtuple("LogicalDevice", ["name", "device_type"])
LogicalDevice.__doc__ = "A device as the runtime sees it (``tf.config.LogicalDevice``)."

_CPU = PhysicalDevice(name="/physical_device:CPU:0", device_type="CPU")
_CPU_LOGICAL = LogicalDevice(name="/device:CPU:0", device_type="CPU")


def list_physical_devices(device_type=None):
    """The physical devices of `device_type` ("CPU", "GPU", ...; case-sensitive, as TF); all if None."""
    return [_CPU] if device_type in (None, "CPU") else []


def list_logical_devices(device_type=None):
    """The logical devices of `device_type`; all if None."""
    return [_CPU_LOGICAL] if device_type in (None, "CPU") else []


def get_visible_devices(device_type=None):
    """The physical devices the runtime may use (all of them)."""
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type=None):
    """Accepts the visible device list; the CPU must stay visible (there is nothing else to hide)."""
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    for d in devices:
        if d != _CPU:
            raise ValueError(f"Unrecognized device: {d!r}")
    if device_type in (None, "CPU") and _CPU not in devices:
        raise ValueError("Attempting to hide the CPU, which is the only device of this engine.")


def get_logical_device_configuration(device):
    """None: no virtual device configuration (as TF for a device that was not split)."""
    if device != _CPU:
        raise ValueError(f"Unrecognized device: {device!r}")
    return None


def _set_memory_growth(device, enable):
    """As TF: only GPUs have memory growth, and this engine has none, so this always raises
    (programs call it in a loop over ``list_physical_devices("GPU")``, which is empty)."""
    if device != _CPU:
        raise ValueError(f"Unrecognized device: {device!r}")
    raise ValueError("Cannot set memory growth on non-GPU and non-Pluggable devices")


def _get_memory_growth(device):
    """As TF: there is no memory growth setting for the CPU (KeyError) or an unknown device."""
    if device != _CPU:
        raise ValueError(f"Unrecognized device: {device!r}")
    raise KeyError(device)


experimental: Any = types.ModuleType(__name__ + ".experimental", "tf.config.experimental")
experimental.list_physical_devices = list_physical_devices
experimental.list_logical_devices = list_logical_devices
experimental.get_visible_devices = get_visible_devices
experimental.set_visible_devices = set_visible_devices
experimental.set_memory_growth = _set_memory_growth
experimental.get_memory_growth = _get_memory_growth
experimental.__all__ = [
    "list_physical_devices",
    "list_logical_devices",
    "get_visible_devices",
    "set_visible_devices",
    "set_memory_growth",
    "get_memory_growth",
]

# Note [Thread settings]: the engine has one pool of threads that runs inside an op (and sets
# OpenBLAS's thread count with its own, so the two never compete for the cores); ops run one after
# another in program order, so there is no inter-op pool. TF's intra-op setting resizes that pool
# (0: the default size, hardware threads up to 8); the inter-op setting is remembered and returned,
# as TF's getter does, and changes nothing. Values are checked when set, with the errors TF 2.21
# raises later, when its context reads them; TF cannot change either after its first op
# ("Intra op parallelism cannot be modified after initialization."), this engine resizes its pool
# at any time. A negative intra-op count aborts TF's process ("Check failed: num_threads >= 1"):
# here it is a ValueError. A negative inter-op count is TF's "run ops on the caller's thread",
# which is what this engine always does.
_threads = {"intra": 0, "inter": 0}
_DEFAULT_THREADS = get_num_threads()
_INT32_MAX = 2**31 - 1


def set_num_threads(n):
    """Sets the size of the engine's intra-op thread pool (an int >= 1); OpenBLAS gets the same count."""
    import numbers

    if not isinstance(n, numbers.Integral) or isinstance(n, bool):
        raise TypeError(f"set_num_threads: n must be an int, got {n!r} of type {type(n).__name__}")
    if not 1 <= int(n) <= 1024:
        raise ValueError(f"set_num_threads: n must be between 1 and 1024, got {n!r}")
    _core_set_num_threads(int(n))


def _thread_count(num_threads, field):
    """TF's ConfigProto field check: None is 0 (the default); an int of int32 range; not a bool."""
    import operator

    if num_threads is None:
        return 0
    if isinstance(num_threads, bool):
        raise TypeError(f"Field tensorflow.ConfigProto.{field}: Expected an int, got a boolean.")
    n = operator.index(num_threads)  # TypeError: 'float' object cannot be interpreted as an integer
    if not -_INT32_MAX - 1 <= n <= _INT32_MAX:
        raise ValueError(f"Value out of range: {n}")
    return n


def _set_intra(num_threads):
    """Sets the threads one op may use: resizes the engine's pool (0 or None: the default, hardware
    threads up to 8).

    >>> import tapegrad as tg
    >>> tg.config.threading.set_intra_op_parallelism_threads(1)
    >>> tg.config.threading.get_intra_op_parallelism_threads(), tg.config.get_num_threads()
    (1, 1)
    >>> tg.config.threading.set_intra_op_parallelism_threads(0)  # back to the default
    """
    n = _thread_count(num_threads, "intra_op_parallelism_threads")
    if n < 0:
        raise ValueError(f"intra_op_parallelism_threads must be >= 0 (0: the default), got {n}")
    set_num_threads(n if n > 0 else _DEFAULT_THREADS)
    _threads["intra"] = n


def _get_intra():
    """The value last set with set_intra_op_parallelism_threads (0: the default)."""
    return _threads["intra"]


def _set_inter(num_threads):
    """Remembered only: the engine runs ops one after another (see Note [Thread settings])."""
    _threads["inter"] = _thread_count(num_threads, "inter_op_parallelism_threads")


def _get_inter():
    """The value last set with set_inter_op_parallelism_threads (0: the default)."""
    return _threads["inter"]


threading: Any = types.ModuleType(__name__ + ".threading", "tf.config.threading")
threading.set_intra_op_parallelism_threads = _set_intra
threading.get_intra_op_parallelism_threads = _get_intra
threading.set_inter_op_parallelism_threads = _set_inter
threading.get_inter_op_parallelism_threads = _get_inter
threading.__all__ = [
    "set_intra_op_parallelism_threads",
    "get_intra_op_parallelism_threads",
    "set_inter_op_parallelism_threads",
    "get_inter_op_parallelism_threads",
]
sys.modules[experimental.__name__] = experimental
sys.modules[threading.__name__] = threading

_DEVICE_PART = re.compile(
    r"^(job:[^/:]+|replica:\d+|task:\d+|device:[A-Za-z_]+:(\d+|\*)|[A-Za-z_]+:(\d+|\*)"
    r"|device:[A-Za-z_]+|cpu|gpu|CPU|GPU)$"
)


class device:  # noqa: N801  (TF's name)
    """``with tg.device("/GPU:0"):`` as TF; a no-op here: every op runs on the host CPU.

    The name is checked on entering, as TF checks a device spec ("/job:.../device:GPU:0",
    "GPU:0", "/cpu:0", "" or None); a bad spec raises ValueError.

    >>> import tapegrad as tg
    >>> with tg.device("/GPU:0"):
    ...     x = tg.constant(1.0) + 1.0
    >>> x.device
    '/job:localhost/replica:0/task:0/device:CPU:0'
    """

    def __init__(self, device_name):
        if callable(device_name):
            raise RuntimeError("tf.device does not support functions.")
        self.name = device_name

    def __enter__(self):  # TF parses the name on entering the scope
        name = self.name
        if name is not None and not isinstance(name, str):
            raise ValueError(f"Expecting a string device name. Got {type(name)}({name!r})")
        for part in (name or "").split("/"):
            if part and not _DEVICE_PART.match(part):
                raise ValueError(f"Unknown attribute '{part}' is encountered while parsing the device spec: '{name}'.")
        return self

    def __exit__(self, *exc):
        return False
