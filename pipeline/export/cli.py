"""``python -m pipeline export``: a run as GGUF, an Ollama model, a merged model folder or a vLLM adapter."""

from __future__ import annotations

from pathlib import Path

from ..cli import add_command


def register(subparsers) -> None:
    from .core import TARGETS, ExportSettings
    from .gguf import BUILD_COMMAND, QUANTS

    d = ExportSettings()
    p = add_command(subparsers, "export", run_export, "export a run as GGUF, an Ollama Modelfile, a merged model or a vLLM adapter",
                    description="Export a run's policy (a DPO run: base + SFT + DPO; an SFT run: base + SFT). "
                                f"gguf and ollama need llama.cpp, built once by `{BUILD_COMMAND}`.")
    p.add_argument("--run", dest="run_dir", type=Path, required=True, help="a run folder (runs/NAME)")
    p.add_argument("--to", choices=TARGETS, default=d.to,
                   help="gguf (llama.cpp / LM Studio, + a LoRA GGUF), ollama (GGUF + Modelfile), merged (transformers "
                        f"folder), vllm (one LoRA folder + README) [{d.to}]")
    p.add_argument("--quant", default=d.quant, help=f"GGUF weights: {', '.join(QUANTS)} [{d.quant}]")
    p.add_argument("--out", type=Path, default=None, help="folder to write [RUN/exports/TO-QUANT, or RUN/exports/TO]")
    p.add_argument("--no-lora-gguf", dest="lora_gguf", action="store_false",
                   help="gguf: skip the LoRA GGUF of the adapter")
    p.add_argument("--base-model", dest="base_model_id", default=None,
                   help="Hub id of the base model, for vllm when the run trained on a local folder")


def run_export(args, log) -> dict:
    from .core import ExportSettings, export_run

    settings = ExportSettings(to=args.to, quant=args.quant, out=args.out, lora_gguf=args.lora_gguf,
                              base_model_id=args.base_model_id)
    return export_run(args.run_dir, settings, log=log)
