"""Threads of self-replies joined into one post: shared by the sources whose exports say which post
a post answers (X, Mastodon)."""

from __future__ import annotations

from ..post import Post
from .base import IngestResult


def join_threads(posts: list[Post], ids: list[str | None], parents: list[str | None], result: IngestResult) -> list[Post]:
    """``posts`` with every chain of self-replies (a post answering one of ``posts``) appended to the
    post it answers, in time order, as one post of kind ``thread`` (the first post's engagement and
    URL). A second answer to the same post (a branch) stays a post of its own, a ``reply``."""
    by_id = {i: post for i, post in zip(ids, posts) if i}
    parent_of = {id(post): by_id[p] for post, p in zip(posts, parents) if p and p in by_id and by_id[p] is not post}
    children: dict[int, list[Post]] = {}
    for post in sorted(posts, key=lambda p: (p.posted_at is None, p.posted_at.timestamp() if p.posted_at else 0)):
        if id(post) in parent_of:
            children.setdefault(id(parent_of[id(post)]), []).append(post)
    joined: set[int] = set()
    for post in posts:
        if id(post) in parent_of:
            continue
        chain, node = [post], post
        while children.get(id(node)):
            node = children[id(node)][0]
            chain.append(node)
        if len(chain) > 1:
            post.text = "\n\n".join(p.text for p in chain)
            post.kind = "thread" if post.kind in ("post", "quote") else post.kind
            joined.update(id(p) for p in chain[1:])
            result.skipped["joined into a thread"] += len(chain) - 1
    return [p for p in posts if id(p) not in joined]
