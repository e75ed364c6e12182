"""Training settings: one typed, documented dataclass per kind of run, plus named presets.

``standard`` is the full recipe (QLoRA r16/alpha 32 on all seven projections, 2e-4 cosine,
4-bit NF4 + double quant). ``quick`` is what finishes SFT then DPO on the default 135M model and
~300 examples on a 2-core CPU within minutes: it keeps the recipe's shape but trains in float32
without 4-bit (on CPU, bitsandbytes dequantises every weight on every matmul, which costs time and
buys nothing for a 135M model that fits in RAM many times over) and caps the number of steps.
"""

from __future__ import annotations

import importlib
from dataclasses import asdict, dataclass, field, fields
from typing import Callable

from ..errors import UserError
from ..models import ALL_PROJECTIONS, ATTENTION_PROJECTIONS, LoadOptions
from .losses import LOSSES, Loss

TARGET_PRESETS = {"all": list(ALL_PROJECTIONS), "attention-only": list(ATTENTION_PROJECTIONS)}
DRIFT_WARNING = 0.2
"""The per-token log-ratio drift above which a DPO run warns: past it the policy has usually left
the SFT policy's voice behind (the usual advice is to keep the KL from the reference under 0.2)."""
DPO_LOSSES = tuple(LOSSES)
"""The ``--loss`` names, in the order of :data:`pipeline.train.losses.LOSSES`."""


@dataclass
class CommonSettings:
    """Fields shared by SFT and DPO runs."""

    model: str = "default"
    """Base model spec: ``default`` (SmolLM2-135M-Instruct), a local folder or a Hub id."""
    load_in_4bit: bool = True
    """Load the base weights as 4-bit NF4 with double quantisation (QLoRA)."""
    dtype: str = "auto"
    """Compute dtype: ``auto`` (bfloat16 on CUDA, float32 on CPU), ``float32``, ``bfloat16``, ``float16``."""
    backend: str = "auto"
    """``auto`` (Unsloth on a CUDA GPU when installed, else transformers + PEFT + TRL), ``hf`` or ``unsloth``."""
    device: str = "auto"
    """``auto``, ``cpu`` or ``cuda``."""
    lora_r: int = 16
    """LoRA rank."""
    lora_alpha: int | None = None
    """LoRA scaling numerator; ``None`` means ``2 * lora_r``."""
    lora_dropout: float = 0.05
    """Dropout on the LoRA input."""
    target_modules: str = "all"
    """``all`` (q,k,v,o,gate,up,down projections), ``attention-only`` (q,k,v,o) or a comma-separated list."""
    learning_rate: float = 2e-4
    """Peak learning rate (AdamW)."""
    lr_scheduler: str = "cosine"
    """Learning-rate schedule (any transformers scheduler name)."""
    warmup_ratio: float = 0.05
    """Fraction of the steps spent warming the learning rate up."""
    epochs: float = 1.0
    """Passes over the training split (ignored when ``max_steps`` > 0)."""
    max_steps: int = -1
    """Stop after this many optimizer steps; -1 = run ``epochs`` epochs."""
    batch_size: int = 4
    """Examples (or packed rows) per device per step."""
    grad_accum: int = 1
    """Gradient-accumulation steps (effective batch = batch_size * grad_accum * devices)."""
    max_length: int = 512
    """SFT: the longest tokenised example (prompt + reply) that trains. A longer one is left out (the
    run summary's ``dropped_too_long`` counts it), never cut: a post cut mid-way would teach the model to
    stop mid-sentence. DPO runs use ``max_prompt_length`` and ``max_completion_length`` instead."""
    gradient_checkpointing: bool = False
    """Recompute activations in the backward pass: less memory, ~20-30% slower. Off unless memory is short."""
    seed: int = 42
    """Seed for LoRA init, data order and dropout."""
    logging_steps: int = 1
    """Write a metrics.jsonl row every N steps."""
    eval_steps: int = 0
    """Evaluate on the validation split every N steps (0 = only at the end, when a validation split exists)."""
    save_steps: int = 50
    """Save a resumable checkpoint every N steps."""
    save_total_limit: int = 2
    """Keep the last K checkpoints."""
    threads: int = 0
    """CPU threads for torch (0 = one per physical core)."""
    gpus: int = 1
    """CUDA GPUs to train on: above 1 the job runner starts ``accelerate launch`` with one process per
    GPU (DDP). Opt-in: more visible GPUs are left alone."""

    @property
    def alpha(self) -> int:
        return self.lora_alpha if self.lora_alpha else 2 * self.lora_r

    def targets(self) -> list[str]:
        if self.target_modules in TARGET_PRESETS:
            return TARGET_PRESETS[self.target_modules]
        names = [t.strip() for t in self.target_modules.split(",") if t.strip()]
        if not names:
            raise UserError("target_modules is empty: use 'all', 'attention-only' or a list like 'q_proj,v_proj'.")
        return names

    def validate(self) -> None:
        checks = [
            (self.lora_r >= 1, "lora_r must be >= 1"),
            (self.learning_rate > 0, "learning_rate must be > 0"),
            (0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
            (0 <= self.warmup_ratio < 1, "warmup_ratio must be in [0, 1)"),
            (self.batch_size >= 1 and self.grad_accum >= 1, "batch_size and grad_accum must be >= 1"),
            (self.max_length >= 16, "max_length must be >= 16"),
            (self.max_steps > 0 or self.epochs > 0, "set max_steps > 0 or epochs > 0"),
            (self.save_steps >= 1 and self.save_total_limit >= 1, "save_steps and save_total_limit must be >= 1"),
            (self.gpus >= 1, "gpus must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"bad setting: {message}.")
        self.targets()

    def as_dict(self) -> dict:
        return {**asdict(self), "lora_alpha": self.alpha}

    def lora_config(self):
        """The PEFT ``LoraConfig`` of these settings (rank, alpha, dropout, targets)."""
        from peft import LoraConfig

        return LoraConfig(r=self.lora_r, lora_alpha=self.alpha, lora_dropout=self.lora_dropout,
                          target_modules=self.targets(), bias="none", task_type="CAUSAL_LM")

    def load_options(self, **overrides) -> LoadOptions:
        """How to load the base model for these settings (``overrides`` replace single fields)."""
        values = dict(dtype=self.dtype, load_in_4bit=self.load_in_4bit, device=self.device, backend=self.backend,
                      max_seq_length=self.max_length)
        return LoadOptions(**{**values, **overrides})


@dataclass
class SFTSettings(CommonSettings):
    """Supervised fine-tuning (QLoRA) on ``sft/*.jsonl`` conversations."""

    packing: bool = True
    """Pack several examples per row (best-fit decreasing, no padding, attention kept inside each example)."""
    completion_only_loss: bool = True
    """Loss on the completion (the assistant reply) only: the prompt and system turns carry no loss."""


@dataclass
class DPOSettings(CommonSettings):
    """Preference optimisation on ``dpo/*.jsonl`` pairs, on top of an SFT run's policy."""

    lora_r: int = 8
    learning_rate: float = 5e-5
    """Peak learning rate. 5e-5 suits small models with LoRA (the LoRA update is scaled by alpha/r and
    starts at zero, so it needs a larger step than full fine-tuning's 5e-7..5e-6); on 7B+ models use 5e-6."""
    warmup_ratio: float = 0.1
    beta: float = 0.1
    """Strength of the pull towards the reference: higher = smaller departures from the SFT policy."""
    loss_type: str = "sigmoid"
    """One of ``sigmoid`` (DPO), ``ipo``, ``hinge``, ``simpo``, ``orpo``, ``kto`` (pipeline/train/losses.py
    says what each optimises and which settings it reads)."""
    max_prompt_length: int = 256
    """Pairs whose prompt is longer than this (in tokens) are left out (counted in ``dropped_too_long``)."""
    max_completion_length: int = 256
    """Each prompt + reply is cut at its end to ``max_prompt_length + max_completion_length`` tokens, so a
    reply keeps at least this many."""
    simpo_gamma: float = 0.5
    """SimPO only: the target reward margin gamma (the loss is -log sigmoid(reward margin - gamma))."""
    drift_warning: float = DRIFT_WARNING
    """Warn when the log-ratio drift per token (``logratio_drift`` in metrics.jsonl) passes this (losses
    with a reference only: the drift is measured from it)."""
    with_human_picks: bool = False
    """Add the workspace's ``preferences.jsonl`` (picks made in Compare) to the training pairs."""

    def validate(self) -> None:
        super().validate()
        if self.loss_type not in LOSSES:
            raise UserError(f"unknown loss {self.loss_type!r}: use one of {', '.join(LOSSES)}.")
        if self.beta <= 0:
            raise UserError("bad setting: beta must be > 0.")
        if self.max_prompt_length < 8 or self.max_completion_length < 8:
            raise UserError("bad setting: max_prompt_length and max_completion_length must be >= 8.")
        for knob in sorted({k for loss in LOSSES.values() for k in loss.knobs} - set(self.loss.knobs)):
            default = DPOSettings.__dataclass_fields__[knob].default
            if getattr(self, knob) != default:
                users = [loss.name for loss in LOSSES.values() if knob in loss.knobs]
                raise UserError(f"bad setting: {knob} applies to the {', '.join(users)} loss{'es' * (len(users) > 1)} "
                                f"only, not to {self.loss_type}; leave it at its default ({default}).")

    @property
    def loss(self) -> Loss:
        """This run's row of the loss table (trainer, reference, data shape, knobs)."""
        return LOSSES[self.loss_type]


@dataclass
class GRPOSettings(CommonSettings):
    """Group-relative policy optimisation on the SFT training briefs, on top of an SFT or DPO run's
    policy, rewarded by a weighted sum of voice, fluency, brief adherence, form and (optionally) an LLM
    judge (pipeline/train/rewards.py). A step samples ``group_size`` answers to each of
    ``briefs_per_step`` briefs and pushes the policy towards the answers that beat their group's mean."""

    lora_r: int = 8
    learning_rate: float = 5e-5
    """Peak learning rate (the LoRA delta starts at zero, as in DPO)."""
    warmup_ratio: float = 0.0
    max_steps: int = 100
    """Optimizer steps (GRPO samples its own answers: there are no epochs of a fixed data set)."""
    group_size: int = 4
    """Answers sampled per brief; each is rewarded against its group's mean (at least 2)."""
    briefs_per_step: int = 2
    """Briefs per optimizer step (a step trains on ``briefs_per_step * group_size`` answers; ``batch_size``
    is not read)."""
    beta: float = 0.04
    """Weight of the KL penalty to the starting policy (the parent run's); 0 turns it and its ``kl``
    row off."""
    temperature: float = 1.0
    """Sampling temperature of the answers (lower: less spread within a group, less to learn from)."""
    max_completion_length: int = 128
    """Longest answer sampled, in tokens (a cut answer still gets its reward)."""
    voice_weight: float = 1.0
    """Weight of the voice reward: P(the author wrote it) by the voice scorer fitted on the training posts."""
    fluency_weight: float = 0.5
    """Weight of the fluency guard: 1 at the author's own surprisal, 0 at the scorecard's garbled line."""
    adherence_weight: float = 0.5
    """Weight of brief adherence: the share of the brief's topic words the answer uses."""
    form_weight: float = 0.25
    """Weight of form: length, lines, hashtags, mentions and emoji within the author's own ranges."""
    voice_texts: int = 300
    """At most this many texts a side (the author's training posts; other people's and generic posts) that
    the voice scorer fits on, once per run (a seeded sample: fewer fit faster, more tell voices apart better)."""
    judge_weight: float = 0.0
    """Weight of the LLM judge's 0-10 rating (needs ``judge_url``)."""
    judge_url: str = ""
    """An OpenAI-compatible endpoint (``http://host:port``) for the judge reward."""
    judge_model: str = ""
    """The model name the judge endpoint serves."""

    def validate(self) -> None:
        super().validate()
        checks = [
            (self.group_size >= 2, "group_size must be >= 2 (a group of 1 has no spread: every advantage is 0)"),
            (self.briefs_per_step >= 1, "briefs_per_step must be >= 1"),
            (self.beta >= 0, "beta must be >= 0"),
            (self.temperature > 0, "temperature must be > 0"),
            (self.max_completion_length >= 8, "max_completion_length must be >= 8"),
            (self.max_steps > 0, "max_steps must be > 0"),
            (self.voice_texts >= 4, "voice_texts must be >= 4"),
            (min(self.weights().values()) >= 0, "reward weights must be >= 0"),
            (max(self.weights().values()) > 0, "every reward weight is 0; give at least one of "
             + ", ".join(f"{name}_weight" for name in self.weights()) + " a weight above 0"),
            (self.judge_weight == 0 or bool(self.judge_url), "judge_weight > 0 needs judge_url (an OpenAI-compatible "
             "endpoint)"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(f"bad setting: {message}.")

    def weights(self) -> dict[str, float]:
        """Reward component -> weight."""
        return {"voice": self.voice_weight, "fluency": self.fluency_weight, "adherence": self.adherence_weight,
                "form": self.form_weight, "judge": self.judge_weight}


# ~20k SFT tokens and 60 DPO pairs: minutes on a 2-core CPU with the 135M default model.
# DPO's learning rate is 2x the standard one because the run is only 30 steps long: a fresh
# LoRA starts at zero and 5e-5 barely moves the margins in 30 steps on this model.
# No LoRA dropout: its Bernoulli masks (one per LoRA input, 210 per step on the default model)
# took a quarter of each CPU step, and a 30-40 step run is too short to overfit.
SFT_QUICK = dict(load_in_4bit=False, max_steps=40, batch_size=2, max_length=256, learning_rate=3e-4,
                 lora_dropout=0.0, save_steps=20, eval_steps=0)
DPO_QUICK = dict(load_in_4bit=False, max_steps=30, batch_size=2, learning_rate=1e-4, lora_dropout=0.0,
                 max_prompt_length=96, max_completion_length=160, save_steps=15, eval_steps=0)
# GRPO: 2 briefs x 4 answers of at most 64 tokens a step, 12 steps.
GRPO_QUICK = dict(load_in_4bit=False, max_steps=12, learning_rate=1e-4, lora_dropout=0.0, max_completion_length=64,
                  save_steps=4, eval_steps=0)


@dataclass(frozen=True)
class RunKind:
    """One kind of training run: its settings, the function that trains it, how the CLI offers it."""

    name: str
    """``train NAME`` on the command line, ``kind`` in the run's config.json."""
    settings: type[CommonSettings]
    train: str
    """``module:function`` that trains a run (a :class:`pipeline.train.common.TrainFunction`), imported
    only when a run starts: it imports TRL, and Unsloth must be imported before TRL when it is used."""
    about: str
    """One line for ``train --help``."""
    quick: dict = field(default_factory=dict)
    """The ``quick`` preset's values (``standard`` is the settings' defaults)."""
    parent: str | None = None
    """The kind of run this one trains on top of, named by ``--<parent> RUN_FOLDER`` (DPO: ``--sft``)."""
    parent_flag: str | None = None
    """The flag naming the parent run when it is not ``--<parent>`` (GRPO: ``--from``)."""
    parent_kinds: tuple[str, ...] = ()
    """The kinds of run it may start from, when more than ``parent`` (GRPO: an SFT or a DPO run)."""

    @property
    def parent_option(self) -> str:
        """The command-line option naming the parent run folder."""
        return f"--{self.parent_flag or self.parent}"

    @property
    def parents(self) -> tuple[str, ...]:
        """The kinds of run it may start from."""
        return self.parent_kinds or ((self.parent,) if self.parent else ())

    def trainer(self) -> Callable[..., dict]:
        module, function = self.train.split(":")
        return getattr(importlib.import_module(module), function)


KINDS: dict[str, RunKind] = {kind.name: kind for kind in (
    RunKind("sft", SFTSettings, "pipeline.train.sft:train_sft", "supervised fine-tuning (QLoRA) on DATA/sft/*.jsonl",
            quick=SFT_QUICK),
    RunKind("dpo", DPOSettings, "pipeline.train.dpo:train_dpo",
            "preference optimisation on DATA/dpo/*.jsonl on top of an SFT run", quick=DPO_QUICK, parent="sft"),
    RunKind("grpo", GRPOSettings, "pipeline.train.grpo:train_grpo",
            "GRPO with a voice reward on DATA/sft/train.jsonl's briefs, on top of an SFT or DPO run",
            quick=GRPO_QUICK, parent="sft", parent_flag="from", parent_kinds=("sft", "dpo")),
)}
"""Every kind of training run. The CLI's ``train`` commands, the job runner and the flags come from here."""

PRESETS: dict[str, dict[str, dict]] = {
    "standard": {name: {} for name in KINDS},
    "quick": {name: kind.quick for name, kind in KINDS.items()},
}
"""``PRESETS[preset][kind]``: the values a preset sets. ``standard`` is the settings' own defaults (the
full recipe); ``quick`` is each kind's ``quick`` values (minutes on a 2-core CPU with the default model)."""


def run_kind(kind: str) -> RunKind:
    """The registry row of ``kind``, or a UserError naming the kinds there are."""
    try:
        return KINDS[kind]
    except KeyError:
        raise UserError(f"unknown run kind {kind!r}: use {' or '.join(KINDS)}.") from None


def settings_class(kind: str) -> type[CommonSettings]:
    """The settings dataclass of a run kind."""
    return run_kind(kind).settings


def settings_for(kind: str, preset: str = "standard", **overrides) -> CommonSettings:
    """Settings of ``kind`` (a KINDS name) from ``preset`` with ``overrides`` (None values are ignored)."""
    if preset not in PRESETS:
        raise UserError(f"unknown preset {preset!r}: use {' or '.join(PRESETS)}.")
    cls = settings_class(kind)
    known = {f.name for f in fields(cls)}
    unknown = set(overrides) - known
    if unknown:
        raise UserError(f"unknown {kind} setting(s): {', '.join(sorted(unknown))}.")
    values = {**PRESETS[preset][kind], **{k: v for k, v in overrides.items() if v is not None}}
    settings = cls(**values)
    settings.validate()
    return settings


def settings_from_dict(kind: str, values: dict) -> CommonSettings:
    """Rebuild settings saved in a run's config.json (for resume)."""
    cls = settings_class(kind)
    known = {f.name for f in fields(cls)}
    settings = cls(**{k: v for k, v in values.items() if k in known})
    settings.validate()
    return settings
