"""A LinkedIn data export, "Get a copy of your data": the Complete archive's ``Shares.csv`` (newer:
``Shares_<member id>.csv``) with ``Date, ShareLink, ShareCommentary, SharedUrl, MediaUrl, Visibility``
(the Basic archive, sent first, has no posts: it gets its own message). A reshare without words of
its own has an empty ``ShareCommentary`` (skipped as empty).

LinkedIn wraps each line of a multi-line ``ShareCommentary`` in its own double quotes, so once the
CSV is read the first line ends with ``"``, the last starts with ``"``, every line between is
``"text"`` and a blank line is ``""``; that quoting is undone here when every line fits it. The
export also repeats a post under one ``ShareLink``: later copies are dropped.
"""

from __future__ import annotations

import re

from ...errors import UserError
from .base import IngestResult, SourceFiles
from .csv_file import rows
from .fields import column_map, post_from_fields

NAME = "linkedin"
LABEL = "LinkedIn export"
MAX_CHARS = 3000
BRIEF_WORD = "LinkedIn post"
EXPECTS = "Shares.csv in the Complete export"


_SHARES = re.compile(r"(?:^|/)Shares(?:_\d+)?\.csv$", re.IGNORECASE)
# Files every LinkedIn export has: a zip with them but no Shares.csv is the Basic export (no posts).
_PROFILE = ("profile.csv", "connections.csv")


def shares(files: SourceFiles) -> list[str]:
    """``Shares.csv`` (newer exports: ``Shares_<member id>.csv``), the unsuffixed one first."""
    return sorted((m for m in files.list() if _SHARES.search(m)), key=lambda m: (len(m), m))[:1]


def detect(files: SourceFiles) -> bool:
    if files.kind == "file":
        return files.suffix == ".csv" and "sharecommentary" in files.peek(files.name, 1024).split("\n", 1)[0].lower()
    return bool(shares(files)) or all(files.find(name) for name in _PROFILE)


def read(files: SourceFiles) -> IngestResult:
    if not shares(files) and files.kind != "file":
        raise UserError(f"{files.path}: a LinkedIn export without Shares.csv: the Basic export holds no posts (and an "
                        "account that never posted has none); use the Complete export, which LinkedIn e-mails a day "
                        "or so after the Basic one.")
    result = IngestResult(files.path, NAME)
    seen_links = set()
    for member in shares(files) if files.kind != "file" else [files.name]:
        header, reader = rows(files, member)
        columns = column_map(header)
        if "text" not in columns:
            raise UserError(f"{files.where(member)}: no ShareCommentary column (columns found: "
                            f"{', '.join(header) or 'none'}); download the LinkedIn export again.")
        for row in reader:
            text = row.get(columns["text"])
            if text:
                row[columns["text"]] = unquote_lines(text)
            post = post_from_fields(row, columns, files.name, NAME, reader.line_num, result)
            if post is None:
                continue
            if post.url and post.url in seen_links:
                result.skipped["duplicate ShareLink"] += 1
                continue
            seen_links.add(post.url)
            result.posts.append(post)
    return result


def unquote_lines(text: str) -> str:
    """``first"`` / ``""`` / ``"middle"`` / ``"last`` -> ``first`` / `` `` / ``middle`` / ``last``;
    text that does not have that quoting on every line comes back unchanged."""
    lines = text.replace("\r\n", "\n").split("\n")
    if len(lines) < 2:
        return text
    first, middle, last = lines[0], lines[1:-1], lines[-1]
    if not (first.endswith('"') and last.startswith('"')
            and all(len(line) >= 2 and line.startswith('"') and line.endswith('"') for line in middle)):
        return text
    return "\n".join([first[:-1], *(line[1:-1] for line in middle), last[1:]])
