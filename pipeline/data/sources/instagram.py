"""An Instagram export (Accounts Center, "Download your information", JSON): ``posts_1.json``,
``posts_2.json``... (``your_instagram_activity/content/``, ``.../media/`` or the root, by export
generation), a list of posts in Meta's shape (see :mod:`.meta`); the caption is the post. The same
zip holds the account's Threads posts when it has any: they are read too, as platform ``threads``."""

from __future__ import annotations

from . import threads
from .base import IngestResult, SourceFiles
from .meta import members, read_items

NAME = "instagram"
LABEL = "Instagram export"
MAX_CHARS = 2200
BRIEF_WORD = "Instagram caption"
EXPECTS = "your_instagram_activity/content/posts_1.json"


def posts_files(files: SourceFiles) -> list[str]:
    return members(files, r"posts_\d+", '"media"')


def detect(files: SourceFiles) -> bool:
    return bool(posts_files(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    read_items(files, posts_files(files), None, NAME, "Instagram", result)
    if files.kind != "file":
        read_items(files, threads.posts_files(files), threads.KEY, threads.NAME, "Threads", result)
    return result
