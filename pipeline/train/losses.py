"""The preference losses a DPO run can train with: one row each, holding all that differs between them.

Which TRL trainer runs the loss, whether it scores a reference policy (and who computes the reference
log-probs), what shape its training rows take, which DPO settings it reads and which of TRL's logged
values ``metrics.jsonl`` keeps. ``dpo.py``, the settings' validation, the CLI's ``--loss`` choices,
the DPO tab and the metrics rows all read this table: adding a loss is adding a row.

TRL keeps CPO (SimPO) and ORPO under ``trl.experimental`` and DPO and KTO at the top level, in 1.15
(the GPU stack, with Unsloth) as in 1.16 (here); the import paths below hold for both.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from .settings import DPOSettings

REWARDS = ("rewards/chosen", "rewards/rejected", "rewards/margins", "rewards/accuracies")
"""TRL's reward columns (beta x the log-ratio, or x the log-prob for reference-free losses)."""


@dataclass(frozen=True)
class Loss:
    name: str
    """The ``--loss`` value."""
    trainer: str
    """TRL's trainer and config classes, ``module:Trainer:Config`` (imported when a run starts)."""
    reference: str | None
    """Who scores the reference policy (the SFT policy, or the base without one): ``"ours"`` (once,
    before step 1, in memory: :class:`pipeline.train.dpo.ReferenceLogpsMixin`), ``"trl"`` (TRL's own
    precompute) or None (the loss has no reference; the run's log-ratio drift is then not measured)."""
    knobs: tuple[str, ...]
    """The DPO settings fields, beyond those every run reads, that this loss uses."""
    config: Callable[[DPOSettings], dict]
    """The loss's own fields of TRL's config."""
    logged: tuple[str, ...] = REWARDS
    """TRL's logged values that metrics.jsonl rows keep (when TRL logs them)."""
    labelled: bool = False
    """Trains on single replies labelled desirable or undesirable: each pair gives one of each."""

    def classes(self) -> tuple[type, type]:
        """(TRL trainer class, TRL config class)."""
        module, trainer, config = self.trainer.split(":")
        imported = importlib.import_module(module)
        return getattr(imported, trainer), getattr(imported, config)


def _dpo_trainer(loss_type: str) -> Callable[[DPOSettings], dict]:
    return lambda settings: dict(beta=settings.beta, loss_type=[loss_type])


def _cpo_family(settings: DPOSettings) -> dict:
    return dict(beta=settings.beta, max_completion_length=settings.max_completion_length)


LOSSES: dict[str, Loss] = {loss.name: loss for loss in (
    # DPO: -log sigmoid(beta x the log-ratio margin)
    Loss("sigmoid", "trl:DPOTrainer:DPOConfig", reference="ours", knobs=("beta", "drift_warning"),
         config=_dpo_trainer("sigmoid")),
    # IPO: (the per-token log-ratio margin - 1/(2 beta))^2: the margin is pulled to a target, not pushed up
    Loss("ipo", "trl:DPOTrainer:DPOConfig", reference="ours", knobs=("beta", "drift_warning"),
         config=_dpo_trainer("ipo")),
    # hinge: max(0, 1 - beta x the log-ratio margin)
    Loss("hinge", "trl:DPOTrainer:DPOConfig", reference="ours", knobs=("beta", "drift_warning"),
         config=_dpo_trainer("hinge")),
    # SimPO: -log sigmoid(beta x the per-token log-prob margin - gamma), no reference
    Loss("simpo", "trl.experimental.cpo:CPOTrainer:CPOConfig", reference=None, knobs=("beta", "simpo_gamma"),
         config=lambda s: dict(_cpo_family(s), loss_type="simpo", cpo_alpha=0.0, simpo_gamma=s.simpo_gamma)),
    # ORPO: the chosen reply's NLL - beta x log sigmoid(log odds ratio), no reference
    Loss("orpo", "trl.experimental.orpo:ORPOTrainer:ORPOConfig", reference=None, knobs=("beta",),
         config=_cpo_family, logged=REWARDS + ("nll_loss", "log_odds_ratio", "log_odds_chosen")),
    # KTO: 1 - sigmoid(beta x (log-ratio - KL)) for a desirable reply, 1 - sigmoid(beta x (KL - log-ratio))
    # for an undesirable one, KL estimated on the batch's mismatched prompt/reply pairs
    Loss("kto", "trl:KTOTrainer:KTOConfig", reference="trl", knobs=("beta", "drift_warning"), labelled=True,
         config=lambda s: dict(beta=s.beta, precompute_ref_log_probs=True), logged=REWARDS + ("kl",)),
)}
