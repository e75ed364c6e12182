"""Per-token surprisal of texts under a fixed reference model (the base model by default).

Surprisal is what makes word salad detectable: a "post" of the author's own words in random order
has the author's character n-grams and function words, but every next token is a surprise. Each
text is scored as the reply to one fixed neutral request (``PROMPT``), so every text, real or
generated, is measured the same way; the batched scorer is
:func:`pipeline.scoring.completion_token_logprobs`.
"""

from __future__ import annotations

import math
from typing import Callable

PROMPT = [{"role": "user", "content": "Write a social media post."}]
STATS = ("mean", "std", "q10", "q25", "median", "q75", "q90", "max", "share_over_8")
"""Per-text statistics of token surprisal (nats), in this order; ``share_over_8``: tokens above 8 nats."""


class ReferenceModel:
    """A causal LM that scores texts, with a per-text cache (the same text is never scored twice)."""

    def __init__(self, model_spec: str = "default", *, max_tokens: int = 128, batch_size: int = 16,
                 log: Callable[..., None] = lambda *a, **k: None):
        self.model_spec = model_spec
        self.max_tokens = max_tokens
        """Tokens of a text scored (longer texts are cut: a post's voice shows in its first lines)."""
        self.batch_size = batch_size
        self._log = log
        self._loaded = None
        self._cache: dict[str, list[float]] = {}

    def _load(self):
        if self._loaded is None:
            from ..models import load_model

            model, tokenizer, _, _ = load_model(self.model_spec, log=self._log)
            self._loaded = (model, tokenizer)
        return self._loaded

    def token_surprisals(self, texts: list[str], progress: Callable[[int], None] | None = None) -> list[list[float]]:
        """Surprisal (-log P, nats) of each token of each text."""
        from ..scoring import completion_token_logprobs, encode

        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            model, tokenizer = self._load()
            encoded = [encode(tokenizer, PROMPT, [{"role": "assistant", "content": t}], self.max_tokens + 32)
                       for t in todo]
            logps = completion_token_logprobs(model, encoded, batch_size=self.batch_size,
                                              pad_id=tokenizer.pad_token_id or 0, progress=progress)
            for text, values in zip(todo, logps):
                self._cache[text] = [-v for v in values]
        return [self._cache[t] for t in texts]

    def stats(self, texts: list[str], progress: Callable[[int], None] | None = None) -> list[list[float]]:
        """``STATS`` per text."""
        return [surprisal_stats(values) for values in self.token_surprisals(texts, progress)]

    def mean_surprisal(self, texts: list[str]) -> float:
        """Mean token surprisal over all of ``texts``' tokens (nats per token)."""
        values = [v for row in self.token_surprisals(texts) for v in row]
        return sum(values) / max(1, len(values))


def surprisal_stats(values: list[float]) -> list[float]:
    """``STATS`` of one text's token surprisals."""
    import numpy as np

    if not values:
        return [0.0] * len(STATS)
    array = np.asarray(values, dtype=np.float64)
    q10, q25, q50, q75, q90 = np.quantile(array, [0.1, 0.25, 0.5, 0.75, 0.9])
    return [float(array.mean()), float(array.std()), float(q10), float(q25), float(q50), float(q75), float(q90),
            float(array.max()), float((array > 8).mean())]


def fluency_ratio(reference: ReferenceModel, texts: list[str], real: list[str]) -> float:
    """Mean surprisal of ``texts`` over that of the author's real posts ``real`` (1.0 = as fluent)."""
    base = reference.mean_surprisal(real)
    return reference.mean_surprisal(texts) / base if base > 0 and not math.isnan(base) else float("nan")
