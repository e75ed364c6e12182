"""SFT tab: QLoRA supervised fine-tuning on the project's dataset, as a child-process job.

Start hands the run to the training runner (`python -m pipeline train sft ...` in a child process);
the panel below follows the run live from its folder. The boxes are fields of ``SFTSettings``
(``ui/knobs.py``); the preset fills them.
"""

from __future__ import annotations

import gradio as gr

from pipeline.data.folder import DataFolder
from pipeline.train.flags import FLAGS
from pipeline.train.settings import PRESETS

from .common import Studio, cli_box, cli_command, has_dataset, needs, user_errors, workspace_of
from .jobs import TRAINING_SLOT, RunPanel, hold_gpu_slot, start_training, training_settings
from .knobs import Knobs


def build(studio: Studio) -> None:
    config = studio.config
    needs("a dataset: the **Dataset** tab's output (`data/sft/train.jsonl`).")
    with gr.Row(equal_height=True):
        data_status = gr.Markdown(elem_id="sft-data")
        latest = gr.Button("Use the latest dataset", scale=0)
    knobs = Knobs(FLAGS["sft"], preset="quick")
    with gr.Row():
        preset = gr.Radio(list(PRESETS), value=knobs.preset, label="Preset",
                          info="quick: minutes on a CPU (float32, 40 steps); standard: the full QLoRA recipe (GPU), "
                               "1 epoch")
        knobs.add("max_steps", gr.Number, minimum=-1, label="Max steps (-1 = the preset's epochs)",
                  elem_id="sft-max-steps", maximum=config.public_max_steps if config.public else None)
        knobs.add("lora_r", gr.Dropdown, choices=[4, 8, 16, 32, 64], label="LoRA r (alpha = 2r)")
        knobs.add("load_in_4bit", gr.Checkbox, label="4-bit NF4 base (QLoRA; slow on CPU)")
    with gr.Accordion("More settings", open=False), gr.Row():
        knobs.add("learning_rate", gr.Number, label="Learning rate", elem_id="sft-learning-rate")
        knobs.add("target_modules", gr.Radio, choices=["all", "attention-only"], label="LoRA targets",
                  info="all = q,k,v,o,gate,up,down; attention-only = q,k,v,o")
        knobs.add("batch_size", gr.Number, minimum=1, label="Batch size")
        knobs.add("max_length", gr.Number, minimum=16, label="Max length in tokens (longer examples are left out)")
    preset.change(knobs.fill, preset, knobs.components, queue=False)
    start = gr.Button("Start SFT", variant="primary", elem_id="start-sft")
    cli = cli_box("sft-cli")
    panel = RunPanel(studio, "sft")

    def on_start(path, preset, model, *values):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        settings = training_settings(config, "sft", preset, knobs.named(values), model)
        run = start_training(workspace, "sft", settings)
        yield panel.choices(path, run.name), cli_command(*run.job()["argv"])
        hold_gpu_slot(run)

    start.click(user_errors(on_start), [studio.workspace, preset, studio.model, *knobs.components],
                [panel.run, cli], **TRAINING_SLOT)
    panel.wire()

    def data_text(path):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            return "No dataset yet: build one in the **Dataset** tab."
        count = DataFolder(workspace.data_dir).count("sft", "train")
        return f"Dataset: `data/` · {count} SFT training examples"

    latest.click(user_errors(data_text), studio.workspace, data_status)
    studio.on_workspace_change(lambda path: [data_text(path), panel.choices(path)], [data_status, panel.run])
