"""Reading a data folder's ``sft/`` and ``dpo/`` splits, checked against the TRL formats.

SFT rows are TRL conversational ``{"messages": [...]}``; they are turned into TRL's conversational
prompt-completion form (prompt = every turn before the last assistant turn, completion = that turn),
so the loss falls on the assistant reply alone with any chat template (SmolLM2's has no
``{% generation %}`` markers, which TRL's ``assistant_only_loss`` needs). DPO rows are TRL
conversational preference ``{"prompt", "chosen", "rejected"}``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import UserError
from ..fsio import read_jsonl

SFT_FORMAT = '{"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}'
DPO_FORMAT = ('{"prompt": [{"role": "user", "content": ...}], "chosen": [{"role": "assistant", "content": ...}], '
              '"rejected": [{"role": "assistant", "content": ...}]}')
ROLES = ("system", "user", "assistant")


def split_path(data_dir: str | Path, kind: str, split: str) -> Path:
    return Path(data_dir) / kind / f"{split}.jsonl"


def _check_messages(value, path: Path, line: int, field: str, expected: str) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise UserError(f"{path}:{line}: field {field!r} must be a non-empty list of messages; expected TRL format {expected}.")
    for message in value:
        if (not isinstance(message, dict) or message.get("role") not in ROLES
                or not isinstance(message.get("content"), str)):
            raise UserError(f"{path}:{line}: field {field!r} has a message without a valid role "
                            f"({'/'.join(ROLES)}) and string content; expected TRL format {expected}.")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _read_rows(path: Path, kind: str, required: bool) -> list[dict]:
    if not path.is_file():
        if required:
            raise UserError(f"{path}: not found; build the dataset first (Dataset tab or `python -m pipeline data "
                            f"build`), or point --data at a folder with {kind}/train.jsonl.")
        return []
    rows = read_jsonl(path)
    if required and not rows:
        raise UserError(f"{path}: the file is empty; it needs at least one example.")
    return rows


def load_sft_rows(data_dir: str | Path, split: str = "train", required: bool = True) -> list[dict]:
    """SFT examples as ``{"prompt": [...], "completion": [assistant message]}``."""
    path = split_path(data_dir, "sft", split)
    out = []
    for line, row in enumerate(_read_rows(path, "sft", required), start=1):
        if "messages" not in row:
            raise UserError(f"{path}:{line}: no 'messages' field (found {', '.join(sorted(row)) or 'nothing'}); "
                            f"expected TRL conversational format {SFT_FORMAT}.")
        messages = _check_messages(row["messages"], path, line, "messages", SFT_FORMAT)
        last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
        if last is None or last == 0:
            raise UserError(f"{path}:{line}: 'messages' needs a user turn followed by an assistant turn; "
                            f"expected {SFT_FORMAT}.")
        out.append({"prompt": messages[:last], "completion": [messages[last]]})
    return out


def _dpo_row(row: dict, path: Path, line: int) -> dict:
    missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
    if missing:
        raise UserError(f"{path}:{line}: missing field(s) {', '.join(missing)}; expected TRL conversational "
                        f"preference format {DPO_FORMAT}.")
    pair = {k: _check_messages(row[k], path, line, k, DPO_FORMAT) for k in ("prompt", "chosen", "rejected")}
    if pair["chosen"] == pair["rejected"]:
        raise UserError(f"{path}:{line}: chosen == rejected (the same answer twice teaches nothing); remove that pair "
                        "or give it a different rejected answer.")
    return pair


def load_dpo_rows(data_dir: str | Path, split: str = "train", required: bool = True) -> list[dict]:
    """DPO pairs as TRL conversational preference rows."""
    path = split_path(data_dir, "dpo", split)
    return [_dpo_row(row, path, line) for line, row in enumerate(_read_rows(path, "dpo", required), start=1)]


def load_human_picks(preferences_path: str | Path) -> list[dict]:
    """Human picks from Compare (same format plus ``source``/``time``, which are dropped)."""
    path = Path(preferences_path)
    if not path.is_file():
        return []
    return [_dpo_row(row, path, line) for line, row in enumerate(read_jsonl(path), start=1)]


def fingerprint(data_dir: str | Path, kind: str) -> str:
    """A short hash of the split files training reads (recorded in the run's config)."""
    digest = hashlib.sha256()
    for split in ("train", "validation"):
        path = split_path(data_dir, kind, split)
        if path.is_file():
            digest.update(split.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def drop_too_long(rows: list[dict], lengths: list[int], max_length: int, path: Path) -> tuple[list[dict], int]:
    """Keep rows whose tokenised length fits; if none fits, say so and how to fix it."""
    kept = [r for r, n in zip(rows, lengths) if n <= max_length]
    if rows and not kept:
        raise UserError(f"{path}: every example is longer than max_length={max_length} tokens (shortest: "
                        f"{min(lengths)}); raise --max-length or shorten the examples.")
    return kept, len(rows) - len(kept)
