"""Golden log-mel filterbank and MFCC features, made with torchaudio's Kaldi-compatible
`torchaudio.compliance.kaldi.fbank` / `.mfcc` (CPU, float32), for FeatureExtractor.

Run from the repository root with a Python that has torch and torchaudio (PyPI):

    python Tests/Fixtures/make_speech_fixtures.py

torchaudio's compiled extension is not needed for these pure-PyTorch functions; where the
installed wheel's extension cannot load (a CUDA build on a CPU-only machine), the script
stands in an empty extension module before importing, and the Kaldi functions run as shipped.

Writes speech_features.json in the format of `Fixtures.load` ({"shape", "data"} per name):
the input signals (deterministic: tones, a chirp and seeded noise, in [-1, 1]) and, per
case, the features (frames, bins). The cases and their settings are listed in CASES and
repeated in Tests/SequentDataTests/AudioFeaturesTests.swift.
"""
import json
import math
import os
import sys
import types

import torch

try:
    import torchaudio.compliance.kaldi as kaldi
except Exception:  # the wheel's C++ extension does not load here; the Kaldi code does not need it
    for name in list(sys.modules):
        if name.startswith("torchaudio"):
            del sys.modules[name]
    stub = types.ModuleType("torchaudio._extension")
    stub._IS_TORCHAUDIO_EXT_AVAILABLE = False
    for name in ["_check_cuda_version", "fail_if_no_rir", "_init_dll_path", "_load_lib"]:
        setattr(stub, name, lambda *a, **k: False)
    stub.fail_if_no_align = lambda f: f
    sys.modules["torchaudio._extension"] = stub
    import torchaudio.compliance.kaldi as kaldi

HERE = os.path.dirname(os.path.abspath(__file__))


def entry(t):
    t = torch.as_tensor(t).detach().to(torch.float64)
    return {"shape": list(t.shape), "data": [float("%.9g" % v) for v in t.reshape(-1).tolist()]}


def signal(rate, seconds, seed):
    n = int(rate * seconds)
    t = torch.arange(n, dtype=torch.float64) / rate
    g = torch.Generator().manual_seed(seed)
    x = 0.3 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * (200 + 1500 * t) * t)
    x = x + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)
    x = x * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t))  # a slow envelope
    return x.to(torch.float32)


# name, signal, function, keyword arguments (all others at torchaudio's defaults, dither 0)
CASES = [
    ("fbank_8k_40", "signal_8k", "fbank", dict(sample_frequency=8000.0, num_mel_bins=40)),
    ("mfcc_8k_23_13", "signal_8k", "mfcc", dict(sample_frequency=8000.0, num_mel_bins=23, num_ceps=13)),
    ("fbank_16k_hamming", "signal_16k", "fbank",
     dict(sample_frequency=16000.0, num_mel_bins=23, window_type="hamming", preemphasis_coefficient=0.0,
          remove_dc_offset=False, frame_length=20.0, frame_shift=5.0, low_freq=100.0, high_freq=-400.0)),
    ("mfcc_16k_30_20", "signal_16k", "mfcc",
     dict(sample_frequency=16000.0, num_mel_bins=30, num_ceps=20, cepstral_lifter=0.0, window_type="hanning")),
]


def main():
    signals = {"signal_8k": signal(8000, 0.3, 1), "signal_16k": signal(16000, 0.25, 2)}
    out = {name: entry(x) for name, x in signals.items()}
    for name, source, function, kwargs in CASES:
        f = getattr(kaldi, function)
        features = f(signals[source].unsqueeze(0), dither=0.0, **kwargs)
        out[name] = entry(features)
    with open(os.path.join(HERE, "speech_features.json"), "w") as fp:
        json.dump(out, fp)
        fp.write("\n")
    print("wrote", os.path.join(HERE, "speech_features.json"), {k: v["shape"] for k, v in out.items()})


if __name__ == "__main__":
    main()
