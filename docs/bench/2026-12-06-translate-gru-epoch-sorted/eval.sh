#!/bin/bash
# usage: eval.sh MODEL_DIR NAME BEAM
D=/work/shared/data/translation/multi30k
cd /tmp/tr21
/usr/bin/time -v -o /tmp/tr21/eval-$2-b$3.time /tmp/tr21/sequent translate eval $1 --source $D/val.de --reference $D/val.en --beam $3 --json --threads 1 --output /tmp/tr21/eval-$2-b$3.txt > /tmp/tr21/eval-$2-b$3.json
grep -E 'User time|System time|Elapsed' /tmp/tr21/eval-$2-b$3.time | tr '\n' ' '; echo " load $(cut -d' ' -f1-3 /proc/loadavg)"
