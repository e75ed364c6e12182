"""Reward margins on held-out preference pairs (how far each stage prefers the real post over the rejected one).

margin = log P(chosen | prompt) - log P(rejected | prompt), each summed over the completion
tokens; reported per variant as the mean margin and the fraction of pairs where chosen wins, and
per token (mean log-prob per completion token of chosen minus that of rejected, so a long rejected
answer does not dominate), each with a 95% bootstrap interval over the pairs.
"""

from __future__ import annotations

from statistics import mean
from typing import Callable

from ..scoring import Encoded, completion_logprobs, encode_shared, pair_logprobs


def encode_pairs(tokenizer, rows: list[dict], max_length: int = 1024) -> list[tuple[Encoded, Encoded]]:
    """``(chosen, rejected)`` encodings of TRL conversational preference rows (one prompt per pair)."""
    return [tuple(encode_shared(tokenizer, row["prompt"], [row["chosen"], row["rejected"]], max_length))
            for row in rows]


def reward_margins(model, pairs: list[tuple[Encoded, Encoded]], *, per_pair: bool = False, batch_size: int = 8,
                   pad_id: int = 0, precision: str = "auto", progress: Callable[[int], None] | None = None) -> list[float]:
    """One margin per pair.

    Batched (default): each pair is one row with its prompt computed once, rows batched by length
    (:func:`~pipeline.scoring.pair_logprobs`). ``per_pair=True`` is the plain loop it is
    measured against: one pair at a time, its chosen and rejected sequences each with the prompt.
    ``precision``: see :mod:`pipeline.scoring`.
    """
    if per_pair:
        margins = []
        for chosen, rejected in pairs:
            (c, _), (r, _) = completion_logprobs(model, [chosen, rejected], batch_size=2, pad_id=pad_id,
                                                 precision=precision)
            margins.append(c - r)
            if progress:
                progress(2)
        return margins
    scores = pair_logprobs(model, pairs, batch_size=batch_size, pad_id=pad_id, precision=precision, progress=progress)
    return [c - r for c, r in scores]


def margins_with_tokens(model, pairs: list[tuple[Encoded, Encoded]], *, batch_size: int = 8, pad_id: int = 0,
                        precision: str = "auto") -> tuple[list[float], list[float]]:
    """Per pair: the summed margin and the per-token margin (mean log-prob per completion token of
    chosen minus that of rejected), from one batched scoring pass."""
    scores = pair_logprobs(model, pairs, batch_size=batch_size, pad_id=pad_id, precision=precision)
    total = [c - r for c, r in scores]
    per_token = [c / max(1, len(ce.completion)) - r / max(1, len(rj.completion)) for (c, r), (ce, rj) in zip(scores, pairs)]
    return total, per_token


def summarize(margins: list[float], per_token: list[float] | None = None, seed: int = 0) -> dict:
    """Mean margin, chosen win rate (margin > 0) and pair count; with ``per_token``, also the
    per-token margin, and 95% bootstrap intervals (``low``/``high``) of both means."""
    from .stylometry import bootstrap_mean

    if not margins:
        return {"mean": None, "chosen_win_rate": None, "pairs": 0}
    out = {"mean": round(mean(margins), 4), "chosen_win_rate": round(sum(m > 0 for m in margins) / len(margins), 4),
           "pairs": len(margins)}
    if per_token is not None:
        interval = bootstrap_mean(margins, seed)
        out.update(low=interval["low"], high=interval["high"], per_token=bootstrap_mean(per_token, seed))
    return out
