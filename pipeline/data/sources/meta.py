"""What Meta's JSON exports (Instagram, Threads: "Download your information" in the Accounts
Center, format JSON) have in common: a post is ``{"media": [{"uri", "creation_timestamp",
"title"}, ...], "title", "creation_timestamp"}`` (the text in the post's ``title`` or its first
media's), and every string is UTF-8 written as latin-1 ``\\u00XX`` escapes ("cafÃ©" for "café")."""

from __future__ import annotations

import json

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated


def fix_mojibake(text: str) -> str:
    """``"cafÃ©"`` -> ``"café"``: UTF-8 bytes that were read as latin-1 characters (text that is not
    such comes back unchanged)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def load(files: SourceFiles, member: str, export: str):
    where = files.where(member)
    try:
        return json.loads(files.read_text(member))
    except json.JSONDecodeError as e:
        raise UserError(f"{where}:{e.lineno}: bad JSON in the {export} export ({e.msg}); download it again "
                        "(format JSON).") from None


def read_items(files: SourceFiles, members: list[str], key: str | None, name: str, export: str) -> IngestResult:
    """Posts from the ``members`` (each a list of posts, or an object holding it under ``key``)."""
    result = IngestResult(files.path, name)
    for member in members:
        data = load(files, member, export)
        items = data.get(key) if key and isinstance(data, dict) else data
        if not isinstance(items, list):
            raise UserError(f"{files.where(member)}: expected a list of posts{f' under {key!r}' if key else ''}; "
                            f"download the {export} export again in JSON format.")
        for number, item in enumerate(items, start=1):
            post = _post(item, files.name, name, number, result)
            if post is not None:
                result.posts.append(post)
    return result


def _post(item, source: str, name: str, number: int, result: IngestResult) -> Post | None:
    media = item.get("media") if isinstance(item, dict) else None
    first = media[0] if isinstance(media, list) and media and isinstance(media[0], dict) else {}
    text = fix_mojibake(str((item or {}).get("title") or first.get("title") or ""))
    if not text.strip():
        result.skipped["no caption"] += 1
        return None
    return Post(text=text, source=source, platform=name, line=number,
                posted_at=dated(result, item.get("creation_timestamp") or first.get("creation_timestamp")))
