#!/usr/bin/env python3
"""Pairs the JSON lines of torch_rnn_bench.py and sequent-bench by (workload, mode).

Reads DIR/torch-*.jsonl and DIR/sequent-*.jsonl (one file per round), keeps each side's
best value over the rounds (highest throughput, lowest latency) and prints a table whose
last column is Sequent's speed relative to PyTorch (> 1: Sequent is faster).
Usage: python3 scripts/pair_bench.py DIR
"""
import glob, json, os, sys

# The value compared for each kind of line, and whether higher is better.
METRICS = [("tokens_per_s", True), ("us_per_token", False), ("gflops", True), ("matmul_gflops", True)]


# Lines of a reduced-precision variant: paired with PyTorch's Float line of the same mode.
VARIANTS = [("matmul_precision", "bf16 matmuls"), ("weights", "bf16 weights")]


def key_of(line):
    shape = "x".join(str(line[d]) for d in ("M", "N", "K") if d in line)
    mode = line.get("mode", "-")
    for field, label in VARIANTS:
        if line.get(field, "float32") != "float32":
            mode += f" ({label})"
    return (line["workload"] + (f" {shape}" if shape else ""), mode)


def base_key(key):
    """The key of the Float line a variant is compared with."""
    return (key[0], key[1].split(" (")[0])


def metric_of(line):
    for name, higher in METRICS:
        if name in line:
            return name, line[name], higher
    return None


def best_values(paths):
    best = {}
    for path in paths:
        with open(path) as f:
            for text in f:
                text = text.strip()
                if not text.startswith("{"):
                    continue
                line = json.loads(text)
                found = metric_of(line)
                if found is None:
                    continue
                name, value, higher = found
                key = key_of(line)
                if key not in best or (value > best[key][1] if higher else value < best[key][1]):
                    best[key] = (name, value, higher)
    return best


def main():
    if len(sys.argv) != 2 or not os.path.isdir(sys.argv[1]):
        sys.exit(__doc__.strip().splitlines()[-1])
    folder = sys.argv[1]
    torch = best_values(sorted(glob.glob(os.path.join(folder, "torch-*.jsonl"))))
    sequent = best_values(sorted(glob.glob(os.path.join(folder, "sequent-*.jsonl"))))
    keys = list(torch) + [k for k in sequent if k not in torch]
    rows = [("workload", "mode", "metric", "torch", "sequent", "sequent/torch speed")]
    for key in keys:
        t, s = torch.get(key) or torch.get(base_key(key)), sequent.get(key)
        name, _, higher = t or s
        if t and s and t[0] == s[0] and t[1] and s[1]:
            ratio = f"{(s[1] / t[1]) if higher else (t[1] / s[1]):.2f}x"
        else:
            ratio = "-"
        rows.append((key[0], key[1], name, f"{t[1]:g}" if t else "-", f"{s[1]:g}" if s else "-", ratio))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print("  ".join(cell.ljust(w) if i < 3 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
        if index == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    main()
