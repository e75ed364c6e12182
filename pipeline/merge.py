"""A base model with a stack of LoRA adapters: one exact combined adapter, a merged full model, or the
merged folder that runtimes load (:func:`write_runtime_model`).

Publish (``--combined``, ``--merged``) and Export use these; LoRA deltas add, so SFT + DPO concatenated
along the rank (PEFT ``cat``) equals the two adapters active together.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from .errors import UserError
from .fsio import atomic_write_text

SENTENCEPIECE_MODEL = "tokenizer.model"


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


def write_runtime_model(base_path: Path, adapters: list[tuple[str, Path]], out_dir: Path, four_bit: bool = False,
                        dtype=None) -> list[str]:
    """The merged model folder that runtimes load (llama.cpp's converter, vLLM, plain transformers): base +
    adapters merged into float32 weights (or ``dtype`` after merging), with a tokenizer and generation config
    that end replies. Returns the end tokens (end-of-turn first).

    * ``eos_token`` = the chat template's end-of-turn token (``<|im_end|>`` for ChatML), in the tokenizer,
      ``config.json`` and ``generation_config.json`` (which lists every end token), and a pad token (the
      end-of-turn token when the tokenizer has none). A tokenizer whose eos is not the token that ends a
      turn makes every runtime generate past the reply.
    * a plain ByteLevel BPE ``tokenizer.json`` where transformers wrote one with ``byte_fallback`` (it does so
      for tokenizers read from a GGUF, e.g. the embedded default model): the same tokenisation, but
      llama.cpp's converter would otherwise take it for a SentencePiece vocabulary.
    * the base's SentencePiece ``tokenizer.model`` when it has one (the embedded Gemma writes it): the only
      vocabulary llama.cpp's Gemma 3 converter reads.
    """
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    from .chat_template import end_tokens

    merge_full_model(base_path, adapters, out_dir, four_bit=four_bit, dtype=dtype)
    if (Path(base_path) / SENTENCEPIECE_MODEL).is_file():  # llama.cpp's Gemma 3 converter reads only this
        shutil.copyfile(Path(base_path) / SENTENCEPIECE_MODEL, out_dir / SENTENCEPIECE_MODEL)
    config = AutoConfig.from_pretrained(str(out_dir))
    generation = (GenerationConfig.from_pretrained(str(out_dir)) if (out_dir / "generation_config.json").is_file()
                  else GenerationConfig.from_model_config(config))
    tokenizer = AutoTokenizer.from_pretrained(str(out_dir))
    stops = end_tokens(tokenizer, config.eos_token_id, generation.eos_token_id)
    tokenizer.eos_token = stops[0]
    if tokenizer.pad_token is None:
        tokenizer.pad_token = stops[0]
    tokenizer.save_pretrained(str(out_dir))
    plain_byte_level(out_dir / "tokenizer.json")
    stop_ids = tokenizer.convert_tokens_to_ids(stops)
    config.eos_token_id, config.pad_token_id = stop_ids[0], tokenizer.pad_token_id
    config.save_pretrained(str(out_dir))
    generation.eos_token_id = stop_ids if len(stop_ids) > 1 else stop_ids[0]
    generation.pad_token_id = tokenizer.pad_token_id
    generation.save_pretrained(str(out_dir))
    return stops


def plain_byte_level(path: Path) -> bool:
    """Rewrite a ByteLevel BPE ``tokenizer.json`` flagged ``byte_fallback`` as plain ByteLevel BPE.

    A ByteLevel pre-tokenizer maps every byte to a symbol of the vocabulary, so byte fallback never
    fires and the decoder's ByteFallback/Replace steps never apply: encoding and decoding are
    unchanged (tests/test_export.py checks it on the whole vocabulary). Returns whether it changed.
    """
    if not path.is_file():
        return False
    data = json.loads(path.read_text(encoding="utf-8"))
    model, pre = data.get("model") or {}, data.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else [pre]
    if model.get("type") != "BPE" or not model.get("byte_fallback") or not any(s.get("type") == "ByteLevel" for s in steps):
        return False
    model["byte_fallback"] = False
    data["decoder"] = {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True}
    atomic_write_text(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    return True
