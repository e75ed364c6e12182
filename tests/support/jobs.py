"""Helpers for the job-runner tests: small SFT job settings on the tiny model, and waiting on a job."""

from __future__ import annotations

import time


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
