"""Training jobs as child processes: one at a time per workspace (the next one queued), cancel
keeps a checkpoint, resume continues it with the same config, kill -9 is detected, runs are
listed from disk."""

from __future__ import annotations

import os
import signal
import time

import pytest
from conftest import last_json, run_cli
from test_train_data import write_voice_data

from pipeline.workspace import Run


def tiny_job_settings(tiny_model_dir, **overrides):
    from pipeline.train.settings import settings_for

    values = dict(model=str(tiny_model_dir), load_in_4bit=False, max_steps=400, batch_size=1, max_length=96,
                  save_steps=2, dtype="float32", logging_steps=1)
    return settings_for("sft", "quick", **{**values, **overrides})


def wait_for(predicate, timeout: float = 240, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


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
    run = runner.start_job(workspace, "sft", tiny_job_settings(tiny_model_dir, max_steps=8), data)
    wait_for(lambda: checkpoints(run) and checkpoints(run)[-1] >= 4, what="checkpoint-4")
    pid = runner._job(run)["pid"]
    os.killpg(pid, signal.SIGKILL)
    status = wait_for(lambda: (s := runner.job_status(run))["state"] == "failed" and s, what="failure detection")
    assert "Resume" in status["error"]
    assert not (run.checkpoints_dir / ".staging").exists() or not any((run.checkpoints_dir / ".staging").iterdir())
    runner.resume(run)
    wait_for(lambda: runner.job_status(run)["state"] in ("done", "failed"), what="the resumed run")
    assert runner.job_status(run)["state"] == "done", open(run.log_path).read()[-3000:]
    assert run.has_adapter()
    steps = [r["step"] for r in run.metrics() if "loss" in r]
    assert steps == list(range(1, 9))
