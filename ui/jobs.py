"""Following a training run in the page: status, progress with ETA, live curves, log tail, cancel, resume.

Shared by the SFT, DPO and GRPO tabs. The run is a child process started by the training runner; the page
only reads the run folder (``status.json``, ``metrics.jsonl``, ``log.txt``) every two seconds, so a
reload, a second tab or an app restart all see the same run.
"""

from __future__ import annotations

import time
from dataclasses import replace

import gradio as gr
import pandas as pd

from pipeline.errors import UserError
from pipeline.train.rewards import COMPONENTS
from pipeline.train.runner import ACTIVE
from pipeline.train.settings import DRIFT_WARNING
from pipeline.workspace import Run

from .common import AppConfig, Studio, allowed_path, runs_of_kind, user_errors, workspace_of
from .knobs import settings_from_boxes

LOSS_SERIES = {"loss": "train loss", "eval_loss": "eval loss"}
MARGIN_SERIES = {"rewards/margins": "margin", "rewards/chosen": "chosen reward", "rewards/rejected": "rejected reward"}
DRIFT_SERIES = {"logratio_drift": "mean |log π/π_ref| per token"}
REWARD_SERIES = {"reward": "weighted reward", **{f"rewards/{name}/mean": name for name in COMPONENTS}}
SPREAD_SERIES = {"kl": "KL to the starting policy", "group_reward_spread": "reward spread within a group",
                 "reward_std": "reward spread in the batch"}
LENGTH_SERIES = {"completions/mean_length": "mean answer length (tokens)"}
PLOTS = {
    "dpo": (("Rewards and margin", MARGIN_SERIES),
            (f"Log-ratio drift from the SFT policy, per token (warn > {DRIFT_WARNING})", DRIFT_SERIES)),
    "grpo": (("Reward components (0-1) and the weighted reward", REWARD_SERIES),
             ("KL and reward spread", SPREAD_SERIES), ("Answer length", LENGTH_SERIES)),
}
"""The plots a kind's panel shows beside the loss: (label, {metrics.jsonl key: series name})."""
LOG_TAIL_LINES = 30
TRAINING_SLOT = dict(concurrency_id="training", concurrency_limit=1, show_progress="minimal")
"""Events that start a training job share one slot app-wide (see :func:`hold_gpu_slot`)."""


class RunPanel:
    """The components that show one run of a kind (``sft``, ``dpo`` or ``grpo``)."""

    def __init__(self, studio: Studio, kind: str):
        self.studio, self.kind = studio, kind
        with gr.Row(equal_height=True):
            self.run = gr.Dropdown(label=f"{kind.upper()} run to follow", choices=[], scale=3,
                                   elem_id=f"{kind}-follow")
            self.cancel = gr.Button("Cancel", variant="stop", scale=1, elem_id=f"{kind}-cancel")
            self.resume = gr.Button("Resume", scale=1, elem_id=f"{kind}-resume")
        self.status = gr.Markdown(elem_id=f"{kind}-status")
        self.progress = gr.HTML()
        self.series = [LOSS_SERIES, *(series for _, series in PLOTS.get(kind, ()))]
        with gr.Row():
            self.plots = [gr.LinePlot(x="step", y="value", color="series", label="Loss", height=240,
                                      elem_id=f"{kind}-loss-plot")]
            for number, (label, _) in enumerate(PLOTS.get(kind, ()), start=1):
                self.plots.append(gr.LinePlot(x="step", y="value", color="series", label=label, height=240,
                                              elem_id=f"{kind}-plot-{number}"))
        self.log = gr.Textbox(label="Log (last lines)", lines=6, max_lines=12, autoscroll=True, interactive=False)
        self.timer = gr.Timer(2.0, active=False)

    @property
    def view_outputs(self) -> list:
        return [self.status, self.progress, *self.plots, self.log, self.timer]

    def view(self, path: str | None, name: str | None) -> list:
        """Everything shown for run ``name`` (the timer keeps ticking only while it runs)."""
        if not path or not name:
            return ["No run yet.", "", *([None] * len(self.plots)), "", gr.Timer(active=False)]
        from pipeline.train import runner

        run = workspace_of(path).run(name)
        status = runner.job_status(run)
        metrics = run.metrics()
        frames = [_long_frame(metrics, series) for series in self.series]
        return [_status_text(run, status, metrics), _progress_bar(status), *frames, _log_tail(run),
                gr.Timer(active=status.get("state") in ACTIVE)]

    def choices(self, path: str | None, select: str | None = None):
        names = runs_of_kind(workspace_of(path), self.kind) if path else []
        return gr.update(choices=names, value=select if select in names else (names[0] if names else None))

    def wire(self) -> None:
        studio = self.studio
        view = user_errors(self.view)
        self.run.change(view, [studio.workspace, self.run], self.view_outputs, queue=False)
        self.timer.tick(view, [studio.workspace, self.run], self.view_outputs, queue=False, show_progress="hidden")
        self.cancel.click(user_errors(self.do_cancel), [studio.workspace, self.run], self.status).then(
            view, [studio.workspace, self.run], self.view_outputs)
        self.resume.click(user_errors(self.do_resume), [studio.workspace, self.run], self.status,
                          **TRAINING_SLOT)

    def do_cancel(self, path, name):
        from pipeline.train import runner

        if not name:
            raise UserError("no run selected to cancel.")
        runner.cancel(workspace_of(path).run(name))
        return f"Cancelling `{name}`… (the last checkpoint is kept; Resume continues from it)"

    def do_resume(self, path, name):
        from pipeline.train import runner

        if not name:
            raise UserError("no run selected to resume.")
        run = runner.resume(workspace_of(path).run(name))
        yield f"Resuming `{name}` from its last checkpoint…"
        yield self.view(path, name)[0]
        hold_gpu_slot(run)


def _long_frame(metrics: list[dict], series: dict[str, str]) -> pd.DataFrame:
    rows = [{"step": m["step"], "value": float(m[key]), "series": label}
            for m in metrics if "step" in m for key, label in series.items()
            if isinstance(m.get(key), (int, float))]
    # typed even when empty: the plot picks its axis types from the first frame it gets
    return pd.DataFrame(rows, columns=["step", "value", "series"]).astype({"step": "int64", "value": "float64",
                                                                           "series": "string"})


def _status_text(run: Run, status: dict, metrics: list[dict]) -> str:
    state = status.get("state", "none")
    parts = [f"**{run.name}**: {state}"]
    if status.get("step") is not None and status.get("max_steps"):
        parts.append(f"step {status['step']}/{status['max_steps']}")
    if state in ACTIVE and status.get("eta_s") is not None:
        parts.append(f"ETA {_duration(status['eta_s'])}")
    if status.get("position"):
        parts.append(f"queue position {status['position']}")
    last = metrics[-1] if metrics else {}
    if isinstance(last.get("loss"), (int, float)):
        parts.append(f"loss {last['loss']:.4f}")
    if isinstance(last.get("reward"), (int, float)):
        parts.append(f"reward {last['reward']:.3f}")
    if isinstance(last.get("rewards/margins"), (int, float)):
        parts.append(f"margin {last['rewards/margins']:.3f}")
    if isinstance(last.get("logratio_drift"), (int, float)):
        drift = last["logratio_drift"]
        parts.append(f"log-ratio drift {drift:.3f}" + (f" ⚠ above {DRIFT_WARNING}" if drift > DRIFT_WARNING else ""))
    text = " · ".join(parts)
    if status.get("error"):
        text += f"\n\n**Error:** {status['error']}"
    if state == "done" and run.has_adapter():
        text += f"\n\nAdapter saved in `runs/{run.name}/adapter/`."
    return text


def _progress_bar(status: dict) -> str:
    step, total = status.get("step") or 0, status.get("max_steps") or 0
    if not total:
        return ""
    pct = max(0.0, min(100.0, 100.0 * step / total))
    return (f'<div style="background:var(--block-border-color);border-radius:4px;height:10px">'
            f'<div style="width:{pct:.1f}%;background:var(--color-accent);height:10px;border-radius:4px"></div></div>')


def _log_tail(run: Run) -> str:
    if not run.log_path.is_file():
        return ""
    with run.log_path.open("rb") as f:
        f.seek(0, 2)
        f.seek(max(0, f.tell() - 8192))
        tail = f.read().decode("utf-8", errors="replace")
    return "\n".join(tail.splitlines()[-LOG_TAIL_LINES:])


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return time.strftime("%H:%M:%S" if seconds >= 3600 else "%M:%S", time.gmtime(seconds))


def start_training(workspace, kind: str, settings, parent_run: str | None = None) -> Run:
    """Queue a run (on top of run ``parent_run``) with the training runner (it starts a child process
    when the project is idle)."""
    from pipeline.train import runner

    return runner.start_job(workspace, kind, settings, data_dir=workspace.data_dir,
                            parent=workspace.run(parent_run) if parent_run else None)


def training_settings(config: AppConfig, kind: str, preset: str, values: dict, model: str | None, **fixed):
    """The settings a training tab runs: ``preset`` with the boxes' ``values`` and the page's base model on
    top, the steps capped in public mode (a run of epochs gets the cap as its step budget)."""
    from pipeline.train.flags import FLAGS

    settings = settings_from_boxes(FLAGS[kind], preset, values, model=allowed_path(config, model, "base model"),
                                   **fixed)
    if config.public:
        settings = replace(settings, max_steps=config.max_steps(settings.max_steps if settings.max_steps > 0 else None))
    settings.validate()
    return settings


def hold_gpu_slot(run: Run, poll_s: float = 2.0):
    """Block (in the "training" concurrency slot) until ``run`` is no longer queued or running.

    Start events hold one app-wide slot while their job lives, so two jobs never train at once on
    one GPU, across projects and visitors; later starts wait in Gradio's queue with their position.
    """
    from pipeline.train import runner

    while runner.job_status(run).get("state") in ACTIVE:
        time.sleep(poll_s)
