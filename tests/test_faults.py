"""Faults while training: kill -9 in the middle of writing a checkpoint, and a disk that fills up.

Both drive the real CLI (``python -m pipeline train sft``) on the tiny model in a child process.
The fault is injected from outside the project's code: ``tests/fault_injection/sitecustomize.py``
wraps ``torch.save`` in the child to hang (so the test can kill -9 it mid-save) or to fill a small
tmpfs mounted on the run's ``checkpoints/`` (a real ENOSPC from the kernel; without root to mount
one, the same wrapper raises ENOSPC itself).

What the training helper's tests already cover is not repeated here: tests/test_train_runner.py
kills a runner job with SIGKILL between saves and resumes it; tests/test_train_sft.py fails the
*first* checkpoint with a patched ENOSPC in-process. The Hub's 500/401/hang faults on pushes are in
tests/test_hub_faults.py; here only the pull (download) side is added.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import last_json, run_cli

from pipeline.workspace import Run

REPO = Path(__file__).resolve().parents[1]
HOOKS = Path(__file__).resolve().parent / "fault_injection"
POSTS = ["Shipped on a Friday. Broke prod. Learned more in one night than in a month.",
         "Nobody reads your roadmap.\n\nThey read your changelog.",
         "Three things I stopped doing:\n- status meetings\n- long decks\n- saying maybe",
         "Hiring is a product. Your candidates are the users.",
         "I said no to a big client. Best yes I ever gave my team.",
         "Code review is a conversation, not a verdict."]


def write_data(root: Path) -> Path:
    (root / "sft").mkdir(parents=True)
    rows = [{"messages": [{"role": "user", "content": f"Write a post in my voice, number {i}."},
                          {"role": "assistant", "content": post}]} for i, post in enumerate(POSTS)]
    (root / "sft" / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def train_argv(data: Path, out: Path, tiny: Path, max_steps: int, save_steps: int) -> list[str]:
    return ["train", "sft", "--data", str(data), "--out", str(out), "--model", str(tiny), "--preset", "quick",
            "--no-4bit", "--dtype", "float32", "--max-steps", str(max_steps), "--save-steps", str(save_steps),
            "--save-total-limit", "2", "--batch-size", "1", "--max-length", "96", "--json"]


def faulty_child(argv: list[str], env: dict, log: Path) -> subprocess.Popen:
    """``python -m pipeline ARGV`` with the fault hooks on its PYTHONPATH, in its own process group."""
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(HOOKS), str(REPO)])}
    return subprocess.Popen([sys.executable, "-m", "pipeline", *argv], cwd=REPO, env=full_env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def checkpoint_steps(run: Run) -> list[int]:
    return sorted(int(p.name.split("-")[1]) for p in run.checkpoints_dir.glob("checkpoint-*"))


def assert_checkpoint_intact(folder: Path, step: int) -> None:
    """A complete, loadable checkpoint: trainer state at ``step``, adapter weights, optimizer state."""
    import torch
    from safetensors.torch import load_file

    assert json.loads((folder / "trainer_state.json").read_text())["global_step"] == step
    assert load_file(str(folder / "adapter_model.safetensors"))
    assert torch.load(folder / "optimizer.pt", weights_only=False)["state"]


def test_kill_9_while_saving_a_checkpoint_then_resume(tmp_path, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.train import runner

    data = write_data(tmp_path / "data")
    run = Run(tmp_path / "runs" / "sft-1")
    marker = tmp_path / "hanging-save"
    child = faulty_child(train_argv(data, run.path, tiny_model_dir, max_steps=8, save_steps=2),
                         {"VOICETUNE_FAULT_HANG_AT": "checkpoint-6", "VOICETUNE_FAULT_MARKER": str(marker)},
                         tmp_path / "first.log")
    try:
        deadline = time.monotonic() + 180
        while not marker.exists():
            assert child.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "checkpoint-6 never started saving"
            time.sleep(0.2)
        os.killpg(child.pid, signal.SIGKILL)  # mid-save: checkpoint-6 is half-written in the staging folder
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
    assert child.returncode == -signal.SIGKILL
    assert (run.checkpoints_dir / ".staging" / "checkpoint-6" / "optimizer.pt").exists()
    assert checkpoint_steps(run) == [2, 4]  # the half-written one never got its final name
    assert runner.job_status(run)["state"] == "failed"  # the dead process is noticed, with a hint to resume
    logged = [r["step"] for r in run.metrics() if "loss" in r]
    assert logged[:6] == [1, 2, 3, 4, 5, 6]

    proc = run_cli("train", "sft", "--out", str(run.path), "--resume", "--json", timeout=300)

    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"resuming from {run.checkpoints_dir / 'checkpoint-4'}" in proc.stderr
    summary = last_json(proc.stdout)
    assert summary["state"] == "done" and summary["steps"] == 8
    steps = [r["step"] for r in run.metrics() if "loss" in r]
    assert steps == list(range(1, 9))  # steps 5-6 were logged twice in all, but the resume trimmed them
    assert checkpoint_steps(run) == [6, 8] and not (run.checkpoints_dir / ".staging").exists()
    assert run.status()["state"] == "done"
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model = PeftModel.from_pretrained(base, str(run.adapter_dir))
    assert model.peft_config["default"].r == 16
    import torch

    with torch.no_grad():
        out = model.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=4, do_sample=False)
    assert out.shape[1] == 7


@pytest.fixture
def small_disk(tmp_path):
    """``(run, filler)``: a run folder whose ``checkpoints/`` is a 16 MiB tmpfs (root only), and the
    file to fill it with; ``filler`` is None where mounting is not allowed (the hook raises ENOSPC)."""
    run = Run(tmp_path / "runs" / "sft-1")
    run.checkpoints_dir.mkdir(parents=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(run.checkpoints_dir)],
                             capture_output=True).returncode == 0 if os.geteuid() == 0 else False
    yield run, (run.checkpoints_dir / ".filler" if mounted else None)
    if mounted:
        subprocess.run(["umount", "-l", str(run.checkpoints_dir)], check=False)


def test_disk_full_while_saving_keeps_the_previous_checkpoint(tmp_path, tiny_model_dir, small_disk):
    run, filler = small_disk
    data = write_data(tmp_path / "data")
    env = {"VOICETUNE_FAULT_FULL_AT": "checkpoint-4", **({"VOICETUNE_FAULT_FILLER": str(filler)} if filler else {})}
    child = faulty_child(train_argv(data, run.path, tiny_model_dir, max_steps=6, save_steps=2), env,
                         tmp_path / "train.log")
    child.wait(timeout=300)
    output = (tmp_path / "train.log").read_text()

    assert child.returncode == 2, output[-3000:]
    assert "Traceback" not in output
    message = (f"disk full while writing under {run.path}; free some space and run again with --resume (the last "
               "complete checkpoint was kept).")
    assert f"error: {message}" in output.splitlines()
    assert json.loads(output.strip().splitlines()[-1])["error"] == message
    assert checkpoint_steps(run) == [2]  # no corrupt checkpoint-4, the previous one intact
    assert not (run.checkpoints_dir / ".staging").exists()
    assert_checkpoint_intact(run.checkpoints_dir / "checkpoint-2", step=2)
    status = run.status()
    assert status["state"] == "failed" and status["error"] == message
    assert not run.adapter_dir.exists()


def test_pull_from_a_failing_hub_leaves_no_partial_folder(hub, hub_runs, tmp_path, monkeypatch):
    """What tests/test_hub_faults.py does not cover: a download (pull) hitting 5xx and a hang."""
    from pipeline.errors import UserError
    from pipeline.hub.runs import pull_adapter, push_run

    push_run(hub_runs["sft"], "alice/ada-sft", log=lambda *a: None)
    out = tmp_path / "runs" / "pulled-sft"
    hub.fail_next(502, times=3)
    with pytest.raises(UserError, match=r"reading the repo: the Hub at .* answered HTTP 502 on all 3 tries; your local "
                                         r"files are unchanged"):
        pull_adapter("alice/ada-sft", None, out, log=lambda *a: None)
    assert not out.exists() and not list(out.parent.glob(".pulled-sft*"))

    monkeypatch.setenv("VOICETUNE_HUB_TIMEOUT", "0.5")
    hub.hang_next(times=3, seconds=3)
    # a timed-out request leaves its connection dead, so a retry may fail as "could not be reached"
    with pytest.raises(UserError, match=r"(did not answer within 0.5 s|could not be reached \(\w+\)) on all 3 "
                                        r"tries; your local files are unchanged"):
        pull_adapter("alice/ada-sft", None, out, log=lambda *a: None)
    assert not out.exists()

    pulled = pull_adapter("alice/ada-sft", None, out, log=lambda *a: None)  # later, the Hub is fine again
    assert (pulled / "adapter" / "adapter_config.json").is_file() and Run(pulled).status()["state"] == "done"
