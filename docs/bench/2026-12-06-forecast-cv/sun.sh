#!/bin/bash
# Sunspots, the last 240 months held out, H = 1, 12, 60, default settings (3 folds), --threads 1, one run at a time.
cd /work/wt-forecast
S=.build/release/sequent; D=/work/shared/data/timeseries; R=/tmp/fc-runs
run() { name=$1; shift; rm -rf $R/$name; /usr/bin/time -v -o $R/$name.time "$@" --out $R/$name > $R/$name.log 2>&1; echo "$name rc=$? $(uptime | sed 's/.*load/load/')" >> $R/progress.txt; }
for H in 12 1; do for M in lstm gru rnn; do
  run sun-$M-$H $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon $H --test-size 240 --model $M --threads 1 --time-limit 8m
done; done
run sun-transformer-12 $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon 12 --test-size 240 --model transformer --threads 1 --time-limit 10m
for M in lstm gru rnn; do
  run sun-$M-60 $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon 60 --test-size 240 --model $M --threads 1 --time-limit 8m
done
run sun-transformer-1 $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon 1 --test-size 240 --model transformer --threads 1 --time-limit 8m
run sun-transformer-60 $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon 60 --test-size 240 --model transformer --threads 1 --time-limit 10m
echo SUNDONE >> $R/progress.txt
