"""Golden values for Sequent's attention, made with real PyTorch (CPU, float32).

Run from the repository root with any Python that has torch:

    python Tests/Fixtures/make_attention_fixtures.py

Writes Tests/Fixtures/attention/*.json, each mapping names to {"shape": [...], "data": [...]}
(float64 lists), the format of `Fixtures.load` in Tests/TestSupport.

Masks are stored in Sequent's convention: 1 = masked out / may not attend (PyTorch's
boolean attn_mask and key_padding_mask of nn.MultiheadAttention). F.scaled_dot_product_attention
takes the opposite convention (True = takes part), so it is given the negation.

Gradients are those of L = sum(out * dy) (+ sum(weights * dweights) when weights are
returned) for recorded random dy, dweights.
"""
import json
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "attention")


def entry(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def write(name, tensors):
    os.makedirs(HERE, exist_ok=True)
    path = os.path.join(HERE, name + ".json")
    with open(path, "w") as f:
        json.dump({k: entry(v) for k, v in tensors.items()}, f, separators=(",", ":"))
    print(f"{path}: {os.path.getsize(path)} bytes")


def sdpa():
    """F.scaled_dot_product_attention: q, k, v, out, dy, dq, dk, dv (+ mask, scale)."""
    # name, q shape, k shape, v shape, mask shape or None, causal, scale
    cases = [
        ("basic", (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), None, False, None),
        ("mask", (2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6), (2, 1, 5, 7), False, None),
        ("mask2d", (1, 2, 5, 4), (1, 2, 7, 4), (1, 2, 7, 4), (5, 7), False, None),
        ("causal", (2, 2, 6, 8), (2, 2, 6, 8), (2, 2, 6, 8), None, True, None),
        ("causal_rect", (1, 2, 4, 8), (1, 2, 9, 8), (1, 2, 9, 5), None, True, None),
        ("scale", (1, 2, 5, 4), (1, 2, 6, 4), (1, 2, 6, 4), None, False, 0.3),
        ("3d", (2, 5, 4), (2, 7, 4), (2, 7, 3), None, False, None),
        ("long_causal", (1, 2, 70, 16), (1, 2, 70, 16), (1, 2, 70, 16), None, True, None),
        ("long_mask", (1, 1, 40, 8), (1, 1, 130, 8), (1, 1, 130, 8), (40, 130), False, None),
    ]
    for seed, (name, qs, ks, vs, ms, causal, scale) in enumerate(cases):
        torch.manual_seed(100 + seed)
        q = torch.randn(*qs, requires_grad=True)
        k = torch.randn(*ks, requires_grad=True)
        v = torch.randn(*vs, requires_grad=True)
        out = {}
        attend = None
        if ms is not None:
            masked = torch.rand(*ms) < 0.3
            masked[..., 0] = False  # no fully masked row: PyTorch would give NaN
            attend = ~masked
            out["mask"] = masked.float()
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, is_causal=causal, scale=scale)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        out.update({"q": q, "k": k, "v": v, "out": y, "dy": dy, "dq": q.grad, "dk": k.grad, "dv": v.grad})
        if scale is not None:
            out["scale"] = torch.tensor([scale])
        write("sdpa_" + name, out)


def mha():
    """nn.MultiheadAttention: inputs, parameters, masks, outputs, weights and every gradient."""
    # name, E, heads, B, L, S, batch_first, self-attention, key padding, causal, 3-D attn_mask, weights
    cases = [
        ("self_bf", 8, 2, 2, 5, 5, True, True, False, False, False, "averaged"),
        ("cross_kpm", 8, 4, 2, 3, 6, False, False, True, False, False, "per_head"),
        ("causal_kpm", 12, 3, 2, 6, 6, True, True, True, True, False, "none"),
        ("mask3d", 8, 2, 2, 4, 5, True, False, False, False, True, "averaged"),
    ]
    for seed, (name, E, H, B, L, S, bf, self_attn, kpm, causal, mask3d, weights) in enumerate(cases):
        torch.manual_seed(200 + seed)
        layer = nn.MultiheadAttention(E, H, batch_first=bf)
        with torch.no_grad():  # non-zero biases, so that they matter
            layer.in_proj_bias.copy_(0.3 * torch.randn(3 * E))
            layer.out_proj.bias.copy_(0.3 * torch.randn(E))
        shape = lambda T: (B, T, E) if bf else (T, B, E)
        out = {}
        if self_attn:
            x = torch.randn(*shape(L), requires_grad=True)
            query = key = value = x
            out["x"] = x
        else:
            query = torch.randn(*shape(L), requires_grad=True)
            key = torch.randn(*shape(S), requires_grad=True)
            value = torch.randn(*shape(S), requires_grad=True)
            out.update({"query": query, "key": key, "value": value})
        key_padding_mask = None
        if kpm:
            key_padding_mask = torch.zeros(B, S, dtype=torch.bool)
            key_padding_mask[1, S - 2:] = True
            key_padding_mask[0, S - 1] = True if not causal else False
            out["key_padding_mask"] = key_padding_mask.float()
        attn_mask = None
        if causal:
            attn_mask = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=1)
            out["attn_mask"] = attn_mask.float()
        if mask3d:
            attn_mask = torch.rand(B * H, L, S) < 0.4
            attn_mask[..., 0] = False
            out["attn_mask"] = attn_mask.float()
        y, w = layer(query, key, value, key_padding_mask=key_padding_mask, attn_mask=attn_mask,
                     need_weights=weights != "none", average_attn_weights=weights == "averaged")
        dy = torch.randn_like(y)
        loss = (y * dy).sum()
        if w is not None:
            dw = torch.randn_like(w)
            loss = loss + (w * dw).sum()
            out.update({"weights": w, "dweights": dw})
        loss.backward()
        out.update({"out": y, "dy": dy})
        for key_name, parameter in layer.named_parameters():
            out[key_name] = parameter
            out["d" + key_name] = parameter.grad
        if self_attn:
            out["dx"] = x.grad
        else:
            out.update({"dquery": query.grad, "dkey": key.grad, "dvalue": value.grad})
        write("mha_" + name, out)


if __name__ == "__main__":
    sdpa()
    mha()
