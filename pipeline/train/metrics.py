"""Live training metrics: one ``metrics.jsonl`` row per logged step, plus ``status.json``.

Rows follow the run-folder contract: ``{"step", "epoch", "loss", "lr", "tokens_per_s", "elapsed",
"eval_loss"?}``; a kind of run adds what its :class:`RowSpec` names: DPO rows add ``rewards/chosen``,
``rewards/rejected``, ``rewards/margins``, ``rewards/accuracies``, ``logratio_drift`` when the loss has
a reference, and the loss's own values (ORPO's ``log_odds_ratio``, KTO's ``kl``: see losses.py).

``tokens_per_s`` counts real tokens only: :class:`TokenCounter` sees each batch the trainer trains
on (not the evaluation batches, not the loader's look-ahead) and adds its attention-mask sum (or
every token of a padding-free packed batch, which has no padding by construction). Counting pad ids would be wrong here: SmolLM2's pad token is also
``<|im_start|>``, which appears in every real conversation.

``logratio_drift`` says how far the policy has moved from the reference, per completion token,
on the batch: TRL logs ``rewards/chosen = beta * (logp_policy - logp_ref)`` summed over each chosen
completion (batch mean; likewise rejected), so
``logratio_drift = (|rewards/chosen| + |rewards/rejected|) / (2 * beta * mean completion tokens)``,
the mean absolute policy-minus-reference log-prob per token of the chosen and rejected completions.
It is not a KL divergence: a KL is an expectation over samples from the policy, and this is
measured on the dataset's completions (it was called ``kl`` before); the absolute values keep a
policy that pushes the rejected completions down (negative log-ratios) from reading as "no drift".
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable

from transformers import TrainerCallback

from ..fsio import append_jsonl
from ..workspace import Run
from .settings import DRIFT_WARNING


class TokenCounter:
    """Counts the real (non-pad) tokens of the batches a trainer trains on (fed by ``training_step``)."""

    def __init__(self):
        self.tokens = 0
        self.completion_tokens = 0
        self.sequences = 0

    def add(self, batch) -> None:
        if not hasattr(batch, "items"):  # GRPO trains on a list of briefs: its trainer counts what it generated
            return
        # CPO/ORPO/KTO collators name their tensors per part (chosen_attention_mask, ...).
        masks = [v for k, v in batch.items() if k.endswith("attention_mask") and hasattr(v, "sum")]
        if masks:
            self.tokens += sum(int(m.sum()) for m in masks)
        elif "input_ids" in batch:  # padding-free packed rows: every token is real
            self.tokens += int(batch["input_ids"].numel())
        completion = batch.get("completion_mask")
        if completion is not None:
            self.completion_tokens += int(completion.sum())
            self.sequences += int(completion.shape[0])
        elif hasattr(batch.get("labels"), "shape"):  # SFT's collator folds the mask into the labels
            self.completion_tokens += int((batch["labels"][:, 1:] != -100).sum())

    def totals(self) -> tuple[int, int, int]:
        """``(tokens, completion_tokens, sequences)`` summed over every process of a distributed run
        (a collective: every rank must call it at the same point)."""
        counts = (self.tokens, self.completion_tokens, self.sequences)
        import torch.distributed as dist

        if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
            return counts
        import torch

        device = "cuda" if dist.get_backend() == "nccl" else "cpu"
        summed = torch.tensor(counts, dtype=torch.long, device=device)
        dist.all_reduce(summed)
        return tuple(int(v) for v in summed.tolist())


@dataclass(frozen=True)
class RowSpec:
    """What a kind of run adds to each metrics row beyond the loss, learning rate and tokens/s."""

    logged: tuple[str, ...] = ()
    """TRL's logged values to keep (those it logs)."""
    drift_beta: float | None = None
    """The beta of TRL's rewards, to measure ``logratio_drift`` from them; None: the run has no reference."""
    drift_warning: float = DRIFT_WARNING
    """Warn once when ``logratio_drift`` passes this."""


class MetricsCallback(TrainerCallback):
    """Writes a contract row per log event and keeps ``status.json`` (step, max_steps, ETA) fresh."""

    def __init__(self, run: Run, counter: TokenCounter | None, spec: RowSpec = RowSpec(), log: Callable = print):
        self.run = run
        self.counter = counter
        self.spec = spec
        self.log = log
        self.drift_warned = False
        self.start = time.perf_counter()
        self.start_step = 0
        self.last_tokens = 0
        self.last_completion = (0, 0)
        self.last_time = self.start
        self.last_row: dict = {}

    def on_train_begin(self, args, state, control, **kwargs):
        self.start = self.last_time = time.perf_counter()
        self.start_step = state.global_step
        self._status(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        """Rank 0 writes the row (every rank gets this event; token counts are summed over ranks)."""
        logs = logs or {}
        if "train_runtime" in logs:  # the trainer's end-of-run summary, not a step
            return
        totals = self.counter.totals() if self.counter is not None and "loss" in logs else None
        if not state.is_world_process_zero:
            return
        now = time.perf_counter()
        row = {"step": state.global_step, "epoch": round(state.epoch or 0.0, 4),
               "elapsed": round(now - self.start, 3)}
        if "eval_loss" in logs:
            row["eval_loss"] = logs["eval_loss"]
            for key in ("eval_rewards/margins", "eval_rewards/accuracies"):
                if key in logs:
                    row[key] = logs[key]
            append_jsonl(self.run.metrics_path, row)
            return
        if "loss" not in logs:
            return
        row["loss"] = logs["loss"]
        row["lr"] = logs.get("learning_rate")
        if totals is not None:
            row["tokens_per_s"] = round((totals[0] - self.last_tokens) / max(now - self.last_time, 1e-9), 2)
            self.last_tokens = totals[0]
        self.last_time = now
        row.update({key: logs[key] for key in self.spec.logged if key in logs})
        if self.spec.drift_beta is not None:
            row["logratio_drift"] = drift = self._drift(row, totals)
            if drift is not None and drift > self.spec.drift_warning and not self.drift_warned:
                self.drift_warned = True
                row["warning"] = (f"log-ratio drift {drift:.3f} > {self.spec.drift_warning} per token: the policy "
                                  "is drifting from the SFT policy; raise beta or lower the learning rate.")
                self.log(f"warning: {row['warning']}")
        self.last_row = row
        append_jsonl(self.run.metrics_path, row)
        shown = " ".join(f"{k.split('/')[-1]}={v:.4g}" for k, v in row.items()
                         if k not in ("step", "epoch", "elapsed") and isinstance(v, (int, float)))
        self.log(f"step {state.global_step}/{state.max_steps} {shown}")
        self._status(state)

    def _drift(self, row: dict, totals: tuple[int, int, int] | None) -> float | None:
        if totals is None:
            return None
        _, completion, sequences = totals
        d_tokens = completion - self.last_completion[0]
        d_sequences = sequences - self.last_completion[1]
        self.last_completion = (completion, sequences)
        one_sided = "rewards/chosen" not in row or "rewards/rejected" not in row  # a KTO batch of one label
        if one_sided or d_tokens <= 0 or d_sequences <= 0:
            return None
        mean_tokens = d_tokens / d_sequences
        value = (abs(row["rewards/chosen"]) + abs(row["rewards/rejected"])) / (2 * self.spec.drift_beta * mean_tokens)
        return round(value, 5) if math.isfinite(value) else None

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step % 5 == 0:
            self._status(state)

    def _status(self, state) -> None:
        if not state.is_world_process_zero:
            return
        done = state.global_step - self.start_step
        elapsed = time.perf_counter() - self.start
        remaining = max(state.max_steps - state.global_step, 0)
        eta = round(elapsed / done * remaining, 1) if done > 0 else None
        self.run.set_status("running", pid=_pid(), step=state.global_step, max_steps=state.max_steps, eta_s=eta)


class PhaseProgress:
    """``status.json`` during work before step 1 that takes minutes (e.g. DPO's reference log-probs):
    the phase, how far it is (``done``/``total`` ``unit``) and an ETA, so a run does not sit at "step 0"
    with no word why."""

    def __init__(self, run: Run, phase: str, total: int, unit: str, max_steps: int | None = None):
        self.run, self.phase, self.total, self.unit, self.max_steps = run, phase, total, unit, max_steps
        self.start = time.perf_counter()

    def __call__(self, done: int) -> None:
        elapsed = time.perf_counter() - self.start
        eta = round(elapsed / done * (self.total - done), 1) if done > 0 else None
        self.run.set_status("running", pid=_pid(), step=0, max_steps=self.max_steps, eta_s=eta, phase=self.phase,
                            done=done, total=self.total, unit=self.unit)


class StopOnSignal(TrainerCallback):
    """Turns a cancel request (SIGTERM/SIGINT from the runner) into 'save a checkpoint now, then stop'."""

    def __init__(self):
        self.requested = False

    def request(self, *_):
        self.requested = True

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
        return control


def _pid() -> int:
    import os

    return os.getpid()
