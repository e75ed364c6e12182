"""``python -m pipeline train KIND`` (one command per kind in ``settings.KINDS``), ``train sweep-beta``
and ``python -m pipeline runs``."""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

from ..cli import add_command
from .flags import add_settings_flags, settings_from_args
from .settings import KINDS, RunKind


def register(subparsers) -> None:
    train = subparsers.add_parser("train", help="train an adapter (runs in the foreground)",
                                  description="QLoRA SFT, DPO on top of it, and beta sweeps.")
    sub = train.add_subparsers(dest="train_command", metavar="KIND", required=True)

    for kind in KINDS.values():
        p = add_command(sub, kind.name, functools.partial(run_training, kind), kind.about)
        _run_flags(p, kind.name)
        if kind.parent:
            named = " or ".join(k.upper() for k in kind.parents)
            p.add_argument(kind.parent_option, dest="parent", default=None, metavar="RUN",
                           help=f"the {named} run folder to start from (without it: the base model)")

    p = add_command(sub, "sweep-beta", run_sweep, "train DPO at several betas on the same data and tabulate them")
    _run_flags(p, "dpo", out_help="folder for the sweep's runs (one per beta) and sweep.json")
    p.add_argument("--sft", default=None, help="the SFT run folder to start from")
    p.add_argument("--betas", default="0.05,0.1,0.3,0.5", help="comma-separated betas [0.05,0.1,0.3,0.5]")

    p = add_command(subparsers, "runs", run_runs, "list a workspace's runs and their status")
    p.add_argument("--workspace", default=".", help="the project folder holding runs/ [.]")


def _run_flags(p, kind: str, out_help: str = "the run folder to create (or resume)") -> None:
    p.add_argument("--data", default=None, help="data folder with sft/ and dpo/ JSONL (not needed with --resume)")
    p.add_argument("--out", required=True, help=out_help)
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--then-dispatch", default=None, help=argparse.SUPPRESS)  # start the workspace's next job
    add_settings_flags(p, kind)


def _require_data(args) -> None:
    from ..errors import UserError

    if not args.resume and not args.data:
        raise UserError("--data is required (a folder with sft/ and dpo/ JSONL), unless you pass --resume.")


def _then_dispatch(args) -> None:
    from ..gpu import is_main_process

    if args.then_dispatch and is_main_process():  # under accelerate launch: one rank starts the next job
        from .runner import dispatch

        dispatch(args.then_dispatch)


def _unsloth_first(kind: str, args, settings) -> None:
    """Import unsloth before anything imports transformers/peft/trl when this run may use it (its
    patches apply only then). Runs before the trainer module (and TRL with it) is imported."""
    from ..gpu import import_unsloth_first
    from ..workspace import Run

    if settings is None:  # --resume: the run's own recorded settings
        run = Run(Path(args.out).resolve())
        recorded = run.config().get("settings", {}) if run.config_path.exists() else {}
        backend, device = recorded.get("backend", "auto"), recorded.get("device", "auto")
    else:
        backend, device = settings.backend, settings.device
    import_unsloth_first(kind, backend, device)


def run_training(kind: RunKind, args, log) -> dict:
    _require_data(args)
    try:
        settings = None if args.resume else settings_from_args(kind.name, args)
        _unsloth_first(kind.name, args, settings)
        train = kind.trainer()
        return train(args.data, args.out, settings, parent=getattr(args, "parent", None), resume=args.resume, log=log)
    finally:
        _then_dispatch(args)


def run_sweep(args, log) -> dict:
    from ..errors import UserError
    from .sweep import sweep_beta

    _require_data(args)
    try:
        betas = [float(b) for b in args.betas.split(",") if b.strip()]
    except ValueError:
        raise UserError(f"--betas {args.betas!r}: use comma-separated numbers like 0.05,0.1,0.3.") from None
    settings = settings_from_args("dpo", args)
    result = sweep_beta(args.data, Path(args.out), args.sft, settings, betas, log=log)
    if not args.json:
        log(result["table"])
    return result


def run_runs(args, log) -> dict:
    from ..errors import UserError
    from .runner import list_runs

    if not Path(args.workspace).is_dir():
        raise UserError(f"{args.workspace}: no such project folder; pass --workspace with the folder that holds runs/.")
    runs = list_runs(args.workspace)
    if not args.json:
        for r in runs:
            progress = f"{r['step']}/{r['max_steps']}" if r.get("max_steps") else str(r.get("step") or "")
            log(f"{r['name']:24} {r['kind'] or '?':4} {r['state']:10} {progress:10} {r.get('error') or ''}")
    return {"workspace": str(Path(args.workspace).resolve()), "runs": runs}
