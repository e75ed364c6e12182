"""What a benchmark reports: figures measured side by side in one run, each against its goal."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field


@dataclass
class Figure:
    """One measured figure: usually a ratio of two things timed side by side in the same process."""

    name: str
    value: float
    goal: float | None
    """None: a figure reported for context, with no goal to pass."""
    higher_is_better: bool = True
    unit: str = "x"
    details: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool | None:
        if self.goal is None:
            return None
        return self.value >= self.goal if self.higher_is_better else self.value <= self.goal

    def as_dict(self) -> dict:
        return {**asdict(self), "passed": self.passed}


def emit(figures: list[Figure]) -> None:
    """Print the figures as the last stdout line (read by ``python -m bench``)."""
    print(json.dumps([f.as_dict() for f in figures]), flush=True)


def quick_flag() -> bool:
    return "--quick" in sys.argv[1:]
