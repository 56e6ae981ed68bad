"""``tg.nn``: activations."""
from ._core import relu, sigmoid, softplus  # noqa: F401

from ._namespaces import exported as _exported

globals().update(_exported("nn"))
