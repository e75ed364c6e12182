# VoiceTune studio, GPU image: CUDA + Unsloth backend (requirements-gpu.txt).
#   docker build -t voicetune-gpu .
#   docker run --gpus all -p 7860:7860 -v voicetune-data:/data voicetune-gpu
# The install steps are the Makefile's (`make install`, `make llama`, `make model`), the same ones CI runs.
#
# CUDA 13, on purpose: torch==2.13.0 from PyPI is the CUDA 13 build (it brings its CUDA 13 libraries as
# nvidia-*-cu13 / cuda-toolkit wheels), and unsloth's xformers and torchvision from PyPI are built
# against it; .ci/check_gpu_requirements.sh resolves exactly that set. The base image matches it, so
# the NVIDIA container runtime refuses to start the image on a host whose driver is too old
# (NVIDIA_REQUIRE_CUDA=cuda>=13.0) instead of torch silently falling back to the CPU.
# Driver floor: NVIDIA >= 580. On an older driver, `python -m pipeline doctor` and the app's header say so.
# BASE_IMAGE: another base with python3.11 in its apt sources (e.g. a Debian bookworm one) builds the
# same steps on a machine without the CUDA image; torch then still brings its CUDA libraries as wheels.
ARG BASE_IMAGE=nvidia/cuda:13.0.1-cudnn-devel-ubuntu22.04
FROM ${BASE_IMAGE}

ARG DEBIAN_FRONTEND=noninteractive
# Python 3.11 (Ubuntu 22.04 universe), make for the Makefile, a C compiler for Triton's launchers, and
# cmake for llama.cpp (`make llama`).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3.11 python3.11-venv python3.11-dev build-essential make cmake \
    && rm -rf /var/lib/apt/lists/*

# Non-root, uid 1000 (what Hugging Face Spaces run as). /data is the volume: HF cache + projects.
RUN useradd --create-home --uid 1000 voicetune && mkdir -p /data /app && chown voicetune:voicetune /data /app
ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HOME=/data/huggingface \
    VOICETUNE_PROJECTS=/data/projects \
    VOICETUNE_HOME=/app/.cache/voicetune \
    HF_HUB_DISABLE_TELEMETRY=1 \
    GRADIO_ANALYTICS_ENABLED=False \
    GRADIO_SERVER_NAME=0.0.0.0 \
    GRADIO_SERVER_PORT=7860
USER 1000:1000
WORKDIR /app

# Dependencies first (a code change does not reinstall them): `make install` with the GPU requirements.
# PIP_CONFIG_FILE (unset by default): pip settings a build machine lends the install steps (its local
# wheels); as a build argument it is part of the layer cache key, so layers made with other settings are not reused.
ARG PIP_CONFIG_FILE
COPY --chown=voicetune:voicetune Makefile requirements-base.txt requirements.txt requirements-gpu.txt requirements-dev.txt ./
RUN make install PYTHON=python3.11 REQUIREMENTS=requirements-gpu.txt DEV_REQUIREMENTS=

# llama.cpp for Export (GGUF, Ollama), a CPU build: conversion and quantisation need no GPU. For any
# x86-64-v3 CPU (not -march=native: the image runs on other machines than the one that built it). The sdist
# and the built wheel stay in a build cache, so a rebuild after a requirements change does not compile again.
RUN --mount=type=cache,target=/home/voicetune/.cache/voicetune-build,uid=1000,gid=1000 \
    make llama PYTHON=python3.11 REQUIREMENTS=requirements-gpu.txt DEV_REQUIREMENTS= LLAMA_CMAKE_ARGS="-DLLAVA_BUILD=OFF -DGGML_NATIVE=OFF"

# The embedded default model, converted once at build time into the image (`make model`).
COPY --chown=voicetune:voicetune pipeline ./pipeline
RUN make model PYTHON=python3.11 REQUIREMENTS=requirements-gpu.txt DEV_REQUIREMENTS=

COPY --chown=voicetune:voicetune . .
VOLUME ["/data"]
EXPOSE 7860
CMD [".venv/bin/python", "app.py"]
