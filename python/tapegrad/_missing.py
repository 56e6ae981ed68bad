"""TensorFlow and Keras namespaces that tapegrad does not implement: reaching one raises
`NotInTapegradError` with a message that names it, instead of a bare AttributeError.

The error is a NotImplementedError (what the user sees: the name exists in TF, not here) and an
AttributeError, so ``hasattr(tf, "image")`` is False and ``getattr(tf, "image", None)`` is None, as
for any other missing attribute."""

from __future__ import annotations

from typing import Callable, NoReturn


class NotInTapegradError(NotImplementedError, AttributeError):
    """A TensorFlow / Keras name that tapegrad does not implement."""


def module_getattr(module: str, prefix: str, names: tuple[str, ...], hint: str) -> Callable[[str], NoReturn]:
    """A module-level ``__getattr__`` for `module` (shown to users as `prefix`) that raises
    NotInTapegradError for `names` and AttributeError, as Python's own, for anything else."""
    missing = frozenset(names)

    def __getattr__(name: str) -> NoReturn:
        if name in missing:
            err = NotInTapegradError(f"{prefix}.{name} is not implemented in tapegrad. {hint}")
            err.name = name  # AttributeError's field (its constructor keyword is not inherited here)
            raise err
        raise AttributeError(f"module {module!r} has no attribute {name!r}", name=name)

    return __getattr__
