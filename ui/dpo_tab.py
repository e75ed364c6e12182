"""DPO tab: preference tuning on top of an SFT run, as a child-process job with margin and log-ratio drift curves.

Start hands the run to the training runner (`python -m pipeline train dpo ...`); the reference
model is the SFT policy. The human picks made in Compare can be added to the training pairs. The
boxes are fields of ``DPOSettings`` (``ui/knobs.py``); the preset fills them.
"""

from __future__ import annotations

import gradio as gr

from pipeline.errors import UserError
from pipeline.train.flags import FLAGS
from pipeline.train.settings import DPO_LOSSES, PRESETS

from .common import Studio, cli_box, cli_command, has_dataset, needs, runs_of_kind, user_errors, workspace_of
from .jobs import TRAINING_SLOT, RunPanel, hold_gpu_slot, start_training, training_settings
from .knobs import Knobs

ON_BASE = "none: train on the base model"
"""The SFT-run choice that trains DPO on the base model (with the base as its reference)."""


def build(studio: Studio) -> None:
    config = studio.config
    needs("an SFT run (the **SFT** tab) and the dataset's preference pairs (`data/dpo/train.jsonl`). "
          f"To train on the base model instead (its reference is then the base), pick \"{ON_BASE}\".")
    with gr.Row(equal_height=True):
        sft_run = gr.Dropdown(label="SFT run (the policy DPO starts from, and its reference)", choices=[ON_BASE],
                              value=None, elem_id="dpo-sft-run", scale=3)
        latest = gr.Button("Use the latest SFT run", scale=1)
    knobs = Knobs(FLAGS["dpo"], preset="quick")
    with gr.Row():
        preset = gr.Radio(list(PRESETS), value=knobs.preset, label="Preset",
                          info="quick: 30 steps, lr 1e-4 (CPU minutes); standard: lr 5e-5, 1 epoch")
        knobs.add("beta", gr.Slider, minimum=0.01, maximum=1.0, step=0.01,
                  label="beta (higher = stay closer to the SFT policy)")
        knobs.add("loss_type", gr.Dropdown, choices=list(DPO_LOSSES), label="Loss")
        knobs.add("max_steps", gr.Number, minimum=-1, label="Max steps (-1 = the preset's epochs)",
                  elem_id="dpo-max-steps", maximum=config.public_max_steps if config.public else None)
        human = gr.Checkbox(value=True, label="Add my picks from Compare (preferences.jsonl)",
                            info="picks on validation/test briefs are left out (the run log counts them)")
    with gr.Accordion("More settings", open=False), gr.Row():
        knobs.add("learning_rate", gr.Number, label="Learning rate", elem_id="dpo-learning-rate")
        knobs.add("lora_r", gr.Dropdown, choices=[4, 8, 16, 32], label="LoRA r (alpha = 2r)")
        knobs.add("batch_size", gr.Number, minimum=1, label="Batch size")
    preset.change(knobs.fill, preset, knobs.components, queue=False)
    start = gr.Button("Start DPO", variant="primary", elem_id="start-dpo")
    cli = cli_box("dpo-cli")
    panel = RunPanel(studio, "dpo")

    def on_start(path, sft_name, preset, human, model, *values):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        if not sft_name:
            raise UserError(f"no SFT run chosen: pick the SFT run DPO starts from (train one in the SFT tab), or "
                            f"\"{ON_BASE}\".")
        settings = training_settings(config, "dpo", preset, knobs.named(values), model,
                                     with_human_picks=bool(human) and workspace.preferences_path.is_file())
        run = start_training(workspace, "dpo", settings, parent_run=None if sft_name == ON_BASE else sft_name)
        yield panel.choices(path, run.name), cli_command(*run.job()["argv"])
        hold_gpu_slot(run)

    start.click(user_errors(on_start), [studio.workspace, sft_run, preset, human, studio.model, *knobs.components],
                [panel.run, cli], **TRAINING_SLOT)
    panel.wire()

    def sft_choices(path):
        names = runs_of_kind(workspace_of(path), "sft", with_adapter=True)
        # Without an SFT run nothing is picked: training on the base model must be chosen, not fallen into.
        return gr.update(choices=[*names, ON_BASE], value=names[0] if names else None)

    latest.click(user_errors(sft_choices), studio.workspace, sft_run)
    studio.on_workspace_change(lambda path: [sft_choices(path), panel.choices(path)], [sft_run, panel.run])
