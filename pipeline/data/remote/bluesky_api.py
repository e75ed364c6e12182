"""A public Bluesky handle's posts through the open AppView API (``app.bsky.feed.getAuthorFeed``, no login).

The records are read by the same rules as a repository export (:mod:`..sources.bluesky`); the
AppView also gives each post's like, reply and repost counts, kept as engagement.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from ...errors import UserError
from ..sources.base import IngestResult
from ..sources.bluesky import NAME, POST_TYPE, add_posts, post_from_record
from .http_get import Http, check_status, parse_json

DEFAULT_APPVIEW = "https://public.api.bsky.app"
PAGE_SIZE = 100
"""Posts per getAuthorFeed page (the API's maximum)."""


def fetch_author_feed(handle: str, http: Http, *, base_url: str = DEFAULT_APPVIEW,
                      max_posts: int | None = None) -> IngestResult:
    """A public handle's posts and replies through ``getAuthorFeed``, self-reply threads joined."""
    handle = handle.strip().lstrip("@")
    target = f"bsky:{handle}"
    result = IngestResult(Path(target), NAME)
    endpoint = base_url.rstrip("/") + "/xrpc/app.bsky.feed.getAuthorFeed"
    scraped_at = datetime.now(timezone.utc)
    items, cursor, number = [], None, 0
    while max_posts is None or number < max_posts:
        query = {"actor": handle, "limit": PAGE_SIZE, "filter": "posts_with_replies"}
        if cursor:
            query["cursor"] = cursor
        response = http.get(f"{endpoint}?{urlencode(query)}")
        _check_appview(response, target)
        page = parse_json(response, target)
        if not isinstance(page, dict):
            raise UserError(f"{target}: {response.url} answered JSON that is not an object; is --bsky-api an AppView?")
        for entry in page.get("feed") or []:
            if max_posts is not None and number >= max_posts:
                break
            if entry.get("reason"):  # a repost of someone else's post
                result.skipped["repost"] += 1
                continue
            view = entry.get("post") or {}
            record = view.get("record") or {}
            if record.get("$type") != POST_TYPE or not str(record.get("text") or "").strip():
                result.skipped["empty text"] += 1
                continue
            number += 1
            author = view.get("author") or {}
            parent, post = post_from_record(view.get("uri", ""), record, author.get("did", ""), number, result)
            post.author = author.get("handle") or handle
            post.likes, post.comments = float(view.get("likeCount", 0)), float(view.get("replyCount", 0))
            post.reposts, post.scraped_at = float(view.get("repostCount", 0)), scraped_at
            items.append((view.get("uri", ""), parent, post))
        cursor = page.get("cursor")
        if not cursor or not page.get("feed"):
            break
    add_posts(result, items[::-1])  # oldest first, as an export lists them
    if not result.posts:
        result.notices.append(f"{target}: no public posts.")
    return result


def _check_appview(response, target: str) -> None:
    """The AppView answers 400 with an error name for a missing or suspended account; say which."""
    if response.status == 400:
        error = parse_json(response, target)
        message = f"{error.get('error', '')} {error.get('message', '')}".strip() if isinstance(error, dict) else ""
        raise UserError(f"{target}: the Bluesky AppView refused it ({message}); check the handle (e.g. "
                        "name.bsky.social): the profile may be missing, deactivated or suspended.")
    check_status(response.status, response.url, target)
