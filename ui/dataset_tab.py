"""Dataset tab: posts in (upload), SFT examples and preference pairs out, with the quality report.

One action, `python -m pipeline data build`; the tab then shows the report as tables, the
engagement of every post as a plot, a few examples rendered with the model's chat template, and
offers the data folder as a zip download.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from .common import (POST_FILE_TYPES, Studio, cli_box, cli_command, has_dataset, needs, rel, run_pipeline,
                     save_uploads, uploads, user_errors, workspace_of)

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
                teacher = gr.Radio(TEACHERS, value="none", label="Teacher for reverse instructions",
                                   info="none = template from the post's topic; local = the base model; "
                                        "url = an OpenAI-compatible endpoint")
                negatives = gr.Radio(NEGATIVES, value="rule", label="Rejected answers (negatives)",
                                     info="rule = corporate rewrite; teacher = teacher rewrite; base = base model's answer")
            with gr.Row(visible=not config.public) as teacher_row:
                teacher_url = gr.Textbox(label="Teacher URL", placeholder="http://127.0.0.1:8000/v1")
                teacher_model = gr.Textbox(label="Teacher model name")
            with gr.Row():
                top_frac = gr.Slider(0.05, 1.0, value=1.0, step=0.05, label="Gold set: top fraction by engagement")
                seed = gr.Number(value=0, precision=0, label="Seed", minimum=0)
            with gr.Row():
                min_chars = gr.Number(value=30, precision=0, label="Min characters", minimum=0)
                max_chars = gr.Number(value=3000, precision=0, label="Max characters", minimum=1)
    with gr.Row():
        build_button = gr.Button("Build the dataset", variant="primary", elem_id="build-dataset")
        download = gr.DownloadButton("Download data/ (zip)", visible=False, elem_id="download-dataset")
        to_sft = gr.Button("Continue to SFT →", visible=False)
    cli = cli_box()
    summary = gr.Markdown(elem_id="dataset-summary")
    with gr.Row():
        counts = gr.Dataframe(label="Posts / examples after each step", interactive=False, elem_id="dataset-counts")
        checks = gr.Dataframe(label="Quality checks", interactive=False, wrap=True)
    engagement = gr.ScatterPlot(x="rank", y="score", color="set", label="Engagement score by rank (gold = kept)",
                                height=260)
    preview = gr.Chatbot(label="Examples rendered with the chat template", height=320, elem_id="dataset-preview")

    def command(path, files, teacher, negatives, url, model_name, top_frac, seed, min_chars, max_chars, model):
        workspace = workspace_of(path)
        argv = ["data", "build"]
        for name in files or []:
            argv += ["--input", workspace.root / "uploads" / name]
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
        workspace = workspace_of(path)
        files = values[0]
        if not files:
            raise gr.Error("no posts file selected: upload one or tick one in the list above.")
        if values[1] == "url" and not values[3]:
            raise gr.Error("teacher 'url' needs the Teacher URL (an OpenAI-compatible endpoint).")
        argv = command(path, *values)
        progress(0, desc="building the dataset")
        run_pipeline(argv, log=lambda *parts, **_: progress(None, desc=" ".join(map(str, parts))[:120]))
        return show(workspace) + (cli_command(*_shown(argv, workspace)),)

    def show(workspace):
        if not has_dataset(workspace):
            return ("No dataset in this project yet.", None, None, None, None,
                    gr.update(visible=False, value=None), gr.update(visible=False))
        report = _read_report(workspace.data_dir)
        return (_summary_text(report, workspace), _counts_table(report), _checks_table(report),
                _engagement_frame(workspace.data_dir), _preview_messages(report),
                gr.update(visible=True, value=_zip(workspace.data_dir)), gr.update(visible=True))

    outputs = [summary, counts, checks, engagement, preview, download, to_sft]
    settings = [inputs, teacher, negatives, teacher_url, teacher_model, top_frac, seed, min_chars, max_chars, studio.model]
    upload.upload(user_errors(on_upload), [studio.workspace, upload, inputs], [inputs, upload])
    build_button.click(user_errors(run_build), [studio.workspace, *settings], outputs + [cli],
                       concurrency_id="heavy", concurrency_limit=1)
    teacher.change(lambda t: gr.update(visible=t == "url" and not config.public), teacher, teacher_row)
    if studio.tabs is not None:
        to_sft.click(lambda: gr.Tabs(selected="sft"), None, studio.tabs)

    def refresh(path):
        workspace = workspace_of(path)
        files = uploads(workspace)
        return (gr.update(choices=files, value=files), *show(workspace))

    studio.on_workspace_change(refresh, [inputs, *outputs])


def _shown(argv: list, workspace) -> list:
    """The argv with paths relative to the current folder, for the copyable command."""
    return [rel(a, Path.cwd()) if isinstance(a, Path) else a for a in argv]


def _read_report(data_dir: Path) -> dict:
    path = data_dir / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _summary_text(report: dict, workspace) -> str:
    splits = []
    for kind in ("sft", "dpo"):
        for split in ("train", "validation", "test"):
            path = workspace.data_dir / kind / f"{split}.jsonl"
            if path.is_file():
                splits.append(f"{kind}/{split}: {sum(1 for line in path.open(encoding='utf-8') if line.strip())}")
    warnings = report.get("warnings") or []
    text = f"**Dataset ready** in `{workspace.data_dir.name}/` · " + " · ".join(splits)
    if warnings:
        text += "\n\n" + "\n".join(f"- ⚠ {w}" for w in warnings)
    return text


def _counts_table(report: dict) -> pd.DataFrame | None:
    counts = report.get("counts") or report.get("steps")
    if isinstance(counts, dict):
        return pd.DataFrame({"step": list(counts), "count": [str(v) for v in counts.values()]})
    if isinstance(counts, list):
        return pd.DataFrame(counts)
    return None


def _checks_table(report: dict) -> pd.DataFrame | None:
    checks = report.get("quality") or report.get("checks")
    if not isinstance(checks, dict):
        return None
    rows = [{"check": k, "value": json.dumps(v) if isinstance(v, (dict, list)) else str(v)}
            for k, v in checks.items() if k not in ("samples",)]
    return pd.DataFrame(rows)


def _engagement_frame(data_dir: Path) -> pd.DataFrame | None:
    path = data_dir / "posts.jsonl"
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    frame = pd.DataFrame({"score": [float(r.get("score") or 0) for r in rows],
                          "set": ["gold" if r.get("gold") else "other" for r in rows]})
    frame = frame.sort_values("score", ascending=False).reset_index(drop=True)
    frame["rank"] = frame.index + 1
    return frame


def _preview_messages(report: dict) -> list[dict]:
    """The report's sample examples as chat messages (the rendered template text, as the model sees it)."""
    samples = report.get("samples") or (report.get("quality") or {}).get("samples") or []
    messages = []
    for sample in samples[:5]:
        rendered = sample.get("rendered") or sample.get("text") or json.dumps(sample, ensure_ascii=False)
        tokens = sample.get("tokens")
        messages.append({"role": "assistant", "content": f"```\n{rendered}\n```"
                         + (f"\n{tokens} tokens" if tokens is not None else "")})
    return messages


def _zip(data_dir: Path) -> str:
    """The data folder as a zip in a temp folder Gradio serves for download."""
    out = Path(tempfile.mkdtemp(prefix="voicetune-data-")) / "dataset"
    return shutil.make_archive(str(out), "zip", root_dir=data_dir)
