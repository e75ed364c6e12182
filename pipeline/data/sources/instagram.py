"""An Instagram export (Accounts Center, "Download your information", JSON):
``your_instagram_activity/content/posts_1.json`` (older exports: ``content/posts_1.json``), a list
of posts in Meta's shape (see :mod:`.meta`); the caption is the post."""

from __future__ import annotations

import re

from .base import IngestResult, SourceFiles
from .meta import read_items

NAME = "instagram"
LABEL = "Instagram export"
MAX_CHARS = 2200
BRIEF_WORD = "Instagram caption"
EXPECTS = "your_instagram_activity/content/posts_1.json"
_POSTS = re.compile(r"(?:^|/)posts_\d+\.json$", re.IGNORECASE)


def members(files: SourceFiles) -> list[str]:
    if files.kind == "file":
        start = files.peek(files.name, 512)
        return [files.name] if _POSTS.search(files.name) and '"media"' in start else []
    return [m for m in files.list() if _POSTS.search(m) and "/content/" in f"/{m}"]


def detect(files: SourceFiles) -> bool:
    return bool(members(files))


def read(files: SourceFiles) -> IngestResult:
    return read_items(files, members(files), None, NAME, "Instagram")
