#!/usr/bin/env bash
# vlmi-internvl2 on LMDeploy's PyTorch engine on the offline GPU machine, in one run:
#
#   bash benchmarks/gpu/run_lmdeploy.sh OUT [--shrink]
#
# Needs the bundle in .whl/ (python benchmarks/gpu/pack_lmdeploy.py, run where PyPI is
# reachable); installs it with pip --no-index --no-deps --target, then:
#   1. vlmi's entry points, found from the target folder;
#   2. the vlmi-internvl2 `-m gpu` tests on the tiny checkpoint, backend="pytorch"
#      (TurboMind skipped with its reason: the bundle leaves its binary out);
#   3. benchmarks/gpu/bench_lmdeploy.py: InternVL2-8B-shaped, loop / raw pipeline / vlmi.
# Everything goes to OUT/lmdeploy.log, OUT/lmdeploy_gpu_tests.xml and
# OUT/lmdeploy_results.json as it happens. Under 8 minutes on an H100 (each step has a
# timeout; VLMI_LMDEPLOY_BENCH=0 leaves the benchmark out). --shrink (on a CPU): the
# preflight up to CUDA, then the benchmark's plumbing
# with tiny shapes and LMDeploy's GPU engine scripted.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:?usage: run_lmdeploy.sh OUT [--shrink]}"
SHRINK="${2:-}"
PYTHON="${PYTHON:-python3}"
SITE="${VLMI_SITE:-$(mktemp -d)/site}"
mkdir -p "$OUT"
exec > >(tee -a "$OUT/lmdeploy.log") 2>&1
export PYTHONUNBUFFERED=1 PYTHONPATH="$SITE" TOKENIZERS_PARALLELISM=false
echo "== $(date -u +%FT%TZ) run_lmdeploy.sh ${SHRINK:-(full)} on $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo 'no GPU')"
"$PYTHON" -c 'import sys, torch, triton, transformers; print("python", sys.version.split()[0], "torch", torch.__version__, "triton", triton.__version__, "transformers", transformers.__version__)'

echo "== install the bundle into $SITE"
"$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --target "$SITE" \
    .whl/vlmi/*.whl .whl/lmdeploy/*.whl || { echo "install failed"; exit 1; }

echo "== entry points"
"$PYTHON" -c 'import vlmi; names = [m.name for m in vlmi.list_models()]; print(len(names), "models:", ", ".join(n for n in names if n.startswith("internvl2"))); assert "internvl2-8b" in names' || exit 1

status=0
if [ "$SHRINK" = "--shrink" ]; then
    echo "== preflight (CPU): the tiny path up to LMDeploy's first CUDA call"
    timeout 300 "$PYTHON" benchmarks/gpu/preflight_lmdeploy.py --site "$SITE" \
        --json "$OUT/lmdeploy_preflight.json" || status=1
fi

echo "== gpu tests: vlmi-internvl2 on the tiny checkpoint"
timeout 120 "$PYTHON" -m pytest vlmi-internvl2/tests/test_gpu.py -m gpu -q -rs \
    -p no:cacheprovider --junitxml "$OUT/lmdeploy_gpu_tests.xml" || status=1

if [ "${VLMI_LMDEPLOY_BENCH:-1}" = 1 ]; then
    echo "== benchmark: InternVL2-8B-shaped, seed's loop / raw LMDeploy / vlmi (one process each)"
    CHECKPOINT="$(dirname "$SITE")/internvl2-8b-random"
    rm -f "$OUT/lmdeploy_results.json"
    timeout 210 "$PYTHON" benchmarks/gpu/bench_lmdeploy.py --out "$OUT" --part raw \
        --checkpoint "$CHECKPOINT" $SHRINK || status=1
    timeout 130 "$PYTHON" benchmarks/gpu/bench_lmdeploy.py --out "$OUT" --part vlmi \
        --checkpoint "$CHECKPOINT" $SHRINK || status=1
    rm -rf "$CHECKPOINT"
else
    echo "== benchmark: InternVL2-8B-shaped: dropped (VLMI_LMDEPLOY_BENCH=0, run_all.sh's time budget)"
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv
echo "== done (status $status) $(date -u +%FT%TZ)"
exit $status
