"""Export a run for other runtimes: a merged transformers folder, GGUF (llama.cpp, LM Studio), an
Ollama Modelfile, a vLLM LoRA folder; see :mod:`pipeline.export.core`."""

from .core import EXPORT_FLAGS, MANIFEST, TARGETS, ExportSettings, export_run
from .gguf import QUANTS

__all__ = ["EXPORT_FLAGS", "MANIFEST", "QUANTS", "TARGETS", "ExportSettings", "export_run"]
