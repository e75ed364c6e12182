"""The author's observable conventions, and how closely a set of texts keeps them.

Conventions (``CONVENTIONS``) are per-post averages a reader notices: length, lines, blank lines,
hashtags, mentions, emoji, links, questions, exclamations, capitals, bullets. Distinctive words are
the ones the author over-uses against the reference pool: the log-odds ratio with an informative
Dirichlet prior (Monroe, Colaresi and Quinn 2008), ranked by its z-score.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from .features import BULLET_LINE, EMOJI, HASHTAG, MENTION, URL

CONVENTIONS = {
    "characters": lambda t: len(t),
    "lines": lambda t: sum(1 for line in t.splitlines() if line.strip()),
    "blank lines": lambda t: len(re.findall(r"\n\s*\n", t)),
    "bullet lines": lambda t: sum(bool(BULLET_LINE.match(line)) for line in t.splitlines()),
    "hashtags": lambda t: len(HASHTAG.findall(t)),
    "mentions": lambda t: len(MENTION.findall(t)),
    "emoji": lambda t: len(EMOJI.findall(t)),
    "links": lambda t: len(URL.findall(t)),
    "questions": lambda t: t.count("?"),
    "exclamations": lambda t: t.count("!"),
    "capitalised share": lambda t: sum(c.isupper() for c in t) / max(1, sum(c.isalpha() for c in t)),
}
"""Convention name -> its value for one post; a profile holds the mean over posts."""
_TOKEN = re.compile(r"[a-z][a-z'’-]+")


@dataclass
class VoiceProfile:
    """Mean conventions per post and the author's distinctive words (with their usage per 100 words)."""

    conventions: dict[str, float]
    distinctive: list[str] = field(default_factory=list)
    distinctive_rate: float = 0.0
    """How many of ``distinctive`` occur per 100 words."""

    def as_dict(self) -> dict:
        return {"conventions": {k: round(v, 4) for k, v in self.conventions.items()},
                "distinctive": self.distinctive, "distinctive_rate": round(self.distinctive_rate, 3)}


def distinctive_words(author: list[str], reference: list[str], k: int = 20, min_count: int = 3) -> list[str]:
    """The ``k`` words the author over-uses most against ``reference`` (log-odds z-score, prior = both)."""
    a, r = _counts(author), _counts(reference)
    prior = a + r
    na, nr, n0 = sum(a.values()), sum(r.values()), sum(prior.values())
    scores = {}
    for word, total in prior.items():
        if a[word] < min_count:
            continue
        alpha = total * 0.1 * 1000 / max(1, n0) + 0.01  # a prior of about 1000 pseudo-words, spread like the data
        alpha0 = 1000 * 0.1 + 0.01 * len(prior)
        delta = (math.log((a[word] + alpha) / (na + alpha0 - a[word] - alpha))
                 - math.log((r[word] + alpha) / (nr + alpha0 - r[word] - alpha)))
        variance = 1 / (a[word] + alpha) + 1 / (r[word] + alpha)
        scores[word] = delta / math.sqrt(variance)
    return sorted(scores, key=lambda w: -scores[w])[:k]


def profile(texts: list[str], distinctive: list[str]) -> VoiceProfile:
    """``texts``' mean conventions and their rate of ``distinctive`` words."""
    means = {name: sum(f(t) for t in texts) / max(1, len(texts)) for name, f in CONVENTIONS.items()}
    words = [w for t in texts for w in _TOKEN.findall(t.lower())]
    wanted = set(distinctive)
    rate = 100 * sum(w in wanted for w in words) / max(1, len(words))
    return VoiceProfile(means, list(distinctive), rate)


def match(author: VoiceProfile, other: VoiceProfile) -> dict:
    """Per convention (and the distinctive-word rate): the author's value, the other's, and a match in
    [0, 1] (1 = the same; 0 = off by the author's value or more, or by 1 per post where the author's is
    under 1). ``overall`` is the mean match."""
    rows = {}
    pairs = [(name, author.conventions[name], other.conventions[name]) for name in CONVENTIONS]
    pairs.append(("distinctive words per 100", author.distinctive_rate, other.distinctive_rate))
    for name, mine, theirs in pairs:
        scale = max(abs(mine), 1.0 if name != "capitalised share" else 0.05)
        rows[name] = {"author": round(mine, 3), "texts": round(theirs, 3),
                      "match": round(max(0.0, 1 - abs(theirs - mine) / scale), 3)}
    return {"rows": rows, "overall": round(sum(r["match"] for r in rows.values()) / len(rows), 3)}


def profile_figure(author: VoiceProfile, columns: dict[str, VoiceProfile]):
    """A bar chart: each convention of each column as a share of the author's value (the author =
    1, marked by a line; bars start at zero, capped at 3 with the true value written on capped bars)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [n for n in CONVENTIONS if author.conventions[n] > 0] + ["distinctive words per 100"]
    mine = [author.conventions.get(n, author.distinctive_rate) for n in names[:-1]] + [author.distinctive_rate]
    figure, axes = plt.subplots(figsize=(8, 0.45 * len(names) * max(1, len(columns)) ** 0.5 + 1.5))
    height = 0.8 / max(1, len(columns))
    y = np.arange(len(names))
    for k, (column, prof) in enumerate(columns.items()):
        theirs = [prof.conventions.get(n, prof.distinctive_rate) for n in names[:-1]] + [prof.distinctive_rate]
        ratios = [t / m if m else 0.0 for t, m in zip(theirs, mine)]
        bars = axes.barh(y + k * height, [min(r, 3.0) for r in ratios], height, label=column)
        for bar, ratio in zip(bars, ratios):
            if ratio > 3.0:
                axes.text(3.0, bar.get_y() + height / 2, f" {ratio:.1f}x", va="center", fontsize=8)
    axes.axvline(1.0, color="black", linewidth=1)
    axes.set_yticks(y + height * (len(columns) - 1) / 2, names)
    axes.invert_yaxis()
    axes.set_xlim(0, 3.4)
    axes.set_xlabel("share of your posts' value (1 = yours)")
    axes.set_title("Your conventions, kept?")
    axes.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def _counts(texts: list[str]) -> Counter:
    return Counter(w for t in texts for w in _TOKEN.findall(t.lower()))
