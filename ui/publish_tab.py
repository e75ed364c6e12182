"""Publish tab: push the dataset and the adapters (with their cards) to the Hugging Face Hub, pull an adapter.

Each button is one call into ``pipeline.hub`` (what `python -m pipeline push|pull|deploy-space` runs); a push
runs the ``PushSettings`` its boxes make (``ui/knobs.py``), the same call as the ``push`` command.
The token is the visitor's own: Sign in with Hugging Face on a Space, else the token box, else (not
with ``--public``) the server's HF_TOKEN / `hf auth login`. It is handed to the call only: never
logged, stored or shown back.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from pipeline.errors import UserError
from pipeline.hub.push import PUSH_FLAGS, PushSettings
from pipeline.models import check_repo_id

from .common import Studio, cli_box, cli_command, has_dataset, needs, quiet, user_errors, workspace_of
from .knobs import Knobs, settings_from_boxes

HARDWARE = ["cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "a10g-small", "a10g-large", "a100-large"]


def push_settings(values: dict) -> PushSettings:
    """The settings a push button runs: the boxes' ``values`` (by field name) over the defaults."""
    return settings_from_boxes(PUSH_FLAGS, None, values)


def push_command(source: str, path: Path, repo: str, settings: PushSettings) -> list:
    """``python -m pipeline push --data|--run PATH`` to ``repo`` with ``settings``."""
    return ["push", source, path, "--repo", repo, *PUSH_FLAGS.argv(settings)]


def build(studio: Studio) -> None:
    config = studio.config
    needs("a built dataset and/or a finished SFT or DPO run (with its **Evaluate** results for the model card), "
          "and a Hugging Face token with write access.")
    knobs = Knobs(PUSH_FLAGS)
    boxes = _boxes(config, knobs)
    cli = cli_box("publish-cli")
    result = gr.Markdown(elem_id="publish-result")

    def user_token(typed: str | None, oauth_token) -> str | None:
        """The visitor's token; None lets pipeline.hub use the server's (never in public mode)."""
        value = (oauth_token.token if oauth_token is not None else None) or (typed or "").strip() or None
        if value is None and config.public:
            raise UserError("no Hugging Face token: sign in with Hugging Face or paste a token with write access.")
        return value

    def pushed(result, argv) -> tuple[str, str]:
        state = f"new commit `{result.commit[:10]}`" if result.changed else f"unchanged (still `{result.commit[:10]}`)"
        return f"**Pushed** to [{result.url}]({result.url}): {state}", cli_command(*argv)

    def do_push_data(path, repo, typed, oauth_token: gr.OAuthToken | None = None, *values):
        from pipeline.hub.push import push

        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise UserError("no dataset in this project: build one in the Dataset tab first.")
        repo = check_repo_id(repo)
        settings = push_settings({"private": knobs.named(values)["private"]})  # the run's options are not the data's
        result = push(repo, settings, data_dir=workspace.data_dir, token=user_token(typed, oauth_token), log=quiet)
        return pushed(result, push_command("--data", workspace.data_dir, repo, settings))

    def do_push_run(path, name, repo, typed, oauth_token: gr.OAuthToken | None = None, *values):
        from pipeline.hub.push import push

        if not name:
            raise UserError("no finished run to push: train one in the SFT or DPO tab first.")
        run_dir = workspace_of(path).run(name).path
        repo = check_repo_id(repo)
        settings = push_settings(knobs.named(values))
        result = push(repo, settings, run_dir=run_dir, token=user_token(typed, oauth_token), log=quiet)
        return pushed(result, push_command("--run", run_dir, repo, settings))

    def do_pull(path, repo, revision, typed, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        workspace = workspace_of(path)
        repo = check_repo_id(repo)
        out = workspace.runs_dir / workspace.new_run_name("pulled-" + repo.split("/")[-1][:40])
        hub.pull_adapter(repo, (revision or "").strip() or None, out, token=user_token(typed, oauth_token), log=quiet)
        argv = ["pull", "--repo", repo, "--revision", (revision or "").strip() or None, "--out", out]
        return (f"**Pulled** `{repo}` into `runs/{out.name}`: pick it in Compare or as DPO's SFT run.",
                cli_command(*argv))

    def do_deploy(repo, hardware, typed, private, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        if config.public:
            raise UserError("deploying a Space is off on a shared server: run `python -m pipeline deploy-space` locally.")
        repo = check_repo_id(repo)
        result = hub.deploy_space(repo, hardware, token=user_token(typed, oauth_token), private=private, log=quiet)
        return pushed(result, ["deploy-space", "--repo", repo, "--hardware", hardware,
                               "--private" if private else "--public"])

    # On a Space, Gradio fills the gr.OAuthToken parameter with the signed-in visitor's token (else None).
    do_push_data, do_push_run, do_pull, do_deploy = map(user_errors, (do_push_data, do_push_run, do_pull, do_deploy))
    hub_call = dict(concurrency_id="hub", concurrency_limit=2)
    b, ws, out = boxes, studio.workspace, [result, cli]
    b["push_data"].click(do_push_data, [ws, b["data_repo"], b["token"], *knobs.components], out, **hub_call)
    b["push_run"].click(do_push_run, [ws, b["run"], b["model_repo"], b["token"], *knobs.components], out, **hub_call)
    b["pull"].click(do_pull, [ws, b["pull_repo"], b["pull_revision"], b["token"]], out, **hub_call)
    b["deploy"].click(do_deploy, [b["space_repo"], b["hardware"], b["token"], knobs.boxes["private"]], out, **hub_call)

    def runs(path):
        workspace = workspace_of(path)
        names = [r.name for r in reversed(workspace.runs()) if r.has_adapter()]
        return gr.update(choices=names, value=names[0] if names else None)

    studio.on_workspace_change(runs, [b["run"]])
    b["run"].focus(user_errors(runs), studio.workspace, b["run"], queue=False)


def _boxes(config, knobs: Knobs) -> dict:
    """The token, the push settings' boxes (``knobs``) and the repo boxes and buttons of each action, by name."""
    boxes = {}
    with gr.Row(equal_height=True):
        boxes["token"] = gr.Textbox(label="Hugging Face token (write access)", type="password", elem_id="hub-token",
                                    scale=3, placeholder="hf_… used for this click only, never stored"
                                    + ("" if config.public else "; empty = the server's HF_TOKEN / hf auth login"))
        knobs.add("private", gr.Checkbox, label="Private repos", scale=1)
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Dataset")
            boxes["data_repo"] = gr.Textbox(label="Dataset repo", placeholder="you/my-voice-data", elem_id="push-data-repo")
            boxes["push_data"] = gr.Button("Push the dataset", variant="primary", elem_id="push-data")
        with gr.Column():
            gr.Markdown("### Adapter")
            boxes["run"] = gr.Dropdown(label="Run to push", choices=[], elem_id="push-run")
            boxes["model_repo"] = gr.Textbox(label="Model repo", placeholder="you/my-voice-dpo", elem_id="push-run-repo")
            knobs.add("combined", gr.Checkbox, label="Also one combined adapter (SFT + DPO as one LoRA, DPO runs)")
            boxes["push_run"] = gr.Button("Push the adapter", variant="primary", elem_id="push-run-button")
        with gr.Column():
            gr.Markdown("### Pull an adapter")
            boxes["pull_repo"] = gr.Textbox(label="Adapter repo", placeholder="someone/their-voice-dpo", elem_id="pull-repo")
            boxes["pull_revision"] = gr.Textbox(label="Revision (optional)", placeholder="main")
            boxes["pull"] = gr.Button("Pull into this project", elem_id="pull-button")
    with gr.Accordion("Deploy this app as a Space", open=False, visible=not config.public), gr.Row():
        boxes["space_repo"] = gr.Textbox(label="Space repo", placeholder="you/voicetune")
        boxes["hardware"] = gr.Dropdown(HARDWARE, value="t4-small", label="Suggested hardware")
        boxes["deploy"] = gr.Button("Deploy")
    return boxes
