"""Dataset tab: posts in (uploads of exports as downloaded, or public posts fetched), SFT examples and
preference pairs out, with the quality report.

Two actions: Fetch, `python -m pipeline data fetch` (``FetchSettings`` from its boxes; the posts file
lands among the project's uploads), and Build, `python -m pipeline data build` (``BuildSettings`` from
the boxes, ``ui/knobs.py``); both run in-process through the library. The tab then shows the report
as tables (posts per input, what each step removed with three examples per reason), the engagement
of every post as a plot, a few examples rendered with the model's chat template, and offers the data
folder as a zip download.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import gradio as gr
import pandas as pd

from pipeline.data.build import BUILD_FLAGS, BuildSettings
from pipeline.data.folder import DataFolder
from pipeline.data.remote.fetch import FETCH_FLAGS, FetchSettings
from pipeline.errors import UserError
from pipeline.workspace import Workspace, validate_name

from .common import (POST_FILE_TYPES, AppConfig, Studio, allowed_path, cli_box, cli_command, has_dataset, needs,
                     save_uploads, uploads, user_errors, workspace_of)
from .knobs import Knobs, settings_from_boxes

TEACHERS = ["none", "local", "url"]
NEGATIVES = ["rule", "teacher", "base"]
FETCHED_FILE = "public-posts.jsonl"
"""The uploads' name for what the Fetch button wrote (a new fetch replaces it)."""
ENGAGEMENT_LABEL = "Engagement score by rank: gold dots are the gold set (the posts that make preference pairs), grey the rest"
ENGAGEMENT_COLOURS = {"gold": "#d4a017", "other": "#9aa3b0"}
"""Named in the plot's title, not in a legend (Gradio 6.31 cuts a legend below the plot off)."""


def build_settings(config: AppConfig, values: dict, teacher: str, url: str | None, teacher_model: str | None,
                   model: str | None) -> BuildSettings:
    """The settings the Build button runs: the boxes' ``values`` (by field name) over the defaults, the
    teacher choice, the page's base model, and in public mode the gold-set cap."""
    url = (url or "").strip()
    if teacher == "url" and not url:
        raise UserError("teacher 'url' needs the Teacher URL (an OpenAI-compatible endpoint).")
    fixed = dict(teacher=url if teacher == "url" else teacher,
                 teacher_model=(teacher_model or "").strip() or None if teacher == "url" else None,
                 model=allowed_path(config, model, "base model"))
    if config.public:
        fixed["top_k"] = config.public_max_posts
    settings = settings_from_boxes(BUILD_FLAGS, None, values, **fixed)
    settings.check()
    return settings


def command(workspace: Workspace, files: list[str], settings: BuildSettings) -> list:
    """``python -m pipeline data build`` with ``settings`` on ``files`` of the project's uploads."""
    inputs = [arg for name in files for arg in ("--input", _upload(workspace, name))]
    return ["data", "build", *inputs, "--out", workspace.data_dir, *BUILD_FLAGS.argv(settings)]


def fetch_targets(text: str | None) -> list[str]:
    """The targets typed in the fetch box: one per line (or separated by spaces or commas)."""
    targets = [t for t in (text or "").replace(",", " ").split() if t]
    if not targets:
        raise UserError("nothing to fetch: type your blog's address, bsky:HANDLE or mastodon:@user@server.")
    return targets


def fetch_command(workspace: Workspace, targets: list[str], settings: FetchSettings) -> list:
    """``python -m pipeline data fetch`` with ``settings``, writing the posts file among the uploads."""
    return ["data", "fetch", *targets, "--out", workspace.uploads_dir / FETCHED_FILE, *FETCH_FLAGS.argv(settings)]


def build(studio: Studio) -> None:
    config = studio.config
    needs("posts. Upload your exports as downloaded (several files and zips at once: X, LinkedIn, Mastodon, "
          "Bluesky, Threads/Instagram, Substack, Medium, WordPress, a feed, notes, CSV/JSONL)"
          + ("" if config.public else ", or fetch your public posts") + ". The sample project already holds "
          "`posts.csv`.")
    knobs = Knobs(BUILD_FLAGS)
    upload, inputs, teacher, teacher_row, teacher_url, teacher_model = _input_boxes(config, knobs)
    fetch_knobs = Knobs(FETCH_FLAGS)
    with gr.Accordion("Fetch your public posts (blog, Bluesky, Mastodon)", open=False, visible=not config.public):
        # public mode: no fetching (the server would request any address a visitor types)
        with gr.Row():
            targets = gr.Textbox(label="Public pages or handles, one per line", lines=3, scale=3,
                                 placeholder="https://you.example/blog/\nbsky:you.bsky.social\nmastodon:@you@mastodon.social",
                                 elem_id="fetch-targets")
            with gr.Column(scale=1):
                fetch_knobs.add("max_pages", gr.Number, label="Pages per URL", minimum=1)
                fetch_knobs.add("delay_s", gr.Number, label="Seconds between requests to a site", minimum=0)
        fetch_button = gr.Button("Fetch", elem_id="fetch-posts")
        fetch_cli = cli_box("fetch-cli")
    with gr.Row():
        build_button = gr.Button("Build the dataset", variant="primary", elem_id="build-dataset")
        download = gr.DownloadButton("Download data/ (zip)", visible=False, elem_id="download-dataset")
        to_sft = gr.Button("Continue to SFT →", visible=False)
    cli = cli_box("dataset-cli")
    summary = gr.Markdown(elem_id="dataset-summary")
    with gr.Row():
        counts = gr.Dataframe(label="Posts / examples after each step", interactive=False, elem_id="dataset-counts")
        per_source = gr.Dataframe(label="Posts per input (read by the source that recognised it)", interactive=False,
                                  wrap=True, elem_id="dataset-sources")
    removed = gr.Dataframe(label="What each step removed, with three examples per reason", interactive=False,
                           wrap=True, elem_id="dataset-removed")
    checks = gr.Dataframe(label="Quality checks", interactive=False, wrap=True)
    engagement = gr.ScatterPlot(x="rank", y="score", color="set", label=ENGAGEMENT_LABEL, color_map=ENGAGEMENT_COLOURS,
                                colors_in_legend=[], height=260, elem_id="engagement-plot")
    preview = gr.Chatbot(label="Examples rendered with the chat template", height=320, elem_id="dataset-preview")

    def on_upload(path, files, selected):
        workspace = workspace_of(path)
        saved = save_uploads(workspace, files, config)
        return gr.update(choices=uploads(workspace), value=sorted(set(selected or []) | set(saved))), None

    def run_build(path, files, teacher, url, teacher_model, model, progress=gr.Progress(), *values):
        from pipeline.data.build import build_dataset

        workspace = workspace_of(path)
        if not files:
            raise gr.Error("no posts file selected: upload one or tick one in the list above.")
        settings = build_settings(config, knobs.named(values), teacher, url, teacher_model, model)
        build_dataset([_upload(workspace, name) for name in files], workspace.data_dir, settings,
                      progress=lambda fraction, message: progress(fraction, desc=message))
        return cli_command(*command(workspace, files, settings))

    def run_fetch(path, text, selected, progress=gr.Progress(), *values):
        from pipeline.data.remote.fetch import fetch_posts

        if config.public:
            raise UserError("fetching is off on a shared server; download your export from the platform and upload it.")
        workspace = workspace_of(path)
        found = fetch_targets(text)
        settings = settings_from_boxes(FETCH_FLAGS, None, fetch_knobs.named(values))
        progress(0.0, desc=f"fetching {len(found)} targets")
        fetch_posts(found, workspace.uploads_dir / FETCHED_FILE, settings, log=lambda *parts, **_: progress(
            0.5, desc=" ".join(map(str, parts))[:120]))
        return (gr.update(choices=uploads(workspace), value=sorted(set(selected or []) | {FETCHED_FILE})),
                cli_command(*fetch_command(workspace, found, settings)))

    outputs = [summary, counts, per_source, removed, checks, engagement, preview, download, to_sft]
    upload.upload(user_errors(on_upload), [studio.workspace, upload, inputs], [inputs, upload])
    fetch_button.click(user_errors(run_fetch), [studio.workspace, targets, inputs, *fetch_knobs.components],
                       [inputs, fetch_cli], concurrency_id="heavy", concurrency_limit=1)
    # The build writes only the command box; the views refresh after it succeeds (a failure shows one
    # message, not an error badge on every plot and table).
    build_button.click(user_errors(run_build), [studio.workspace, inputs, teacher, teacher_url, teacher_model,
                                                studio.model, *knobs.components], cli, show_progress_on=summary,
                       concurrency_id="dataset-build", concurrency_limit=1).success(
        user_errors(lambda path: _views(workspace_of(path))), studio.workspace, outputs)
    teacher.change(lambda t: gr.update(visible=t == "url"), teacher, teacher_row)
    if studio.tabs is not None:
        to_sft.click(lambda: gr.Tabs(selected="sft"), None, studio.tabs)

    def refresh(path):
        workspace = workspace_of(path)
        files = uploads(workspace)
        return (gr.update(choices=files, value=files), *_views(workspace))

    studio.on_workspace_change(refresh, [inputs, *outputs])


def _input_boxes(config: AppConfig, knobs: Knobs) -> tuple:
    """The upload, the posts files, the teacher choice and the build's knobs."""
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
                knobs.add("negatives", gr.Radio, choices=NEGATIVES, label="Rejected answers (negatives)",
                          info="rule = corporate rewrite; teacher = teacher rewrite; base = base model's answer")
            with gr.Row(visible=False) as teacher_row:
                teacher_url = gr.Textbox(label="Teacher URL", placeholder="http://127.0.0.1:8000/v1")
                teacher_model = gr.Textbox(label="Teacher model name")
            with gr.Row():
                # public mode: the gold set is the top posts up to the cap (--top-k), so no fraction to pick
                knobs.add("top_frac", gr.Slider, minimum=0.05, maximum=1.0, step=0.05, visible=not config.public,
                          label="Gold set: top fraction by engagement", elem_id="top-frac")
                knobs.add("seed", gr.Number, label="Seed", minimum=0)
            with gr.Row():
                knobs.add("min_chars", gr.Number, label="Min characters", minimum=0)
                knobs.add("max_chars", gr.Number, label="Max characters", minimum=1)
            knobs.add("semantic_clean", gr.Checkbox, label="Semantic cleaning by the teacher",
                      info="leave out promotion, bare links, reply fragments and someone else's words (needs a "
                           "teacher; never rewrites a post)")
    return upload, inputs, teacher, teacher_row, teacher_url, teacher_model


def _upload(workspace: Workspace, name: str) -> Path:
    return workspace.uploads_dir / validate_name(name, "file name")


def _views(workspace: Workspace) -> tuple:
    """Summary, tables, plot, preview and download of the project's dataset (hidden without one)."""
    if not has_dataset(workspace):
        return ("No dataset in this project yet.", None, None, None, None, None, None,
                gr.update(visible=False, value=None), gr.update(visible=False))
    report = _read_report(workspace.data_dir)
    return (_summary_text(report, workspace), _steps_table(report), _sources_table(report), _removed_table(report),
            _checks_table(report),
            _engagement_plot(report), _preview_messages(report),
            gr.update(visible=True, value=_zip(workspace.data_dir)), gr.update(visible=True))


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


def _sources_table(report: dict) -> pd.DataFrame | None:
    sources = report.get("per_source") or {}
    return pd.DataFrame([{"input": name, "read as": row.get("label"), "posts read": row.get("ingested"),
                          "skipped": ", ".join(f"{k} {v}" for k, v in (row.get("skipped_by_reason") or {}).items()),
                          "kept": row.get("kept"), "gold": row.get("gold"), "pairs": row.get("dpo_pairs")}
                         for name, row in sources.items()]) if sources else None


def _removed_table(report: dict) -> pd.DataFrame | None:
    """One row per step and reason: how many posts it removed and up to three of them."""
    rows = [{"step": step.get("step"), "reason": reason, "removed": count,
             "examples": "\n---\n".join((step.get("examples") or {}).get(reason) or [])}
            for step in report.get("steps") or [] for reason, count in (step.get("removed") or {}).items() if count]
    return pd.DataFrame(rows, columns=["step", "reason", "removed", "examples"]) if rows else None


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


def _engagement_plot(report: dict):
    """The engagement plot's value, or, for posts without engagement counts (a LinkedIn export), no
    points and a title that says so (every post then scores the same: a flat line says nothing)."""
    engagement = report.get("engagement") or {}
    if engagement.get("scores") and not engagement.get("posts_with_engagement"):
        return gr.update(value=None, label="Engagement: these posts have no engagement counts (likes, reposts), so "
                                           "every post counts the same and all of them are gold")
    return gr.update(value=_engagement_frame(report), label=ENGAGEMENT_LABEL)


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
