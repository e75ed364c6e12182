"""Evaluate tab: does it sound like you? The voice scorecard's verdict first, then every other figure.

One action, `python -m pipeline eval --run DPO_RUN --data DATA`, run as a job (:mod:`pipeline.evaluate.job`):
Evaluate starts the child process and returns; a timer follows its status (progress, ETA, Cancel), and
picks it up again after a reload when the run is selected. It writes the run's ``eval.json``, which the
tab shows when it is done: the verdict in plain words, a bar per column (base, few-shot base, SFT, DPO)
with the floor and ceiling marked, the voice profile, and the other figures with which way is
better, contradictions flagged. A second box scores any texts against the voice (`voice score`).
"""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
import pandas as pd

from pipeline.evaluate import job
from pipeline.evaluate.cli import EVAL_FLAGS
from pipeline.evaluate.report import EvalSettings
from pipeline.voice.flags import score_argv
from pipeline.voice.score import VoiceScoreSettings

from .common import POLICY_KINDS, Studio, cli_box, cli_command, needs, quiet, runs_of_kind, user_errors, workspace_of
from .jobs import duration, progress_bar
from .knobs import Knobs, settings_from_boxes


def eval_settings(values: dict) -> EvalSettings:
    """The settings the Evaluate button runs: the boxes' ``values`` (by field name) over the defaults."""
    return settings_from_boxes(EVAL_FLAGS, None, values)


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
        knobs.add("limit", gr.Number, minimum=1, label="Held-out briefs each column writes for", elem_id="eval-limit",
                  info="a seeded sample; more narrows the intervals and takes longer")
        knobs.add("few_shot", gr.Number, minimum=0, label="Your posts shown to the few-shot column")
        knobs.add("precision", gr.Radio, choices=["auto", "float32"], label="Scoring precision",
                  info="auto = bf16 matmuls where the hardware has them (faster, margins within about a "
                       "nat); float32 = exact")
    with gr.Row(equal_height=True):
        start = gr.Button("Evaluate", variant="primary", elem_id="start-eval", scale=3)
        cancel = gr.Button("Cancel", variant="stop", elem_id="eval-cancel", scale=1)
    cli = cli_box("evaluate-cli")
    status = gr.Markdown(elem_id="eval-status")
    progress_bar = gr.HTML()
    timer = gr.Timer(2.0, active=False)
    summary = gr.Markdown(elem_id="eval-summary")
    with gr.Row():
        bars = gr.Plot(label="Detector AUC per column, floor and ceiling marked", elem_id="eval-scorecard-plot")
        profile_plot = gr.Plot(label="Your conventions, kept?", elem_id="eval-profile-plot")
    scorecard = gr.Dataframe(label="Voice scorecard", interactive=False, wrap=True, elem_id="eval-scorecard")
    figures = gr.Dataframe(label="Other figures (which way is better in 'better')", interactive=False, wrap=True,
                           elem_id="eval-table")
    style = gr.Dataframe(label="Style metrics", interactive=False, wrap=True)
    download = gr.DownloadButton("Download eval.json", visible=False)
    _score_box(studio)
    report_outputs = [summary, bars, scorecard, profile_plot, figures, style, download]

    def start_eval(path, name, *values):
        if not name:
            raise gr.Error("no DPO run selected: train one in the DPO tab, then press 'Use the latest DPO run'.")
        workspace = workspace_of(path)
        job.start(workspace.run(name), workspace.data_dir, eval_settings(knobs.named(values)))
        return follow(path, name)

    def follow(path, name):
        """The job's command, status line, progress bar and timer, then the report (the run's eval.json)."""
        if not path or not name:
            return (gr.skip(), "", "", gr.Timer(active=False), *show(path, name))
        current = job.status(workspace_of(path).run(name))
        running = current["state"] == "running"
        views = ((f"Evaluating `{name}`… the report appears here when it is done.",) + (None,) * 5
                 + (gr.update(visible=False),)) if running else show(path, name)
        command = cli_command(*current["argv"]) if current.get("argv") else gr.skip()  # also after a reload
        return (command, status_line(name, current), progress_bar_of(current), gr.Timer(active=running), *views)

    def show(path, name):
        empty = (None,) * 5 + (gr.update(visible=False),)
        if not path or not name:
            return ("No evaluation yet.", *empty)
        eval_path = workspace_of(path).run(name).eval_path
        if not eval_path.is_file():
            return (f"`{name}` has no evaluation yet: press Evaluate.", *empty)
        report = json.loads(eval_path.read_text(encoding="utf-8"))
        return (*report_views(report), gr.update(visible=True, value=str(eval_path)))

    def do_cancel(path, name):
        if not name:
            raise gr.Error("no run selected.")
        job.cancel(workspace_of(path).run(name))
        return f"Cancelling the evaluation of `{name}`… (eval.json stays as it was)"

    followed = [cli, status, progress_bar, timer, *report_outputs]
    # Start returns once the child is launched: the timer follows it, so no queue slot is held meanwhile.
    start.click(user_errors(start_eval), [studio.workspace, run, *knobs.components], followed)
    timer.tick(user_errors(follow), [studio.workspace, run], followed, queue=False, show_progress="hidden")
    run.change(user_errors(follow), [studio.workspace, run], followed, queue=False)
    cancel.click(user_errors(do_cancel), [studio.workspace, run], status).then(
        user_errors(follow), [studio.workspace, run], followed)

    def latest_run(path):
        names = runs_of_kind(workspace_of(path), POLICY_KINDS, with_adapter=True)
        return gr.update(choices=names, value=names[0] if names else None)

    latest.click(user_errors(latest_run), studio.workspace, run)
    studio.on_workspace_change(latest_run, [run])


def status_line(name: str, status: dict) -> str:
    """The evaluation job's state in a line: what it is doing, how far, the ETA; or how it ended."""
    state = status.get("state", "none")
    if state == "none":
        return ""
    parts = [f"**{name}** evaluation: {state}"]
    if state == "running":
        parts.append(status.get("message") or "")
        parts.append(f"{100 * (status.get('fraction') or 0):.0f}%")
        if status.get("eta_s") is not None:
            parts.append(f"ETA {duration(status['eta_s'])}")
    elif state == "done" and status.get("elapsed_s") is not None:
        parts.append(f"took {duration(status['elapsed_s'])}")
    elif state == "cancelled":
        parts.append("eval.json is as it was")
    text = " · ".join(p for p in parts if p)
    return text + (f"\n\n**Error:** {status['error']}" if status.get("error") else "")


def progress_bar_of(status: dict) -> str:
    return progress_bar(status.get("fraction") or 0.0) if status.get("state") == "running" else ""


def _score_box(studio: Studio) -> None:
    """"Score any texts against your voice": pasted texts (one per blank-line-separated block) or a file."""
    with gr.Accordion("Score any texts against your voice (a ghostwriter's drafts, a competitor's posts)", open=False):
        pasted = gr.Textbox(label="Texts, separated by a blank line", lines=6, elem_id="voice-score-texts")
        upload = gr.File(label="...or a file the dataset builder reads (CSV, JSONL, an export)", type="filepath")
        go = gr.Button("Score against my voice", elem_id="voice-score-start")
        score_cli = cli_box("voice-score-cli")
        verdict = gr.Markdown(elem_id="voice-score-verdict")
        per_text = gr.Dataframe(label="Per text", interactive=False, wrap=True)

    def score(path, text, file):
        from pipeline.voice.score import score_texts

        workspace = workspace_of(path)
        source = Path(file) if file else write_pasted(workspace.root / "voice-score-texts.jsonl", text)
        settings = VoiceScoreSettings()
        result = score_texts(workspace.data_dir, texts_of(source), source.name, settings, log=quiet)
        column = next(iter(result.scorecard.columns.values()))
        low, high = column.detection.low, column.detection.high
        text = (f"### {column.verdict}\n\ndetector AUC {column.detection.auc:.2f} [{low:.2f}, {high:.2f}] "
                f"(your own posts {result.scorecard.ceiling.auc:.2f}, other people {result.scorecard.floor_auc:.2f})")
        rows = pd.DataFrame([{"P(yours)": r["p_author"], "fluency": r["fluency_ratio"],
                              "garbled": "yes" if r["garbled"] else "", "text": r["text"][:200]} for r in result.texts])
        return cli_command(*score_argv(workspace.data_dir, source, settings)), text, rows

    go.click(user_errors(score), [studio.workspace, pasted, upload], [score_cli, verdict, per_text],
             concurrency_id="heavy", concurrency_limit=1)


def write_pasted(path: Path, text: str | None) -> Path:
    """The pasted texts (blank-line-separated) as a JSONL file ``voice score`` reads."""
    from pipeline.errors import UserError
    from pipeline.fsio import atomic_write_jsonl

    texts = [block.strip() for block in (text or "").split("\n\n") if block.strip()]
    if not texts:
        raise UserError("nothing to score: paste texts (a blank line between them) or upload a file.")
    atomic_write_jsonl(path, [{"text": t} for t in texts])
    return path


def texts_of(path: Path) -> list[str]:
    """The posts of any file the dataset builder reads."""
    from pipeline.data.ingest import ingest

    return [post.text for post in ingest(path).posts]


BETTER = {
    "reward margin": "higher = prefers your posts",
    "chosen wins": "higher",
    "margin per token [95% CI]": "higher",
    "margin vs other generator": "higher",
    "perplexity": "lower = your posts less surprising",
    "Burrows' Delta": "lower = closer word use",
    "similarity to gold": "higher",
    "diversity": "higher = less repetitive",
    "See More p": "higher",
}
"""Each other figure of the report and which direction is better (the tab says it beside the number)."""


def report_views(report: dict):
    """The tab's views of one eval.json: the verdict (markdown), the scorecard bar figure, the scorecard
    table, the voice profile figure, the other figures (one row each, with the better direction)
    and the style table. None for what the report lacks."""
    from pipeline.evaluate.voice_report import figure_profiles, scorecard_figure

    voice = report.get("voice") or {}
    text = _verdict_text(voice, (report.get("settings") or {}).get("few_shot")) + "\n\n" + _details_text(report)
    scored = "columns" in voice
    style = report.get("style") or {}
    style_rows = [{"column": v, **_scalars("", metrics)} for v, metrics in style.items() if isinstance(metrics, dict)]
    return (text, scorecard_figure(voice) if scored else None, _scorecard_table(voice),
            figure_profiles(voice) if scored else None, _figures_table(report),
            pd.DataFrame(style_rows) if style_rows else None)


def _verdict_text(voice: dict, shots: int | None) -> str:
    """The headline and what backs it: floor, ceiling, few-shot, contradictions."""
    if not voice:
        return "**This eval.json predates the voice scorecard: press Evaluate again.**"
    text = f"### {voice.get('verdict', '')}"
    if "columns" not in voice:
        return text
    text += (f"\n\nA detector is trained to tell each column's posts from your held-out posts (AUC: 0.5 = it can't, "
             f"1.0 = every time). Your own posts score **{_fmt(voice['ceiling']['auc'])}** (the ceiling); other "
             f"people's **{_fmt(voice['floor_auc'])}** (the floor). The voice score places each column between them "
             "(0 = floor, 1 = ceiling).")
    versus = voice.get("few_shot") or {}
    if versus:
        text += f"  \nAgainst few-shot prompting (the base model shown {shots} of your posts): " + " · ".join(
            f"{c.upper()} {v} it" for c, v in versus.items())
    needed = voice.get("briefs_to_separate_base_dpo")
    if needed:
        text += f"  \nAbout {needed} held-out briefs would separate base from DPO's intervals (`--limit`)."
    for contradiction in voice.get("contradictions") or []:
        text += f"\n\n⚠ Figures disagree: {contradiction}"
    return text


SCORECARD_HEADERS = ["column", "detector AUC [95% CI] (lower = more like you)", "voice score (0 floor, 1 ceiling)",
                     "fluency (1 = yours; over 1.5 garbled)", "conventions kept (1 = all)", "vs few-shot"]


def _scorecard_table(voice: dict) -> pd.DataFrame:
    """A row per column; no rows (but the headers: an empty table would show Gradio's 1 2 3) when the
    scorecard was skipped."""
    rows = []
    for name, column in (voice.get("columns") or {}).items():
        low, high = column["auc_interval"]
        rows.append([name, f"{_fmt(column['auc'])} [{_fmt(low)}, {_fmt(high)}]",
                     "n/a" if column["score"] is None else _fmt(column["score"]),
                     f"{_fmt(column['fluency_ratio'])}{' garbled' if column['garbled'] else ''}",
                     _fmt(column["profile_match"]["overall"]), (voice.get("few_shot") or {}).get(name, "")])
    return pd.DataFrame(rows, columns=SCORECARD_HEADERS)


def _figures_table(report: dict):
    """The other figures, one row each, one column per served column, and which way is better."""
    margins = report.get("margins") or {}
    detail = report.get("margins_detail") or {}
    other = report.get("margins_other_generator") or {}
    similarity = report.get("similarity") or {}
    see_more = (report.get("see_more") or {}).get("probability") or {}
    delta = (report.get("burrows_delta") or {}).get("delta") or {}
    columns = list(dict.fromkeys([*((report.get("voice") or {}).get("columns") or {}), *margins, *delta, *similarity]))
    values = {
        "reward margin": margins, "chosen wins": report.get("chosen_win_rate") or {},
        "margin per token [95% CI]": {c: _interval((detail.get(c) or {}).get("per_token")) for c in detail},
        "margin vs other generator": {c: (other.get(c) or {}).get("mean") for c in other},
        "perplexity": report.get("perplexity") or {}, "Burrows' Delta": delta,
        "similarity to gold": {c: (s or {}).get("gold_similarity") for c, s in similarity.items()},
        "diversity": {c: (s or {}).get("diversity") for c, s in similarity.items()},
        "See More p": see_more,
    }
    rows = [{"figure": name, "better": BETTER[name], **{c: _fmt(by.get(c)) for c in columns}}
            for name, by in values.items() if by]
    return pd.DataFrame(rows) if rows else None


def _details_text(report: dict) -> str:
    """Margins, pairs, picks and the judge, in lines (no number is shown without its value)."""
    margins = report.get("margins") or {}
    text = f"**Reward margins** (higher = prefers your posts) on {report.get('pairs', '?')} held-out pairs " \
           f"({(report.get('split') or {}).get('name', '?')} split)"
    order = [c for c in ("base", "sft", "dpo") if margins.get(c) is not None]
    if len(order) == 3:
        ordered = margins["base"] < margins["sft"] < margins["dpo"]
        text += ": ordered base < SFT < DPO ✓" if ordered else ": not ordered base < SFT < DPO"
    generators = report.get("rejected_generators") or {}
    if generators:
        text += (f"  \nrejected answers: {generators.get('margins')} (as in training); 'vs other generator': "
                 f"{generators.get('margins_other_generator') or 'none available'}")
    picks = report.get("human_picks") or {}
    if picks.get("blind_picks"):
        shares = " · ".join(f"position {k} {_fmt(v)}" for k, v in (picks.get("position_share") or {}).items())
        p = picks.get("position_p_value")
        text += f"  \nblind picks: {picks['blind_picks']} ({shares}" + (f"; p = {_fmt(p)})" if p is not None else ")")
    if picks.get("held_out_pairs_excluded"):
        text += f"  \n{picks['held_out_pairs_excluded']} picked pair(s) on validation/test briefs are kept out of DPO training"
    if (picks.get("judge_agreement") or {}).get("kappa") is not None:
        text += f"  \njudge vs human picks: Cohen's kappa {_fmt(picks['judge_agreement']['kappa'])}"
    for matchup, result in (report.get("judge") or {}).items():
        if isinstance(result, dict) and {"win", "tie", "loss"} <= set(result) and result["win"] is not None:
            text += f"  \njudge {matchup}: win {_fmt(result['win'])} · tie {_fmt(result['tie'])} · loss {_fmt(result['loss'])}"
    for notice in report.get("notices") or []:
        text += f"\n\nℹ {notice}"
    return text


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

