#!/usr/bin/env bash
# Proves that a Swift package can depend on Sequent by version: clones this checkout into a
# temporary folder, tags it 0.1.0 there, and builds and runs Examples/Consumer against it
# with `.package(url: "file://...", from: "0.1.0")` (SwiftPM refuses packages with unsafe
# build flags in that position). Exits non-zero if the consumer does not build or run.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

git clone --quiet --no-hardlinks "$root" "$work/Sequent"
# Uncommitted changes of this checkout travel too, so that CI and local runs check the same code.
(cd "$root" && git diff HEAD) | (cd "$work/Sequent" && git apply --allow-empty 2>/dev/null || true)
(cd "$work/Sequent" && git add -A && git -c user.name=check -c user.email=check@localhost commit --quiet --allow-empty -m "check" \
    && git tag 0.1.0)

mkdir -p "$work/Consumer/Sources/Consumer"
sed "s|SEQUENT_URL|file://$work/Sequent|" Examples/Consumer/Package.swift.template > "$work/Consumer/Package.swift"
cp Examples/Consumer/Sources/Consumer/main.swift "$work/Consumer/Sources/Consumer/main.swift"
cd "$work/Consumer"
swift build -c release 2>&1 | tail -n 3
./.build/release/Consumer
