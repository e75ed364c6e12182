"""Throughput of our SFT, DPO and GRPO trainers and of TRL's with its defaults (bench_train's and
bench_grpo's measures).

Both sides train the same rows with the same LoRA and batch size; TRL's baseline keeps every other
TRL default, and counts real tokens the same way (``TrainerMixin``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from pipeline.train.settings import DPOSettings, GRPOSettings, SFTSettings


def timed_train(trainer) -> float:
    """Seconds of ``trainer.train()`` (with raw log dicts on stdout, not the printer's lines)."""
    from transformers import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    start = time.perf_counter()
    trainer.train()
    return time.perf_counter() - start


def measure_sft_throughput(data_dir: str | Path, settings: SFTSettings, steps: int, work_dir: str | Path,
                           trl_defaults: bool = False, log: Callable = print) -> dict:
    """Train ``steps`` optimizer steps and return measured real tokens/s (for bench/).

    ``trl_defaults=True`` runs TRL's SFTTrainer with its own defaults (only the step count, batch
    size, LoRA config and CPU flag set) on the same rows, counting tokens the same way, so the
    benchmark can compare the two side by side.
    """
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from pipeline.train import common
    from pipeline.train.sft import _load_rows, build_sft_trainer
    from pipeline.workspace import Run

    run = Run(Path(work_dir).resolve())
    run.path.mkdir(parents=True, exist_ok=True)
    settings.max_steps = steps
    settings.save_steps = 10 ** 9
    if trl_defaults:
        model, tokenizer, backend, _ = common.load_for_training(settings, log)
        train, _, _ = _load_rows(Path(data_dir), tokenizer, settings)
        args = SFTConfig(output_dir=str(run.checkpoints_dir), max_steps=steps, per_device_train_batch_size=settings.batch_size,
                         use_cpu=backend.device == "cpu", report_to=[], save_strategy="no", disable_tqdm=True)
        peft_config = settings.lora_config()
        baseline_cls = type("TRLDefaultsSFTTrainer", (common.TrainerMixin, SFTTrainer), {})  # counts tokens only
        trainer = baseline_cls(model=model, args=args, train_dataset=Dataset.from_list(train), processing_class=tokenizer,
                             peft_config=peft_config)
    else:
        trainer = build_sft_trainer(data_dir, run, settings, log).trainer
    counter = trainer.token_counter
    seconds = timed_train(trainer)
    return {"steps": steps, "tokens": counter.tokens, "completion_tokens": counter.completion_tokens,
            "seconds": round(seconds, 3),
            "tokens_per_s": round(counter.tokens / seconds, 2), "trl_defaults": trl_defaults}


def measure_dpo_throughput(data_dir: str | Path, sft_run: str | Path | None, settings: DPOSettings, steps: int,
                           work_dir: str | Path, trl_defaults: bool = False, log: Callable = print) -> dict:
    """Train ``steps`` DPO steps and return steps/s (for bench/), ours or TRL's DPOTrainer defaults.

    Both start from the same policy (base + merged SFT adapter) with the same LoRA, pairs and batch
    size. ``steps_per_s`` times ``trainer.train()``; ``setup_s`` is the trainer construction, which
    for ours includes computing the reference log-probs of the pairs the steps will see.
    """
    from datasets import Dataset
    from trl import DPOConfig, DPOTrainer

    from pipeline.train import common
    from pipeline.train.dpo import build_dpo_trainer, load_pairs, load_policy
    from pipeline.workspace import Run

    run = Run(Path(work_dir).resolve())
    run.path.mkdir(parents=True, exist_ok=True)
    settings.max_steps = steps
    settings.save_steps = 10 ** 9
    parent = Run(Path(sft_run).resolve()) if sft_run else None
    start = time.perf_counter()
    if trl_defaults:
        model, tokenizer, backend, _, _ = load_policy(settings, parent, log)
        train, _, _ = load_pairs(Path(data_dir), tokenizer, settings, None)
        args = DPOConfig(output_dir=str(run.checkpoints_dir), max_steps=steps,
                         per_device_train_batch_size=settings.batch_size, use_cpu=backend.device == "cpu",
                         report_to=[], save_strategy="no", disable_tqdm=True)
        peft_config = settings.lora_config()
        baseline_cls = type("TRLDefaultsDPOTrainer", (common.TrainerMixin, DPOTrainer), {})  # counts tokens only
        trainer = baseline_cls(model=model, args=args, train_dataset=Dataset.from_list(train),
                               processing_class=tokenizer, peft_config=peft_config)
    else:
        trainer = build_dpo_trainer(data_dir, run, settings, parent, None, log).trainer
    counter = trainer.token_counter
    setup = time.perf_counter() - start
    seconds = timed_train(trainer)
    return {"steps": steps, "seconds": round(seconds, 3), "setup_s": round(setup, 3),
            "steps_per_s": round(steps / seconds, 4), "tokens_per_s": round(counter.tokens / seconds, 2),
            "trl_defaults": trl_defaults}


def measure_grpo_throughput(data_dir: str | Path, settings: GRPOSettings, steps: int, work_dir: str | Path, reward,
                            trl_defaults: bool = False, log: Callable = print) -> dict:
    """Train ``steps`` GRPO steps from the base policy and return steps/s and completion tokens/s (for
    bench/), ours or TRL's GRPOTrainer with its defaults.

    Both score answers with the same fitted ``reward`` (a :class:`pipeline.train.rewards.VoiceReward`,
    its components and weights) and sample the same batch shape: ``group_size`` answers to each of
    ``briefs_per_step`` briefs, at most ``max_completion_length`` tokens each, with the same LoRA.
    TRL's baseline keeps every other GRPOConfig default (its precision, gradient checkpointing,
    beta, loss, sampling). ``setup_s`` is the trainer construction (the policy load); ``seconds``
    times ``trainer.train()``, which generates, scores and trains.
    """
    from datasets import Dataset
    from trl import GRPOConfig, GRPOTrainer

    from pipeline.train import common
    from pipeline.train.grpo import GRPOMixin, briefs, build_grpo_trainer, load_policy
    from pipeline.workspace import Run

    run = Run(Path(work_dir).resolve())
    run.path.mkdir(parents=True, exist_ok=True)
    settings.max_steps = steps
    settings.save_steps = 10 ** 9
    start = time.perf_counter()
    if trl_defaults:
        common.set_threads(settings)
        model, tokenizer, backend, _, _ = load_policy(settings, None, log)
        functions, weights = reward.functions()
        args = GRPOConfig(output_dir=str(run.checkpoints_dir), max_steps=steps,
                          per_device_train_batch_size=settings.briefs_per_step * settings.group_size,
                          num_generations=settings.group_size, max_completion_length=settings.max_completion_length,
                          reward_weights=weights, use_cpu=backend.device == "cpu", report_to=[], save_strategy="no",
                          disable_tqdm=True)
        # counts the generated tokens only
        baseline_cls = type("TRLDefaultsGRPOTrainer", (common.TrainerMixin, GRPOMixin, GRPOTrainer), {})
        trainer = baseline_cls(model=model, reward_funcs=functions, args=args,
                               train_dataset=Dataset.from_list(briefs(Path(data_dir))), processing_class=tokenizer,
                               peft_config=settings.lora_config())
    else:
        trainer = build_grpo_trainer(data_dir, run, settings, None, log, reward=reward).trainer
    counter = trainer.token_counter
    setup = time.perf_counter() - start
    seconds = timed_train(trainer)
    return {"steps": steps, "seconds": round(seconds, 3), "setup_s": round(setup, 3),
            "steps_per_s": round(steps / seconds, 5), "completion_tokens": counter.completion_tokens,
            "completion_tokens_per_s": round(counter.completion_tokens / seconds, 2), "trl_defaults": trl_defaults}
