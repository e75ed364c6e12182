"""The voice scorecard: for each column of texts, how well a detector tells it from the author,
where that lands between the floor and the ceiling, whether it is fluent, and which conventions it keeps.

Every number is measured with one detector (:mod:`.detector`) against the same held-out real posts:
the ceiling (held-out vs training posts), the floors (held-out vs the reference pool, and vs generic
model prose when given) and each column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from .calibration import GARBLED_RATIO, calibrated, garbled, verdict
from .detector import Detection, Featurizer, detect
from .profile import VoiceProfile, distinctive_words, match, profile
from .surprisal import ReferenceModel


@dataclass
class ColumnScore:
    """One column's place on the scorecard."""

    detection: Detection
    score: float | None
    """Calibrated voice score: 0 = the floor (other people), 1 = the ceiling (the author's own posts)."""
    fluency_ratio: float
    """Mean token surprisal over the author's held-out posts' (1.0 = as fluent as the author)."""
    garbled: bool
    profile: VoiceProfile
    profile_match: dict
    verdict: str

    def as_dict(self) -> dict:
        return {"auc": round(self.detection.auc, 4), "auc_interval": [round(self.detection.low, 4),
                                                                      round(self.detection.high, 4)],
                "detection": self.detection.as_dict(),
                "score": None if self.score is None else round(self.score, 4),
                "fluency_ratio": round(self.fluency_ratio, 4), "garbled": self.garbled,
                "profile": self.profile.as_dict(), "profile_match": self.profile_match, "verdict": self.verdict}


@dataclass
class Scorecard:
    """The whole scorecard; ``as_dict()`` is JSON-ready (eval.json)."""

    ceiling: Detection
    floors: dict[str, Detection]
    floor_auc: float
    author: VoiceProfile
    columns: dict[str, ColumnScore]
    seed: int
    garbled_ratio: float = GARBLED_RATIO
    notices: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"ceiling": self.ceiling.as_dict(), "floors": {k: v.as_dict() for k, v in self.floors.items()},
                "floor_auc": round(self.floor_auc, 4), "author_profile": self.author.as_dict(),
                "columns": {k: v.as_dict() for k, v in self.columns.items()}, "seed": self.seed,
                "garbled_ratio": self.garbled_ratio, "notices": self.notices}

    def lines(self) -> list[str]:
        """The scorecard as text for a terminal."""
        out = [f"ceiling (your held-out vs training posts): AUC {_auc(self.ceiling)}"]
        out += [f"floor ({name}): AUC {_auc(d)}" for name, d in self.floors.items()]
        for name, column in self.columns.items():
            score = "n/a" if column.score is None else f"{column.score:.2f}"
            out.append(f"{name}: AUC {_auc(column.detection)}, voice score {score}, fluency "
                       f"{column.fluency_ratio:.2f}x -- {column.verdict}")
        return out + [f"note: {n}" for n in self.notices]


def voice_scorecard(train: list[str], held_out: list[str], reference: list[str], columns: dict[str, list[str]], *,
                    generic: list[str] | None = None, reference_model: ReferenceModel | None = None,
                    folds: int = 5, seed: int = 0, max_per_side: int = 200, bootstrap: int = 1000,
                    progress: Callable[[str], None] = lambda message: None) -> Scorecard:
    """Score each of ``columns`` against the author's voice.

    ``train``: the author's training posts; ``held_out``: their held-out posts (what every column is
    told apart from); ``reference``: real posts by other people; ``generic``: generic model prose
    (optional, a second floor). ``reference_model`` gives the surprisal features and the fluency
    guard (default: the default model). Same inputs and ``seed`` -> the same numbers."""
    reference_model = reference_model or ReferenceModel()
    featurizer = Featurizer(reference_model)
    run = dict(folds=folds, seed=seed, max_per_side=max_per_side, bootstrap=bootstrap)
    progress("ceiling: your held-out posts vs your training posts")
    ceiling = detect(featurizer, held_out, train, **run)
    floors = {}
    for name, texts in (("other people", reference), ("generic model prose", generic or [])):
        if texts:
            progress(f"floor: {name}")
            floors[name] = detect(featurizer, held_out, texts, **run)
    floor_auc = min(d.auc for d in floors.values())
    notices = []
    if floor_auc - ceiling.auc <= 0.02:
        notices.append("the detector tells other people from the author no better than the author's own posts: "
                       "no calibrated score (add reference voices or more posts).")
    distinctive = distinctive_words(train, reference)
    author = profile(train, distinctive)
    scored = {}
    for name, texts in columns.items():
        progress(f"column: {name}")
        detection = detect(featurizer, held_out, texts, **run)
        score = calibrated(detection.auc, floor_auc, ceiling.auc)
        ratio = reference_model.mean_surprisal(texts) / max(1e-9, reference_model.mean_surprisal(held_out))
        theirs = profile(texts, distinctive)
        scored[name] = ColumnScore(detection, score, ratio, garbled(ratio), theirs, match(author, theirs),
                                   verdict(detection.auc, score, ratio))
    return Scorecard(ceiling, floors, floor_auc, author, scored, seed, notices=notices)


def _auc(d: Detection) -> str:
    return f"{d.auc:.2f} [{d.low:.2f}, {d.high:.2f}]"
