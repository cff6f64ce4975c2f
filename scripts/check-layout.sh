#!/usr/bin/env bash
# The layout rule of ../shared/design/STYLE.md and issue #17: raw memory (`Unsafe...`) and
# direct calls into C libraries (importing one of the C targets in Sources/C*/: oneDNN,
# Sequent's C kernels, system-library shims) live in a folder named Kernels/ (or in a C target), behind safe Swift functions.
# This script fails, naming file and line, when Swift code elsewhere in Sources/ does either,
# except the files allowed below, each with the reason it must touch raw memory.
set -euo pipefail
cd "$(dirname "$0")/.."

# path | why it may use raw memory or a C library outside Kernels/
allowed=(
    "Sources/SequentTensor/Tensor.swift|the tensor's own storage accessors (withUnsafeBufferPointer), on which Kernels/ build"
    "Sources/SequentTrain/Checkpoints/AtomicFile.swift|write(2) and fsync(2) of a checkpoint's bytes"
    "Sources/SequentTrain/Training/ProgressPrinter.swift|write(2) of the progress line to the terminal"
    "Sources/sequent-bench/Workloads/MatmulOverhead.swift|measures Tensor.matmul against a bare dnnl_sgemm call: the library call is what it compares with"
)

is_allowed() {
    local file="$1" entry
    for entry in "${allowed[@]}"; do
        [[ "$file" == "${entry%%|*}" ]] && return 0
    done
    return 1
}

# The C targets of this package (system-library shims and C kernels): Sources/C*/.
c_modules="$(find Sources -mindepth 1 -maxdepth 1 -type d -name 'C*' -printf '%f\n' | sort | paste -sd '|')"

status=0
while IFS= read -r hit; do
    file="${hit%%:*}"
    is_allowed "$file" && continue
    echo "check-layout: $hit"
    status=1
done < <(grep -rnE "Unsafe|^import ($c_modules)\$" Sources --include='*.swift' \
             | grep -v '/Kernels/' || true)

# Every allowed file must still exist, so that the list does not outlive the code.
for entry in "${allowed[@]}"; do
    [[ -f "${entry%%|*}" ]] || { echo "check-layout: allowed file ${entry%%|*} no longer exists: update scripts/check-layout.sh"; status=1; }
done

if [[ $status -ne 0 ]]; then
    echo "check-layout: raw memory and C-library calls belong in a Kernels/ folder behind a safe function (see scripts/check-layout.sh)"
else
    echo "check-layout: no raw memory or C-library call outside Kernels/ and the ${#allowed[@]} allowed files"
fi
exit $status
