"""Publish tab: push the dataset and the adapters (with their cards) to the Hugging Face Hub, pull an adapter.

Each button is one `python -m pipeline push|pull` call. The token comes from Sign in with Hugging
Face on a Space (the visitor's own token), else from the token box or the server's HF_TOKEN /
`hf auth login`. It is passed to the call only: never logged, stored or shown back.
"""

from __future__ import annotations

import os

import gradio as gr

from pipeline.errors import UserError

from .common import Studio, cli_box, cli_command, has_dataset, needs, run_pipeline, user_errors, workspace_of


def build(studio: Studio) -> None:
    config = studio.config
    needs("a built dataset and/or a finished SFT or DPO run (with its **Evaluate** results for the model card), "
          "and a Hugging Face token with write access.")
    with gr.Row():
        token = gr.Textbox(label="Hugging Face token (write)", type="password", elem_id="hub-token",
                           placeholder="hf_… (not stored; or sign in on a Space / set HF_TOKEN on the server)",
                           visible=not config.on_space)
        private = gr.Checkbox(value=True, label="Private repos")
    with gr.Row():
        with gr.Column():
            gr.Markdown("### Dataset")
            data_repo = gr.Textbox(label="Dataset repo", placeholder="you/my-voice-data", elem_id="push-data-repo")
            push_data = gr.Button("Push the dataset", variant="primary", elem_id="push-data")
        with gr.Column():
            gr.Markdown("### Adapter")
            run = gr.Dropdown(label="Run to push", choices=[], elem_id="push-run")
            model_repo = gr.Textbox(label="Model repo", placeholder="you/my-voice-dpo", elem_id="push-run-repo")
            combined = gr.Checkbox(value=False, label="Also one combined adapter (base + SFT + DPO as one LoRA)")
            push_run = gr.Button("Push the adapter", variant="primary", elem_id="push-run-button")
    cli = cli_box()
    result = gr.Markdown(elem_id="publish-result")

    def resolve_token(typed: str | None, oauth_token) -> str:
        value = (oauth_token.token if oauth_token is not None else None) or (typed or "").strip() \
            or (None if config.public else os.environ.get("HF_TOKEN"))
        if not value and not config.public:
            from huggingface_hub import get_token

            value = get_token()
        if not value:
            raise UserError("no Hugging Face token: sign in, paste a token with write access, or set HF_TOKEN.")
        return value

    def push(argv: list, typed, oauth_token) -> tuple[str, str]:
        from pipeline.hub import token_scope

        with token_scope(resolve_token(typed, oauth_token)):
            summary = run_pipeline(argv)
        url = summary.get("url") or summary.get("repo_url") or ""
        commit = summary.get("commit") or summary.get("commit_id") or ""
        return f"Pushed to {url}" + (f" (commit `{commit[:10]}`)" if commit else " (no change)"), cli_command(*argv)

    def do_push_data(path, repo, private, typed, oauth_token: gr.OAuthToken | None = None):
        workspace = workspace_of(path)
        if not has_dataset(workspace):
            raise UserError("no dataset in this project: build one in the Dataset tab first.")
        return push(["push", "--data", workspace.data_dir, "--repo", _repo(repo),
                     "--private" if private else "--public"], typed, oauth_token)

    def do_push_run(path, name, repo, combined, private, typed, oauth_token: gr.OAuthToken | None = None):
        if not name:
            raise UserError("no run selected: train one in the SFT or DPO tab first.")
        argv = ["push", "--run", workspace_of(path).run(name).path, "--repo", _repo(repo),
                "--private" if private else "--public"]
        return push(argv + (["--combined"] if combined else []), typed, oauth_token)

    if not config.on_space:  # gr.OAuthToken is only injected where a LoginButton exists
        def strip_oauth(fn):
            def without_oauth(*args):
                return fn(*args, None)
            without_oauth.__name__ = fn.__name__
            return without_oauth
        do_push_data, do_push_run = strip_oauth(do_push_data), strip_oauth(do_push_run)

    push_data.click(user_errors(do_push_data), [studio.workspace, data_repo, private, token], [result, cli],
                    concurrency_id="hub", concurrency_limit=2)
    push_run.click(user_errors(do_push_run), [studio.workspace, run, model_repo, combined, private, token],
                   [result, cli], concurrency_id="hub", concurrency_limit=2)

    def runs(path):
        workspace = workspace_of(path)
        names = [r.name for r in reversed(workspace.runs()) if r.has_adapter()]
        return gr.update(choices=names, value=names[0] if names else None)

    studio.on_workspace_change(runs, [run])


def _repo(repo: str | None) -> str:
    repo = (repo or "").strip()
    if not repo:
        raise UserError("the repo id is empty: type OWNER/NAME, e.g. you/my-voice.")
    return repo
