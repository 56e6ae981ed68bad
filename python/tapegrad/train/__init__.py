"""``tf.train``: ``Checkpoint``, ``CheckpointManager``, ``latest_checkpoint`` (tapegrad's own
checkpoint files, named like TF's; TF's checkpoints are not read — see ``checkpoint.py``)."""

from .checkpoint import (  # noqa: F401
    Checkpoint,
    CheckpointLoadStatus,
    CheckpointOptions,
    InitializationOnlyStatus,
    list_variables,
    load_variable,
)
from .checkpoint_management import (  # noqa: F401
    CheckpointManager,
    CheckpointState,
    checkpoint_exists,
    get_checkpoint_state,
    latest_checkpoint,
    update_checkpoint_state,
)

__all__ = [
    "Checkpoint",
    "CheckpointManager",
    "CheckpointOptions",
    "CheckpointState",
    "checkpoint_exists",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_variable",
    "update_checkpoint_state",
]
