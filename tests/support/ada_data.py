"""The "Ada" data folder Compare, Evaluate and Export tests share: viral-style posts (chosen) against
corporate rewrites (rejected), as SFT conversations, DPO pairs and scored posts."""

from __future__ import annotations

import random
from pathlib import Path

from pipeline.fsio import atomic_write_jsonl

TOPICS = ["hiring", "shipping on Fridays", "burnout", "pricing", "remote work", "code review", "failure",
          "mentoring", "a bad launch", "saying no", "onboarding", "on-call", "technical debt", "feedback"]
SYSTEM = "You write LinkedIn posts as Ada: short hook, line breaks, bullets, no fluff."


def chosen_post(topic: str, i: int) -> str:
    return (f"I got {topic} wrong for {i + 2} years.\n\nHere is what changed:\n\n"
            f"- I stopped guessing.\n- I asked the team.\n- I wrote it down.\n\nSmall fix. Big week.")


def rejected_post(topic: str, i: int) -> str:
    return (f"In today's fast-paced world, {topic} is an incredibly important and truly transformative topic "
            f"that we must all leverage to unlock our full potential and drive seamless synergy across teams.")


def dpo_rows(n: int, offset: int = 0) -> list[dict]:
    rows = []
    for i in range(offset, offset + n):
        topic = TOPICS[i % len(TOPICS)]
        rows.append({"prompt": [{"role": "system", "content": SYSTEM},
                                {"role": "user", "content": f"Write a post about {topic}."}],
                     "chosen": [{"role": "assistant", "content": chosen_post(topic, i)}],
                     "rejected": [{"role": "assistant", "content": rejected_post(topic, i)}]})
    return rows


def sft_rows(n: int, offset: int = 0) -> list[dict]:
    return [{"messages": r["prompt"] + r["chosen"]} for r in dpo_rows(n, offset)]


def posts(n: int = 40) -> list[dict]:
    """Viral-style posts score high, corporate ones low (what the See More proxy should learn)."""
    rng = random.Random(0)
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        viral = i % 2 == 0
        text = chosen_post(topic, i) if viral else rejected_post(topic, i)
        score = 0.55 + 0.45 * rng.random() if viral else 0.45 * rng.random()
        out.append({"text": text, "source": "test", "engagement": round(score * 1000), "score": round(score, 3),
                    "gold": viral and i < 16})
    return out


def write_data(root: Path, *, test_split: bool = True) -> Path:
    for split, n, offset in (("train", 12, 0), ("validation", 3, 12), ("test", 6, 20)):
        if split == "test" and not test_split:
            continue
        atomic_write_jsonl(root / "dpo" / f"{split}.jsonl", dpo_rows(n, offset))
        atomic_write_jsonl(root / "sft" / f"{split}.jsonl", sft_rows(n, offset))
    atomic_write_jsonl(root / "posts.jsonl", posts())
    return root
