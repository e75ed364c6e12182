"""Training jobs: each run trains in a child process (``python -m pipeline train ...``).

One job runs at a time per workspace; others wait as ``queued``. A job's command line is kept in
``runs/<name>/job.json``, its output in ``log.txt``, its progress in ``status.json`` and
``metrics.jsonl`` (the UI tails those). Everything lives on disk, so the list of runs and their
states survive an app restart; a ``running`` run whose process is gone (killed, machine restart)
is reported as ``failed`` with a hint to resume.

Cancel sends SIGTERM to the job's process group: the trainer saves a checkpoint at the end of the
current step and exits (state ``cancelled``). Resume queues the same command with ``--resume``,
which reloads the run's own config.json and continues from its last checkpoint.

The next queued job is started by whoever notices the workspace is idle: the finishing child
itself (``--then-dispatch``), or any call here (start, status, list). A file lock makes that safe.
A run with ``gpus`` > 1 (``--gpus N``) starts through ``accelerate launch`` (DDP, one process per GPU).
"""

from __future__ import annotations

import fcntl
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..errors import UserError
from ..fsio import atomic_write_json
from ..processes import alive, pipeline_command, spawn, stop_group
from ..workspace import Run, Workspace
from .flags import settings_argv
from .settings import CommonSettings, run_kind

ACTIVE = ("queued", "running")
"""The states of a job that has not ended (the UI keeps following a run in them)."""


def _workspace(workspace: Workspace | str | Path) -> Workspace:
    return workspace if isinstance(workspace, Workspace) else Workspace(workspace)


def job_command(run: Run, argv: list[str], gpus: int = 1) -> list[str]:
    """The child's command line: plain python, or ``accelerate launch`` with one process per GPU when
    the run asked for ``gpus`` > 1 (``--gpus N``; multi-GPU is opt-in)."""
    if gpus > 1:
        return [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", str(gpus),
                "--main_process_port", "0", "--module", "pipeline", *argv]  # port 0: accelerate picks a free one
    return pipeline_command(argv)


def _gpu_count() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:  # no torch CUDA at all
        return 0


def start_job(workspace: Workspace | str | Path, kind: str, settings: CommonSettings, data_dir: str | Path | None = None,
              name: str | None = None, parent: Run | str | Path | None = None) -> Run:
    """Queue a ``kind`` run (a ``settings.KINDS`` name) in ``workspace`` on top of run ``parent`` (for a
    kind that has one, e.g. DPO on an SFT run) and start it if nothing else is running.

    The child's ``python -m pipeline`` arguments (``run.job()["argv"]``) are built from the settings
    by :func:`~pipeline.train.flags.settings_argv`: the same flags a user would type."""
    ws = _workspace(workspace)
    row = run_kind(kind)
    settings.validate()
    from ..gpu import launch_processes

    launch_processes(settings.gpus, _gpu_count())  # more GPUs than visible: refused before queueing
    run = ws.run(name or ws.new_run_name(kind))
    if run.path.exists() and (run.config_path.exists() or run.status().get("state") in ACTIVE):
        raise UserError(f"run {run.name!r} already exists in {ws.runs_dir}; pick another name or resume it.")
    data_dir = Path(data_dir) if data_dir else ws.data_dir
    argv = ["train", kind, "--data", str(data_dir), "--out", str(run.path)]
    if row.parent and parent:
        argv += [row.parent_option, str(parent.path if isinstance(parent, Run) else Path(parent).resolve())]
    argv += settings_argv(kind, settings)
    _queue(ws, run, argv, gpus=settings.gpus)
    return run


def resume(run: Run) -> Run:
    """Queue ``run`` again with ``--resume`` (same config, from its last checkpoint)."""
    state = job_status(run)["state"]
    if state in ACTIVE:
        raise UserError(f"run {run.name!r} is {state}; cancel it first or wait for it.")
    if state == "done":
        raise UserError(f"run {run.name!r} is finished; start a new run to train more.")
    kind = run.kind
    if not kind:
        raise UserError(f"run {run.name!r} never started; start a new run instead.")
    argv = ["train", kind, "--out", str(run.path), "--resume"]
    gpus = run.settings.get("gpus") if run.config_path.exists() else None
    _queue(Workspace.of_run(run), run, argv, gpus=gpus or run.job().get("gpus", 1))
    return run


def cancel(run: Run, wait_s: float = 0.0) -> dict:
    """Cancel a queued run, or ask a running one to checkpoint and stop; returns its status."""
    status = job_status(run)
    if status["state"] == "queued":
        run.set_status("cancelled", pid=None, step=status.get("step", 0), max_steps=status.get("max_steps"), eta_s=None)
    elif status["state"] == "running":
        stop_group(run.job().get("pid"))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and job_status(run)["state"] == "running":
            time.sleep(0.5)
    return job_status(run)


def job_status(run: Run) -> dict:
    """``status.json`` with liveness checked: a running job whose process is gone is ``failed``;
    a queued job is started if its workspace has become idle (e.g. the previous job crashed)."""
    status = _checked_status(run)
    if status.get("state") == "queued":
        dispatch(Workspace.of_run(run))
        status = _checked_status(run)
    return status


def _checked_status(run: Run) -> dict:
    status = run.status()
    if status.get("state") == "running":
        pid = run.job().get("pid") or status.get("pid")
        if not alive(pid):
            time.sleep(0.2)  # the child may be writing its final status right now
            status = run.status()
            if status.get("state") == "running":
                status = {**status, "state": "failed", "pid": None,
                          "error": "the training process ended without finishing (killed or crashed); "
                                   "see log.txt, then Resume to continue from the last checkpoint."}
                run.set_status(**{k: v for k, v in status.items() if k != "updated"})
    return status


def list_runs(workspace: Workspace | str | Path) -> list[dict]:
    """Every run of ``workspace`` with its state (read from disk; starts a queued job if idle)."""
    ws = _workspace(workspace)
    dispatch(ws)
    rows = []
    for run in ws.runs():
        status = _checked_status(run)
        parent = run.parent_path
        rows.append({"name": run.name, "kind": run.kind, "state": status.get("state"),
                     "step": status.get("step"), "max_steps": status.get("max_steps"), "eta_s": status.get("eta_s"),
                     "error": status.get("error"), "parent": str(parent) if parent else None,
                     "adapter": run.has_adapter(), "path": str(run.path)})
    return rows


def dispatch(workspace: Workspace | str | Path) -> Run | None:
    """Start the oldest queued job if no job of the workspace is running; returns the started run."""
    ws = _workspace(workspace)
    with _lock(ws):
        runs = ws.runs()
        if any(_checked_status(r).get("state") == "running" for r in runs):
            return None
        queued = sorted((r for r in runs if r.status().get("state") == "queued"),
                        key=lambda r: r.status().get("queued_at", 0))
        if not queued:
            return None
        run = queued[0]
        job = run.job()
        command = job_command(run, [*job["argv"], "--then-dispatch", str(ws.root)], gpus=job.get("gpus", 1))
        pid = spawn(command, run.log_path)
        atomic_write_json(run.job_path, {**job, "pid": pid, "started_at": time.time()})
        previous = run.status()
        run.set_status("running", pid=pid, step=previous.get("step", 0), max_steps=previous.get("max_steps"),
                       eta_s=None)
        return run


def _queue(ws: Workspace, run: Run, argv: list[str], gpus: int = 1) -> None:
    run.path.mkdir(parents=True, exist_ok=True)
    atomic_write_json(run.job_path, {"kind": argv[1], "argv": argv, "gpus": gpus, "queued_at": time.time()})
    previous = run.status()
    run.set_status("queued", pid=None, step=previous.get("step", 0), max_steps=previous.get("max_steps"), eta_s=None,
                   queued_at=time.time())
    dispatch(ws)


@contextmanager
def _lock(ws: Workspace) -> Iterator[None]:
    ws.runs_dir.mkdir(parents=True, exist_ok=True)
    with open(ws.runs_dir / ".jobs.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
