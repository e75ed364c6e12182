"""Data: clean + filter + dedupe + engagement on 10k and 100k posts, side by side in one run.

The corpus is the sample posts recombined (lines shuffled between posts, numbers varied) so most
posts are distinct, with 5% exact copies and 5% near-copies, like a real scrape.
"""

from __future__ import annotations

import copy
import random
import time

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import SAMPLE
from pipeline.data.build import clean_posts
from pipeline.data.dedupe import dedupe
from pipeline.data.engagement import score_posts, select_gold
from pipeline.data.filters import filter_posts
from pipeline.data.ingest import ingest


def synthetic_corpus(n: int, seed: int = 0) -> list:
    rng = random.Random(seed)
    seeds = ingest(SAMPLE).posts
    lines = [line for p in seeds for line in p.text.splitlines() if line.strip()]
    posts = []
    for i in range(n):
        template = seeds[i % len(seeds)]
        roll = rng.random()
        if roll < 0.05 and posts:
            text = rng.choice(posts).text  # exact copy
        elif roll < 0.10 and posts:
            text = rng.choice(posts).text + " Agreed."  # near copy
        else:
            picked = rng.sample(lines, k=rng.randint(3, 7))
            text = "\n".join(picked) + f"\n\nDay {rng.randint(1, 10_000)} of building {rng.randint(1, 999)} things."
        post = copy.copy(template)
        post.text = text
        post.likes = rng.randint(0, 5000)
        post.comments = rng.randint(0, 400)
        post.reposts = rng.randint(0, 200)
        posts.append(post)
    return posts


def process(posts: list) -> float:
    start = time.perf_counter()
    posts = clean_posts(posts)
    posts, _ = filter_posts(posts)
    posts = dedupe(posts).kept
    score_posts(posts)
    select_gold(posts)
    return time.perf_counter() - start


def main() -> None:
    small, large = (2_000, 20_000) if quick_flag() else (10_000, 100_000)
    corpus_small, corpus_large = synthetic_corpus(small), synthetic_corpus(large)
    t_small, t_large = process(corpus_small), process(corpus_large)
    emit([
        Figure(f"data: {large // 1000}k posts clean+dedupe+engagement", t_large, 60.0, higher_is_better=False,
               unit="s", details={"posts": large}),
        Figure(f"data: time({large // 1000}k) / time({small // 1000}k)", t_large / t_small, 12.0,
               higher_is_better=False, details={"small_s": round(t_small, 2), "large_s": round(t_large, 2)}),
    ])


if __name__ == "__main__":
    main()
