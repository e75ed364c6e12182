"""Beta sweep: the same DPO data and settings at several betas, tabulated (beta is the knob that most
decides how far DPO moves the policy, and its best value depends on the model and the data).

Low beta lets the policy move far from the SFT reference (big margins, big drift, risk of collapse);
high beta keeps it close. TRL's margins are ``beta x`` the log-ratio margin, so they grow with beta
by construction: the table compares them divided by beta (``margin_per_beta``, the policy's own
log-ratio margin in nats, comparable across betas) and, when a validation split exists, the
held-out margin and accuracy (also per beta), plus the final loss and the log-ratio drift.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Callable

from ..fsio import atomic_write_json
from ..workspace import Run
from .dpo import train_dpo
from .settings import DPOSettings

COLUMNS = ("beta", "final_loss", "margin_per_beta", "accuracy", "logratio_drift", "eval_margin_per_beta",
           "eval_accuracy")


def sweep_beta(data_dir: str | Path, out: Path, sft_run: str | Path | None, settings: DPOSettings,
               betas: list[float], log: Callable = print) -> dict:
    """Train one DPO run per beta under ``out/beta-<b>`` and write ``out/sweep.json``."""
    out = Path(out).resolve()
    rows = []
    for beta in betas:
        run_dir = out / f"beta-{beta:g}"
        log(f"--- beta {beta:g} -> {run_dir}")
        summary = train_dpo(data_dir, run_dir, replace(settings, beta=beta), parent=sft_run, log=log)
        evals = [r for r in Run(run_dir).metrics() if "eval_loss" in r]
        last_eval = evals[-1] if evals else {}
        margin, eval_margin = summary.get("final_margin"), last_eval.get("eval_rewards/margins")
        rows.append({"beta": beta, "final_loss": summary.get("final_loss"), "margin": margin,
                     "margin_per_beta": _per_beta(margin, beta), "accuracy": summary.get("final_accuracy"),
                     "logratio_drift": summary.get("final_logratio_drift"), "eval_margin": eval_margin,
                     "eval_margin_per_beta": _per_beta(eval_margin, beta),
                     "eval_accuracy": last_eval.get("eval_rewards/accuracies"), "run_dir": str(run_dir)})
    table = format_table(rows)
    atomic_write_json(out / "sweep.json", {"rows": rows, "settings": settings.as_dict()})
    return {"out": str(out), "rows": rows, "table": table}


def _per_beta(margin: float | None, beta: float) -> float | None:
    return round(margin / beta, 4) if margin is not None and beta > 0 else None


def format_table(rows: list[dict]) -> str:
    """A fixed-width text table of the sweep (what the CLI prints)."""
    def cell(value) -> str:
        return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)

    lines = ["  ".join(f"{c:>13}" for c in COLUMNS)]
    lines += ["  ".join(f"{cell(r.get(c)):>13}" for c in COLUMNS) for r in rows]
    return "\n".join(lines)
