#!/bin/bash
# The real `sequent translate train --model transformer` beside sequent-bench's workloads, in
# one run on 1 thread, rounds alternating the order. CPU time (user + sys of the whole
# process, /usr/bin/time) by differences, which leave out start-up, model building,
# tokenizer training, the final evaluation and the report, and hold up under load:
#   bench workload: (CPU of 9 steps - CPU of 5 steps (--quick)) / 4
#   translate train: (CPU of --steps 40 - CPU of --steps 20) / 20, both with
#     --eval-interval 1000 (one evaluation, at the end, on VAL_PAIRS validation pairs) and
#     the same number of checkpoints (one every steps / 10); its target tokens are those of
#     steps 21-40 in the 40-step run's metrics.jsonl. The step is everything the Trainer
#     does: the batch, forward, backward, gradient clipping, Adam, the logs.
# Usage: run.sh BENCH SEQUENT_NEW SEQUENT_OLD OUT ROUNDS [FIRST_ROUND] [VAL_PAIRS]
#   (appends to OUT/lines.txt; summarise.py OUT/lines.txt prints the table)
bench=$1; new=$2; old=$3; out=$4; rounds=${5:-3}; first=${6:-1}; val=${7:-20}
D=${DATA:-../shared/data/translation/multi30k}
mkdir -p $out
head -$val $D/val.de > $out/v.de; head -$val $D/val.en > $out/v.en
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
            for steps in 40 20; do
                dir=$out/translate-$name-$round-$steps
                rm -rf $dir
                /usr/bin/time -f "cpu %U %S wall %e" -o $out/time.tmp $bin translate train --source $D/train.de --target $D/train.en \
                    --val-source $out/v.de --val-target $out/v.en --model transformer --steps $steps --eval-interval 1000 \
                    --threads 1 --quiet --out $dir > $dir.log 2>&1
                tokens=$(python3 -c "import json,sys; print(sum(round(r['tokens_per_s']*r['step_s']) for r in map(json.loads, open(sys.argv[1])) if 'tokens_per_s' in r and 21 <= r['step'] <= 40))" $dir/metrics.jsonl)
                loss=$(python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print([x['loss'] for x in r if x.get('step')==$steps and 'tokens_per_s' in x][0])" $dir/metrics.jsonl)
                echo "round $round --steps$steps {\"workload\":\"translate-train-$name\",\"target_tokens_21_40\":$tokens,\"last_loss\":$loss} $(cat $out/time.tmp) load $(cut -d' ' -f1 /proc/loadavg)" >> $out/lines.txt
                rm -rf $dir/checkpoints $dir/model.safetensors $dir/*.tfevents*
            done
        fi
    done
done
rm -f $out/time.tmp $out/line.tmp
