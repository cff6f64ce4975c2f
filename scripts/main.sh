#!/usr/bin/env bash
# Builds Sequent in release and runs the demo: `sequent demo`, with any extra arguments.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
swift build -c release --product sequent
exec "$(swift build -c release --show-bin-path)/sequent" demo "$@"
