"""The "See More" proxy (seed 000): how likely a post's text is to be a high-engagement post.

A logistic regression (scikit-learn) on all-MiniLM-L6-v2 embeddings plus the structure of the
text (hook length, lines, bullets, blank lines, fluff), trained on the imported posts
(``data/posts.jsonl``): label 1 = engagement score in the top half (``score`` >= the median),
0 = the bottom half. A stratified quarter is held out for accuracy and ROC AUC; the model then
gives each variant's generations a mean predicted probability of being "high". With a few hundred
posts and ~390 features the regularisation strength matters: it is chosen by 5-fold
cross-validation on the training part (on the sample data a fixed C=0.5 overfit to a held-out AUC
of 0.49; the chosen C gave 0.60).
"""

from __future__ import annotations

from dataclasses import dataclass

from .similarity import embed
from .style import load_lexicon, post_metrics

STRUCTURE = ("hook_words", "lines", "blank_line_share", "bullet_share", "fluff_per_100_words", "structural_entropy")
MIN_POSTS = 12
C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Inverse regularisation strengths tried by cross-validation."""


@dataclass
class SeeMore:
    """A trained proxy and its held-out figures."""

    classifier: object
    report: dict

    def probability(self, texts: list[str]) -> float | None:
        """Mean predicted probability of "high engagement" over ``texts``."""
        if not texts:
            return None
        return round(float(self.classifier.predict_proba(features(texts))[:, 1].mean()), 4)


def features(texts: list[str]):
    """MiniLM embedding + structure metrics, one row per text."""
    import numpy as np

    lexicon = load_lexicon()
    structure = np.array([[post_metrics(t, lexicon)[k] for k in STRUCTURE] for t in texts], dtype=np.float32)
    return np.hstack([embed(texts), structure])


def train(posts: list[dict], seed: int = 0) -> SeeMore | dict:
    """Train on ``posts`` (rows of posts.jsonl); returns a :class:`SeeMore`, or ``{"skipped": why}``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rows = [p for p in posts if isinstance(p.get("text"), str) and p["text"].strip()
            and isinstance(p.get("score", p.get("engagement")), (int, float))]
    if len(rows) < MIN_POSTS:
        return {"skipped": f"{len(rows)} posts with text and an engagement score; the proxy needs {MIN_POSTS}+."}
    scores = np.array([float(p.get("score", p.get("engagement"))) for p in rows])
    labels = (scores >= np.median(scores)).astype(int)
    if labels.min() == labels.max():
        return {"skipped": "every post has the same engagement score: nothing to tell high from low."}
    x = features([p["text"] for p in rows])
    x_train, x_test, y_train, y_test = train_test_split(x, labels, test_size=0.25, random_state=seed, stratify=labels)
    folds = max(2, min(5, int(np.bincount(y_train).min())))
    classifier = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=list(C_GRID), cv=folds, scoring="roc_auc",
                                                                      max_iter=2000, class_weight="balanced"))
    classifier.fit(x_train, y_train)
    probabilities = classifier.predict_proba(x_test)[:, 1]
    report = {
        "posts": len(rows),
        "train": len(y_train),
        "held_out": len(y_test),
        "accuracy": round(float(accuracy_score(y_test, probabilities >= 0.5)), 4),
        "auc": round(float(roc_auc_score(y_test, probabilities)), 4) if len(set(y_test)) > 1 else None,
        "label": "score >= median of the imported posts",
        "C": float(classifier[-1].C_[0]),
    }
    return SeeMore(classifier, report)
