"""QLoRA SFT with TRL's SFTTrainer (hf backend) or Unsloth's FastLanguageModel + SFTTrainer.

The loss falls on the assistant reply only: each conversation becomes TRL's conversational
prompt-completion form (see :mod:`pipeline.data.folder`) and ``completion_only_loss`` masks the
prompt, whatever the chat template (SmolLM2's has no ``{% generation %}`` markers, so TRL's
``assistant_only_loss`` would refuse it). Packing is TRL's best-fit-decreasing packing, padding-free
(examples are concatenated with restarting position ids; attention stays inside each example).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..data.folder import DataFolder
from ..errors import UserError
from ..models import unwrap_peft
from ..workspace import Run
from . import common
from ..cpu.frozen_bf16 import use_frozen_bf16
from ..cpu.lm_head import use_compact_lm_head
from .attention import use_segment_attention
from .settings import SFTSettings


def _prompt_completion_lengths(tokenizer, rows: list[dict]) -> list[int]:
    texts = [tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False) for r in rows]
    return [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def drop_too_long(rows: list[dict], lengths: list[int], max_length: int, path: Path) -> tuple[list[dict], int]:
    """Keep rows whose tokenised length fits; if none fits, say so and how to fix it."""
    kept = [r for r, n in zip(rows, lengths) if n <= max_length]
    if rows and not kept:
        raise UserError(f"{path}: every example is longer than max_length={max_length} tokens (shortest: "
                        f"{min(lengths)}); raise --max-length or shorten the examples.")
    return kept, len(rows) - len(kept)


def too_long_record(lengths: list[int], max_length: int) -> dict:
    """How many training examples ``max_length`` leaves out, of how many, and the length that keeps them
    all (the run's config.json keeps it; the SFT tab and the log say it)."""
    return {"dropped": sum(n > max_length for n in lengths), "examples": len(lengths), "max_length": max_length,
            "longest": max(lengths, default=0)}


def _load_rows(data_dir: Path, tokenizer, settings: SFTSettings) -> tuple[list[dict], list[dict], dict]:
    folder = DataFolder(data_dir)
    train = folder.sft_examples("train")
    validation = folder.sft_examples("validation", required=False)
    # Truncating a post mid-way would teach the model to stop mid-sentence: drop what does not fit.
    lengths = _prompt_completion_lengths(tokenizer, train)
    train, _ = drop_too_long(train, lengths, settings.max_length, folder.split_path("sft", "train"))
    if validation:
        validation_lengths = _prompt_completion_lengths(tokenizer, validation)
        validation = [r for r, n in zip(validation, validation_lengths) if n <= settings.max_length]
    return train, validation, too_long_record(lengths, settings.max_length)


def build_sft_trainer(data_dir: str | Path, run: Run, settings: SFTSettings, log: Callable = print) -> common.BuiltTrainer:
    """Load the model and data and make the trainer; nothing is trained yet."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    data_dir = Path(data_dir)
    common.set_threads(settings)
    if common.choose(settings) == "unsloth":
        from . import unsloth_backend

        model, tokenizer, backend, model_path = unsloth_backend.load_for_sft(settings, log)
        peft_config = None
    else:
        model, tokenizer, backend, model_path = common.load_for_training(settings, log)
        peft_config = settings.lora_config()
    train, validation, too_long = _load_rows(data_dir, tokenizer, settings)
    if too_long["dropped"]:
        log(f"warning: {too_long['dropped']} of {too_long['examples']} training examples are longer than "
            f"max_length={settings.max_length} tokens and are left out; --max-length {too_long['longest']} keeps them all.")
    args = common.training_arguments(
        SFTConfig, run, settings, backend.device, has_eval=bool(validation),
        max_length=settings.max_length,
        packing=settings.packing,
        packing_strategy="bfd",
        completion_only_loss=settings.completion_only_loss,
        dataset_num_proc=None,
    )
    trainer_cls = type("VoiceTuneSFTTrainer", (common.TrainerMixin, SFTTrainer), {})
    trainer = trainer_cls(model=model, args=args, train_dataset=Dataset.from_list(train),
                          eval_dataset=Dataset.from_list(validation) if validation else None,
                          processing_class=tokenizer, peft_config=peft_config)
    # SFTTrainer logs token accuracy and entropy from these fields; entropy costs three more passes
    # over the (tokens x vocab) logits per step, so TRL's logged entropy reads 0 on CPU.
    use_compact_lm_head(trainer, outputs=("is_top1",))
    use_frozen_bf16(trainer)  # CPU bf16 autocast: the frozen weights' casts once, not every step
    if settings.packing:  # attention inside each packed example only, not over the whole packed row
        use_segment_attention(unwrap_peft(trainer.model))
    return common.BuiltTrainer(trainer, tokenizer, backend, model_path, train_examples=len(train),
                               dropped_too_long=too_long["dropped"], config_extra={"too_long": too_long})


def train_sft(data_dir: str | Path | None, out: str | Path, settings: SFTSettings | None = None, *,
              parent: str | Path | None = None, resume: bool = False, log: Callable = print) -> dict:
    """Train an SFT adapter on the base model into run folder ``out`` (a :class:`common.TrainFunction`)."""
    if parent is not None:
        raise UserError("SFT trains on the base model: it takes no parent run.")
    run = Run(Path(out).resolve())
    if resume:
        settings, data_dir = common.resume_inputs(run, "sft")
    else:
        settings = settings or SFTSettings()
        settings.validate()
        common.check_new_run(run)
    run.path.mkdir(parents=True, exist_ok=True)
    return common.execute(run, "sft", settings, data_dir, log,
                          build=lambda: build_sft_trainer(data_dir, run, settings, log),
                          fingerprint=DataFolder(data_dir).fingerprint("sft"), resume=resume)
