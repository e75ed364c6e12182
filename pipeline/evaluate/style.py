"""Style metrics of posts: hook, "bento" formatting, fluff, structural entropy.

Per post:

* ``hook_words``: words in the first non-empty line (a hook that reads before the fold is under 10 words);
* ``lines`` (non-empty lines), ``blank_line_share`` (blank lines / all lines: airy layout),
  ``bullet_share`` (share of non-empty lines that are list items);
* ``fluff_per_100_words``: lexicon hits (``fluff_lexicon.txt``) per 100 words;
* ``line_length_variance`` (words per non-empty line) and ``structural_entropy``: Shannon entropy
  in bits of the line-length histogram (blank / 1-3 / 4-7 / 8-15 / 16-31 / 32+ words). Viral
  posts mix short lines and lists (high); generic AI text is uniform paragraphs (low).

A set of posts is summarised by the mean of each metric, plus ``short_hook_rate`` and
``bullet_post_rate``; :func:`against_base` adds the change in line-length variance vs the base
(a trained voice should add about 20%).
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from statistics import mean, pvariance

LEXICON_PATH = Path(__file__).with_name("fluff_lexicon.txt")
HOOK_WORDS_MAX = 10
VARIANCE_TARGET = 0.20
BULLET = re.compile(r"^\s*(?:[-*•·▪►→✅✔👉]|➡️?|\d{1,2}[.)])\s*")
WORD = re.compile(r"\w[\w'’-]*", re.UNICODE)
LENGTH_BINS = (0, 1, 4, 8, 16, 32)  # lower edges in words; 0 = a blank line


@lru_cache(maxsize=4)
def load_lexicon(path: str | Path = LEXICON_PATH) -> re.Pattern:
    """One regex matching any lexicon term on word boundaries (phrases longest first)."""
    terms = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        term = line.split("#", 1)[0].strip().lower()
        if term:
            terms.append(term)
    terms.sort(key=len, reverse=True)
    escaped = [re.escape(t).replace(r"\ ", r"\s+").replace("'", "['’]") for t in terms]
    return re.compile(r"(?<![\w'’-])(?:" + "|".join(escaped) + r")(?![\w'’-])", re.IGNORECASE)


def words(text: str) -> list[str]:
    return WORD.findall(text)


def post_metrics(text: str, lexicon: re.Pattern | None = None) -> dict:
    """The metrics of one post (see the module doc)."""
    lexicon = lexicon or load_lexicon()
    lines = text.strip().splitlines()
    filled = [line for line in lines if line.strip()]
    counts = [len(words(line)) for line in filled]
    total_words = sum(counts)
    histogram = [0] * len(LENGTH_BINS)
    for line in lines:
        n = len(words(line))
        histogram[max(i for i, edge in enumerate(LENGTH_BINS) if n >= edge)] += 1
    total_lines = sum(histogram)
    entropy = -sum(c / total_lines * math.log2(c / total_lines) for c in histogram if c) if total_lines else 0.0
    return {
        "words": total_words,
        "hook_words": counts[0] if counts else 0,
        "lines": len(filled),
        "blank_line_share": (len(lines) - len(filled)) / len(lines) if lines else 0.0,
        "bullet_share": sum(bool(BULLET.match(line)) for line in filled) / len(filled) if filled else 0.0,
        "fluff_per_100_words": 100 * len(lexicon.findall(text)) / total_words if total_words else 0.0,
        "line_length_variance": pvariance(counts) if len(counts) > 1 else 0.0,
        "structural_entropy": entropy,
    }


def summarize(texts: list[str]) -> dict:
    """Means of the per-post metrics over ``texts``, plus the share of short hooks and of posts with bullets."""
    if not texts:
        return {"posts": 0}
    lexicon = load_lexicon()
    rows = [post_metrics(t, lexicon) for t in texts]
    out = {"posts": len(rows)}
    for key in rows[0]:
        out[key] = round(mean(r[key] for r in rows), 4)
    out["short_hook_rate"] = round(mean(0 < r["hook_words"] < HOOK_WORDS_MAX for r in rows), 4)
    out["bullet_post_rate"] = round(mean(r["bullet_share"] > 0 for r in rows), 4)
    return out


def against_base(summary: dict, base: dict) -> dict:
    """``summary`` plus the relative change in line-length variance vs ``base`` and whether it meets
    +20% (a base with no variance at all: no relative change, met when there is some)."""
    before, after = base.get("line_length_variance"), summary.get("line_length_variance")
    if before is None or after is None:
        return dict(summary)
    if before == 0:
        return {**summary, "variance_change_vs_base": None, "variance_target_met": after > 0}
    change = (after - before) / before
    return {**summary, "variance_change_vs_base": round(change, 4), "variance_target_met": change >= VARIANCE_TARGET}
