"""Texts that must not pass as the author's, made from the author's own posts (for tests and checks).

* word salad: each post's line layout filled with words drawn from the author's vocabulary (as
  often as the author uses them), so character n-grams and word counts look like the author's;
* lines shuffled across posts: real lines of the author's, put together from different posts.
"""

from __future__ import annotations

import random


def word_salad(vocabulary_posts: list[str], shapes: list[str], seed: int = 0) -> list[str]:
    """One salad per text of ``shapes`` (same lines, same words per line), words drawn from
    ``vocabulary_posts``."""
    rng = random.Random(seed)
    words = [w for t in vocabulary_posts for w in t.split()]
    return ["\n".join(" ".join(rng.choice(words) for _ in line.split()) for line in shape.splitlines())
            for shape in shapes]


def shuffled_lines(posts: list[str], count: int, seed: int = 0) -> list[str]:
    """``count`` texts in the layout of a real post (its blank lines kept), each of its lines
    replaced by a line drawn from the other posts."""
    rng = random.Random(seed)
    out = []
    for index in rng.sample(range(len(posts)), min(count, len(posts))):
        others = [line for i, t in enumerate(posts) if i != index for line in t.splitlines() if line.strip()]
        out.append("\n".join(rng.choice(others) if line.strip() else "" for line in posts[index].splitlines()))
    return out
