"""Bluesky: the repository ``.car`` of Settings > Account > "Export my data".

A repository holds ``app.bsky.feed.post`` records (``text``, ``createdAt``, optional ``reply``,
``embed``, ``facets``) in a Merkle search tree of DAG-CBOR blocks (:mod:`.car`). The record rules
here are shared with a public handle read through the AppView (:mod:`..remote.bluesky_api`): link
facets are expanded to their full URIs (the app shows a shortened link text), replies to the
author's own posts are joined into one post (a thread, :mod:`.threads_join`), a reply to someone
else is a ``reply``, and a post embedding another record is a ``quote``. Reposts are skipped:
they are someone else's words. A repository has no like, reply or repost counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ...errors import UserError
from ..post import Post
from .base import IngestResult, SourceFiles
from .car import CID, CarError, decode_dag_cbor, looks_like_car, read_car
from .fields import dated
from .threads_join import join_threads

NAME = "bluesky"
LABEL = "Bluesky repository export (.car)"
MAX_CHARS = None
"""No limit of its own: a post has at most 300 graphemes, but a thread is joined into one post."""
BRIEF_WORD = "Bluesky post"
EXPECTS = "a repository .car"
HEADER_BYTES = 512
"""Enough of a file to read its CAR header (a repository's is under 100 bytes)."""
POST_TYPE = "app.bsky.feed.post"
REPOST_TYPE = "app.bsky.feed.repost"
QUOTE_EMBEDS = ("app.bsky.embed.record", "app.bsky.embed.recordWithMedia")
LINK_FACET = "app.bsky.richtext.facet#link"
MAX_TREE_DEPTH = 64
"""A repository's tree has about log4(records) levels; deeper means a crafted or broken file."""


def _cars(files: SourceFiles) -> list[str]:
    return files.find("*.car")


def detect(files: SourceFiles) -> bool:
    return any(looks_like_car(files.read_bytes(m)[:HEADER_BYTES]) for m in _cars(files))


def read(files: SourceFiles) -> IngestResult:
    result = IngestResult(files.path, NAME)
    for member in _cars(files):
        read_repository(files.read_bytes(member), files.where(member), result)
    if not result.posts:
        result.notices.append(f"{files.name}: the repository holds no posts.")
    return result


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


def post_from_record(uri: str, record: dict, own_did: str, line: int, result: IngestResult) -> tuple[str | None, Post]:
    """``(parent uri or None, post)`` for one ``app.bsky.feed.post`` record at ``at://`` ``uri``."""
    parent = ((record.get("reply") or {}).get("parent") or {}).get("uri") or None
    kind = "reply" if record.get("reply") else "quote" if (record.get("embed") or {}).get("$type") in QUOTE_EMBEDS \
        else "post"
    post = Post(text=expand_links(record), source=result.path.name, platform=NAME, line=line, kind=kind,
                posted_at=dated(result, record.get("createdAt")), author=own_did,
                url=f"https://bsky.app/profile/{own_did}/post/{uri.rsplit('/', 1)[-1]}")
    return parent, post


def add_posts(result: IngestResult, items: list[tuple[str, str | None, Post]]) -> None:
    """``(uri, parent uri, post)`` items into ``result``, self-reply threads joined."""
    result.posts += join_threads([p for _, _, p in items], [u for u, _, _ in items], [a for _, a, _ in items], result)


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


def read_repository(data: bytes, where: str, result: IngestResult | None = None) -> IngestResult:
    """The posts of a Bluesky repository ``.car`` added to ``result`` (``where``: the file, for messages)."""
    result = result if result is not None else IngestResult(Path(where), NAME)
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
                if collection == REPOST_TYPE:
                    result.skipped["repost"] += 1
                continue
            record = _block(blocks, cid)
            if not isinstance(record, dict) or not str(record.get("text") or "").strip():
                result.skipped["empty text"] += 1
                continue
            uri = f"at://{did}/{key}"
            items.append((uri, *post_from_record(uri, record, did, number, result)))
    except (CarError, KeyError, TypeError, AttributeError) as e:
        detail = str(e) if isinstance(e, CarError) else "an unexpected record shape"
        raise UserError(f"{where}: not a readable Bluesky repository .car ({detail}); download it again from "
                        "Settings > Account > Export my data.") from None
    add_posts(result, items)
    return result
