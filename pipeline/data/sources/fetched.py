"""Posts written by ``python -m pipeline data-fetch`` (JSONL with the fetch's ``kind``, ``platform`` and target)."""

from __future__ import annotations

import json
from pathlib import Path

from ...errors import UserError
from ..ingest import IngestResult, parse_date
from ..post import Post

NAME = "fetched"
LABEL = "Public posts fetched by data-fetch (.jsonl)"
MAX_CHARS = None
MARKER = "fetched_from"
"""The key every line of a fetched file has (and no other posts file)."""


def _fetched(files) -> list[str]:
    """The ``.jsonl`` members whose first line carries the fetch's marker."""
    found = []
    for member in (m for m in files.list() if m.lower().endswith(".jsonl")):
        first = next((line for line in files.read_text(member).splitlines() if line.strip()), "")
        try:
            if MARKER in json.loads(first):
                found.append(member)
        except (ValueError, TypeError):
            continue
    return found


def detect(files) -> bool:
    return bool(_fetched(files))


def read(files) -> IngestResult:
    member = _fetched(files)[0]  # data-fetch writes one file
    return read_fetched(files.read_text(member), member)


def read_fetched(text: str, source: str) -> IngestResult:
    """The posts of a fetched JSONL file, with the kind and platform the fetch gave them."""
    result = IngestResult(Path(source), NAME)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            post = Post(text=str(row["text"]), source=source, platform=row.get("platform", "web"), line=number,
                        kind=row.get("kind", "post"), url=row.get("url"), author=row.get("author"),
                        likes=row.get("likes"), comments=row.get("comments"), reposts=row.get("reposts"),
                        posted_at=parse_date(row.get("posted_at")), scraped_at=parse_date(row.get("scraped_at")))
        except (ValueError, KeyError, TypeError):
            raise UserError(f"{source}:{number}: not a line data-fetch writes (JSON with a text); fetch again.") from None
        if post.text.strip():
            result.posts.append(post)
        else:
            result.skipped["empty text"] += 1
    return result
