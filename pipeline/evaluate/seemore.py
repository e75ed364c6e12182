"""The "See More" proxy: how likely a post's text is to be a high-engagement post.

A logistic regression (scikit-learn) on all-MiniLM-L6-v2 embeddings plus the structure of the
text (hook length, lines, bullets, blank lines, fluff), trained on the imported posts
(``data/posts.jsonl``): label 1 = engagement score in the top half (``score`` >= the median),
0 = the bottom half. Given the held-out split's posts (``held_out``), it trains on the others and
reports accuracy and ROC AUC on those only (the labels use the training posts' median); without
them a stratified quarter is held out. The model then gives each variant's generations, and the
held-out posts, a mean predicted probability of being "high". With a few hundred
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


def train(posts: list[dict], seed: int = 0, held_out: list[dict] | None = None) -> SeeMore | dict:
    """Train on ``posts`` (rows of posts.jsonl) and check on ``held_out`` (rows of posts.jsonl that
    are not in ``posts``; default: a quarter of ``posts``); returns a :class:`SeeMore`, or
    ``{"skipped": why}``."""
    import numpy as np
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    def usable(rows: list[dict]) -> list[dict]:
        return [p for p in rows if isinstance(p.get("text"), str) and p["text"].strip()
                and isinstance(p.get("score", p.get("engagement")), (int, float))]

    def score(rows: list[dict]):
        return np.array([float(p.get("score", p.get("engagement"))) for p in rows])

    rows, test_rows = usable(posts), usable(held_out or [])
    if len(rows) < MIN_POSTS:
        return {"skipped": f"{len(rows)} posts with text and an engagement score; the proxy needs {MIN_POSTS}+."}
    median = np.median(score(rows))
    labels = (score(rows) >= median).astype(int)
    if labels.min() == labels.max():
        return {"skipped": "every post has the same engagement score: nothing to tell high from low."}
    test_labels = (score(test_rows) >= median).astype(int) if test_rows else np.array([], dtype=int)
    if len(test_rows) >= 4 and test_labels.min() != test_labels.max():
        x_train, y_train, x_test, y_test = features([p["text"] for p in rows]), labels, features(
            [p["text"] for p in test_rows]), test_labels
        checked = "the held-out split's posts"
    else:
        x = features([p["text"] for p in rows])
        x_train, x_test, y_train, y_test = train_test_split(x, labels, test_size=0.25, random_state=seed, stratify=labels)
        checked = "a stratified quarter of the posts"
    folds = max(2, min(5, int(np.bincount(y_train).min())))
    classifier = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=list(C_GRID), cv=folds, scoring="roc_auc",
                                                                      max_iter=2000, class_weight="balanced"))
    classifier.fit(x_train, y_train)
    probabilities = classifier.predict_proba(x_test)[:, 1]
    report = {
        "posts": len(rows) + (len(test_rows) if checked.startswith("the held-out") else 0),
        "train": len(y_train),
        "held_out": len(y_test),
        "checked_on": checked,
        "accuracy": round(float(accuracy_score(y_test, probabilities >= 0.5)), 4),
        "auc": round(float(roc_auc_score(y_test, probabilities)), 4) if len(set(y_test)) > 1 else None,
        "label": "score >= median of the training posts",
        "C": float(classifier[-1].C_[0]),
    }
    return SeeMore(classifier, report)
