"""A Threads export: ``threads_and_replies.json`` (inside the Instagram export, under
``your_instagram_activity/threads/``), ``{"text_post_app_text_posts": [post, ...]}`` in Meta's post
shape (see :mod:`.meta`: mojibake fixed; a reply is marked ``text_app_post.is_reply`` in some
exports, and a post opening with ``@handle`` counts as one)."""

from __future__ import annotations

from .base import IngestResult, SourceFiles
from .meta import members, read_items

NAME = "threads"
LABEL = "Threads export"
MAX_CHARS = 500
BRIEF_WORD = "Threads post"
EXPECTS = "your_instagram_activity/threads/threads_and_replies.json"
KEY = "text_post_app_text_posts"


def posts_files(files: SourceFiles) -> list[str]:
    return members(files, "threads_and_replies", KEY)


def detect(files: SourceFiles) -> bool:
    return bool(posts_files(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    read_items(files, posts_files(files), KEY, NAME, "Threads", result)
    return result
