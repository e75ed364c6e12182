"""Bluesky: the repository ``.car`` of Settings > Account > "Export my data" (read by :mod:`pipeline.data.bluesky`)."""

from __future__ import annotations

from ..bluesky import read_repository
from ..car import looks_like_car
from ..ingest import IngestResult

NAME = "bluesky"
LABEL = "Bluesky repository export (.car)"
MAX_CHARS = None
"""No limit of its own: a post has at most 300 graphemes, but a thread is joined into one post."""
HEADER_BYTES = 512
"""Enough of a file to read its CAR header (a repository's is under 100 bytes)."""


def _cars(files) -> list[str]:
    return [m for m in files.list() if m.lower().endswith(".car")]


def detect(files) -> bool:
    for member in _cars(files):
        with files.open(member) as f:
            if looks_like_car(f.read(HEADER_BYTES)):
                return True
    return False


def read(files) -> IngestResult:
    results = []
    for member in _cars(files):
        with files.open(member) as f:
            results.append(read_repository(f.read(), member))
    merged = results[0]
    for more in results[1:]:
        merged.posts += more.posts
        merged.skipped.update(more.skipped)
        merged.notices += more.notices
    return merged
