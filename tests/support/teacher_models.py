"""A tiny model whose answers vary with the prompt, and a free loopback port: what teacher tests need."""

import socket
from pathlib import Path

def build_chatty_model(out: Path, tokenizer_dir: Path) -> Path:
    """A tiny random Llama whose greedy output varies with the prompt (the shared tiny model's
    small initialisation makes every prompt decode to newlines, which would hide padding bugs)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from support.tiny_models import TINY_CONFIG

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = LlamaConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         **{**TINY_CONFIG, "tie_word_embeddings": False}, initializer_range=0.5)
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
