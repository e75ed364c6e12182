"""Export tab: a finished run as GGUF (llama.cpp, LM Studio), an Ollama model, a merged transformers
folder or a vLLM LoRA folder, offered as downloads.

One action, `python -m pipeline export --run RUN --to TARGET --quant QUANT` (``pipeline.export``); the
files land in the run's ``exports/`` folder and are listed for download.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from pipeline.errors import UserError
from pipeline.export import EXPORT_FLAGS, ExportSettings

from .common import Studio, cli_box, cli_command, needs, quiet, user_errors, workspace_of
from .knobs import Knobs, settings_from_boxes

TARGETS = [("GGUF (llama.cpp, LM Studio) + LoRA GGUF", "gguf"), ("Ollama (GGUF + Modelfile)", "ollama"),
           ("Merged model (transformers)", "merged"), ("vLLM LoRA adapter", "vllm")]
QUANTS = [("q8_0 (near-lossless, half of f16)", "q8_0"), ("q4_k_m (smallest, some loss)", "q4_k_m"),
          ("f16 (no loss)", "f16")]


def export_settings(values: dict) -> ExportSettings:
    """The settings the Export button runs: the boxes' ``values`` (by field name) over the defaults."""
    return settings_from_boxes(EXPORT_FLAGS, None, values).check()


def command(run_dir: Path, settings: ExportSettings) -> list:
    """``python -m pipeline export`` of ``run_dir`` with ``settings``."""
    return ["export", "--run", run_dir, *EXPORT_FLAGS.argv(settings)]


def build(studio: Studio) -> None:
    needs("a finished **SFT** or **DPO** run (a DPO run exports base + SFT + DPO). GGUF and Ollama use llama.cpp, "
          "built once by `make llama`.")
    knobs = Knobs(EXPORT_FLAGS)
    with gr.Row(equal_height=True):
        run = gr.Dropdown(label="Run to export", choices=[], elem_id="export-run", scale=2)
        target = knobs.add("to", gr.Radio, choices=TARGETS, label="Export as", elem_id="export-target", scale=3)
        quant = knobs.add("quant", gr.Radio, choices=QUANTS, label="GGUF quantisation", elem_id="export-quant", scale=2)
    start = gr.Button("Export", variant="primary", elem_id="start-export")
    cli = cli_box("export-cli")
    result = gr.Markdown(elem_id="export-result")
    files = gr.File(label="Exported files", file_count="multiple", interactive=False, visible=False,
                    elem_id="export-files")

    def do_export(path, name, progress=gr.Progress(), *values):
        from pipeline.export import export_run

        if not name:
            raise UserError("no finished run to export: train one in the SFT or DPO tab first.")
        run_dir = workspace_of(path).run(name).path
        settings = export_settings(knobs.named(values))
        summary = export_run(run_dir, settings, progress=lambda message, fraction: progress(fraction, desc=message),
                             log=quiet)
        out = Path(summary["out"])
        how = summary.get("ollama") or summary.get("serve_command") or ""
        text = (f"**Exported** `{name}` as {settings.to} to `runs/{name}/exports/{out.name}/` in "
                f"{summary['seconds']:.0f} s" + (f"  \nThen: `{how}`" if how else ""))
        downloads = [str(out / f) for f in summary["files"] if (out / f).is_file()]
        return text, cli_command(*command(run_dir, settings)), gr.update(value=downloads, visible=True)

    start.click(user_errors(do_export), [studio.workspace, run, *knobs.components], [result, cli, files],
                show_progress_on=result, concurrency_id="export", concurrency_limit=1)
    target.change(lambda t: gr.update(interactive=t in ("gguf", "ollama")), target, quant, queue=False)

    def runs(path):
        names = [r.name for r in reversed(workspace_of(path).runs()) if r.has_adapter()]
        return gr.update(choices=names, value=names[0] if names else None)

    studio.on_workspace_change(runs, [run])
