#!/usr/bin/env bash
# Installs what Sequent needs on a fresh Debian/Ubuntu machine: oneDNN (libdnnl-dev), Open MPI
# (openmpi-bin, libopenmpi-dev), the audio libraries of `sequent speech` (libsndfile1-dev,
# LGPL, linked dynamically; libsamplerate0-dev and libkissfft-dev, BSD), and checks that a
# Swift 6 toolchain is on PATH. Does nothing that is already done.
set -euo pipefail

# oneDNN (built against); Open MPI (loaded at run time by data-parallel training only: the
# sequent binary runs without it, but `mpirun -np N sequent ... train` and the 2-rank tests need it).
missing=()
[[ -f /usr/include/oneapi/dnnl/dnnl.h ]] || missing+=(libdnnl-dev)
[[ -f /usr/include/sndfile.h ]] || missing+=(libsndfile1-dev)
[[ -f /usr/include/samplerate.h ]] || missing+=(libsamplerate0-dev)
[[ -f /usr/include/kissfft/kiss_fftr.h ]] || missing+=(libkissfft-dev)
if ! command -v mpirun >/dev/null 2>&1 || ! ls /usr/lib/*/libmpi.so.40 >/dev/null 2>&1; then
    missing+=(openmpi-bin libopenmpi-dev)
fi

if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ "$(id -u)" -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "bootstrap: ${missing[*]} missing and this is not root; run as root or install sudo, then rerun." >&2
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: ${missing[*]} missing and apt-get is not available; install oneDNN 2.x (libdnnl-dev), Open MPI 4 (openmpi-bin, libopenmpi-dev), libsndfile, libsamplerate and KissFFT by hand." >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    "${sudo[@]}" apt-get update
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    cat >&2 <<'MSG'
bootstrap: `swift` is not on PATH. Sequent needs a Swift 6 toolchain (6.0 or newer):
  install it from https://www.swift.org/install/linux/ (swiftly, or the tarball for this
  distribution), then put its usr/bin on PATH, e.g. export PATH=/opt/swift/usr/bin:$PATH,
  and rerun this script.
MSG
    exit 1
fi

swift_major="$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9]*\)\..*/\1/p' | head -n 1)"
if [[ -n "$swift_major" && "$swift_major" -lt 6 ]]; then
    echo "bootstrap: Swift $swift_major found on PATH; Sequent needs Swift 6.0 or newer (https://www.swift.org/install/linux/)." >&2
    exit 1
fi
