"""Bluesky posts: from the repository ``.car`` of "Export my data", or a public handle through the AppView.

Both give ``app.bsky.feed.post`` records (``text``, ``createdAt``, optional ``reply``, ``embed``,
``facets``) and are read by the same rules: link facets are expanded to their full URIs (the app
shows a shortened link text), a reply to the author's own post continues a thread (joined into one
post), a reply to someone else is a ``reply``, and a post embedding another record is a ``quote``.
Reposts are skipped: they are someone else's words. The AppView also gives like, reply and repost
counts; a repository has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

from ..errors import UserError
from .car import CID, CarError, decode_dag_cbor, read_car
from .http_get import Http, check_status, parse_json
from .ingest import IngestResult, parse_date
from .post import Post
from .threads import join_self_threads

PLATFORM = "bluesky"
POST_TYPE = "app.bsky.feed.post"
QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
LINK_FACET = "app.bsky.richtext.facet#link"
DEFAULT_APPVIEW = "https://public.api.bsky.app"
MAX_TREE_DEPTH = 64
"""A repository's tree has about log4(records) levels; deeper means a crafted or broken file."""
PAGE_SIZE = 100
"""Posts per getAuthorFeed page (the API's maximum)."""


def expand_links(record: dict) -> str:
    """The record's text with each link facet's shortened text replaced by its full URI.

    Facet offsets count UTF-8 bytes, so the replacement is done on the encoded text, last facet first.
    """
    text = str(record.get("text") or "")
    links = []
    for facet in record.get("facets") or []:
        index = facet.get("index") or {}
        uris = [f.get("uri") for f in facet.get("features") or [] if f.get("$type") == LINK_FACET and f.get("uri")]
        start, end = index.get("byteStart"), index.get("byteEnd")
        if uris and isinstance(start, int) and isinstance(end, int) and 0 <= start <= end:
            links.append((start, end, uris[0]))
    data = text.encode("utf-8")
    for start, end, uri in sorted(links, reverse=True):
        if end <= len(data):
            data = data[:start] + uri.encode("utf-8") + data[end:]
    return data.decode("utf-8", errors="replace")


def _rkey(uri: str) -> str:
    return uri.rsplit("/", 1)[-1]


def post_from_record(uri: str, record: dict, own_did: str, source: str, line: int) -> tuple[str | None, Post]:
    """``(own parent uri or None, post)`` for one ``app.bsky.feed.post`` record at ``at://`` ``uri``."""
    kind, own_parent = "post", None
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri") or ""
    if record.get("reply"):
        if parent.startswith(f"at://{own_did}/"):
            own_parent = parent
        else:
            kind = "reply"
    elif ((record.get("embed") or {}).get("$type")) in QUOTE_EMBEDS:
        kind = "quote"
    post = Post(text=expand_links(record), source=source, platform=PLATFORM, line=line, kind=kind,
                posted_at=parse_date(record.get("createdAt")), author=own_did,
                url=f"https://bsky.app/profile/{own_did}/post/{_rkey(uri)}")
    return own_parent, post


def _walk_mst(blocks: dict[CID, bytes], node_cid: CID | None, depth: int = 0) -> Iterator[tuple[str, CID]]:
    """``(collection/rkey, record CID)`` for every entry of the repository's Merkle search tree, in key order."""
    if node_cid is None:
        return
    if depth > MAX_TREE_DEPTH:
        raise CarError(f"the record tree is deeper than {MAX_TREE_DEPTH} levels (a loop?)")
    node = _block(blocks, node_cid)
    if not isinstance(node, dict) or not isinstance(node.get("e"), list):
        raise CarError("a tree node without entries")
    yield from _walk_mst(blocks, node.get("l"), depth + 1)
    key = b""
    for entry in node["e"]:
        key = key[:entry["p"]] + entry["k"]  # each key stores only what differs from the previous one
        yield key.decode("utf-8", errors="replace"), entry["v"]
        yield from _walk_mst(blocks, entry.get("t"), depth + 1)


def _block(blocks: dict[CID, bytes], cid):
    if not isinstance(cid, CID) or cid not in blocks:
        raise CarError("a block the repository links to is missing (an incomplete download?)")
    return decode_dag_cbor(blocks[cid])


def read_repository(data: bytes, source: str) -> IngestResult:
    """The posts of a Bluesky repository ``.car`` (``source``: the file's name, for messages and counts)."""
    result = IngestResult(Path(source), PLATFORM)
    try:
        roots, blocks = read_car(data)
        commit = _block(blocks, roots[0] if roots else None)
        if not isinstance(commit, dict) or not isinstance(commit.get("did"), str) or "data" not in commit:
            raise CarError("its root is not a repository commit (no did/data)")
        did = commit["did"]
        items = []
        for number, (key, cid) in enumerate(_walk_mst(blocks, commit["data"]), start=1):
            collection = key.split("/", 1)[0]
            if collection != POST_TYPE:
                if collection == "app.bsky.feed.repost":
                    result.skipped["repost"] += 1
                continue
            record = _block(blocks, cid)
            if not isinstance(record, dict) or not str(record.get("text") or "").strip():
                result.skipped["empty text"] += 1
                continue
            uri = f"at://{did}/{key}"
            own_parent, post = post_from_record(uri, record, did, source, number)
            items.append((uri, own_parent, post))
    except (CarError, KeyError, TypeError, AttributeError) as e:
        detail = str(e) if isinstance(e, CarError) else "an unexpected record shape"
        raise UserError(f"{source}: not a readable Bluesky repository .car ({detail}); download it again from "
                        "Settings > Account > Export my data.") from None
    result.posts = join_self_threads(items)
    if not result.posts:
        result.notices.append(f"{source}: the repository holds no posts.")
    return result


def fetch_author_feed(handle: str, http: Http, *, base_url: str = DEFAULT_APPVIEW,
                      max_posts: int | None = None) -> IngestResult:
    """A public handle's posts and replies, newest first, through ``app.bsky.feed.getAuthorFeed`` (no login)."""
    handle = handle.strip().lstrip("@")
    target = f"bsky:{handle}"
    result = IngestResult(Path(target), PLATFORM)
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
            own_did = (view.get("author") or {}).get("did", "")
            own_parent, post = post_from_record(view.get("uri", ""), record, own_did, target, number)
            post.author = (view.get("author") or {}).get("handle") or handle
            post.likes, post.comments = float(view.get("likeCount", 0)), float(view.get("replyCount", 0))
            post.reposts, post.scraped_at = float(view.get("repostCount", 0)), scraped_at
            items.append((view.get("uri", ""), own_parent, post))
        cursor = page.get("cursor")
        if not cursor or not page.get("feed"):
            break
    items.reverse()  # oldest first, so a thread's first post comes before its continuations
    result.posts = join_self_threads(items)
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
