"""Score any texts against the voice of a data folder (``python -m pipeline voice score``).

The texts (a ghostwriter's drafts, a competitor's posts, a model's output) are one scorecard column
against the folder's held-out posts, with the ceiling and the floors measured on the same detector;
each text also gets the voice scorer's probability that the author wrote it and its own fluency ratio.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from ..errors import UserError
from .calibration import garbled
from .detector import MIN_PER_SIDE
from .scorecard import Scorecard, voice_scorecard
from .scorer import VoiceScorer
from .surprisal import ReferenceModel


@dataclass
class VoiceScoreSettings:
    """The knobs of ``voice score``."""

    reference_voices: list[Path] = field(default_factory=list)
    """Files of other people's posts (any file the importer reads) that join the shipped reference pool
    in the floor and in the voice scorer's negatives."""
    model: str = "default"
    """The reference model whose per-token surprisal the detector sees and the fluency guard reads."""
    folds: int = 5
    """Cross-fitting folds of the detector."""
    max_per_side: int = 200
    """At most this many texts a side in each detector comparison (a seeded sample)."""
    bootstrap: int = 1000
    """Bootstrap draws for each AUC's 95% interval."""
    seed: int = 0
    """Same data, texts and seed -> the same numbers."""

    def check(self) -> None:
        if self.folds < 2:
            raise UserError(f"--folds must be at least 2 (got {self.folds}).")
        if self.max_per_side < MIN_PER_SIDE:
            raise UserError(f"--max-per-side must be at least {MIN_PER_SIDE} (got {self.max_per_side}).")
        if self.bootstrap < 0:
            raise UserError(f"--bootstrap must be 0 or more (got {self.bootstrap}).")


@dataclass
class VoiceScore:
    """``voice score``'s result: the scorecard (one column, the texts) and a row per text."""

    scorecard: Scorecard
    texts: list[dict]
    settings: VoiceScoreSettings

    def as_dict(self) -> dict:
        column = next(iter(self.scorecard.columns.values()))
        settings = {**asdict(self.settings), "reference_voices": [str(p) for p in self.settings.reference_voices]}
        return {"verdict": column.verdict, **column.as_dict(), "scorecard": self.scorecard.as_dict(),
                "texts": self.texts, "settings": settings}


def author_posts(data: str | Path) -> tuple[list[str], list[str], list[str]]:
    """``(training posts, held-out posts, generic prose)`` of a data folder: posts.jsonl by split, and
    the rejected answers of its training pairs."""
    from ..data.folder import DataFolder

    folder = DataFolder(Path(data))
    posts = folder.posts()
    if not posts:
        raise UserError(f"{folder.posts_path}: not found or empty; build the dataset first "
                        "(`python -m pipeline data build`).")
    train = [p["text"] for p in posts if p.get("split") == "train"]
    held_out = [p["text"] for p in posts if p.get("split") != "train"]
    if len(held_out) < MIN_PER_SIDE or len(train) < MIN_PER_SIDE:
        raise UserError(f"{folder.posts_path}: {len(train)} training and {len(held_out)} held-out posts; the voice "
                        f"detector needs at least {MIN_PER_SIDE} of each (build with more posts or a larger test split).")
    generic = [p["rejected"][-1]["content"] for p in folder.pairs("train", required=False)]
    return train, held_out, generic


def score_texts(data: str | Path, texts: list[str], name: str = "texts",
                settings: VoiceScoreSettings = VoiceScoreSettings(),
                log: Callable[..., None] = lambda *a, **k: None) -> VoiceScore:
    """Score ``texts`` against the voice of the data folder ``data``."""
    from .reference import reference_texts

    settings.check()
    texts = [t for t in texts if t.strip()]
    if len(texts) < MIN_PER_SIDE:
        raise UserError(f"{len(texts)} texts to score; the voice detector needs at least {MIN_PER_SIDE}.")
    train, held_out, generic = author_posts(data)
    reference = reference_texts(settings.reference_voices)
    model = ReferenceModel(settings.model, log=log)
    card = voice_scorecard(train, held_out, reference, {name: texts}, generic=generic or None,
                           reference_model=model, folds=settings.folds, seed=settings.seed,
                           max_per_side=settings.max_per_side, bootstrap=settings.bootstrap, progress=log)
    log("per-text scores: fitting the voice scorer on the training posts")
    scorer = VoiceScorer.fit(train, reference + generic, reference_model=model, max_per_side=settings.max_per_side,
                             seed=settings.seed)
    base = model.mean_surprisal(held_out)
    rows = []
    for text, p in zip(texts, scorer.score(texts)):
        ratio = model.mean_surprisal([text]) / base
        rows.append({"text": text, "p_author": round(p, 4), "fluency_ratio": round(ratio, 3), "garbled": garbled(ratio)})
    return VoiceScore(card, rows, settings)
