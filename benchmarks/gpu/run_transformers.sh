#!/usr/bin/env bash
# vlmi-transformers on the offline GPU machine, in one run:
#
#   bash benchmarks/gpu/run_transformers.sh OUT [--shrink]
#
# Needs vlmi's wheels in .whl/vlmi (bash benchmarks/gpu/build_wheels.sh, run where
# hatchling can be fetched); installs them with pip --no-index --no-deps --target (torch,
# Transformers and the rest are the machine's own), then:
#   1. vlmi's entry points, found from the target folder;
#   2. the vlmi-transformers `-m gpu` tests on the tiny checkpoints moved to CUDA (bf16 batch
#      against single runs within a tolerance; compiled decoding, no recompiles in a bucket);
#   3. benchmarks/gpu/bench_transformers_gpu.py: the 8B-shaped workload, seed's loop /
#      plain Transformers static compiled at 64 and 256 / vlmi eval_batch at 64 and 256.
# Everything goes to OUT/transformers.log, OUT/transformers_results.json and
# OUT/transformers_gpu_tests.xml as it happens. Under 8 minutes on an H100 (each step has a
# timeout; VLMI_TRANSFORMERS_BATCHES picks the batch sizes, empty leaves the benchmark
# out). --shrink (on a CPU): tiny shapes, plus the CPU test of the compiled path.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:?usage: run_transformers.sh OUT [--shrink]}"
SHRINK="${2:-}"
PYTHON="${PYTHON:-python3}"
SITE="${VLMI_SITE:-$(mktemp -d)/site}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/transformers.log") 2>&1
export PYTHONUNBUFFERED=1 PYTHONPATH="$SITE" TOKENIZERS_PARALLELISM=false
# a compile cache of this run's own (a shared one can be written by another process meanwhile)
export TORCHINDUCTOR_CACHE_DIR="${TORCHINDUCTOR_CACHE_DIR:-$(dirname "$SITE")/inductor}"
TEST_LIMIT=150 BENCH_LIMIT=300  # seconds on an H100; a CPU (--shrink) compiles far slower
[ "$SHRINK" = "--shrink" ] && TEST_LIMIT=900 BENCH_LIMIT=900
echo "== $(date -u +%FT%TZ) run_transformers.sh ${SHRINK:-(full)} on $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo 'no GPU')"
"$PYTHON" -c 'import sys, torch, transformers; print("python", sys.version.split()[0], "torch", torch.__version__, "transformers", transformers.__version__)'

echo "== install vlmi's wheels into $SITE"
"$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --target "$SITE" \
    .whl/vlmi/vlmi_core-*.whl .whl/vlmi/vlmi_transformers-*.whl .whl/vlmi/vlmi_testkit-*.whl \
    || { echo "install failed"; exit 1; }

echo "== entry points"
"$PYTHON" -c 'import vlmi; families = sorted({m.family for m in vlmi.list_models()}); print("families:", families); assert "transformers" in families' || exit 1

status=0
echo "== gpu tests: vlmi-transformers on the tiny checkpoints"
TESTS=(vlmi-transformers/tests/test_gpu.py vlmi-transformers/tests/test_static_cache.py -m gpu)
if [ "$SHRINK" = "--shrink" ]; then  # no CUDA here: the same checks' CPU forms
    TESTS=(vlmi-transformers/tests/test_gpu.py vlmi-transformers/tests/test_static_cache.py
           -k "compiled_decoding or cpu_bf16")
fi
timeout "$TEST_LIMIT" "$PYTHON" -m pytest "${TESTS[@]}" -q -rs -p no:cacheprovider \
    --junitxml "$OUT/transformers_gpu_tests.xml" || status=1

BATCHES="${VLMI_TRANSFORMERS_BATCHES-64 256}"  # run_all.sh drops 256, then 64, when time is short
if [ -n "$BATCHES" ]; then
    echo "== benchmark: 8B-shaped, loop / plain static / vlmi at batch $BATCHES"
    # shellcheck disable=SC2086
    timeout "$BENCH_LIMIT" "$PYTHON" benchmarks/gpu/bench_transformers_gpu.py --out "$OUT" \
        --batches $BATCHES $SHRINK || status=1
else
    echo "== benchmark: 8B-shaped: dropped (VLMI_TRANSFORMERS_BATCHES empty, run_all.sh's time budget)"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
echo "== done (status $status) $(date -u +%FT%TZ)"
exit $status
