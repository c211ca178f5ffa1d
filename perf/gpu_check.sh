#!/usr/bin/env bash
# The GPU path, checked on one GPU in one run (< 8 minutes on an H200), with only torch, triton and
# transformers installed and no network:
#   1. the cuda tests (compiled Triton kernel per impl / dtype / ragged vocabulary; the engine end to
#      end against a full-logits reference)                       -> OUTDIR/cuda_tests.txt
#   2. the LM-head op benchmark at N=16384, d=4096, V=128256 bf16   -> OUTDIR/bench_lm_head.{txt,json}
#   3. the engine's requests/s on the SOS fixtures vs the naive full-logits baseline, and the local
#      logprob judge's judgments/s                                  -> OUTDIR/{engine,judge}_throughput.json
# and OUTDIR/summary.txt with every figure. Exit status: non-zero when a step failed.
#
#   perf/gpu_check.sh OUTDIR              # on the GPU machine, from the repository root or anywhere
#   perf/gpu_check.sh --cpu-smoke OUTDIR  # the same steps on CPU with tiny shapes (does the script work?)
#
# The package is used from this checkout (installed or not). The model for step 3 is
# $JUDGEAUDIT_GPU_MODEL if set, else the embedded smollm2 if it is installed, else a SmolLM2-135M-shaped
# model with random weights built on the spot by perf/standin_model.py (same shapes, so the same speed).
set -uo pipefail

SMOKE=0
if [[ "${1:-}" == "--cpu-smoke" ]]; then SMOKE=1; shift; fi
OUT="${1:?usage: perf/gpu_check.sh [--cpu-smoke] OUTDIR}"
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
PY="${PYTHON:-python}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false TRANSFORMERS_NO_ADVISORY_WARNINGS=1
unset TRITON_INTERPRET

# The package maps kernels/, benchmarks/ and probes/ into judgeaudit.*; without an install, a tree of
# links gives the same layout on PYTHONPATH.
if ! (cd "$WORK" && "$PY" -c "import judgeaudit.kernels, judgeaudit.benchmarks, judgeaudit.probes" 2>/dev/null) \
   || [[ "$(cd "$WORK" && "$PY" -c 'import judgeaudit, os; print(os.path.dirname(judgeaudit.__file__))')" != "$REPO/judgeaudit" ]]; then
  mkdir -p "$WORK/pkg/judgeaudit"
  for entry in "$REPO"/judgeaudit/*; do ln -s "$entry" "$WORK/pkg/judgeaudit/$(basename "$entry")"; done
  for sub in kernels benchmarks probes; do ln -s "$REPO/$sub" "$WORK/pkg/judgeaudit/$sub"; done
  export PYTHONPATH="$WORK/pkg${PYTHONPATH:+:$PYTHONPATH}"
fi
cd "$REPO"

status=0
step() {  # step NAME TIMEOUT_S LOGFILE COMMAND...
  local name="$1" limit="$2" log="$3"; shift 3
  local t0=$SECONDS
  echo "== $name (limit ${limit}s)"
  timeout "$limit" "$@" >"$log" 2>&1
  local rc=$?
  echo "   rc=$rc in $((SECONDS - t0))s -> $log"
  tail -n 15 "$log" | sed 's/^/   | /'
  if [[ $rc -ne 0 ]]; then status=1; fi
  echo "$name: rc=$rc, $((SECONDS - t0))s" >>"$OUT/steps.txt"
}
: >"$OUT/steps.txt"

{
  date -u +"%Y-%m-%dT%H:%M:%SZ"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
  "$PY" -c "import sys, torch, triton, transformers; print('python', sys.version.split()[0], '| torch', torch.__version__, '| triton', triton.__version__, '| transformers', transformers.__version__, '| cuda', torch.cuda.is_available())"
  "$PY" -c "import judgeaudit, os; print('judgeaudit from', os.path.dirname(judgeaudit.__file__))"
} >"$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# 1. cuda tests: pytest when installed, else the test module runs itself.
if "$PY" -c "import pytest" 2>/dev/null; then
  step "cuda tests" 240 "$OUT/cuda_tests.txt" "$PY" -m pytest -q -p no:cacheprovider -m cuda -rs tests/test_cuda.py
else
  step "cuda tests (no pytest: run as a script)" 240 "$OUT/cuda_tests.txt" "$PY" tests/test_cuda.py
fi

# 2. LM-head op benchmark at the goal shape.
if [[ $SMOKE -eq 1 ]]; then
  step "lm-head benchmark (cpu smoke)" 300 "$OUT/bench_lm_head.txt" \
    "$PY" perf/bench_lm_head_logprobs.py --device cpu --n 256 --d 576 --v 49152 --json-out "$OUT/bench_lm_head.json"
else
  step "lm-head benchmark" 240 "$OUT/bench_lm_head.txt" \
    "$PY" perf/bench_lm_head_logprobs.py --dtype bfloat16 --n 16384 --d 4096 --v 128256 --json-out "$OUT/bench_lm_head.json"
fi

# 3. Engine and judge throughput.
MODEL="${JUDGEAUDIT_GPU_MODEL:-}"
if [[ -z "$MODEL" ]]; then
  if "$PY" -c "from judgeaudit.models.loading import embedded_gguf_path; embedded_gguf_path()" 2>/dev/null; then
    MODEL=smollm2
  else
    step "stand-in model (SmolLM2-135M shapes, random weights)" 240 "$OUT/standin_model.txt" \
      "$PY" perf/standin_model.py "$WORK/standin"
    MODEL="$WORK/standin"
  fi
fi
echo "model for throughput: $MODEL" | tee -a "$OUT/env.txt"
if [[ $SMOKE -eq 1 ]]; then
  step "throughput (cpu smoke)" 600 "$OUT/throughput.txt" \
    "$PY" perf/gpu_throughput.py --model "$MODEL" --out "$OUT" --device cpu --dtype float32 --max-requests 120 --judgments 16
else
  step "throughput" 240 "$OUT/throughput.txt" \
    "$PY" perf/gpu_throughput.py --model "$MODEL" --out "$OUT" --dtype bfloat16
fi

{
  echo "GPU check $(date -u +%Y-%m-%dT%H:%M:%SZ)$([[ $SMOKE -eq 1 ]] && echo ' (CPU SMOKE RUN: figures say nothing about a GPU)')"
  cat "$OUT/env.txt"
  echo; echo "steps:"; cat "$OUT/steps.txt"
  echo; echo "cuda tests:"; tail -n 5 "$OUT/cuda_tests.txt"
  echo; echo "lm-head op:"; grep -E "met|missed|device:" "$OUT/bench_lm_head.txt" || tail -n 5 "$OUT/bench_lm_head.txt"
  echo; echo "throughput:"; grep -E "engine on SOS|local logprob judge" "$OUT/throughput.txt" || tail -n 5 "$OUT/throughput.txt"
} >"$OUT/summary.txt"
cat "$OUT/summary.txt"
exit $status
