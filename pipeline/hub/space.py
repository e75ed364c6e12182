"""This app as a Hugging Face Space, with a Space README asking for OAuth sign-in."""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from ..cards import TEMPLATES_DIR, render_card
from ..errors import UserError
from .client import PushResult, check_repo_id, connect, push_folder

PROJECT_ROOT = Path(__file__).resolve().parents[2]

SPACE_OAUTH_SCOPES = ["read-repos", "write-repos", "manage-repos"]

SPACE_FILES = ("app.py", "pipeline/**/*.py", "ui/**/*.py", "ui/**/*.css", "ui/**/*.js", "datasets_cards/*.md",
               "examples/**/*", "requirements-base.txt")

SPACE_MANAGED = ("pipeline/", "ui/", "datasets_cards/", "examples/")


# ----------------------------------------------------------------------------- Space


def space_hardware_choices() -> list[str]:
    from huggingface_hub import SpaceHardware

    return [h.value for h in SpaceHardware]


def space_readme_text(repo_id: str, hardware: str, sdk: str = "gradio", cards_dir: Path = TEMPLATES_DIR) -> str:
    """Render ``space_readme.md``: the SDK, the app, suggested hardware and OAuth sign-in with write scopes."""
    import yaml

    name = repo_id.split("/")[-1]
    runtime = ({"sdk": "gradio", "sdk_version": importlib.metadata.version("gradio"), "python_version": "3.11",
                "app_file": "app.py"} if sdk == "gradio" else {"sdk": "docker", "app_port": 7860})
    metadata = {
        "title": name, "emoji": "🎙️", "colorFrom": "indigo", "colorTo": "pink", **runtime,
        "suggested_hardware": hardware, "hf_oauth": True, "hf_oauth_scopes": SPACE_OAUTH_SCOPES,
        "pinned": False, "license": "apache-2.0",
        "short_description": "Teach an open model one voice with SFT and DPO",
    }
    return render_card("space_readme.md", templates_dir=cards_dir,
                       metadata=yaml.safe_dump(metadata, sort_keys=False, allow_unicode=True).strip(),
                       repo_id=repo_id, title=name, hardware=hardware, sdk=sdk, gpu=not hardware.startswith("cpu"),
                       scopes=SPACE_OAUTH_SCOPES)


def _space_files(project_root: Path, hardware: str, sdk: str) -> dict[str, Path]:
    """``{path in the Space: local file}``: the app, plus how the Space installs it."""
    gpu = not hardware.startswith("cpu")
    files = {path.relative_to(project_root).as_posix(): path
             for pattern in SPACE_FILES for path in sorted(project_root.glob(pattern))
             if path.is_file() and "__pycache__" not in path.parts}
    if sdk == "gradio":  # the Space pip-installs requirements.txt on top of its Gradio image
        files["requirements.txt"] = project_root / ("requirements-gpu.txt" if gpu else "requirements.txt")
    else:  # the Space builds the project's Dockerfile (GPU: Unsloth; CPU: torch's CPU wheel)
        for name in ("Makefile", ".dockerignore", "requirements.txt", "requirements-gpu.txt", "requirements-dev.txt"):
            files[name] = project_root / name
        files["Dockerfile"] = project_root / ("Dockerfile" if gpu else "Dockerfile.cpu")
    missing = [str(path) for path in files.values() if not path.is_file()]
    if missing or "app.py" not in files:
        raise UserError(f"{missing[0] if missing else project_root / 'app.py'} not found; deploy from a VoiceTune checkout.")
    return files


def deploy_space(repo_id: str, hardware: str = "cpu-basic", token: str | None = None, *, sdk: str = "gradio",
                 private: bool = True, cards_dir: Path = TEMPLATES_DIR, project_root: Path = PROJECT_ROOT,
                 log: Callable = print) -> PushResult:
    """Create (or update) a Space running this app, committing only the files that changed.

    ``sdk="gradio"`` runs app.py on Hugging Face's Gradio image with requirements.txt;
    ``sdk="docker"`` builds the project's Dockerfile, which also converts the embedded default
    model into the image. The README suggests ``hardware``: the Space owner picks (and pays for)
    hardware in the Space's settings. A GPU suggestion ships the Unsloth stack, a CPU one the
    transformers stack.
    """
    repo_id = check_repo_id(repo_id)
    if hardware not in space_hardware_choices():
        raise UserError(f"unknown Space hardware {hardware!r}: use one of {', '.join(space_hardware_choices())}.")
    if sdk not in ("gradio", "docker"):
        raise UserError(f"unknown Space sdk {sdk!r}: use gradio or docker.")
    files = _space_files(Path(project_root), hardware, sdk)
    readme = space_readme_text(repo_id, hardware, sdk, cards_dir)
    api = connect(token, repo_id, "space", log)
    with tempfile.TemporaryDirectory(prefix="voicetune-space-") as tmp:
        staging = Path(tmp)
        for name, path in files.items():
            (staging / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, staging / name)
        (staging / "README.md").write_text(readme, encoding="utf-8")
        return push_folder(api, staging, repo_id, "space", title=f"Deploy VoiceTune ({sdk}, {hardware})",
                            private=private, managed=SPACE_MANAGED, space_sdk=sdk, log=log)
