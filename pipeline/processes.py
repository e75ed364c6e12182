"""Child processes for long jobs (training, evaluation): started in a session of their own with their
output appended to a log file, checked for life by pid, stopped by signalling their whole group.

A job's pid is kept on disk by its runner, so a later process (the app after a restart, the CLI)
can still tell whether the job lives and cancel it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_children: dict[int, subprocess.Popen] = {}  # reaped here so a finished child is not left a zombie


def pipeline_command(argv: list[str]) -> list[str]:
    """``python -m pipeline ARGV`` with this interpreter."""
    return [sys.executable, "-m", "pipeline", *argv]


def spawn(command: list[str], log_path: Path) -> int:
    """Start ``command`` in a new session (its pid is its process group), its output appended to
    ``log_path`` after a ``$ command`` line; returns the pid."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 cwd=str(REPO), env=env, start_new_session=True)
    _children[child.pid] = child
    return child.pid


def alive(pid) -> bool:
    """Whether process ``pid`` runs (an exited child not yet reaped, a zombie, does not)."""
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def stop_group(pid, sig: int = signal.SIGTERM) -> None:
    """Send ``sig`` to the process group ``pid`` leads (a job and any helpers it started); gone is fine."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError, TypeError):
        pass
