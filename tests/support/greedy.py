"""Greedy decoding checks the Export tests share: chat-templated prompt ids, transformers' greedy
continuation, and whether llama.cpp's continuation agrees with it (up to a near-tie)."""

from __future__ import annotations

import torch
from support.ada_data import SYSTEM

PROMPTS = ["Write a post about hiring.", "Write a post about burnout.", "Write a post about pricing.",
           "Write a post about code review.", "Write a post about saying no."]


def chat_ids(tokenizer, prompt: str, system: str | None = SYSTEM) -> list[int]:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": prompt}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_dict=False)


def hf_greedy(model, prompt_ids: list[int], max_new_tokens: int, end_ids: list[int]) -> list[int]:
    with torch.no_grad():
        out = model.generate(torch.tensor([prompt_ids]), max_new_tokens=max_new_tokens, do_sample=False,
                             eos_token_id=end_ids, pad_token_id=end_ids[0], repetition_penalty=1.0)
    return out[0, len(prompt_ids):].tolist()


def agreement(a: list[int], b: list[int]) -> int:
    """How many leading tokens two continuations share."""
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def assert_alike(model, prompt_ids: list[int], expected: list[int], got: list[int], near_tie: float | None) -> None:
    """llama.cpp's continuation ``got`` equals the merged model's ``expected`` for 16 tokens (or all of a shorter
    one); with ``near_tie``, they may also part where llama.cpp picked the merged model's runner-up and the
    two tokens' logits are within ``near_tie`` of each other (a tie that quantisation's rounding may flip)."""
    same = agreement(expected, got)
    if same >= min(16, len(expected)):
        return
    assert near_tie is not None, (same, expected, got)
    with torch.no_grad():
        logits = model(torch.tensor([prompt_ids + expected[:same]])).logits[0, -1]
    runner_up = int(torch.topk(logits, 2).indices[1])
    assert got[same] == runner_up and logits[expected[same]] - logits[got[same]] < near_tie, (same, expected, got)
