"""``voice score``'s settings as flags (:class:`pipeline.flags.SettingsFlags`): the argv the Evaluate
tab's "score any texts" box shows, parsed back by the ``voice score`` command to the same settings."""

from __future__ import annotations

from ..flags import SettingsFlags
from .score import VoiceScoreSettings

VOICE_SCORE_FLAGS = SettingsFlags(VoiceScoreSettings, names={"reference_voices": "reference"})


def score_argv(data, texts, settings: VoiceScoreSettings) -> list:
    """``python -m pipeline voice score`` of the file ``texts`` against the data folder ``data``."""
    return ["voice", "score", "--data", data, "--input", texts, *VOICE_SCORE_FLAGS.argv(settings)]
