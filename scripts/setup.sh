#!/bin/bash
# Installs the Debian 12 packages stabaudit needs, only those missing (a second run does nothing),
# OpenBLAS included (it replaces the reference BLAS under PETSc through Debian's alternatives: about
# 7x faster MLP training steps, docs/performance.md),
# then extracts the scikit-learn UCI data files into data/sklearn/ if they are not there yet.
# Runs apt-get as root, or through sudo for a normal user.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin petsc-dev slepc-dev
      libhdf5-openmpi-dev libnetcdf-mpi-dev libcunit1-dev librandom123-dev libyaml-dev zlib1g-dev
      netcdf-bin python3-netcdf4 python3-xarray dataset-fashion-mnist libopenblas0-pthread
      python3-matplotlib
      slurm-wlm munge) # slurm-wlm, munge: the single-node SLURM of the 'slurm' tests (tests/slurm/)
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "stabaudit setup: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Data: the UCI sets shipped with scikit-learn (BSD-3), taken from the python3-sklearn .deb
# without installing the Python stack (see /work/shared/DATA.md). Fashion-MNIST comes from the
# dataset-fashion-mnist package above (/usr/share/datasets/fashion-mnist).
datadir="$(cd "$(dirname "$0")/.." && pwd)/data/sklearn"
files=(iris.csv wine_data.csv breast_cancer.csv digits.csv.gz)
have=1
for f in "${files[@]}"; do
  [ -s "$datadir/$f" ] || have=0
done
if [ $have -eq 0 ]; then
  echo "stabaudit setup: extracting ${files[*]} from python3-sklearn into $datadir"
  tmp="$(mktemp -d)"
  chmod 755 "$tmp"
  # as root, apt-get download drops privileges to _apt, which must be able to write the .deb here
  if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then chown _apt "$tmp"; fi
  trap 'rm -rf "$tmp"' EXIT
  # apt-get download needs a package index; fetch it if this machine has none yet
  if ! apt-cache show python3-sklearn >/dev/null 2>&1; then
    $sudo apt-get update -q
  fi
  (cd "$tmp" && apt-get download -q python3-sklearn >/dev/null)
  dpkg-deb -x "$tmp"/python3-sklearn_*.deb "$tmp/root"
  src="$(find "$tmp/root" -type d -path '*/sklearn/datasets/data' | head -n 1)"
  if [ -z "$src" ]; then
    echo "stabaudit setup: sklearn/datasets/data not found in python3-sklearn" >&2
    exit 1
  fi
  mkdir -p "$datadir"
  for f in "${files[@]}"; do
    cp "$src/$f" "$datadir/$f"
  done
  rm -rf "$tmp"
  trap - EXIT
fi
