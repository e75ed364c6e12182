"""Does it sound like the author? A calibrated voice scorecard and a reusable voice scorer.

* :func:`voice_scorecard` -> :class:`Scorecard`: per column, a cross-fitted detector's ROC AUC against
  the author's held-out posts (with a bootstrap interval), the calibrated score between the floor
  (other people, generic prose) and the ceiling (the author's own posts), the fluency guard and the
  voice profile match.
* :class:`VoiceScorer`: the detector fitted once on the training split, ``score(texts)`` cheaply.
* :func:`score_texts`: any texts against a data folder's voice (``python -m pipeline voice score``).
"""

from .scorecard import ColumnScore, Scorecard, voice_scorecard
from .score import VoiceScore, VoiceScoreSettings, score_texts
from .scorer import VoiceScorer
from .surprisal import ReferenceModel

__all__ = ["ColumnScore", "ReferenceModel", "Scorecard", "VoiceScore", "VoiceScoreSettings", "VoiceScorer",
           "score_texts", "voice_scorecard"]
