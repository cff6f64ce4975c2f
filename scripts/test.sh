#!/usr/bin/env bash
# Runs the whole test suite on a release build (optimised, as the code runs for users) with
# testing enabled so that `@testable import` works. Extra arguments go to `swift test`
# (e.g. --filter SequentTensorTests). Exits with the test run's status.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
