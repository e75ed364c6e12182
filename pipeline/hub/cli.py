"""``push``, ``pull`` and ``deploy-space``: the Hub commands (see :mod:`pipeline.hub`).

The token comes from HF_TOKEN or ``hf auth login`` (never a flag: flags end up in shell history and
process lists); the endpoint from HF_ENDPOINT.
"""

from __future__ import annotations

from pathlib import Path

from ..cli import add_command
from .push import PUSH_FLAGS


def register(subparsers) -> None:
    p = add_command(subparsers, "push", run_push, "push a dataset folder or a run's adapter (with its card) to the Hub",
                    description="Push a built dataset (--data) or a training run's adapter (--run) with a card. "
                                "Only changed files are committed; an unchanged folder makes no commit.")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", type=Path, help="a data folder with sft/ and dpo/ JSONL splits and README.md")
    source.add_argument("--run", dest="run_dir", type=Path, help="a run folder (runs/NAME) with adapter/ and config.json")
    p.add_argument("--repo", required=True, help="OWNER/NAME of the dataset or model repo")
    PUSH_FLAGS.add_to(p)

    p = add_command(subparsers, "pull", run_pull, "download an adapter repo into a local run folder",
                    description="Download an adapter repo as a run folder (config.json + adapter/) that Compare "
                                "shows and DPO can start from.")
    p.add_argument("--repo", required=True, help="OWNER/NAME of the adapter repo")
    p.add_argument("--revision", default=None, help="branch, tag or commit id [main]")
    p.add_argument("--out", type=Path, required=True, help="the run folder to create, e.g. runs/pulled-sft")

    p = add_command(subparsers, "deploy-space", run_deploy_space, "deploy this app as a Hugging Face Space (Gradio or Docker)",
                    description="Create or update a Space with this app; users sign in with Hugging Face "
                                "(OAuth) to publish from it.")
    p.add_argument("--repo", required=True, help="OWNER/NAME of the Space")
    p.add_argument("--hardware", default="cpu-basic", help="suggested hardware, e.g. cpu-basic, t4-small [cpu-basic]")
    p.add_argument("--sdk", default="gradio", choices=["gradio", "docker"],
                   help="gradio: app.py on the Gradio image; docker: build the project's Dockerfile, which "
                        "bakes in the default model [gradio]")
    p.add_argument("--private", dest="private", action="store_true", default=True, help="create the Space private [default]")
    p.add_argument("--public", dest="private", action="store_false", help="create the Space public")
    p.add_argument("--cards-dir", type=Path, default=None, help="card templates folder [datasets_cards/]")


def _cards(args) -> dict:
    return {"cards_dir": args.cards_dir} if args.cards_dir else {}


def run_push(args, log) -> dict:
    from .push import push

    result = push(args.repo, PUSH_FLAGS.from_args(args), data_dir=args.data, run_dir=args.run_dir, log=log)
    if not args.json:
        log(f"{'committed ' + result.commit if result.changed else 'unchanged at ' + result.commit}: {result.url}")
    return {"repo": args.repo, **result.as_dict()}


def run_pull(args, log) -> dict:
    from .. import hub
    from ..workspace import Run

    run = Run(hub.pull_adapter(args.repo, args.revision, args.out, log=log))
    source = run.config()["source"]
    return {"repo": args.repo, "url": source["url"], "commit": source["commit"], "out": str(run.path),
            "kind": run.kind, "parent": str(run.parent_path) if run.parent_path else None}


def run_deploy_space(args, log) -> dict:
    from .. import hub

    result = hub.deploy_space(args.repo, args.hardware, sdk=args.sdk, private=args.private, log=log, **_cards(args))
    if not args.json:
        log(f"{'committed ' + result.commit if result.changed else 'unchanged at ' + result.commit}: {result.url}")
    return {"repo": args.repo, "hardware": args.hardware, "sdk": args.sdk, **result.as_dict()}
