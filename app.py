"""VoiceTune studio: one Gradio app over ``pipeline/``, a tab per step.

    python app.py [--host 127.0.0.1] [--port 7860] [--share] [--public] [--root ./projects]

``--share`` asks Gradio for a public link; ``--public`` gives each visitor a private workspace
(their Hugging Face username on a Space, a browser session otherwise), caps uploads, dataset size
and training steps, and hides the free choice of model and project folder. torch and transformers
are imported only when a tab first needs them, so the page is up in seconds.
"""

from __future__ import annotations

import argparse
import os
import signal
from pathlib import Path

import gradio as gr

from ui import compare_tab, dataset_tab, dpo_tab, evaluate_tab, export_tab, grpo_tab, header, publish_tab, sft_tab
from ui.common import AppConfig

TABS = (
    ("Dataset", dataset_tab),
    ("SFT", sft_tab),
    ("DPO", dpo_tab),
    ("GRPO", grpo_tab),
    ("Compare", compare_tab),
    ("Evaluate", evaluate_tab),
    ("Publish", publish_tab),
    ("Export", export_tab),
)
MISSING_TRANSLATIONS = gr.I18n(en={"common.complete": "Complete", "common.upload": "Upload"})
"""Keys Gradio 6.31's own pages use that its English strings lack (the status announced to screen readers
when an event ends, the upload button): without these the raw keys show in the page."""
CSS = """
.needs p { margin: 0; padding: 6px 10px; border-left: 3px solid var(--color-accent); background: var(--block-background-fill); }
footer { display: none !important; }
.cli textarea { font-family: var(--font-mono); font-size: 0.85em; }
"""


def build_app(config: AppConfig) -> gr.Blocks:
    """The whole studio: header, then the tabs in workflow order."""
    with gr.Blocks(title="VoiceTune studio") as demo:
        studio, parts = header.build(config)
        with gr.Tabs(elem_id="steps") as tabs:
            studio.tabs = tabs
            for label, module in TABS:
                before = len(studio.refreshers)
                with gr.Tab(label, id=label.lower(), elem_id=f"tab-{label.lower()}") as tab:
                    module.build(studio)
                # opening a tab picks up what other tabs made meanwhile (a dataset, a finished run)
                refresh, outputs = studio.refresh(studio.refreshers[before:], keep_picks=True)
                tab.select(refresh, [studio.workspace, *outputs], outputs, queue=False, show_progress="hidden")
        header.wire(demo, studio, parts)
    return demo


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    on_space = bool(os.environ.get("SPACE_ID"))
    parser = argparse.ArgumentParser(description="VoiceTune studio (Gradio).")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="interface to listen on [127.0.0.1; 0.0.0.0 in Docker and on a Space]")
    parser.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), help="[7860]")
    parser.add_argument("--share", action="store_true", help="ask Gradio for a public share link")
    parser.add_argument("--public", action=argparse.BooleanOptionalAction, default=on_space,
                        help="a private workspace per visitor, capped uploads/datasets/steps [on on a Space]")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("VOICETUNE_PROJECTS", "projects")),
                        help="folder holding the projects (workspaces) [./projects or $VOICETUNE_PROJECTS]")
    parser.add_argument("--max-upload-mb", type=int, default=50, help="largest accepted upload [50; 5 with --public]")
    parser.add_argument("--compare-concurrency", type=int, default=int(os.environ.get("VOICETUNE_COMPARE_CONCURRENCY", "4")),
                        help="Compare generations running at once; others queue with their position shown [4]")
    return parser.parse_args(argv)


def app_config(args: argparse.Namespace) -> AppConfig:
    """The studio's settings from its flags (the projects root made absolute and created)."""
    config = AppConfig(root=args.root.expanduser().resolve(), public=args.public, max_upload_mb=args.max_upload_mb,
                       compare_concurrency=args.compare_concurrency)
    config.root.mkdir(parents=True, exist_ok=True)
    return config


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    config = app_config(args)
    demo = build_app(config)
    # Events run one at a time unless they say otherwise (training starts, builds, evaluations are
    # heavy); Compare's generation sets its own, higher limit. Visitors see their queue position.
    demo.queue(default_concurrency_limit=1, max_size=64 if config.public else None)
    # In a container the app is PID 1, for which SIGTERM (`docker stop`, a restart) has no default action:
    # close the server and exit 0 on it, at whatever point of the launch it arrives, instead of being
    # killed ten seconds later.
    def stop(signum, frame):
        demo.close()
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=False,
                max_file_size=f"{config.upload_limit_mb}mb", css=CSS, footer_links=[], i18n=MISSING_TRANSLATIONS)


if __name__ == "__main__":
    main()
