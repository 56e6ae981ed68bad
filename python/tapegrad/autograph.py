"""``tf.autograph``: tapegrad runs ``tf.function`` eagerly, so there is nothing to convert; these
names exist so that programs written for TF run unchanged."""

import types as _types


def _do_not_convert(func=None):
    """``tf.autograph.experimental.do_not_convert``: returns `func` unchanged (also as a decorator factory)."""
    return func if func is not None else (lambda f: f)


def _set_loop_options(parallel_iterations=None, swap_memory=None, maximum_iterations=None, shape_invariants=None):
    """``tf.autograph.experimental.set_loop_options``: accepted; loops run as Python loops here."""
    return None


experimental = _types.SimpleNamespace(do_not_convert=_do_not_convert, set_loop_options=_set_loop_options)


def to_graph(entity, recursive=True, experimental_optional_features=None):
    """Not available: tapegrad has no graph mode yet."""
    raise NotImplementedError(
        "tf.autograph.to_graph is not available: tapegrad runs tf.function eagerly and has no graph representation yet."
    )
