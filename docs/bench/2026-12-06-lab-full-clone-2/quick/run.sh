#!/usr/bin/env bash
# The quick lab run of the same commit (the clone's build), beside the full run.
cd /tmp/lab-clone
mkdir -p /tmp/lab-quick
OMP_WAIT_POLICY=PASSIVE /usr/bin/time -v -o /tmp/lab-quick/time.txt .build/release/sequent lab --quick \
  --out /tmp/lab-quick/report 2>&1 1>/tmp/lab-quick/stdout.txt \
  | while IFS= read -r l; do echo "$(date -u +%T) $l"; done > /tmp/lab-quick/progress.txt
