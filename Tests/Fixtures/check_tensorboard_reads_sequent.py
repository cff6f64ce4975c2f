"""Checks that TensorBoard's own reader reads event files as expected.

    /work/torchvenv/bin/python Tests/Fixtures/check_tensorboard_reads_sequent.py DIR

DIR is a run directory, or a directory of runs; every run directory must hold an
`expected.json` with {"scalars": {tag: [[step, value], ...]}}. Each run is loaded with
tensorboard.backend.event_processing.event_accumulator.EventAccumulator (which also drops the
events a restarted run replaces, on its SessionLog START event), and the scalar tags, steps and
values (compared as float32) must be exactly the expected ones. Prints what it read; exits 1 on
any difference.

Runs written by Sequent: `SEQUENT_TENSORBOARD_CHECK_DIR=DIR swift test --filter
TensorBoardWriterTests/testWritesRunsForTensorBoardsReader`. The fixture directory
Tests/Fixtures/tensorboard (written by torch) passes the same check.
"""
import json
import os
import struct
import sys

from tensorboard.backend.event_processing import event_accumulator


def float32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def check_run(run_dir):
    with open(os.path.join(run_dir, "expected.json")) as f:
        expected = json.load(f)["scalars"]
    acc = event_accumulator.EventAccumulator(run_dir, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    files = sorted(f for f in os.listdir(run_dir) if "tfevents" in f)
    print(f"{run_dir}: {len(files)} event file(s) {files}, file_version {acc.file_version}")
    ok = True
    first = acc.FirstEventTimestamp()
    print(f"  first event wall_time {first}")
    tags = sorted(acc.Tags()["scalars"])
    if tags != sorted(expected):
        print(f"  FAIL tags {tags} != expected {sorted(expected)}")
        ok = False
    for tag in sorted(expected):
        if tag not in tags:
            continue
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        want = [(step, float32(value)) for step, value in expected[tag]]
        status = "ok" if got == want else "FAIL"
        ok &= got == want
        print(f"  {status} {tag}: {got}")
        if got != want:
            print(f"       expected {want}")
    return ok


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    runs = [root] if os.path.exists(os.path.join(root, "expected.json")) else sorted(
        os.path.join(root, d) for d in os.listdir(root)
        if os.path.exists(os.path.join(root, d, "expected.json")))
    if not runs:
        sys.exit(f"{root}: no run directory with an expected.json")
    results = [check_run(run) for run in runs]
    print("ALL OK" if all(results) else "FAILED")
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
