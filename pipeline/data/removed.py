"""What a builder step left out: a count per reason and the first few posts of each, shown in
``report.json`` and the Dataset tab so the user sees what a rule removed before training on the rest."""

from __future__ import annotations

from collections import Counter

EXAMPLES_PER_REASON = 3
EXAMPLE_CHARS = 280
"""A longer example is cut here (with "...") in the report."""


class Removed(Counter):
    """Removed posts by reason (a :class:`Counter`) with up to :data:`EXAMPLES_PER_REASON` texts each in
    :attr:`examples`."""

    def __init__(self):
        super().__init__()
        self.examples: dict[str, list[str]] = {}

    def add(self, reason: str, text: str) -> None:
        self[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < EXAMPLES_PER_REASON:
            shown.append(text if len(text) <= EXAMPLE_CHARS else text[:EXAMPLE_CHARS] + "...")

    def step(self, name: str, kept: int) -> dict:
        """The report's entry for step ``name`` that kept ``kept`` posts."""
        return {"step": name, "kept": kept, "removed": dict(self), "examples": self.examples}
