"""Filter posts by length and kind (replies and reposts are someone else's voice or half a thread)."""

from __future__ import annotations

from dataclasses import dataclass

from .post import Post
from .removed import Removed
from .sources import max_chars

BEYOND_PLATFORM_LIMIT = ("thread", "long")
"""Kinds longer than one post of their platform by nature: a joined thread, a long-form post."""


@dataclass(frozen=True)
class FilterOptions:
    min_chars: int = 30
    """Shorter posts carry too little style to learn from."""
    max_chars: int = 3000
    """Longer ones are articles, not posts. A platform with a lower post limit (X: 280, Mastodon: 500)
    has that limit, except for a thread joined from several posts or a long-form post (``max_chars``)."""
    drop_replies: bool = True
    drop_retweets: bool = True


def filter_posts(posts: list[Post], options: FilterOptions = FilterOptions()) -> tuple[list[Post], Removed]:
    """Posts that pass, and what each rule removed."""
    kept, removed = [], Removed()
    for post in posts:
        limit = options.max_chars
        platform_limit = max_chars(post.platform)
        if platform_limit is not None and post.kind not in BEYOND_PLATFORM_LIMIT:
            limit = min(limit, platform_limit)
        if post.kind == "retweet" and options.drop_retweets:
            removed.add("retweet", post.text)
        elif post.kind == "reply" and options.drop_replies:
            removed.add("reply", post.text)
        elif len(post.text) < options.min_chars:
            removed.add(f"shorter than {options.min_chars} chars", post.text)
        elif len(post.text) > limit:
            removed.add(f"longer than {limit} chars", post.text)
        else:
            kept.append(post)
    return kept, removed
