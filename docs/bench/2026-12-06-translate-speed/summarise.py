"""Summarises run.sh's lines.txt: one step's CPU seconds = (CPU of the 9-step run - CPU of
the 5-step run) / 4, per round; tokens and multiply-adds per CPU-second from the workloads'
shapes. Multiply-adds count the matrix products of the forward pass (projections,
feed-forward, attention scores and context at full length, output layer) times 3 for
training (forward, and backward's two products per forward product)."""
import json, re, statistics, sys

D, H = 256, None
def gpt(layers, vocab, F=1024, T=128, B=32):
    per_token = layers * (4 * D * D + 2 * D * F + 2 * T * D) + D * vocab
    return dict(target=B * T, all=B * T, macs=3 * per_token * B * T)
def translator(vocab_target, F=512, S=14, T=14, B=64, layers=3):
    encoder = layers * (4 * D * D + 2 * D * F + 2 * S * D) * B * S
    decoder = layers * (6 * D * D + 2 * D * F + 2 * T * D + 2 * S * D) * B * T
    cross_kv = layers * 2 * D * D * B * S
    head = D * vocab_target * B * T
    return dict(target=B * T, all=B * (S + T), macs=3 * (encoder + decoder + cross_kv + head))
shapes = {"gpt-4x256": gpt(4, 65), "gpt-6x256-v6249": gpt(6, 6249),
          "translator-3x256": translator(6249), "translator-3x256-v4000": translator(4002)}

cpu = {}
for line in open(sys.argv[1]):
    m = re.match(r"round (\d+) (--full|--quick) (\{.*\}) cpu ([\d.]+) ([\d.]+) wall ([\d.]+) load ([\d.]+)", line)
    if not m: continue
    name = json.loads(m.group(3))["workload"]
    cpu.setdefault(name, {}).setdefault(int(m.group(1)), {})[m.group(2)] = float(m.group(4)) + float(m.group(5))
rows = {}
for name, rounds in cpu.items():
    steps = [(r["--full"] - r["--quick"]) / 4 for r in rounds.values() if len(r) == 2]
    step = statistics.median(steps)
    s = shapes[name]
    rows[name] = dict(step=step, steps=steps, target=s["target"] / step, all=s["all"] / step, gmacs=s["macs"] / step / 1e9,
                      macs_per_target=s["macs"] / 3 / s["target"] / 1e6)
ref = rows.get("gpt-4x256")
print(f"{'workload':24} {'CPU s/step (rounds)':30} {'target tok/CPU-s':>16} {'all tok/CPU-s':>14} {'fwd MACs/target tok':>19} {'GMAC/CPU-s':>10} {'vs gpt-4x256':>12}")
for name, r in rows.items():
    print(f"{name:24} {r['step']:.3f} ({', '.join(f'{x:.3f}' for x in r['steps'])}){'':4} {r['target']:16,.0f} {r['all']:14,.0f} {r['macs_per_target']:18.2f}M {r['gmacs']:10.1f} "
          f"{r['target'] / ref['target']:6.0%} tok {r['gmacs'] / ref['gmacs']:4.0%} MAC/s")

# Per round (each workload's step in the same round, so the same load), the translator's
# target tokens per CPU-second over each GPT's tokens per CPU-second.
print()
for translator_name in ("translator-3x256", "translator-3x256-v4000"):
    for gpt_name in ("gpt-4x256", "gpt-6x256-v6249"):
        ratios = []
        for round_number, r in sorted(cpu[translator_name].items()):
            g = cpu[gpt_name].get(round_number, {})
            if len(r) == 2 and len(g) == 2:
                t_step, g_step = (r["--full"] - r["--quick"]) / 4, (g["--full"] - g["--quick"]) / 4
                ratios.append((shapes[translator_name]["target"] / t_step) / (shapes[gpt_name]["target"] / g_step))
        print(f"{translator_name} / {gpt_name}, target tokens per CPU-second, by round: "
              f"{', '.join(f'{x:.0%}' for x in ratios)}; median {statistics.median(ratios):.0%}")
