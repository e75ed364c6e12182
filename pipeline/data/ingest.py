"""Read posts from CSV, JSONL/JSON, an X/Twitter archive ``tweets.js`` or a LinkedIn ``Shares.csv``.

Column names are matched case-insensitively with common synonyms (``favorite_count`` -> likes,
``retweet_count``/``shares`` -> reposts, ``ShareCommentary`` -> text, ...). A JSON/JSONL file
holding an instruction data set (Alpaca, ShareGPT, ... see :mod:`.formats`) becomes posts whose
brief is already known. Rows that cannot be used are skipped and counted by reason; a file that
cannot be used at all raises :class:`UserError`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..errors import UserError
from .formats import detect_format, read_records, to_messages
from .post import Post

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
_ARCHIVE_PREFIX = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*")


@dataclass
class IngestResult:
    """Posts read from one file, with what was skipped and why."""

    path: Path
    kind: str
    """``csv``, ``linkedin``, ``tweets-archive``, ``jsonl`` or ``instructions:<format>``."""
    posts: list[Post] = field(default_factory=list)
    skipped: Counter = field(default_factory=Counter)
    encoding: str = "utf-8"
    unparsed_dates: int = 0
    """Dates that could not be read (the post is kept, without that date)."""
    notices: list[str] = field(default_factory=list)


def decode(path: Path) -> tuple[str, str]:
    """File text and the encoding that worked (utf-8, utf-8 with a BOM, else latin-1)."""
    data = path.read_bytes()
    if not data.strip():
        raise UserError(f"{path}: the file is empty; export your posts again or pick another file.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # spreadsheet "Unicode text" exports are UTF-16
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise UserError(f"{path}: starts like UTF-16 text but does not decode as it; export it again as CSV "
                            "(UTF-8).") from None
    if b"\x00" in data[:4096]:
        raise UserError(f"{path}: a binary file, not text; export your posts as CSV or JSONL (UTF-8).")
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"  # every byte sequence decodes; say so in the report


def read_posts(path: str | Path) -> IngestResult:
    """Read one input file into posts (its kind decided by its name and content)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found; check the path.")
    text, encoding = decode(path)
    suffix = path.suffix.lower()
    if _ARCHIVE_PREFIX.match(text) or suffix == ".js":
        result = _read_archive(path, text)
    elif suffix in (".jsonl", ".json", ".ndjson"):
        result = _read_json(path, text)
    elif suffix in (".csv", ".tsv", ".txt"):
        result = _read_csv(path, text)
    else:
        raise UserError(f"{path}: unknown file type {suffix or '(none)'}; use .csv, .jsonl, .json or an X "
                        "archive tweets.js.")
    result.encoding = encoding
    if encoding == "latin-1":
        result.notices.append(f"{path.name}: not valid UTF-8; read as latin-1 (check accented characters).")
    return result


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
    if number != number or number < 0:  # NaN or negative
        raise ValueError(s)
    return number * (scale or 1)


def parse_date(value) -> datetime | None:
    """ISO 8601, the X archive's ``Wed Oct 10 20:19:24 +0000 2018`` and common date formats (UTC if naive)."""
    if value is None or str(value).strip() == "":
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value  # epoch milliseconds or seconds
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
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _kind_of(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("RT @"):
        return "retweet"
    if stripped.startswith("@"):
        return "reply"
    return "post"


def _post_from_fields(fields: dict, columns: dict[str, str], source: str, line: int, result: IngestResult) -> Post | None:
    text = fields.get(columns["text"])
    text = "" if text is None else str(text)
    if not text.strip():
        result.skipped["empty text"] += 1
        return None
    post = Post(text=text, source=source, line=line, kind=_kind_of(text))
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


def _read_csv(path: Path, text: str) -> IngestResult:
    csv.field_size_limit(10_000_000)
    header_line = text.split("\n", 1)[0]
    delimiter = "\t" if header_line.count("\t") > header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames or []
    columns = column_map(header)
    if "text" not in columns:
        raise UserError(f"{path}: no text column (columns found: {', '.join(header) or 'none'}); name the post "
                        "column 'text' (or content, full_text, ShareCommentary).")
    kind = "linkedin" if columns["text"].lower() == "sharecommentary" else "csv"
    result = IngestResult(path, kind)
    for row in reader:
        post = _post_from_fields(row, columns, path.name, reader.line_num, result)
        if post is not None:
            result.posts.append(post)
    if not result.posts and not result.skipped:
        raise UserError(f"{path}: a header but no rows; add posts below the header.")
    return result


def _read_json(path: Path, text: str) -> IngestResult:
    rows = read_records(path, text)
    first = rows[0][1]
    if "text" not in column_map(list(first)):
        return _read_instructions(path, rows)
    result = IngestResult(path, "jsonl")
    for number, row in rows:
        columns = column_map(list(row))
        if "text" not in columns:
            result.skipped["no text field"] += 1
            continue
        post = _post_from_fields(row, columns, path.name, number, result)
        if post is not None:
            result.posts.append(post)
    return result


def _read_instructions(path: Path, rows: list[tuple[int, dict]]) -> IngestResult:
    fmt = detect_format(rows[0][1], f"{path}:{rows[0][0]} (no 'text' field, and")
    result = IngestResult(path, f"instructions:{fmt}")
    for number, row in rows:
        where = f"{path}:{number}"
        messages = to_messages(row, detect_format(row, where), where)
        users = [m for m in messages if m["role"] == "user"]
        systems = [m for m in messages if m["role"] == "system"]
        answer = messages[-1]["content"]
        if not users or not answer.strip():
            result.skipped["no instruction or empty answer"] += 1
            continue
        # A multi-turn conversation contributes its last exchange (the brief and the voice's answer).
        result.posts.append(Post(text=answer, source=path.name, line=number, brief=users[-1]["content"],
                                 system=systems[0]["content"] if systems else None))
    return result


def _read_archive(path: Path, text: str) -> IngestResult:
    match = _ARCHIVE_PREFIX.match(text)
    body = text[match.end():] if match else text
    offset = text[:match.end()].count("\n") if match else 0
    try:
        data = json.loads(body)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno + offset}: bad JSON in the X archive ({e.msg}); re-export tweets.js.") from None
    if not isinstance(data, list):
        raise UserError(f"{path}: expected `window.YTD.tweets.part0 = [...]` (a list of tweets).")
    result = IngestResult(path, "tweets-archive")
    for number, item in enumerate(data, start=1):
        tweet = item.get("tweet", item) if isinstance(item, dict) else None
        if not isinstance(tweet, dict) or not str(tweet.get("full_text") or tweet.get("text") or "").strip():
            result.skipped["empty text"] += 1
            continue
        text_value = str(tweet.get("full_text") or tweet.get("text"))
        try:
            likes, reposts = parse_count(tweet.get("favorite_count")), parse_count(tweet.get("retweet_count"))
        except ValueError:
            result.skipped["non-numeric engagement"] += 1
            continue
        kind = _kind_of(text_value)
        if tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id"):
            kind = "reply"
        tweet_id = tweet.get("id_str") or tweet.get("id")
        result.posts.append(Post(text=text_value, source=path.name, line=number, kind=kind, likes=likes,
                                 reposts=reposts, posted_at=parse_date(tweet.get("created_at")),
                                 url=f"https://x.com/i/status/{tweet_id}" if tweet_id else None))
    return result


def read_all(paths: list[str | Path]) -> list[IngestResult]:
    """Read several files; the same file given twice is read once."""
    if not paths:
        raise UserError("no input files; pass --input FILE (CSV, JSONL, tweets.js or Shares.csv).")
    seen, results = set(), []
    for p in paths:
        resolved = Path(p).resolve()
        if resolved not in seen:
            seen.add(resolved)
            results.append(read_posts(p))
    return results
