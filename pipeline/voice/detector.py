"""The voice detector: a classifier two-sample test between the author's real posts and other texts.

A logistic regression sees every text's hashed character and word n-grams, function-word rates,
layout (:mod:`.features`) and per-token surprisal statistics under the reference model
(:mod:`.surprisal`). It is cross-fitted: over ``folds`` stratified folds, each text is scored by a
detector that never saw it, and the ROC AUC of those out-of-fold scores says how well the two sets
can be told apart (0.5 = indistinguishable, 1.0 = every text told apart). The interval is a
stratified bootstrap of those scores (seeded, so the same inputs and seed give the same numbers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Callable

from .features import ngram_features, style_features
from .surprisal import ReferenceModel

NGRAM_WEIGHT = 3.0
"""Scale of the (unit-length) n-gram blocks next to the standardised dense features, so vocabulary
counts as much as style and fluency."""
MIN_PER_SIDE = 4


@dataclass(frozen=True)
class Detection:
    """How well the detector tells ``other`` texts from the author's real posts."""

    auc: float
    """Cross-fitted ROC AUC: 0.5 = indistinguishable from the author, 1.0 = trivially told apart."""
    low: float
    high: float
    """The bootstrap interval (``level``) of ``auc``."""
    n_real: int
    n_other: int
    level: float = 0.95

    def as_dict(self) -> dict:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


class Featurizer:
    """Texts -> the detector's features; dense rows are cached per text. Without a reference model
    (``reference=None``) the surprisal features are left out (word salad then goes unseen)."""

    def __init__(self, reference: ReferenceModel | None):
        self.reference = reference
        self._dense: dict[str, list[float]] = {}

    def dense(self, texts: list[str], progress: Callable[[int], None] | None = None):
        import numpy as np

        todo = list(dict.fromkeys(t for t in texts if t not in self._dense))
        if todo:
            fluency = self.reference.stats(todo, progress) if self.reference else [[] for _ in todo]
            for text, stats in zip(todo, fluency):
                self._dense[text] = style_features(text) + stats
        return np.asarray([self._dense[t] for t in texts], dtype=np.float64)

    def sparse(self, texts: list[str]):
        return ngram_features(texts)


def design(sparse, dense, scaler):
    """The detector's input: the n-gram rows and the dense rows standardised by ``scaler`` (fitted
    on training rows only)."""
    from scipy.sparse import csr_matrix, hstack

    return hstack([sparse * NGRAM_WEIGHT, csr_matrix(scaler.transform(dense))]).tocsr()


def _fit(sparse, dense, labels):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(dense)
    model = LogisticRegression(C=1.0, solver="liblinear", max_iter=1000).fit(design(sparse, dense, scaler), labels)
    return scaler, model


def fit_detector(featurizer: Featurizer, texts: list[str], labels: list[int]):
    """``(scaler, logistic regression)`` fitted on ``texts``; :func:`predict` scores new texts."""
    return _fit(featurizer.sparse(texts), featurizer.dense(texts), labels)


def predict(featurizer: Featurizer, fitted, texts: list[str]) -> list[float]:
    """P(label 1) for each of ``texts`` under a :func:`fit_detector` result."""
    scaler, model = fitted
    return model.predict_proba(design(featurizer.sparse(texts), featurizer.dense(texts), scaler))[:, 1].tolist()


def detect(featurizer: Featurizer, real: list[str], other: list[str], *, folds: int = 5, seed: int = 0,
           max_per_side: int = 200, bootstrap: int = 1000) -> Detection:
    """Cross-fitted two-sample test: ``real`` (the author's posts, label 0) vs ``other`` (label 1).

    Each side is capped at ``max_per_side`` texts (a seeded sample); ``folds`` is lowered to the
    smaller side's size. Raises ``ValueError`` when a side has fewer than ``MIN_PER_SIDE`` texts."""
    import numpy as np
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(seed)
    real, other = sample_texts(real, max_per_side, rng), sample_texts(other, max_per_side, rng)
    if min(len(real), len(other)) < MIN_PER_SIDE:
        raise ValueError(f"the detector needs at least {MIN_PER_SIDE} texts a side (got {len(real)} real, "
                         f"{len(other)} other).")
    texts = real + other
    labels = np.array([0] * len(real) + [1] * len(other))
    sparse, dense = featurizer.sparse(texts), featurizer.dense(texts)
    scores = np.zeros(len(texts))
    splitter = StratifiedKFold(n_splits=min(folds, len(real), len(other)), shuffle=True, random_state=seed)
    for train, test in splitter.split(texts, labels):
        scaler, model = _fit(sparse[train], dense[train], labels[train])
        scores[test] = model.predict_proba(design(sparse[test], dense[test], scaler))[:, 1]
    auc, low, high = auc_interval(labels, scores, bootstrap, rng)
    return Detection(auc, low, high, len(real), len(other))


def auc_interval(labels, scores, bootstrap: int, rng, level: float = 0.95) -> tuple[float, float, float]:
    """ROC AUC of ``scores`` and its stratified bootstrap interval."""
    import numpy as np

    auc = _auc(labels, scores)
    zeros, ones = np.flatnonzero(labels == 0), np.flatnonzero(labels == 1)
    draws = []
    for _ in range(bootstrap):
        pick = np.concatenate([rng.choice(zeros, len(zeros)), rng.choice(ones, len(ones))])
        draws.append(_auc(labels[pick], scores[pick]))
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail]) if draws else (auc, auc)
    return auc, float(low), float(high)


def _auc(labels, scores) -> float:
    """ROC AUC as the Mann-Whitney statistic (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    ones = labels == 1
    n1, n0 = int(ones.sum()), int((~ones).sum())
    return float((ranks[ones].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def sample_texts(texts: list[str], limit: int, rng) -> list[str]:
    """``texts`` without blanks and repeats, at most ``limit`` of them (a seeded sample, in order)."""
    texts = [t for t in dict.fromkeys(texts) if t.strip()]
    if len(texts) <= limit:
        return texts
    return [texts[i] for i in sorted(rng.choice(len(texts), limit, replace=False))]
