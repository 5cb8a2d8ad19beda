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
# The suite is XCTest only; Swift Testing would close the output with a "0 tests" line.
status=0
swift test --skip-build --disable-swift-testing 2>&1 | tee .build/test-run.log || status=$?

# One closing line with the totals from XCTest's last summary.
summary=$(grep -E "Executed [0-9]+ tests?" .build/test-run.log | tail -n 1 || true)
executed=$(echo "$summary" | sed -nE 's/.*Executed ([0-9]+) tests?.*/\1/p')
skipped=$(echo "$summary" | sed -nE 's/.* ([0-9]+) tests? skipped.*/\1/p')
failures=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failures?.*/\1/p')
executed=${executed:-0}
skipped=${skipped:-0}
failures=${failures:-0}
if [ "$status" -ne 0 ] && [ "$failures" -eq 0 ]; then
  failures=1  # the runner failed without a summary, for example after a crash
fi
echo "tests: $((executed - skipped - failures)) passed, $failures failed, $skipped skipped"
exit "$status"
