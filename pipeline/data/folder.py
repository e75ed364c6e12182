"""The data folder contract: the reading side of :func:`pipeline.data.build.write_folder`.

    <data>/
      sft/{train,validation,test}.jsonl   TRL conversational {"messages": [...]}
      dpo/{train,validation,test}.jsonl   TRL preference {"prompt", "chosen", "rejected"}
      posts.jsonl                         every kept post with its score, gold flag, brief and split
      report.json, README.md              the build report and the dataset card

Training, evaluation, Compare and the app read a data folder only through :class:`DataFolder`, so
one set of rules decides what a valid row is:

* SFT rows become TRL's conversational prompt-completion form (prompt = every turn before the last
  assistant turn, completion = that turn), so the loss falls on the reply alone with any chat template.
* Preference rows may be conversational (lists of messages) or TRL's standard form (plain strings,
  read as one user / assistant message); ``chosen == rejected`` is refused (it teaches nothing and
  scores a margin of 0). Human picks from Compare (``preferences.jsonl``) follow the same rules.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError
from ..fsio import read_json, read_jsonl

SPLITS = ("train", "validation", "test")
SFT_FORMAT = '{"messages": [{"role": "user", "content": ...}, {"role": "assistant", "content": ...}]}'
DPO_FORMAT = ('{"prompt": [{"role": "user", "content": ...}], "chosen": [{"role": "assistant", "content": ...}], '
              '"rejected": [{"role": "assistant", "content": ...}]}')
ROLES = ("system", "user", "assistant")
CARVED_SHARE = 0.1
"""With no held-out split, this share of ``dpo/train.jsonl`` (seeded) is evaluated, with a notice."""


@dataclass(frozen=True)
class DataFolder:
    """A data folder written by the dataset builder (or any folder with TRL-format splits)."""

    path: Path

    def split_path(self, kind: str, split: str) -> Path:
        """``sft/train.jsonl`` and friends (``kind``: ``sft`` or ``dpo``)."""
        return Path(self.path) / kind / f"{split}.jsonl"

    @property
    def posts_path(self) -> Path:
        return Path(self.path) / "posts.jsonl"

    @property
    def report_path(self) -> Path:
        return Path(self.path) / "report.json"

    def has_dataset(self) -> bool:
        """Whether there is anything to train on (an SFT or a DPO training split)."""
        return self.split_path("sft", "train").is_file() or self.split_path("dpo", "train").is_file()

    def count(self, kind: str, split: str) -> int:
        """Rows in one split file (0 when it is missing)."""
        path = self.split_path(kind, split)
        return sum(1 for line in path.open(encoding="utf-8") if line.strip()) if path.is_file() else 0

    def sft_examples(self, split: str = "train", required: bool = True) -> list[dict]:
        """SFT examples as ``{"prompt": [...], "completion": [assistant message]}``."""
        path = self.split_path("sft", split)
        return [sft_example(row, path, line) for line, row in enumerate(_rows(path, "sft", required), start=1)]

    def pairs(self, split: str = "train", required: bool = True) -> list[dict]:
        """Preference pairs as TRL conversational rows."""
        path = self.split_path("dpo", split)
        return [preference_pair(row, path, line) for line, row in enumerate(_rows(path, "dpo", required), start=1)]

    def posts(self) -> list[dict]:
        """The rows of ``posts.jsonl`` (``[]`` when the folder has none)."""
        return read_jsonl(self.posts_path) if self.posts_path.is_file() else []

    def report(self) -> dict:
        """The build report (``report.json``)."""
        return read_json(self.report_path, missing="build the dataset again (Dataset tab or `python -m pipeline data build`).")

    def briefs(self, split: str) -> list[str]:
        """The user turns (briefs) of an SFT split, for Compare's "a held-out brief"."""
        return [next(m["content"] for m in reversed(e["prompt"]) if m["role"] == "user")
                for e in self.sft_examples(split, required=False)]

    def fingerprint(self, kind: str, extra: tuple[Path, ...] = ()) -> str:
        """A short hash of the split files training reads (and ``extra`` files, e.g. human picks),
        recorded in the run's config so a run can tell which data it saw."""
        digest = hashlib.sha256()
        files = [(split, self.split_path(kind, split)) for split in ("train", "validation")]
        for name, path in [*files, *((p.name, p) for p in extra)]:
            if path.is_file():
                digest.update(name.encode())
                digest.update(path.read_bytes())
        return digest.hexdigest()[:16]

    def held_out_pairs(self, split: str, seed: int, notices: list[str]) -> tuple[list[dict], dict]:
        """The pairs an evaluation scores and where they came from: ``dpo/{split}.jsonl``, else the
        other held-out split, else a seeded 10% of train (``notices`` says what was substituted)."""
        if not Path(self.path).is_dir():
            raise UserError(f"{self.path}: data folder not found; build the dataset first or pass --data DIR.")
        for name in dict.fromkeys((split, "validation", "test")):
            rows = self.pairs(name, required=False)
            if rows:
                if name != split:
                    notices.append(f"no dpo/{split}.jsonl in {self.path}; evaluating on dpo/{name}.jsonl instead.")
                return rows, {"name": name, "source": str(self.split_path("dpo", name)), "made": False}
        train = self.split_path("dpo", "train")
        if not train.is_file():
            raise UserError(f"{self.path}: no dpo/{split}.jsonl, dpo/validation.jsonl or dpo/train.jsonl; point --data "
                            f"at a folder with TRL-format dpo/{split}.jsonl.")
        rows = self.pairs("train")
        order = list(range(len(rows)))
        random.Random(seed).shuffle(order)
        keep = sorted(order[:max(1, int(len(rows) * CARVED_SHARE))])
        notices.append(f"no held-out split in {self.path}: made one from {len(keep)} of the {len(rows)} pairs of "
                       f"dpo/train.jsonl (seed {seed}); the runs trained on them, so the margins are optimistic. "
                       "Build the dataset with a test split for a fair evaluation.")
        return [rows[i] for i in keep], {"name": "train", "source": str(train), "made": True, "rows": keep, "seed": seed}

    def held_out_examples(self, split: str, pairs: list[dict], notices: list[str]) -> list[dict]:
        """SFT examples for perplexity: ``sft/{split}.jsonl``, else the chosen posts of ``pairs``."""
        rows = self.sft_examples(split, required=False) if split != "train" else []
        if rows:
            return rows
        notices.append(f"no sft/{split}.jsonl: perplexity is measured on the chosen posts of the held-out pairs.")
        return [{"prompt": p["prompt"], "completion": p["chosen"]} for p in pairs]


def read_pairs(path: str | Path) -> list[dict]:
    """Preference rows from any JSONL file (e.g. ``preferences.jsonl``; extra fields are dropped)."""
    path = Path(path)
    return [preference_pair(row, path, line) for line, row in enumerate(read_jsonl(path), start=1)] if path.is_file() else []


def sft_example(row: dict, path: Path, line: int) -> dict:
    """One ``{"messages"}`` row as ``{"prompt", "completion"}``, or a UserError naming ``path:line``."""
    if "messages" not in row:
        raise UserError(f"{path}:{line}: no 'messages' field (found {', '.join(sorted(row)) or 'nothing'}); "
                        f"expected TRL conversational format {SFT_FORMAT}.")
    messages = _messages(row["messages"], path, line, "messages", None, SFT_FORMAT)
    last = max((i for i, m in enumerate(messages) if m["role"] == "assistant"), default=None)
    if last is None or last == 0:
        raise UserError(f"{path}:{line}: 'messages' needs a user turn followed by an assistant turn; "
                        f"expected {SFT_FORMAT}.")
    return {"prompt": messages[:last], "completion": [messages[last]]}


def preference_pair(row: dict, path: Path, line: int) -> dict:
    """One preference row as conversational ``{"prompt", "chosen", "rejected"}``, or a UserError."""
    missing = [k for k in ("prompt", "chosen", "rejected") if k not in row]
    if missing:
        raise UserError(f"{path}:{line}: missing field(s) {', '.join(missing)}; expected TRL conversational "
                        f"preference format {DPO_FORMAT}.")
    strings = [k for k in ("prompt", "chosen", "rejected") if isinstance(row[k], str)]
    if strings and len(strings) < 3:
        lists = [k for k in ("prompt", "chosen", "rejected") if k not in strings]
        raise UserError(f"{path}:{line}: field {strings[0]!r} is a string while {lists[0]!r} is not; give all three as "
                        f"strings (TRL standard) or all as message lists (TRL conversational, {DPO_FORMAT}).")
    pair = {"prompt": _messages(row["prompt"], path, line, "prompt", "user", DPO_FORMAT),
            "chosen": _messages(row["chosen"], path, line, "chosen", "assistant", DPO_FORMAT),
            "rejected": _messages(row["rejected"], path, line, "rejected", "assistant", DPO_FORMAT)}
    if pair["chosen"] == pair["rejected"]:
        raise UserError(f"{path}:{line}: chosen == rejected (the same answer twice teaches nothing); remove that pair "
                        "or give it a different rejected answer.")
    return pair


def _messages(value, path: Path, line: int, field: str, string_role: str | None, expected: str) -> list[dict]:
    """A list of messages; a non-empty string counts as one ``string_role`` message (TRL's standard form)."""
    if string_role and isinstance(value, str) and value.strip():
        return [{"role": string_role, "content": value}]
    if not isinstance(value, list) or not value:
        raise UserError(f"{path}:{line}: field {field!r} must be a non-empty list of messages; expected TRL format {expected}.")
    for message in value:
        if not isinstance(message, dict) or message.get("role") not in ROLES or not isinstance(message.get("content"), str):
            raise UserError(f"{path}:{line}: field {field!r} has a message without a valid role "
                            f"({'/'.join(ROLES)}) and string content; expected TRL format {expected}.")
    return [{"role": m["role"], "content": m["content"]} for m in value]


def _rows(path: Path, kind: str, required: bool) -> list[dict]:
    if not path.is_file():
        if required:
            raise UserError(f"{path}: not found; build the dataset first (Dataset tab or `python -m pipeline data "
                            f"build`), or point --data at a folder with {kind}/train.jsonl.")
        return []
    rows = read_jsonl(path)
    if required and not rows:
        raise UserError(f"{path}: the file is empty; it needs at least one example.")
    return rows
