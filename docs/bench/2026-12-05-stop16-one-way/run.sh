#!/bin/bash
# Alternating rounds of the recurrent workloads: before (commit cd6b47f) and after the #17
# refactor (one weights type, pointer set-up in Kernels/, stepper in SequentNN), same flags.
# Usage: run.sh BEFORE_BINARY AFTER_BINARY OUTPUT_FILE
before=$1 after=$2 out=$3
for round in 1 2 3; do
  for side in before after; do
    bin=${!side}
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512 --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> "$out"
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512 --mode infer --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> "$out"
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512 --mode stream --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> "$out"
  done
done
