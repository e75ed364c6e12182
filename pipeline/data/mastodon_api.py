"""A public Mastodon account's posts through the server's open API (no login).

``GET /api/v1/accounts/lookup?acct=USER`` finds the account, then
``GET /api/v1/accounts/:id/statuses?exclude_reblogs=true`` pages back with ``max_id``. Boosts are
left out (someone else's words); a reply to the account's own post continues a thread (joined into
one post), a reply to someone else is kept and marked ``reply``. The HTML content becomes text
with its line breaks; favourites, replies and boosts are the engagement.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from ..errors import UserError
from .html_text import html_to_text
from .http_get import Http
from .ingest import IngestResult, parse_date
from .post import Post
from .threads import join_self_threads

PLATFORM = "mastodon"
PAGE_SIZE = 40
"""Statuses per page (the API's maximum)."""
_ACCT = re.compile(r"^@?(?P<user>[A-Za-z0-9_.-]+)@(?P<host>[A-Za-z0-9.-]+(:\d+)?)$")


def parse_acct(acct: str) -> tuple[str, str]:
    """``@user@host`` (or ``user@host``) -> (user, host)."""
    match = _ACCT.match(acct.strip())
    if not match:
        raise UserError(f"mastodon:{acct}: write the account as @user@server, e.g. mastodon:@alice@mastodon.social.")
    return match["user"], match["host"]


def fetch_account(user: str, base_url: str, http: Http, *, max_posts: int | None = None) -> IngestResult:
    """The public posts of ``user`` on the Mastodon server at ``base_url`` (``https://host``), oldest first."""
    base_url = base_url.rstrip("/")
    target = f"mastodon:@{user}@{base_url.split('://', 1)[-1]}"
    account = http.get_json(f"{base_url}/api/v1/accounts/lookup?{urlencode({'acct': user})}", target)
    if not isinstance(account, dict) or "id" not in account:
        raise UserError(f"{target}: the server's account lookup answered without an id; is it a Mastodon server?")
    account_id = str(account["id"])
    result = IngestResult(Path(target), PLATFORM)
    scraped_at = datetime.now(timezone.utc)
    items, max_id, number = [], None, 0
    while max_posts is None or number < max_posts:
        query = {"limit": PAGE_SIZE, "exclude_reblogs": "true"}
        if max_id:
            query["max_id"] = max_id
        page = http.get_json(f"{base_url}/api/v1/accounts/{account_id}/statuses?{urlencode(query)}", target)
        if not isinstance(page, list) or not page:
            break
        for status in page:
            if max_posts is not None and number >= max_posts:
                break
            if status.get("reblog"):
                result.skipped["repost"] += 1
                continue
            number += 1
            own_parent, post = post_from_status(status, account_id, target, number)
            post.scraped_at = scraped_at
            if not post.text.strip():
                result.skipped["empty text"] += 1
                continue
            items.append((str(status.get("id")), own_parent, post))
        max_id = str(page[-1].get("id"))
    items.reverse()  # oldest first, so a thread's first post comes before its continuations
    result.posts = join_self_threads(items)
    if not result.posts:
        result.notices.append(f"{target}: no public posts.")
    return result


def post_from_status(status: dict, account_id: str, source: str, line: int) -> tuple[str | None, Post]:
    """``(own parent id or None, post)`` for one status of the API."""
    kind, own_parent = "post", None
    if status.get("in_reply_to_id"):
        if str(status.get("in_reply_to_account_id")) == account_id:
            own_parent = str(status["in_reply_to_id"])
        else:
            kind = "reply"
    elif status.get("quote"):
        kind = "quote"
    text = html_to_text(str(status.get("content") or ""))
    if status.get("spoiler_text"):  # a content warning is the author's words too, shown first
        text = f"{status['spoiler_text']}\n\n{text}"
    account = status.get("account") or {}
    post = Post(text=text, source=source, platform=PLATFORM, line=line, kind=kind,
                posted_at=parse_date(status.get("created_at")), author=account.get("acct"), url=status.get("url"),
                likes=float(status.get("favourites_count") or 0), comments=float(status.get("replies_count") or 0),
                reposts=float(status.get("reblogs_count") or 0))
    return own_parent, post


def is_mastodon_server(base_url: str, http: Http) -> bool:
    """True when ``base_url`` answers ``/api/v1/instance`` like a Mastodon server (a ``/@user`` URL's host)."""
    response = http.get(base_url.rstrip("/") + "/api/v1/instance")
    if response.status != 200 or "json" not in response.content_type:
        return False
    try:
        info = json.loads(response.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return isinstance(info, dict) and "version" in info and ("uri" in info or "domain" in info)
