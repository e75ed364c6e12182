"""Run folders from a hand-written PEFT loop, for the Export tests alone: ``sft-1`` trained until greedy
decoding repeats the training posts (300 single-pair steps: llama.cpp and transformers must then agree
token for token, which near-ties would make a coin toss), and adapters on architectures the trainers do
not take. Every other test uses runs made by the project's trainers (``trained_runs.py``)."""

from __future__ import annotations

from pathlib import Path


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
