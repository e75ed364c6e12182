"""Synthetic voice data for the training tests: short punchy posts in one recognisable voice (chosen)
against generic corporate rewrites (rejected), written as a data folder (``write_voice_data``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

TOPICS = ["shipping on Fridays", "hiring juniors", "remote work", "code review", "burnout", "pricing",
          "open source", "meetings", "testing in production", "side projects", "on-call", "documentation",
          "tech debt", "mentoring", "saying no", "estimates", "layoffs", "first jobs", "pairing", "demos"]
OPENERS = ["Unpopular opinion:", "I was wrong about", "3 years ago I hated", "Nobody tells you this about",
           "Stop romanticising", "We killed"]
CLOSERS = ["Would you do it again?", "Agree or disagree?", "What did I miss?", "Your move."]


def voice_post(topic: str, rng: random.Random) -> str:
    """A short, punchy post in one recognisable voice (line breaks, a number, a question)."""
    return (f"{rng.choice(OPENERS)} {topic}.\n\nWe tried it for {rng.randint(2, 12)} weeks.\n\n"
            f"What changed: {rng.choice(['fewer meetings', 'faster merges', 'calmer on-call', 'happier people'])}.\n\n"
            f"{rng.choice(CLOSERS)}")


def generic_post(topic: str, rng: random.Random) -> str:
    """The corporate rewrite a DPO negative looks like."""
    return (f"In today's fast-paced business environment, {topic} is an increasingly important topic that "
            f"organizations must carefully consider. It offers {rng.choice(['numerous', 'many', 'significant'])} "
            "benefits as well as some challenges, and leveraging best practices is key to unlocking value.")


def write_voice_data(root: Path, n_train: int = 60, n_eval: int = 8, seed: int = 0) -> Path:
    """A data folder per the contract: sft/ and dpo/ train/validation/test JSONL."""
    rng = random.Random(seed)
    for kind in ("sft", "dpo"):
        (root / kind).mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("validation", n_eval), ("test", n_eval)):
        sft, dpo = [], []
        for _ in range(n):
            topic = rng.choice(TOPICS)
            user = {"role": "user", "content": f"Write a LinkedIn post about {topic}."}
            chosen = voice_post(topic, rng)
            sft.append({"messages": [user, {"role": "assistant", "content": chosen}]})
            dpo.append({"prompt": [user], "chosen": [{"role": "assistant", "content": chosen}],
                        "rejected": [{"role": "assistant", "content": generic_post(topic, rng)}]})
        for kind, rows in (("sft", sft), ("dpo", dpo)):
            (root / kind / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root
