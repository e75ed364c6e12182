"""The Unsloth path for SFT (CUDA only): FastLanguageModel loads the base (4-bit or not) with its
fused kernels, ``get_peft_model`` adds the LoRA, and TRL's SFTTrainer trains it as usual.

Unsloth cannot run on a CPU machine, so this stays a thin translation of our settings into its two
calls (``unsloth.FastLanguageModel.from_pretrained`` and ``.get_peft_model``); everything around
it (data, trainer, metrics, checkpoints) is the code the hf backend tests exercise.
"""

from __future__ import annotations

from typing import Callable

from .settings import SFTSettings


def load_for_sft(settings: SFTSettings, log: Callable = print):
    """(peft model, tokenizer, backend, model_path) for Unsloth, mirroring the hf loader's result."""
    from ..models import load_model

    # models.load_model with backend unsloth calls FastLanguageModel.from_pretrained(model_name, max_seq_length,
    # dtype, load_in_4bit) and fixes the pad token.
    from ..models import resolve_model_path
    from .common import check_gpu_memory

    check_gpu_memory("sft", settings, resolve_model_path(settings.model, log=log), log=log)
    options = settings.load_options(device="cuda", backend="unsloth")
    model, tokenizer, backend, model_path = load_model(settings.model, options, log=log, purpose="sft")
    from unsloth import FastLanguageModel

    model = FastLanguageModel.get_peft_model(
        model,
        r=settings.lora_r,
        lora_alpha=settings.alpha,
        lora_dropout=settings.lora_dropout,
        target_modules=settings.targets(),
        bias="none",
        # Unsloth's own checkpointing offloads activations to RAM and costs little time on a GPU.
        use_gradient_checkpointing="unsloth" if settings.gradient_checkpointing else False,
        random_state=settings.seed,
        max_seq_length=settings.max_length,
    )
    return model, tokenizer, backend, model_path
