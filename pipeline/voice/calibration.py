"""Where a detector AUC lands between the floor and the ceiling, and the fluency guard.

* ceiling: the author's held-out posts against their own training posts (what "sounds like you" can
  reach on this data with this detector; near 0.5);
* floor: texts that are certainly not the author's: other real people's posts (the reference pool
  and the user's reference voices) and generic model prose. The floor is the *lowest* of their AUCs
  (the hardest non-author text to tell apart), so a column scores above 0 only when it is harder to
  tell from the author than anyone else is.

Calibrated score = (floor - auc) / (floor - ceiling), clipped to [0, 1]: 0 = as easy to tell apart
as other people, 1 = as hard as the author's own posts.
"""

from __future__ import annotations

GARBLED_RATIO = 1.5
"""Fluency guard: a column whose mean token surprisal is more than 1.5x that of the author's real
posts is flagged "garbled" whatever it scores. Real posts by other people and generic model prose stay
under it on the sample data (see the README's "Voice scorecard"), word salad of the author's words is far over."""


def calibrated(auc: float, floor: float, ceiling: float) -> float | None:
    """Where ``auc`` lies between ``floor`` (0) and ``ceiling`` (1); None when the floor is not above
    the ceiling (the detector cannot tell even other people from the author on this data)."""
    if floor - ceiling <= 0.02:
        return None
    return min(1.0, max(0.0, (floor - auc) / (floor - ceiling)))


def garbled(ratio: float) -> bool:
    """Whether a fluency ratio trips the guard."""
    return ratio == ratio and ratio > GARBLED_RATIO


def verdict(auc: float, score: float | None, ratio: float) -> str:
    """The scorecard's plain-words line for one column."""
    times = round(auc * 10)
    told = (f"a detector tells it from your posts {times} times in 10" if times > 5
            else "a detector cannot tell it from your posts better than a coin toss")
    if garbled(ratio):
        return f"garbled: the reference model finds it {ratio:.1f}x as surprising as your posts; {told}"
    if score is None:
        return f"no verdict: on this data the detector cannot tell other people from you either; {told}"
    sounds = "yes" if score >= 0.8 else "nearly" if score >= 0.5 else "partly" if score >= 0.2 else "not yet"
    return f"sounds like you: {sounds}; {told}"
