"""Summarises run.sh's lines.txt. Bench workloads: one step's CPU seconds = (CPU of the
9-step run - CPU of the 5-step run) / 4. translate train: the CPU seconds of steps 11-40
(steptime.py) / 30, and its target tokens a step = the target tokens of those steps / 30.
Ratios are taken per round (every job of a round ran under about the same load), then the
median over the rounds."""
import json, re, statistics, sys

D = 256
def gpt(layers, vocab, F=1024, T=128, B=32):
    per_token = layers * (4 * D * D + 2 * D * F + 2 * T * D) + D * vocab
    return dict(target=B * T, all=B * T, macs=3 * per_token * B * T)
def translator(vocab_target, F=512, S=14, T=14, B=64, layers=3):
    encoder = layers * (4 * D * D + 2 * D * F + 2 * S * D) * B * S
    decoder = layers * (6 * D * D + 2 * D * F + 2 * T * D + 2 * S * D) * B * T
    cross_kv = layers * 2 * D * D * B * S
    head = D * vocab_target * B * T
    return dict(target=B * T, all=B * (S + T), macs=3 * (encoder + decoder + cross_kv + head))
shapes = {"gpt-4x256": gpt(4, 65), "gpt-6x256-v6249": gpt(6, 6249), "gpt-6x256-ff512": gpt(6, 65, F=512),
          "translator-3x256": translator(6249)}

runs = {}  # name -> round -> {kind: (cpu, info)}
loads = []
for line in open(sys.argv[1]):
    m = re.match(r"round (\d+) (--window) (\{.*\}) load ([\d.]+)", line)
    if m:
        info = json.loads(m.group(3))
        runs.setdefault(info["workload"], {}).setdefault(int(m.group(1)), {})["--window"] = (info["cpu_s"], info)
        loads.append(float(m.group(4)))
        continue
    m = re.match(r"round (\d+) (\S+) (\{.*\}) cpu ([\d.]+) ([\d.]+) wall ([\d.]+) load ([\d.]+)", line)
    if not m: continue
    info = json.loads(m.group(3))
    runs.setdefault(info["workload"], {}).setdefault(int(m.group(1)), {})[m.group(2)] = (float(m.group(4)) + float(m.group(5)), info)
    loads.append(float(m.group(7)))

def step(name, r):
    """(CPU seconds a step, target tokens a step) of one round, or None."""
    if name.startswith("translate-train"):
        if "--window" not in r: return None
        cpu, info = r["--window"]
        return (cpu / info["steps"], info["target_tokens"] / info["steps"])
    if "--full" not in r or "--quick" not in r: return None
    return ((r["--full"][0] - r["--quick"][0]) / 4, shapes[name]["target"])

order = ["gpt-4x256", "gpt-6x256-ff512", "gpt-6x256-v6249", "translator-3x256", "translate-train-new", "translate-train-old"]
print(f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f}")
print(f"{'job':22} {'CPU s/step (by round)':40} {'target tok/step':>15} {'target tok/CPU-s':>16}")
for name in order:
    if name not in runs: continue
    steps = [s for s in (step(name, r) for _, r in sorted(runs[name].items())) if s]
    cpu = statistics.median(s[0] for s in steps); tokens = statistics.median(s[1] for s in steps)
    rates = [s[1] / s[0] for s in steps]
    extra = ""
    if name.startswith("translate-train"):
        losses = sorted({r["--window"][1]["loss"] for r in runs[name].values() if "--window" in r})
        extra = f"  loss at step 40: {', '.join(f'{x:.6f}' for x in losses)}"
    print(f"{name:22} {cpu:.3f} ({', '.join(f'{s[0]:.3f}' for s in steps)}){'':2} {tokens:15.1f} {statistics.median(rates):16,.0f}  (by round {', '.join(f'{x:,.0f}' for x in rates)}){extra}")

print()
def ratio(a, b):
    values = []
    for round_number in sorted(set(runs.get(a, {})) & set(runs.get(b, {}))):
        sa, sb = step(a, runs[a][round_number]), step(b, runs[b][round_number])
        if sa and sb: values.append((sa[1] / sa[0]) / (sb[1] / sb[0]))
    if values:
        print(f"{a} / {b}, target tokens per CPU-second: by round {', '.join(f'{x:.0%}' for x in values)}; median {statistics.median(values):.0%}")
for a in ("translate-train-new", "translate-train-old", "translator-3x256"):
    for b in ("gpt-4x256", "gpt-6x256-ff512", "gpt-6x256-v6249"):
        ratio(a, b)
ratio("translate-train-new", "translator-3x256")
ratio("translate-train-old", "translator-3x256")
ratio("translate-train-new", "translate-train-old")
