"""The header: which project (workspace) is open, the base model, the backend and device in use.

Without ``--public`` a visitor picks a project under the root, creates one, or opens the sample
project (seeded with the sample posts). With ``--public`` each visitor gets one private folder,
keyed by their Hugging Face username on a Space (Sign in) or by a random id kept in their browser,
and can neither list nor open anyone else's.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import gradio as gr

from pipeline.models import DEFAULT_SPEC, EMBEDDED, embedded_models_info
from pipeline.workspace import Workspace

from .common import (SAMPLE_PROJECT, AppConfig, Studio, list_projects, new_session_id, open_project,
                     session_workspace, user_errors)


def build(config: AppConfig) -> tuple[Studio, dict]:
    """Lay out the header; returns the Studio the tabs share and the header's own components."""
    gr.Markdown("# VoiceTune studio\nTeach an open model to write in one voice: "
                "**Dataset → SFT → DPO → Compare → Evaluate → Publish**.")
    parts: dict = {}
    with gr.Row(equal_height=True):
        if config.public:
            parts["where"] = gr.Markdown("Your private workspace (nobody else can see it).", elem_id="workspace-name")
            if config.on_space:
                parts["login"] = gr.LoginButton(size="md")
        else:
            parts["project"] = gr.Dropdown(choices=project_choices(config), value=SAMPLE_PROJECT,
                                           label="Project", info=f"a folder under {config.root}",
                                           elem_id="project", scale=2)
            parts["new_name"] = gr.Textbox(label="New project", placeholder="my-voice", scale=2, elem_id="new-project")
            with gr.Column(scale=1, min_width=160):
                parts["create"] = gr.Button("Create", size="sm", elem_id="create-project")
                parts["sample"] = gr.Button("Open the sample project", size="sm", elem_id="open-sample")
        model = gr.Dropdown(choices=list(EMBEDDED), value=DEFAULT_SPEC, allow_custom_value=not config.public,
                            label="Base model", elem_id="base-model", scale=2,
                            info="embedded: " + embedded_models_info()
                                 + ("" if config.public else "; or a Hub id, or a model folder inside the projects "
                                                            "root or the model cache"))
        parts["backend"] = gr.Markdown("Backend: detecting…", elem_id="backend")
    workspace = gr.State(None)
    return Studio(config=config, workspace=workspace, model=model), parts


def wire(demo: gr.Blocks, studio: Studio, parts: dict) -> None:
    """Connect the header's events and the tabs' refreshers (call after every tab is built)."""
    config = studio.config
    refresh_all, outputs = studio.refresh(studio.refreshers, keep_picks=False)
    # What runs as the page opens is quick bookkeeping: no spinner over the tabs while it runs.
    quiet = dict(show_progress="hidden")
    studio.workspace.change(refresh_all, [studio.workspace, *outputs], outputs, queue=False, **quiet)
    demo.load(user_errors(describe_backend), None, parts["backend"], **quiet)
    if not config.public:  # the base is fixed to 'default' on a public server
        demo.load(user_errors(model_choices), None, studio.model, **quiet)
        # The project keeps the base model chosen for it, so a reload (or coming back to it) restores it.
        studio.workspace.change(user_errors(chosen_model), studio.workspace, studio.model, queue=False, **quiet)
        studio.model.change(user_errors(remember_model), [studio.workspace, studio.model], None, queue=False, **quiet)

    if config.public:
        session = gr.BrowserState(None, storage_key="voicetune-session", secret=_session_secret(config.root))

        def open_visitor(session_id, profile: gr.OAuthProfile | None = None):
            # Gradio fills ``profile`` when the visitor signed in with Hugging Face on a Space (else None).
            session_id = session_id if session_id else new_session_id()
            username = profile.username if profile is not None else None
            workspace = session_workspace(config, session_id, username)
            who = f"signed in as **{username}**" if username else "a private session kept in this browser"
            return str(workspace.root), session_id, f"Your private workspace ({who})."

        demo.load(user_errors(open_visitor), session, [studio.workspace, session, parts["where"]], **quiet)
        return

    def pick(name):
        return str(open_project(config, name).root)

    def create(name):
        workspace = open_project(config, (name or "").strip())
        return gr.update(choices=project_choices(config), value=workspace.root.name), ""

    def on_load(name):
        # The page was built when the app started: list the projects made since (a reload keeps them).
        choices = project_choices(config)
        name = name if name in choices else SAMPLE_PROJECT
        return gr.update(choices=choices, value=name), pick(name)

    demo.load(user_errors(on_load), parts["project"], [parts["project"], studio.workspace], **quiet)
    parts["project"].input(user_errors(pick), parts["project"], studio.workspace, api_name="open_project")
    parts["create"].click(user_errors(create), parts["new_name"], [parts["project"], parts["new_name"]]).success(
        user_errors(pick), parts["project"], studio.workspace)
    parts["new_name"].submit(user_errors(create), parts["new_name"], [parts["project"], parts["new_name"]]).success(
        user_errors(pick), parts["project"], studio.workspace)
    parts["sample"].click(lambda: create(SAMPLE_PROJECT)[0], None, parts["project"]).then(
        user_errors(pick), parts["project"], studio.workspace)


def project_choices(config: AppConfig) -> list[str]:
    """The Project dropdown's choices: every project under the root, and the sample."""
    return sorted({*list_projects(config), SAMPLE_PROJECT})


def describe_backend() -> str:
    """The backend and device training will use, and a CUDA problem if any (pipeline.models.device_summary;
    imports torch, so it runs after load)."""
    from pipeline.models import device_summary

    return backend_markdown(device_summary())


def backend_markdown(summary: dict) -> str:
    """The header's backend line for :func:`pipeline.models.device_summary`'s answer, its CUDA problem in bold."""
    label = "Unsloth / GPU" if summary["backend"] == "unsloth" else "HF (transformers + PEFT)"
    text = f"**Backend:** {label} · **device:** {summary['device']}  \n<small>{summary['reason']}</small>"
    if summary["problem"]:
        text += f"  \n**⚠ {summary['problem']}**"
    return text


def model_choices():
    """The base-model picker: 'default', plus on a GPU the Hub presets that fit it (pipeline.gpu_fit).
    The box's value is left as it is: the project's own choice may have been restored meanwhile."""
    from pipeline.gpu import cuda_facts
    from pipeline.gpu_fit import model_choices as choices

    memory = cuda_facts().memory_bytes
    return gr.update(choices=choices(memory[0])) if memory else gr.update()


def chosen_model(path: str | None):
    """The base model the project at ``path`` was last given in the page (unchanged when none yet)."""
    spec = Workspace(path).base_model if path else None
    return spec if spec else gr.skip()


def remember_model(path: str | None, spec: str | None) -> None:
    if path and spec:
        Workspace(path).choose_base_model(spec)


def _session_secret(root: Path) -> str:
    """The key that encrypts the visitor id in the browser; kept under the root so restarts keep sessions."""
    path = root / ".session-secret"
    if not path.is_file():
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return path.read_text().strip()
