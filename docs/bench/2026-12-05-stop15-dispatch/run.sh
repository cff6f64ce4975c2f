#!/bin/bash
# Alternating rounds: before (stop 14's build, kernels compiled for this machine) and after (one build, run-time dispatch).
out=/tmp/bench16
for round in 1 2 3; do
  for side in before after; do
    bin=/tmp/sequent-bench-$side
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512,gpt-4x256 --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> $out/lines.txt
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512 --mode infer --matmul-precision bfloat16 --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> $out/lines.txt
    $bin --workload lstm-1x256,lstm-2x512,gru-2x512,rnn-2x512 --mode stream --stream-weights bfloat16 --threads 1 --quick 2>/dev/null | sed "s/^/$side $round /" >> $out/lines.txt
  done
done
echo done >> $out/lines.txt
