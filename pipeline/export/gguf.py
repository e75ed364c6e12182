"""GGUF files with llama.cpp's own tools: ``convert_hf_to_gguf.py`` (a merged model folder -> f16
GGUF), ``convert_lora_to_gguf.py`` (a PEFT adapter -> LoRA GGUF) and llama.cpp's quantiser.

The scripts come from the ``llama-cpp-python`` sdist (it vendors llama.cpp), unpacked by
``make llama`` into ``.cache/llama/llama.cpp-VERSION/`` next to the ``gguf-py`` they ship with:
they put that copy first on ``sys.path`` themselves, and they need it (the registry's
``gguf==0.19.0`` lacks what this llama.cpp's converter uses). ``make llama`` also builds and
installs ``llama-cpp-python`` itself, whose quantiser and loader run in a child process
(:mod:`pipeline.export.llama_worker`).
"""

from __future__ import annotations

import errno
import importlib.metadata
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable

from ..errors import UserError

LLAMA_CPP_PYTHON = "0.3.36"
"""The llama-cpp-python release whose sdist ``make llama`` builds (and whose llama.cpp we convert with)."""
BUILD_COMMAND = "make llama"
DIR_ENV = "VOICETUNE_LLAMA_CPP_DIR"
PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUANTS = ("f16", "q8_0", "q4_k_m")
_PERCENT = re.compile(r"(\d+)%\|")
_DISK_FULL = re.compile(r"No space left on device|ENOSPC|\d+ requested and \d+ written")
"""How a full disk shows in a tool's output (numpy's tofile reports a short write as "N requested and M written")."""


def scripts_dir() -> Path:
    """Where the converters are: ``$VOICETUNE_LLAMA_CPP_DIR``, else ``.cache/llama/llama.cpp-VERSION``."""
    return Path(os.environ.get(DIR_ENV) or PROJECT_ROOT / ".cache" / "llama" / f"llama.cpp-{LLAMA_CPP_PYTHON}")


def require_llama_cpp() -> Path:
    """The converters' folder, after checking llama.cpp is built and installed; UserError saying how otherwise."""
    folder = scripts_dir()
    try:
        installed = importlib.metadata.version("llama_cpp_python")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed is None or not (folder / "convert_hf_to_gguf.py").is_file():
        what = "llama-cpp-python is not installed" if installed is None else f"{folder / 'convert_hf_to_gguf.py'} is missing"
        raise UserError(f"llama.cpp is not built ({what}): run `{BUILD_COMMAND}` once (it builds llama-cpp-python "
                        f"{LLAMA_CPP_PYTHON} from its sdist, about 6 minutes on 2 cores, and unpacks llama.cpp's "
                        "converters into .cache/llama/), then export again.")
    return folder


def _run(argv: list[str], what: str, progress: Callable[[float], None] | None = None) -> str:
    """Run a llama.cpp tool; its progress bar goes to ``progress`` (0-1). Failures: a full disk is
    ``OSError(ENOSPC)``, anything else a UserError with the tool's own last error line."""
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path})
    chunks, line = [], b""
    while True:
        byte = proc.stdout.read(1)
        if not byte or byte in b"\r\n":
            text = line.decode("utf-8", "replace")
            chunks.append(text)
            match = _PERCENT.search(text)
            if progress and match:
                progress(int(match.group(1)) / 100)
            line = b""
            if not byte:
                break
        else:
            line += byte
    output = "\n".join(c for c in chunks if c.strip())
    if proc.wait() != 0:
        if _DISK_FULL.search(output):
            raise OSError(errno.ENOSPC, "No space left on device")
        lines = [c.strip() for c in chunks if c.strip() and not _PERCENT.search(c)]
        said = next((c for c in reversed(lines) if "error" in c.lower() or "not supported" in c.lower()),
                    lines[-1] if lines else f"exit code {proc.returncode}")
        raise UserError(f"{what} failed; llama.cpp said: {said[:300]}")
    return output


def convert_model(model_dir: Path, out_file: Path, progress: Callable[[float], None] | None = None) -> Path:
    """``convert_hf_to_gguf.py`` on a model folder: an f16 GGUF with the tokenizer and chat template."""
    folder = require_llama_cpp()
    architecture = (json.loads((model_dir / "config.json").read_text()).get("architectures") or ["?"])[0]
    try:
        _run([sys.executable, str(folder / "convert_hf_to_gguf.py"), str(model_dir), "--outtype", "f16",
              "--outfile", str(out_file)], "convert_hf_to_gguf.py", progress)
    except UserError as e:
        if "is not supported" in str(e):
            raise UserError(f"llama.cpp's converter does not support the architecture {architecture} ({str(e)}); "
                            "use a base model llama.cpp supports (Llama, Qwen, Mistral, Gemma, Phi, SmolLM, ...), or "
                            "export --to merged or --to vllm.") from None
        raise
    return out_file


def convert_lora(adapter_dir: Path, base_dir: Path, out_file: Path) -> Path:
    """``convert_lora_to_gguf.py``: a PEFT LoRA as a LoRA GGUF (f16) for llama.cpp's ``--lora``."""
    folder = require_llama_cpp()
    _run([sys.executable, str(folder / "convert_lora_to_gguf.py"), "--base", str(base_dir), "--outtype", "f16",
          "--outfile", str(out_file), str(adapter_dir)], "convert_lora_to_gguf.py")
    return out_file


def quantize(source: Path, target: Path, quant: str) -> Path:
    """llama.cpp's quantiser (in a child process): ``q8_0`` or ``q4_k_m`` from an f16 GGUF."""
    require_llama_cpp()
    _run([sys.executable, "-m", "pipeline.export.llama_worker", "quantize", str(source), str(target), quant],
         f"llama.cpp quantisation to {quant}")
    if not target.is_file():
        raise UserError(f"llama.cpp quantisation to {quant} wrote no {target.name}; see the messages above.")
    return target


def inspect(path: Path, token_ids: list[int]) -> dict:
    """What llama.cpp itself reads from a GGUF (loaded vocabulary-only, in a child process)."""
    require_llama_cpp()
    output = _run([sys.executable, "-m", "pipeline.export.llama_worker", "inspect", str(path), *map(str, token_ids)],
                  f"loading {path.name} in llama.cpp")
    return json.loads(next(line for line in reversed(output.splitlines()) if line.startswith("{")))
