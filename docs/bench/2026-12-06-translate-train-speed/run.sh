#!/bin/bash
# The real `sequent translate train --model transformer` beside sequent-bench's workloads, in
# one run on 1 thread, rounds alternating the order; CPU time (user + sys of the process).
#   bench workload: (CPU of 9 steps - CPU of 5 steps (--quick)) / 4 under /usr/bin/time,
#     which leaves out start-up and model building.
#   translate train (this branch's binary and main's): steps 11-40 of a --steps 4000 run
#     (warm-up 200 and the cosine fitted to 4000 steps; no checkpoint and no evaluation
#     before step 400), read from outside by steptime.py: the process's CPU time when the
#     metrics line of step 10 and of step 40 appear; target tokens are those of steps 11-40.
#     The step is everything the Trainer does: the batch, forward, backward, gradient
#     clipping, Adam, the logs.
# Usage: run.sh BENCH SEQUENT_NEW SEQUENT_OLD OUT ROUNDS [FIRST_ROUND]
#   (appends to OUT/lines.txt; summarise.py OUT/lines.txt prints the table)
bench=$1; new=$2; old=$3; out=$4; rounds=${5:-3}; first=${6:-1}
here=$(dirname "$0")
D=${DATA:-../shared/data/translation/multi30k}
mkdir -p $out
head -20 $D/val.de > $out/v.de; head -20 $D/val.en > $out/v.en
export OMP_WAIT_POLICY=PASSIVE
jobs=(bench:gpt-4x256 bench:translator-3x256 bench:gpt-6x256-v6249 bench:gpt-6x256-ff512 translate:new translate:old)
for round in $(seq $first $((first + rounds - 1))); do
    if (( round % 2 == 0 )); then order=$(printf '%s\n' "${jobs[@]}" | tac); else order="${jobs[@]}"; fi
    for job in $order; do
        kind=${job%%:*}; name=${job#*:}
        if [ $kind = bench ]; then
            for quick in "" "--quick"; do
                /usr/bin/time -f "cpu %U %S wall %e" -o $out/time.tmp $bench --workload $name --mode train --threads 1 $quick > $out/line.tmp 2>/dev/null
                echo "round $round ${quick:---full} $(cat $out/line.tmp) $(cat $out/time.tmp) load $(cut -d' ' -f1 /proc/loadavg)" >> $out/lines.txt
            done
        else
            if [ $name = new ]; then bin=$new; else bin=$old; fi
            dir=$out/translate-$name-$round
            rm -rf $dir
            line=$(python3 $here/steptime.py 10 40 $dir $bin translate train --source $D/train.de --target $D/train.en \
                --val-source $out/v.de --val-target $out/v.en --model transformer --steps 4000 --eval-interval 1000 \
                --threads 1 --quiet --out $dir)
            echo "round $round --window {\"workload\":\"translate-train-$name\",${line#\{} load $(cut -d' ' -f1 /proc/loadavg)" >> $out/lines.txt
            rm -rf $dir
        fi
    done
done
rm -f $out/time.tmp $out/line.tmp
