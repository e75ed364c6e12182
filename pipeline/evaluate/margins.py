"""Reward margins on held-out preference pairs (seed 001's table).

margin = log P(chosen | prompt) - log P(rejected | prompt), each summed over the completion
tokens; reported per variant as the mean margin and the fraction of pairs where chosen wins.
"""

from __future__ import annotations

from statistics import mean
from typing import Callable

from .scoring import Encoded, completion_logprobs, encode


def encode_pairs(tokenizer, rows: list[dict], max_length: int = 1024) -> list[tuple[Encoded, Encoded]]:
    """``(chosen, rejected)`` encodings of TRL conversational preference rows."""
    return [(encode(tokenizer, row["prompt"], row["chosen"], max_length),
             encode(tokenizer, row["prompt"], row["rejected"], max_length)) for row in rows]


def reward_margins(model, pairs: list[tuple[Encoded, Encoded]], *, per_pair: bool = False, batch_size: int = 8,
                   pad_id: int = 0, progress: Callable[[int], None] | None = None) -> list[float]:
    """One margin per pair.

    Batched (default): every chosen and rejected sequence is scored in length-sorted batches.
    ``per_pair=True`` scores one pair at a time (its chosen and rejected together), the simple
    loop the batched path is measured against.
    """
    if per_pair:
        margins = []
        for chosen, rejected in pairs:
            (c, _), (r, _) = completion_logprobs(model, [chosen, rejected], batch_size=2, pad_id=pad_id)
            margins.append(c - r)
            if progress:
                progress(2)
        return margins
    flat = [seq for pair in pairs for seq in pair]
    scores = completion_logprobs(model, flat, batch_size=batch_size, pad_id=pad_id, progress=progress)
    return [scores[2 * i][0] - scores[2 * i + 1][0] for i in range(len(pairs))]


def summarize(margins: list[float]) -> dict:
    """Mean margin, chosen win rate (margin > 0) and pair count."""
    if not margins:
        return {"mean": None, "chosen_win_rate": None, "pairs": 0}
    return {"mean": round(mean(margins), 4), "chosen_win_rate": round(sum(m > 0 for m in margins) / len(margins), 4),
            "pairs": len(margins)}
