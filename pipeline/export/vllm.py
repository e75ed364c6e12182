"""A LoRA folder as vLLM's LoRA loader takes it, with a README that says how to serve it.

vLLM loads ``adapter_config.json`` + ``adapter_model.safetensors`` and refuses weights for modules
its LoRA layers do not cover; it serves one adapter per request, so a DPO run's SFT and DPO
adapters become one (PEFT ``cat``, exact: :func:`pipeline.hub.combine_adapters` checks it on a
probe). The folder keeps only those two files and the README: ``target_modules`` lists exactly
the modules that have weights, ``modules_to_save`` is refused, and the base model is named by its
Hub id so ``vllm serve`` can fetch it. ``--max-lora-rank`` in the README is the smallest value
vLLM accepts that fits the adapter's rank (a combined adapter's rank is the sum of both).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ..errors import UserError
from ..fsio import atomic_write_json, atomic_write_text
from .source import ExportSource

VLLM_LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM's ``--max-lora-rank`` accepts."""
_MODULE = re.compile(r"\.([A-Za-z0-9_]+)\.lora_[AB]\.weight$")


def write_vllm(source: ExportSource, out_dir: Path, work_dir: Path, folder_name: str) -> dict:
    """Write the adapter and README.md into ``out_dir`` (to be renamed ``folder_name``); returns facts for the
    summary."""
    from safetensors import safe_open

    from ..adapters import point_adapter_at_base
    from ..merge import combine_adapters

    adapters = [path for _, path in source.adapters]
    if len(adapters) == 2:
        combine_adapters(source.base_path, adapters[0], adapters[1], work_dir / "combined")
        adapter = work_dir / "combined"
    elif len(adapters) == 1:
        adapter = adapters[0]
    else:
        raise UserError(f"{source.run_dir}: {len(adapters)} stacked adapters; vLLM serves one, export a run of at most "
                        "two (SFT, SFT + DPO, SFT + GRPO) or use the merged or GGUF export.")
    weights = adapter / "adapter_model.safetensors"
    if not weights.is_file():
        raise UserError(f"{adapter}: no adapter_model.safetensors (vLLM reads only safetensors); save the adapter "
                        "with safe_serialization=True or train it again.")
    config = json.loads((adapter / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("modules_to_save"):
        raise UserError(f"{adapter / 'adapter_config.json'}: modules_to_save {config['modules_to_save']} are full "
                        "copies of base modules, which vLLM's LoRA loader refuses; train without modules_to_save.")
    with safe_open(str(weights), "pt") as f:
        modules = sorted({m.group(1) for key in f.keys() if (m := _MODULE.search(key))})
    if not modules:
        raise UserError(f"{weights}: no LoRA weights (lora_A/lora_B) inside; train the adapter again.")
    config["target_modules"] = modules
    for key in ("rank_pattern", "alpha_pattern"):
        if config.get(key):
            raise UserError(f"{adapter / 'adapter_config.json'}: a {key} (per-module ranks/alphas), which vLLM "
                            "ignores; train with one rank and alpha for every module.")
    shutil.copyfile(weights, out_dir / "adapter_model.safetensors")
    atomic_write_json(out_dir / "adapter_config.json", config)
    point_adapter_at_base(out_dir, source.base_id)
    rank = int(config["r"])
    max_rank = next((r for r in VLLM_LORA_RANKS if r >= rank), None)
    if max_rank is None:
        raise UserError(f"the adapter's rank {rank} is above vLLM's largest --max-lora-rank (512); train a smaller LoRA.")
    base = source.base_id or str(source.base_path)
    command = f"vllm serve {base} --enable-lora --lora-modules voice=./{folder_name} --max-lora-rank {max_rank}"
    atomic_write_text(out_dir / "README.md", readme_text(source, base, command, modules, rank, folder_name))
    return {"serve_command": command, "rank": rank, "target_modules": modules, "base": base}


def readme_text(source: ExportSource, base: str, command: str, modules: list[str], rank: int, folder: str) -> str:
    what = f"{' + '.join(name.upper() for name, _ in source.adapters)} joined into one LoRA (PEFT cat, exact)" \
        if len(source.adapters) == 2 else f"the {source.kind.upper()} LoRA"
    local = "" if source.base_id else (f"\nThe base is a local folder; replace `{base}` with its Hub id, or export "
                                       "with `--base-model OWNER/NAME`.\n")
    return f"""# {source.name}: a LoRA adapter for vLLM

This folder is {what} from the VoiceTune run `{source.name}`, for base model `{base}`
(rank {rank}, modules: {', '.join(modules)}).
{local}
Serve it with the adapter named `voice` (run this in the folder that holds `{folder}/`):

    {command}

Then ask for it by name (the chat template is the base model's):

    curl http://localhost:8000/v1/chat/completions -H 'Content-Type: application/json' \\
      -d '{{"model": "voice", "messages": [{{"role": "user", "content": "Write a post about hiring."}}]}}'

With PEFT instead: `PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained("{base}"), "{folder}")`.
"""
