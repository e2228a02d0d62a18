#!/usr/bin/env bash
# Installs the Debian packages ser builds against. As root it installs what is missing; otherwise it
# prints the exact apt-get line and fails. The CUDA toolkit is optional: without nvcc ser builds the
# CPU backend only. Extra packages a script needs beyond these are its arguments (tools/fuzz.sh:
# clang libclang-rt-14-dev).
set -euo pipefail
packages=(build-essential cmake pkg-config libsndfile1-dev libsoxr-dev libhdf5-dev zlib1g-dev libcli11-dev
          nlohmann-json3-dev libgtest-dev libopenblas-dev libtomlplusplus-dev libsvm-dev
          libonnx-dev libprotobuf-dev protobuf-compiler libopenmpi-dev openmpi-bin "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "setup: missing Debian packages; install them with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
