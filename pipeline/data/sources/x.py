"""An X (Twitter) archive, "Download an archive of your data": ``data/tweets.js`` and
``data/tweets-part1.js``... (older archives: ``tweet.js``), each ``window.YTD.tweets.partN = [...]``,
and ``data/community-tweet.js`` (posts in X Communities, the same shape).

The archive's quirks: counts are strings, ``full_text`` escapes ``&``, ``<`` and ``>`` as HTML
entities, links are ``t.co`` short links whose targets sit in ``entities.urls`` (expanded here,
before cleaning turns URLs into a placeholder), media links are appended to the text, and a reply
starts with the ``@handles`` it answers (``display_text_range`` says where the words begin). A
thread is a chain of self-replies: joined in order into one post (kind ``thread``, the first
tweet's engagement). A retweet starts ``RT @``; a reply to someone else is a ``reply``; a quote
post (a link to another status) is a ``quote``. A long post (X Premium, over 280 characters) is cut
in ``tweets.js`` and whole in ``note-tweet.js``: read from there, kind ``long``. An edited post
appears once per version (``edit_info.initial.editTweetIds``): only the last is kept.
"""

from __future__ import annotations

import json
import re

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .fields import dated, kind_of, parse_count
from .threads_join import join_threads

NAME = "x"
LABEL = "X (Twitter) archive"
MAX_CHARS = 280
BRIEF_WORD = "tweet"
EXPECTS = "data/tweets.js, data/tweets-part1.js, ..."
# tweets.js, tweets-part1.js, ..., the old name tweet.js, and community-tweet.js (posts in X Communities);
# not deleted-tweets.js
_PART = re.compile(r"(?:^|/)(?:community-)?tweets?(?:-part(\d+))?\.js$", re.IGNORECASE)
_PREFIX = re.compile(r"^\s*window\.YTD\.[\w.]+\s*=\s*")
_STATUS_LINK = re.compile(r"^https?://(?:www\.|mobile\.)?(?:twitter|x)\.com/\w+/status(?:es)?/\d+", re.IGNORECASE)
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w+)+\s*$")


def parts(files: SourceFiles) -> list[str]:
    """The tweet files in part order (tweets.js, tweets-part1.js, ...)."""
    found = [m for m in files.list() if _PART.search(m)]
    return sorted(found, key=lambda m: int(_PART.search(m).group(1) or 0))


def detect(files: SourceFiles) -> bool:
    if files.kind == "file":
        return files.suffix == ".js" or bool(_PREFIX.match(files.peek(files.name)))
    return bool(parts(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    items: list[tuple[int, dict]] = []
    for member in parts(files) if files.kind != "file" else [files.name]:
        items += [(number, t.get("tweet", t) if isinstance(t, dict) else t)
                  for number, t in enumerate(load(files, member), start=1)]
    username = _username(files)
    notes = _note_tweets(files)
    superseded = _superseded(items)
    posts, ids, parents = [], [], []
    for number, tweet in items:
        if isinstance(tweet, dict) and _id(tweet) in superseded:
            result.skipped["earlier version of an edited post"] += 1
            continue
        post = _post(tweet, files.name, number, username, notes, result)
        if post is not None:
            posts.append(post)
            ids.append(_id(tweet))
            parents.append(str(tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id") or "") or None)
    result.posts = join_threads(posts, ids, parents, result)
    return result


def _id(tweet: dict) -> str | None:
    return str(tweet.get("id_str") or tweet.get("id") or "") or None


def load(files: SourceFiles, member: str) -> list:
    """The JSON array of an archive file (``window.YTD.<name>.partN = [...]``, maybe ending in ``;``)."""
    text = files.read_text(member)
    match = _PREFIX.match(text)
    body = text[match.end():] if match else text
    offset = text[:match.end()].count("\n") if match else 0
    where = files.where(member)
    try:
        data = json.loads(body.rstrip().removesuffix(";"))
    except json.JSONDecodeError as e:
        raise UserError(f"{where}:{e.lineno + offset}: bad JSON in the X archive ({e.msg}); re-export tweets.js.") from None
    if not isinstance(data, list):
        raise UserError(f"{where}: expected `window.YTD.tweets.part0 = [...]` (a list of tweets).")
    return data


def _superseded(items: list[tuple[int, dict]]) -> set[str]:
    """Ids of the earlier versions of edited posts (``edit_info.initial.editTweetIds`` lists every
    version; the last one is the post)."""
    out = set()
    for _, tweet in items:
        versions = (((tweet.get("edit_info") or {}).get("initial") or {}).get("editTweetIds") or []) \
            if isinstance(tweet, dict) else []
        out.update(str(v) for v in versions[:-1])
    return out


def _note_tweets(files: SourceFiles) -> dict[str, str]:
    """Tweet id -> the whole text of a long post (``note-tweet.js``; ``tweets.js`` holds it cut at 280)."""
    texts = {}
    for member in files.find("note-tweet*.js") if files.kind != "file" else []:
        for item in load(files, member):
            note = item.get("noteTweet", {}) if isinstance(item, dict) else {}
            text = (note.get("noteTweetResults") or {}).get("text") or (note.get("core") or {}).get("text")
            if note.get("tweetId") and text:
                texts[str(note["tweetId"])] = text
    return texts


def _username(files: SourceFiles) -> str | None:
    """The account's handle from ``data/account.js`` (for post URLs), when the archive has it."""
    for member in files.find("account.js") if files.kind != "file" else []:
        try:
            return str(load(files, member)[0]["account"]["username"])
        except (UserError, LookupError, TypeError):
            return None
    return None


def _post(tweet, source: str, number: int, username: str | None, notes: dict[str, str],
          result: IngestResult) -> Post | None:
    tweet = tweet if isinstance(tweet, dict) else None
    raw = str((tweet or {}).get("full_text") or (tweet or {}).get("text") or "")
    if not raw.strip():
        result.skipped["empty text"] += 1
        return None
    try:
        likes, reposts = parse_count(tweet.get("favorite_count")), parse_count(tweet.get("retweet_count"))
    except ValueError:
        result.skipped["non-numeric engagement"] += 1
        return None
    text, quote = _expand(raw, tweet)
    long_post = _id(tweet) in notes
    if long_post:  # the note holds the whole post, its links already expanded
        text = _unescape(notes[_id(tweet)])
    kind = kind_of(raw)
    if kind != "retweet" and (tweet.get("in_reply_to_status_id_str") or tweet.get("in_reply_to_status_id")):
        kind = "reply"
    elif kind == "post" and (quote or tweet.get("quoted_status_id_str") or tweet.get("is_quote_status") is True):
        kind = "quote"
    elif kind == "post" and long_post:
        kind = "long"
    tweet_id = tweet.get("id_str") or tweet.get("id")
    return Post(text=text, source=source, platform=NAME, line=number, kind=kind, likes=likes, reposts=reposts,
                posted_at=dated(result, tweet.get("created_at")),
                url=f"https://x.com/{username or 'i'}/status/{tweet_id}" if tweet_id else None)


def _expand(raw: str, tweet: dict) -> tuple[str, bool]:
    """The tweet's own words: reply mentions cut, t.co links expanded, media links dropped, entities
    unescaped; and whether it quotes another status."""
    text = raw
    if kind_of(raw) != "retweet":
        start = _index(tweet.get("display_text_range"), 0)
        if start and _LEADING_MENTIONS.match(text[:start]):
            text = text[start:]
    entities = {**(tweet.get("entities") or {}), **(tweet.get("extended_entities") or {})}
    quote = False
    for media in entities.get("media") or []:
        if media.get("url"):
            text = text.replace(media["url"], "")
    for link in (tweet.get("entities") or {}).get("urls") or []:
        short, full = link.get("url"), link.get("expanded_url")
        if short and full:
            if _STATUS_LINK.match(full) and text.rstrip().endswith(short):
                quote = True
            text = text.replace(short, full)
    return _unescape(text).strip(), quote


def _unescape(text: str) -> str:
    """The archive escapes only these three (``html.unescape`` would also turn a written ``&copy`` into ©)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _index(pair, i: int) -> int:
    try:
        return int(pair[i])
    except (TypeError, ValueError, IndexError):
        return 0
