"""The thread pool (cpp/tensor/parallel.cpp, Note [Threads]) under ThreadSanitizer: its lock-free
job hand-off, spinning, parking and resizing, driven from several threads (tests/cpp/pool_stress.cpp)."""

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _tsan_works(cxx, tmp_path):
    src = tmp_path / "probe.cpp"
    src.write_text("int main() { return 0; }\n")
    r = subprocess.run([cxx, "-fsanitize=thread", str(src), "-o", str(tmp_path / "probe")], capture_output=True)
    return r.returncode == 0 and subprocess.run([str(tmp_path / "probe")], capture_output=True).returncode == 0


@pytest.mark.skipif(not (ROOT / "cpp" / "tensor" / "parallel.cpp").exists(), reason="needs the source tree")
def test_pool_has_no_data_races(tmp_path):
    cxx = shutil.which("g++") or shutil.which("c++")
    if cxx is None or not _tsan_works(cxx, tmp_path):
        pytest.skip("no C++ compiler with ThreadSanitizer here")
    # parallel.cpp sets and reads OpenBLAS's thread count: a stub stands in for the library
    (tmp_path / "cblas.h").write_text(
        'extern "C" inline void scipy_openblas_set_num_threads(int) {}\n'
        'extern "C" inline int scipy_openblas_get_num_threads() { return 2; }\n'
    )
    exe = tmp_path / "pool_stress"
    subprocess.run(
        [
            cxx,
            "-std=c++17",
            "-O1",
            "-g",
            "-fsanitize=thread",
            f"-I{tmp_path}",
            f"-I{ROOT / 'cpp'}",
            str(ROOT / "tests" / "cpp" / "pool_stress.cpp"),
            str(ROOT / "cpp" / "tensor" / "parallel.cpp"),
            "-o",
            str(exe),
            "-lpthread",
        ],
        check=True,
        capture_output=True,
    )
    r = subprocess.run(
        [str(exe)], capture_output=True, text=True, timeout=120, env={"TSAN_OPTIONS": "halt_on_error=1 exitcode=66"}
    )
    assert "ThreadSanitizer" not in r.stderr, r.stderr[-3000:]
    assert r.returncode == 0, (r.stdout, r.stderr[-3000:])
    assert "exactly once: 0" in r.stdout
