"""Filter posts by length and kind (replies and retweets are someone else's voice or half a thread)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from .post import Post

TWEET_SOURCE_KINDS = ("tweets-archive",)


@dataclass(frozen=True)
class FilterOptions:
    min_chars: int = 30
    """Shorter posts carry too little style to learn from."""
    max_chars: int = 3000
    """Longer ones are articles, not posts."""
    max_chars_tweets: int = 250
    """The limit for posts from an X archive."""
    drop_replies: bool = True
    drop_retweets: bool = True


def filter_posts(posts: list[Post], options: FilterOptions = FilterOptions(),
                 tweet_sources: set[str] = frozenset()) -> tuple[list[Post], Counter]:
    """Posts that pass, and how many each rule removed (``tweet_sources``: file names of X archives)."""
    kept, removed = [], Counter()
    for post in posts:
        limit = options.max_chars_tweets if post.source in tweet_sources else options.max_chars
        if post.kind == "retweet" and options.drop_retweets:
            removed["retweet"] += 1
        elif post.kind == "reply" and options.drop_replies:
            removed["reply"] += 1
        elif len(post.text) < options.min_chars:
            removed[f"shorter than {options.min_chars} chars"] += 1
        elif len(post.text) > limit:
            removed[f"longer than {limit} chars"] += 1
        else:
            kept.append(post)
    return kept, removed
