"""Following a training run in the page: status, progress with ETA, live curves, log tail, cancel, resume.

Shared by the SFT, DPO and GRPO tabs. The run is a child process started by the training runner; the page
only reads the run folder (``status.json``, ``metrics.jsonl``, ``log.txt``) every two seconds, so a
reload, a second tab or an app restart all see the same run.
"""

from __future__ import annotations

import math
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
MARGIN_SERIES = {"rewards/margins": "margin", "rewards/chosen": "chosen", "rewards/rejected": "rejected"}
DRIFT_SERIES = {"logratio_drift": "mean |log π/π_ref| per token"}
REWARD_SERIES = {"reward": "weighted reward", **{f"rewards/{name}/mean": name for name in COMPONENTS}}
SPREAD_SERIES = {"kl": "KL to the starting policy", "group_reward_spread": "reward spread within a group",
                 "reward_std": "reward spread in the batch"}
LENGTH_SERIES = {"completions/mean_length": "mean answer length (tokens)"}
PLOTS = {
    "dpo": (("margin", "Rewards", MARGIN_SERIES, "reward"), ("drift", None, DRIFT_SERIES, "per token")),
    "grpo": (("reward", "Rewards (0-1)", REWARD_SERIES, "reward"), ("kl", "KL and spread", SPREAD_SERIES, "value"),
             ("length", "Answer length", LENGTH_SERIES, "tokens")),
}
"""The plots a kind's panel shows beside the loss: (element id suffix, title, {metrics.jsonl key: series
name}, y axis title). The drift plot's title (None) names the run's reference: :func:`_drift_label`."""
HUES = {"blue": "#4c78a8", "orange": "#f58518", "green": "#54a24b", "red": "#e45756", "purple": "#b279a2",
        "brown": "#9d755d"}
COLOURS = {"train loss": "blue", "eval loss": "orange", "margin": "blue", "chosen": "green", "rejected": "red",
           DRIFT_SERIES["logratio_drift"]: "blue", "weighted reward": "blue",
           **dict(zip(COMPONENTS, ("orange", "green", "red", "purple", "brown"))),
           **dict(zip(SPREAD_SERIES.values(), ("blue", "orange", "green"))), **dict.fromkeys(LENGTH_SERIES.values(), "blue")}
"""Each series' colour, named in the plot's title: Gradio 6.31 cuts a legend below the plot off."""
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
        self.series = [LOSS_SERIES, *(series for _, _, series, _ in PLOTS.get(kind, ()))]
        with gr.Row():
            self.plots = [_plot("Loss", LOSS_SERIES, "loss", f"{kind}-loss-plot")]
            for suffix, title, series, y_title in PLOTS.get(kind, ()):
                self.plots.append(_plot(title or _drift_label("sft"), series, y_title, f"{kind}-{suffix}-plot"))
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
        if DRIFT_SERIES in self.series:  # its title names the run's reference (the SFT policy or the base model)
            reference = run.config().get("reference") if run.config_path.is_file() else None
            at = self.series.index(DRIFT_SERIES)
            frames[at] = gr.update(value=frames[at], label=_titled(_drift_label(reference), DRIFT_SERIES))
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
    """The ``series`` (metrics key -> legend label) of ``metrics`` as (step, value, series) rows, finite values only.

    Every label is in every frame: Gradio's plot fixes its colour scale from the first frame it draws
    and only swaps the data afterwards, so a series missing then (every series, in the empty frame a
    run starts with) would be drawn without a colour, i.e. not at all. A label without points gets
    one row with no value, which the plot leaves out."""
    rows = []
    for key, label in series.items():
        points = [{"step": m["step"], "value": float(m[key]), "series": label} for m in metrics
                  if "step" in m and isinstance(m.get(key), (int, float)) and math.isfinite(m[key])]
        rows += points or [{"step": 0, "value": math.nan, "series": label}]
    # typed: the plot picks its axis types from the first frame it gets
    return pd.DataFrame(rows, columns=["step", "value", "series"]).astype({"step": "int64", "value": "float64",
                                                                           "series": "string"})


def _plot(title: str, series: dict[str, str], y_title: str, elem_id: str) -> gr.LinePlot:
    """A curve per series, coloured as :data:`COLOURS` says and named in the title (no legend)."""
    colours = {label: HUES[COLOURS[label]] for label in series.values()}
    return gr.LinePlot(x="step", y="value", color="series", label=_titled(title, series), y_title=y_title,
                       height=240, color_map=colours, colors_in_legend=[], elem_id=elem_id)


def _titled(title: str, series: dict[str, str]) -> str:
    """``title`` with each series' colour: "Loss: train loss (blue), eval loss (orange)"."""
    if len(series) == 1:
        return title
    return f"{title}: " + ", ".join(f"{label} ({COLOURS[label]})" for label in series.values())


def _drift_label(reference: str | None) -> str:
    """The drift plot's title: drift from the run's reference (the SFT policy, or the base model)."""
    source = "the base model" if reference == "base" else "the SFT policy"
    return f"Log-ratio drift from {source}, per token (warn > {DRIFT_WARNING})"


def _status_text(run: Run, status: dict, metrics: list[dict]) -> str:
    state = status.get("state", "none")
    parts = [f"**{run.name}**: {state}"]
    if state == "running" and status.get("phase"):  # work before step 1 (e.g. the reference log-probs)
        parts.append(f"{status['phase']}: {status.get('done', 0)}/{status.get('total', '?')} {status.get('unit', '')}".strip())
    elif status.get("step") is not None and status.get("max_steps"):
        parts.append(f"step {status['step']}/{status['max_steps']}")
    if state in ACTIVE and status.get("eta_s") is not None:
        parts.append(f"ETA {duration(status['eta_s'])}")
    if status.get("position"):
        parts.append(f"queue position {status['position']}")
    last = next((m for m in reversed(metrics) if "loss" in m), {})  # the last training row, not an eval row
    if isinstance(last.get("loss"), (int, float)):
        parts.append(f"loss {last['loss']:.4f}")
    evals = [m["eval_loss"] for m in metrics if isinstance(m.get("eval_loss"), (int, float))]
    if evals:
        parts.append(f"eval loss {evals[-1]:.4f}")
    if isinstance(last.get("reward"), (int, float)):
        parts.append(f"reward {last['reward']:.3f}")
    if isinstance(last.get("rewards/margins"), (int, float)):
        parts.append(f"margin {last['rewards/margins']:.3f}")
    if isinstance(last.get("logratio_drift"), (int, float)):
        drift = last["logratio_drift"]
        parts.append(f"log-ratio drift {drift:.3f}" + (f" ⚠ above {DRIFT_WARNING}" if drift > DRIFT_WARNING else ""))
    text = " · ".join(parts)
    too_long = (run.config().get("too_long") or {}) if run.config_path.is_file() else {}
    if too_long.get("dropped"):
        text += (f"\n\n⚠ {too_long['dropped']} of {too_long['examples']} training examples were left out as longer than "
                 f"{too_long['max_length']} tokens; Max length {too_long['longest']} (`--max-length "
                 f"{too_long['longest']}`) keeps them all.")
    if status.get("error"):
        text += f"\n\n**Error:** {status['error']}"
    if state == "done" and run.has_adapter():
        text += f"\n\nAdapter saved in `runs/{run.name}/adapter/`."
    return text


def _progress_bar(status: dict) -> str:
    if status.get("phase"):
        step, total = status.get("done") or 0, status.get("total") or 0
    else:
        step, total = status.get("step") or 0, status.get("max_steps") or 0
    return progress_bar(step / total) if total else ""


def progress_bar(fraction: float) -> str:
    """A thin bar filled to ``fraction`` (0-1) in the theme's accent colour."""
    pct = max(0.0, min(100.0, 100.0 * fraction))
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


def duration(seconds: float) -> str:
    """``MM:SS``, or ``HH:MM:SS`` from an hour up."""
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
