"""GRPO: our trainer against TRL's GRPOTrainer with its defaults, and the quick preset's wall time.

On the sample corpus (``examples/posts.csv``, rule negatives), from the base policy, with one
reward fitted once (:func:`pipeline.train.grpo.fit_reward`: voice, fluency, adherence and form at
their default weights) and shared by both trainers, the same group size, briefs per step, answer
length cap and LoRA (the quick preset's):

* optimizer steps/s and completion (generated) tokens/s, ours / TRL ``GRPOTrainer`` with every other
  GRPOConfig default, timed one after the other in this process (TRL first);
* the quick preset's wall time, extrapolated from the parts measured here: the reward fit and our
  trainer's set-up (policy load) once, plus ``max_steps`` times our mean step.

``--quick``: a tiny random Llama (the default model's tokenizer), one step each, short answers and a
small voice fit: a crash check, not the goal (its extrapolation is reported without a goal).

Measured 2026-12-08 on a shared 2-core AMD EPYC (other engineers training; load average 8-10 during
TRL's turn, 2-6 during ours): 2.79x steps/s, 2.80x completion tokens/s (515 s against 1,438 s for 3
steps, 1,458 tokens each); quick preset 2,874 s extrapolated (reward fit 811 s + 12 x 172 s).
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.figures import Figure, emit, quick_flag
from bench.sample_data import sample_data_dir

GOAL_RATIO = 2.0
GOAL_QUICK_PRESET_S = 300.0
"""The quick preset on the default model: a few minutes on a 2-core CPU."""


def main() -> None:
    from bench.train_throughput import measure_grpo_throughput
    from pipeline.train.grpo import fit_reward
    from pipeline.train.settings import settings_for

    quick = quick_flag()
    data = sample_data_dir()
    quiet = lambda *a, **k: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        preset = settings_for("grpo", "quick")
        if quick:
            from pipeline.models import ensure_default_model

            sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the tests' tiny-model builder
            from support.tiny_models import build_tiny_model

            tiny = build_tiny_model(tmp / "tiny", ensure_default_model(log=quiet))
            settings, steps = replace(preset, model=str(tiny), max_completion_length=16,
                                      voice_texts=20, dtype="float32"), 1
        else:
            settings, steps = preset, 3
        start = time.perf_counter()
        reward = fit_reward(data, settings, None, quiet)
        reward_s = time.perf_counter() - start
        runs = {mode: measure_grpo_throughput(data, replace(settings), steps, tmp / f"grpo-{mode}", reward,
                                              trl_defaults=mode == "trl", log=quiet) for mode in ("trl", "ours")}
    ours, trl = runs["ours"], runs["trl"]
    preset_s = reward_s + ours["setup_s"] + preset.max_steps * ours["seconds"] / ours["steps"]
    model = "tiny random Llama" if quick else "default model"
    emit([
        Figure("GRPO: optimizer steps/s, ours / TRL defaults", ours["steps_per_s"] / trl["steps_per_s"], GOAL_RATIO,
               details={"ours": ours, "trl": trl, "group_size": settings.group_size,
                        "briefs_per_step": settings.briefs_per_step,
                        "max_completion_length": settings.max_completion_length, "reward": reward.weights}),
        Figure("GRPO: completion tokens/s, ours / TRL defaults",
               ours["completion_tokens_per_s"] / max(trl["completion_tokens_per_s"], 1e-9), GOAL_RATIO),
        Figure(f"GRPO: quick preset wall time ({preset.max_steps} steps, {model}, extrapolated)", preset_s,
               None if quick else GOAL_QUICK_PRESET_S, higher_is_better=False, unit="s",
               details={"reward_fit_s": round(reward_s, 1), "policy_setup_s": ours["setup_s"],
                        "first_steps": ours["steps"], "first_steps_s": ours["seconds"]}),
    ])


if __name__ == "__main__":
    main()
