#!/bin/bash
# AirPassengers (last 36 held out) and the 6-month backtest from 1959-01, --threads 1, one run at a time.
cd /work/wt-forecast
S=.build/release/sequent; D=/work/shared/data/timeseries; R=/tmp/fc-runs
run() { name=$1; shift; rm -rf $R/$name; /usr/bin/time -v -o $R/$name.time "$@" --out $R/$name > $R/$name.log 2>&1; echo "$name rc=$? $(uptime | sed 's/.*load/load/')" >> $R/progress.txt; }
for M in lstm gru rnn transformer; do
  run air-$M $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --threads 1 --model $M --time-limit 10m
  run air-$M-c2 $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --threads 1 --model $M --combine 2 --time-limit 10m
done
for M in lstm gru rnn transformer; do
  run bt-$M $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 --threads 1 --model $M --time-limit 10m
  run bt-$M-c2 $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 --threads 1 --model $M --combine 2 --time-limit 10m
done
run air-lstm-c4 $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --threads 1 --combine 4 --time-limit 10m
run bt-lstm-c4 $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 --threads 1 --combine 4 --time-limit 10m
echo ALLDONE >> $R/progress.txt
