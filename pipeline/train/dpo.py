"""DPO and its family of preference losses (losses.py: IPO, hinge, SimPO, ORPO, KTO) on top of an SFT
run's policy.

How the reference is the SFT policy, and why this way: the base model is loaded, the SFT adapter
is merged into a float32 copy of it on every device (a 4-bit base is dequantised first, so the
merged weights are exactly the weights the SFT adapter was trained against: Q(W) + dSFT; merging
into bf16 weights, as a GPU's default dtype would, rounds dSFT away and the reference is then not
the SFT policy), and a fresh LoRA is put on top; training autocasts to bf16/fp16 as usual. TRL's reference for a PEFT model is "the same model with the adapter disabled", which is
then the merged SFT policy, not the base. The reference log-probs are computed once before
training, so each step runs one forward/backward instead of two forwards and a backward; they
are computed by TRL's own ``compute_ref_log_probs`` on TRL's own collated batches (so they match
what the loss computes at step 0), but in memory, longest pairs batched together, after the
compact LM head is in place (:class:`ReferenceLogpsMixin`), instead of TRL's precompute, which hashes
every weight for a cache file name and scores every position.

The trained adapter holds only the DPO delta (dDPO): it was trained on weights W' = Q(W) + dSFT,
and serving base + SFT adapter + DPO adapter with both active computes Q(W)x + dSFT x + dDPO x =
W'x + dDPO x, the trained policy exactly (LoRA deltas add). The alternative, keeping the SFT
adapter as a second frozen adapter on a 4-bit base, saves the float copy on large GPU models but
would need a hand-made reference inside TRL's trainer (TRL's PEFT reference switches every adapter
off, or copies the trainable one); merging keeps TRL's own code path.

Without an SFT run the policy is the base with a fresh LoRA and the reference is the base; the
run's config says so (``parent: null``, ``reference: "base"``).
"""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..cpu.frozen_bf16 import use_frozen_bf16
from ..cpu.lm_head import use_compact_lm_head
from ..data.folder import DataFolder
from ..errors import UserError
from ..gpu import is_main_process
from ..models import unwrap_peft
from ..workspace import Run, Workspace
from . import common
from .attention import use_segment_attention
from .metrics import PhaseProgress, RowSpec
from .settings import DPOSettings


def load_policy(settings: DPOSettings, parent: Run | None, log: Callable = print):
    """``(model, tokenizer, backend, model_path, reference)``: base (+ merged SFT adapter) for DPO."""
    hf_settings = replace(settings, backend="hf") if settings.backend == "auto" else settings
    if hf_settings.backend != "hf":
        raise UserError("DPO runs on the hf backend (transformers + PEFT + TRL); use --backend auto or hf.")
    if parent is None:
        model, tokenizer, backend, model_path = common.load_for_training(hf_settings, log, purpose="dpo")
        return model, tokenizer, _why_hf(backend), model_path, "base"
    if not parent.has_adapter():
        raise UserError(f"{parent.path}: no adapter/ (is the SFT run finished?); train it first or resume it.")
    if parent.kind != "sft":
        raise UserError(f"{parent.path} is a {parent.kind} run; --sft needs an SFT run folder.")
    model, tokenizer, backend, model_path = load_merged(settings, parent, "dpo", log)
    return model, tokenizer, _why_hf(backend), model_path, "sft"


def load_merged(settings, parent: Run, purpose: str, log: Callable = print):
    """``(model, tokenizer, backend, model_path)``: the base with every adapter of ``parent``'s chain
    merged in, in float32 whatever the device (the merge must not round the deltas: see the module
    doc, MERGE); a 4-bit base is dequantised first, so the weights are the ones the adapters trained on."""
    from peft import PeftModel

    from ..models import load_model, resolve_model_path

    chain = parent.chain()
    for link in chain:
        if not link.has_adapter():
            raise UserError(f"{link.path}: no adapter/ (is the {link.kind or 'parent'} run finished?); train it "
                            "first or resume it.")
    four_bit = parent_4bit(chain[0])
    base = str(parent.base_model_path or parent.base_model)
    common.check_gpu_memory(purpose, settings, resolve_model_path(base, log=log), merged_float32=True, log=log)
    options = settings.load_options(dtype="float32", load_in_4bit=four_bit, backend="hf")
    model, tokenizer, backend, model_path = load_model(base, options, log=log, purpose=purpose)
    if four_bit:
        model = model.dequantize()  # float32 Q(W): the weights the first adapter was trained against
    for link in chain:
        model = PeftModel.from_pretrained(model, str(link.adapter_dir)).merge_and_unload()
    return model, tokenizer, backend, model_path


MERGE = "float32: base{} + SFT adapter merged in float32"
"""How the DPO policy's starting weights were made (recorded in config.json as ``sft_merge``)."""


def _why_hf(backend):
    return type(backend)("hf", "DPO always trains with transformers + PEFT + TRL (the SFT adapter is merged "
                         "with PEFT)", backend.device)


def parent_4bit(parent: Run | None) -> bool:
    """Whether the SFT parent trained on a 4-bit base (its policy is then Q(W) + dSFT)."""
    return parent is not None and bool(parent.settings.get("load_in_4bit"))


def _prompt_length(tokenizer, prompt: list[dict]) -> int:
    return len(tokenizer.apply_chat_template(prompt, tokenize=True, add_generation_prompt=True, return_dict=False))


def load_pairs(data_dir: Path, tokenizer, settings: DPOSettings, preferences: Path | None, log: Callable = print):
    """(train, validation, dropped): pairs whose prompt fits ``max_prompt_length``; human picks on
    validation/test briefs are left out (counted in the log)."""
    from ..picks import trainable_picks

    folder = DataFolder(data_dir)
    train = folder.pairs("train")
    if preferences is not None:
        picks, excluded = trainable_picks(preferences, data_dir)
        log(f"human picks: {len(picks)} pair(s) added" + (f", {excluded} left out (their briefs are in the "
                                                          "validation/test split)" if excluded else ""))
        train = train + picks
    validation = folder.pairs("validation", required=False)
    fits = [_prompt_length(tokenizer, r["prompt"]) <= settings.max_prompt_length for r in train]
    kept = [r for r, ok in zip(train, fits) if ok]
    if not kept:
        raise UserError(f"{folder.split_path('dpo', 'train')}: every prompt is longer than max_prompt_length="
                        f"{settings.max_prompt_length} tokens; raise --max-prompt-length or shorten the prompts.")
    validation = [r for r in validation if _prompt_length(tokenizer, r["prompt"]) <= settings.max_prompt_length]
    if settings.max_steps > 0:
        # A capped run sees at most this many pairs: computing reference log-probs for the rest is waste.
        from ..gpu import world_size

        needed = settings.max_steps * settings.batch_size * settings.grad_accum * world_size()  # every rank's share
        if len(kept) > needed:
            kept = random.Random(settings.seed).sample(kept, needed)
    return kept, validation, len(train) - sum(fits)


def labelled_rows(pairs: list[dict]) -> list[dict]:
    """Single replies labelled desirable/undesirable (KTO's data): each pair gives one of each."""
    rows = []
    for pair in pairs:
        rows.append({"prompt": pair["prompt"], "completion": pair["chosen"], "label": True})
        rows.append({"prompt": pair["prompt"], "completion": pair["rejected"], "label": False})
    return rows


REFERENCE_BATCH_PAIRS = 8
"""Pairs per batch of the reference pass (no gradients, so larger than a training batch)."""


def with_reference_logps(trainer, dataset, batch_pairs: int = REFERENCE_BATCH_PAIRS,
                         progress: Callable[[int], None] = lambda done: None):
    """``dataset`` (tokenized by the trainer) plus ``ref_chosen_logps``/``ref_rejected_logps`` columns,
    computed with the trainer's own collator and ``compute_ref_log_probs`` (the policy with the
    adapter off: the SFT policy, or the base). Under DDP each process scores every pair: redundant,
    but a small part of a run, and every rank ends with the same columns. ``progress(pairs_done)``
    is called after each batch (a long pass on a CPU: minutes)."""
    import torch

    lengths = [len(r["prompt_ids"]) + max(len(r["chosen_ids"]), len(r["rejected_ids"])) for r in dataset]
    order = sorted(range(len(dataset)), key=lambda i: -lengths[i])  # similar lengths share a batch: less padding
    chosen, rejected = [0.0] * len(dataset), [0.0] * len(dataset)
    device = trainer.accelerator.device
    for start in range(0, len(order), batch_pairs):
        indices = order[start:start + batch_pairs]
        batch = trainer.data_collator([dataset[i] for i in indices])
        batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in batch.items()}
        with torch.inference_mode():
            c, r = trainer.compute_ref_log_probs(trainer.model, batch)
        for i, cv, rv in zip(indices, c.tolist(), r.tolist()):
            chosen[i], rejected[i] = cv, rv
        progress(start + len(indices))
    return dataset.add_column("ref_chosen_logps", chosen).add_column("ref_rejected_logps", rejected)


class ReferenceLogpsMixin:
    """Put before TRL's DPOTrainer: the loss reads precomputed reference log-probs (TRL's
    ``precompute_ref_logps`` mode). :meth:`add_reference_logps` fills them for the training pairs;
    the validation pairs get theirs when the first evaluation needs them."""

    def add_reference_logps(self, progress: Callable[[int], None] = lambda done: None) -> None:
        self.train_dataset = with_reference_logps(self, self.train_dataset, progress=progress)
        self.precompute_ref_logps = True

    def evaluate(self, eval_dataset=None, *args, **kwargs):
        if eval_dataset is None and self.eval_dataset is not None \
                and "ref_chosen_logps" not in self.eval_dataset.column_names:
            self.eval_dataset = with_reference_logps(self, self.eval_dataset)
        return super().evaluate(eval_dataset, *args, **kwargs)


def build_dpo_trainer(data_dir: str | Path, run: Run, settings: DPOSettings, parent: Run | None,
                      preferences: Path | None = None, log: Callable = print) -> common.BuiltTrainer:
    """Load the policy and data and make the trainer of ``settings.loss``; nothing is trained yet."""
    from datasets import Dataset

    loss = settings.loss
    data_dir = Path(data_dir)
    common.set_threads(settings)
    model, tokenizer, backend, model_path, reference = load_policy(settings, parent, log)
    train, validation, dropped = load_pairs(data_dir, tokenizer, settings, preferences, log)
    if loss.labelled:
        train, validation = labelled_rows(train), labelled_rows(validation)
    trainer_cls, config_cls = loss.classes()
    args = common.training_arguments(config_cls, run, settings, backend.device, has_eval=bool(validation),
                                     max_length=settings.max_prompt_length + settings.max_completion_length,
                                     **loss.config(settings))
    ours = loss.reference == "ours"
    mixins = (common.TrainerMixin, ReferenceLogpsMixin) if ours else (common.TrainerMixin,)
    trainer_cls = type(f"VoiceTune{trainer_cls.__name__}", (*mixins, trainer_cls), {})
    trainer = trainer_cls(model=model, args=args, train_dataset=Dataset.from_list(train),
                          eval_dataset=Dataset.from_list(validation) if validation else None,
                          processing_class=tokenizer, peft_config=settings.lora_config())
    use_compact_lm_head(trainer, outputs=("log_sum_sq_probs",) if getattr(trainer, "use_weighting", False) else ())
    use_frozen_bf16(trainer)
    use_segment_attention(unwrap_peft(trainer.model))  # padded pairs: the bf16 attention formula on a bf16 CPU
    if ours:
        progress = PhaseProgress(run, "computing reference log-probs", len(trainer.train_dataset), "pairs",
                                 max_steps=settings.max_steps if settings.max_steps > 0 else None) if is_main_process() else (lambda done: None)
        trainer.add_reference_logps(progress)
    merged = reference == "sft"
    return common.BuiltTrainer(
        trainer, tokenizer, backend, model_path, train_examples=len(train), dropped_too_long=dropped,
        rows=RowSpec(logged=loss.logged, drift_beta=settings.beta if loss.reference else None,
                     drift_warning=settings.drift_warning),
        config_extra={"reference": reference if loss.reference else "reference-free",
                      "policy": "base + SFT adapter merged (float32) + fresh LoRA" if merged else "base + fresh LoRA",
                      "sft_merge": MERGE.format(" (4-bit NF4, dequantised)" if parent_4bit(parent) else "")
                      if merged else None},
        summary_metrics={"final_margin": "rewards/margins", "final_accuracy": "rewards/accuracies",
                         "final_logratio_drift": "logratio_drift"})


def train_dpo(data_dir: str | Path | None, out: str | Path, settings: DPOSettings | None = None, *,
              parent: str | Path | None = None, resume: bool = False, log: Callable = print) -> dict:
    """Train a DPO-family adapter into run folder ``out`` on top of SFT run folder ``parent`` (None: on
    the base model); a :class:`common.TrainFunction`."""
    run, settings, data_dir, sft = common.run_inputs(out, "dpo", settings or DPOSettings(), data_dir, parent, resume)
    if sft is not None:
        settings = replace(settings, model=sft.base_model or settings.model)  # DPO runs on the SFT run's base
    else:
        log("no SFT run given: DPO trains on the base model and its reference is the base (recorded in config.json)")
    preferences = None
    if settings.with_human_picks:
        preferences = Workspace.of_run(run).preferences_path
        if not preferences.is_file():
            log(f"--with-human-picks: no {preferences} yet; training on the data folder's pairs only")
            preferences = None
    run.path.mkdir(parents=True, exist_ok=True)
    return common.execute(run, "dpo", settings, data_dir, log,
                          build=lambda: build_dpo_trainer(data_dir, run, settings, sft, preferences, log),
                          fingerprint=DataFolder(data_dir).fingerprint("dpo", extra=(preferences,) if preferences else ()),
                          resume=resume, parent=sft.path if sft else None)
