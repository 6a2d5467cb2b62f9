#!/bin/bash
# Installs the Debian 12 packages stabaudit needs, only those missing (a second run does nothing).
# Runs apt-get as root, or through sudo for a normal user.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libopenmpi-dev openmpi-bin petsc-dev slepc-dev
      libhdf5-openmpi-dev libnetcdf-mpi-dev libcunit1-dev librandom123-dev libyaml-dev zlib1g-dev
      netcdf-bin python3-netcdf4 python3-xarray)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "stabaudit setup: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
