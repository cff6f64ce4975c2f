#!/usr/bin/env bash
# Runs PyTorch's reference benchmark (shared/bench/torch_rnn_bench.py) and sequent-bench in
# turn for several rounds on the same thread count, keeps every JSON line, and prints the
# best value of each side per (workload, mode) with their ratio. Without extra sequent-bench
# arguments each round also runs Sequent's bfloat16 variants (infer with bfloat16 matrix
# products, stream with bfloat16 weights), paired with PyTorch's Float lines.
#
#   scripts/compare-bench.sh [--rounds N] [--threads N] [--quick] [--out DIR] [-- sequent-bench args]
#
# Environment: PYTHON (default python3; needs torch), TORCH_BENCH (default
# ../shared/bench/torch_rnn_bench.py from the repository root).
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=3
threads="$(nproc)"
quick=()
out=""
extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --quick) quick=(--quick); shift ;;
        --out) out="$2"; shift 2 ;;
        --) shift; extra=("$@"); break ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "compare-bench: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
done

python="${PYTHON:-python3}"
torch_bench="${TORCH_BENCH:-../shared/bench/torch_rnn_bench.py}"
out="${out:-out/bench-$(date +%Y%m%d-%H%M%S)}"  # out/ is git-ignored

if [[ ! -f "$torch_bench" ]]; then
    echo "compare-bench: $torch_bench not found; set TORCH_BENCH to torch_rnn_bench.py" >&2
    exit 1
fi
if ! "$python" -c 'import torch' >/dev/null 2>&1; then
    echo "compare-bench: '$python' cannot import torch; set PYTHON to a Python that has it" >&2
    exit 1
fi

swift build -c release --product sequent-bench
bench="$(swift build -c release --show-bin-path)/sequent-bench"
mkdir -p "$out"
echo "compare-bench: $rounds round(s), $threads thread(s), results in $out"

for round in $(seq 1 "$rounds"); do
    echo "== round $round/$rounds: torch"
    "$python" "$torch_bench" --threads "$threads" "${quick[@]}" | tee "$out/torch-$round.jsonl"
    echo "== round $round/$rounds: sequent"
    "$bench" --threads "$threads" "${quick[@]}" "${extra[@]}" | tee "$out/sequent-$round.jsonl"
    if [[ ${#extra[@]} -eq 0 ]]; then
        # The bfloat16 variants, compared with PyTorch's Float lines of the same mode.
        "$bench" --threads "$threads" "${quick[@]}" --mode infer --matmul-precision bfloat16 | tee -a "$out/sequent-$round.jsonl"
        "$bench" --threads "$threads" "${quick[@]}" --mode stream --stream-weights bfloat16 | tee -a "$out/sequent-$round.jsonl"
    fi
done

python3 scripts/pair_bench.py "$out"
