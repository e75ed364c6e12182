"""Evaluate tab: reward margins, perplexity, style metrics and judge results for base | SFT | DPO.

One action, `python -m pipeline eval --run DPO_RUN --data DATA`; it writes the run's ``eval.json``,
which the tab shows as tables and a margin plot (and which the model card's model-index reads).
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pandas as pd

from pipeline.evaluate.cli import EVAL_FLAGS
from pipeline.evaluate.report import EvalSettings

from .common import POLICY_KINDS, Studio, cli_box, cli_command, needs, quiet, runs_of_kind, user_errors, workspace_of
from .knobs import Knobs, settings_from_boxes


def eval_settings(values: dict) -> EvalSettings:
    """The settings the Evaluate button runs: the boxes' ``values`` (by field name) over the defaults."""
    return settings_from_boxes(EVAL_FLAGS, None, values)


def command(run_dir: Path, data_dir: Path, settings: EvalSettings) -> list:
    """``python -m pipeline eval`` of ``run_dir`` on ``data_dir`` with ``settings``."""
    return ["eval", "--run", run_dir, "--data", data_dir, *EVAL_FLAGS.argv(settings)]


def build(studio: Studio) -> None:
    needs("a **DPO** run (it knows its SFT parent and base model) and the dataset's held-out split.")
    with gr.Row(equal_height=True):
        run = gr.Dropdown(label="DPO or GRPO run to evaluate", choices=[], elem_id="eval-run", scale=3)
        latest = gr.Button("Use the latest DPO run", scale=1)
    knobs = Knobs(EVAL_FLAGS)
    with gr.Row():
        knobs.add("split", gr.Radio, choices=["test", "validation"], label="Held-out split")
        knobs.add("judge", gr.Radio, choices=["rule", "none"], label="Judge",
                  info="rule = the rubric scorer (hook, formatting, no fluff); an LLM judge URL from the CLI")
        knobs.add("limit", gr.Number, minimum=1, label="Briefs to generate for style metrics", elem_id="eval-limit")
        knobs.add("precision", gr.Radio, choices=["auto", "float32"], label="Scoring precision",
                  info="auto = bf16 matmuls where the hardware has them (faster, margins within about a "
                       "nat); float32 = exact")
    start = gr.Button("Evaluate", variant="primary", elem_id="start-eval")
    cli = cli_box("evaluate-cli")
    summary = gr.Markdown(elem_id="eval-summary")
    with gr.Row():
        margins = gr.BarPlot(x="variant", y="margin", label="Reward margin on held-out pairs", height=240,
                             sort=["base", "sft", "dpo"],
                             elem_id="eval-margins")
        table = gr.Dataframe(label="Per variant", interactive=False, elem_id="eval-table")
    style = gr.Dataframe(label="Style metrics", interactive=False)
    download = gr.DownloadButton("Download eval.json", visible=False)

    def run_eval(path, name, progress=gr.Progress(), *values):
        from pipeline.evaluate.report import evaluate_run

        if not name:
            raise gr.Error("no DPO run selected: train one in the DPO tab, then press 'Use the latest DPO run'.")
        workspace = workspace_of(path)
        settings = eval_settings(knobs.named(values))
        evaluate_run(workspace.run(name).path, workspace.data_dir, settings,
                     progress=lambda message, fraction: progress(fraction, desc=message), log=quiet)
        return cli_command(*command(workspace.run(name).path, workspace.data_dir, settings))

    def show(path, name):
        if not path or not name:
            return "No evaluation yet.", None, None, None, gr.update(visible=False)
        eval_path = workspace_of(path).run(name).eval_path
        if not eval_path.is_file():
            return f"`{name}` has no evaluation yet: press Evaluate.", None, None, None, gr.update(visible=False)
        report = json.loads(eval_path.read_text(encoding="utf-8"))
        return (*_report_views(report), gr.update(visible=True, value=str(eval_path)))

    outputs = [summary, margins, table, style, download]
    # The evaluation writes eval.json; the views refresh after it succeeds (a failure is one message).
    start.click(user_errors(run_eval), [studio.workspace, run, *knobs.components], cli, show_progress_on=summary,
                concurrency_id="heavy", concurrency_limit=1).success(
        user_errors(show), [studio.workspace, run], outputs)
    run.change(user_errors(show), [studio.workspace, run], outputs)

    def latest_run(path):
        names = runs_of_kind(workspace_of(path), POLICY_KINDS, with_adapter=True)
        return gr.update(choices=names, value=names[0] if names else None)

    latest.click(user_errors(latest_run), studio.workspace, run)
    studio.on_workspace_change(latest_run, [run])


def _report_views(report: dict):
    margins = report.get("margins") or {}
    win = report.get("chosen_win_rate") or {}
    ppl = report.get("perplexity") or {}
    similarity = report.get("similarity") or {}
    see_more = (report.get("see_more") or {}).get("probability") or {}
    voice = report.get("voice_rate") or {}
    delta = (report.get("burrows_delta") or {}).get("delta") or {}
    detail = report.get("margins_detail") or {}
    other = report.get("margins_other_generator") or {}
    variants = [v for v in ("base", "sft", "dpo") if v in margins or v in ppl]
    margin_frame = pd.DataFrame({"variant": variants, "margin": [float(margins.get(v) or 0) for v in variants]})
    table = pd.DataFrame([{"variant": v, "voice rate [95% CI]": _interval(voice.get(v)), "Burrows' Delta": _fmt(delta.get(v)),
                           "reward margin": _fmt(margins.get(v)), "chosen wins": _fmt(win.get(v)),
                           "margin per token [95% CI]": _interval((detail.get(v) or {}).get("per_token")),
                           "margin vs other generator": _fmt((other.get(v) or {}).get("mean")),
                           "perplexity": _fmt(ppl.get(v)),
                           "similarity to gold": _fmt((similarity.get(v) or {}).get("gold_similarity")),
                           "diversity": _fmt((similarity.get(v) or {}).get("diversity")),
                           "See More p": _fmt(see_more.get(v))} for v in variants])
    style = report.get("style") or {}
    style_rows = [{"variant": v, **_scalars("", metrics)} for v, metrics in style.items() if isinstance(metrics, dict)]
    ordered = all(k in margins for k in ("base", "sft", "dpo")) and margins["base"] < margins["sft"] < margins["dpo"]
    text = "**Reward margins** " + " · ".join(f"{v} {_fmt(margins[v])}" for v in variants if v in margins)
    if margins:
        text += " ✓ ordered base < SFT < DPO" if ordered else " (not ordered base < SFT < DPO)"
    text += f"  \non {report.get('pairs', '?')} held-out pairs ({(report.get('split') or {}).get('name', '?')} split"
    text += f", {report['scoring_precision']} scoring)" if report.get("scoring_precision") else ")"
    generators = report.get("rejected_generators") or {}
    if generators:
        text += (f"  \nrejected answers: {generators.get('margins')} (as in training); 'vs other generator': "
                 f"{generators.get('margins_other_generator') or 'none available'}")
    authorship = report.get("authorship") or {}
    if "auc" in authorship:
        text += (f"  \n**Authorship test** (which one is real?): held-out AUC {_fmt(authorship['auc'])}; voice rate = share "
                 "of each variant's posts it calls the author's")
    elif authorship.get("skipped"):
        text += f"  \nauthorship test skipped: {authorship['skipped']}"
    picks = report.get("human_picks") or {}
    if picks.get("blind_picks"):
        shares = " · ".join(f"position {k} {_fmt(v)}" for k, v in (picks.get("position_share") or {}).items())
        text += f"  \nblind picks: {picks['blind_picks']} ({shares}; p = {_fmt(picks.get('position_p_value'))})"
    if picks.get("held_out_pairs_excluded"):
        text += f"  \n{picks['held_out_pairs_excluded']} picked pair(s) on validation/test briefs are kept out of DPO training"
    if (picks.get("judge_agreement") or {}).get("kappa") is not None:
        text += f"  \njudge vs human picks: Cohen's kappa {_fmt(picks['judge_agreement']['kappa'])}"
    judge = report.get("judge") or {}
    for matchup, result in judge.items():
        if isinstance(result, dict) and {"win", "tie", "loss"} <= set(result):
            text += f"  \njudge {matchup}: win {_fmt(result['win'])} · tie {_fmt(result['tie'])} · loss {_fmt(result['loss'])}"
    for notice in report.get("notices") or []:
        text += f"\n\nℹ {notice}"
    return text, margin_frame, table, pd.DataFrame(style_rows) if style_rows else None


def _interval(value) -> str:
    """``mean [low, high]`` of a bootstrap summary."""
    if not isinstance(value, dict) or value.get("mean") is None:
        return ""
    return f"{_fmt(value['mean'])} [{_fmt(value['low'])}, {_fmt(value['high'])}]"


def _scalars(prefix: str, values) -> dict:
    """The plain numbers of one level of a report dict, formatted, with ``prefix`` on their names."""
    if not isinstance(values, dict):
        return {}
    return {f"{prefix}{k}": _fmt(v) for k, v in values.items() if isinstance(v, (int, float, str)) or v is None}


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, (int, float)) and not isinstance(value, bool) else (
        "" if value is None else str(value))

