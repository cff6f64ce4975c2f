#!/bin/bash
# usage: run.sh NAME extra-args...
name=$1; shift
D=/work/shared/data/translation/multi30k
V="--val-source $D/val.de --val-target $D/val.en"
cd /tmp/tr21
export OMP_WAIT_POLICY=PASSIVE
/usr/bin/time -v -o /tmp/tr21/$name.time /tmp/tr21/sequent translate train --source $D/train.de --target $D/train.en $V --out /tmp/tr21/$name --threads 1 "$@" > /tmp/tr21/$name.log 2>&1
echo "exit $?" >> /tmp/tr21/$name.log
