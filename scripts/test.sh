#!/usr/bin/env bash
# Installs what the tests need (scripts/setup.sh), builds everything, fails on any compiler
# warning in the project's own code, and runs the whole test suite. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

mkdir -p .build
echo "==> building the package and its tests"
swift build --build-tests 2>&1 | tee .build/test-build.log
if grep -E "^$(pwd)/(Sources|Tests|Examples|Protos|Plugins)/.*: warning:" .build/test-build.log; then
  echo "error: the build printed warnings in the project's code (listed above)" >&2
  exit 1
fi

echo "==> running the tests"
swift test --skip-build 2>&1 | tee .build/test-run.log
