"""Fixtures for the Compare/Evaluate tests: a small data folder and real SFT/DPO run folders.

The runs are made here with real PEFT on the tiny model (the training code has its own tests):
``sft-1`` is a LoRA trained for a few optimizer steps on the chosen posts; ``dpo-1`` is a second
LoRA trained on top of base + sft-1 (merged, as DPO training does) on a DPO loss, saved with only
its own delta and ``parent`` pointing at sft-1, per the run-folder contract.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

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


def _pairs(tokenizer, rows):
    """(prompt ids, chosen ids, rejected ids) with the chat template."""
    out = []
    for row in rows:
        prompt = tokenizer.apply_chat_template(row["prompt"], add_generation_prompt=True, tokenize=False)
        ids = []
        for key in ("chosen", "rejected"):
            full = tokenizer.apply_chat_template(row["prompt"] + row[key], tokenize=False)
            ids.append(tokenizer(full[len(prompt):], add_special_tokens=False)["input_ids"])
        out.append((tokenizer(prompt, add_special_tokens=False)["input_ids"], *ids))
    return out


def _logp(model, prompt_ids, completion_ids):
    import torch

    ids = torch.tensor([prompt_ids + completion_ids])
    logits = model(input_ids=ids).logits[0, len(prompt_ids) - 1:-1].float()
    return logits.log_softmax(-1).gather(-1, ids[0, len(prompt_ids):, None]).sum()


def train_lora(model, tokenizer, rows, *, kind: str, steps: int, seed: int, r: int = 8, lr: float = 5e-3):
    """A real LoRA trained for ``steps`` Adam steps: NLL of the chosen post (sft) or a DPO-style
    log-sigmoid margin loss (dpo). Returns the PEFT model."""
    import torch
    from peft import LoraConfig, get_peft_model

    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    peft_model = get_peft_model(model, config)
    optimizer = torch.optim.Adam([p for p in peft_model.parameters() if p.requires_grad], lr=lr)
    pairs = _pairs(tokenizer, rows)
    peft_model.train()
    for step in range(steps):
        prompt, chosen, rejected = pairs[step % len(pairs)]
        if kind == "sft":
            loss = -_logp(peft_model, prompt, chosen) / len(chosen)
        else:
            margin = _logp(peft_model, prompt, chosen) - _logp(peft_model, prompt, rejected)
            loss = -torch.nn.functional.logsigmoid(0.1 * margin)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    peft_model.eval()
    return peft_model


def write_run(run_dir: Path, kind: str, peft_model, base_dir: Path, parent: Path | None, data_dir: Path) -> Path:
    from pipeline.fsio import atomic_dir, atomic_write_json

    with atomic_dir(run_dir / "adapter") as tmp:
        peft_model.save_pretrained(str(tmp))
    atomic_write_json(run_dir / "config.json", {
        "kind": kind, "name": run_dir.name, "base_model": str(base_dir), "base_model_path": str(base_dir),
        "parent": str(parent) if parent else None, "backend": {"name": "hf", "reason": "test", "device": "cpu"},
        "settings": {"lora_r": 8}, "versions": {}, "data": {"dir": str(data_dir), "fingerprint": "test"},
        "created": "2026-01-01T00:00:00Z"})
    atomic_write_json(run_dir / "status.json", {"state": "done"})
    return run_dir


def make_runs(root: Path, base_dir: Path, data_dir: Path, lr: float = 5e-3) -> dict:
    """``runs/sft-1`` and ``runs/dpo-1`` (parent sft-1) trained on ``data_dir``'s train pairs (``lr``: 5e-3
    moves a random tiny model; a real model wants a real one, e.g. 2e-4)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    rows = [json.loads(line) for line in (data_dir / "dpo" / "train.jsonl").read_text().splitlines()]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matmuls: one thread is faster, and much faster on a shared CPU
    try:
        base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
        sft = train_lora(base, tokenizer, rows, kind="sft", steps=24, seed=1, lr=lr)
        sft_dir = write_run(root / "runs" / "sft-1", "sft", sft, base_dir, None, data_dir)
        policy = sft.merge_and_unload()  # DPO trains on base + SFT, as the training code does
        dpo = train_lora(policy, tokenizer, rows, kind="dpo", steps=24, seed=2, lr=lr)
        dpo_dir = write_run(root / "runs" / "dpo-1", "dpo", dpo, base_dir, sft_dir, data_dir)
    finally:
        torch.set_num_threads(threads)
    return {"sft": sft_dir, "dpo": dpo_dir, "data": data_dir, "root": root}


@pytest.fixture(scope="session")
def lora_runs(tmp_path_factory, tiny_model_dir) -> dict:
    """A project with data/ and runs/sft-1, runs/dpo-1 on the tiny model (built once per session)."""
    root = tmp_path_factory.mktemp("project")
    return make_runs(root, tiny_model_dir, write_data(root / "data"))


@pytest.fixture(autouse=False)
def one_thread():
    """Tiny-model work runs faster on one torch thread, most of all on a CPU other tests share."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1"}
"""The environment for CLI children in these tests (same reason as ``one_thread``)."""
