"""One check shared by the test modules that compare bad-input errors with real TF: the same
exception class, and the same first line of the message up to TF's NodeDef details."""

import re

import pytest


def assert_raises_like_tf(fn, tg, tf):
    """fn(module) raises the same exception type with TF's message (minus TF's function_node prefix)."""
    with pytest.raises(Exception) as ours:
        fn(tg)
    with pytest.raises(Exception) as theirs:
        fn(tf)
    assert type(ours.value).__name__ == type(theirs.value).__name__
    text = str(theirs.value)
    op = re.search(r"\[Op:(\w+)\]", text)
    first = re.sub(r"^\{\{function_node [^}]*\}\} ", "", text.split("\n")[0]).split(" [Op:")[0]
    assert str(ours.value) == (first + f" [Op:{op.group(1)}]" if op else first)
