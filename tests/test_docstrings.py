"""The `>>>` examples in the package's docstrings run and give what they show."""

import doctest
import importlib
import pkgutil

import pytest

import tapegrad

MODULES = sorted(m.name for m in pkgutil.walk_packages(tapegrad.__path__, "tapegrad.") if not m.name.endswith("_core"))


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {name}"


def test_docstring_examples_exist():
    finder = doctest.DocTestFinder()
    total = sum(len(t.examples) for name in MODULES for t in finder.find(importlib.import_module(name)))
    assert total >= 40
