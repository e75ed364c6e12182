"""A project folder: the data a user built and the runs they trained.

    <root>/
      project.json          name, base model, created
      data/                 the dataset builder's output (sft/, dpo/, report.json, README.md)
      preferences.jsonl     human picks from Compare (prompt/chosen/rejected), append-only
      runs/<name>/          one training run: config.json, metrics.jsonl, adapter/, eval.json,
                            checkpoints/, log.txt, status.json

Names of projects and runs are validated so that no name can reach outside the folder.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .fsio import atomic_write_json, read_json, read_jsonl

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def voicetune_home() -> Path:
    """The cache folder: ``$VOICETUNE_HOME``, else ``~/.cache/voicetune``."""
    return Path(os.environ.get("VOICETUNE_HOME") or Path.home() / ".cache" / "voicetune")


def validate_name(name: str, what: str = "run name") -> str:
    """Return ``name`` if it is a safe folder name, else raise UserError saying what is allowed."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or ".." in name:
        raise UserError(
            f"invalid {what} {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no '/', no '..')."
        )
    return name


@dataclass(frozen=True)
class Run:
    """One training run folder."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.json"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def adapter_dir(self) -> Path:
        return self.path / "adapter"

    @property
    def eval_path(self) -> Path:
        return self.path / "eval.json"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    def config(self) -> dict:
        return read_json(self.config_path, missing="is this a VoiceTune run folder?")

    def status(self) -> dict:
        """The run's last recorded status (``{"state": "none"}`` before it started)."""
        return read_json(self.status_path, missing="is this a VoiceTune run folder?") if self.status_path.exists() else {"state": "none"}

    def set_status(self, state: str, **fields) -> None:
        atomic_write_json(self.status_path, {"state": state, "updated": time.time(), **fields})

    def metrics(self) -> list[dict]:
        return read_jsonl(self.metrics_path, skip_torn_tail=True) if self.metrics_path.exists() else []

    def has_adapter(self) -> bool:
        return (self.adapter_dir / "adapter_config.json").is_file()


class Workspace:
    """A project folder (created on first use)."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root).expanduser().resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    @property
    def preferences_path(self) -> Path:
        return self.root / "preferences.jsonl"

    def run(self, name: str) -> Run:
        """The run folder called ``name`` (validated; not created)."""
        return Run(self.runs_dir / validate_name(name))

    def runs(self) -> list[Run]:
        """All runs, oldest first."""
        if not self.runs_dir.is_dir():
            return []
        runs = [Run(p) for p in self.runs_dir.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)]
        return sorted(runs, key=lambda r: (r.path.stat().st_mtime, r.name))

    def new_run_name(self, prefix: str) -> str:
        """``prefix-1``, ``prefix-2``, ...: the first name not taken yet."""
        validate_name(prefix)
        taken = {r.name for r in self.runs()}
        n = 1
        while f"{prefix}-{n}" in taken:
            n += 1
        return f"{prefix}-{n}"

