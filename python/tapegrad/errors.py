"""TF's error classes (``tf.errors``)."""

from ._core import InvalidArgumentError, ResourceExhaustedError


class _OpErrorMixin:
    """TF's ``OpError(node_def, op, message)`` constructor and ``message`` attribute."""

    def __init__(self, node_def, op, message, *args):
        super().__init__(message)
        self.node_def, self.op, self.message = node_def, op, message


class OperatorNotAllowedInGraphError(TypeError):
    """A tensor computed inside a ``tf.function`` used where Python needs its value, e.g. as the
    condition of a Python ``if`` that AutoGraph did not convert
    (``tf.errors.OperatorNotAllowedInGraphError``)."""


class NotFoundError(_OpErrorMixin, Exception):
    """A requested file or entity was not found (``tf.errors.NotFoundError``)."""


class FailedPreconditionError(_OpErrorMixin, Exception):
    """The system is not in a state the operation needs, e.g. ranks disagree on a collective's
    tensor (``tf.errors.FailedPreconditionError``; raised by ``tapegrad.distribute``)."""


class DataLossError(_OpErrorMixin, Exception):
    """Unrecoverable data loss or corruption, e.g. a truncated checkpoint (``tf.errors.DataLossError``)."""


class OutOfRangeError(_OpErrorMixin, Exception):
    """An index or iteration past the valid range, e.g. reading a ``tf.TensorArray`` past its
    size (``tf.errors.OutOfRangeError``)."""


class UnknownError(_OpErrorMixin, Exception):
    """An error TF has no better class for, e.g. an exception other than ValueError, TypeError,
    StopIteration, MemoryError or NotImplementedError raised inside ``tf.py_function``
    (``tf.errors.UnknownError``)."""


class UnimplementedError(_OpErrorMixin, Exception):
    """The operation, or this case of it, is not implemented, e.g. pooling over the batch or channel
    dimension (``tf.errors.UnimplementedError``)."""


__all__ = [
    "DataLossError",
    "FailedPreconditionError",
    "InvalidArgumentError",
    "NotFoundError",
    "OperatorNotAllowedInGraphError",
    "OutOfRangeError",
    "ResourceExhaustedError",
    "UnimplementedError",
    "UnknownError",
]
