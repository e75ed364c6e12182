""""Which one is real?": a blind two-alternative test of the voice by a person.

Each trial shows one of the author's held-out posts and a column's post for the same brief, in a
seeded random order; the person says which is real. Their guesses are stored with the other picks
(:func:`pipeline.picks.record_guess`); :func:`pipeline.picks.guess_report` gives the accuracy with
its interval ("you told them apart 9 of 12 times"): near half means the column passes for the author.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError

REAL = "real"


@dataclass(frozen=True)
class Trial:
    """One blind trial: a held-out brief, the author's post for it, and the order on screen."""

    number: int
    brief: list[dict]
    """The brief's chat turns (what the column answers)."""
    real: str
    """The author's held-out post for that brief."""
    split: str
    real_position: int
    """0 = the real post is shown first (A), 1 = second (B)."""

    def shown(self, generated: str) -> list[str]:
        """The two texts in screen order."""
        return [self.real, generated] if self.real_position == 0 else [generated, self.real]


def trial(data_dir: str | Path, number: int, seed: int = 0, split: str = "test") -> Trial:
    """Trial ``number`` of a seeded sequence over the held-out pairs of ``split`` (each brief once
    before any repeats; the same seed and number give the same trial)."""
    from ..data.folder import DataFolder

    rows = [r for r in DataFolder(Path(data_dir)).pairs(split, required=False) if r["chosen"][-1]["content"].strip()]
    if not rows:
        raise UserError(f"{Path(data_dir) / 'dpo' / f'{split}.jsonl'}: no held-out posts; build the dataset with a "
                        f"{split} split first.")
    rounds, index = divmod(number, len(rows))
    order = list(range(len(rows)))
    random.Random(f"{seed}-{rounds}").shuffle(order)
    row = rows[order[index]]
    position = random.Random(f"{seed}-{number}-side").randrange(2)
    return Trial(number, row["prompt"], row["chosen"][-1]["content"], split, position)
