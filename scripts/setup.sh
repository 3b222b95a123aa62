#!/usr/bin/env bash
# Installs everything hecnn needs on a fresh Debian 12 machine. Idempotent:
# packages already present are not reinstalled; safe to run before every build.
#   HECNN_SETUP_QUIET=1   print nothing when nothing needs installing
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev nlohmann-json3-dev
  libb2-dev libzstd-dev zlib1g-dev libssl-dev
  clang-14 libclang-rt-14-dev
)
# Extra package lists contributed by layers (one package per line, # comments).
for f in scripts/setup.d/*.apt; do
  [ -e "$f" ] || continue
  while read -r p; do
    p="${p%%#*}"; p="$(echo "$p" | xargs)"
    [ -n "$p" ] && APT_PACKAGES+=("$p")
  done < "$f"
done

# Node.js and npm: machines of this kind ship NodeSource's nodejs (which bundles npm and
# conflicts with Debian's npm package). Ask apt for them only when the commands are missing.
node_ok=0
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && node_ok=1

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [ "$node_ok" = 1 ] && { [ "$p" = nodejs ] || [ "$p" = npm ]; }; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q || true
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Layer-specific steps (npm packages, datasets, ...), each idempotent.
for f in scripts/setup.d/*.sh; do
  [ -e "$f" ] || continue
  bash "$f"
done
