"""The authorship test ("which one is real?") and Burrows' Delta: does a variant write like the author?

* **Authorship classifier**: character n-gram TF-IDF (2-5 characters, case and line breaks kept,
  so layout and punctuation count as much as words) + a logistic regression (scikit-learn),
  trained on the author's training-split posts (label 1) against generic text (label 0): the
  training negatives and the base model's answers to training briefs. It is checked on data it
  never saw: held-out real posts against the base model's answers to held-out briefs
  (``report["auc"]``). ``voice_rate`` is then the share of a variant's generations it calls the
  author's (probability >= 0.5), with a 95% percentile bootstrap interval over the generations.
* **Burrows' Delta** (Burrows 2002, "Delta: a measure of stylistic difference"): the ``words``
  most frequent words of a reference corpus (the classifier's training texts); each document's
  relative frequency of each word is standardised by the reference corpus's mean and standard
  deviation (z-scores); Delta between two sets of texts = the mean absolute difference of their
  pooled z-scores. Lower = closer; here from each variant's generations to the held-out real posts
  (and, as a yardstick, from the held-out base answers). Written here on that definition: the
  ``faststylometry`` package standardises across several known authors' subcorpora (we have one
  author) and imports ``wget`` at import time.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

MIN_TEXTS = 4
"""Fewest texts per side (train and held-out) the test runs with."""
RESAMPLES = 2000
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass
class AuthorshipTest:
    """A trained authorship classifier and its held-out check."""

    classifier: object
    report: dict

    def probabilities(self, texts: list[str]):
        return self.classifier.predict_proba(list(texts))[:, 1]

    def voice_rate(self, texts: list[str], seed: int = 0) -> dict:
        """Share of ``texts`` called the author's, with a 95% bootstrap interval."""
        flags = [float(p >= 0.5) for p in self.probabilities(texts)] if texts else []
        return {**bootstrap_mean(flags, seed), "n": len(flags)}


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


def train(real_train: list[str], generic_train: list[str], real_held_out: list[str],
          generic_held_out: list[str], generic_sources: dict[str, int] | None = None) -> AuthorshipTest | dict:
    """Fit on the training texts, check on the held-out ones; ``{"skipped": why}`` when too few."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.pipeline import make_pipeline

    sizes = {"real_train": len(real_train), "generic_train": len(generic_train),
             "real_held_out": len(real_held_out), "generic_held_out": len(generic_held_out)}
    short = [name for name, n in sizes.items() if n < MIN_TEXTS]
    if short:
        return {"skipped": f"too few texts for the authorship test ({', '.join(f'{k} {sizes[k]}' for k in short)}; "
                           f"it needs {MIN_TEXTS}+ each).", **sizes}
    classifier = make_pipeline(
        TfidfVectorizer(analyzer="char", ngram_range=(2, 5), lowercase=False, sublinear_tf=True, min_df=2),
        LogisticRegression(C=10.0, class_weight="balanced", max_iter=2000))
    classifier.fit(list(real_train) + list(generic_train), [1] * len(real_train) + [0] * len(generic_train))
    test = AuthorshipTest(classifier, {})
    y = np.array([1] * len(real_held_out) + [0] * len(generic_held_out))
    p = test.probabilities(list(real_held_out) + list(generic_held_out))
    test.report = {
        **sizes, "generic_sources": generic_sources or {},
        "auc": round(float(roc_auc_score(y, p)), 4),
        "accuracy": round(float(accuracy_score(y, p >= 0.5)), 4),
        "real_held_out_called_real": round(float((p[:len(real_held_out)] >= 0.5).mean()), 4),
        "features": "character 2-5-grams, TF-IDF (case and line breaks kept)",
        "check": "held-out real posts vs the base model's answers to held-out briefs",
    }
    return test


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
