#!/usr/bin/env bash
# Python tests of tools/export (Debian's torch; PyPI is not used).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, onnx, numpy, pytest' 2>/dev/null; then
  echo "Python test deps missing: sudo apt-get install -y python3-torch python3-onnx python3-numpy python3-pytest" >&2
  exit 1
fi
if [ ! -d tools/export ]; then echo "tools/export not present: no Python tests"; exit 0; fi
exec "$PY" -m pytest tools/export -q -p no:cacheprovider "$@"
