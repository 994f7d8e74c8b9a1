#!/usr/bin/env bash
# Starts the GUI under a private Xvfb display, waits, and saves a screenshot of the whole screen
# (what docs/*.png are made with). Needs imagemagick's `import` (not a build dependency).
# usage: scripts/screenshot.sh OUT.png SECONDS [plateau arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; wait_s=$2; shift 2
display=:$((90 + RANDOM % 9))
Xvfb "$display" -screen 0 1600x1000x24 >/dev/null 2>&1 &
xvfb=$!
trap 'kill $app $xvfb 2>/dev/null || true' EXIT
sleep 1
DISPLAY=$display QT_QPA_PLATFORM=xcb ./build/app/plateau "$@" > /tmp/plateau-screenshot.log 2>&1 &
app=$!
sleep "$wait_s"
DISPLAY=$display import -window root "$out"
echo "wrote $out"
