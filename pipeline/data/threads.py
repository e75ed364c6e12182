"""Join threads: a run of the author's replies to their own posts becomes one post, in order."""

from __future__ import annotations

from .post import Post


def join_self_threads(items: list[tuple[str, str | None, Post]]) -> list[Post]:
    """``(id, own_parent_id, post)`` items -> one post per thread (threads ordered by their first-listed part).

    ``own_parent_id`` is the id of the post this one answers when that post is the author's own (else None).
    A thread's parts are joined with a blank line, the first post first and the rest by date; the thread keeps
    the first post's kind, date, URL and engagement. A part whose parent is not among the items (deleted, or
    older than what was fetched) starts a thread of its own.
    """
    parent_of = {item_id: parent for item_id, parent, _ in items}

    def root(item_id: str) -> str:
        seen = {item_id}
        while parent_of.get(item_id) in parent_of and parent_of[item_id] not in seen:
            item_id = parent_of[item_id]
            seen.add(item_id)
        return item_id

    threads: dict[str, list[Post]] = {}
    for item_id, _, post in items:
        threads.setdefault(root(item_id), []).append(post)
    posts = {item_id: post for item_id, _, post in items}
    joined = []
    for root_id, parts in threads.items():
        first = posts[root_id]
        rest = sorted((p for p in parts if p is not first), key=lambda p: p.posted_at.timestamp() if p.posted_at else 0)
        if rest:
            first.text = "\n\n".join(p.text for p in [first, *rest])
        joined.append(first)
    return joined
