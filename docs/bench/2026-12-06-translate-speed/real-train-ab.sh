#!/bin/bash
# The A/B of real-train-ab.txt: this branch's sequent (copied to /tmp/trab/sequent-s18) against main's build, alternating.
D=/work/shared/data/translation/multi30k
export OMP_WAIT_POLICY=PASSIVE
for round in 3 4 5 6; do
  if (( round % 2 )); then sides="s18 main"; else sides="main s18"; fi
  for side in $sides; do
    if [ $side = main ]; then bin=/work/main/.build/release/sequent; else bin=/tmp/trab/sequent-s18; fi
    if (( round == 2 )); then :; fi
    rm -rf /tmp/trab/$side-$round
    $bin translate train --source $D/train.de --target $D/train.en --val-source /tmp/trab/v.de --val-target /tmp/trab/v.en --model transformer --steps 40 --eval-interval 1000 --threads 1 --quiet --out /tmp/trab/$side-$round > /tmp/trab/$side-$round.log 2>&1
  done
done
