"""TF-2 programs run unchanged: each program in tests/tf_tutorials/ runs with the import swapped to
tapegrad (``sys.modules["tensorflow"] = tapegrad``) in its own process, and every printed line must
agree with what real TensorFlow printed for the same program (see tests/tf_tutorials/README.md).

TF's output is recorded in tests/tf_tutorials/expected/ by ``python tests/tf_tutorials/record.py``
(each file names the TF/Keras versions and the program's hash; a stale file fails the test), so the
default run needs no TensorFlow. With ``TAPEGRAD_TUTORIALS_VS_TF=1`` and TensorFlow installed,
each program also runs with real TF in the test and is compared live (.ci/run does this)."""

import hashlib
import importlib.util
import os
import re
import subprocess
import sys

import pytest

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tf_tutorials")
PROGRAMS = sorted(f for f in os.listdir(HERE) if f.endswith(".py") and f != "record.py")
HAVE_TF = importlib.util.find_spec("tensorflow") is not None
LIVE_TF = HAVE_TF and os.environ.get("TAPEGRAD_TUTORIALS_VS_TF") == "1"
EXPECTED = os.path.join(HERE, "expected")


def program_hash(program):
    with open(os.path.join(HERE, program), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def read_expected(program):
    """(header fields, lines) of the recorded TF output of `program`."""
    with open(os.path.join(EXPECTED, program[:-3] + ".txt")) as f:
        header, _, body = f.read().partition("\n")
    fields = dict(item.split("=", 1) for item in header.lstrip("# ").split())
    return fields, body.splitlines()


# The swap stands for editing the program's imports (`tensorflow` -> `tapegrad`, `keras` ->
# `tapegrad.keras`): besides the two top modules, submodule imports such as
# `from tensorflow.keras import layers` resolve to tapegrad's own submodules (not fresh copies).
_SWAP = """
import importlib, importlib.abc, importlib.util, runpy, sys
import tapegrad


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    TARGETS = {"tensorflow": "tapegrad", "keras": "tapegrad.keras"}

    def find_spec(self, name, path=None, target=None):
        head, _, rest = name.partition(".")
        if head in self.TARGETS and rest:
            return importlib.util.spec_from_loader(name, self)
        return None

    def create_module(self, spec):
        head, _, rest = spec.name.partition(".")
        return importlib.import_module(self.TARGETS[head] + "." + rest)

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, _Alias())
sys.modules["tensorflow"] = tapegrad
sys.modules["keras"] = tapegrad.keras
runpy.run_path(sys.argv[1], run_name="__main__")
"""
_REAL = "import sys, runpy; runpy.run_path(sys.argv[1], run_name='__main__')"
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|nan|inf")


def _run(code, program, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    proc = subprocess.run(
        [sys.executable, "-c", code, os.path.join(HERE, program)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc


# what an editable development install (scikit-build-core's rebuild on import) prints first
_BUILD_NOISE = re.compile(r"^(Running cmake |\[\d+/\d+\] |ninja: |-- (Install|Up-to-date|Installing))")


def _lines(text):
    return [
        line for line in text.splitlines() if line.strip() and not line.startswith("#") and not _BUILD_NOISE.match(line)
    ]


def _same(a, b, rtol=1e-4, atol=2e-4):
    """Lines equal up to numbers, which may differ by float32 rounding."""
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        if x == y:
            continue
        fx, fy = float(x), float(y)
        if not abs(fx - fy) <= atol + rtol * max(abs(fx), abs(fy)):
            return False
    return True


# Mismatches whose fix belongs to code another part of the project owns: (condition, reason). The
# xfail is strict, so once the fix lands the XPASS fails and the entry must go.
KNOWN = {}


def _params():
    out = []
    for program in PROGRAMS:
        known = KNOWN.get(program)
        if known is not None and known[0]():
            out.append(pytest.param(program, marks=pytest.mark.xfail(reason=known[1], strict=True)))
        else:
            out.append(program)
    return out


@pytest.mark.parametrize("program", PROGRAMS)
def test_recorded_tf_output_is_current(program):
    fields, _ = read_expected(program)
    assert fields["sha256"] == program_hash(program), (
        f"{program} changed since TF's output was recorded: run `python tests/tf_tutorials/record.py {program}`"
    )


@pytest.mark.slow
@pytest.mark.parametrize("program", _params())
def test_program_runs_unchanged(program, tmp_path):
    ours = _run(_SWAP, program, tmp_path)
    assert ours.returncode == 0, f"{program} failed with tapegrad:\n{ours.stdout}\n{ours.stderr[-4000:]}"
    if LIVE_TF:
        ref = _run(_REAL, program, tmp_path)
        assert ref.returncode == 0, f"{program} failed with TensorFlow:\n{ref.stderr[-4000:]}"
        want = _lines(ref.stdout)
    else:
        want = read_expected(program)[1]
    got = _lines(ours.stdout)
    assert len(got) == len(want), (
        f"{program}: {len(got)} lines with tapegrad, {len(want)} with TF:\n"
        + "\n".join(got)
        + "\n---\n"
        + "\n".join(want)
    )
    for g, w in zip(got, want):
        assert _same(g, w), f"{program}:\n tapegrad: {g}\n TF:       {w}"


def test_swap_aliases_submodules_and_keras_namespaces(tmp_path):
    # regression: `from tensorflow.keras import layers` imported a second copy of tapegrad (the engine
    # refused to register its types twice); tf.metrics / tf.initializers were missing
    program = tmp_path / "prog.py"
    program.write_text(
        "import tensorflow as tf\nfrom tensorflow.keras import layers\nimport tensorflow.keras.metrics\n"
        "from keras import optimizers\n"
        "print(layers is tf.keras.layers, tf.metrics is tf.keras.metrics, "
        "tf.initializers is tf.keras.initializers, optimizers is tf.keras.optimizers)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", _SWAP, str(program)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert " ".join(_lines(proc.stdout)).split() == ["True"] * 4
