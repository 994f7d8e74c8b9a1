#!/usr/bin/env bash
# Installs what is needed, builds, and starts the GUI training the default preset at once.
# Extra arguments go to the GUI (e.g. --preset tiny, or a run folder to resume).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
exec ./build/app/plateau "$@"
