"""SFT tab: QLoRA supervised fine-tuning on the project's dataset, as a child-process job.

Start hands the run to the training runner (`python -m pipeline train sft ...` in a child process);
the panel below follows the run live from its folder.
"""

from __future__ import annotations

import gradio as gr

from pipeline.data.folder import DataFolder

from .common import Studio, allowed_path, cli_box, cli_command, has_dataset, needs, user_errors, workspace_of
from .jobs import TRAINING_SLOT, RunPanel, hold_gpu_slot, optional_settings, start_training


def build(studio: Studio) -> None:
    config = studio.config
    needs("a dataset: the **Dataset** tab's output (`data/sft/train.jsonl`).")
    with gr.Row(equal_height=True):
        data_status = gr.Markdown(elem_id="sft-data")
        latest = gr.Button("Use the latest dataset", scale=0)
    with gr.Row():
        preset = gr.Radio(["quick", "standard"], value="quick", label="Preset",
                          info="quick: minutes on a CPU (float32, 40 steps); standard: the full QLoRA recipe (GPU)")
        max_steps = gr.Number(value=40, precision=0, minimum=1, label="Max steps", elem_id="sft-max-steps",
                              maximum=config.public_max_steps if config.public else None)
        lora_r = gr.Dropdown([4, 8, 16, 32, 64], value=16, label="LoRA r (alpha = 2r)")
        four_bit = gr.Checkbox(value=False, label="4-bit NF4 base (QLoRA; slow on CPU)")
    with gr.Accordion("More settings", open=False):
        with gr.Row():
            learning_rate = gr.Number(value=None, label="Learning rate [preset: 3e-4 quick, 2e-4 standard]")
            targets = gr.Radio(["all", "attention-only"], value="all", label="LoRA targets",
                               info="all = q,k,v,o,gate,up,down; attention-only = q,k,v,o")
            batch_size = gr.Number(value=None, precision=0, minimum=1, label="Batch size [preset]")
            max_length = gr.Number(value=None, precision=0, minimum=16, label="Max length in tokens [preset]")
    start = gr.Button("Start SFT", variant="primary", elem_id="start-sft")
    cli = cli_box("sft-cli")
    panel = RunPanel(studio, "sft")

    def on_start(path, preset, max_steps, lora_r, four_bit, learning_rate, targets, batch_size, max_length, model):
        from pipeline.train.settings import settings_for

        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        steps = config.max_steps(int(max_steps) if max_steps else None)
        extra = optional_settings(learning_rate=learning_rate, batch_size=batch_size, max_length=max_length)
        settings = settings_for("sft", preset, model=allowed_path(config, model, "base model"), max_steps=steps, lora_r=int(lora_r),
                                load_in_4bit=bool(four_bit), target_modules=targets, **extra)
        run = start_training(workspace, "sft", settings)
        yield panel.choices(path, run.name), cli_command(*run.job()["argv"])
        hold_gpu_slot(run)

    start.click(user_errors(on_start), [studio.workspace, preset, max_steps, lora_r, four_bit, learning_rate, targets,
                                        batch_size, max_length, studio.model],
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
