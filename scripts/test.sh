#!/usr/bin/env bash
# Checks the source layout (scripts/check-layout.sh: raw memory only in Kernels/), then runs
# the whole test suite on a release build (optimised, as the code runs for users) with
# testing enabled so that `@testable import` works; then the tensor and layer tests again as
# on an AVX2-only CPU (SEQUENT_MAX_CPU_ISA=avx2 and ONEDNN_MAX_CPU_ISA=AVX2: no AVX-512, no
# native bfloat16); then a package that depends on Sequent by version is built and run
# (scripts/check-package-by-version.sh). Extra arguments go to the first `swift test` (e.g.
# --filter SequentTensorTests) and skip the other two steps. Exits non-zero if any fails;
# the last line counts the tests of both runs.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
bash scripts/check-layout.sh
swift build -c release --build-tests -Xswiftc -enable-testing
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

echo "== tests on this CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))"
swift test -c release -Xswiftc -enable-testing --skip-build "$@" 2>&1 | tee "$logs/native.log"
if [[ $# -gt 0 ]]; then exit 0; fi

echo "== SequentTensorTests and SequentNNTests as on an AVX2-only CPU"
SEQUENT_MAX_CPU_ISA=avx2 ONEDNN_MAX_CPU_ISA=AVX2 \
    swift test -c release -Xswiftc -enable-testing --skip-build --filter 'SequentTensorTests|SequentNNTests' 2>&1 \
    | tee "$logs/avx2.log"

echo "== a package that depends on Sequent by version"
bash scripts/check-package-by-version.sh

# XCTest's last "Executed N tests, with M failures" line of each run is its total.
count() { grep -E "^\s+Executed [0-9]+ tests?, with" "$1" | tail -n 1 | sed -E 's/^\s+Executed ([0-9]+) tests?, with( [0-9]+ tests? skipped and)? ([0-9]+) failures?.*/\1 \3/'; }
read -r native_total native_failed <<< "$(count "$logs/native.log")"
read -r avx2_total avx2_failed <<< "$(count "$logs/avx2.log")"
echo "this CPU: $native_total tests, $native_failed failed; as AVX2: $avx2_total tests, $avx2_failed failed"
echo "$((native_total + avx2_total - native_failed - avx2_failed)) passed, $((native_failed + avx2_failed)) failed"
