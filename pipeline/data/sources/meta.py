"""What Meta's exports (Instagram, Threads: Accounts Center, "Download your information", format
JSON) have in common: a post is ``{"media": [{"uri", "creation_timestamp", "title", ...}], "title",
"creation_timestamp"}`` (a multi-media post has its text and date at the post level, one media item
its own), and every string holds UTF-8 bytes written as ``\\u00XX`` escapes ("cafÃ©" for "café").
An export made in HTML format has the same files as ``.html``: it gets a message asking for JSON."""

from __future__ import annotations

import json
import re

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated, kind_of


def fix_mojibake(text: str) -> str:
    """``"cafÃ©"`` -> ``"café"``: UTF-8 bytes that were written as latin-1 characters (text that is not
    such comes back unchanged)."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def members(files: SourceFiles, pattern: str, marker: str) -> list[str]:
    """The input's files whose base name matches ``pattern`` (``.json``, or ``.html`` from an HTML-format
    export); a plain file counts when it matches and its start holds ``marker``."""
    regex = re.compile(rf"(?:^|/){pattern}\.(?:json|html)$", re.IGNORECASE)
    if files.kind == "file":
        return [files.name] if regex.search(files.name) and marker in files.peek(files.name, 1024) else []
    return [m for m in files.list() if regex.search(m)]


def read_items(files: SourceFiles, found: list[str], key: str | None, name: str, export: str,
               result: IngestResult) -> None:
    """Posts of the ``found`` files (each a list of posts, or an object holding it under ``key``) into ``result``."""
    for member in found:
        where = files.where(member)
        if member.lower().endswith(".html"):
            raise UserError(f"{where}: this {export} export is in HTML format; request it again choosing the JSON "
                            "format (Accounts Center, Download your information).")
        try:
            data = json.loads(files.read_text(member))
        except json.JSONDecodeError as e:
            raise UserError(f"{where}:{e.lineno}: bad JSON in the {export} export ({e.msg}); download it again.") from None
        items = data.get(key) if key and isinstance(data, dict) else data
        if not isinstance(items, list):
            raise UserError(f"{where}: expected a list of posts{f' under {key!r}' if key else ''}; download the "
                            f"{export} export again in JSON format.")
        for number, item in enumerate(items, start=1):
            post = _post(item, files.name, name, number, result)
            if post is not None:
                result.posts.append(post)


def _post(item, source: str, name: str, number: int, result: IngestResult) -> Post | None:
    media = item.get("media") if isinstance(item, dict) else None
    first = media[0] if isinstance(media, list) and media and isinstance(media[0], dict) else {}
    text = fix_mojibake(str((item or {}).get("title") or first.get("title") or ""))
    if not text.strip():
        result.skipped["no text"] += 1
        return None
    reply = (first.get("text_app_post") or {}).get("is_reply") is True
    return Post(text=text, source=source, platform=name, line=number, kind="reply" if reply else kind_of(text),
                posted_at=dated(result, item.get("creation_timestamp") or first.get("creation_timestamp")))
