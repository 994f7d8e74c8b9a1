#!/usr/bin/env bash
# Configures and builds Plateau (Release) in build/. Usage: scripts/build.sh [extra cmake args]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@"
# Torch translation units take ~1.2 GB each: one job per core, at most 2 on small machines.
jobs=$(nproc); [ "$jobs" -gt 4 ] && jobs=4
cmake --build build -j"$jobs"
