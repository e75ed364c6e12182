"""Deploy the app as a Space on the loopback Hub: files, Space README metadata, idempotent redeploy."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path) -> Path:
    """A small checkout: an app, two library modules, the card templates and the install files."""
    root = tmp_path / "checkout"
    (root / "pipeline").mkdir(parents=True)
    (root / "ui").mkdir()
    (root / "app.py").write_text("import ui.tabs\n")
    (root / "pipeline" / "__init__.py").write_text("")
    (root / "pipeline" / "old.py").write_text("OLD = 1\n")
    (root / "ui" / "tabs.py").write_text("TABS = []\n")
    (root / "ui" / "__pycache__").mkdir()
    (root / "ui" / "__pycache__" / "tabs.cpython-311.pyc").write_bytes(b"\0")
    shutil.copytree(ROOT / "datasets_cards", root / "datasets_cards")
    for name in ("requirements-base.txt", "requirements.txt", "requirements-gpu.txt", "requirements-dev.txt"):
        shutil.copy(ROOT / name, root / name)
    (root / "Makefile").write_text("install:\n")
    (root / ".dockerignore").write_text(".venv\n")
    (root / "Dockerfile").write_text("FROM nvidia/cuda\n")
    (root / "Dockerfile.cpu").write_text("FROM python:3.11-slim\n")
    return root


def test_deploy_gradio_space_then_redeploy_only_changes(hub, project):
    from huggingface_hub import SpaceCard

    from pipeline.hub.space import deploy_space

    result = deploy_space("alice/voicetune", "t4-small", project_root=project, log=lambda *a: None)
    repo = hub.repos[("space", "alice/voicetune")]
    assert result.url == f"{hub.endpoint}/spaces/alice/voicetune" and result.commit == repo.head.sha
    assert repo.sdk == "gradio" and repo.private
    assert {"app.py", "pipeline/old.py", "ui/tabs.py", "datasets_cards/model_card.md", "requirements.txt",
            "requirements-base.txt", "README.md"} <= set(repo.head.files)
    assert not any("__pycache__" in p or p.startswith("Dockerfile") for p in repo.head.files)
    # t4-small is a GPU: the Space installs the Unsloth stack.
    assert hub.file_bytes("space", "alice/voicetune", "requirements.txt") == (project / "requirements-gpu.txt").read_bytes()

    card = SpaceCard.load("alice/voicetune", repo_type="space")
    meta = card.data.to_dict()
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and meta["suggested_hardware"] == "t4-small"
    assert meta["hf_oauth"] is True and "write-repos" in meta["hf_oauth_scopes"]
    assert len(meta["short_description"]) <= 60 and "hf_test" not in card.content

    commits = len(repo.commits)
    assert not deploy_space("alice/voicetune", "t4-small", project_root=project, log=lambda *a: None).changed
    assert len(repo.commits) == commits

    (project / "pipeline" / "old.py").unlink()
    (project / "ui" / "tabs.py").write_text("TABS = ['publish']\n")
    again = deploy_space("alice/voicetune", "t4-small", project_root=project, log=lambda *a: None)
    assert again.changed and set(again.files) == {"ui/tabs.py", "pipeline/old.py"}
    assert repo.head.message == "Deploy VoiceTune (gradio, t4-small): update ui/tabs.py; delete pipeline/old.py"


def test_deploy_docker_space_ships_the_dockerfile_for_the_hardware(hub, project):
    from huggingface_hub import SpaceCard

    from pipeline.hub.space import deploy_space

    deploy_space("alice/vt-docker", "cpu-basic", sdk="docker", private=False, project_root=project, log=lambda *a: None)
    repo = hub.repos[("space", "alice/vt-docker")]
    assert repo.sdk == "docker" and not repo.private
    assert hub.file_bytes("space", "alice/vt-docker", "Dockerfile") == b"FROM python:3.11-slim\n"
    assert {"Makefile", "requirements-dev.txt", ".dockerignore"} <= set(repo.head.files)
    meta = SpaceCard.load("alice/vt-docker", repo_type="space").data.to_dict()
    assert meta["sdk"] == "docker" and meta["app_port"] == 7860 and meta["hf_oauth"] is True


def test_deploy_rejects_unknown_hardware_before_any_request(hub, project):
    from pipeline.errors import UserError
    from pipeline.hub.space import deploy_space

    with pytest.raises(UserError, match="unknown Space hardware 'h100-please': use one of cpu-basic"):
        deploy_space("alice/voicetune", "h100-please", project_root=project, log=lambda *a: None)
    assert hub.requests == []


def test_cli_deploys_this_checkout(hub):
    from conftest import last_json, run_cli

    proc = run_cli("deploy-space", "--repo", "alice/voicetune-live", "--hardware", "cpu-basic", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = last_json(proc.stdout)
    repo = hub.repos[("space", "alice/voicetune-live")]
    assert summary["url"] == f"{hub.endpoint}/spaces/alice/voicetune-live" and summary["commit"] == repo.head.sha
    assert {"app.py", "pipeline/hub/client.py", "README.md"} <= set(repo.head.files)
    assert hub.file_bytes("space", "alice/voicetune-live", "requirements.txt") == (ROOT / "requirements.txt").read_bytes()
