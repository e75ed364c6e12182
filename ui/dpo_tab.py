"""DPO tab: preference tuning on top of an SFT run, as a child-process job with margin and log-ratio drift curves.

Start hands the run to the training runner (`python -m pipeline train dpo ...`); the reference
model is the SFT policy. The human picks made in Compare can be added to the training pairs.
"""

from __future__ import annotations

import gradio as gr

from pipeline.train.settings import DPO_LOSSES

from .common import Studio, allowed_path, cli_box, cli_command, has_dataset, needs, runs_of_kind, user_errors, workspace_of
from .jobs import TRAINING_SLOT, RunPanel, hold_gpu_slot, optional_settings, start_training



def build(studio: Studio) -> None:
    config = studio.config
    needs("an SFT run (the **SFT** tab) and the dataset's preference pairs (`data/dpo/train.jsonl`). "
          "Without an SFT run DPO trains on the base model (and its reference is the base).")
    with gr.Row(equal_height=True):
        sft_run = gr.Dropdown(label="SFT run (the policy DPO starts from, and its reference)", choices=[],
                              elem_id="dpo-sft-run", scale=3)
        latest = gr.Button("Use the latest SFT run", scale=1)
    with gr.Row():
        preset = gr.Radio(["quick", "standard"], value="quick", label="Preset",
                          info="quick: 30 steps, lr 1e-4 (CPU minutes); standard: lr 5e-5, 1 epoch")
        beta = gr.Slider(0.01, 1.0, value=0.1, step=0.01, label="beta (higher = stay closer to the SFT policy)")
        loss = gr.Dropdown(list(DPO_LOSSES), value="sigmoid", label="Loss")
        max_steps = gr.Number(value=30, precision=0, minimum=1, label="Max steps", elem_id="dpo-max-steps",
                              maximum=config.public_max_steps if config.public else None)
        human = gr.Checkbox(value=True, label="Add my picks from Compare (preferences.jsonl)",
                            info="picks on validation/test briefs are left out (the run log counts them)")
    with gr.Accordion("More settings", open=False):
        with gr.Row():
            learning_rate = gr.Number(value=None, label="Learning rate [preset: 1e-4 quick, 5e-5 standard]")
            lora_r = gr.Dropdown([4, 8, 16, 32], value=8, label="LoRA r (alpha = 2r)")
            batch_size = gr.Number(value=None, precision=0, minimum=1, label="Batch size [preset]")
    start = gr.Button("Start DPO", variant="primary", elem_id="start-dpo")
    cli = cli_box("dpo-cli")
    panel = RunPanel(studio, "dpo")

    def on_start(path, sft_name, preset, beta, loss, max_steps, human, learning_rate, lora_r, batch_size, model):
        from pipeline.train.settings import settings_for

        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        steps = config.max_steps(int(max_steps) if max_steps else None)
        human = bool(human) and workspace.preferences_path.is_file()
        extra = optional_settings(learning_rate=learning_rate, batch_size=batch_size)
        settings = settings_for("dpo", preset, model=allowed_path(config, model, "base model"), beta=float(beta), loss_type=loss, max_steps=steps,
                                with_human_picks=human, lora_r=int(lora_r), **extra)
        run = start_training(workspace, "dpo", settings, sft_run=sft_name or None)
        yield panel.choices(path, run.name), cli_command(*run.job()["argv"])
        hold_gpu_slot(run)

    start.click(user_errors(on_start), [studio.workspace, sft_run, preset, beta, loss, max_steps, human, learning_rate,
                                        lora_r, batch_size, studio.model],
                [panel.run, cli], **TRAINING_SLOT)
    panel.wire()

    def sft_choices(path):
        names = runs_of_kind(workspace_of(path), "sft", with_adapter=True)
        return gr.update(choices=names, value=names[0] if names else None)

    latest.click(user_errors(sft_choices), studio.workspace, sft_run)
    studio.on_workspace_change(lambda path: [sft_choices(path), panel.choices(path)], [sft_run, panel.run])
