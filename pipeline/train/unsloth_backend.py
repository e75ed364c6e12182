"""The Unsloth path for SFT and GRPO (CUDA only): FastLanguageModel loads the model (4-bit or not)
with its fused kernels, ``get_peft_model`` adds the LoRA, and TRL's trainer trains it as usual.

GRPO is generation-bound: where vLLM is installed the model is loaded with ``fast_inference=True``
(Unsloth starts a vLLM engine that shares the weights, ``model.vllm_engine``), and Unsloth's patched
GRPOTrainer (``PatchFastRL``, applied when ``import unsloth`` runs before TRL is imported:
:func:`pipeline.gpu.import_unsloth_first`) samples the groups with it, switching ``use_vllm`` on in
colocate mode by itself. Without vLLM it generates with its own fast ``generate``.

Unsloth cannot run on a CPU machine, so this stays a thin translation of our settings into its two
calls (``unsloth.FastLanguageModel.from_pretrained`` and ``.get_peft_model``); everything around
it (data, trainer, metrics, checkpoints) is the code the hf backend tests exercise.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Callable

from .settings import CommonSettings, GRPOSettings, SFTSettings

GRPO_GPU_MEMORY = 0.5
"""Share of the GPU memory vLLM's engine takes for its KV cache (Unsloth's default); training keeps the rest."""


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
    return add_lora(model, settings), tokenizer, backend, model_path


def load_for_grpo(settings: GRPOSettings, parent, policy_dir: Path, log: Callable = print):
    """(peft model, tokenizer, model_path) for GRPO with Unsloth: the starting policy (the base, or
    ``parent``'s chain merged into it in float32 and saved to ``policy_dir``: Unsloth and vLLM load a
    model folder) loaded by FastLanguageModel, with vLLM fast generation where vllm is installed, and a
    fresh LoRA."""
    from ..merge import merge_full_model
    from ..models import _load_unsloth, resolve_model_path
    from .common import check_gpu_memory
    from .dpo import parent_4bit

    if parent is None:
        policy_dir = resolve_model_path(settings.model, log=log)
    else:
        chain = parent.chain()
        log(f"Unsloth GRPO: merging {' + '.join(link.kind or 'adapter' for link in chain)} into {policy_dir}")
        merge_full_model(resolve_model_path(str(parent.base_model_path or parent.base_model), log=log),
                         [(link.kind or "sft", link.adapter_dir) for link in chain], policy_dir,
                         four_bit=parent_4bit(chain[0]))
    check_gpu_memory("grpo", settings, policy_dir, log=log)
    fast = importlib.util.find_spec("vllm") is not None
    log(f"Unsloth GRPO: {'vLLM fast generation (fast_inference)' if fast else 'Unsloth generate (vllm not installed)'}")
    vllm_options = dict(fast_inference=True, max_lora_rank=settings.lora_r, gpu_memory_utilization=GRPO_GPU_MEMORY)
    model, tokenizer = _load_unsloth(policy_dir, settings.load_options(device="cuda", backend="unsloth"),
                                     **(vllm_options if fast else {}))
    return add_lora(model, settings), tokenizer, policy_dir


def add_lora(model, settings: CommonSettings):
    """Unsloth's ``get_peft_model`` with our LoRA settings."""
    from unsloth import FastLanguageModel

    return FastLanguageModel.get_peft_model(
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
