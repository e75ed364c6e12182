"""Export a run for other runtimes: a merged transformers folder, GGUF (llama.cpp, LM Studio), an
Ollama Modelfile, a vLLM LoRA folder; see :mod:`pipeline.export.core`."""

from .core import MANIFEST, TARGETS, ExportSettings, export_run
from .gguf import QUANTS

__all__ = ["MANIFEST", "QUANTS", "TARGETS", "ExportSettings", "export_run"]
