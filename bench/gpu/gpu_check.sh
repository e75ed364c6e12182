#!/usr/bin/env bash
# VoiceTune GPU path, end to end, on one CUDA GPU with no network (~6-8 min). Run from the repo root:
#   bash bench/gpu/gpu_check.sh               # on the GPU machine (needs .gpucheck/, see bench/gpu/README.md)
#   bash bench/gpu/gpu_check.sh --cpu-steps   # the steps a CPU can run, with this repo's .venv (CI runs this)
# Writes a PASS/FAIL line per step to $OUT/summary.txt (OUT defaults to /tmp/gc-out); exits 1 on a FAIL.
set -u
cd "$(dirname "$0")/../.."
CPU=0; [ "${1:-}" = "--cpu-steps" ] && CPU=1
G=.gpucheck
export GC_WORK=${GC_WORK:-/tmp/gc} PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1 TOKENIZERS_PARALLELISM=false
if [ $CPU = 1 ]; then
  PY=${PY:-.venv/bin/python}; export GC_EXPECT=hf GC_SMALL=1 GC_4BIT=0 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  export VOICETUNE_HOME=${VOICETUNE_HOME:-$PWD/.cache/voicetune} PYTHONPATH="$PWD"
else
  PY=${PY:-python3}; export GC_TOK=$G/tok PYTHONPATH="$PWD/$G/site:$PWD" VOICETUNE_HOME=$GC_WORK/home
fi
O=${OUT:-/tmp/gc-out}; W=$GC_WORK; D=$W/data; R=$W/ws/runs; M=$W/tiny
mkdir -p "$O" "$W"; rm -rf "$W/ws" "$W"/bench-*; : > "$O/summary.txt"
step() { local n=$1 t=$2; shift 2; echo "=== $n: $*"; local s; s=$(date +%s)
  if timeout "$t" "$@" > "$O/$n.log" 2>&1; then r=PASS; else r="FAIL rc=$?"; fi
  echo "$r $n ($(( $(date +%s)-s ))s)" | tee -a "$O/summary.txt"; tail -25 "$O/$n.log"; }
C="$PY bench/gpu/gpu_check.py"
# GRPO on the small model: short answers, a small voice fit (the reward's cost is not what this checks)
GRPO_SMALL="--group-size 2 --briefs-per-step 2 --max-completion-length 16 --voice-texts 20"
if [ $CPU = 1 ]; then
  step 01_probe 120 $C probe
  step 02_prep 120 $C prep
  step 03_sft_runner_hf 300 $C runner_sft 0 4
  step 06_dpo_on_sft 300 $PY -m pipeline train dpo --data $D --out $R/dpo-gpu --sft $R/sft-gpu --preset quick --max-steps 2 --save-steps 2 --json
  step 06b_grpo_on_dpo 300 $PY -m pipeline train grpo --data $D --out $R/grpo-gpu --from $R/dpo-gpu --preset quick $GRPO_SMALL --max-steps 2 --save-steps 2 --json
  step 06c_grpo_backend 60 $C backend_of "$R/grpo-gpu"
  step 07_infer_hf 300 $C infer "$O/infer_hf.json"
  step 09_sft_speed_hf 300 $C throughput hf "$O/speed_hf.json" 4
  $C speed "$O/speed_hf.json" | tee -a "$O/summary.txt"
else
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv | tee -a "$O/summary.txt"
  step 01_probe 120 $C probe
  step 02_prep 120 $C prep
  step 03_sft_runner_unsloth_4bit_packed 330 $C runner_sft 1 12
  step 04_sft_unsloth_nopack_gc 240 $PY -m pipeline train sft --data $D --out $R/sft-np --model $M --preset quick --4bit --no-packing --gradient-checkpointing --max-steps 6 --json
  step 05_sft_hf_4bit 180 $PY -m pipeline train sft --data $D --out $R/sft-hf --model $M --preset quick --4bit --backend hf --max-steps 6 --json
  step 06_dpo_on_4bit_sft 240 $PY -m pipeline train dpo --data $D --out $R/dpo-gpu --sft $R/sft-gpu --preset quick --max-steps 8 --save-steps 4 --json
  # GRPO from the DPO run: Unsloth's policy (vLLM fast generation where vllm is installed), its patched GRPOTrainer
  step 06b_grpo_on_dpo 360 $PY -m pipeline train grpo --data $D --out $R/grpo-gpu --from $R/dpo-gpu --preset quick $GRPO_SMALL --max-steps 4 --save-steps 2 --json
  step 06c_grpo_backend 60 $C backend_of "$R/grpo-gpu"
  step 07_infer_hf 240 $C infer "$O/infer_hf.json"
  step 08_unsloth_scoring_report 240 $C unsloth_scoring "$O/unsloth_scoring.json"
  sed -i 's/^FAIL rc=[0-9]* 08_/REPORT 08_/' "$O/summary.txt"  # report only: serving uses hf
  step 09_sft_speed_unsloth 300 $C throughput unsloth "$O/speed_unsloth.json" 30
  step 09_sft_speed_hf 300 $C throughput hf "$O/speed_hf.json" 30
  $C speed "$O/speed_unsloth.json" "$O/speed_hf.json" | tee -a "$O/summary.txt"
  for l in kto simpo; do step 10_dpo_$l 150 $PY -m pipeline train dpo --data $D --out $R/dpo-$l --sft $R/sft-gpu --preset quick --loss $l --max-steps 2 --json; done
  if [ "$(nvidia-smi -L | wc -l)" -ge 2 ]; then
    step 11_sft_2_gpus 300 $PY -m accelerate.commands.launch --multi_gpu --num_processes 2 --module pipeline train sft --data $D --out $R/sft-ddp --model $M --preset quick --backend hf --max-steps 6 --save-steps 3 --json
  fi
  # The GPU image's own entry point (its CMD, app.py) once on this GPU, then doctor/SFT/export inside it:
  # only where podman (with NVIDIA's CDI spec) or docker is installed and a registry is reachable.
  engine=$(command -v podman || command -v docker || true)
  if [ -n "$engine" ]; then
    step 12_gpu_image 3600 env GPU=1 ENGINE="$(basename "$engine")" OUT="$O/image" bench/image/image_check.sh
  else
    echo "SKIP 12_gpu_image: no podman or docker here (see bench/gpu/README.md)" | tee -a "$O/summary.txt"
  fi
  grep -h "Unsloth should be imported before\|Model is in float16\|Switching to PyTorch attention\|xformers is installed but" "$O"/*.log | sort | uniq -c | head | tee -a "$O/summary.txt"
fi
cat "$O/summary.txt"; ! grep -q "^FAIL" "$O/summary.txt"
