"""Golden values for Sequent's Transformer layers, made with real PyTorch (CPU, float32).

Run from the repository root with any Python that has torch (never a runtime dependency):

    python Tests/Fixtures/make_transformer_fixtures.py

Writes Tests/Fixtures/transformer/*.json, each mapping names to {"shape": [...], "data": [...]}
(the format of `Fixtures.load` in Tests/TestSupport), values printed with 9 significant digits
(exact for float32).

- enc_*: nn.TransformerEncoderLayer, dec_*: nn.TransformerDecoderLayer. Each file holds the
  layer's state_dict under its PyTorch keys, the inputs, the masks, the output `out`, a random
  `dy` and the gradients of L = sum(out * dy): `d<input>` and `d<key>` for every parameter.
  The layers run in training mode with dropout 0, so PyTorch takes its plain (differentiable)
  path rather than the fused inference kernel.
- gpt: the GPT class of shared/bench/torch_rnn_bench.py (copied below) at small sizes: its
  state_dict, the tokens and the logits.

Masks are stored in Sequent's convention, which is PyTorch's for boolean masks in
nn.MultiheadAttention / nn.Transformer*: 1 = masked out / may not attend. No query row is
fully masked (PyTorch gives NaN there, Sequent 0).
"""
import json
import os

import torch
import torch.nn as nn

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "transformer")


def number(x):
    """%.9g (exact for float32), always with a '.' or exponent so JSON readers see a float."""
    text = "%.9g" % x
    return text if any(c in text for c in ".en") else text + ".0"


def write(name, tensors):
    os.makedirs(HERE, exist_ok=True)
    path = os.path.join(HERE, name + ".json")
    parts = []
    for k, v in tensors.items():
        v = v.detach().to(torch.float32)
        data = ",".join(number(x) for x in v.reshape(-1).tolist())
        parts.append('"%s":{"shape":%s,"data":[%s]}' % (k, json.dumps(list(v.shape)), data))
    with open(path, "w") as f:
        f.write("{" + ",".join(parts) + "}")
    print(f"{path}: {os.path.getsize(path)} bytes")


def padding(lengths, T):
    """(B, T) key padding mask: 1 at positions >= length."""
    return torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]


def causal(T):
    return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)


def random_mask(L, S):
    m = torch.rand(L, S) < 0.3
    m[:, 0] = False  # every row attends somewhere
    return m


def layer_case(name, layer, inputs, kwargs, masks):
    """Runs `layer(**inputs, **kwargs)`, backpropagates sum(out * dy), writes everything."""
    layer.train()
    leaves = {k: v.clone().requires_grad_(True) for k, v in inputs.items()}
    out = layer(*leaves.values(), **kwargs)
    dy = torch.randn_like(out)
    (out * dy).sum().backward()
    tensors = {}
    for key, p in layer.state_dict().items():
        tensors[key] = p
    tensors.update(leaves)
    tensors.update({k: v.float() for k, v in masks.items()})
    tensors["out"] = out
    tensors["dy"] = dy
    for k, v in leaves.items():
        tensors["d" + k] = v.grad
    for key, p in layer.named_parameters():
        tensors["d" + key] = p.grad
    write(name, tensors)


def encoder_layers():
    D, h, F = 8, 2, 16
    # Post-norm relu, sequence-first (T, B, D), an explicit (T, T) src_mask.
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(D, h, F, dropout=0.0, activation="relu", batch_first=False, norm_first=False)
    for p in layer.parameters():  # nonzero biases, so their gradients are checked too
        nn.init.uniform_(p, -0.5, 0.5) if p.dim() == 1 else None
    src = torch.randn(5, 2, D)
    mask = random_mask(5, 5)
    layer_case("enc_post_relu", layer, {"src": src}, {"src_mask": mask}, {"src_mask": mask})

    # Pre-norm gelu, batch-first (B, T, D), key padding + causal mask.
    torch.manual_seed(2)
    layer = nn.TransformerEncoderLayer(D, h, F, dropout=0.0, activation="gelu", batch_first=True, norm_first=True)
    for p in layer.parameters():
        nn.init.uniform_(p, -0.5, 0.5) if p.dim() == 1 else None
    T = 6
    src = torch.randn(2, T, D)
    kpm = padding([6, 4], T)
    layer_case("enc_pre_gelu_kpm_causal", layer, {"src": src},
               {"src_mask": causal(T), "src_key_padding_mask": kpm, "is_causal": True},
               {"src_key_padding_mask": kpm})


def decoder_layers():
    D, h, F = 8, 2, 16
    # Post-norm relu, batch-first, causal target, memory key padding.
    torch.manual_seed(3)
    layer = nn.TransformerDecoderLayer(D, h, F, dropout=0.0, activation="relu", batch_first=True, norm_first=False)
    for p in layer.parameters():
        nn.init.uniform_(p, -0.5, 0.5) if p.dim() == 1 else None
    L, S = 4, 6
    tgt, memory = torch.randn(2, L, D), torch.randn(2, S, D)
    mkpm = padding([6, 3], S)
    layer_case("dec_post_relu_causal", layer, {"tgt": tgt, "memory": memory},
               {"tgt_mask": causal(L), "tgt_is_causal": True, "memory_key_padding_mask": mkpm},
               {"memory_key_padding_mask": mkpm})

    # Pre-norm gelu, sequence-first, target key padding and a memory mask.
    torch.manual_seed(4)
    layer = nn.TransformerDecoderLayer(D, h, F, dropout=0.0, activation="gelu", batch_first=False, norm_first=True)
    for p in layer.parameters():
        nn.init.uniform_(p, -0.5, 0.5) if p.dim() == 1 else None
    L, S = 5, 4
    tgt, memory = torch.randn(L, 2, D), torch.randn(S, 2, D)
    tkpm = padding([5, 3], L)
    mmask = random_mask(L, S)
    layer_case("dec_pre_gelu_masks", layer, {"tgt": tgt, "memory": memory},
               {"tgt_key_padding_mask": tkpm, "memory_mask": mmask},
               {"tgt_key_padding_mask": tkpm, "memory_mask": mmask})


class GPT(nn.Module):  # shared/bench/torch_rnn_bench.py
    def __init__(s, V, D, L, nh, T):
        super().__init__()
        s.emb = nn.Embedding(V, D); s.pos = nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, nh, 4 * D, dropout=0.0, batch_first=True, norm_first=True, activation="gelu")
        s.enc = nn.TransformerEncoder(layer, L)
        s.ln = nn.LayerNorm(D); s.head = nn.Linear(D, V)
        s.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(T))
    def forward(s, x):
        T = x.shape[1]
        h = s.emb(x) + s.pos(torch.arange(T, device=x.device))
        h = s.enc(h, mask=s.mask[:T, :T], is_causal=True)
        return s.head(s.ln(h)), None


def gpt():
    torch.manual_seed(5)
    V, D, L, nh, T = 11, 8, 2, 2, 8
    model = GPT(V, D, L, nh, T)
    # PyTorch copies one layer N times; perturb so each layer differs, and give the norms
    # and biases non-trivial values.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    tokens = torch.randint(0, V, (2, 6))
    model.train()
    logits, _ = model(tokens)
    tensors = {k: v for k, v in model.state_dict().items() if k != "mask"}
    tensors["tokens"] = tokens.float()
    tensors["logits"] = logits
    model.eval()
    with torch.no_grad():
        eval_logits, _ = model(tokens)
    print("gpt: train/eval logits max difference", (eval_logits - logits).abs().max().item())
    write("gpt", tensors)


if __name__ == "__main__":
    encoder_layers()
    decoder_layers()
    gpt()
