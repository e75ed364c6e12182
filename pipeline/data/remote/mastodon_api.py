"""A public Mastodon account's posts through the server's open API (no login).

``GET /api/v1/accounts/lookup?acct=USER`` finds the account, then
``GET /api/v1/accounts/:id/statuses?exclude_reblogs=true`` pages back with ``max_id``. Boosts are
left out (someone else's words); a reply to the account's own post continues a thread (joined into
one post, as in an archive: :mod:`..sources.threads_join`), a reply to someone else is kept and
marked ``reply``. The HTML content becomes text with its line breaks (:mod:`..sources.html_text`);
favourites, replies and boosts are the engagement.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from ...errors import UserError
from ..post import Post
from ..sources.base import IngestResult
from ..sources.fields import dated
from ..sources.html_text import html_to_text
from ..sources.mastodon import NAME
from ..sources.threads_join import join_threads
from .http_get import Http

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
    result = IngestResult(Path(target), NAME)
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
            post = post_from_status(status, number, result)
            post.scraped_at = scraped_at
            if not post.text.strip():
                result.skipped["empty text"] += 1
                continue
            items.append((str(status.get("id")), str(status.get("in_reply_to_id") or "") or None, post))
        max_id = str(page[-1].get("id"))
    items.reverse()  # oldest first, as an archive lists them
    result.posts = join_threads([p for _, _, p in items], [i for i, _, _ in items], [a for _, a, _ in items], result)
    if not result.posts:
        result.notices.append(f"{target}: no public posts.")
    return result


def post_from_status(status: dict, line: int, result: IngestResult) -> Post:
    """One status of the API as a post (a reply to the account's own post is joined to it later)."""
    kind = "reply" if status.get("in_reply_to_id") else "quote" if status.get("quote") else "post"
    text = html_to_text(str(status.get("content") or ""))
    if status.get("spoiler_text"):  # a content warning is the author's words too, shown first
        text = f"{status['spoiler_text']}\n\n{text}"
    account = status.get("account") or {}
    return Post(text=text, source=result.path.name, platform=NAME, line=line, kind=kind,
                posted_at=dated(result, status.get("created_at")), author=account.get("acct"), url=status.get("url"),
                likes=float(status.get("favourites_count") or 0), comments=float(status.get("replies_count") or 0),
                reposts=float(status.get("reblogs_count") or 0))


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
