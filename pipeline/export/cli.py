"""``python -m pipeline export``: a run as GGUF, an Ollama model, a merged model folder or a vLLM adapter."""

from __future__ import annotations

from pathlib import Path

from ..cli import add_command


def register(subparsers) -> None:
    from .core import EXPORT_FLAGS
    from .gguf import BUILD_COMMAND

    p = add_command(subparsers, "export", run_export, "export a run as GGUF, an Ollama Modelfile, a merged model or a vLLM adapter",
                    description="Export a run's policy (a DPO run: base + SFT + DPO; an SFT run: base + SFT). "
                                f"gguf and ollama need llama.cpp, built once by `{BUILD_COMMAND}`.")
    p.add_argument("--run", dest="run_dir", type=Path, required=True, help="a run folder (runs/NAME)")
    EXPORT_FLAGS.add_to(p)


def run_export(args, log) -> dict:
    from .core import EXPORT_FLAGS, export_run

    return export_run(args.run_dir, EXPORT_FLAGS.from_args(args), log=log)
