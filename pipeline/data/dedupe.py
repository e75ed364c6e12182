"""Exact and near-duplicate removal (MinHash LSH over word 3-grams, via ``datasketch``).

The first occurrence of a post is kept; later copies are removed. "Exact" compares normalised
text (case, punctuation and spacing ignored); "near" estimates the Jaccard similarity of word
3-gram sets and removes a post whose similarity to a kept one reaches the threshold.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from ..errors import UserError
from .post import Post
from .removed import Removed

_NON_WORD = re.compile(r"[^\w\s]+")
NUM_PERM = 128


def normalise(text: str) -> str:
    """Lower case, punctuation dropped, spaces collapsed: the key for exact duplicates."""
    return " ".join(_NON_WORD.sub(" ", text.lower()).split())


def shingles(text: str, n: int = 3) -> list[bytes]:
    words = normalise(text).split()
    if len(words) <= n:
        return [" ".join(words).encode("utf-8")]
    return [" ".join(words[i:i + n]).encode("utf-8") for i in range(len(words) - n + 1)]


@dataclass
class DedupeResult:
    kept: list[Post]
    removed: Removed = field(default_factory=Removed)
    """Removed posts by reason, ``exact`` and ``near``, with a few examples each."""
    examples: list[dict] = field(default_factory=list)
    """A few removed near-duplicates beside the post they matched (for the report)."""


def dedupe(posts: list[Post], threshold: float = 0.8, near: bool = True, max_examples: int = 5) -> DedupeResult:
    """Remove exact duplicates, then near-duplicates at Jaccard >= ``threshold``."""
    if not 0.0 < threshold <= 1.0:
        raise UserError(f"dedupe threshold must be in (0, 1] (got {threshold}); 0.8 is a good start.")
    seen: set[str] = set()
    unique: list[Post] = []
    result = DedupeResult(kept=unique)
    for post in posts:
        key = normalise(post.text)
        if key in seen:
            result.removed.add("exact", post.text)
            continue
        seen.add(key)
        unique.append(post)
    if not near or threshold >= 1.0 or len(unique) < 2:
        return result

    from datasketch import MinHash, MinHashLSH

    # Every sketch shares one set of permutations (making them is slow) and hashes shingles with
    # crc32 (a 32-bit hash in C, several times faster than the default sha1 here).
    template = MinHash(num_perm=NUM_PERM, hashfunc=zlib.crc32)
    lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
    sketches: dict[int, MinHash] = {}
    kept: list[Post] = []
    for index, post in enumerate(unique):
        sketch = MinHash(num_perm=NUM_PERM, permutations=template.permutations, scheme=template.scheme,
                         hashfunc=zlib.crc32)
        sketch.update_batch(shingles(post.text))
        # LSH candidates are likely matches; the sketch comparison confirms the threshold.
        match = next((c for c in lsh.query(sketch) if sketch.jaccard(sketches[c]) >= threshold), None)
        if match is None:
            lsh.insert(index, sketch)
            sketches[index] = sketch
            kept.append(post)
        else:
            result.removed.add("near", post.text)
            if len(result.examples) < max_examples:
                result.examples.append({"removed": post.text, "kept": unique[match].text,
                                        "similarity": round(sketch.jaccard(sketches[match]), 3)})
    result.kept = kept
    return result
