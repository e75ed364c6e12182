"""Reading post fields from rows of any shape: column synonyms, counts such as ``1.2k``, dates in the
formats exports use, and the post/reply/retweet kind guessed from the text."""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from ..post import Post
from .base import IngestResult

# Canonical field -> accepted column names (lower case, spaces/dashes as underscores).
SYNONYMS = {
    "text": ("text", "full_text", "content", "post", "post_text", "body", "tweet", "tweet_text",
             "sharecommentary", "commentary", "message", "caption"),
    "likes": ("likes", "like_count", "likes_count", "favorite_count", "favourite_count", "favorites",
              "favourites", "reactions", "num_likes", "num_reactions"),
    "comments": ("comments", "comment_count", "comments_count", "reply_count", "replies", "num_comments"),
    "reposts": ("reposts", "repost_count", "retweets", "retweet_count", "shares", "share_count", "num_shares",
                "num_reposts"),
    "impressions": ("impressions", "impression_count", "views", "view_count", "num_views"),
    "followers": ("followers", "follower_count", "followers_count", "num_followers"),
    "posted_at": ("posted_at", "created_at", "date", "datetime", "timestamp", "published_at", "time", "post_date"),
    "scraped_at": ("scraped_at", "collected_at", "fetched_at", "scrape_date", "crawled_at"),
    "author": ("author", "username", "user", "screen_name", "handle", "author_name", "name"),
    "url": ("url", "link", "sharelink", "permalink", "post_url", "tweet_url"),
}
NUMERIC = ("likes", "comments", "reposts", "impressions", "followers")
DATES = ("posted_at", "scraped_at")
_DATE_FORMATS = ("%a %b %d %H:%M:%S %z %Y", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y %H:%M",
                 "%m/%d/%Y", "%d/%m/%Y")


def _canonical(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def column_map(columns: list[str]) -> dict[str, str]:
    """Canonical field -> the column that holds it (first synonym found wins)."""
    by_name = {_canonical(c): c for c in columns if c is not None}
    found = {}
    for canonical, names in SYNONYMS.items():
        for name in names:
            if name in by_name:
                found[canonical] = by_name[name]
                break
    return found


def parse_count(value) -> float | None:
    """``1,234`` / ``1.2k`` / ``3M`` / ``''`` -> a number or None; ValueError when it is not a number."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace(",", "").replace("_", "")
    if not s:
        return None
    scale = {"k": 1e3, "m": 1e6, "b": 1e9}.get(s[-1].lower())
    number = float(s[:-1] if scale else s)
    if math.isnan(number) or number < 0:
        raise ValueError(s)
    return number * (scale or 1)


def parse_date(value) -> datetime | None:
    """ISO 8601, the X archive's ``Wed Oct 10 20:19:24 +0000 2018``, RFC 822 (feeds), epoch seconds or
    milliseconds, and common date formats (UTC if naive)."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, tz=timezone.utc)
    s = str(value).strip()
    parsed = None
    try:
        parsed = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(s, fmt)
                break
            except ValueError:
                continue
    if parsed is None:
        try:
            parsed = parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def kind_of(text: str) -> str:
    """``retweet`` for ``RT @...``, ``reply`` for a post opening with a mention, else ``post``."""
    stripped = text.lstrip()
    if stripped.startswith("RT @"):
        return "retweet"
    if stripped.startswith("@"):
        return "reply"
    return "post"


def post_from_fields(fields: dict, columns: dict[str, str], source: str, platform: str, line: int,
                     result: IngestResult) -> Post | None:
    """One row as a Post (None, counted in ``result.skipped``, when its text is empty or a count is not a number)."""
    text = fields.get(columns["text"])
    text = "" if text is None else str(text)
    if not text.strip():
        result.skipped["empty text"] += 1
        return None
    post = Post(text=text, source=source, platform=platform, line=line, kind=kind_of(text))
    try:
        for name in NUMERIC:
            if name in columns:
                setattr(post, name, parse_count(fields.get(columns[name])))
    except ValueError:
        result.skipped["non-numeric engagement"] += 1
        return None
    for name in DATES:
        if name in columns:
            raw = fields.get(columns[name])
            setattr(post, name, parse_date(raw))
            if raw not in (None, "") and getattr(post, name) is None:
                result.unparsed_dates += 1
    for name in ("author", "url"):
        if name in columns and fields.get(columns[name]) not in (None, ""):
            setattr(post, name, str(fields[columns[name]]))
    return post


def dated(result: IngestResult, raw) -> datetime | None:
    """``parse_date(raw)``, counting a date that is there but unreadable."""
    parsed = parse_date(raw)
    if parsed is None and raw not in (None, ""):
        result.unparsed_dates += 1
    return parsed
