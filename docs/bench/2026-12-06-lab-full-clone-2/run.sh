#!/usr/bin/env bash
# The full lab run from the clean clone /tmp/lab-clone (its own release build).
cd /tmp/lab-clone
mkdir -p /tmp/lab-full
( while true; do echo "$(date -u +%T) $(cat /proc/loadavg)"; sleep 120; done ) > /tmp/lab-full/load.txt &
LOADPID=$!
OMP_WAIT_POLICY=PASSIVE /usr/bin/time -v -o /tmp/lab-full/time.txt .build/release/sequent lab --threads 2 \
  --text /work/shared/data/text/tinyshakespeare.txt --out /tmp/lab-full/report 2>&1 1>/tmp/lab-full/stdout.txt \
  | while IFS= read -r l; do echo "$(date -u +%T) $l"; done > /tmp/lab-full/progress.txt
echo "$(date -u +%T) $(cat /proc/loadavg) end" >> /tmp/lab-full/load.txt
kill $LOADPID
