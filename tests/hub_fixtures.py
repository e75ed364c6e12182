"""Fixtures for the Hub tests: the loopback Hub, a small data folder and two real run folders.

``hub`` starts :class:`hub_server.HubServer` and points huggingface_hub, datasets, transformers
and PEFT at it for the test (HF_ENDPOINT, HF_TOKEN, no XET, not offline, a private HF cache).
Those libraries read their settings once at import, so the fixture also sets their module
constants (the suite's conftest has already imported them with HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hub_server import WRITE_TOKEN, HubServer

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


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fresh loopback Hub; the clients in this process and in child processes talk to it."""
    import datasets.config
    import huggingface_hub.hf_api
    from huggingface_hub import constants

    with HubServer(tmp_path / "hub-store") as fake:
        home = tmp_path / "hf-home"
        env = {"HF_ENDPOINT": fake.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0", "HF_TOKEN": WRITE_TOKEN,
               "HF_HOME": str(home), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for name, value in {"ENDPOINT": fake.endpoint, "HF_HUB_OFFLINE": False, "HF_HUB_DISABLE_XET": True,
                            "HUGGINGFACE_CO_URL_TEMPLATE": fake.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
                            "HF_HUB_CACHE": str(home / "hub"), "HF_TOKEN_PATH": str(home / "token"),
                            "HF_STORED_TOKENS_PATH": str(home / "stored_tokens")}.items():
            monkeypatch.setattr(constants, name, value)
        monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", fake.endpoint)  # behind file_exists() etc.
        for name, value in {"HF_ENDPOINT": fake.endpoint, "HF_HUB_OFFLINE": False, "HF_DATASETS_OFFLINE": False,
                            "HUB_DATASETS_URL": fake.endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
                            "HF_DATASETS_CACHE": tmp_path / "datasets-cache"}.items():
            monkeypatch.setattr(datasets.config, name, value)
        yield fake


def write_data_folder(root: Path) -> Path:
    from pipeline.fsio import atomic_write_jsonl

    for config, rows in (("sft", SFT_ROWS), ("dpo", DPO_ROWS)):
        for split, part in (("train", rows[:4]), ("validation", rows[4:5]), ("test", rows[5:])):
            atomic_write_jsonl(root / config / f"{split}.jsonl", part)
    (root / "README.md").write_text(DATA_CARD, encoding="utf-8")
    return root


@pytest.fixture
def data_dir(tmp_path) -> Path:
    return write_data_folder(tmp_path / "project" / "data")


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


def write_run(root: Path, name: str, kind: str, base_dir: Path, parent: Path | None, seed: int, targets: list[str]) -> Path:
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


@pytest.fixture(scope="session")
def hub_runs(tmp_path_factory, tiny_model_dir) -> dict[str, Path]:
    """``{"sft": runs/sft-1, "dpo": runs/dpo-1}``: real LoRA adapters on the tiny model (DPO's parent is sft-1)."""
    root = tmp_path_factory.mktemp("hub-project") / "runs"
    sft = write_run(root, "sft-1", "sft", tiny_model_dir, None, seed=1,
                    targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    dpo = write_run(root, "dpo-1", "dpo", tiny_model_dir, sft, seed=2, targets=["q_proj", "v_proj"])
    return {"sft": sft, "dpo": dpo}
