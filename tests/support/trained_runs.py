"""Real SFT and DPO run folders for the Compare, Evaluate and Export tests, made by the project's own
trainers (``train_sft``, then ``train_dpo`` on top of it) on the Ada data: what Compare and Evaluate
read is exactly what training writes."""

from __future__ import annotations

from pathlib import Path

QUIET = dict(log=lambda *a, **k: None)
ONE_THREAD_ENV = {"OMP_NUM_THREADS": "1"}
"""The environment for CLI children on these runs: tiny-model work runs faster on one thread."""


def make_runs(root: Path, base_dir: Path, data_dir: Path, lr: float = 1e-2, steps: int = 12) -> dict:
    """``runs/sft-1`` and ``runs/dpo-1`` (parent sft-1), each ``steps`` steps of 2 examples on ``data_dir``
    (``lr``: 1e-2 moves a random tiny model in 12 steps, so that the held-out margins order base < SFT <
    DPO; a real model wants a real one, e.g. 1e-3)."""
    from pipeline.train.dpo import train_dpo
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import train_sft

    # one thread: tiny matmuls run faster on one, and much faster on a CPU other tests share
    common = dict(max_steps=steps, batch_size=2, learning_rate=lr, warmup_ratio=0.0, lora_r=8, dtype="float32",
                  save_steps=10**6, threads=1)  # no checkpoint: nothing resumes these runs
    runs = root / "runs"
    train_sft(data_dir, runs / "sft-1", settings_for("sft", "quick", model=str(base_dir), max_length=256, **common),
              **QUIET)
    train_dpo(data_dir, runs / "dpo-1", settings_for("dpo", "quick", **common), parent=runs / "sft-1", **QUIET)
    return {"sft": runs / "sft-1", "dpo": runs / "dpo-1", "data": data_dir, "root": root}
