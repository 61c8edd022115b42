#!/usr/bin/env bash
# Build vlmi's own wheels for the offline GPU machine (which has no hatchling to build them).
#
#   bash benchmarks/gpu/build_wheels.sh [OUT]     # default OUT: .whl (ignored by git)
#
# Writes OUT/vlmi/: vlmi-core, vlmi-transformers, vlmi-internvl2 and vlmi-testkit, each built
# with `pip wheel --no-deps` (pip fetches hatchling into its build environment here). On the
# GPU machine they install with `pip install --no-index --no-deps --target DIR` and
# PYTHONPATH=DIR, which also makes their `vlmi` entry points visible.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:-.whl}"
PYTHON="${PYTHON:-python3}"
rm -rf "$OUT/vlmi"
mkdir -p "$OUT/vlmi"
"$PYTHON" -m pip wheel --quiet --no-deps --wheel-dir "$OUT/vlmi" \
    ./vlmi-core ./vlmi-transformers ./vlmi-internvl2 ./testing/vlmi-testkit
ls -l "$OUT/vlmi"
