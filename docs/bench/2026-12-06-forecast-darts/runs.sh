#!/bin/bash
# Stop 21's runs (RULES.md), --threads 1, one at a time; logs and eval JSON under $R, copied to logs/ after.
cd /work/wt-forecast
export OMP_WAIT_POLICY=PASSIVE
S=.build/release/sequent; D=/work/shared/data/timeseries; R=${R:-/tmp/fc21-runs}
mkdir -p $R
run() { local name=$1; shift; rm -rf $R/$name; /usr/bin/time -v -o $R/$name.time "$@" --out $R/$name > $R/$name.log 2>&1; echo "$name rc=$? $(uptime | sed 's/.*load/load/')" >> $R/progress.txt; }
DARTS="--model lstm --hidden 20 --window 14 --batch-size 16 --steps 2100 --learning-rate 1e-3 --transform none --difference none --ensemble 1"
case "$1" in
darts)  # (a) Darts' recipe in Sequent, five seeds, both splits; the backtest also without the calendar
  for seed in 42 1 2 3 4; do
    run darts-bt-$seed $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $DARTS --calendar month,year --seed $seed --threads 1
    run darts-air-$seed $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 $DARTS --calendar month,year --seed $seed --threads 1
    $S forecast eval $R/darts-air-$seed --json > $R/darts-air-$seed.json
    run darts-bt-nocal-$seed $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $DARTS --seed $seed --threads 1
  done ;;
offer)  # (b) the default 3-fold rule offered month + year
  for M in ${MODELS:-lstm gru rnn}; do
    run offer-air-$M $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --model $M --offer-calendar month,year --threads 1 --time-limit 10m
    $S forecast eval $R/offer-air-$M --json > $R/offer-air-$M.json
    run offer-bt-$M $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 --model $M --offer-calendar month,year --threads 1 --time-limit 10m
  done ;;
synthetic)  # the README's synthetic series with the current default (3 folds)
  python3 docs/bench/2026-12-06-forecast-darts/synthetic_series.py $R/synthetic.csv
  for c in airline trend_season; do
    run syn-$c $S forecast train --csv $R/synthetic.csv --column $c --horizon 36 --threads 1
    $S forecast eval $R/syn-$c --json > $R/syn-$c.json
  done ;;
everystep)  # (c) the RULES addendum: --loss-every-step (a post-hoc option)
  for seed in 42 1 2 3 4; do
    run every-darts-bt-$seed $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $DARTS --calendar month,year --loss-every-step --seed $seed --threads 1
    run every-darts-air-$seed $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 $DARTS --calendar month,year --loss-every-step --seed $seed --threads 1
    $S forecast eval $R/every-darts-air-$seed --json > $R/every-darts-air-$seed.json
  done
  for variant in "every:--loss-every-step" "every-offer:--loss-every-step --offer-calendar month,year"; do
    name=${variant%%:*}; flags=${variant#*:}
    run $name-air-lstm $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 $flags --threads 1 --time-limit 10m
    $S forecast eval $R/$name-air-lstm --json > $R/$name-air-lstm.json
    run $name-bt-lstm $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $flags --threads 1 --time-limit 10m
  done ;;
posthoc)  # a diagnostic after the measurements (not pre-registered): Darts' recipe fitting 114 of the 120 months
  for seed in 42 1 2 3 4; do
    run posthoc-vf05-bt-$seed $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $DARTS --calendar month,year --seed $seed --threads 1 --val-fraction 0.05
    run posthoc-vf05-every-bt-$seed $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 $DARTS --calendar month,year --loss-every-step --seed $seed --threads 1 --val-fraction 0.05
  done ;;
esac
echo "$1 ALLDONE" >> $R/progress.txt
