"""``python -m pipeline``: one subcommand per step, each with ``--help`` and ``--json``.

Every command is a function ``run(args, log) -> dict``. The dict is the command's summary: with
``--json`` it is printed as the last line of stdout (and human-readable progress goes to stderr),
otherwise it is printed as ``key: value`` lines. A :class:`UserError` prints ``error: ...`` on one
line and exits with code 2 (with ``--json`` the last stdout line is ``{"ok": false, "error": ...}``).

Each area of the library registers its own commands (``register(subparsers)``) in a module listed in
``COMMAND_MODULES``; ``add_command`` gives them the shared flags.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Callable

from .errors import UserError

COMMAND_MODULES = (
    "pipeline.commands",
    "pipeline.data.cli",
    "pipeline.hub.cli",
    "pipeline.train.cli",
    "pipeline.compare.cli",
    "pipeline.evaluate.cli",
    "pipeline.export.cli",
    "pipeline.voice.cli",
)


def add_command(subparsers, name: str, run: Callable, help: str, description: str | None = None):
    """Add a subcommand with ``--json``; ``run(args, log)`` returns its summary dict."""
    parser = subparsers.add_parser(name, help=help, description=description or help)
    parser.add_argument("--json", action="store_true", help="print a one-line JSON summary last (for scripts)")
    parser.set_defaults(run=run)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pipeline",
        description="VoiceTune: teach an open model to write in one voice (dataset -> SFT -> DPO -> compare -> publish).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        importlib.import_module(module).register(subparsers)
    return parser


def make_logger(to_stderr: bool) -> Callable[..., None]:
    stream = sys.stderr if to_stderr else sys.stdout

    def log(*parts, end="\n"):
        print(*parts, end=end, file=stream, flush=True)

    return log


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    log = make_logger(args.json)
    try:
        summary = args.run(args, log)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        if args.json:
            print(json.dumps({"ok": False, "command": args.command, "error": str(e)}), flush=True)
        return UserError.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps({"ok": True, "command": args.command, **summary}, default=str), flush=True)
    else:
        for key, value in summary.items():
            if not isinstance(value, (dict, list)):
                log(f"{key}: {value}")
    return 0


def add_model_flags(parser: argparse.ArgumentParser, *, four_bit_default: bool = False) -> None:
    """``--model --dtype --device --backend --4bit/--no-4bit``, shared by every command that loads a model."""
    parser.add_argument("--model", default="default",
                        help="'default' (embedded SmolLM2-135M-Instruct), a model folder, or a Hub id [default]")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                        help="weights dtype [auto: bfloat16 on GPU, float32 on CPU]")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="[auto]")
    parser.add_argument("--backend", default="auto", choices=["auto", "hf", "unsloth"],
                        help="auto = Unsloth on a CUDA GPU when installed, else transformers+PEFT [auto]")
    parser.add_argument("--4bit", dest="load_in_4bit", action=argparse.BooleanOptionalAction,
                        default=four_bit_default, help="4-bit NF4 + double quant base weights "
                        f"[{'on' if four_bit_default else 'off'}; Compare/Evaluate/--adapter: as the run trained]")


def load_options(args):
    from .models import LoadOptions

    return LoadOptions(dtype=args.dtype, load_in_4bit=args.load_in_4bit, device=args.device, backend=args.backend)
