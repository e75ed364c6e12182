"""Engagement scores and the gold set (the corpus is weighted by what the audience rewarded).

Per post: engagement = likes + 2*comments + 3*reposts (weights configurable), velocity =
engagement per hour between posting and scraping (when both dates are known), follower ratio =
engagement / followers (when known). Each available metric is rank-normalised to 0-1 over the
posts that have it, and a post's score is the mean of its ranks; a post without engagement data
scores 0.5 (neutral). The gold set is the top-N or top fraction by score. When no post has
engagement data every post counts equally and every post is gold.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import UserError
from .post import Post


@dataclass(frozen=True)
class EngagementWeights:
    likes: float = 1.0
    comments: float = 2.0
    """A comment costs the reader more than a like."""
    reposts: float = 3.0
    """A repost puts the post in front of a new audience."""


def rank_normalise(values: list[float]) -> list[float]:
    """Percentile ranks in 0-1 (ties share their mean rank); one value -> 1.0."""
    n = len(values)
    if n == 1:
        return [1.0]
    order = sorted(range(n), key=values.__getitem__)
    ranks = [0.0] * n
    i = 0
    while i < n:
        j = i
        while j + 1 < n and values[order[j + 1]] == values[order[i]]:
            j += 1
        mean_rank = (i + j) / 2
        for k in range(i, j + 1):
            ranks[order[k]] = mean_rank / (n - 1)
        i = j + 1
    return ranks


def score_posts(posts: list[Post], weights: EngagementWeights = EngagementWeights()) -> dict:
    """Fill engagement, velocity, follower_ratio and score on each post; returns what was available."""
    metrics: dict[str, list[tuple[int, float]]] = {"engagement": [], "velocity": [], "follower_ratio": []}
    for index, post in enumerate(posts):
        if not post.has_engagement:
            post.engagement = post.velocity = post.follower_ratio = None
            continue
        post.engagement = (weights.likes * (post.likes or 0) + weights.comments * (post.comments or 0)
                           + weights.reposts * (post.reposts or 0))
        metrics["engagement"].append((index, post.engagement))
        post.velocity = post.follower_ratio = None
        if post.posted_at and post.scraped_at:
            hours = (post.scraped_at - post.posted_at).total_seconds() / 3600
            if hours > 0:
                post.velocity = post.engagement / max(hours, 1.0)  # the first hour counts as one
                metrics["velocity"].append((index, post.velocity))
        if post.followers:
            post.follower_ratio = post.engagement / post.followers
            metrics["follower_ratio"].append((index, post.follower_ratio))
    ranks: dict[int, list[float]] = {}
    for pairs in metrics.values():
        if pairs:
            for (index, _), rank in zip(pairs, rank_normalise([v for _, v in pairs])):
                ranks.setdefault(index, []).append(rank)
    for index, post in enumerate(posts):
        post.score = sum(ranks[index]) / len(ranks[index]) if index in ranks else 0.5
    return {"posts_with_engagement": len(metrics["engagement"]),
            "posts_with_velocity": len(metrics["velocity"]),
            "posts_with_follower_ratio": len(metrics["follower_ratio"]),
            "metrics_used": [name for name, pairs in metrics.items() if pairs]}


def select_gold(posts: list[Post], top_k: int | None = None, top_frac: float = 0.5) -> int:
    """Mark the top-N (``top_k``) or top fraction by score as gold; ties keep input order. Returns N."""
    if top_k is not None and top_k < 1:
        raise UserError(f"--top-k must be at least 1 (got {top_k}).")
    if not 0.0 < top_frac <= 1.0:
        raise UserError(f"--top-frac must be in (0, 1] (got {top_frac}).")
    if not any(p.has_engagement for p in posts):
        count = len(posts)  # no engagement data: every post counts equally
    else:
        count = min(len(posts), top_k) if top_k is not None else max(1, round(len(posts) * top_frac))
    ranked = sorted(range(len(posts)), key=lambda i: -posts[i].score)
    gold = set(ranked[:count])
    for index, post in enumerate(posts):
        post.gold = index in gold
    return count
