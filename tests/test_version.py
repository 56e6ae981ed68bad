"""tapegrad's own version (tf.version.TAPEGRAD_VERSION, tf.__tapegrad_version__) is pyproject.toml's,
compiled into the engine by CMakeLists.txt. (tf.__version__ is the TF API version followed.)"""

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
    assert tg.version.TAPEGRAD_VERSION == tg.__tapegrad_version__ == _core.__version__
