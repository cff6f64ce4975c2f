"""Checks that PyTorch loads a Sequent `sequent lm` LSTM checkpoint with load_state_dict.

    python Tests/Fixtures/check_torch_loads_lm.py Tests/Fixtures/lm/sequent_lm_lstm.safetensors

The file is the model.safetensors of a `sequent lm train --model lstm` folder (written by
LanguageModelPyTorchTests, which also writes the JSON beside it: config, tokens and the
logits Sequent computed in evaluation mode). The script builds the module a PyTorch user
would write for that model,

    class LM(nn.Module):  emb = nn.Embedding(V, E); rnn = nn.LSTM(E, H, L, batch_first=True,
                          dropout=p); drop = nn.Dropout(p); head = nn.Linear(H, V)
                          forward: head(drop(rnn(emb(x))[0]))

loads the file strictly (every key present, none extra, shapes equal), runs the tokens in
evaluation mode in float64 and float32 and prints the largest difference from Sequent's
logits. Exits 1 if it exceeds 1e-5 or the load fails.
"""
import json, os, sys
import torch
import torch.nn as nn
from safetensors.torch import load_file

path = sys.argv[1]
with open(os.path.splitext(path)[0] + ".json") as f:
    fixture = json.load(f)
config = fixture["config"]


class LM(nn.Module):
    def __init__(self, vocabulary, embedding, hidden, layers, dropout):
        super().__init__()
        self.emb = nn.Embedding(vocabulary, embedding)
        self.rnn = nn.LSTM(embedding, hidden, layers, batch_first=True, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocabulary)

    def forward(self, x):
        y, _ = self.rnn(self.emb(x))
        return self.head(self.drop(y))


model = LM(config["vocabulary_size"], config["embedding"], config["hidden"], config["layers"], config["dropout"])
model.load_state_dict(load_file(path))  # strict
model.eval()
tokens = torch.tensor(fixture["tokens"]["data"], dtype=torch.long).reshape(fixture["tokens"]["shape"])
expected = torch.tensor(fixture["logits"]["data"], dtype=torch.float64).reshape(fixture["logits"]["shape"])
ok = True
for dtype in (torch.float64, torch.float32):
    with torch.no_grad():
        logits = model.to(dtype)(tokens)
    diff = (logits.double() - expected).abs().max().item()
    print(f"{str(dtype):14s} logits {tuple(logits.shape)} max |torch - sequent| = {diff:.3e}")
    ok &= diff <= 1e-5
print("OK" if ok else "FAILED")
sys.exit(0 if ok else 1)
