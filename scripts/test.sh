#!/usr/bin/env bash
# Installs what is needed, builds, and runs the whole test suite (offscreen Qt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export QT_QPA_PLATFORM=offscreen
cd build
ctest --output-on-failure --timeout 1200
