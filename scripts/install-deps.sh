#!/usr/bin/env bash
# Installs every Debian 12 package Plateau needs to build, run, test and benchmark.
# Idempotent; run as root (or with sudo available). Nothing is downloaded outside apt.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  qt6-base-dev qt6-svg-dev libqt6sql6-sqlite libgl-dev
  libtorch-dev libeigen3-dev libdnnl-dev
  libqcustomplot-dev libqcustomplot2.1-qt6
  libopenblas0-openmp libtcmalloc-minimal4
  python3-torch
  xvfb xauth
  # man pages (help2man) and the package test's validators
  help2man desktop-file-utils appstream
  # the sweep test's one-node Slurm cluster (tests/slurm/): started by the test itself
  slurmctld slurmd slurm-client slurmdbd munge mariadb-server
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: run as root (apt-get needs it)" >&2; exit 1; fi
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all ${#PACKAGES[@]} packages present"
fi

# Plateau points libblas.so.3 at OpenBLAS (OpenMP build) by itself at start-up; make the
# system default the same so other programs (Python's torch in bench/) get it too.
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
alt="/usr/lib/$arch/openblas-openmp/libblas.so.3"
if [ -e "$alt" ]; then
  $SUDO update-alternatives --set "libblas.so.3-$arch" "$alt" >/dev/null 2>&1 || true
  $SUDO update-alternatives --set "liblapack.so.3-$arch" "/usr/lib/$arch/openblas-openmp/liblapack.so.3" >/dev/null 2>&1 || true
fi
