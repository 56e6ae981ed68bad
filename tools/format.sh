#!/usr/bin/env bash
# Formats the whole tree in place: Python with ruff (import order, then `ruff format`), C++ with
# clang-format (.clang-format). `--check` changes nothing and fails on any lint finding or any file
# that would be reformatted (what CI runs, .ci/run "== linters"). pre-commit runs the same tools on
# the files of each commit (.pre-commit-config.yaml). Tool versions: the `lint` group in pyproject.toml.
#   pip install --group lint && tools/format.sh [--check]
set -euo pipefail
cd "$(dirname "$0")/.."
RUFF=${RUFF:-ruff}
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
echo "$("$RUFF" --version); $("$CLANG_FORMAT" --version)"
# Every tracked C++ source and header (cpp/, tests/cpp/). Python files: ruff's own discovery, with
# pyproject.toml's excludes (tests/tf_tutorials/: program text hashed by the tests; build/).
mapfile -d '' CXX < <(git ls-files -z -- 'cpp/*.cpp' 'cpp/*.h' 'tests/cpp/*.cpp' 'tests/cpp/*.h')

if [[ "${1:-}" == "--check" ]]; then
  status=0
  "$RUFF" check . || status=1
  "$RUFF" format --check . || status=1
  "$CLANG_FORMAT" --style=file --dry-run -Werror "${CXX[@]}" || status=1
  exit $status
fi

"$RUFF" check --select I --fix --quiet .  # import order: the one lint fix that is formatting
"$RUFF" format .
"$CLANG_FORMAT" --style=file -i "${CXX[@]}"
