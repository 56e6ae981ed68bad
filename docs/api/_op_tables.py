"""mkdocs hook: writes the op tables of docs/api/ops.md from the installed tapegrad.

A line ``<!-- op-table: tapegrad.math -->`` in a page becomes a table of every public function of
that namespace: its name, its signature and the first line of its docstring. Most ops are C++
functions (pybind11), which mkdocstrings' static reader cannot see, so the table is read from the
imported module: the engine must be built (``pip install .``) before ``mkdocs build``.
"""

import importlib
import inspect
import re

_MARKER = re.compile(r"^<!-- op-table: ([\w.]+) -->$", re.M)


def _signature(name, fn):
    doc = inspect.getdoc(fn) or ""
    first = doc.splitlines()[0] if doc else ""
    bound = re.match(r"^\w+(\(.*\)) -> .+$", first)
    if bound:  # pybind11 puts the signature on the docstring's first line
        sig = bound.group(1)
        sig = re.sub(r": [\w.\[\], |]+?(?=( = |, |\)$))", "", sig)  # argument annotations
        sig = sig.replace(" = ", "=")
        return sig, "\n".join(doc.splitlines()[1:]).strip()
    try:
        sig = inspect.signature(fn)  # without the hints: the table shows names and defaults
        sig = sig.replace(
            parameters=[p.replace(annotation=p.empty) for p in sig.parameters.values()], return_annotation=sig.empty
        )
        return str(sig), doc
    except (TypeError, ValueError):
        return "(...)", doc


def _table(namespace):
    mod = importlib.import_module(namespace)
    rows = []
    for name in sorted(n for n in dir(mod) if not n.startswith("_")):
        obj = getattr(mod, name)
        if inspect.isclass(obj) or inspect.ismodule(obj) or not callable(obj):
            continue
        sig, doc = _signature(name, obj)
        summary = doc.split("\n\n")[0].replace("\n", " ").replace("|", "\\|")
        sig = sig.replace("|", "\\|")
        rows.append(f"| `{name}` | `{sig}` | {summary or ''} |")
    if not rows:
        raise ValueError(f"op-table: {namespace} has no public functions")
    return "| name | arguments | summary |\n| --- | --- | --- |\n" + "\n".join(rows)


def on_page_markdown(markdown, page, config, files):
    """Replaces each op-table marker of a page with its table."""
    return _MARKER.sub(lambda m: _table(m.group(1)), markdown)
