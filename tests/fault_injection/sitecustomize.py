"""Fault injection for child processes started by tests/test_faults.py (put this folder on PYTHONPATH).

Python imports ``sitecustomize`` at start-up, so a training child started with this folder on its
PYTHONPATH gets a wrapped ``torch.save`` before any of our code runs. Nothing here changes the
project's code; it changes what the disk (or the clock) does while a checkpoint is being written:

- ``VOICETUNE_FAULT_HANG_AT=checkpoint-N``: after writing checkpoint N's optimizer state, write the
  path to ``VOICETUNE_FAULT_MARKER`` and hang, so the test can kill -9 the process mid-save.
- ``VOICETUNE_FAULT_FULL_AT=checkpoint-N``: just before checkpoint N's optimizer state is written,
  fill the disk: write ``VOICETUNE_FAULT_FILLER`` until the file system refuses (a real ENOSPC from
  a small tmpfs), or, without that variable, raise ENOSPC as a full disk would.
"""

import os

_HANG, _FULL = os.environ.get("VOICETUNE_FAULT_HANG_AT"), os.environ.get("VOICETUNE_FAULT_FULL_AT")

if _HANG or _FULL:
    import errno
    import time
    from pathlib import Path

    import torch

    _real_save = torch.save

    def _fill_disk(path: str) -> None:
        chunk = b"\0" * (1 << 16)
        with open(path, "wb") as filler:
            try:
                while True:
                    filler.write(chunk)
                    filler.flush()
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise

    def _faulty_save(obj, f, *args, **kwargs):
        target = str(f)
        if target.endswith("optimizer.pt"):
            if _FULL and _FULL in target:
                filler = os.environ.get("VOICETUNE_FAULT_FILLER")
                if not filler:
                    raise OSError(errno.ENOSPC, "No space left on device", target)
                _fill_disk(filler)
            if _HANG and _HANG in target:
                _real_save(obj, f, *args, **kwargs)
                Path(os.environ["VOICETUNE_FAULT_MARKER"]).write_text(target)
                time.sleep(600)
        return _real_save(obj, f, *args, **kwargs)

    torch.save = _faulty_save
