#!/usr/bin/env bash
# The engine under sanitizers: build tapegrad with AddressSanitizer + UndefinedBehaviorSanitizer
# (+ float-cast-overflow) into its own venv, run the whole suite and the bad-input battery, and fail
# if any sanitizer report was written (by pytest's process or by any child it started).
#
#   tools/sanitize.sh                 fresh venv + build, whole suite (CI runs this)
#   tools/sanitize.sh --reuse [ARGS]  keep the venv and build dir (incremental); ARGS go to pytest
#   tools/sanitize.sh --thread        ThreadSanitizer build; runs tools/sanitize/threads_stress.py
#                                     (Python threads stepping optimizers and writing Variables)
#
# Reports go to files (log_path=), one per process, so the battery's children (stderr to
# /dev/null) and mpiexec's ranks are caught too; the script prints every report and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

MODE=address
REUSE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --thread) MODE=thread; shift ;;
    --reuse) REUSE=1; shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done

if [[ $MODE == address ]]; then
  VENV=$ROOT/.sanitize-venv
  BUILD=$ROOT/build-sanitize
  # -O1: ASan's recommended level (fast enough to run the suite, stack traces stay accurate);
  # -g1: line tables only (file:line in every frame, a fraction of -g's compile time).
  # float-cast-overflow is not part of gcc's -fsanitize=undefined. -fno-sanitize-recover is not set:
  # UBSan reports and continues, so one run lists every report (the script fails at the end).
  SAN="-fsanitize=address,undefined,float-cast-overflow"
  LIBS="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
else
  VENV=$ROOT/.sanitize-tsan-venv
  BUILD=$ROOT/build-sanitize-tsan
  SAN="-fsanitize=thread"
  LIBS="$(gcc -print-file-name=libtsan.so) $(gcc -print-file-name=libstdc++.so)"
fi
FLAGS="-O1 -g1 -fno-omit-frame-pointer $SAN"

if [[ $REUSE == 0 || ! -x $VENV/bin/python ]]; then
  rm -rf "$VENV" "$BUILD"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip>=25.1"
  # build tools in the venv (the build runs without isolation so --reuse rebuilds incrementally)
  "$VENV/bin/pip" install --quiet scikit-build-core pybind11 scipy-openblas32 numpy cmake ninja
  if [[ $MODE == address ]]; then
    "$VENV/bin/pip" install --quiet --group test
    # what the ordinary CI run has too: TensorFlow for the comparison tests (it imports and runs
    # under ASan; ml_dtypes comes with it, for bfloat16's numpy type) and MPI for tapegrad.distribute
    "$VENV/bin/pip" install --quiet tensorflow-cpu mpi4py mpich
  fi
fi

echo "== build with $SAN ($FLAGS)"
# Debug configuration: the CMakeLists adds -O3 only to Release, and NDEBUG stays undefined. The
# install is unstripped (install.strip=false) so reports name functions and lines.
time "$VENV/bin/pip" install --quiet --no-build-isolation --no-deps \
  -Cbuild-dir="$BUILD" -Ccmake.build-type=Debug -Cinstall.strip=false \
  -Ccmake.define.CMAKE_CXX_FLAGS_DEBUG="$FLAGS" \
  -Ccmake.define.CMAKE_MODULE_LINKER_FLAGS="$SAN" \
  -Ccmake.define.CMAKE_SHARED_LINKER_FLAGS="$SAN" \
  "$ROOT"

if [[ $MODE == address ]]; then  # See tools/sanitize/ubsan_log.py: UBSan's reports to files too
  SITE=$("$VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
  cp "$ROOT/tools/sanitize/ubsan_log.py" "$SITE/_tg_ubsan_log.py"
  echo "import _tg_ubsan_log" > "$SITE/_tg_ubsan_log.pth"
fi

REPORTS=$(mktemp -d "${TMPDIR:-/tmp}/tapegrad-sanitize.XXXXXX")
# The interpreter is not instrumented: the runtime must be loaded first (libstdc++ with it, so the
# runtime's __cxa_throw interceptor finds the real one). Every child inherits the environment.
export LD_PRELOAD="$LIBS"
export PYTHONFAULTHANDLER=1

if [[ $MODE == address ]]; then
  # detect_leaks=0: CPython and numpy keep allocations alive to exit by design.
  # allocator_may_return_null=1: the battery asks for 2**45-element tensors and expects
  # ResourceExhaustedError (operator new's std::bad_alloc), not ASan's allocation-size abort.
  export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:log_path=$REPORTS/report:symbolize=1:handle_abort=1"
  # (libasan parses UBSAN_OPTIONS' common flags too: the same log_path in both, or the last wins)
  export UBSAN_OPTIONS="print_stacktrace=1:log_path=$REPORTS/report"
  export TG_UBSAN_LOG_PATH=$REPORTS/ubsan
  DESELECT=(
    # builds its own -fsanitize=thread binary: ThreadSanitizer cannot start with ASan preloaded
    # (it runs in the ordinary suite)
    --deselect tests/test_pool_tsan.py
    # measures RSS growth, which under ASan is its quarantine of freed memory (256 MB by default)
    # filling up, not tapegrad's memory (it runs in the ordinary suite)
    --deselect tests/test_leak.py
  )
  echo "== whole suite and bad-input battery under ASan + UBSan (reports: $REPORTS)"
  set +e
  # the venv's bin first on PATH, as an activated venv: mpiexec (the mpich wheel's) for the
  # distributed tests and the benchmark smoke run, whether or not the machine has its own
  ( cd "$ROOT" && export PATH="$VENV/bin:$PATH" &&
    time "$VENV/bin/python" -m pytest -q --capture=sys -p no:cacheprovider "${DESELECT[@]}" "$@" )
  RC=$?
  set -e
else
  export TSAN_OPTIONS="log_path=$REPORTS/report:suppressions=$ROOT/tools/sanitize/tsan.supp:second_deadlock_stack=1:history_size=4"
  echo "== Python threads on one optimizer and one Variable under ThreadSanitizer (reports: $REPORTS)"
  set +e
  # (timeout: a crash under TSan can hang in the fault handler instead of exiting)
  ( cd "$ROOT" && time timeout -k 10 600 "$VENV/bin/python" tools/sanitize/threads_stress.py "$@" )
  RC=$?
  set -e
fi
unset LD_PRELOAD

shopt -s nullglob
reports=("$REPORTS"/report.* "$REPORTS"/ubsan.*)
if [[ ${#reports[@]} -gt 0 ]]; then
  for f in "${reports[@]}"; do
    echo "==================== $f"
    cat "$f"
  done
  echo "== FAIL: ${#reports[@]} sanitizer report file(s) (in $REPORTS)"
  exit 1
fi
if [[ $RC -ne 0 ]]; then
  echo "== FAIL: the tests failed under the sanitizers (exit $RC), no sanitizer report"
  exit "$RC"
fi
echo "== no sanitizer reports"
rm -rf "$REPORTS"
