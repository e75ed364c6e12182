"""Training jobs as child processes: one at a time per workspace (the next one queued), cancel
keeps a checkpoint, resume continues it with the same config, kill -9 is detected, runs are
listed from disk."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from conftest import last_json, run_cli
from support.jobs import tiny_job_settings, wait_for
from support.voice_data import write_voice_data

from pipeline.workspace import Run


def checkpoints(run: Run) -> list[int]:
    if not run.checkpoints_dir.is_dir():
        return []
    return sorted(int(p.name.split("-")[1]) for p in run.checkpoints_dir.glob("checkpoint-*"))


@pytest.mark.slow
def test_jobs_queue_cancel_and_resume(workspace, tiny_model_dir):
    from pipeline.train import runner

    data = write_voice_data(workspace.data_dir, n_train=6, n_eval=0)
    first = runner.start_job(workspace, "sft", tiny_job_settings(tiny_model_dir), data)
    second = runner.start_job(workspace, "sft", tiny_job_settings(tiny_model_dir, max_steps=1), data, name="second")
    assert runner.job_status(first)["state"] == "running"
    assert runner.job_status(second)["state"] == "queued"  # one at a time per workspace
    listed = {r["name"]: r["state"] for r in runner.list_runs(workspace)}
    assert listed == {first.name: "running", "second": "queued"}

    wait_for(lambda: checkpoints(first), what="a first checkpoint")
    status = runner.cancel(first, wait_s=120)
    assert status["state"] == "cancelled", open(first.log_path).read()[-2000:]
    stopped_at = status["step"]
    assert checkpoints(first)[-1] == stopped_at  # cancel saved where it stopped

    # the finishing child started the queued job, which runs to the end
    wait_for(lambda: runner.job_status(second)["state"] == "done", what="the queued job")
    assert second.has_adapter()

    runner.resume(first)
    wait_for(lambda: (runner.job_status(first).get("step") or 0) > stopped_at + 1, what="resumed steps")
    runner.cancel(first, wait_s=120)
    steps = [r["step"] for r in first.metrics() if "loss" in r]
    assert steps == list(range(1, len(steps) + 1))  # resumed from the checkpoint: no gap, no repeat
    assert first.config()["settings"]["max_steps"] == 400  # same config

    # after an "app restart" (a new process), the runs are listed from disk
    proc = run_cli("runs", "--workspace", str(workspace.root), "--json")
    states = {r["name"]: r["state"] for r in last_json(proc.stdout)["runs"]}
    assert states == {first.name: "cancelled", "second": "done"}


@pytest.mark.slow
def test_kill_9_is_detected_and_resume_finishes(workspace, tiny_model_dir):
    from pipeline.train import runner

    data = write_voice_data(workspace.data_dir, n_train=6, n_eval=0)
    # 40 steps: enough that the kill lands mid-run (the tiny model trains a step in ~0.1 s)
    run = runner.start_job(workspace, "sft", tiny_job_settings(tiny_model_dir, max_steps=40), data)
    wait_for(lambda: checkpoints(run) and checkpoints(run)[-1] >= 4, what="checkpoint-4")
    pid = run.job()["pid"]
    os.killpg(pid, signal.SIGKILL)
    status = wait_for(lambda: (s := runner.job_status(run))["state"] == "failed" and s, what="failure detection")
    assert "Resume" in status["error"]
    # a kill during a save may leave a half-written checkpoint in .staging: resume must never pick it
    from pipeline.train.common import last_checkpoint

    resume_from = Path(last_checkpoint(run))
    assert resume_from.parent == run.checkpoints_dir and (resume_from / "adapter_model.safetensors").is_file()
    runner.resume(run)
    wait_for(lambda: runner.job_status(run)["state"] in ("done", "failed"), what="the resumed run")
    assert runner.job_status(run)["state"] == "done", open(run.log_path).read()[-3000:]
    assert run.has_adapter()
    steps = [r["step"] for r in run.metrics() if "loss" in r]
    assert steps == list(range(1, 41))


def test_resume_after_the_last_step_saves_the_checkpoint_without_training(workspace, tiny_model_dir):
    """A run that died after its last checkpoint but before writing its adapter (what a kill -9
    right at the end leaves) finishes on resume without training past max_steps."""
    import shutil

    from safetensors.torch import load_file

    from pipeline.train.sft import train_sft

    data = write_voice_data(workspace.data_dir, n_train=6, n_eval=0)
    run = workspace.run("sft-end")
    train_sft(data, run.path, tiny_job_settings(tiny_model_dir, max_steps=4), log=lambda *a, **k: None)
    shutil.rmtree(run.adapter_dir)
    summary = train_sft(data, run.path, resume=True, log=lambda *a, **k: None)
    assert summary["steps"] == 4 and summary["state"] == "done"
    assert [r["step"] for r in run.metrics() if "loss" in r] == [1, 2, 3, 4]
    assert sorted(p.name for p in run.checkpoints_dir.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-2", "checkpoint-4"]
    saved, checkpoint = (load_file(str(p / "adapter_model.safetensors"))
                         for p in (run.adapter_dir, run.checkpoints_dir / "checkpoint-4"))
    assert saved.keys() == checkpoint.keys()
    assert all(bool((saved[k] == checkpoint[k]).all()) for k in saved)
