"""Golden values for SequentTrain, made with real PyTorch (CPU, float32).

Run from the repository root:

    /work/torchvenv/bin/python Tests/Fixtures/make_optimizer_fixtures.py

Writes three files next to this script, each a JSON object mapping names to
{"shape": [...], "data": [...]} (float64 lists), the format `Fixtures.load` reads:

- optimizers.json: fixed initial parameters `w` (3, 4) and `b` (4,), five fixed gradients
  for each (`grad.w.k`, `grad.b.k`, k = 0..4; `b` has no gradient at step 2, see
  `b_has_grad`), and for every optimizer case the parameters after each step
  (`<case>.w.k`, `<case>.b.k`, k = 1..5). Gradients are data, not computed.
- lr_schedules.json: the learning rate in force at each optimizer step for StepLR,
  ExponentialLR, CosineAnnealingLR and LinearLR followed by CosineAnnealingLR (SequentialLR).
- gradient_clipping.json: clip_grad_norm_ and clip_grad_value_ on three fixed gradients.

The hyperparameters of each case are listed here and repeated in the Swift tests.
"""

import json
import math
import pathlib

import torch

torch.manual_seed(0)
OUT = pathlib.Path(__file__).resolve().parent
STEPS = 5


def entry(t):
    t = torch.as_tensor(t, dtype=torch.float32)
    return {"shape": list(t.shape), "data": [float(x) for x in t.reshape(-1).tolist()]}


def write(name, table):
    path = OUT / f"{name}.json"
    path.write_text(json.dumps(table, indent=None, separators=(",", ":")) + "\n")
    print(f"wrote {path} ({len(table)} entries)")


# ---------------------------------------------------------------- optimizers

# Initial values kept away from zero so relative comparisons are meaningful.
w0 = (torch.rand(3, 4) * 2 + 0.5) * torch.where(torch.rand(3, 4) < 0.5, -1.0, 1.0)
b0 = torch.rand(4) + 0.5
grads_w = [torch.randn(3, 4) for _ in range(STEPS)]
grads_b = [torch.randn(4) for _ in range(STEPS)]
b_has_grad = [1, 1, 0, 1, 1]  # no gradient for b at step 2: PyTorch skips it entirely

# name -> (constructor, per-step learning rates or None)
CASES = {
    "sgd_plain": (lambda p: torch.optim.SGD(p, lr=0.1), None),
    "sgd_momentum": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1), None),
    "sgd_nesterov": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), None),
    "sgd_weight_decay": (lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, weight_decay=0.1), None),
    "adam": (lambda p: torch.optim.Adam(p, lr=0.01), None),
    "adam_weight_decay": (lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), None),
    "adamw": (lambda p: torch.optim.AdamW(p, lr=0.01), None),
    "adamw_varying_lr": (lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.5),
                         [0.02, 0.02, 0.01, 0.005, 0.0025]),
}

table = {"w": entry(w0), "b": entry(b0), "b_has_grad": entry(b_has_grad)}
for k in range(STEPS):
    table[f"grad.w.{k}"] = entry(grads_w[k])
    table[f"grad.b.{k}"] = entry(grads_b[k])

for name, (make, lrs) in CASES.items():
    w = w0.clone().requires_grad_(True)
    b = b0.clone().requires_grad_(True)
    opt = make([w, b])
    for k in range(STEPS):
        if lrs is not None:
            for group in opt.param_groups:
                group["lr"] = lrs[k]
        w.grad = grads_w[k].clone()
        b.grad = grads_b[k].clone() if b_has_grad[k] else None
        opt.step()
        table[f"{name}.w.{k + 1}"] = entry(w.detach())
        table[f"{name}.b.{k + 1}"] = entry(b.detach())
write("optimizers", table)

# ---------------------------------------------------------------- schedules


def lr_sequence(make_scheduler, steps, base_lr):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


S = torch.optim.lr_scheduler
schedules = {
    # StepDecay(initialLearningRate: 0.1, stepSize: 3, gamma: 0.5)
    "step_lr": lr_sequence(lambda o: S.StepLR(o, step_size=3, gamma=0.5), 12, 0.1),
    # ExponentialDecay(initialLearningRate: 0.1, gamma: 0.9)
    "exponential_lr": lr_sequence(lambda o: S.ExponentialLR(o, gamma=0.9), 12, 0.1),
    # CosineAnnealing(initialLearningRate: 0.1, totalSteps: 10, minimumLearningRate: 0.001),
    # 25 steps: past totalSteps the torch formula rises again.
    "cosine_lr": lr_sequence(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001), 25, 0.1),
    # LinearWarmup(warmupSteps: 4, startFactor: 0.25,
    #              then: CosineAnnealing(initialLearningRate: 0.05, totalSteps: 10, minimumLearningRate: 1e-4))
    "warmup_cosine_lr": lr_sequence(
        lambda o: S.SequentialLR(
            o,
            [S.LinearLR(o, start_factor=0.25, end_factor=1.0, total_iters=4),
             S.CosineAnnealingLR(o, T_max=10, eta_min=1e-4)],
            milestones=[4]),
        16, 0.05),
}
# The formulas themselves, as a cross-check of the recursive torch implementations above.
for k, lr in enumerate(schedules["cosine_lr"]):
    closed = 0.001 + (0.1 - 0.001) * (1 + math.cos(math.pi * k / 10)) / 2
    assert abs(lr - closed) <= 1e-12, (k, lr, closed)
write("lr_schedules", {name: {"shape": [len(v)], "data": v} for name, v in schedules.items()})

# ---------------------------------------------------------------- clipping

clip_grads = [torch.randn(3, 4), torch.randn(4) * 3, torch.randn(2, 2, 2) * 0.5]
table = {f"grad.{i}": entry(g) for i, g in enumerate(clip_grads)}
for label, max_norm in [("norm_1", 1.0), ("norm_100", 100.0)]:
    params = [torch.zeros_like(g, requires_grad=True) for g in clip_grads]
    for p, g in zip(params, clip_grads):
        p.grad = g.clone()
    total = torch.nn.utils.clip_grad_norm_(params, max_norm=max_norm)
    table[f"{label}.total_norm"] = entry(total)
    for i, p in enumerate(params):
        table[f"{label}.clipped.{i}"] = entry(p.grad)
params = [torch.zeros_like(g, requires_grad=True) for g in clip_grads]
for p, g in zip(params, clip_grads):
    p.grad = g.clone()
torch.nn.utils.clip_grad_value_(params, clip_value=0.5)
for i, p in enumerate(params):
    table[f"value_0.5.clipped.{i}"] = entry(p.grad)
write("gradient_clipping", table)
