#!/usr/bin/env bash
# CI: requirements-gpu.txt must resolve for the GPU image's platform (Linux x86_64, CPython 3.11, wheels
# only) without installing anything: a pin that cannot co-install (unsloth's bounds on transformers /
# trl / datasets, xformers' torch pin) fails here, not at `docker build`.
#
# How it stays small: PyPI's JSON/simple API here serves no PEP 658 `.metadata` files for these wheels,
# so a plain `pip install --dry-run` would download every wheel in full (torch 527 MB plus the CUDA 13
# libraries, GBs). `--use-feature=fast-deps` reads each wheel's METADATA with HTTP range requests
# instead; pip 26.3 (a throwaway venv, so the project's pip is untouched) does not download the wheels
# afterwards in --dry-run. The script fails if pip reports downloading more than LIMIT_MB in full.
# Machine-level pip settings (find-links, constraints, local indexes) are ignored: --isolated, the default index only.
set -euo pipefail
cd "$(dirname "$0")/.."
LIMIT_MB=${LIMIT_MB:-100}
TOOLS=${TOOLS:-.cache/ci-pip}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export PIP_CONFIG_FILE=/dev/null PIP_DISABLE_PIP_VERSION_CHECK=1
[ -x "$TOOLS/bin/pip" ] || { python3 -m venv "$TOOLS" && "$TOOLS/bin/pip" install -q --isolated pip==26.3; }
# pip takes --platform tags literally: list every manylinux tag a glibc 2.28 x86_64 system accepts.
PLATFORMS=()
for minor in $(seq 28 -1 17); do PLATFORMS+=(--platform "manylinux_2_${minor}_x86_64"); done
PLATFORMS+=(--platform manylinux2014_x86_64)
start=$(date +%s)
"$TOOLS/bin/pip" install --isolated --dry-run --ignore-installed \
  --target "$WORK/target" --report "$WORK/report.json" --use-feature=fast-deps --progress-bar off \
  "${PLATFORMS[@]}" --python-version 3.11 --implementation cp \
  --only-binary :all: -r requirements-gpu.txt -v > "$WORK/pip.log" 2>&1 || { tail -20 "$WORK/pip.log"; exit 1; }
python3 - "$WORK/report.json" "$WORK/pip.log" "$LIMIT_MB" "$(( $(date +%s) - start ))" <<'PY'
import json, re, sys
report, log, limit, seconds = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), float(sys.argv[3]), sys.argv[4]
got = {i["metadata"]["name"].lower().replace("_", "-"): i["metadata"]["version"] for i in report["install"]}
want = {"torch": "2.13.0", "unsloth": "2026.10.9", "unsloth-zoo": "2026.10.9", "trl": "1.15.0",
        "transformers": "5.17.0", "bitsandbytes": "0.50.2", "peft": "0.21.2", "datasets": "4.8.5"}
bad = {k: (v, got.get(k)) for k, v in want.items() if got.get(k) != v}
cuda = sorted(k for k in got if k.startswith(("nvidia-", "cuda-")))
units = {"kB": 1e-3, "MB": 1, "GB": 1e3}
full = sum(float(n) * units[u] for n, u in re.findall(r"Downloading \S+\.whl \(([\d.]+) (kB|MB|GB)\)", log))
print(f"requirements-gpu.txt: {len(got)} packages resolve for manylinux x86_64 / CPython 3.11 in {seconds} s; "
      f"torch {got.get('torch')} with {len(cuda)} CUDA packages ({', '.join(cuda[:4])}...), xformers "
      f"{got.get('xformers')}, triton {got.get('triton')}, torchvision {got.get('torchvision')}; "
      f"{full:.0f} MB of whole wheels downloaded")
assert not bad, f"pins that did not resolve as written: {bad}"
assert cuda, "torch resolved without its CUDA libraries: not the CUDA build"
assert full <= limit, f"pip downloaded {full:.0f} MB of wheels in full (limit {limit:.0f} MB)"
PY
