"""A folder or zip of ``.md``/``.txt`` files (or saved ``.html`` pages), or one such file: each file is
one post. A Markdown front matter block (``---`` ... ``---``) is left out of the text; its ``date`` is
the post's date. A page is read as its readable text (:mod:`.html_text`: navigation, headers,
footers and forms left out)."""

from __future__ import annotations

import re

from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated
from .html_text import html_to_text

NAME = "text-files"
LABEL = "text files"
MAX_CHARS = None
EXPECTS = ".md/.txt/.html files, one post each"
PATTERNS = ("*.md", "*.markdown", "*.txt", "*.html", "*.htm")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)


def members(files: SourceFiles) -> list[str]:
    return sorted({m for pattern in PATTERNS for m in files.find(pattern)})


def detect(files: SourceFiles) -> bool:
    """A single note, or a folder/zip that is mostly notes (a zip of photos with a readme is not)."""
    found = members(files)
    return bool(found) and 2 * len(found) >= len(files.list())


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in members(files):
        # An empty file in a folder is skipped; an empty file given alone is an error (read_text says so).
        text = files.read_text(member) if files.kind == "file" or files.read_bytes(member).strip() else ""
        if member.lower().endswith((".html", ".htm")):
            text = html_to_text(text)
        date = None
        front = _FRONT_MATTER.match(text)
        if front:
            text = text[front.end():]
            found = re.search(r"^date:\s*['\"]?([^'\"\n]+)", front.group(1), re.MULTILINE)
            date = dated(result, found.group(1).strip()) if found else None
        if not text.strip():
            result.skipped["empty text"] += 1
            continue
        result.posts.append(Post(text=text.strip(), source=files.name, platform=NAME, line=1, posted_at=date))
    return result
