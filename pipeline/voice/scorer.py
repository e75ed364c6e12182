"""A voice scorer trained once, for scoring many texts cheaply (GRPO's reward, the `voice score` command).

It is the scorecard's detector fitted on the training split only: the author's training posts
(label 1) against other people's posts and generic prose (label 0). ``score(texts)`` is the
probability that each text is the author's; a text scores only the reference model's surprisal
pass and a dot product.
"""

from __future__ import annotations

from .detector import Featurizer, fit_detector, predict, sample_texts
from .surprisal import ReferenceModel


class VoiceScorer:
    """``VoiceScorer.fit(author_posts, others).score(texts) -> [P(the author's)]``."""

    def __init__(self, featurizer: Featurizer, fitted):
        self._featurizer = featurizer
        self._fitted = fitted

    @classmethod
    def fit(cls, author: list[str], others: list[str], *, reference_model: ReferenceModel | None = None,
            max_per_side: int = 1000, seed: int = 0) -> "VoiceScorer":
        """Fit on ``author`` (training posts only) vs ``others`` (reference pool and generic prose),
        each capped at ``max_per_side`` texts (a seeded sample)."""
        import numpy as np

        rng = np.random.default_rng(seed)
        author, others = sample_texts(author, max_per_side, rng), sample_texts(others, max_per_side, rng)
        if not author or not others:
            raise ValueError("the voice scorer needs the author's posts and some other texts to fit on.")
        featurizer = Featurizer(reference_model or ReferenceModel())
        fitted = fit_detector(featurizer, author + others, [1] * len(author) + [0] * len(others))
        return cls(featurizer, fitted)

    def score(self, texts: list[str]) -> list[float]:
        """P(the author wrote it) for each text (empty texts score 0)."""
        keep = [i for i, t in enumerate(texts) if t.strip()]
        scores = [0.0] * len(texts)
        for i, p in zip(keep, predict(self._featurizer, self._fitted, [texts[i] for i in keep]) if keep else []):
            scores[i] = p
        return scores

