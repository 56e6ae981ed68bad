"""The Python examples of the documentation site run as written (docs/index.md, docs/guides/*.md).

Each ```python block runs in its own Python process (the snippets set the random seed and the thread
count, as a reader's script would), in a temporary working directory (the saving example writes a
file). Where the page shows the block's output in the ```text block right after it, the
printed lines must match: exactly for text, to 2% for the numbers in them (float32 sums may differ
in the last bits between BLAS builds and thread counts).
"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
PAGES = [DOCS / "index.md", *sorted((DOCS / "guides").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```(?:\n+(?:prints\n+)?```text\n(.*?)```)?", re.S)
NUMBER = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")
PEER_IMPORT = re.compile(r"^\s*(?:import|from) (torch|jax|tensorflow)\b", re.M)


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
def test_docs_snippet_runs(code, output, tmp_path):
    if "weights.h5" in code:
        pytest.importorskip("h5py")
    for peer in PEER_IMPORT.findall(code):  # a page may show interop with an optional peer
        pytest.importorskip(peer)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))  # the tapegrad this test imports
    run = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, f"the snippet failed:\n{run.stderr}"
    if output is not None:
        assert _same_output(run.stdout, output), f"printed:\n{run.stdout}\nthe page says:\n{output}"


def test_the_pages_have_snippets():
    ids = [p.id for p in _snippets()]
    assert len(ids) >= 8, ids
