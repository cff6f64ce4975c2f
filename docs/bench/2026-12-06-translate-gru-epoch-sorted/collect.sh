#!/bin/bash
# usage: collect.sh NAME BENCHDIR   (copies run NAME's log, time, report, eval rows of metrics, eval JSON)
n=$1; b=$2; cd /tmp/tr21
mkdir -p $b
[ -f $n.log ] && cp $n.log $b/$n-train-log.txt
[ -f $n.time ] && cp $n.time $b/$n-time-v.txt
[ -f $n/report.md ] && cp $n/report.md $b/$n-report.md
[ -f $n/metrics.jsonl ] && grep '"eval/bleu"' $n/metrics.jsonl > $b/$n-eval-metrics.jsonl
for f in eval-$n-b1 eval-$n-b5; do
  [ -f $f.json ] && cp $f.json $b/$f.json
  [ -f $f.time ] && grep -E 'Command|User time|System time|Elapsed|Maximum resident' $f.time > $b/$f.time.txt
done
true
