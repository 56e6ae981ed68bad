"""``tf.experimental.dlpack``: zero-copy exchange with numpy, PyTorch, JAX and any DLPack library.

``to_dlpack(t)`` exports a tensor's buffer as a DLPack capsule without copying; ``from_dlpack``
wraps another library's memory in a Tensor, without copying when it is contiguous, on the CPU and
aligned to its element size (strided or misaligned memory is copied). Tensors and Variables also
have the array API's ``__dlpack__``/``__dlpack_device__``, so ``np.from_dlpack(t)``,
``torch.from_dlpack(t)`` and ``jax.numpy.from_dlpack(t)`` work directly.

>>> import numpy as np
>>> import tapegrad as tf
>>> a = np.arange(4.0, dtype=np.float32)
>>> t = tf.experimental.dlpack.from_dlpack(a.__dlpack__())
>>> t
<tf.Tensor: shape=(4,), dtype=float32, numpy=array([0., 1., 2., 3.], dtype=float32)>
>>> np.from_dlpack(tf.constant([1, 2])).tolist()
[1, 2]
"""

from .. import _core
from ..errors import InvalidArgumentError

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tf_tensor):
    """Returns a DLPack capsule (named ``"dltensor"``) sharing the tensor's memory.

    The capsule can be consumed once, by ``from_dlpack`` of any DLPack library (``torch.from_dlpack``,
    ``jax.dlpack.from_dlpack``, ...); it keeps the buffer alive until its consumer releases it. A
    Variable exports its current value: later assigns do not reach the consumer.

    >>> import tapegrad as tf
    >>> capsule = tf.experimental.dlpack.to_dlpack(tf.constant([1.0, 10.0]))
    >>> tf.experimental.dlpack.from_dlpack(capsule)
    <tf.Tensor: shape=(2,), dtype=float32, numpy=array([ 1., 10.], dtype=float32)>
    """
    if not isinstance(tf_tensor, (_core.Tensor, _core.Variable)):
        raise InvalidArgumentError("The argument to `to_dlpack` must be a TF tensor, not Python object")
    return tf_tensor.__dlpack__()


def from_dlpack(dlcapsule):
    """Returns a Tensor reading the memory of a DLPack capsule (or of an object with ``__dlpack__``).

    Zero-copy when the memory is on the CPU, row-major contiguous and aligned to its element size;
    strided or misaligned memory is copied. The producer's memory is released when the last
    reference to the tensor goes. A capsule can be consumed once.

    Raises InvalidArgumentError for memory on another device ("Unsupported Device Type") or an
    element type tapegrad lacks (complex, float8, vector lanes).
    """
    if hasattr(dlcapsule, "__dlpack__") and not isinstance(dlcapsule, type):
        # the array API's protocol (what np.from_dlpack and torch.from_dlpack accept too)
        if hasattr(dlcapsule, "__dlpack_device__"):
            device_type, device_id = dlcapsule.__dlpack_device__()
            if int(device_type) != 1:  # kDLCPU
                if int(device_type) == 2:  # kDLCUDA, TF's message on a host without that GPU
                    raise InvalidArgumentError(f"GPU:{int(device_id)} unknown device.")
                raise InvalidArgumentError("Unsupported Device Type")
        try:
            capsule = dlcapsule.__dlpack__(max_version=(1, 0))
        except TypeError:  # a producer older than DLPack 1.0's protocol
            capsule = dlcapsule.__dlpack__()
        return _core.from_dlpack_capsule(capsule)
    return _core.from_dlpack_capsule(dlcapsule)
