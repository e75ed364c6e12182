"""``push``'s settings and the one call the ``push`` command and the Publish tab both make."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..flags import SettingsFlags
from .client import PushResult


@dataclass(frozen=True)
class PushSettings:
    """How a data folder or a run is pushed (the repo and what to push are the command's own flags)."""

    private: bool = True
    """Create the repo private (``--public``: create it public)."""
    combined: bool = False
    """A DPO run: also push SFT + DPO joined into one exact adapter (``combined/``)."""
    merged: bool = False
    """A run: also push the base with the adapters merged in, as its own repo ``OWNER/NAME-merged``."""
    gguf: bool = False
    """A run: push it exported as GGUF + Ollama Modelfile (``python -m pipeline export``) instead of the
    adapter, with a GGUF model card."""
    quant: str = "q8_0"
    """With ``gguf``: the GGUF weights, ``f16``, ``q8_0`` or ``q4_k_m``."""
    base_model: str | None = None
    """Hub id of the base model for the card, when the run trained on a local folder."""
    dataset_repo: str | None = None
    """The dataset repo the model card links to (``OWNER/NAME``)."""
    license: str = "apache-2.0"
    """License in the model card."""
    cards_dir: Path | None = None
    """A run: a folder with your own ``model_card.md`` template (default ``datasets_cards/``)."""


PUSH_FLAGS = SettingsFlags(PushSettings, off_names={"private": "public"})
"""``python -m pipeline push``'s settings flags (and the Publish tab's command)."""


def push(repo: str, settings: PushSettings = PushSettings(), *, data_dir: str | os.PathLike | None = None,
         run_dir: str | os.PathLike | None = None, token: str | None = None, log: Callable = print) -> PushResult:
    """Push ``data_dir`` (a built dataset) or ``run_dir`` (a run's adapter, or its GGUF) to ``repo``."""
    from . import push_dataset, push_run

    cards = {"cards_dir": settings.cards_dir} if settings.cards_dir else {}
    if data_dir is not None:
        if settings.combined or settings.merged or settings.cards_dir or settings.gguf:
            raise UserError("--combined, --merged, --gguf and --cards-dir apply to --run, not --data.")
        return push_dataset(data_dir, repo, private=settings.private, token=token, log=log)
    if settings.gguf:
        from .gguf import push_gguf

        if settings.combined or settings.merged:
            raise UserError("--gguf pushes the merged policy as one GGUF; drop --combined / --merged.")
        return push_gguf(run_dir, repo, quant=settings.quant, private=settings.private, token=token,
                         base_model=settings.base_model, license=settings.license, log=log, **cards)
    return push_run(run_dir, repo, combined=settings.combined, merged=settings.merged, private=settings.private,
                    token=token, base_model=settings.base_model, dataset_repo=settings.dataset_repo,
                    license=settings.license, log=log, **cards)
