"""A base model with a stack of LoRA adapters: one exact combined adapter, or a merged full model.

Publish (``--combined``, ``--merged``) and Export use these; LoRA deltas add, so SFT + DPO concatenated
along the rank (PEFT ``cat``) equals the two adapters active together.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .errors import UserError


def _load_stacked(base_path: Path, adapters: list[tuple[str, Path]], four_bit: bool = False):
    """The float32 base with ``adapters`` loaded and all active (LoRA deltas add), in eval mode.

    ``four_bit``: the base as a 4-bit run trained on it, Q(W): quantised to NF4 then dequantised to
    float32, so merged weights are exactly the trained policy (not the full-precision W + deltas).
    """
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from .models import nf4_config

    if four_bit:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32, device_map={"": "cpu"},
                                                     quantization_config=nf4_config(torch.float32)).dequantize()
    else:
        model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=torch.float32)
    (first_name, first_dir), rest = adapters[0], adapters[1:]
    model = PeftModel.from_pretrained(model, str(first_dir), adapter_name=first_name)
    for name, path in rest:
        model.load_adapter(str(path), adapter_name=name)
    model.base_model.set_adapter([name for name, _ in adapters], inference_mode=True)
    return model.eval()


def combine_adapters(base_path: Path, sft_dir: Path, dpo_dir: Path, out_dir: Path, *, tolerance: float = 1e-4) -> float:
    """Write one LoRA equal to SFT + DPO (PEFT ``cat``: ranks add up, exact) and return the measured
    largest logit difference between it and the two stacked adapters."""
    import torch

    model = _load_stacked(base_path, [("sft", sft_dir), ("dpo", dpo_dir)])
    model.add_weighted_adapter(["sft", "dpo"], [1.0, 1.0], adapter_name="combined", combination_type="cat")
    probe = torch.arange(1, 33).unsqueeze(0) % model.config.vocab_size
    with torch.no_grad():
        stacked = model(probe).logits
        model.base_model.set_adapter("combined", inference_mode=True)
        alone = model(probe).logits
    difference = float((stacked - alone).abs().max() / stacked.abs().max().clamp_min(1e-6))
    if difference > tolerance:
        raise UserError(f"the combined adapter differs from SFT + DPO by {difference:.2e} (relative) on a probe; "
                        "these adapters cannot be joined exactly (rsLoRA/DoRA?); push without --combined.")
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp, selected_adapters=["combined"])
        shutil.copytree(Path(tmp) / "combined", out_dir, dirs_exist_ok=True)
    return difference


def merge_full_model(base_path: Path, adapters: list[tuple[str, Path]], out_dir: Path, four_bit: bool = False,
                     dtype=None) -> None:
    """Save base + adapters merged into plain weights (float32) with the tokenizer, as a model folder
    (``four_bit``: into the dequantised 4-bit base the run trained on, see :func:`_load_stacked`; with
    ``dtype``, the matrices are cast to it after merging and the vectors, such as norms, stay float32)."""
    from transformers import AutoTokenizer

    model = _load_stacked(base_path, adapters, four_bit).merge_and_unload(adapter_names=[name for name, _ in adapters])
    for parameter in model.parameters() if dtype is not None else ():
        if parameter.dim() > 1:
            parameter.data = parameter.data.to(dtype)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    AutoTokenizer.from_pretrained(str(adapters[0][1]) if (adapters[0][1] / "tokenizer.json").is_file()
                                  else str(base_path)).save_pretrained(str(out_dir))
