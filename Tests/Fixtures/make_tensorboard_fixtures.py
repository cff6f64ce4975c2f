"""Writes the TensorBoard fixtures of Tests/Fixtures/tensorboard with PyTorch's SummaryWriter.

Run with the PyTorch virtual environment:

    /work/torchvenv/bin/python Tests/Fixtures/make_tensorboard_fixtures.py

Outputs (committed):
  tensorboard/events.out.tfevents.1700000000.fixture  the event file torch writes for SCALARS
  tensorboard/expected.json                            SCALARS as {"file_version_wall_time": ..,
                                                       "events": [[tag, step, value, wall_time]],
                                                       "scalars": {tag: [[step, value]]}}

The wall times are fixed (torch's `walltime=` argument; the file-version event's time.time()
is patched), so the file is the same on every run and a writer that encodes the same events
the same way produces the same bytes. Steps cross the varint boundaries (0 is omitted by
proto3, 127/128 are one and two bytes, 300000 three); values include ones a float32 rounds.
"""
import json
import os
import shutil
import socket
import tempfile
import time
from unittest import mock

from torch.utils.tensorboard import SummaryWriter

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "tensorboard")
FILE_VERSION_WALL_TIME = 1700000000.0
FILE_NAME = "events.out.tfevents.1700000000.fixture"

# (tag, step, value, wall_time)
SCALARS = [
    ("loss", 0, 2.5, 1700000000.25),
    ("learning_rate", 0, 0.001, 1700000000.25),
    ("loss", 1, 2.25, 1700000000.5),
    ("loss", 127, 1.1, 1700000001.75),
    ("loss", 128, 0.75, 1700000002.0),
    ("eval/accuracy", 128, 0.8125, 1700000002.125),
    ("tokens_per_s", 300000, 12345.5, 1700000100.0),
    ("loss", 300000, -0.0625, 1700000100.5),
]


def main():
    os.makedirs(OUT, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with mock.patch("time.time", return_value=FILE_VERSION_WALL_TIME):
            writer = SummaryWriter(log_dir=tmp)
        for tag, step, value, wall_time in SCALARS:
            writer.add_scalar(tag, value, global_step=step, walltime=wall_time)
        writer.close()
        written = [f for f in os.listdir(tmp) if "tfevents" in f]
        assert len(written) == 1, written
        shutil.copyfile(os.path.join(tmp, written[0]), os.path.join(OUT, FILE_NAME))

    scalars = {}
    for tag, step, value, _ in SCALARS:
        scalars.setdefault(tag, []).append([step, value])
    expected = {
        "file_version_wall_time": FILE_VERSION_WALL_TIME,
        "events": [list(s) for s in SCALARS],
        "scalars": scalars,
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    print("wrote", os.path.join(OUT, FILE_NAME), os.path.getsize(os.path.join(OUT, FILE_NAME)), "bytes")


if __name__ == "__main__":
    main()
