"""A Threads export (Accounts Center, "Download your information", JSON):
``threads/threads_and_replies.json``, ``{"text_post_app_text_posts": [post, ...]}`` in Meta's post
shape (see :mod:`.meta`: mojibake fixed)."""

from __future__ import annotations

from .base import IngestResult, SourceFiles
from .meta import read_items

NAME = "threads"
LABEL = "Threads export"
MAX_CHARS = 500
BRIEF_WORD = "Threads post"
EXPECTS = "threads/threads_and_replies.json"
KEY = "text_post_app_text_posts"


def members(files: SourceFiles) -> list[str]:
    if files.kind == "file":
        return [files.name] if files.suffix == ".json" and KEY in files.peek(files.name, 512) else []
    return files.find("threads_and_replies.json")


def detect(files: SourceFiles) -> bool:
    return bool(members(files))


def read(files: SourceFiles) -> IngestResult:
    return read_items(files, members(files), KEY, NAME, "Threads")
