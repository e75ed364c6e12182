"""``export_run``: a run's policy (base + SFT [+ DPO]) as files other runtimes serve.

* ``merged``: the merged model folder (:mod:`.merge`), for transformers with no PEFT.
* ``gguf``: that folder converted by llama.cpp (f16) and quantised (``q8_0`` / ``q4_k_m``), plus the
  run's adapter as a LoRA GGUF for users who keep their base GGUF (:mod:`.gguf`).
* ``ollama``: the GGUF and a ``Modelfile`` (:mod:`.ollama`).
* ``vllm``: one LoRA folder and a README with the ``vllm serve`` line (:mod:`.vllm`).

The output folder is built in a temp sibling and renamed when complete (a full disk or a failure
leaves no half-written export, and a previous export stays as it was). A GGUF is checked by
loading it in llama.cpp: its chat template must be the model's and every end token must end
generation there. ``voicetune_export.json`` records what was exported and how long it took.
"""

from __future__ import annotations

import errno
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from ..errors import UserError
from ..flags import SettingsFlags
from ..fsio import atomic_dir, atomic_write_json, atomic_write_text
from ..models import package_versions
from .gguf import QUANTS
from .source import ExportSource, resolve_source

TARGETS = ("gguf", "ollama", "merged", "vllm")
MANIFEST = "voicetune_export.json"


@dataclass(frozen=True)
class ExportSettings:
    """What to export and where."""

    to: str = "gguf"
    """``gguf`` (llama.cpp, LM Studio), ``ollama`` (GGUF + Modelfile), ``merged`` (a transformers model
    folder) or ``vllm`` (one LoRA adapter folder + README)."""
    quant: str = "q8_0"
    """GGUF weights: ``f16`` (no loss), ``q8_0`` (half the size, near-lossless) or ``q4_k_m`` (a quarter,
    some loss). Only for ``gguf`` / ``ollama``."""
    out: Path | None = None
    """The folder to write (default RUN/exports/TO-QUANT for gguf/ollama, RUN/exports/TO otherwise); replaced
    as a whole if it holds an earlier export, refused if it holds anything else."""
    lora_gguf: bool = True
    """``gguf``: also write the run's adapter (SFT + DPO joined) as a LoRA GGUF."""
    base_model_id: str | None = None
    """The base model's Hub id for ``vllm`` (needed when the run trained on a local folder)."""

    def check(self) -> "ExportSettings":
        if self.to not in TARGETS:
            raise UserError(f"unknown export target {self.to!r}: use one of {', '.join(TARGETS)}.")
        if self.quant not in QUANTS:
            raise UserError(f"unknown quantisation {self.quant!r}: use one of {', '.join(QUANTS)} "
                            "(f16 = no loss, q8_0 = near-lossless, q4_k_m = smallest).")
        return self

    def out_dir(self, source: ExportSource) -> Path:
        if self.out is not None:
            return Path(self.out).expanduser().resolve()
        name = f"{self.to}-{self.quant}" if self.to in ("gguf", "ollama") else self.to
        return source.run_dir / "exports" / name


EXPORT_FLAGS = SettingsFlags(ExportSettings, names={"base_model_id": "base-model"}, choices={"to": TARGETS})
"""``python -m pipeline export``'s flags (and the Export tab's command)."""


def gguf_name(source: ExportSource, quant: str) -> str:
    return f"{source.name}-{quant.upper()}.gguf"


def export_run(run_dir: str | Path, settings: ExportSettings = ExportSettings(),
               progress: Callable[[str, float], None] | None = None, log: Callable = print) -> dict:
    """Export ``run_dir`` as ``settings`` says; returns the summary (also written as voicetune_export.json)."""
    from . import gguf

    settings.check()
    start = time.perf_counter()

    def step(message: str, fraction: float) -> None:
        log(message)
        if progress:
            progress(message, fraction)

    source = resolve_source(run_dir, settings.base_model_id, log=log)
    if settings.to in ("gguf", "ollama"):
        gguf.require_llama_cpp()  # before the minutes of merging, not after
    out = settings.out_dir(source)
    _check_out(out)
    step(f"Exporting {source.name} ({' + '.join(['base'] + [n for n, _ in source.adapters])}) as {settings.to}...", 0.02)
    try:
        with atomic_dir(out) as tmp:
            work = tmp / ".work"
            work.mkdir()
            summary = _export(source, settings, tmp, work, out, step)
            shutil.rmtree(work)
            summary.update(out=str(out), files=sorted(p.name for p in tmp.iterdir()) + [MANIFEST],
                           seconds=round(time.perf_counter() - start, 1))
            atomic_write_json(tmp / MANIFEST, summary)
    except Exception as e:
        if _disk_full(e):
            raise UserError(f"disk full while writing the export to {out}; nothing was left there (the export is built "
                            "in a temp folder and renamed when complete): free some space and export again.") from None
        raise
    step(f"Exported to {out} in {summary['seconds']:.0f} s.", 1.0)
    return summary


def _disk_full(error: BaseException) -> bool:
    """ENOSPC, also as safetensors' Rust writer reports it (not an OSError)."""
    return (isinstance(error, OSError) and error.errno == errno.ENOSPC) or any(
        text in str(error) for text in ("No space left on device", "StorageFull"))


def _check_out(out: Path) -> None:
    """Only an earlier export (or an empty or new folder) may be replaced."""
    if out.is_file() or (out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file()):
        raise UserError(f"{out} exists and is not a VoiceTune export (no {MANIFEST}); pick a new --out folder "
                        "(an export replaces the folder as a whole).")


def _export(source: ExportSource, settings: ExportSettings, tmp: Path, work: Path, out: Path, step) -> dict:
    from . import gguf
    from ..merge import write_runtime_model

    summary = {"run": str(source.run_dir), "kind": source.kind, "to": settings.to,
               "base_model": source.base_id or source.base_spec, "base_model_id": source.base_id,
               "adapters": [name for name, _ in source.adapters],
               "settings": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(settings).items()},
               "versions": package_versions(("llama_cpp_python", "transformers", "peft", "torch"))}
    if settings.to == "vllm":
        from .vllm import write_vllm

        step("Writing the adapter for vLLM...", 0.1)
        return {**summary, **write_vllm(source, tmp, work, out.name)}
    fmt = None
    if settings.to == "ollama":
        from transformers import AutoTokenizer

        from ..chat_template import turn_format

        fmt = turn_format(AutoTokenizer.from_pretrained(str(source.base_path)))  # an unusable template fails first
    step("Merging the adapters into the base weights...", 0.05)
    merged = tmp if settings.to == "merged" else work / "merged"
    # The GGUF is made from f16 weights either way (llama.cpp quantises from f16): an f16 intermediate
    # rounds exactly as the converter would, with half the bytes to write and read.
    stops = write_runtime_model(source.base_path, list(source.adapters), merged, four_bit=source.four_bit,
                                dtype=None if settings.to == "merged" else _float16())
    summary.update(end_tokens=stops, system_prompt=source.system)
    if settings.to == "merged":
        return summary
    step("Converting to GGUF with llama.cpp (convert_hf_to_gguf.py)...", 0.35)
    f16 = work / gguf_name(source, "f16")
    gguf.convert_model(merged, f16, lambda f: step(f"Converting to GGUF: {f:.0%}", 0.35 + 0.35 * f))
    model_file = tmp / gguf_name(source, settings.quant)
    if settings.quant == "f16":
        f16.rename(model_file)
    else:
        step(f"Quantising to {settings.quant} with llama.cpp...", 0.72)
        gguf.quantize(f16, model_file, settings.quant)
    step("Loading the GGUF in llama.cpp to check its template and end tokens...", 0.88)
    summary.update(gguf=model_file.name, llama_cpp=_check_gguf(model_file, merged, stops))
    if settings.to == "gguf" and settings.lora_gguf:
        step("Converting the adapter to a LoRA GGUF (convert_lora_to_gguf.py)...", 0.9)
        summary["lora_gguf"] = _lora_gguf(source, tmp, work).name
    if settings.to == "ollama":
        from ..generation import SamplingSettings
        from .ollama import modelfile_text

        atomic_write_text(tmp / "Modelfile", modelfile_text(model_file.name, fmt, stops, source.system, SamplingSettings()))
        summary["ollama"] = f"ollama create {source.name} -f Modelfile"
    return summary


def _check_gguf(path: Path, merged: Path, stops: list[str]) -> dict:
    """Load ``path`` in llama.cpp: its chat template must be the model's, and its eos the end-of-turn token,
    which must end generation there. (Further end tokens are Modelfile stop strings; llama.cpp may not
    treat them as ends of generation, and needs not.)"""
    from transformers import AutoTokenizer

    from . import gguf

    tokenizer = AutoTokenizer.from_pretrained(str(merged))
    ids = tokenizer.convert_tokens_to_ids(stops)
    facts = gguf.inspect(path, ids[:1])
    problems = []
    if facts["chat_template"] != tokenizer.chat_template:
        problems.append("its chat template is not the model's")
    if facts["eos"] != ids[0]:
        problems.append(f"its eos token is id {facts['eos']}, not the end-of-turn token {stops[0]} (id {ids[0]})")
    if not facts["end_of_generation"][str(ids[0])]:
        problems.append(f"{stops[0]} does not end generation")
    if problems:
        raise UserError(f"{path.name} loads in llama.cpp but {'; '.join(problems)}; please report this with the run's "
                        "base model.")
    return {"architecture": facts["architecture"], "tokenizer": facts["tokenizer"], "eos": facts["eos"], "eot": facts["eot"]}


def _lora_gguf(source: ExportSource, tmp: Path, work: Path) -> Path:
    from ..merge import combine_adapters
    from . import gguf

    adapters = [path for _, path in source.adapters]
    adapter = adapters[0]
    if len(adapters) == 2:
        adapter = work / "combined"
        combine_adapters(source.base_path, adapters[0], adapters[1], adapter)
    return gguf.convert_lora(adapter, source.base_path, tmp / f"{source.name}-lora-F16.gguf")


def _float16():
    import torch

    return torch.float16
