"""The Python examples of the documentation site run as written (docs/index.md, docs/guides/*.md).

Each ```python block runs in a fresh namespace, in a temporary working directory (the saving example
writes a file). Where the page shows the block's output in the ```text block right after it, the
printed lines must match: exactly for text, to 2% for the numbers in them (float32 sums may differ
in the last bits between BLAS builds and thread counts).
"""
import contextlib
import io
import pathlib
import re

import pytest

import tapegrad as tg

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = [DOCS / "index.md", *sorted((DOCS / "guides").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```(?:\n+(?:prints\n+)?```text\n(.*?)```)?", re.S)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _snippets():
    for page in PAGES:
        for k, m in enumerate(BLOCK.finditer(page.read_text())):
            yield pytest.param(m.group(1), m.group(2), id=f"{page.relative_to(DOCS)}[{k}]")


def _same_output(got, want):
    got_numbers, want_numbers = NUMBER.findall(got), NUMBER.findall(want)
    if NUMBER.sub("#", got).split() != NUMBER.sub("#", want).split() or len(got_numbers) != len(want_numbers):
        return False
    return all(abs(float(g) - float(w)) <= 0.02 * max(abs(float(w)), 1e-3) for g, w in zip(got_numbers, want_numbers))


@pytest.mark.slow
@pytest.mark.parametrize("code, output", list(_snippets()))
def test_docs_snippet_runs(code, output, tmp_path, monkeypatch):
    if "weights.h5" in code:
        pytest.importorskip("h5py")
    monkeypatch.chdir(tmp_path)
    tg.keras.backend.clear_session()  # layer names start again from "dense", as in a new process
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "<docs snippet>", "exec"), {"__name__": "__docs__"})
    if output is not None:
        assert _same_output(printed.getvalue(), output), f"printed:\n{printed.getvalue()}\nthe page says:\n{output}"


def test_the_pages_have_snippets():
    ids = [p.id for p in _snippets()]
    assert len(ids) >= 8, ids
