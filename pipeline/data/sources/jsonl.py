"""A JSONL file (or a JSON array) of posts: objects with a ``text`` field (or a synonym) and the
optional fields a CSV of posts has."""

from __future__ import annotations

from ..formats import read_records
from .base import IngestResult, SourceFiles
from .fields import column_map, post_from_fields

NAME = "jsonl"
LABEL = "JSONL of posts"
MAX_CHARS = None
EXPECTS = "a .jsonl/.json file of objects with a text field"
SUFFIXES = (".jsonl", ".json", ".ndjson")


def detect(files: SourceFiles) -> bool:
    """A JSON file whose first record has a text field (else it is an instruction data set)."""
    if files.suffix not in SUFFIXES:
        return False
    rows = records(files)
    return "text" in column_map(list(rows[0][1]))


def records(files: SourceFiles) -> list[tuple[int, dict]]:
    return read_records(files.path, files.read_text(files.name))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for number, row in records(files):
        columns = column_map(list(row))
        if "text" not in columns:
            result.skipped["no text field"] += 1
            continue
        post = post_from_fields(row, columns, files.name, NAME, number, result)
        if post is not None:
            result.posts.append(post)
    return result
