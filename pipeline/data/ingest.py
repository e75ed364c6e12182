"""Read one input (a posts file, an export zip or its unpacked folder) into posts: the source
registry (:mod:`.sources`) says which source it is, and that source reads it.

Rows that cannot be used are skipped and counted by reason; an input that cannot be used at all
raises :class:`UserError` naming the file.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from .sources import detect, expected
from .sources.base import IngestResult, SourceFiles
from .sources.fields import parse_count, parse_date


def ingest(path: str | Path) -> IngestResult:
    """The posts of one input, read by the source that recognises it."""
    files = SourceFiles(path)
    try:
        source = detect(files)
        if source is None:
            raise UserError(_unknown(files))
        result = source.read(files)
    finally:
        files.close()
    result.notices = files.notices + result.notices
    result.encoding = next((e for e in files.encodings.values() if e != "utf-8"), "utf-8")
    for post in result.posts:  # a source may read posts of another platform (Instagram's zip holds Threads)
        if post.platform == "posts":
            post.platform = source.NAME
    return result


def _unknown(files: SourceFiles) -> str:
    if files.kind == "file":
        return (f"{files.path}: unknown file type {files.suffix or '(none)'}; use .csv, .jsonl, .json, an X archive "
                "tweets.js, a feed .xml, .md/.txt/.html, a Bluesky .car, or a platform's export .zip.")
    found = files.list()
    shown = ", ".join(found[:8]) + (f" and {len(found) - 8} more" if len(found) > 8 else "") if found else "no files"
    return (f"{files.path}: not an export this tool reads (it holds {shown}); expected one of: {expected()}.")


def read_all(paths: list[str | Path]) -> list[IngestResult]:
    """Read several inputs; the same one given twice is read once."""
    if not paths:
        raise UserError("no input files; pass --input FILE (CSV, JSONL, an export .zip or folder, tweets.js, "
                        "Shares.csv, a feed).")
    seen, results = set(), []
    for p in paths:
        resolved = Path(p).resolve()
        if resolved not in seen:
            seen.add(resolved)
            results.append(ingest(p))
    return results


__all__ = ["IngestResult", "ingest", "parse_count", "parse_date", "read_all"]
