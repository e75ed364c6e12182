"""Burrows' Delta, bootstrap intervals and held-out-only gold / See More."""

import random

from support.ada_data import TOPICS, chosen_post, rejected_post

from pipeline.evaluate.stylometry import bootstrap_mean, burrows_delta
from pipeline.evaluate.report import gold_posts, split_posts
from pipeline.fsio import atomic_write_jsonl


def _real(i):
    topic = TOPICS[i % len(TOPICS)]
    return random.Random(i).choice([chosen_post(topic, i), f"{topic.capitalize()}?\n\nI tried it for {i} weeks.\n\n- it broke\n- I fixed it\n\nShip it."])


def _generic(i):
    topic = TOPICS[i % len(TOPICS)]
    guide = (f"**{topic.title()}: A Comprehensive Guide**\n\nAs an AI, I believe {topic} is essential for success. "
             "Here are some tips to consider.")
    return random.Random(i).choice([rejected_post(topic, i), guide])


def test_bootstrap_interval_brackets_the_mean_and_collapses_on_constant_data():
    mixed = bootstrap_mean([0.0, 1.0] * 10, seed=1)
    assert mixed["mean"] == 0.5 and 0.2 < mixed["low"] < 0.5 < mixed["high"] < 0.8
    assert bootstrap_mean([1.0] * 8) == {"mean": 1.0, "low": 1.0, "high": 1.0}
    assert bootstrap_mean([])["mean"] is None


def test_burrows_delta_is_smaller_for_the_authors_own_style():
    reference = [_real(i) for i in range(30)] + [_generic(i) for i in range(30)]
    report = burrows_delta(reference, [_real(i) for i in range(100, 115)],
                           {"like_author": [_real(i) for i in range(200, 215)],
                            "generic": [_generic(i) for i in range(200, 215)]})
    assert report["delta"]["like_author"] < report["delta"]["generic"] and report["words"] >= 10
    assert "skipped" in burrows_delta(["a b"], ["a"], {"x": ["a"]})


def test_gold_and_see_more_posts_are_held_out_only(tmp_path):
    from pipeline.evaluate.seemore import train as train_see_more

    posts = [{"text": _real(i) if i % 2 else _generic(i), "score": (0.9 if i % 2 else 0.1) + i / 1000,
              "gold": bool(i % 2), "split": "test" if i >= 40 else "train"} for i in range(52)]
    atomic_write_jsonl(tmp_path / "posts.jsonl", posts)
    gold, source = gold_posts(tmp_path, [], {"name": "test", "made": False})
    assert gold == [p["text"] for p in posts[40:] if p["gold"]] and source == "posts.jsonl gold, test split"
    train_rows, held = split_posts(posts, {"name": "test", "made": False})
    assert len(train_rows) == 40 and held == posts[40:]
    assert split_posts(posts, {"name": "train", "made": True}) == (posts, [])  # carved from train: none held out
    proxy = train_see_more(train_rows, held_out=held)
    assert proxy.report["checked_on"] == "the held-out split's posts" and proxy.report["held_out"] == 12
    assert proxy.report["train"] == 40 and proxy.report["auc"] > 0.9
