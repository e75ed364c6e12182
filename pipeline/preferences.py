"""Human picks from Compare, and comparison exports.

A pick of the best column appends one preference pair per other column to the workspace's
``preferences.jsonl`` (TRL conversational preference rows plus ``source: "human"`` and ``time``;
the DPO tab can add them to its data: seed 002's human ranking). A tie carries no preference, so
it goes to ``preferences.ties.jsonl`` beside it, where it is kept but never trained on. Every
row is appended and fsynced, so a restart loses nothing already picked.
"""

from __future__ import annotations

import time
from pathlib import Path

from .errors import UserError
from .fsio import append_jsonl, atomic_write_jsonl, atomic_write_text, read_jsonl
from .workspace import Workspace

TIE = "tie"


def ties_path(workspace: Workspace) -> Path:
    return workspace.preferences_path.with_name("preferences.ties.jsonl")


def record_pick(workspace: Workspace, prompt: str, answers: dict[str, str], best: str, *,
                system: str | None = None) -> str:
    """Record that column ``best`` (or ``"tie"``) answered ``prompt`` best among ``answers``
    (column -> text). Returns a one-line summary of what was saved."""
    if not prompt or not prompt.strip():
        raise UserError("the brief is empty: generate answers for a brief before picking.")
    answers = {column: text for column, text in answers.items() if text and text.strip()}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    if best == TIE:
        if len(answers) < 2:
            raise UserError("a tie needs at least two answers: generate them first.")
        append_jsonl(ties_path(workspace), {"prompt": messages, "answers": answers, "source": "human", "time": now})
        return f"tie between {', '.join(answers)} kept in {ties_path(workspace).name} (not used for training)"
    if best not in answers:
        raise UserError(f"column {best!r} has no answer to pick: generate first, or pick one of "
                        f"{', '.join(answers) or 'the columns'}.")
    rejected = [c for c in answers if c != best and answers[c].strip() != answers[best].strip()]
    if not rejected:
        raise UserError("the other columns gave no different answer, so this pick teaches nothing; pick 'tie'.")
    for column in rejected:
        append_jsonl(workspace.preferences_path, {
            "prompt": messages,
            "chosen": [{"role": "assistant", "content": answers[best]}],
            "rejected": [{"role": "assistant", "content": answers[column]}],
            "source": "human", "time": now, "columns": {"chosen": best, "rejected": column},
        })
    total = len(read_jsonl(workspace.preferences_path))
    return (f"{best} preferred over {', '.join(rejected)}: {len(rejected)} pair(s) added to "
            f"{workspace.preferences_path.name} ({total} in total)")


def export_comparison(rows: list[dict], jsonl_path: str | Path, md_path: str | Path | None = None,
                      columns: tuple[str, ...] = ("base", "sft", "dpo")) -> dict:
    """Write a comparison batch as JSONL (one row per brief) and Markdown, atomically.

    A row is ``{"prompt": str, column: text, ..., "stats": {column: GenerationStats.as_dict()}}``.
    """
    if not rows:
        raise UserError("nothing to export: generate a comparison first.")
    jsonl_path = Path(jsonl_path)
    md_path = Path(md_path) if md_path else jsonl_path.with_suffix(".md")
    atomic_write_jsonl(jsonl_path, rows)
    parts = ["# Comparison: " + " | ".join(c for c in columns if any(c in r for r in rows)), ""]
    for number, row in enumerate(rows, start=1):
        parts += [f"## {number}. {row['prompt']}", ""]
        for column in columns:
            if column not in row:
                continue
            stats = (row.get("stats") or {}).get(column) or {}
            parts += [f"### {column}", "", row[column].strip() or "_(empty)_", ""]
            if stats:
                parts += [f"_{stats.get('new_tokens', 0)} tokens, {stats.get('tokens_per_s', 0)} tok/s, "
                          f"{stats.get('first_token_s', 0)} s to first token_", ""]
    atomic_write_text(md_path, "\n".join(parts))
    return {"jsonl": str(jsonl_path), "markdown": str(md_path), "rows": len(rows)}
