"""griffe extension for the API pages: fences the doctest examples of the plain docstrings.

The docstrings are plain text (mixed styles) with ``>>>`` examples that tests/test_docstrings.py
runs. Rendered as Markdown, ``[1, 2]`` in an example's output would read as a link; this puts each
run of example lines (a ``>>>`` line, its ``...`` continuations and its output, up to a blank line)
in a ```` ```pycon ```` fence, and leaves the rest of the docstring as it is.
"""

import griffe


def fence_doctests(text):
    """Returns `text` with each doctest block inside a pycon code fence."""
    out, in_block, indent = [], False, ""
    for line in text.splitlines():
        stripped = line.lstrip()
        if not in_block and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(indent + "```pycon")
            in_block = True
        elif in_block and not stripped:
            out.append(indent + "```")
            in_block = False
        elif in_block and not line.startswith(indent):
            out.append(indent + "```")
            in_block = False
        out.append(line)
    if in_block:
        out.append(indent + "```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    """Fences the ``>>>`` examples of every docstring griffe reads."""

    def _fix(self, obj):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)

    def on_instance(self, *, obj, **kwargs):
        """Called for each module, class, function and attribute griffe loads."""
        self._fix(obj)
