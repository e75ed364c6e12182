"""Burrows' Delta and bootstrap intervals: the classic stylometric distance next to the voice scorecard.

* **Burrows' Delta** (Burrows 2002, "Delta: a measure of stylistic difference"): the ``words``
  most frequent words of a reference corpus (the author's training posts and the training
  negatives); each document's
  relative frequency of each word is standardised by the reference corpus's mean and standard
  deviation (z-scores); Delta between two sets of texts = the mean absolute difference of their
  pooled z-scores. Lower = closer; here from each column's generations to the held-out real posts.
  Written here on that definition: the
  ``faststylometry`` package standardises across several known authors' subcorpora (we have one
  author) and imports ``wget`` at import time.
* :func:`bootstrap_mean`: a mean with its 95% percentile bootstrap interval (margins, blind tests).
"""

from __future__ import annotations

import re
from collections import Counter

RESAMPLES = 2000
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def bootstrap_mean(values: list[float], seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """Mean of ``values`` and its 95% percentile bootstrap interval (``low``, ``high``)."""
    import numpy as np

    if not values:
        return {"mean": None, "low": None, "high": None}
    data = np.asarray(values, dtype=np.float64)
    draws = np.random.default_rng(seed).integers(0, len(data), size=(resamples, len(data)))
    means = data[draws].mean(axis=1)
    return {"mean": round(float(data.mean()), 4), "low": round(float(np.percentile(means, 2.5)), 4),
            "high": round(float(np.percentile(means, 97.5)), 4)}


def _frequencies(texts: list[str], vocabulary: list[str]):
    """Relative frequency of each vocabulary word, one row per text."""
    import numpy as np

    rows = []
    for text in texts:
        words = _WORD.findall(text.lower())
        counts = Counter(words)
        rows.append([counts[w] / max(1, len(words)) for w in vocabulary])
    return np.asarray(rows, dtype=np.float64).reshape(len(texts), len(vocabulary))


def burrows_delta(reference: list[str], target: list[str], candidates: dict[str, list[str]], words: int = 100) -> dict:
    """Delta from each candidate set of texts to ``target``, standardised on ``reference``."""
    import numpy as np

    counts = Counter(w for text in reference for w in _WORD.findall(text.lower()))
    vocabulary = [w for w, _ in counts.most_common(words)]
    if len(vocabulary) < 10 or len(reference) < 2 or not target:
        return {"skipped": "too little text for Burrows' Delta (it needs 10+ frequent words and held-out posts)."}
    ref = _frequencies(reference, vocabulary)
    mean, std = ref.mean(axis=0), ref.std(axis=0, ddof=1)
    std[std == 0] = 1.0

    def profile(texts: list[str]):
        joined = _frequencies(["\n".join(texts)], vocabulary)[0]
        return (joined - mean) / std

    goal = profile(target)
    out: dict = {"words": len(vocabulary), "target": "held-out real posts",
                 "delta": {name: round(float(np.abs(profile(texts) - goal).mean()), 4)
                           for name, texts in candidates.items() if texts}}
    return out
