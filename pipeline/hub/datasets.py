"""A data folder on the Hub: its SFT and DPO splits as Parquet configs, and its dataset card."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..fsio import read_jsonl
from .client import PushResult, check_repo_id, connect, push_folder

SPLITS = ("train", "validation", "test")

DATASET_COLUMNS = {"sft": ("messages",), "dpo": ("prompt", "chosen", "rejected")}


# ----------------------------------------------------------------------------- datasets


def dataset_splits(data_dir: Path) -> dict[str, dict[str, Path]]:
    """``{"sft": {"train": path, ...}, "dpo": {...}}`` for the non-empty splits the data folder has
    (the builder writes every split file, empty ones included)."""
    def has_rows(path: Path) -> bool:
        return path.is_file() and bool(path.read_text(encoding="utf-8").strip())

    found = {config: {split: data_dir / config / f"{split}.jsonl" for split in SPLITS
                      if has_rows(data_dir / config / f"{split}.jsonl")}
             for config in DATASET_COLUMNS}
    found = {config: splits for config, splits in found.items() if splits}
    if not found:
        raise UserError(f"{data_dir}: no sft/*.jsonl or dpo/*.jsonl splits; build the dataset first "
                        "(python -m pipeline data build) or pass the data folder.")
    return found


def _write_parquet(path: Path, config: str, out: Path) -> int:
    from datasets import Dataset

    rows = read_jsonl(path)
    for number, row in enumerate(rows, start=1):
        missing = [c for c in DATASET_COLUMNS[config] if not isinstance(row.get(c), list)]
        if missing:
            raise UserError(f"{path}: row {number} has no {missing[0]!r} list of messages; rebuild the dataset.")
    try:
        Dataset.from_list(rows).to_parquet(str(out))
    except Exception as e:  # pyarrow type clashes between rows
        raise UserError(f"{path}: rows do not share one schema ({type(e).__name__}: {str(e)[:120]}); "
                        "rebuild the dataset.") from None
    return len(rows)


def dataset_card_text(data_dir: Path, splits: dict[str, dict[str, Path]]) -> str:
    """The data folder's README.md (rendered again from report.json if it is missing) with ``configs``
    pointing at the Parquet files we upload."""
    from huggingface_hub import DatasetCard

    readme = data_dir / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else _card_from_report(data_dir)
    try:
        card = DatasetCard(text)
    except Exception as e:  # bad YAML front matter
        raise UserError(f"{readme}: the card's YAML metadata does not parse ({str(e).splitlines()[0]}); fix it or "
                        "rebuild the dataset.") from None
    card.data["configs"] = [
        {"config_name": config, "data_files": [{"split": split, "path": f"{config}/{split}-*.parquet"} for split in found]}
        for config, found in splits.items()
    ]
    return str(card)


def _card_from_report(data_dir: Path) -> str:
    """Render the dataset card again from ``report.json`` (for a data folder whose README.md was lost)."""
    from dataclasses import fields

    from ..data.build import BuildReport, BuildSettings
    from ..data.card import render_dataset_card

    report_path = data_dir / "report.json"
    if not report_path.is_file():
        raise UserError(f"{data_dir / 'README.md'}: no dataset card (and no report.json to render one from); "
                        "rebuild the dataset or write a README.md there.")
    try:
        report = BuildReport(**json.loads(report_path.read_text(encoding="utf-8")))
        names = {f.name for f in fields(BuildSettings)} - {"teacher", "cache_dir"}
        settings = BuildSettings(**{k: v for k, v in report.settings.items() if k in names})
    except (TypeError, ValueError) as e:
        raise UserError(f"{report_path}: not a report this version can render a card from ({e}); rebuild the "
                        "dataset.") from None
    return render_dataset_card(report, settings)


def push_dataset(data_dir: str | os.PathLike, repo_id: str, *, private: bool = True, token: str | None = None,
                 log: Callable = print) -> PushResult:
    """Push a data folder's SFT and DPO splits (one config each, Parquet) and its card to a dataset repo."""
    repo_id = check_repo_id(repo_id)
    data_dir = Path(data_dir).expanduser().resolve()
    splits = dataset_splits(data_dir)
    card = dataset_card_text(data_dir, splits)
    api = connect(token, repo_id, "dataset", log)
    with tempfile.TemporaryDirectory(prefix="voicetune-push-") as tmp:
        staging = Path(tmp)
        counts = []
        for config, found in splits.items():
            (staging / config).mkdir()
            for split, path in found.items():
                counts.append(f"{config}/{split} {_write_parquet(path, config, staging / config / f'{split}-00000-of-00001.parquet')}")
        (staging / "README.md").write_text(card, encoding="utf-8")
        log(f"Dataset rows: {', '.join(counts)}")
        return push_folder(api, staging, repo_id, "dataset", title=f"Dataset from {data_dir.name}", private=private,
                            managed=tuple(f"{c}/" for c in DATASET_COLUMNS), log=log)
