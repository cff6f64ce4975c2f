#!/usr/bin/env bash
# The main job: builds Sequent in release and runs the lab on its quick budgets,
# `sequent lab --quick` (under 2 minutes on 2 cores), with any extra arguments (e.g.
# `--out DIR`, `--threads 1`, an experiment name). The report lands in lab-report/.
# The character-level LSTM demo stays one command away: `.build/release/sequent demo`.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
swift build -c release --product sequent
# OpenMP threads that wait by spinning hold their core: on a machine whose cores other
# processes also want, a 2-thread run of the lab's small models then spends most of its
# time spinning (docs/lab.md: about 10 times slower). Waiting threads sleep instead.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
exec "$(swift build -c release --show-bin-path)/sequent" lab --quick "$@"
