"""What an export starts from: a run's base model and the adapters that make its policy.

A DPO run exports base + SFT + DPO (its adapter holds only the delta trained on top of its SFT
parent); an SFT run exports base + SFT. The run's adapter chain comes from
:func:`pipeline.adapters.resolve_column`, the same reading Compare uses.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..fsio import read_jsonl


@dataclass(frozen=True)
class ExportSource:
    """A run's policy as base + adapters, and what the export needs to describe it."""

    run_dir: Path
    name: str
    kind: str
    """``sft`` or ``dpo`` (``sft`` for a bare adapter folder)."""
    base_spec: str
    base_path: Path
    base_id: str | None
    """The base model's Hub id when known (``default`` or a Hub id), else None (a local folder)."""
    adapters: tuple[tuple[str, Path], ...]
    """``(name, folder)`` in training order: ``sft`` then ``dpo``."""
    system: str | None
    """The system prompt the training data used (most examples had it), else None."""
    four_bit: bool = False
    """The run trained on a 4-bit NF4 base: merges go into that dequantised base (the weights it trained on)."""


def resolve_source(run_dir: str | Path, base_model_id: str | None = None, log: Callable = print) -> ExportSource:
    """The base and adapters of ``run_dir`` (a run folder or an adapter folder); UserError if it has no adapter."""
    from ..adapters import base_model_id as hub_base_id
    from ..adapters import check_base, resolve_column, trained_4bit
    from ..models import DEFAULT_SPEC, check_repo_id, resolve_model_path
    from ..workspace import Run

    path = Path(run_dir).expanduser()
    if not path.is_dir():
        raise UserError(f"{path}: no such run folder; pick a run under runs/ (python -m pipeline runs --workspace DIR).")
    column = resolve_column(str(path), log=log)
    base_spec = column.base_model or next((ref.base_model for ref in column.adapters if ref.base_model), None) \
        or DEFAULT_SPEC
    base_path = resolve_model_path(base_spec, log=log)
    for ref in column.adapters:
        check_base(ref, base_spec, base_path)
    run = Run(path.resolve())
    is_run = run.is_run()
    if is_run:  # a run's adapters are its chain's, one per run: named by their kinds (sft, dpo, grpo)
        names = [link.kind or "sft" for link in run.chain()]
    else:
        names = [column.kind or "sft"] if len(column.adapters) == 1 else [f"adapter{i}" for i in range(len(column.adapters))]
    base_id = check_repo_id(base_model_id) if base_model_id else hub_base_id(run) if is_run else None
    data_dir = run.data_dir if is_run else None
    return ExportSource(run.path, run.name, column.kind or "sft", base_spec, base_path, base_id,
                        tuple(zip(names, (ref.path for ref in column.adapters))),
                        training_system_prompt(data_dir) if data_dir else None, is_run and trained_4bit(run))


def training_system_prompt(data_dir: Path) -> str | None:
    """The system prompt most SFT training examples start with (None if under half have one, or no data)."""
    path = data_dir / "sft" / "train.jsonl"
    if not path.is_file():
        return None
    rows = read_jsonl(path)
    systems = Counter(m[0]["content"] for m in (r.get("messages") or [] for r in rows)
                      if m and m[0].get("role") == "system" and m[0].get("content"))
    if not systems:
        return None
    system, count = systems.most_common(1)[0]
    return system if count * 2 >= len(rows) else None
