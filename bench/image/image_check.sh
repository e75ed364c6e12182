#!/usr/bin/env bash
# Build an image for real and run it (`make image-check`; not part of the test run). Steps:
#   tools     podman (+ buildah, debootstrap for a local base) from Debian if missing
#   base      CPU image only: a local Debian bookworm base image (base_image.sh), unless BASE_IMAGE is set
#   build     the Dockerfile, FROM BASE_IMAGE, torch from TORCH_INDEX (CPU image)
#   serve     the image's own entry point (its CMD, app.py): HTTP 200 on / through a published loopback port
#   doctor    `python -m pipeline doctor --json` inside: backend hf and torch's CPU build (CPU) / unsloth on CUDA (GPU)
#   data, sft a dataset from examples/posts.csv (rule negatives) and a quick SFT (2 steps) on the embedded default model, in /data
#   export    the run to GGUF q8_0 with the llama.cpp built into the image
#   restart   the container stopped (SIGTERM; it must exit 0) and removed, a new one on the same /data volume:
#             serves again, lists the run
# Prints each step's wall time and the image size; exits 1 at the first failed step (logs in $OUT).
#
#   bench/image/image_check.sh                 # Dockerfile.cpu on this machine (no registry needed)
#   GPU=1 bench/image/image_check.sh           # the GPU Dockerfile on a CUDA host (driver >= 580) with a
#                                              # registry: podman + CDI (nvidia-ctk cdi generate), or ENGINE=docker
# Environment: GPU (0), ENGINE (podman; docker for GPU=1 only), BASE_IMAGE (CPU: a local debootstrap image,
# built if missing; GPU: the Dockerfile's own default), TORCH_INDEX (CPU; default empty = the machine's pip
# index; the Dockerfile's own default is PyTorch's CPU index), IMAGE, PORT (17860), OUT, GPU_FLAGS, BUILD_FLAGS.
# HOST_PIP=1 (default, podman) lends the build this machine's pip settings (`pip3 config list`, as PIP_CONFIG_FILE)
# and the local wheel folders, indexes and CA bundle they name, read-only and during RUN steps only (none of it
# ends up in the image): here that is what makes torch the local CPU wheel instead of PyPI's CUDA build.
set -euo pipefail
# shellcheck disable=SC2086  # PODMAN_FLAGS, RUN_FLAGS and GPU_FLAGS are lists of flags
cd "$(dirname "$0")/../.."
GPU=${GPU:-0}
ENGINE=${ENGINE:-podman}
if [ "$GPU" = 1 ]; then
  DOCKERFILE=Dockerfile; IMAGE=${IMAGE:-localhost/voicetune-gpu:check}; BACKEND=unsloth
  BASE_IMAGE=${BASE_IMAGE:-$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile)}
  GPU_FLAGS=${GPU_FLAGS:-$([ "$ENGINE" = docker ] && echo "--gpus all" || echo "--device nvidia.com/gpu=all")}
  BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE_IMAGE")
else
  DOCKERFILE=Dockerfile.cpu; IMAGE=${IMAGE:-localhost/voicetune-cpu:check}; BACKEND=hf
  BASE_IMAGE=${BASE_IMAGE:-localhost/voicetune-base:bookworm}; GPU_FLAGS=
  BUILD_ARGS=(--build-arg "BASE_IMAGE=$BASE_IMAGE" --build-arg "TORCH_INDEX=${TORCH_INDEX-}")
fi
PORT=${PORT:-17860}
OUT=${OUT:-test-output/image-check}
HOST_PIP=${HOST_PIP:-$([ "$ENGINE" = podman ] && echo 1 || echo 0)}
NAME=voicetune-check
VOLUME=voicetune-check-data
WS=/data/projects/check
mkdir -p "$OUT"; : > "$OUT/summary.txt"

step() {  # step NAME COMMAND...: run it, log to $OUT/NAME.log, print and record its wall time
  local name=$1 start rc line; shift; start=$(date +%s.%N); echo "=== $name"
  if "$@" > "$OUT/$name.log" 2>&1; then rc=0; else rc=$?; fi
  line=$(printf '%-12s %7.1f s  %s' "$name" "$(awk "BEGIN{print $(date +%s.%N) - $start}")" \
           "$([ $rc = 0 ] && echo ok || echo "FAILED (rc $rc, log $OUT/$name.log)")")
  echo "$line" | tee -a "$OUT/summary.txt"
  if [ $rc != 0 ]; then tail -30 "$OUT/$name.log"; exit 1; fi
}
podman() { command "$ENGINE" ${PODMAN_FLAGS-} "$@"; }
tools() {
  command -v "$ENGINE" > /dev/null && { [ "$ENGINE" != podman ] || command -v buildah > /dev/null; } &&
    { [ "$BASE_IMAGE" != localhost/voicetune-base:bookworm ] || command -v debootstrap > /dev/null; } && return 0
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman buildah debootstrap
}
# Where crun cannot start containers (cgroups v1/v2 hybrid hosts; limits it may not raise), runc with the
# host's own open-files limit and a process limit it may set; PODMAN_FLAGS / RUN_FLAGS override the probe.
probe_runtime() {
  if [ -z "${PODMAN_FLAGS+x}" ]; then
    PODMAN_FLAGS=; RUN_FLAGS=
    if [ "$ENGINE" = podman ] && ! podman run --rm "$BASE_IMAGE" true > /dev/null 2>&1; then
      PODMAN_FLAGS="--runtime runc"; RUN_FLAGS="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=32768:32768"
      command -v runc > /dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc; }
    fi
  fi
  echo "engine flags: ${PODMAN_FLAGS:-none}; run/build flags: ${RUN_FLAGS:-none}"
  podman run --rm ${RUN_FLAGS-} "$BASE_IMAGE" true
}
host_pip_mounts() {  # build flags: this machine's effective pip settings as PIP_CONFIG_FILE, and the
  [ "$HOST_PIP" = 1 ] || return 0  # folders/files they name (local wheels and indexes, CA bundle, constraints)
  pip3 config list 2>/dev/null | python3 -c '
import re, sys
settings = {}
for line in sys.stdin:  # scope.key=value; the environment (:env:) wins over config files, as in pip
    m = re.match(r"(\S*?)\.([\w-]+)=.(.*).$", line.strip())
    if m and (m[1] == ":env:" or m[2] not in settings):
        settings[m[2]] = m[3]
print("[global]", *(f"{key} = {value}" for key, value in settings.items()), sep="\n")' > "$OUT/host-pip.conf"
  local lent; lent=/run/host-pip/$(sha256sum < "$OUT/host-pip.conf" | cut -c1-12).conf  # other settings, other layers
  printf -- '-v\n%s:%s:ro\n--build-arg\nPIP_CONFIG_FILE=%s\n' "$(realpath "$OUT/host-pip.conf")" "$lent" "$lent"
  grep -oE "(file://)?/[^ ]+" "$OUT/host-pip.conf" | sed -e 's#^file://##' -e 's#/simple$##' | sort -u |
    while read -r path; do [ -e "$path" ] && printf -- '-v\n%s:%s:ro\n' "$path" "$path"; done
}
build() {
  local flags; mapfile -t flags < <(host_pip_mounts)
  [ "$ENGINE" = podman ] && flags+=(--layers)
  flags+=(${BUILD_FLAGS-})  # e.g. --no-cache: the layer cache does not know which pip settings made a layer
  echo "$ENGINE build -f $DOCKERFILE ${BUILD_ARGS[*]} ${flags[*]} -t $IMAGE ."
  nice -n 10 "$ENGINE" ${PODMAN_FLAGS-} build ${RUN_FLAGS-} -f "$DOCKERFILE" "${BUILD_ARGS[@]}" "${flags[@]}" -t "$IMAGE" .
}
serves() {  # the app answers 200 on / through the published port within 180 s
  for _ in $(seq 180); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")" = 200 ] && { echo "HTTP 200 on http://127.0.0.1:$PORT/"; return 0; }
    [ "$(podman inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null)" = true ] || break
    sleep 1
  done
  podman logs "$NAME" | tail -30; return 1
}
start_box() { podman run ${RUN_FLAGS-} $GPU_FLAGS -d --name "$NAME" -p "127.0.0.1:$PORT:7860" -v "$VOLUME:/data" "$IMAGE" && serves; }
restart_box() {  # stopped as `docker stop` does (SIGTERM: the app exits cleanly within 30 s, not killed), removed,
  local code        # and a new container on the same /data volume
  podman stop --time 30 "$NAME" > /dev/null; code=$(podman inspect -f '{{.State.ExitCode}}' "$NAME")
  echo "stopped: exit code $code"; [ "$code" = 0 ] || { podman logs "$NAME" 2>&1 | tail -20; return 1; }
  podman rm "$NAME" > /dev/null && start_box
}
in_box() { podman exec "$NAME" .venv/bin/python -m pipeline "$@"; }
doctor() {  # the backend `auto` picks in the image: hf on a CPU, unsloth on a CUDA GPU
  local summary; summary=$(in_box doctor --json | tee /dev/stderr | tail -1)
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print("backend", d["backend"], "cuda", d["cuda"], "torch", d["versions"]["torch"])
gpu = sys.argv[2] == "unsloth"
assert d["ok"] and d["backend"] == sys.argv[2] and d["cuda"] == gpu, d["backend_reason"]
assert d["versions"]["torch"].endswith("+cpu") != gpu, "torch is the CUDA build in the CPU image" if not gpu else d' "$summary" "$BACKEND"
}
run_listed() { local listing; listing=$(in_box runs --workspace "$WS"); echo "$listing"; grep -q "^$1 .* done " <<< "$listing"; }
clean() { podman rm -f "$NAME" > /dev/null 2>&1 || true; }

step tools tools
if [ "$BASE_IMAGE" = localhost/voicetune-base:bookworm ]; then step base bench/image/base_image.sh "$BASE_IMAGE"; fi
step runtime probe_runtime
step build build
size=$(podman image inspect -f '{{.Size}}' "$IMAGE" | awk '{printf "%.2f GB", $1/1e9}')
echo "image size   $size ($IMAGE)" | tee -a "$OUT/summary.txt"
# When each layer was made (a cached layer keeps its first date): the build's time per Dockerfile step.
podman history --format '{{.CreatedAt}}|{{.Size}}|{{.CreatedBy}}' "$IMAGE" | cut -c1-160 > "$OUT/layers.txt"
clean; podman volume rm -f "$VOLUME" > /dev/null 2>&1 || true
trap clean EXIT
step serve start_box
step doctor doctor
# rule negatives: the default (the base model answering the brief of each DPO pair) is a DPO matter and would
# spend tens of minutes generating on a loaded CPU before the SFT this check is about.
step data in_box data build --input examples/posts.csv --out "$WS/data" --negatives rule --json
step sft in_box train sft --data "$WS/data" --out "$WS/runs/sft-check" --preset quick --max-steps 2 --save-steps 2 --json
step export in_box export --run "$WS/runs/sft-check" --to gguf --quant q8_0 --json
step restart restart_box
step runs_listed run_listed sft-check
podman volume rm -f "$VOLUME" > /dev/null 2>&1 || true
echo "--- summary"; cat "$OUT/summary.txt"
