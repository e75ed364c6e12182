"""SFT on the tiny model: assistant-only loss, the CLI and run folder, 4-bit on CPU, bad input,
disk full while checkpointing, out-of-memory messages."""

from __future__ import annotations

import errno
import json

import pytest
from conftest import last_json, run_cli
from support.voice_data import write_voice_data

from pipeline.errors import UserError
from pipeline.workspace import Run


def tiny_sft(tiny_model_dir, **overrides):
    from pipeline.train.settings import settings_for

    values = dict(model=str(tiny_model_dir), load_in_4bit=False, max_steps=2, batch_size=2, max_length=128,
                  save_steps=1, dtype="float32")
    return settings_for("sft", "quick", **{**values, **overrides})


def test_only_assistant_tokens_carry_loss(tmp_path, tiny_model_dir):
    from pipeline.train.sft import build_sft_trainer

    data = write_voice_data(tmp_path / "data", n_train=6, n_eval=0)
    built = build_sft_trainer(data, Run(tmp_path / "run"), tiny_sft(tiny_model_dir), log=lambda *a: None)
    trainer, tokenizer = built.trainer, built.tokenizer
    batch = next(iter(trainer.get_train_dataloader()))
    ids, labels = batch["input_ids"][0], batch["labels"][0]
    assert "position_ids" in batch and "attention_mask" not in batch  # packed, padding-free
    trained = tokenizer.decode(ids[labels != -100])
    ignored = tokenizer.decode(ids[labels == -100])
    rows = [json.loads(line) for line in (data / "sft" / "train.jsonl").read_text().splitlines()]
    replies = [r["messages"][-1]["content"] for r in rows]
    briefs = [r["messages"][0]["content"] for r in rows]
    # every packed assistant reply is trained, with its end-of-turn token, and nothing else is
    assert trained.count("<|im_end|>") >= 2
    for piece in trained.split("<|im_end|>"):
        piece = piece.strip()
        if piece:
            assert any(piece in reply or reply.startswith(piece) for reply in replies), piece
    assert not any(brief in trained for brief in briefs)
    assert "<|im_start|>user" in ignored and "system" in ignored and "assistant" not in trained


def test_sft_cli_writes_the_run_folder(tmp_path, tiny_model_dir):
    data = write_voice_data(tmp_path / "data", n_train=8, n_eval=2)
    out = tmp_path / "runs" / "sft-1"
    proc = run_cli("train", "sft", "--data", str(data), "--out", str(out), "--model", str(tiny_model_dir),
                   "--preset", "quick", "--max-steps", "3", "--save-steps", "2", "--batch-size", "2",
                   "--max-length", "128", "--no-4bit", "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = last_json(proc.stdout)
    assert summary["ok"] and summary["steps"] == 3 and summary["backend"] == "hf"
    assert summary["run_dir"] == str(out) and summary["adapter_dir"] == str(out / "adapter")
    assert isinstance(summary["final_loss"], float)
    run = Run(out)
    config = run.config()
    assert config["kind"] == "sft" and config["parent"] is None and config["base_model"] == str(tiny_model_dir)
    assert config["settings"]["lora_alpha"] == 32 and config["settings"]["packing"] is True
    assert config["data"]["fingerprint"] and config["versions"]["trl"]
    rows = run.metrics()
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2, 3]
    assert all(r["tokens_per_s"] > 0 and r["elapsed"] >= 0 and "lr" in r and "epoch" in r for r in steps)
    assert any("eval_loss" in r for r in rows)
    assert run.status()["state"] == "done"
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == ["checkpoint-2", "checkpoint-3"]
    from peft import PeftConfig

    assert PeftConfig.from_pretrained(str(run.adapter_dir)).r == 16
    # a second run into the same folder is refused rather than mixed in
    from pipeline.train.sft import train_sft

    with pytest.raises(UserError, match="already holds a run"):
        train_sft(data, out, tiny_sft(tiny_model_dir), log=lambda *a: None)


def test_4bit_nf4_trains_on_cpu(tmp_path, tiny_model_dir):
    from pipeline.train.sft import train_sft

    data = write_voice_data(tmp_path / "data", n_train=4, n_eval=0)
    summary = train_sft(data, tmp_path / "run", tiny_sft(tiny_model_dir, load_in_4bit=True, max_steps=1,
                                                           target_modules="attention-only"), log=lambda *a: None)
    assert summary["state"] == "done" and summary["steps"] == 1
    assert Run(tmp_path / "run").config()["settings"]["load_in_4bit"] is True


def test_all_examples_too_long_is_a_user_error(tmp_path, tiny_model_dir):
    from pipeline.train.sft import train_sft

    data = write_voice_data(tmp_path / "data", n_train=3, n_eval=0)
    with pytest.raises(UserError, match=r"every example is longer than max_length=16 .*raise --max-length"):
        train_sft(data, tmp_path / "run", tiny_sft(tiny_model_dir, max_length=16), log=lambda *a: None)
    assert Run(tmp_path / "run").status()["state"] == "failed"


def test_disk_full_while_saving_leaves_no_partial_checkpoint(tmp_path, tiny_model_dir, monkeypatch):
    import torch

    from pipeline.train.sft import train_sft

    data = write_voice_data(tmp_path / "data", n_train=4, n_eval=0)
    real_save = torch.save

    def full_disk(obj, f, *args, **kwargs):  # the optimizer state is the big file of a checkpoint
        if str(f).endswith("optimizer.pt"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(UserError, match="disk full"):
        train_sft(data, tmp_path / "run", tiny_sft(tiny_model_dir, max_steps=1), log=lambda *a: None)
    checkpoints = Run(tmp_path / "run").checkpoints_dir
    assert not any(p.name.startswith("checkpoint-") for p in checkpoints.iterdir())
    assert not (checkpoints / ".staging").exists()


def test_out_of_memory_is_reported_with_a_fix():
    import torch

    from pipeline.train.common import user_errors
    from pipeline.train.settings import SFTSettings

    with pytest.raises(UserError, match=r"out of memory .*smaller --batch-size.*--4bit.*shorter --max-length"):
        with user_errors(SFTSettings(batch_size=8), "/tmp"):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_the_run_keeps_how_many_examples_max_length_left_out_and_the_length_that_keeps_them():
    from pipeline.train.sft import too_long_record

    assert too_long_record([100, 600, 300, 1300], 512) == {"dropped": 2, "examples": 4, "max_length": 512,
                                                           "longest": 1300}
    assert too_long_record([10, 20], 512)["dropped"] == 0
