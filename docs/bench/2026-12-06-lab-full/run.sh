#!/usr/bin/env bash
cd /work/wt-lab
OMP_WAIT_POLICY=PASSIVE /usr/bin/time -v -o /tmp/lab-full/time.txt /tmp/lab-full/sequent lab --threads 2 --out /tmp/lab-full/report 2>&1 1>/tmp/lab-full/stdout.txt \
  | while IFS= read -r l; do echo "$(date -u +%T) $l"; done > /tmp/lab-full/progress.txt
