"""The few-shot column: the base model shown ``k`` of the author's training posts before the brief.

It is what a user would do instead of training, so every evaluation serves it next to base | SFT |
DPO and says whether training beat it. The examples are earlier turns of the chat (each training
post as the answer to its own brief), drawn with a seed from the *training* split only, so no
held-out post can leak into the prompt the column is scored on.
"""

from __future__ import annotations

import random
from typing import Iterator

from ..generation import SamplingSettings

COLUMN = "fewshot"
"""The few-shot column's name in eval.json and the Evaluate tab."""


def few_shot_examples(train_pairs: list[dict], k: int, seed: int = 0) -> list[tuple[list[dict], str]]:
    """``k`` (brief messages, post) examples drawn with ``seed`` from training preference rows (TRL
    conversational: ``prompt`` turns and the ``chosen`` answer)."""
    rows = [r for r in train_pairs if r.get("chosen") and r["chosen"][-1]["content"].strip()]
    picked = random.Random(seed).sample(range(len(rows)), min(k, len(rows)))
    return [([m for m in rows[i]["prompt"] if m["role"] != "system"], rows[i]["chosen"][-1]["content"])
            for i in sorted(picked)]


def few_shot_prompt(examples: list[tuple[list[dict], str]], brief: list[dict]) -> list[dict]:
    """The chat the few-shot column answers: the brief's system turn (if any), each example's brief
    and post as earlier turns, then the brief's own turns."""
    system = [m for m in brief if m["role"] == "system"]
    turns = [m for brief_turns, post in examples
             for m in [*brief_turns, {"role": "assistant", "content": post}]]
    return system + turns + [m for m in brief if m["role"] != "system"]


def stream_few_shot(variants, examples: list[tuple[list[dict], str]], brief: list[dict],
                    settings: SamplingSettings = SamplingSettings()) -> Iterator[str]:
    """The few-shot column's reply to ``brief``: the base column of ``variants`` (adapters off) on the
    few-shot chat, with the same sampling settings and seed as the other columns."""
    for _, piece, _ in variants.stream_columns(few_shot_prompt(examples, brief), settings, columns=("base",)):
        yield piece
