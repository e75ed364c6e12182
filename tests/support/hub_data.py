"""What the Hub tests share: a small data folder with its card, an eval.json, run folders holding real
(untrained, random) LoRA adapters on the tiny model, and a digest to prove a folder was left untouched."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

SFT_ROWS = [{"messages": [{"role": "user", "content": f"Write a post about topic {i}"},
                          {"role": "assistant", "content": f"Shipped {i} things today. Small steps, loud wins."}]}
            for i in range(6)]
DPO_ROWS = [{"prompt": [{"role": "system", "content": "You write as Ada."},
                        {"role": "user", "content": f"Write a post about topic {i}"}],
             "chosen": [{"role": "assistant", "content": f"Topic {i}: I tried it. It broke. I fixed it."}],
             "rejected": [{"role": "assistant", "content": f"In today's fast-paced world, topic {i} is key."}]}
            for i in range(6)]
DATA_CARD = """---
license: cc-by-4.0
language:
- en
task_categories:
- text-generation
tags:
- sft
- dpo
- preference
- synthetic
size_categories:
- n<1K
---

# Ada's posts

Built by VoiceTune from 6 posts. The rejected replies are synthetic generic rewrites.
"""
EVAL = {"margins": {"base": 0.05, "sft": 0.61, "dpo": 1.87}, "chosen_win_rate": {"base": 0.5, "sft": 0.66, "dpo": 0.83},
        "pairs": 12, "perplexity": {"base": 31.0, "sft": 18.4, "dpo": 19.2}, "style": {"base": {"hook_chars": 80}}}
"""The shape pipeline/evaluate/report.py writes (the columns base | sft | dpo)."""


def folder_digest(folder: Path) -> str:
    """One hash over every file's path and bytes (to prove a failed push left a folder untouched)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def write_data_folder(root: Path) -> Path:
    from pipeline.fsio import atomic_write_jsonl

    for config, rows in (("sft", SFT_ROWS), ("dpo", DPO_ROWS)):
        for split, part in (("train", rows[:4]), ("validation", rows[4:5]), ("test", rows[5:])):
            atomic_write_jsonl(root / config / f"{split}.jsonl", part)
    (root / "README.md").write_text(DATA_CARD, encoding="utf-8")
    return root


def make_adapter(base_dir: Path, out: Path, seed: int, targets: list[str], r: int = 4) -> Path:
    """A real PEFT LoRA adapter on the tiny model, with random (non-zero) A and B so it changes outputs."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(base_dir), dtype=torch.float32)
    torch.manual_seed(seed)
    config = LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, init_lora_weights=False, task_type="CAUSAL_LM")
    get_peft_model(model, config).save_pretrained(str(out))
    AutoTokenizer.from_pretrained(str(base_dir)).save_pretrained(str(out))
    return out


def write_hub_run(root: Path, name: str, kind: str, base_dir: Path, parent: Path | None, seed: int, targets: list[str]) -> Path:
    run = root / name
    make_adapter(base_dir, run / "adapter", seed, targets)
    config = {"kind": kind, "name": name, "base_model": str(base_dir), "base_model_path": str(base_dir),
              "parent": str(parent) if parent else None, "backend": {"name": "hf", "reason": "no CUDA", "device": "cpu"},
              "settings": {"model": str(base_dir), "load_in_4bit": True, "lora_r": 4, "lora_alpha": 8,
                           "learning_rate": 2e-4, "max_steps": 2, **({"beta": 0.1} if kind == "dpo" else {})},
              "versions": {"peft": "0.21.2", "trl": "1.16.0"}, "data": {"dir": "/home/ada/data", "fingerprint": "abc123"},
              "created": "2026-11-23T12:00:00Z"}
    (run / "config.json").write_text(json.dumps(config, indent=2))
    (run / "eval.json").write_text(json.dumps(EVAL))
    (run / "status.json").write_text(json.dumps({"state": "done"}))
    return run
