"""A Mastodon archive, "Request your archive" under Import and export: ``outbox.json``, an
ActivityPub ``OrderedCollection`` whose ``orderedItems`` are ``Create`` activities (the post is the
``Note`` in ``object``: HTML ``content``, ``published``, ``url``, ``inReplyTo``) and ``Announce``
activities (boosts: someone else's post, of which the archive holds only the address; skipped). A
reply is a ``Note`` with ``inReplyTo``, a quote one with ``quote``; self-replies are joined into a thread; a direct message
(addressed to neither the public nor the followers) is skipped. The archive holds no like or boost
counts."""

from __future__ import annotations

import json

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated
from .html_text import html_to_text
from .threads_join import join_threads

NAME = "mastodon"
LABEL = "Mastodon archive"
MAX_CHARS = 500
BRIEF_WORD = "Mastodon post"
EXPECTS = "outbox.json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def outboxes(files: SourceFiles) -> list[str]:
    return files.find("outbox.json")


def detect(files: SourceFiles) -> bool:
    if files.kind == "file":
        start = files.peek(files.name)
        return files.suffix == ".json" and "orderedItems" in start and "activitystreams" in start
    return bool(outboxes(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in outboxes(files) if files.kind != "file" else [files.name]:
        where = files.where(member)
        try:
            outbox = json.loads(files.read_text(member))
        except json.JSONDecodeError as e:
            raise UserError(f"{where}:{e.lineno}: bad JSON in the Mastodon archive ({e.msg}); request the archive "
                            "again.") from None
        items = outbox.get("orderedItems") if isinstance(outbox, dict) else None
        if not isinstance(items, list):
            raise UserError(f"{where}: no 'orderedItems' list; this is not a Mastodon outbox.json.")
        posts, ids, parents = [], [], []
        for number, activity in enumerate(items, start=1):
            post = _post(activity, files.name, number, result)
            if post is not None:
                note = activity.get("object")
                posts.append(post)
                ids.append(note.get("id") if isinstance(note, dict) else None)
                parents.append(note.get("inReplyTo") if isinstance(note, dict) else None)
        result.posts += join_threads(posts, ids, parents, result)
    return result


def _post(activity, source: str, number: int, result: IngestResult) -> Post | None:
    kind = activity.get("type") if isinstance(activity, dict) else None
    if kind == "Announce":  # a boost: someone else's post, of which the archive holds only the address
        result.skipped["boost (someone else's post)"] += 1
        return None
    note = activity.get("object") if kind == "Create" else None
    if not isinstance(note, dict) or note.get("type") not in ("Note", "Article", "Question"):
        result.skipped["not a post"] += 1
        return None
    audience = [*_list(note.get("to")), *_list(note.get("cc"))]
    if PUBLIC not in audience and not any(str(a).endswith("/followers") for a in audience):
        result.skipped["direct message"] += 1
        return None
    text = html_to_text(str(note.get("content") or ""))
    if not text:
        result.skipped["empty text"] += 1
        return None
    kind = "reply" if note.get("inReplyTo") else "quote" if note.get("quote") else "post"
    return Post(text=text, source=source, platform=NAME, line=number, kind=kind,
                posted_at=dated(result, note.get("published") or activity.get("published")),
                url=note.get("url") or note.get("id"))


def _list(value) -> list:
    return value if isinstance(value, list) else [value] if value else []
