#!/bin/bash
# Quantile heads, conformalized (CQR): AirPassengers H = 36, its backtest, sunspots H = 12; --threads 1.
cd /work/wt-forecast
S=.build/release/sequent; D=/work/shared/data/timeseries; R=/tmp/fc-runs
run() { name=$1; shift; rm -rf $R/$name; /usr/bin/time -v -o $R/$name.time "$@" --out $R/$name > $R/$name.log 2>&1; echo "$name rc=$? $(uptime | sed 's/.*load/load/')" >> $R/progress.txt; }
run air-q $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --threads 1 --strategy direct --intervals quantile --time-limit 10m
run air-q-kpss $S forecast train --csv $D/airpassengers.csv --column passengers --horizon 36 --threads 1 --strategy direct --intervals quantile --difference kpss --time-limit 10m
run bt-q $S forecast backtest --csv $D/airpassengers.csv --column passengers --horizon 6 --start 1959-01 --threads 1 --strategy direct --intervals quantile --time-limit 10m
run sun-q-12 $S forecast train --csv $D/sunspots_monthly.csv --column sunspots --horizon 12 --test-size 240 --threads 1 --strategy direct --intervals quantile --time-limit 8m
echo QDONE >> $R/progress.txt
