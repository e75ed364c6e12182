"""Dataset tab: posts in (upload), SFT examples and preference pairs out, with the quality report.

One action, `python -m pipeline data build`; the tab then shows the report as tables, the
engagement of every post as a plot, a few examples rendered with the model's chat template, and
offers the data folder as a zip download.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from pipeline.data.folder import DataFolder
from pipeline.workspace import validate_name

from .common import (POST_FILE_TYPES, Studio, allowed_path, cli_box, cli_command, has_dataset, needs, save_uploads, uploads,
                     user_errors, workspace_of)

TEACHERS = ["none", "local", "url"]
NEGATIVES = ["rule", "teacher", "base"]


def build(studio: Studio) -> None:
    config = studio.config
    needs("posts. Upload CSV / JSONL with a `text` column (engagement columns optional), an X archive "
          "`tweets.js` or a LinkedIn `Shares.csv`. The sample project already holds `posts.csv`.")
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label=f"Upload posts (≤ {config.upload_limit_mb} MB each)", file_count="multiple",
                             file_types=list(POST_FILE_TYPES), elem_id="posts-upload", height=120)
            inputs = gr.CheckboxGroup(label="Posts files in this project", choices=[], elem_id="posts-files")
        with gr.Column(scale=1):
            with gr.Row():
                # public mode: no URL teacher (the server would call any address a visitor types)
                teacher = gr.Radio(TEACHERS[:2] if config.public else TEACHERS, value="none", label="Teacher for reverse instructions",
                                   info="none = template from the post's topic; local = the base model; "
                                        "url = an OpenAI-compatible endpoint")
                negatives = gr.Radio(NEGATIVES, value="rule", label="Rejected answers (negatives)",
                                     info="rule = corporate rewrite; teacher = teacher rewrite; base = base model's answer")
            with gr.Row(visible=False) as teacher_row:
                teacher_url = gr.Textbox(label="Teacher URL", placeholder="http://127.0.0.1:8000/v1")
                teacher_model = gr.Textbox(label="Teacher model name")
            with gr.Row():
                top_frac = gr.Slider(0.05, 1.0, value=0.5, step=0.05, label="Gold set: top fraction by engagement",
                                     elem_id="top-frac")
                seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
            with gr.Row():
                min_chars = gr.Number(value=30, precision=0, label="Min characters", minimum=0)
                max_chars = gr.Number(value=3000, precision=0, label="Max characters", minimum=1)
    with gr.Row():
        build_button = gr.Button("Build the dataset", variant="primary", elem_id="build-dataset")
        download = gr.DownloadButton("Download data/ (zip)", visible=False, elem_id="download-dataset")
        to_sft = gr.Button("Continue to SFT →", visible=False)
    cli = cli_box("dataset-cli")
    summary = gr.Markdown(elem_id="dataset-summary")
    with gr.Row():
        counts = gr.Dataframe(label="Posts / examples after each step", interactive=False, elem_id="dataset-counts")
        checks = gr.Dataframe(label="Quality checks", interactive=False, wrap=True)
    engagement = gr.ScatterPlot(x="rank", y="score", color="set", label="Engagement score by rank (gold = preference pairs)",
                                height=260, elem_id="engagement-plot")
    preview = gr.Chatbot(label="Examples rendered with the chat template", height=320, elem_id="dataset-preview")

    def command(path, files, teacher, negatives, url, model_name, top_frac, seed, min_chars, max_chars, model):
        workspace = workspace_of(path)
        argv = ["data", "build"]
        for name in files or []:
            argv += ["--input", workspace.uploads_dir / name]
        argv += ["--out", workspace.data_dir, "--teacher", url if teacher == "url" else teacher]
        if teacher == "url" and model_name:
            argv += ["--teacher-model", model_name]
        argv += ["--negatives", negatives, "--top-frac", top_frac, "--min-chars", int(min_chars),
                 "--max-chars", int(max_chars), "--model", model, "--seed", int(seed)]
        if config.public:
            argv += ["--top-k", config.public_max_posts]
        return argv

    def on_upload(path, files, selected):
        workspace = workspace_of(path)
        saved = save_uploads(workspace, files, config)
        return gr.update(choices=uploads(workspace), value=sorted(set(selected or []) | set(saved))), None

    def run_build(path, *values, progress=gr.Progress()):
        from pipeline.data.build import BuildSettings, build_dataset

        workspace = workspace_of(path)
        files, teacher, negatives, url, model_name, top_frac, seed, min_chars, max_chars, model = values
        if not files:
            raise gr.Error("no posts file selected: upload one or tick one in the list above.")
        if teacher == "url" and not (url or "").strip():
            raise gr.Error("teacher 'url' needs the Teacher URL (an OpenAI-compatible endpoint).")
        settings = BuildSettings(teacher=url.strip() if teacher == "url" else teacher, teacher_model=model_name or None,
                                 negatives=negatives, top_frac=float(top_frac), min_chars=int(min_chars),
                                 max_chars=int(max_chars), model=allowed_path(config, model, "base model"), seed=int(seed),
                                 top_k=config.public_max_posts if config.public else None)
        inputs = [workspace.uploads_dir / validate_name(name, "file name") for name in files]
        build_dataset(inputs, workspace.data_dir, settings, progress=lambda fraction, message: progress(fraction, desc=message))
        return cli_command(*command(path, *values))

    def show(workspace):
        if not has_dataset(workspace):
            return ("No dataset in this project yet.", None, None, None, None,
                    gr.update(visible=False, value=None), gr.update(visible=False))
        report = _read_report(workspace.data_dir)
        return (_summary_text(report, workspace), _steps_table(report), _checks_table(report),
                _engagement_frame(report), _preview_messages(report),
                gr.update(visible=True, value=_zip(workspace.data_dir)), gr.update(visible=True))

    outputs = [summary, counts, checks, engagement, preview, download, to_sft]
    settings = [inputs, teacher, negatives, teacher_url, teacher_model, top_frac, seed, min_chars, max_chars, studio.model]
    upload.upload(user_errors(on_upload), [studio.workspace, upload, inputs], [inputs, upload])
    # The build writes only the command box; the views refresh after it succeeds (a failure shows one
    # message, not an error badge on every plot and table).
    build_button.click(user_errors(run_build), [studio.workspace, *settings], cli, show_progress_on=summary,
                       concurrency_id="heavy", concurrency_limit=1).success(
        user_errors(lambda path: show(workspace_of(path))), studio.workspace, outputs)
    teacher.change(lambda t: gr.update(visible=t == "url"), teacher, teacher_row)
    if studio.tabs is not None:
        to_sft.click(lambda: gr.Tabs(selected="sft"), None, studio.tabs)

    def refresh(path):
        workspace = workspace_of(path)
        files = uploads(workspace)
        return (gr.update(choices=files, value=files), *show(workspace))

    studio.on_workspace_change(refresh, [inputs, *outputs])


def _read_report(data_dir: Path) -> dict:
    folder = DataFolder(data_dir)
    return folder.report() if folder.report_path.is_file() else {}


def _summary_text(report: dict, workspace) -> str:
    counts, splits = report.get("counts") or {}, report.get("splits") or {}
    text = (f"**Dataset ready** in `data/`: {counts.get('sft_examples', '?')} SFT examples, "
            f"{counts.get('dpo_pairs', '?')} preference pairs from {counts.get('posts', '?')} posts "
            f"({counts.get('gold', '?')} gold)")
    for kind, parts in splits.items():
        text += f"  \n{kind}: " + " · ".join(f"{name} {n}" for name, n in parts.items())
    for warning in (report.get("quality") or {}).get("warnings") or []:
        text += f"\n\n⚠ {warning}"
    for notice in report.get("notices") or []:
        text += f"\n\nℹ {notice}"
    return text


def _steps_table(report: dict) -> pd.DataFrame | None:
    steps = report.get("steps") or []
    return pd.DataFrame([{"step": s.get("step"), "kept": s.get("kept"),
                          "removed": ", ".join(f"{k} {v}" for k, v in (s.get("removed") or {}).items())}
                         for s in steps]) if steps else None


def _checks_table(report: dict) -> pd.DataFrame | None:
    quality = report.get("quality") or {}
    if not quality:
        return None
    rows = []
    balance = quality.get("length_balance") or {}
    for side in ("chosen_chars", "rejected_chars"):
        if side in balance:
            rows.append({"check": f"{side.replace('_', ' ')} mean / median",
                         "value": f"{balance[side].get('mean')} / {balance[side].get('median')}"})
    if "ratio_mean" in balance:
        rows.append({"check": "rejected / chosen length (mean, median)",
                     "value": f"{balance['ratio_mean']}, {balance.get('ratio_median')}"})
    rows.append({"check": "identical pairs removed", "value": str(quality.get("identical_pairs_removed", 0))})
    duplicates = quality.get("duplicate_prompts") or {}
    rows.append({"check": "prompts given more than once", "value": str(duplicates.get("prompts_repeated", 0))})
    for name, info in (quality.get("tokens") or {}).items():
        if isinstance(info, dict) and "over_limit" in info:
            rows.append({"check": f"{name} over the token limit", "value": str(info["over_limit"])})
    return pd.DataFrame(rows)


def _engagement_frame(report: dict) -> pd.DataFrame | None:
    engagement = report.get("engagement") or {}
    scores = engagement.get("scores") or []
    if not scores:
        return None
    flags = engagement.get("gold_flags") or [False] * len(scores)
    frame = pd.DataFrame({"score": scores, "set": ["gold" if g else "other" for g in flags]})
    frame = frame.sort_values("score", ascending=False).reset_index(drop=True)
    frame["rank"] = frame.index + 1
    return frame


def _preview_messages(report: dict) -> list[dict]:
    """The report's sample examples, exactly as the chat template renders them for the model."""
    return [{"role": "assistant", "content": f"```\n{sample.get('rendered', '')}\n```\n{sample.get('tokens', '?')} tokens"}
            for sample in (report.get("samples") or [])[:5]]


def _zip(data_dir: Path) -> str:
    """The data folder as a zip in a temp folder Gradio serves for download."""
    out = Path(tempfile.mkdtemp(prefix="voicetune-data-")) / "dataset"
    return shutil.make_archive(str(out), "zip", root_dir=data_dir)
