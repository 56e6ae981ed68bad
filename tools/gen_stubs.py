"""Regenerates python/tapegrad/_core.pyi, the type stubs of the C++ engine, with pybind11-stubgen.

    python tools/gen_stubs.py           # rewrite the checked-in stubs from the built engine
    python tools/gen_stubs.py --check   # exit 1 (and show the diff) when they differ

Run it after changing a binding (cpp/bindings/*.cpp) or the Python attributes tapegrad adds to
the engine's Tensor and Variable; tests/test_typing.py fails until the stubs are regenerated.
"""

from __future__ import annotations

import argparse
import difflib
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED_IN = ROOT / "python" / "tapegrad" / "_core.pyi"


def generate() -> str:
    """The stubs pybind11-stubgen writes for the tapegrad._core this Python imports."""
    with tempfile.TemporaryDirectory() as out:
        # --exit-code: an unresolvable name in a signature is an error, not a silent `...`
        cmd = [
            sys.executable,
            "-m",
            "pybind11_stubgen",
            "tapegrad._core",
            "--exit-code",
            "-o",
            out,
            "--enum-class-locations",
            "GradientClip|OptimizerRule:tapegrad._core",
        ]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise RuntimeError(f"pybind11-stubgen failed ({res.returncode}):\n{res.stdout}\n{res.stderr}")
        return (Path(out) / "tapegrad" / "_core.pyi").read_text()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the checked-in stubs instead of writing")
    args = ap.parse_args()
    text = generate()
    if args.check:
        old = CHECKED_IN.read_text() if CHECKED_IN.exists() else ""
        if old == text:
            return 0
        sys.stdout.writelines(
            difflib.unified_diff(
                old.splitlines(True), text.splitlines(True), "checked-in _core.pyi", "generated _core.pyi"
            )
        )
        return 1
    CHECKED_IN.write_text(text)
    print(f"wrote {CHECKED_IN.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
