"""Records what real TensorFlow prints for each program here into expected/<program>.txt.

    python tests/tf_tutorials/record.py              # every program (needs tensorflow installed)
    python tests/tf_tutorials/record.py dcgan.py     # one program

Each file starts with one header line naming the TF and Keras versions and the program's hash;
tests/test_tf_tutorials.py compares tapegrad's output with the lines after it.
"""
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from test_tf_tutorials import EXPECTED, PROGRAMS, _REAL, _lines, program_hash  # noqa: E402


def record(program):
    import tensorflow as tf  # noqa: PLC0415
    import keras  # noqa: PLC0415

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-c", _REAL, os.path.join(HERE, program)], cwd=tempfile.mkdtemp(), env=env,
                          capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"{program} failed with TensorFlow:\n{proc.stderr[-4000:]}")
    header = f"# tensorflow={tf.__version__} keras={keras.__version__} sha256={program_hash(program)}"
    with open(os.path.join(EXPECTED, program[:-3] + ".txt"), "w") as f:
        f.write("\n".join([header] + _lines(proc.stdout)) + "\n")
    print("recorded", program)


if __name__ == "__main__":
    os.makedirs(EXPECTED, exist_ok=True)
    for name in sys.argv[1:] or PROGRAMS:
        record(name)
