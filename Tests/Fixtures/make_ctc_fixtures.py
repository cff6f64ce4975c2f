"""Golden values for Tensor.ctcLoss, made with real PyTorch (CPU, float32) `F.ctc_loss`.

Run from the repository root with any Python that has torch:

    python Tests/Fixtures/make_ctc_fixtures.py

Writes ctc.json in the format of `Fixtures.load` ({"shape", "data"} per name, integers
as floats). The log-probabilities are `log_softmax` of random logits (T, B, C), and the
gradients are taken with respect to the logits, where PyTorch's and Sequent's gradients of
the loss agree (PyTorch's gradient with respect to the log-probabilities adds exp(lp),
which the log-softmax's backward pass removes). For reduction "none" the gradient is that
of sum(loss * dy) for a recorded random dy.
"""
import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def entry(t):
    t = torch.as_tensor(t).detach().to(torch.float64)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def case(out, name, logits, targets, input_lengths, blank, reduction, zero_infinity=False):
    x = logits.clone().requires_grad_(True)
    lp = F.log_softmax(x, dim=-1)
    flat = torch.tensor([label for target in targets for label in target], dtype=torch.long)
    lengths = torch.tensor([len(target) for target in targets], dtype=torch.long)
    loss = F.ctc_loss(lp, flat, torch.tensor(input_lengths), lengths, blank=blank,
                      reduction=reduction, zero_infinity=zero_infinity)
    if reduction == "none":
        dy = torch.randn(loss.shape)
        (loss * dy).sum().backward()
        out[name + "_dy"] = dy
    else:
        loss.backward()
    out[name + "_loss"] = loss
    out[name + "_dlogits"] = x.grad
    out[name + "_targets"] = flat
    out[name + "_target_lengths"] = lengths
    out[name + "_input_lengths"] = torch.tensor(input_lengths)


def main():
    torch.manual_seed(0)
    out = {}
    T, B, C = 12, 4, 6
    logits = torch.randn(T, B, C) * 2
    out["logits"] = logits
    # Repeated labels (need a blank between them), an empty target, a full-length one.
    targets = [[1, 2, 2, 3], [], [5, 4], [1, 2, 3, 4, 5, 1]]
    input_lengths = [12, 10, 7, 12]
    for reduction in ["mean", "sum", "none"]:
        case(out, reduction, logits, targets, input_lengths, 0, reduction)
    # The last class as the blank.
    case(out, "blank_last", logits, [[1, 2, 2, 3], [0], [4, 0], [1, 2, 3, 4, 0, 1]], input_lengths, 5, "mean")
    # Targets no alignment reaches: three equal labels need five steps, the input has three.
    impossible = [[1, 2], [3, 3, 3], [2], [4, 4]]
    # (Without zero_infinity that sequence's loss is inf and its gradient NaN, which JSON
    # cannot hold; the Swift tests check that case on their own.)
    case(out, "zero_infinity", logits, impossible, [12, 3, 7, 12], 0, "mean", zero_infinity=True)

    path = os.path.join(HERE, "ctc.json")
    with open(path, "w") as f:
        json.dump({k: entry(v) for k, v in out.items()}, f, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
