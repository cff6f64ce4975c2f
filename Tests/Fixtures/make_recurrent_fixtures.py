"""Golden values for Sequent's recurrent layers, made with real PyTorch.

Run from the repository root with a Python that has torch (never a runtime dependency):
    python Tests/Fixtures/make_recurrent_fixtures.py
Writes Tests/Fixtures/recurrent/*.json, one file per case. Each holds the parameters
(PyTorch state_dict keys), the input, initial states, lengths, the outputs, final states,
and the gradients of L = sum(output * w_out) + sum(h_n * w_h) [+ sum(c_n * w_c)] with
respect to the input, the initial states and every parameter.
"""
import json, os
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "recurrent")
os.makedirs(OUT, exist_ok=True)
B, T, IN, H = 3, 5, 4, 6


def entry(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": [round(v, 10) for v in t.reshape(-1).tolist()]}


def save(name, tensors):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({k: entry(v) for k, v in tensors.items()}, f)


def layer_case(kind, layers, bidirectional, variable, batch_first, nonlinearity="tanh"):
    D = 2 if bidirectional else 1
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    kwargs = dict(num_layers=layers, bidirectional=bidirectional, batch_first=batch_first)
    if kind == "rnn":
        kwargs["nonlinearity"] = nonlinearity
    m = cls(IN, H, **kwargs).double()
    x = torch.randn((B, T, IN) if batch_first else (T, B, IN), dtype=torch.double, requires_grad=True)
    h0 = torch.randn(layers * D, B, H, dtype=torch.double, requires_grad=True)
    c0 = torch.randn(layers * D, B, H, dtype=torch.double, requires_grad=True)
    lengths = torch.tensor([5, 2, 4] if variable else [T] * B)
    state = (h0, c0) if kind == "lstm" else h0
    if variable:
        packed = pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        out, hn = m(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    else:
        out, hn = m(x, state)
    if kind == "lstm":
        hn, cn = hn
    w_out = torch.randn_like(out)
    w_h = torch.randn_like(hn)
    loss = (out * w_out).sum() + (hn * w_h).sum()
    tensors = {}
    if kind == "lstm":
        w_c = torch.randn_like(cn)
        loss = loss + (cn * w_c).sum()
        tensors.update({"c0": c0, "c_n": cn, "w_c": w_c})
    loss.backward()
    tensors.update({"input": x, "h0": h0, "output": out, "h_n": hn, "w_out": w_out, "w_h": w_h,
                    "lengths": lengths.double(), "grad.input": x.grad, "grad.h0": h0.grad})
    if kind == "lstm":
        tensors["grad.c0"] = c0.grad
    for name, p in m.named_parameters():
        tensors["param." + name] = p
        tensors["grad." + name] = p.grad
    parts = [kind + ("_relu" if kind == "rnn" and nonlinearity == "relu" else ""), f"l{layers}",
             "bi" if bidirectional else "uni", "var" if variable else "full", "bf" if batch_first else "tf"]
    save("_".join(parts), tensors)


for kind in ["rnn", "lstm", "gru"]:
    for layers in [1, 2]:
        for bidirectional in [False, True]:
            for variable in [False, True]:
                layer_case(kind, layers, bidirectional, variable, batch_first=(layers == 1))
layer_case("rnn", 2, True, True, batch_first=True, nonlinearity="relu")


def cell_case(kind):
    cls = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind]
    m = cls(IN, H).double()
    x = torch.randn(B, IN, dtype=torch.double, requires_grad=True)
    h = torch.randn(B, H, dtype=torch.double, requires_grad=True)
    c = torch.randn(B, H, dtype=torch.double, requires_grad=True)
    tensors = {"input": x, "h0": h}
    if kind == "lstm":
        h1, c1 = m(x, (h, c))
        w_h, w_c = torch.randn_like(h1), torch.randn_like(c1)
        ((h1 * w_h).sum() + (c1 * w_c).sum()).backward()
        tensors.update({"c0": c, "h1": h1, "c1": c1, "w_h": w_h, "w_c": w_c, "grad.c0": c.grad})
    else:
        h1 = m(x, h)
        w_h = torch.randn_like(h1)
        (h1 * w_h).sum().backward()
        tensors.update({"h1": h1, "w_h": w_h})
    tensors.update({"grad.input": x.grad, "grad.h0": h.grad})
    for name, p in m.named_parameters():
        tensors["param." + name] = p
        tensors["grad." + name] = p.grad
    save(kind + "_cell", tensors)


for kind in ["rnn", "lstm", "gru"]:
    cell_case(kind)
print("wrote", len(os.listdir(OUT)), "fixtures to", OUT)
