#!/usr/bin/env bash
# Installs the hecnn Python package from this repository (issue 16). Idempotent.
#   bash scripts/install-python.sh
# Sets up Debian's packages (python3-dev, pybind11-dev, python3-numpy, ...), builds the package
# (scripts/build-python.sh) if the module is missing or older than the sources, then copies
# build-python/python/hecnn into the
# site-packages of Debian's python3 (/usr/bin/python3) and of the python3 first on PATH when
# that is another interpreter of the same version (the module is built for CPython 3.11).
#   HECNN_BUILD_DIR   main build directory (default: build); the package is built in <it>-python
#   HECNN_PYTHONS     interpreters to install into (default: as above)
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${HECNN_BUILD_DIR:-build}-python"
HECNN_SETUP_QUIET=1 bash scripts/setup.sh
so=$(ls "$dir"/python/hecnn/_hecnn.*.so 2>/dev/null | head -1 || true)
if [ -z "$so" ] || [ -n "$(find python src -newer "$so" \( -name '*.cpp' -o -name '*.h' -o -name '*.py' \) -print -quit)" ]; then
  echo "install-python: building the package into $dir"
  bash scripts/build-python.sh >/dev/null
  so=$(ls "$dir"/python/hecnn/_hecnn.*.so 2>/dev/null | head -1 || true)
fi
[ -n "$so" ] || { echo "install-python: $dir/python/hecnn/_hecnn*.so was not built (see $dir.configure.log)" >&2; exit 1; }
want=$(/usr/bin/python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')
pythons="${HECNN_PYTHONS:-/usr/bin/python3 $(command -v python3 || true)}"
done_list=""
for py in $pythons; do
  real=$(readlink -f "$(command -v "$py")" 2>/dev/null || true)
  [ -n "$real" ] || { echo "install-python: $py not found, skipped"; continue; }
  ver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  prefix=$("$py" -c 'import sys; print(sys.prefix)')
  case " $done_list " in *" $prefix "*) continue ;; esac
  if [ "$ver" != "$want" ]; then echo "install-python: $py is Python $ver, the module is built for $want: skipped"; continue; fi
  # Debian's python3 reads /usr/local/lib/python3.X/dist-packages; others their purelib.
  site=$("$py" -c 'import site, sys, sysconfig
p = [d for d in site.getsitepackages() if d.startswith("/usr/local/")] if sys.prefix == "/usr" else []
print(p[0] if p else sysconfig.get_paths()["purelib"])')
  mkdir -p "$site"
  rm -rf "$site/hecnn.tmp" && cp -r "$dir/python/hecnn" "$site/hecnn.tmp"
  rm -rf "$site/hecnn" && mv "$site/hecnn.tmp" "$site/hecnn"
  (cd / && "$py" -c 'import hecnn; print("install-python: hecnn", hecnn.__version__, "for", __import__("sys").executable, "in", hecnn.__path__[0])')
  done_list="$done_list $prefix"
done
[ -n "$done_list" ] || { echo "install-python: installed into no interpreter" >&2; exit 1; }
