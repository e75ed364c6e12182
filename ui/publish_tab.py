"""Publish tab: push the dataset and the adapters (with their cards) to the Hugging Face Hub, pull an adapter.

Each button is one call into ``pipeline.hub`` (what `python -m pipeline push|pull|deploy-space` runs).
The token is the visitor's own: Sign in with Hugging Face on a Space, else the token box, else (not
with ``--public``) the server's HF_TOKEN / `hf auth login`. It is handed to the call only: never
logged, stored or shown back.
"""

from __future__ import annotations

import gradio as gr

from pipeline.errors import UserError

from .common import Studio, cli_box, cli_command, has_dataset, needs, quiet, user_errors, workspace_of

HARDWARE = ["cpu-basic", "cpu-upgrade", "t4-small", "t4-medium", "l4x1", "a10g-small", "a10g-large", "a100-large"]


def build(studio: Studio) -> None:
    config = studio.config
    needs("a built dataset and/or a finished SFT or DPO run (with its **Evaluate** results for the model card), "
          "and a Hugging Face token with write access.")
    with gr.Row(equal_height=True):
        token = gr.Textbox(label="Hugging Face token (write access)", type="password", elem_id="hub-token", scale=3,
                           placeholder="hf_… used for this click only, never stored"
                                       + ("" if config.public else "; empty = the server's HF_TOKEN / hf auth login"))
        private = gr.Checkbox(value=True, label="Private repos", scale=1)
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Dataset")
            data_repo = gr.Textbox(label="Dataset repo", placeholder="you/my-voice-data", elem_id="push-data-repo")
            push_data = gr.Button("Push the dataset", variant="primary", elem_id="push-data")
        with gr.Column():
            gr.Markdown("### Adapter")
            run = gr.Dropdown(label="Run to push", choices=[], elem_id="push-run")
            model_repo = gr.Textbox(label="Model repo", placeholder="you/my-voice-dpo", elem_id="push-run-repo")
            combined = gr.Checkbox(value=False, label="Also one combined adapter (SFT + DPO as one LoRA, DPO runs)")
            push_run = gr.Button("Push the adapter", variant="primary", elem_id="push-run-button")
        with gr.Column():
            gr.Markdown("### Pull an adapter")
            pull_repo = gr.Textbox(label="Adapter repo", placeholder="someone/their-voice-dpo", elem_id="pull-repo")
            pull_revision = gr.Textbox(label="Revision (optional)", placeholder="main")
            pull = gr.Button("Pull into this project", elem_id="pull-button")
    with gr.Accordion("Deploy this app as a Space", open=False, visible=not config.public):
        with gr.Row():
            space_repo = gr.Textbox(label="Space repo", placeholder="you/voicetune")
            hardware = gr.Dropdown(HARDWARE, value="t4-small", label="Suggested hardware")
            deploy = gr.Button("Deploy")
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

    def do_push_data(path, repo, private, typed, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise UserError("no dataset in this project: build one in the Dataset tab first.")
        repo = hub.check_repo_id(repo)
        result = hub.push_dataset(workspace.data_dir, repo, private=private, token=user_token(typed, oauth_token),
                                  log=quiet)
        return pushed(result, ["push", "--data", workspace.data_dir, "--repo", repo, "--private" if private else "--public"])

    def do_push_run(path, name, repo, combined, private, typed, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        if not name:
            raise UserError("no finished run to push: train one in the SFT or DPO tab first.")
        run_dir = workspace_of(path).run(name).path
        repo = hub.check_repo_id(repo)
        result = hub.push_run(run_dir, repo, combined=combined, private=private, token=user_token(typed, oauth_token),
                              log=quiet)
        return pushed(result, ["push", "--run", run_dir, "--repo", repo, "--private" if private else "--public",
                               "--combined" if combined else None])

    def do_pull(path, repo, revision, typed, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        workspace = workspace_of(path)
        repo = hub.check_repo_id(repo)
        out = workspace.runs_dir / workspace.new_run_name("pulled-" + repo.split("/")[-1][:40])
        hub.pull_adapter(repo, (revision or "").strip() or None, out, token=user_token(typed, oauth_token), log=quiet)
        argv = ["pull", "--repo", repo, "--revision", (revision or "").strip() or None, "--out", out]
        return (f"**Pulled** `{repo}` into `runs/{out.name}`: pick it in Compare or as DPO's SFT run.",
                cli_command(*argv))

    def do_deploy(repo, hardware, private, typed, oauth_token: gr.OAuthToken | None = None):
        from pipeline import hub

        if config.public:
            raise UserError("deploying a Space is off on a shared server: run `python -m pipeline deploy-space` locally.")
        repo = hub.check_repo_id(repo)
        result = hub.deploy_space(repo, hardware, token=user_token(typed, oauth_token), private=private, log=quiet)
        return pushed(result, ["deploy-space", "--repo", repo, "--hardware", hardware,
                               "--private" if private else "--public"])

    # On a Space, Gradio fills the gr.OAuthToken parameter with the signed-in visitor's token (else None).
    do_push_data, do_push_run, do_pull, do_deploy = map(user_errors, (do_push_data, do_push_run, do_pull, do_deploy))
    hub_call = dict(concurrency_id="hub", concurrency_limit=2)
    push_data.click(do_push_data, [studio.workspace, data_repo, private, token], [result, cli], **hub_call)
    push_run.click(do_push_run, [studio.workspace, run, model_repo, combined, private, token], [result, cli], **hub_call)
    pull.click(do_pull, [studio.workspace, pull_repo, pull_revision, token], [result, cli], **hub_call)
    deploy.click(do_deploy, [space_repo, hardware, private, token], [result, cli], **hub_call)

    def runs(path):
        workspace = workspace_of(path)
        names = [r.name for r in reversed(workspace.runs()) if r.has_adapter()]
        return gr.update(choices=names, value=names[0] if names else None)

    studio.on_workspace_change(runs, [run])
    run.focus(user_errors(runs), studio.workspace, run, queue=False)

