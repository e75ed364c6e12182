"""Evaluation as a job: a child process the page follows through eval-status.json to done, cancel
leaves no eval.json, a vanished process is reported as failed, a second start is refused."""

from __future__ import annotations

import os
import signal

import pytest
from conftest import write_data
from support.jobs import wait_for
from support.trained_runs import make_runs

from pipeline.errors import UserError
from pipeline.evaluate import job
from pipeline.evaluate.report import EvalSettings
from pipeline.workspace import Run


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model_dir) -> dict:
    """A project of its own: the jobs write eval.json and eval-status.json into its run folders."""
    root = tmp_path_factory.mktemp("eval-jobs")
    return make_runs(root, tiny_model_dir, write_data(root / "data"), steps=2)


@pytest.fixture(autouse=True)
def one_thread_children(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # tiny-model work runs faster on one thread


def test_an_eval_job_is_followed_to_done(runs):
    run = Run(runs["dpo"])
    argv = job.start(run, runs["data"], EvalSettings(limit=1, max_new_tokens=8, bootstrap=0))
    assert argv[:5] == ["eval", "--run", str(run.path), "--data", str(runs["data"])] and "--limit" in argv
    first = job.status(run)
    assert first["state"] == "running" and first["argv"] == argv
    with pytest.raises(UserError, match="already running"):  # one evaluation of a run at a time
        job.start(run, runs["data"], EvalSettings())
    seen: list[dict] = []
    final = wait_for(lambda: (s := job.status(run), seen.append(s))[0]["state"] != "running" and s, what="the evaluation")
    assert final["state"] == "done", run.eval_log_path.read_text()[-3000:]
    assert run.eval_path.is_file() and final["fraction"] == 1.0 and final["elapsed_s"] > 0
    assert any(0 < s.get("fraction", 0) < 1 and s.get("message") for s in seen), seen  # progress in between
    assert "$ " in run.eval_log_path.read_text()  # the command line heads the log


def test_cancel_mid_run_leaves_no_eval_json(runs):
    run = Run(runs["dpo"])
    run.eval_path.unlink(missing_ok=True)
    job.start(run, runs["data"], EvalSettings(limit=6, max_new_tokens=400, bootstrap=0))  # long enough to cancel
    wait_for(lambda: job.status(run).get("message", "").startswith("writing post"), what="posts being written")
    status = job.cancel(run, wait_s=60)
    assert status["state"] == "cancelled", run.eval_log_path.read_text()[-3000:]
    assert not run.eval_path.exists() and not list(run.path.glob(".eval.json.*"))
    assert "cancelled" in run.eval_log_path.read_text()


def test_a_vanished_evaluation_is_failed_with_a_hint(runs):
    run = Run(runs["dpo"])
    job.start(run, runs["data"], EvalSettings(limit=1, max_new_tokens=8, bootstrap=0))
    os.killpg(job.status(run)["pid"], signal.SIGKILL)
    status = wait_for(lambda: (s := job.status(run))["state"] != "running" and s, what="failure detection")
    assert status["state"] == "failed" and "eval-log.txt" in status["error"] and "start it again" in status["error"]
    job.start(run, runs["data"], EvalSettings(limit=1, max_new_tokens=8, bootstrap=0))  # a failed one can restart
    # cancelled while the child is still starting (before it handles SIGTERM itself): cancelled, not failed
    assert job.cancel(run, wait_s=60)["state"] == "cancelled"
