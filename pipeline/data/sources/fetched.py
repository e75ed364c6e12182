"""Posts written by ``python -m pipeline data fetch``: JSONL whose every line names the target it was
fetched from (``fetched_from``), with the post's ``kind`` and ``platform`` as the fetch read them."""

from __future__ import annotations

import json

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated

NAME = "fetched"
LABEL = "Public posts fetched by data fetch (.jsonl)"
MAX_CHARS = None
"""Each post keeps its own platform (bluesky, mastodon, web), whose limit the filter applies."""
EXPECTS = "a .jsonl written by data fetch"
MARKER = "fetched_from"
"""The key every line of a fetched file has (and no other posts file)."""


def _fetched(files: SourceFiles) -> list[str]:
    """The ``.jsonl`` members whose first line carries the fetch's marker."""
    found = []
    for member in files.find("*.jsonl"):
        first = next((line for line in files.peek(member).splitlines() if line.strip()), "")
        try:
            if MARKER in json.loads(first):
                found.append(member)
        except (ValueError, TypeError):
            continue
    return found


def detect(files: SourceFiles) -> bool:
    return bool(_fetched(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in _fetched(files):
        where = files.where(member)
        for number, line in enumerate(files.read_text(member).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                post = Post(text=str(row["text"]), source=files.name, platform=row.get("platform", "web"),
                            line=number, kind=row.get("kind", "post"), url=row.get("url"), author=row.get("author"),
                            likes=row.get("likes"), comments=row.get("comments"), reposts=row.get("reposts"),
                            posted_at=dated(result, row.get("posted_at")),
                            scraped_at=dated(result, row.get("scraped_at")))
            except (ValueError, KeyError, TypeError, AttributeError):
                raise UserError(f"{where}:{number}: not a line data fetch writes (a JSON object with a text); fetch "
                                "again.") from None
            if post.text.strip():
                result.posts.append(post)
            else:
                result.skipped["empty text"] += 1
    return result
