#!/usr/bin/env bash
# One prepared run of the lesson's recipe on a GPU machine with no network (docs/gpu.md, "The device script"):
#   1. installs what the machine lacks from a folder of wheels (benchmarks/gpu_requirements.txt; no index);
#   2. picks the Keras backend the machine has: $KERAS_BACKEND if set, else tensorflow, jax, torch, in that order;
#   3. `pytest -m gpu` on the claims, stopped where the budget ends (less the benchmark's share); rows already
#      finished are kept;
#   4. the augmentation benchmark's GPU column in the time left: the Keras layers inside the model on the GPU and on
#      the CPU, 224 px float32, with the memory-copy bound and Lite0's training steps on the GPU beside them
#      (TensorFlow only: it is tf.function and tf.device code);
#   5. where the budget stopped the claims, the tables and figures from every row they recorded.
# Everything lands in one folder, $OUT (default results/gpu_run): gpu/ (claims.md | .csv | .json, figures/,
# progress.log, runs/), bench/ (augmentation.md | .csv, figures/), and gpu_run.log, pytest_*.log, environment.txt.
# Without a GPU (nvidia-smi lists none) or with GPU_RUN_DRY=1, the same steps in their dry-run form: the claims at
# the smoke sizes (`pytest --dry-run`: the preset's backbone, data and recipe, tiny sizes, no verdicts; rows under
# gpu_dry/) and the benchmark's code paths, untimed.
# Arguments go to the claims' pytest (e.g. `-k preprocessing`). Exit status: the claims' pytest's (1 = a verdict
# failed, which is a finding), 124 when the budget cut it.
#
# Settings (environment): OUT, GPU_WHEELS (wheel folder, default wheels/), PYTHON (default python3), KERAS_BACKEND,
# GPU_RUN_SECONDS (the whole script's budget, default 570: a 10-minute device call with half a minute to spare; the
# claims get at most what is left of it less 90 s, about 8 minutes), GPU_BENCH_SECONDS (the benchmark's least share,
# default 60; 0 skips it), GPU_RUN_WORKERS (pytest-xdist workers sharing the GPU, default 2; 0 for none),
# GPU_RUN_DRY.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

OUT="${OUT:-results/gpu_run}"
WHEELS="${GPU_WHEELS:-wheels}"
PYTHON="${PYTHON:-python3}"
BUDGET="${GPU_RUN_SECONDS:-570}"
BENCH_SECONDS="${GPU_BENCH_SECONDS:-60}"
WORKERS="${GPU_RUN_WORKERS:-2}"
REPORT_SECONDS=30 # kept back for the tables and figures at the end
mkdir -p "$OUT" || exit 2
OUT="$(cd "$OUT" && pwd)"

log() { echo "[gpu_run $(date +%H:%M:%S)] $*" | tee -a "$OUT/gpu_run.log" >&2; }
left() { echo $((BUDGET - SECONDS)); }

# 1. Wheels: pip installs only what is missing, from the folder alone (no network is tried).
if [ -d "$WHEELS" ]; then
    log "installing what is missing from $WHEELS"
    "$PYTHON" -m pip install -q --no-index --find-links "$WHEELS" -r benchmarks/gpu_requirements.txt \
        2>&1 | tee -a "$OUT/gpu_run.log" || { log "pip could not install from $WHEELS"; exit 2; }
else
    log "no wheel folder at $WHEELS: using what is installed"
fi

# 2. Backend: TensorFlow where present (the backend this project is verified on), else JAX, else PyTorch.
if [ -z "${KERAS_BACKEND:-}" ]; then
    KERAS_BACKEND="$("$PYTHON" -c 'import importlib.util as u
print(next((m for m in ("tensorflow", "jax", "torch") if u.find_spec(m)), ""))')"
    [ -n "$KERAS_BACKEND" ] || { log "no Keras backend installed (tensorflow, jax or torch)"; exit 2; }
fi
export KERAS_BACKEND
# Several workers share one GPU: each takes memory as it needs it instead of most of the card at start.
export TF_FORCE_GPU_ALLOW_GROWTH=true XLA_PYTHON_CLIENT_PREALLOCATE=false

if [ "${GPU_RUN_DRY:-0}" = 1 ] || ! nvidia-smi -L >/dev/null 2>&1; then
    DRY=1 CLAIMS=(--dry-run) SCALE=gpu_dry
    log "no GPU (or GPU_RUN_DRY=1): the dry-run form, backend $KERAS_BACKEND"
else
    DRY=0 CLAIMS=() SCALE=gpu
    log "GPU: $(nvidia-smi -L | head -1), backend $KERAS_BACKEND"
fi
{
    nvidia-smi 2>/dev/null
    "$PYTHON" -c 'import sys, importlib.metadata as m; print(sys.version); print("keras", m.version("keras"))'
    echo "KERAS_BACKEND=$KERAS_BACKEND"
    "$PYTHON" -m pip list 2>/dev/null
} >"$OUT/environment.txt" 2>&1

# 3. The claims, stopped where the budget ends; a stopped run keeps every row it finished.
seconds=$(($(left) - REPORT_SECONDS - BENCH_SECONDS))
[ "$seconds" -gt 30 ] || { log "no time left for the claims (budget ${BUDGET} s)"; exit 124; }
XDIST=()
[ "$WORKERS" -gt 0 ] && XDIST=(-n "$WORKERS")
log "pytest -m gpu${CLAIMS:+ ${CLAIMS[*]}} ${XDIST[*]} $*, at most ${seconds} s"
timeout -s INT -k 20 "$seconds" "$PYTHON" -m pytest tests/claims/test_claims.py -m gpu -p no:cacheprovider -rs \
    --results-dir "$OUT" "${CLAIMS[@]}" "${XDIST[@]}" "$@" 2>&1 | tee "$OUT/pytest_claims.log"
status=${PIPESTATUS[0]}
if [ "$status" = 124 ] || [ "$status" = 137 ]; then # interrupted, or killed 20 s later (xdist workers busy)
    status=124
    log "the budget stopped the claims: the rows finished so far are kept"
fi
log "claims: exit $status"

# 4. The augmentation benchmark's GPU column (timed on a GPU; on a CPU its code paths once, at the smallest size), in
#    the time the claims left it.
if [ "$KERAS_BACKEND" != tensorflow ]; then
    log "augmentation benchmark skipped: it is TensorFlow code (tf.function, tf.device), not $KERAS_BACKEND's"
elif [ "$BENCH_SECONDS" -gt 0 ]; then
    BENCH_SECONDS=$(($(left) - REPORT_SECONDS))
    if [ "$DRY" = 1 ]; then
        BENCH=(--benchmark-disable -k "model and float32 and not randaugment and not tfdata")
    else
        BENCH=(--benchmark-only -k "224 and not randaugment and not albumentations and not tfdata and not uint8 \
and not no_augmentation and not cpu-224-train")
    fi
    log "augmentation benchmark, at most ${BENCH_SECONDS} s"
    timeout -s INT -k 15 "$BENCH_SECONDS" "$PYTHON" -m pytest benchmarks/test_bench_augmentation.py -q \
        -p no:cacheprovider -m "gpu or not gpu" --results-dir "$OUT" "${BENCH[@]}" \
        >"$OUT/pytest_bench.log" 2>&1
    log "augmentation benchmark: exit $? ($(tail -1 "$OUT/pytest_bench.log"))"
fi

# 5. After a stop, the tables and figures from every row recorded (pytest's own session end, which writes them, may
#    not have run).
if [ "$status" = 124 ]; then
    "$PYTHON" -m tl_claims report --results-dir "$OUT" >>"$OUT/gpu_run.log" 2>&1
fi
log "results in $OUT/$SCALE: claims.md, figures/, progress.log$([ -d "$OUT/bench" ] && echo "; $OUT/bench/")"
exit "$status"
