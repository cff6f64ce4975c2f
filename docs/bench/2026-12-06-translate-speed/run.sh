#!/bin/bash
# Training speed of the translator against the GPT workloads, side by side on 1 thread:
# each round runs every workload in its own process, once with 9 steps (2 warm-up + 7) and
# once with 5 (--quick: 2 + 3), under /usr/bin/time; the CPU seconds (user + sys) of the
# 4 extra steps divided by 4 are one step's CPU time, free of start-up and model building
# and of the machine's load. Rounds alternate the workloads' order.
# Usage: run.sh BENCH_BINARY OUT_DIR ROUNDS [FIRST_ROUND_NUMBER] (appends to OUT_DIR/lines.txt)
bin=$1; out=$2; rounds=${3:-3}; first=${4:-1}
mkdir -p $out
export OMP_WAIT_POLICY=PASSIVE
workloads=(gpt-4x256 translator-3x256 gpt-6x256-v6249 translator-3x256-v4000)
for round in $(seq $first $((first + rounds - 1))); do
    if (( round % 2 == 0 )); then order=$(printf '%s\n' "${workloads[@]}" | tac); else order="${workloads[@]}"; fi
    for w in $order; do
        for quick in "" "--quick"; do
            /usr/bin/time -f "cpu %U %S wall %e" -o $out/time.tmp $bin --workload $w --mode train --threads 1 $quick > $out/line.tmp 2>/dev/null
            echo "round $round ${quick:---full} $(cat $out/line.tmp) $(cat $out/time.tmp) load $(cut -d' ' -f1 /proc/loadavg)" >> $out/lines.txt
        done
    done
done
rm -f $out/time.tmp $out/line.tmp
