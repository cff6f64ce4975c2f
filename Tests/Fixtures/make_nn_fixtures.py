"""Golden values for SequentNN's layers and losses, made with real PyTorch (CPU, float32).

Run from the repository root with any Python that has torch:

    python Tests/Fixtures/make_nn_fixtures.py

Each output file maps names to {"shape": [...], "data": [...]} (float64 lists), the format
of `Fixtures.load` in Tests/TestSupport. Integer tensors (indices, targets) are stored as
floats. Gradients are those of L = sum(output * dy) for a recorded random dy (or of the
scalar loss itself), so every element of the upstream gradient is exercised.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def entry(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def write(name, tensors):
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        json.dump({k: entry(v) for k, v in tensors.items()}, f, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def linear():
    torch.manual_seed(0)
    out = {}
    for prefix, bias in [("", True), ("nobias_", False)]:
        layer = nn.Linear(5, 4, bias=bias)
        x = torch.randn(2, 3, 5, requires_grad=True)
        y = layer(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        out.update({prefix + "x": x, prefix + "weight": layer.weight, prefix + "y": y, prefix + "dy": dy,
                    prefix + "dx": x.grad, prefix + "dweight": layer.weight.grad})
        if bias:
            out.update({"bias": layer.bias, "dbias": layer.bias.grad})
    write("nn_linear", out)


def layer_norm():
    torch.manual_seed(1)
    out = {}
    # (prefix, input shape, normalized shape, elementwise_affine)
    cases = [("", (2, 3, 8), [8], True), ("multi_", (2, 3, 4), [3, 4], True),
             ("noaffine_", (4, 19), [19], False), ("wide_", (3, 40), [40], True)]
    for prefix, shape, normalized, affine in cases:
        layer = nn.LayerNorm(normalized, eps=1e-5, elementwise_affine=affine)
        if affine:
            with torch.no_grad():  # non-trivial parameters, so that they matter
                layer.weight.copy_(1 + 0.5 * torch.randn(normalized))
                layer.bias.copy_(0.5 * torch.randn(normalized))
        x = (2 * torch.randn(*shape) + 0.7).requires_grad_()
        y = layer(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        out.update({prefix + "x": x, prefix + "y": y, prefix + "dy": dy, prefix + "dx": x.grad})
        if affine:
            out.update({prefix + "weight": layer.weight, prefix + "bias": layer.bias,
                        prefix + "dweight": layer.weight.grad, prefix + "dbias": layer.bias.grad})
    write("nn_layer_norm", out)


def embedding():
    torch.manual_seed(2)
    layer = nn.Embedding(10, 4)
    indices = torch.tensor([[1, 7, 3], [7, 0, 9]])  # 7 repeats: its gradients add up
    y = layer(indices)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    write("nn_embedding", {"weight": layer.weight, "indices": indices, "y": y, "dy": dy,
                           "dweight": layer.weight.grad})


def cross_entropy():
    torch.manual_seed(3)
    out = {}
    logits = 2 * torch.randn(6, 5)
    targets = torch.tensor([0, 4, 2, 2, 1, 3])
    ignored = torch.tensor([0, -100, 2, -100, 1, 3])
    out.update({"logits": logits, "targets": targets, "ignored_targets": ignored})
    # (name, targets, options); "none" also records its upstream gradient dy.
    cases = [("mean", targets, {}), ("sum", targets, {"reduction": "sum"}),
             ("none", targets, {"reduction": "none"}),
             ("ignore_mean", ignored, {"ignore_index": -100}),
             ("ignore_sum", ignored, {"ignore_index": -100, "reduction": "sum"}),
             ("smooth_mean", targets, {"label_smoothing": 0.1}),
             ("smooth_ignore_mean", ignored, {"ignore_index": -100, "label_smoothing": 0.2}),
             ("smooth_none", ignored, {"ignore_index": -100, "label_smoothing": 0.2, "reduction": "none"})]
    for name, t, options in cases:
        x = logits.clone().requires_grad_()
        loss = F.cross_entropy(x, t, **options)
        if options.get("reduction") == "none":
            dy = torch.randn_like(loss)
            (loss * dy).sum().backward()
            out[name + "_dy"] = dy
        else:
            loss.backward()
        out.update({name + "_loss": loss, name + "_dlogits": x.grad})
    # Language-model layout (B, T, C): Sequent takes it directly, torch on (B*T, C).
    btc = (3 * torch.randn(2, 4, 7)).requires_grad_()
    btc_targets = torch.randint(0, 7, (2, 4))
    loss = F.cross_entropy(btc.view(-1, 7), btc_targets.view(-1))
    loss.backward()
    out.update({"btc_logits": btc, "btc_targets": btc_targets, "btc_loss": loss, "btc_dlogits": btc.grad})
    write("nn_cross_entropy", out)


def regression():
    torch.manual_seed(4)
    out = {}
    prediction = torch.randn(3, 4)
    target = torch.randn(3, 4)
    target[0, 0] = prediction[0, 0]  # an exact tie: L1's gradient there is 0
    out.update({"prediction": prediction, "target": target})
    for loss_name, fn in [("mse", F.mse_loss), ("l1", F.l1_loss)]:
        for reduction in ["mean", "sum", "none"]:
            p = prediction.clone().requires_grad_()
            t = target.clone().requires_grad_()
            loss = fn(p, t, reduction=reduction)
            key = f"{loss_name}_{reduction}"
            if reduction == "none":
                dy = torch.randn_like(loss)
                (loss * dy).sum().backward()
                out[key + "_dy"] = dy
            else:
                loss.backward()
            out.update({key + "_loss": loss, key + "_dprediction": p.grad, key + "_dtarget": t.grad})
    write("nn_regression", out)


if __name__ == "__main__":
    torch.set_num_threads(1)
    linear()
    layer_norm()
    embedding()
    cross_entropy()
    regression()
