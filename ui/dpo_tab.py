"""DPO tab: preference tuning on top of an SFT run, as a child-process job with margin and KL curves.

Start runs `python -m pipeline train dpo ...` through the training runner; the reference model is
the SFT policy. The human picks made in Compare can be added to the training pairs.
"""

from __future__ import annotations

import gradio as gr

from .common import Studio, cli_box, cli_command, has_dataset, needs, runs_of_kind, user_errors, workspace_of
from .jobs import RunPanel, start_training

LOSSES = ["sigmoid", "ipo", "hinge", "simpo", "orpo", "kto"]


def build(studio: Studio) -> None:
    config = studio.config
    needs("an SFT run (the **SFT** tab) and the dataset's preference pairs (`data/dpo/train.jsonl`). "
          "Without an SFT run DPO trains on the base model.")
    with gr.Row(equal_height=True):
        sft_run = gr.Dropdown(label="SFT run (the policy DPO starts from and its reference)", choices=[],
                              elem_id="dpo-sft-run", scale=3)
        latest = gr.Button("Use the latest SFT run", scale=1)
    with gr.Row():
        beta = gr.Slider(0.01, 1.0, value=0.1, step=0.01, label="beta (how far from the reference)")
        loss = gr.Dropdown(LOSSES, value="sigmoid", label="Loss")
        max_steps = gr.Number(value=20, precision=0, minimum=1, label="Max steps",
                              maximum=config.public_max_steps if config.public else None)
        human = gr.Checkbox(value=True, label="Add my picks from Compare (preferences.jsonl)")
    start = gr.Button("Start DPO", variant="primary", elem_id="start-dpo")
    cli = cli_box()
    panel = RunPanel(studio, "dpo")

    def command(path, sft_name, beta, loss, max_steps, human, model):
        workspace = workspace_of(path)
        steps = config.max_steps(int(max_steps) if max_steps else None)
        argv = ["train", "dpo", "--data", workspace.data_dir]
        if sft_name:
            argv += ["--sft", workspace.run(sft_name).path]
        argv += ["--out", workspace.runs_dir / workspace.new_run_name("dpo"), "--model", model, "--beta", beta,
                 "--loss", loss, *(["--max-steps", steps] if steps else [])]
        if human and workspace.preferences_path.is_file():
            argv += ["--preferences", workspace.preferences_path]
        return argv

    def on_start(path, *settings):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise gr.Error("no dataset in this project: build one in the Dataset tab first.")
        argv = command(path, *settings)
        name = start_training(workspace, argv)
        return panel.choices(path, name), cli_command(*argv)

    start.click(user_errors(on_start), [studio.workspace, sft_run, beta, loss, max_steps, human, studio.model],
                [panel.run, cli])
    panel.wire()

    def sft_choices(path):
        names = runs_of_kind(workspace_of(path), "sft")
        return gr.update(choices=names, value=names[0] if names else None)

    latest.click(user_errors(sft_choices), studio.workspace, sft_run)
    studio.on_workspace_change(lambda path: [sft_choices(path), panel.choices(path)], [sft_run, panel.run])
