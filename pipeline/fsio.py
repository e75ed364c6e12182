"""Atomic file writes and line-numbered JSONL reading.

Nothing we write is ever half-written: every file goes to a temporary sibling first and is then
renamed over the target (rename is atomic on POSIX), and folders are built beside their final
place and renamed in one step. Readers report bad input by file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import UserError


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temp file + fsync + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n")


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    return atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def append_jsonl(path: str | os.PathLike, row: dict) -> None:
    """Append one JSON line and flush it to disk (a crash loses at most this line, never earlier ones)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_json(path: str | os.PathLike, *, missing: str) -> Any:
    """Read a JSON file; a missing file or bad JSON raises UserError naming it (``missing``: the fix)."""
    path = Path(path)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{path}: not found; {missing}") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: bad JSON at line {e.lineno} ({e.msg}).") from None


def read_jsonl(path: str | os.PathLike, *, skip_torn_tail: bool = False) -> list[dict]:
    """Read a JSONL file; a bad line raises UserError naming the file and line.

    ``skip_torn_tail`` ignores an unparsable *last* line, which is what a process killed while
    appending leaves behind (used for metrics logs, never for user data).
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found; check the path.")
    rows: list[dict] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            if skip_torn_tail and number == len(lines):
                break
            raise UserError(f"{path}:{number}: bad JSON ({e.msg}); fix or remove that line.") from None
        if not isinstance(row, dict):
            raise UserError(f"{path}:{number}: expected a JSON object per line, got {type(row).__name__}.")
        rows.append(row)
    return rows


@contextmanager
def atomic_dir(final: str | os.PathLike) -> Iterator[Path]:
    """Build a folder in a temp sibling and move it to ``final`` only if the block succeeds.

    An existing ``final`` is replaced as a whole; on error the temp folder is removed and
    ``final`` is untouched.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".tmp", dir=final.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the finished folder should read like any other
    try:
        yield tmp
        if final.exists():
            old = final.with_name(f".{final.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file, read in blocks (model weights can be GBs)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
