#!/usr/bin/env bash
# Data-parallel speed on this machine: the default lm model (lstm-2x512, context 128) trained
#   A. 1 process x 1 thread, batch 64
#   B. mpirun -np 2, 1 thread per rank, batch 32 per rank (global 64), allreduce overlapped
#      with backward (the default)
#   B'. the same with --no-allreduce-overlap (every bucket reduced after backward)
#   C. 1 process x 2 threads, batch 64
# for STEPS steps each; tokens/s is the median over the steps after the first two (from
# metrics.jsonl), and B's allreduce seconds per step likewise. Prints one line per run, the
# load average before each, and a model of the speed-up on 4, 16 and 64 machines.
#
#   scripts/mpi-benchmark.sh [STEPS] [TEXT]     (default 12, shared/data/text/tinyshakespeare.txt)
#
# ROUNDS=k runs A, B and B' in turn k times (default 1) and reports each round's ratio and
# their median, as the load of a shared machine drifts between runs. BUCKET_MB sets B's and
# B''s --bucket-mb (default: sequent's, 8).
#
# NICE=-10 runs all three at that niceness (root only): on a machine shared with other jobs
# it gives each run about the CPU a quiet machine would, so that the ratios mean something.
# (Where the kernel groups processes by session for scheduling, `sched_autogroup`, niceness
# only ranks processes within a session, so it does not help against other users' sessions.)
# SESSIONS=1 starts every process (each rank, and each single-process run) in a session of
# its own (`setsid -w`): with autogroup each then gets one fair share of the CPU, as each would
# get one core of a quiet machine; without it, both ranks share the one share of the
# benchmark's session and cannot be faster than one process.
#
# B's allreduce_s is what a step waits after its own backward for the gradients (exposed
# communication, and the wait for the slower rank); allreduce_overlap_s the communication
# that ran while backward was still running (hidden). B' hides none, so B' - B in step time
# is what the overlap saved.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
sequent="$root/.build/release/sequent"
steps="${1:-12}"
text="${2:-$root/../shared/data/text/tinyshakespeare.txt}"
work="$(mktemp -d /tmp/mpi-benchmark.XXXXXX)"
trap 'rm -rf "$work"' EXIT
[[ -x "$sequent" ]] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpirun is missing (scripts/bootstrap.sh)" >&2; exit 1; }
# Open MPI's shared-memory transport copies large messages with one process_vm_readv (CMA);
# single_copy_mechanism=none (what some containers need) made a 13 MB allreduce 20x slower.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 PMIX_MCA_gds=hash

# A small validation file keeps the final evaluations out of the way.
head -c 4000 "$text" >"$work/val.txt"
common=(lm train --text "$text" --val "$work/val.txt" --steps "$steps" --eval-interval 1000000 --quiet)

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
field() {  # field NAME RUN: the median of NAME over the steps after the first two
    grep "\"$1\":" "$work/$2/metrics.jsonl" | sed "s/.*\"step\":\([0-9]*\).*\"$1\":\([0-9.e+-]*\).*/\1 \2/" | awk '$1 > 2 { print $2 }' | median
}
run() {  # run NAME LAUNCHER...
    local name="$1"; shift
    echo "load before $name: $(cut -d' ' -f1-3 /proc/loadavg)"
    local started=$(date +%s.%N)
    /usr/bin/time -f "%e s wall, %U s user, %S s system" nice -n "${NICE:-0}" "$@" --out "$work/$name" 2>"$work/$name.time" >/dev/null || { cat "$work/$name.time"; exit 1; }
    echo "$name: $(field tokens_per_s "$name") tokens/s (median), $(tail -n 1 "$work/$name.time")"
}

own=(); [[ "${SESSIONS:-0}" == 1 ]] && own=(setsid -w)
ratios=()
buckets=(); [[ -n "${BUCKET_MB:-}" ]] && buckets=(--bucket-mb "$BUCKET_MB")
for round in $(seq "${ROUNDS:-1}"); do
    rm -rf "$work/one-1thread" "$work/two-ranks" "$work/two-ranks-after"
    run one-1thread "${own[@]}" "$sequent" "${common[@]}" --threads 1 --batch-size 64
    run two-ranks mpirun -np 2 --allow-run-as-root --bind-to none "${own[@]}" "$sequent" "${common[@]}" --threads 1 --batch-size 32 "${buckets[@]}"
    run two-ranks-after mpirun -np 2 --allow-run-as-root --bind-to none "${own[@]}" "$sequent" "${common[@]}" --threads 1 --batch-size 32 "${buckets[@]}" --no-allreduce-overlap
    ratios+=("$(awk -v a="$(field tokens_per_s one-1thread)" -v b="$(field tokens_per_s two-ranks)" 'BEGIN { printf "%.2f", b / a }')")
    echo "round $round: 2 ranks / 1 process x 1 thread = ${ratios[-1]}x"
    for name in two-ranks two-ranks-after; do
        echo "round $round, $name: step $(field step_s $name) s, waiting for gradients after backward $(field allreduce_s $name) s, allreduce in flight during backward $(field allreduce_overlap_s $name) s (medians)"
    done
done
echo "median over ${#ratios[@]} rounds: $(printf '%s\n' "${ratios[@]}" | median)x"
run one-2threads "${own[@]}" "$sequent" "${common[@]}" --threads 2 --batch-size 64

a=$(field tokens_per_s one-1thread) b=$(field tokens_per_s two-ranks) c=$(field tokens_per_s one-2threads)
allreduce=$(field allreduce_s two-ranks-after) overlap=$(field allreduce_overlap_s two-ranks) exposed=$(field allreduce_s two-ranks)
stepB=$(field step_s two-ranks-after) stepO=$(field step_s two-ranks)
cpuA=$(field compute_cpu_s one-1thread) cpuB=$(field compute_cpu_s two-ranks)
# The parameter count, from the safetensors header of the weights.
python3 - "$work/two-ranks/model.safetensors" >"$work/params" <<'PY'
import json, math, struct, sys
with open(sys.argv[1], "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
print(sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__"))
PY
params=$(cat "$work/params")
awk -v a="$a" -v b="$b" -v c="$c" -v ar="$allreduce" -v ov="$overlap" -v ex="$exposed" -v st="$stepB" -v so="$stepO" -v p="$params" -v ca="$cpuA" -v cb="$cpuB" 'BEGIN {
    printf "speed-up, 2 ranks x 1 thread over 1 process x 1 thread (last round): %.2fx\n", b / a
    printf "speed-up, 2 ranks x 1 thread over 1 process x 2 threads: %.2fx\n", b / c
    printf "allreduce after backward (--no-allreduce-overlap): %.4f s of a %.3f s step (%.1f%%)\n", ar, st, 100 * ar / st
    printf "overlapped: %.4f s still waited after backward, %.4f s of allreduce in flight during backward; step %.3f s\n", ex, ov, so
    printf "CPU seconds of forward + backward per step: 1 process (batch 64) %.3f, rank 0 (batch 32) %.3f\n", ca, cb
    printf "on a quiet machine (each rank its own core, the step its CPU time + allreduce): %.2fx\n", ca / (cb + ar)
    bytes = 4 * p; compute = st - ar
    printf "parameters %d, gradient bytes per step %.1f MB; compute per step %.3f s\n", p, bytes / 1e6, compute
    printf "ring allreduce model: t = 2(N-1)/N x bytes / bandwidth + 2(N-1) x 25 us latency; no overlap\n"
    printf "%8s %12s %12s %12s %12s\n", "machines", "10Gb/s t", "speed-up", "100Gb/s t", "speed-up"
    split("4 16 64", ns, " ")
    for (i = 1; i <= 3; i++) {
        n = ns[i]
        t10 = 2 * (n - 1) / n * bytes / 1.25e9 + 2 * (n - 1) * 25e-6
        t100 = 2 * (n - 1) / n * bytes / 12.5e9 + 2 * (n - 1) * 25e-6
        printf "%8d %10.1f ms %11.2fx %10.1f ms %11.2fx\n", n, 1000 * t10, n * compute / (compute + t10), 1000 * t100, n * compute / (compute + t100)
    }
}'
