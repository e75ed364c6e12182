"""Evaluation as a job: ``python -m pipeline eval --run RUN ...`` in a child process the page follows.

The child keeps ``runs/<name>/eval-status.json`` true (state, the step it is on, the fraction done,
an ETA) and writes its output to ``eval-log.txt``; :func:`start` returns as soon as it is launched.
Any ``eval --run`` does this, from the page or typed in a terminal, so the page follows both, and a
second evaluation of a run is refused while one runs.

Evaluations do not queue behind training, nor training behind them: they are separate processes
with separate state. Cancel sends SIGTERM to the child's process group; it stops where it is and
records ``cancelled``. eval.json is written in one atomic step at the end, so a cancelled or failed
evaluation leaves the previous one (if any) as it was. A ``running`` evaluation whose process is gone
is reported as ``failed`` with a hint.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import UserError
from ..fsio import atomic_write_json, read_json
from ..processes import alive, pipeline_command, spawn, stop_group
from ..workspace import Run
from .report import EvalSettings

ETA_AFTER = 0.05
"""The fraction done after which an ETA is shown (before it, model loading dominates the rate)."""


class Cancelled(BaseException):
    """SIGTERM arrived during an evaluation (a BaseException: no ``except Exception`` swallows it)."""


def eval_argv(run: Run, data_dir: str | Path, settings: EvalSettings) -> list[str]:
    """``python -m pipeline eval``'s arguments for ``run`` on ``data_dir`` with ``settings``."""
    from .cli import EVAL_FLAGS

    return ["eval", "--run", str(run.path), "--data", str(data_dir), *map(str, EVAL_FLAGS.argv(settings))]


def start(run: Run, data_dir: str | Path, settings: EvalSettings) -> list[str]:
    """Launch the evaluation of ``run`` on ``data_dir`` in a child process; returns its argv.

    Refused while an evaluation of ``run`` is running."""
    if not run.has_adapter():
        raise UserError(f"run {run.name!r} has no adapter yet; evaluate a finished run.")
    _refuse_if_running(run)
    argv = eval_argv(run, data_dir, settings)
    pid = spawn(pipeline_command(argv), run.eval_log_path)
    _write(run, "running", pid=pid, argv=argv, started=time.time(), message="starting", fraction=0.0, eta_s=None)
    return argv


def status(run: Run) -> dict:
    """``eval-status.json`` with liveness checked (``{"state": "none"}`` before any evaluation)."""
    current = _read(run)
    if current.get("state") == "running" and not alive(current.get("pid")):
        time.sleep(0.2)  # the child may be writing its final state right now
        current = _read(run)
        if current.get("state") == "running" and current.get("cancel_requested"):  # stopped before it could say so
            current = {**current, "state": "cancelled", "pid": None, "eta_s": None, "message": "cancelled"}
            _write(run, **{k: v for k, v in current.items() if k != "updated"})
        elif current.get("state") == "running":
            current = {**current, "state": "failed", "pid": None, "eta_s": None,
                       "error": f"the evaluation process ended without finishing (killed or crashed); see "
                                f"runs/{run.name}/{run.eval_log_path.name}, then start it again."}
            _write(run, **{k: v for k, v in current.items() if k != "updated"})
    return current


def cancel(run: Run, wait_s: float = 0.0) -> dict:
    """Stop a running evaluation (its eval.json stays as it was); returns its status."""
    current = status(run)
    if current.get("state") == "running":
        # Marked first: a child stopped before it set its SIGTERM handler writes nothing itself. One that
        # has set it overwrites the mark with its own state.
        _write(run, **{**{k: v for k, v in current.items() if k != "updated"}, "cancel_requested": True})
        stop_group(current.get("pid"))
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and status(run)["state"] == "running":
            time.sleep(0.2)
    return status(run)


@contextmanager
def recording(run_dir: str | Path | None) -> Iterator[Callable[[str, float], None]]:
    """Inside the eval command: yields a progress callback that keeps ``eval-status.json`` of
    ``run_dir`` true, turns SIGTERM into a ``cancelled`` state and records the end state (``done``,
    ``cancelled``, or ``failed`` with the error). Without a run folder (none given, or a path that is
    not one: loading it reports that) the callback does nothing."""
    if run_dir is None or not Path(run_dir).is_dir():
        yield lambda message, fraction: None
        return
    run = Run(Path(run_dir))
    _refuse_if_running(run, own_pid=os.getpid())
    fields = {"pid": os.getpid(), "argv": sys.argv[1:], "started": time.time()}
    clock = time.monotonic()

    def progress(message: str, fraction: float) -> None:
        elapsed = time.monotonic() - clock
        eta = elapsed * (1 - fraction) / fraction if ETA_AFTER <= fraction < 1 else None
        _write(run, "running", **fields, message=message, fraction=round(fraction, 4), eta_s=eta)

    def on_sigterm(signum, frame):
        raise Cancelled

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    progress("starting", 0.0)
    try:
        yield progress
    except Cancelled:
        _write(run, "cancelled", **{**fields, "pid": None}, message="cancelled", eta_s=None)
        raise UserError(f"evaluation of {run.name!r} cancelled; eval.json is as it was.") from None
    except UserError as e:
        _write(run, "failed", **{**fields, "pid": None}, error=str(e), eta_s=None)
        raise
    except BaseException as e:
        _write(run, "failed", **{**fields, "pid": None}, eta_s=None,
               error=f"{type(e).__name__}: {e} (see runs/{run.name}/{run.eval_log_path.name})")
        raise
    else:
        _write(run, "done", **{**fields, "pid": None}, message="done", fraction=1.0, eta_s=None,
               elapsed_s=round(time.time() - fields["started"], 1))
    finally:
        signal.signal(signal.SIGTERM, previous)


def _refuse_if_running(run: Run, own_pid: int | None = None) -> None:
    current = status(run)
    if current.get("state") == "running" and current.get("pid") != own_pid:
        raise UserError(f"an evaluation of {run.name!r} is already running (pid {current.get('pid')}); "
                        "wait for it or cancel it.")


def _read(run: Run) -> dict:
    path = run.eval_status_path
    return read_json(path, missing="the evaluation writes it.") if path.is_file() else {"state": "none"}


def _write(run: Run, state: str, **fields) -> None:
    atomic_write_json(run.eval_status_path, {"state": state, "updated": time.time(), **fields})
