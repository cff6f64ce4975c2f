"""safetensors fixtures for Sequent's checkpoint reader, made with real PyTorch.

Run from the repository root with a Python that has torch and safetensors (never a runtime
dependency):
    python Tests/Fixtures/make_safetensors_fixtures.py
Writes into Tests/Fixtures/safetensors/:
  torch_lstm_gru.safetensors  state_dict of nn.LSTM(4, 6, num_layers=2, bidirectional=True)
                              under "lstm." and nn.GRU(4, 5, num_layers=2) under "gru.",
                              written by safetensors.torch.save_file (metadata format=pt)
  torch_lstm_gru.json         the input (T=5, B=3, 4) and both layers' output, h_n (and c_n),
                              computed in float64 from the saved float32 weights
  torch_dtypes.safetensors    F64, F32, BF16 and F16 tensors, a rank-0 and an empty tensor
  torch_dtypes.json           their values as float32, as Sequent should read them
  torch_int64.safetensors     an I64 tensor, which Sequent must reject with a clear error
The reverse direction (Sequent writes, torch loads) is checked by check_torch_loads_sequent.py.
"""
import json, os
import torch
import torch.nn as nn
from safetensors.torch import save_file

torch.manual_seed(0)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors")
os.makedirs(OUT, exist_ok=True)


def entry(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "data": t.reshape(-1).tolist()}


def save_json(name, tensors):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump({k: entry(v) for k, v in tensors.items()}, f, sort_keys=True)


# (a) LSTM + GRU weights, written by the reference implementation.
lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True)
gru = nn.GRU(4, 5, num_layers=2)
state = {f"lstm.{k}": v for k, v in lstm.state_dict().items()}
state.update({f"gru.{k}": v for k, v in gru.state_dict().items()})
save_file(state, os.path.join(OUT, "torch_lstm_gru.safetensors"), metadata={"format": "pt"})

x = torch.randn(5, 3, 4)
with torch.no_grad():
    lstm_out, (lstm_h, lstm_c) = lstm.double()(x.double())
    gru_out, gru_h = gru.double()(x.double())
save_json("torch_lstm_gru", {
    "input": x, "lstm.output": lstm_out, "lstm.h_n": lstm_h, "lstm.c_n": lstm_c,
    "gru.output": gru_out, "gru.h_n": gru_h,
})

# Every float dtype Sequent converts, plus edge shapes. The reference writer orders the data
# by dtype alignment (F64 first), not by name, which the reader must accept.
values = torch.tensor([0.0, -1.5, 3.140625, 65504.0, 6.1e-5, -2.0e-7, 1.0e-3, 1.0 / 3.0], dtype=torch.float64)
dtypes = {
    "f64": values.reshape(2, 4),
    "f32": values.float().reshape(4, 2),
    "bf16": values.bfloat16(),
    "f16": values.half().reshape(2, 2, 2),
    "scalar": torch.tensor(2.5),
    "empty": torch.zeros(0, 3),
}
save_file(dtypes, os.path.join(OUT, "torch_dtypes.safetensors"))
save_json("torch_dtypes", {k: v.float() for k, v in dtypes.items()})

save_file({"steps": torch.arange(4, dtype=torch.int64)}, os.path.join(OUT, "torch_int64.safetensors"))
print("wrote", sorted(os.listdir(OUT)))
