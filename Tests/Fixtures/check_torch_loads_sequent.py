"""Checks that PyTorch loads a safetensors file written by Sequent and computes the same LSTM.

    python Tests/Fixtures/check_torch_loads_sequent.py Tests/Fixtures/safetensors/sequent_lstm.safetensors

Reads FILE with safetensors.torch.load_file into nn.LSTM(...).load_state_dict, with the
config, input and Sequent's outputs from the JSON beside it (same name, .json), runs the
input in float64 and in float32 and prints the largest differences; then re-serializes the
loaded tensors with safetensors.torch.save_file and checks that the bytes are identical to
FILE (so Sequent's writer matches the reference byte for byte). Exits 1 on any failure.
"""
import json, os, sys, tempfile
import torch
import torch.nn as nn
from safetensors import safe_open
from safetensors.torch import load_file, save_file

path = sys.argv[1]
with open(os.path.splitext(path)[0] + ".json") as f:
    fixture = json.load(f)
config = fixture["config"]


def tensor(name):
    return torch.tensor(fixture[name]["data"], dtype=torch.float64).reshape(fixture[name]["shape"])


state = load_file(path)
lstm = nn.LSTM(config["input_size"], config["hidden_size"], num_layers=config["num_layers"],
               bidirectional=config["bidirectional"])
lstm.load_state_dict(state)  # strict: every key present, none extra, shapes equal
ok = True
for dtype in (torch.float64, torch.float32):
    with torch.no_grad():
        out, (h, c) = lstm.to(dtype)(tensor("input").to(dtype))
    for name, value in (("output", out), ("h_n", h), ("c_n", c)):
        diff = (value.double() - tensor(name)).abs().max().item()
        print(f"{str(dtype):14s} {name:7s} max |torch - sequent| = {diff:.3e}")
        ok &= diff <= 1e-5

with safe_open(path, "pt") as f:
    metadata = f.metadata()
with tempfile.TemporaryDirectory() as d:
    again = os.path.join(d, "again.safetensors")
    save_file(state, again, metadata=metadata)
    identical = open(again, "rb").read() == open(path, "rb").read()
print(f"{len(state)} tensors, metadata {metadata}; safetensors re-serialization byte-identical: {identical}")
ok &= identical
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
