"""Perplexity of the held-out SFT posts: exp(mean negative log-likelihood per post token)."""

from __future__ import annotations

import math
from typing import Callable

from ..scoring import Encoded, completion_logprobs, encode


def encode_examples(tokenizer, rows: list[dict], max_length: int = 1024) -> list[Encoded]:
    """Encodings of SFT rows as ``{"prompt": [...], "completion": [...]}`` (the training loader's form)."""
    return [encode(tokenizer, row["prompt"], row["completion"], max_length) for row in rows]


def perplexity(model, examples: list[Encoded], *, batch_size: int = 8, pad_id: int = 0, precision: str = "auto",
               progress: Callable[[int], None] | None = None) -> float | None:
    """Token-weighted perplexity of the completions (None when there is nothing to score)."""
    scores = completion_logprobs(model, examples, batch_size=batch_size, pad_id=pad_id, precision=precision,
                                 progress=progress)
    tokens = sum(n for _, n in scores)
    if not tokens:
        return None
    return math.exp(-sum(s for s, _ in scores) / tokens)
