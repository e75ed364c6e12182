"""A CSV or TSV file of posts: a ``text`` column (or a synonym: ``content``, ``full_text``, ...) and
optional engagement, date, author and URL columns, any case."""

from __future__ import annotations

import csv
import io

from ...errors import UserError
from .base import IngestResult, SourceFiles
from .fields import column_map, post_from_fields

NAME = "csv"
LABEL = "CSV of posts"
MAX_CHARS = None
EXPECTS = "a .csv/.tsv file with a text column"


def detect(files: SourceFiles) -> bool:
    if files.suffix in (".csv", ".tsv"):
        return True
    return files.suffix == ".txt" and "text" in column_map(_header(files.peek(files.name)))


def rows(files: SourceFiles, member: str) -> tuple[list[str], csv.DictReader]:
    """The header and a row reader of a CSV member (tab-separated when the header has more tabs than commas)."""
    text = files.read_text(member)
    csv.field_size_limit(10_000_000)
    header_line = text.split("\n", 1)[0]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    return reader.fieldnames or [], reader


def read(files: SourceFiles) -> IngestResult:
    member = files.name
    header, reader = rows(files, member)
    columns = column_map(header)
    if "text" not in columns:
        raise UserError(f"{files.where(member)}: no text column (columns found: {', '.join(header) or 'none'}); name "
                        "the post column 'text' (or content, full_text, ShareCommentary).")
    result = IngestResult(files.path, NAME)
    for row in reader:
        post = post_from_fields(row, columns, files.name, NAME, reader.line_num, result)
        if post is not None:
            result.posts.append(post)
    if not result.posts and not result.skipped:
        raise UserError(f"{files.where(member)}: a header but no rows; add posts below the header.")
    return result


def _header(start: str) -> list[str]:
    line = start.split("\n", 1)[0]
    return next(csv.reader([line], delimiter="\t" if line.count("\t") > line.count(",") else ","), [])
