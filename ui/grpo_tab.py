"""GRPO tab: the policy improves by comparing its own answers, rewarded for the voice, as a child-process job
with live curves of each reward component, the KL to the starting policy, the answer length and the spread.

Start hands the run to the training runner (`python -m pipeline train grpo --from RUN ...`); it starts
from an SFT or DPO run. The boxes are fields of ``GRPOSettings`` (``ui/knobs.py``); the preset fills them.
"""

from __future__ import annotations

import gradio as gr

from pipeline.train.flags import FLAGS
from pipeline.train.settings import PRESETS

from .common import Studio, cli_box, cli_command, has_dataset, needs, runs_of_kind, user_errors, workspace_of
from .jobs import TRAINING_SLOT, RunPanel, hold_gpu_slot, start_training, training_settings
from .knobs import Knobs

WEIGHTS = {"voice_weight": "voice (sounds like you)", "fluency_weight": "fluency guard",
           "adherence_weight": "about the brief", "form_weight": "form (length, lines, tags)",
           "judge_weight": "LLM judge"}


def build(studio: Studio) -> None:
    config = studio.config
    needs("an SFT or DPO run (the **SFT** and **DPO** tabs) and the dataset's training briefs and posts. "
          "The voice reward is fitted on the training posts only; Evaluate's held-out posts stay unseen. "
          "Watch for reward hacking: the reward going up while fluency or brief adherence goes down.")
    with gr.Row(equal_height=True):
        start_run = gr.Dropdown(label="SFT or DPO run (the policy GRPO starts from, and its KL reference)",
                                choices=[], elem_id="grpo-from-run", scale=3)
        latest = gr.Button("Use the latest run", scale=1)
    knobs = Knobs(FLAGS["grpo"], preset="quick")
    with gr.Row():
        preset = gr.Radio(list(PRESETS), value=knobs.preset, label="Preset",
                          info="quick: 12 steps of 2 briefs x 4 answers of 64 tokens (CPU minutes); standard: 100 "
                               "steps of 128 tokens")
        knobs.add("max_steps", gr.Number, minimum=1, label="Steps", elem_id="grpo-max-steps",
                  maximum=config.public_max_steps if config.public else None)
        knobs.add("group_size", gr.Number, minimum=2, label="Answers per brief (group size)")
        knobs.add("briefs_per_step", gr.Number, minimum=1, label="Briefs per step")
        knobs.add("beta", gr.Slider, minimum=0.0, maximum=0.5, step=0.01, label="beta (KL to the starting policy)")
    with gr.Row():
        for name, label in WEIGHTS.items():
            knobs.add(name, gr.Number, minimum=0, label=f"Weight: {label}")
    with gr.Accordion("More settings", open=False), gr.Row():
        knobs.add("temperature", gr.Number, label="Sampling temperature")
        knobs.add("max_completion_length", gr.Number, minimum=8, label="Max answer tokens")
        knobs.add("learning_rate", gr.Number, label="Learning rate", elem_id="grpo-learning-rate")
        knobs.add("lora_r", gr.Dropdown, choices=[4, 8, 16, 32], label="LoRA r (alpha = 2r)")
        if not config.public:  # the page never sends requests to an address a visitor typed
            knobs.add("judge_url", gr.Textbox, label="Judge endpoint (OpenAI-compatible)")
            knobs.add("judge_model", gr.Textbox, label="Judge model")
    preset.change(knobs.fill, preset, knobs.components, queue=False)
    start = gr.Button("Start GRPO", variant="primary", elem_id="start-grpo")
    cli = cli_box("grpo-cli")
    panel = RunPanel(studio, "grpo")

    def on_start(path, parent_name, preset, model, *values):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        settings = training_settings(config, "grpo", preset, knobs.named(values), model)
        run = start_training(workspace, "grpo", settings, parent_run=parent_name or None)
        yield panel.choices(path, run.name), cli_command(*run.job()["argv"])
        hold_gpu_slot(run)

    start.click(user_errors(on_start), [studio.workspace, start_run, preset, studio.model, *knobs.components],
                [panel.run, cli], **TRAINING_SLOT)
    panel.wire()

    def start_choices(path):
        names = runs_of_kind(workspace_of(path), ("sft", "dpo"), with_adapter=True)
        return gr.update(choices=names, value=names[0] if names else None)

    latest.click(user_errors(start_choices), studio.workspace, start_run)
    studio.on_workspace_change(lambda path: [start_choices(path), panel.choices(path)], [start_run, panel.run])
