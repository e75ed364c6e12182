"""The merged model folder: base + adapters merged into plain float32 weights, loadable by
``AutoModelForCausalLM`` with no PEFT, with a tokenizer and generation config that end replies.

Merging is :func:`pipeline.hub.merge_full_model`. On top of it the folder gets:

* ``eos_token`` = the chat template's end-of-turn token (``<|im_end|>`` for ChatML), in the
  tokenizer, ``config.json`` and ``generation_config.json`` (which lists every end token), and a
  pad token (the end-of-turn token when the tokenizer has none). A tokenizer whose eos is not the
  token that ends a turn makes every runtime generate past the reply.
* a plain ByteLevel BPE ``tokenizer.json`` where transformers wrote one with ``byte_fallback``
  (it does so for tokenizers read from a GGUF, e.g. the embedded default model): the same
  tokenisation, but llama.cpp's converter would otherwise take it for a SentencePiece vocabulary.
* the base's SentencePiece ``tokenizer.model`` when it has one (the embedded Gemma writes it): the
  only vocabulary llama.cpp's Gemma 3 converter reads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ..fsio import atomic_write_text
from .source import ExportSource
from .template import end_tokens

SENTENCEPIECE_MODEL = "tokenizer.model"


def write_merged(source: ExportSource, out_dir: Path, dtype=None) -> list[str]:
    """Write the merged model folder into ``out_dir`` (float32, or ``dtype`` after merging); returns the
    end tokens (end-of-turn first)."""
    from transformers import AutoConfig, AutoTokenizer, GenerationConfig

    from ..merge import merge_full_model

    merge_full_model(source.base_path, list(source.adapters), out_dir, four_bit=source.four_bit, dtype=dtype)
    if (Path(source.base_path) / SENTENCEPIECE_MODEL).is_file():  # llama.cpp's Gemma converter reads only this
        shutil.copyfile(Path(source.base_path) / SENTENCEPIECE_MODEL, out_dir / SENTENCEPIECE_MODEL)
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
