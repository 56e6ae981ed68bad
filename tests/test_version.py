"""tapegrad.__version__ is pyproject.toml's version, compiled into the engine by CMakeLists.txt."""
import pathlib
import re

import tapegrad as tg
from tapegrad import _core

PYPROJECT = pathlib.Path(__file__).resolve().parent.parent / "pyproject.toml"


def _pyproject_version():
    text = PYPROJECT.read_text()
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    return re.search(r'^version\s*=\s*"([^"]+)"', project, re.M).group(1)


def test_version_comes_from_pyproject():
    # An engine built before CMake passed the version in has no _core.__version__: rebuild it.
    assert _core.__version__ == _pyproject_version()
    assert tg.__version__ == _core.__version__
