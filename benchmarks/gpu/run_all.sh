#!/usr/bin/env bash
# Both GPU runs in one call, within one time budget:
#
#   bash benchmarks/gpu/run_all.sh OUT [--shrink] [--plan]
#
# LMDeploy first (run_lmdeploy.sh: InternVL2 through LMDeploy's PyTorch engine), then
# Transformers (run_transformers.sh). Each script writes its log, JSON and JUnit XML under
# OUT as it goes, and each runs under its own timeout, so a timeout still leaves what was
# measured. All steps together stay within VLMI_GPU_BUDGET seconds (default 480). Before
# each engine starts, the steps that no longer fit are dropped, in this order:
#   1. Transformers' batch-256 benchmark,
#   2. Transformers' batch-64 benchmark (static cache, compiled decoding),
#   3. LMDeploy's InternVL2-8B-shaped throughput,
# so the tiny-checkpoint generation tests of both engines run last to be dropped (never,
# within the budget). A step fits when the time left holds its estimate plus the estimates
# of the steps still to come that rank above it. OUT/gpu.txt records the GPU that answered
# (`nvidia-smi`), OUT/plan.txt what ran and what was dropped. --plan prints the plan that
# the estimates alone give, and runs nothing.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${1:?usage: run_all.sh OUT [--shrink] [--plan]}"
shift
SHRINK="" PLAN=""
for arg in "$@"; do
    case "$arg" in
        --shrink) SHRINK="--shrink" ;;
        --plan) PLAN=1 ;;
        *) echo "unknown option $arg"; exit 2 ;;
    esac
done
BUDGET="${VLMI_GPU_BUDGET:-480}"
# estimates in seconds on an H100/H200 (install and checks included)
EST_L_TESTS="${EST_L_TESTS:-100}" EST_L_8B="${EST_L_8B:-200}"
EST_T_TESTS="${EST_T_TESTS:-100}" EST_T_64="${EST_T_64:-100}" EST_T_256="${EST_T_256:-80}"
mkdir -p "$OUT"
START=$(date +%s)
ELAPSED=0  # --plan: the time the estimates say has passed

elapsed() { if [ -n "$PLAN" ]; then echo "$ELAPSED"; else echo $(( $(date +%s) - START )); fi; }
left() { echo $(( BUDGET - $(elapsed) )); }
note() { echo "$*" | tee -a "$OUT/plan.txt"; }

: > "$OUT/plan.txt"
note "budget ${BUDGET} s; $(date -u +%FT%TZ)"
if [ -z "$PLAN" ]; then
    { nvidia-smi -L; nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader; } \
        > "$OUT/gpu.txt" 2>&1 || echo "no GPU answered (nvidia-smi failed)" > "$OUT/gpu.txt"
    note "GPU: $(head -1 "$OUT/gpu.txt")"
fi

# --- LMDeploy: the tiny-checkpoint tests, and the 8B-shaped throughput if it fits
LEFT=$(left)
LMDEPLOY_BENCH=0
if [ "$LEFT" -ge $(( EST_L_TESTS + EST_L_8B + EST_T_TESTS )) ]; then LMDEPLOY_BENCH=1; fi
note "lmdeploy: tests yes, 8B-shaped throughput $([ $LMDEPLOY_BENCH = 1 ] && echo yes || echo dropped) (${LEFT} s left)"
SHARE=$(( LEFT - EST_T_TESTS ))
if [ -n "$PLAN" ]; then
    ELAPSED=$(( ELAPSED + EST_L_TESTS + LMDEPLOY_BENCH * EST_L_8B ))
else
    VLMI_LMDEPLOY_BENCH=$LMDEPLOY_BENCH timeout "$SHARE" bash benchmarks/gpu/run_lmdeploy.sh "$OUT" $SHRINK
    note "lmdeploy: exit $? after $(elapsed) s"
fi

# --- Transformers: the tiny-checkpoint tests, then batch 64 and 256 as they fit
LEFT=$(left)
BATCHES=""
if [ "$LEFT" -ge $(( EST_T_TESTS + EST_T_64 )) ]; then BATCHES="64"; fi
if [ "$LEFT" -ge $(( EST_T_TESTS + EST_T_64 + EST_T_256 )) ]; then BATCHES="64 256"; fi
note "transformers: tests yes, benchmark batches: ${BATCHES:-dropped} (${LEFT} s left)"
if [ -n "$PLAN" ]; then
    for batch in $BATCHES; do
        [ "$batch" = 64 ] && ELAPSED=$(( ELAPSED + EST_T_64 ))
        [ "$batch" = 256 ] && ELAPSED=$(( ELAPSED + EST_T_256 ))
    done
    ELAPSED=$(( ELAPSED + EST_T_TESTS ))
else
    if [ "$LEFT" -gt 0 ]; then
        VLMI_TRANSFORMERS_BATCHES="$BATCHES" timeout "$LEFT" \
            bash benchmarks/gpu/run_transformers.sh "$OUT" $SHRINK
        note "transformers: exit $? after $(elapsed) s"
    else
        note "transformers: no time left"
    fi
fi
note "done after $(elapsed) s"
