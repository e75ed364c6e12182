"""Dedupe (exact + MinHash LSH) and engagement scoring / gold selection."""

from datetime import datetime, timedelta, timezone

import pytest

from pipeline.data.dedupe import dedupe
from pipeline.data.engagement import EngagementWeights, rank_normalise, score_posts, select_gold
from pipeline.data.post import Post
from pipeline.errors import UserError

BASE = ("Shipping on Fridays is fine when deploys are boring. Small diffs, feature flags on everything, "
        "rollback is one command and I stay online for an hour after each deploy. Make it boring.")


def test_exact_and_near_duplicates_removed_first_kept():
    posts = [Post(BASE, "a"), Post(BASE.upper() + "!!", "a"), Post(BASE + " Every single time.", "b"),
             Post("A different post about pricing: I doubled prices and nobody left, which surprised me a lot.", "a")]
    result = dedupe(posts, threshold=0.8)
    assert (result.removed["exact"], result.removed["near"]) == (1, 1)
    assert [p.source for p in result.kept] == ["a", "a"] and result.kept[0].text == BASE
    assert result.examples[0]["kept"] == BASE and result.examples[0]["similarity"] >= 0.8
    assert len(dedupe(posts, threshold=1.0).kept) == 3  # 1.0: exact only
    with pytest.raises(UserError, match="threshold"):
        dedupe(posts, threshold=0)


def test_rank_normalise_ties():
    assert rank_normalise([10, 30, 20, 20]) == [0.0, 1.0, 0.5, 0.5]
    assert rank_normalise([5]) == [1.0]


def test_engagement_velocity_follower_ratio_and_gold():
    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    posts = [Post("a", "s", likes=10, comments=1, reposts=1, followers=100, posted_at=t0, scraped_at=t0 + timedelta(hours=10)),
             Post("b", "s", likes=100, comments=0, reposts=0, followers=10000, posted_at=t0, scraped_at=t0 + timedelta(hours=100)),
             Post("c", "s", likes=50, reposts=10, followers=1000),
             Post("d", "s")]
    available = score_posts(posts, EngagementWeights())
    assert [p.engagement for p in posts] == [15.0, 100.0, 80.0, None]
    assert posts[0].velocity == 1.5 and posts[1].velocity == 1.0 and posts[2].velocity is None
    assert posts[0].follower_ratio == 0.15 and posts[3].score == 0.5
    assert available["posts_with_velocity"] == 2 and available["metrics_used"] == ["engagement", "velocity", "follower_ratio"]
    # a: ranks engagement 0, velocity 1, ratio 1 -> 0.67; b: 1, 0, 0 -> 0.33; c: 0.5, -, 0.5 -> 0.5; d: none -> 0.5
    assert [round(p.score, 2) for p in posts] == [0.67, 0.33, 0.5, 0.5]
    assert select_gold(posts, top_k=1) == 1 and [p.text for p in posts if p.gold] == ["a"]
    assert select_gold(posts, top_frac=0.5) == 2 and sum(p.gold for p in posts) == 2
    score_posts(posts, EngagementWeights(likes=0, comments=0, reposts=1))
    assert posts[2].engagement == 10.0


def test_no_engagement_means_every_post_is_gold():
    posts = [Post(str(i), "s") for i in range(5)]
    score_posts(posts)
    assert select_gold(posts, top_k=2) == 5 and all(p.gold for p in posts)
    with pytest.raises(UserError, match="top-frac"):
        select_gold(posts, top_frac=1.5)
