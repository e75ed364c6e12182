"""GRPO with a voice reward (TRL's GRPOTrainer) on top of an SFT or DPO run's policy.

Each step samples ``group_size`` answers to each of ``briefs_per_step`` training briefs (the user
turns of ``sft/train.jsonl``), scores them with :class:`pipeline.train.rewards.VoiceReward` (a
weighted sum of voice, fluency, brief adherence, form and an optional LLM judge) and moves the
policy towards the answers that beat their group's mean, with a KL penalty (``beta``) to the
starting policy.

The starting policy is built as DPO builds its own (:func:`pipeline.train.dpo.load_merged`): every
adapter of the parent's chain (SFT, or SFT then DPO) merged into a float32 base, and a fresh LoRA on
top. TRL's reference for a PEFT model is the model with the adapter off: the parent's policy, so the
logged ``kl`` is the KL to where the run started. The saved adapter holds only the GRPO delta; the
chain base -> SFT -> (DPO) -> GRPO is served by stacking the chain's adapters (LoRA deltas add).
Without a parent the policy starts from the base.

Metrics rows add each component's mean (``rewards/<name>/mean``), the weighted ``reward``, its
spread (``reward_std`` over the batch, ``group_reward_spread``: the mean standard deviation within a
group, what GRPO learns from), the ``kl`` and ``completions/mean_length``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..data.folder import DataFolder
from ..errors import UserError
from ..workspace import Run
from . import common
from .metrics import RowSpec
from .rewards import COMPONENTS, VoiceReward
from .settings import GRPOSettings, run_kind

LOGGED = ("reward", "reward_std", "group_reward_spread", "frac_reward_zero_std", "kl", "completions/mean_length",
          "completions/clipped_ratio", *(f"rewards/{name}/mean" for name in COMPONENTS))
"""TRL's logged values kept in metrics.jsonl (``kl`` only when ``beta`` > 0)."""


class GRPOMixin:
    """Put before TRL's GRPOTrainer (after :class:`common.TrainerMixin`): counts the tokens of each
    generated batch and logs the reward's spread within each group."""

    def _generate_and_score_completions(self, inputs):
        import torch

        output = super()._generate_and_score_completions(inputs)
        completion = output["completion_mask"]
        self.token_counter.add({"attention_mask": torch.cat([output["prompt_mask"], completion], dim=1),
                                "completion_mask": completion})
        return output

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        total = (rewards_per_func * self.reward_weights.to(rewards_per_func.device)).nansum(dim=1)
        groups = total.view(-1, self.num_generations)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["group_reward_spread"].append(groups.std(dim=1).mean().item())
        return rewards_per_func


def load_policy(settings: GRPOSettings, parent: Run | None, log: Callable = print, policy_dir: Path | None = None):
    """``(model, tokenizer, backend, model_path, start)``: the parent's merged policy (or the base).

    On CUDA with unsloth installed (``auto`` or ``unsloth``) the policy is Unsloth's, written first as
    a model folder into ``policy_dir`` when there is a parent, and comes with its LoRA already on
    (:func:`pipeline.train.unsloth_backend.load_for_grpo`); elsewhere it is transformers + PEFT."""
    from ..models import choose_backend
    from .dpo import load_merged

    start = " + ".join(link.kind or "adapter" for link in parent.chain()) if parent else "base"
    chosen = choose_backend(settings.backend, settings.device, purpose="grpo")
    if chosen.name == "unsloth":
        from . import unsloth_backend

        model, tokenizer, model_path = unsloth_backend.load_for_grpo(settings, parent, policy_dir, log)
        return model, tokenizer, chosen, model_path, start
    hf = replace(settings, backend="hf")
    if parent is None:
        model, tokenizer, backend, model_path = common.load_for_training(hf, log, purpose="dpo")
    else:
        model, tokenizer, backend, model_path = load_merged(hf, parent, "dpo", log)
    why = type(backend)("hf", f"{chosen.reason} (the parent's adapters are merged with PEFT)" if parent
                        else chosen.reason, backend.device)
    return model, tokenizer, why, model_path, start


def check_parent(parent: Run) -> None:
    """The parent must be a run of a kind GRPO starts from, with an adapter."""
    kinds = run_kind("grpo").parents
    if not parent.is_run():
        raise UserError(f"{parent.path}: not a run folder (no config.json); pass --from an SFT or DPO run folder.")
    if parent.kind not in kinds:
        raise UserError(f"{parent.path} is a {parent.kind} run; --from needs an {' or '.join(k.upper() for k in kinds)} "
                        "run folder.")
    if parent.kind == "dpo" and parent.parent is None:
        raise UserError(f"{parent.path}: a DPO run trained on the base model (no SFT parent); start GRPO from an "
                        "SFT run or a DPO run trained on one.")


def briefs(data_dir: Path) -> list[dict]:
    """The training briefs as TRL conversational prompts (system and user turns of sft/train.jsonl)."""
    rows = [{"prompt": e["prompt"]} for e in DataFolder(data_dir).sft_examples("train")]
    if not rows:
        raise UserError(f"{DataFolder(data_dir).split_path('sft', 'train')}: no training briefs; build the dataset first.")
    return rows


def fit_reward(data_dir: str | Path, settings: GRPOSettings, parent: Run | None, log: Callable = print) -> VoiceReward:
    """The run's reward, fitted on the training posts of ``data_dir`` (the reference model: the base)."""
    return VoiceReward(settings.weights(), Path(data_dir), reference_model=str(
        (parent.base_model_path if parent else None) or settings.model), judge_url=settings.judge_url,
        judge_model=settings.judge_model or None, max_per_side=settings.voice_texts, seed=settings.seed,
        log=log)


def build_grpo_trainer(data_dir: str | Path, run: Run, settings: GRPOSettings, parent: Run | None,
                       log: Callable = print, reward: VoiceReward | None = None) -> common.BuiltTrainer:
    """Fit the reward (unless ``reward`` is given: bench/ shares one between trainers), load the policy
    and make the trainer; nothing is trained yet."""
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    data_dir = Path(data_dir)
    common.set_threads(settings)
    prompts = briefs(data_dir)
    reward = reward or fit_reward(data_dir, settings, parent, log)
    functions, weights = reward.functions()
    model, tokenizer, backend, model_path, start = load_policy(settings, parent, log, policy_dir=run.path / ".policy")
    batch = replace(settings, batch_size=settings.briefs_per_step * settings.group_size)
    args = common.training_arguments(
        GRPOConfig, run, batch, backend.device, has_eval=False, num_generations=settings.group_size,
        max_completion_length=settings.max_completion_length, temperature=settings.temperature,
        beta=settings.beta, reward_weights=weights)
    trainer_cls = type("VoiceTuneGRPOTrainer", (common.TrainerMixin, GRPOMixin, GRPOTrainer), {})
    trainer = trainer_cls(model=model, reward_funcs=functions, args=args, train_dataset=Dataset.from_list(prompts),
                          processing_class=tokenizer,
                          peft_config=None if backend.name == "unsloth" else settings.lora_config())
    return common.BuiltTrainer(
        trainer, tokenizer, backend, model_path, train_examples=len(prompts), dropped_too_long=0,
        rows=RowSpec(logged=LOGGED),
        config_extra={"policy": f"base + {start} merged (float32) + fresh LoRA" if parent else "base + fresh LoRA",
                      "reference": start if settings.beta > 0 else None,
                      "reward": {"weights": reward.weights, "voice_fit": "the training posts only",
                                 "reference_model": reward.reference.model_spec}},
        summary_metrics={"final_reward": "reward", "final_kl": "kl",
                         **{f"final_{name}": f"rewards/{name}/mean" for name in reward.weights}})


def train_grpo(data_dir: str | Path | None, out: str | Path, settings: GRPOSettings | None = None, *,
               parent: str | Path | None = None, resume: bool = False, log: Callable = print) -> dict:
    """Train a GRPO adapter into run folder ``out`` on top of run folder ``parent`` (an SFT or DPO run;
    None: the base model); a :class:`common.TrainFunction`."""
    run, settings, data_dir, start = common.run_inputs(out, "grpo", settings or GRPOSettings(), data_dir, parent,
                                                       resume)
    if start is not None:
        check_parent(start)
        settings = replace(settings, model=start.base_model or settings.model)
    else:
        log("no --from run given: GRPO starts from the base model (recorded in config.json)")
    run.path.mkdir(parents=True, exist_ok=True)
    summary = common.execute(run, "grpo", settings, data_dir, log,
                             build=lambda: build_grpo_trainer(data_dir, run, settings, start, log),
                             fingerprint=DataFolder(data_dir).fingerprint("sft"), resume=resume,
                             parent=start.path if start else None)
    warning = reward_hacking_warning(run.metrics())
    if warning:
        log(f"warning: {warning}")
    return {**summary, "warning": warning}


def reward_hacking_warning(rows: list[dict], window: int = 3) -> str | None:
    """A warning when the reward rose while a guard component (fluency, adherence) fell: the policy may
    be earning the voice reward in ways a reader would not accept (compare the first and last
    ``window`` logged steps)."""
    rows = [r for r in rows if "reward" in r]
    if len(rows) < 2 * window:
        return None
    mean = lambda key, part: sum(r.get(key, 0.0) for r in part) / len(part)  # noqa: E731
    first, last = rows[:window], rows[-window:]
    if mean("reward", last) <= mean("reward", first):
        return None
    fell = [name for name in ("fluency", "adherence") if f"rewards/{name}/mean" in rows[0]
            and mean(f"rewards/{name}/mean", last) < mean(f"rewards/{name}/mean", first) - 0.05]
    if not fell:
        return None
    return (f"the reward rose while {' and '.join(fell)} fell: possible reward hacking; read the answers and run "
            "Evaluate (its detector is retrained on the policy's own outputs) before trusting the voice reward.")
