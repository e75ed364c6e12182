"""A tiny randomly initialised Llama with a real tokenizer, as a model folder: what fast tests and the
benchmarks' ``--quick`` forms train on instead of a real model."""

from __future__ import annotations

from pathlib import Path

TINY_CONFIG = {
    "hidden_size": 64,
    "intermediate_size": 128,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "max_position_embeddings": 1024,
    "tie_word_embeddings": True,
}


def build_tiny_model(out: Path, tokenizer_dir: Path, seed: int = 0, **config) -> Path:
    """A two-layer Llama (:data:`TINY_CONFIG`, with ``config`` on top) seeded with ``seed``, saved with the
    tokenizer of ``tokenizer_dir`` into ``out``."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    llama = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                        **{**TINY_CONFIG, **config})
    torch.manual_seed(seed)
    model = LlamaForCausalLM(llama)
    model.config.architectures = ["LlamaForCausalLM"]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
