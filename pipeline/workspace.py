"""A project folder: the data a user built and the runs they trained.

    <root>/
      project.json          name, the base model last chosen in the page
      data/                 the dataset builder's output (sft/, dpo/, report.json, README.md)
      preferences.jsonl     human picks from Compare (prompt/chosen/rejected), append-only
      uploads/              files uploaded in the app (the only files a tab reads from the user)
      runs/<name>/          one training run: config.json, metrics.jsonl, adapter/, eval.json,
                            checkpoints/, log.txt, status.json, job.json; eval-status.json and
                            eval-log.txt while and after it is evaluated

This module owns the run-folder contract: every other module reads a run through :class:`Run`
(``kind``, ``parent``, ``base_model``, ``chain()``...), never by spelling ``config.json`` keys.
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
    """One training run folder.

    ``config.json`` is written by training (:func:`pipeline.train.common.write_config`) or by a Hub
    pull; ``job.json`` by the job runner while the run is queued or running.
    """

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
    def eval_status_path(self) -> Path:
        """An evaluation's progress and state (``pipeline.evaluate.job``), apart from training's status.json."""
        return self.path / "eval-status.json"

    @property
    def eval_log_path(self) -> Path:
        return self.path / "eval-log.txt"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def log_path(self) -> Path:
        return self.path / "log.txt"

    @property
    def status_path(self) -> Path:
        return self.path / "status.json"

    @property
    def job_path(self) -> Path:
        return self.path / "job.json"

    def config(self) -> dict:
        return read_json(self.config_path, missing="is this a VoiceTune run folder?")

    def job(self) -> dict:
        """The runner's record of the job (``kind``, ``argv``, ``pid``...); ``{}`` when there is none."""
        return read_json(self.job_path, missing="the job runner writes it.") if self.job_path.is_file() else {}

    def is_run(self) -> bool:
        """Whether the folder holds a run's config: a ``kind`` and a ``base_model`` (a model folder's
        ``config.json`` has neither)."""
        try:
            config = self.config() if self.config_path.is_file() else {}
        except UserError:  # not JSON: some other folder's config.json
            return False
        return isinstance(config, dict) and isinstance(config.get("kind"), str) and "base_model" in config

    @property
    def kind(self) -> str | None:
        """The run's kind (``sft``, ``dpo``: pipeline.train.settings.KINDS): from config.json once training
        started, from job.json while queued."""
        if self.config_path.is_file():
            return self.config().get("kind")
        return self.job().get("kind")

    @property
    def parent_path(self) -> Path | None:
        """Where config.json says the parent run is (not checked; see :attr:`parent`)."""
        parent = self.config().get("parent") if self.config_path.is_file() else None
        return Path(parent) if parent else None

    @property
    def parent(self) -> "Run | None":
        """The run this one was trained on top of (a DPO run's SFT run), or None; missing -> UserError."""
        parent = self.parent_path
        if parent is None:
            return None
        if not parent.is_dir():
            raise UserError(f"{self.config_path}: parent run {parent} is missing; restore it or pick another run.")
        return Run(parent.resolve())

    @property
    def base_model(self) -> str | None:
        """The base model spec training was given (``default``, a folder or a Hub id); None if not recorded."""
        return self.config().get("base_model")

    @property
    def base_model_path(self) -> Path | None:
        """The folder the base model was loaded from, as resolved by training (None if not recorded)."""
        path = self.config().get("base_model_path")
        return Path(path) if path else None

    @property
    def settings(self) -> dict:
        """The training settings recorded in config.json (``{}`` when none were recorded)."""
        return self.config().get("settings") or {}

    @property
    def data_dir(self) -> Path | None:
        """The data folder training read (None when not recorded, e.g. a pulled run)."""
        folder = (self.config().get("data") or {}).get("dir")
        return Path(folder) if folder else None

    def chain(self) -> list["Run"]:
        """This run and the runs it stacks on, root first (``[sft, dpo]`` for a DPO run)."""
        chain: list[Run] = []
        current: Run | None = self
        while current is not None:
            if current.path in {r.path for r in chain}:
                raise UserError(f"{chain[-1].config_path}: 'parent' loops back to {current.path}; fix the run's config.")
            chain.append(current)
            current = current.parent
        return chain[::-1]

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

    @property
    def uploads_dir(self) -> Path:
        """Files uploaded in the app (type- and size-checked copies)."""
        return self.root / "uploads"

    @property
    def project_path(self) -> Path:
        return self.root / "project.json"

    @property
    def base_model(self) -> str | None:
        """The base model last chosen for this project (the page restores it on reload); None if never."""
        if not self.project_path.is_file():
            return None
        return read_json(self.project_path, missing="the page writes it.").get("base_model")

    def choose_base_model(self, spec: str) -> None:
        """Record ``spec`` as the project's base model in project.json (kept with its other fields)."""
        project = read_json(self.project_path, missing="") if self.project_path.is_file() else {}
        atomic_write_json(self.project_path, {**project, "name": self.root.name, "base_model": spec})

    @classmethod
    def of_run(cls, run: Run) -> "Workspace":
        """The workspace holding ``run`` (a run lives in ``<workspace>/runs/<name>``)."""
        return cls(run.path.parent.parent)

    def run(self, name: str) -> Run:
        """The run folder called ``name`` (validated; not created)."""
        return Run(self.runs_dir / validate_name(name))

    def runs(self, kind: str | None = None, with_adapter: bool = False) -> list[Run]:
        """The runs, oldest first; ``kind`` keeps one kind (``sft``/``dpo``), ``with_adapter`` finished ones."""
        if not self.runs_dir.is_dir():
            return []
        runs = [Run(p) for p in self.runs_dir.iterdir() if p.is_dir() and NAME_PATTERN.match(p.name)]
        runs = [r for r in runs if (not with_adapter or r.has_adapter()) and (kind is None or _kind_or_none(r) == kind)]
        return sorted(runs, key=lambda r: (r.path.stat().st_mtime, r.name))

    def new_run_name(self, prefix: str) -> str:
        """``prefix-1``, ``prefix-2``, ...: the first name not taken yet."""
        validate_name(prefix)
        taken = {r.name for r in self.runs()}
        n = 1
        while f"{prefix}-{n}" in taken:
            n += 1
        return f"{prefix}-{n}"



def _kind_or_none(run: Run) -> str | None:
    try:
        return run.kind
    except UserError:  # a torn or foreign config.json: not a run of any kind
        return None
