"""``push --run RUN --gguf``: the run exported for Ollama (GGUF + Modelfile) in a model repo with a card
(``library_name: gguf``, ``base_model``, the quantisation, how to run it with llama.cpp and Ollama).

The token is checked before the export starts, and the upload is :mod:`pipeline.hub`'s idempotent
push (only changed files are committed).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from ..cards import TEMPLATES_DIR, render_card
from ..export.core import ExportSettings, export_run
from ..models import check_repo_id
from .client import connect, push_folder


def push_gguf(run_dir: str | os.PathLike, repo_id: str, *, quant: str = "q8_0", private: bool = True,
              token: str | None = None, base_model: str | None = None, license: str = "apache-2.0",
              cards_dir: Path = TEMPLATES_DIR,
              progress: Callable[[str, float], None] | None = None, log: Callable = print):
    """Export ``run_dir`` as GGUF (``quant``) + Modelfile and push both with a card to ``repo_id``
    (``base_model``: the base's Hub id for the card, when the run trained on a local folder)."""
    from huggingface_hub import ModelCardData

    repo_id = check_repo_id(repo_id)
    settings = ExportSettings(to="ollama", quant=quant, base_model_id=base_model).check()
    api = connect(token, repo_id, "model", log)
    summary = export_run(run_dir, settings, progress=progress, log=log)
    out = Path(summary["out"])
    base_id = summary["base_model_id"]
    kind = summary["kind"]
    metadata = ModelCardData(base_model=base_id, library_name="gguf", license=license, pipeline_tag="text-generation",
                             tags=["gguf", "llama.cpp", "ollama", "voicetune", kind, quant], model_name=repo_id)
    card = render_card("gguf_card.md", templates_dir=cards_dir, metadata=metadata.to_yaml(), repo_id=repo_id,
                       name=repo_id.split("/")[-1].lower(), base_model=base_id or "the base model", kind=kind,
                       quant=quant.upper(), quant_tag=quant.upper(), run_name=Path(summary["run"]).name,
                       gguf=summary["gguf"], size_mb=round((out / summary["gguf"]).stat().st_size / 1e6),
                       end_token=summary["end_tokens"][0], system=summary.get("system_prompt"),
                       llama_version=summary["versions"].get("llama_cpp_python"))
    with tempfile.TemporaryDirectory(prefix="voicetune-push-", dir=out.parent) as tmp:
        staging = Path(tmp)
        for name in (summary["gguf"], "Modelfile"):
            os.link(out / name, staging / name)  # same file system: no copy of a GGUF of gigabytes
        (staging / "README.md").write_text(card, encoding="utf-8")
        return push_folder(api, staging, repo_id, "model", private=private, log=log,
                                title=f"GGUF {quant.upper()} of {kind.upper()} run {Path(summary['run']).name}")
