"""Train / validation / test splits, seeded, with no prompt in two splits."""

from __future__ import annotations

import random
from typing import Callable, TypeVar

from ..errors import UserError
from .briefs import normalise_space

T = TypeVar("T")
SPLITS = ("train", "validation", "test")


def split_by_prompt(items: list[T], prompt_of: Callable[[T], str], validation: float = 0.05, test: float = 0.05,
                    seed: int = 0) -> dict[str, list[T]]:
    """Assign whole prompt groups to splits; validation and test get at least one group each when
    there are three or more groups (an evaluation needs something to evaluate)."""
    if validation < 0 or test < 0 or validation + test >= 1:
        raise UserError(f"validation ({validation}) + test ({test}) fractions must be >= 0 and below 1.")
    groups: dict[str, list[T]] = {}
    for item in items:
        groups.setdefault(normalise_space(prompt_of(item)), []).append(item)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    total = len(items)
    targets = {"test": round(total * test), "validation": round(total * validation)}
    if len(keys) >= 3:
        targets = {name: max(1, n) if fraction > 0 else 0
                   for (name, n), fraction in zip(targets.items(), (test, validation))}
    out: dict[str, list[T]] = {name: [] for name in SPLITS}
    for key in keys:
        group = groups[key]
        name = next((n for n in ("test", "validation") if len(out[n]) < targets[n]), "train")
        out[name].extend(group)
    return out
