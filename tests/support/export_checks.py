"""Checks export tests share: Go's rendering of an Ollama TEMPLATE, a Modelfile's instructions, and an
architecture llama.cpp cannot convert refused with llama.cpp's own message."""

import json
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import UserError
from pipeline.export import ExportSettings, export_run

from .peft_runs import write_run

GO_RENDER = Path(__file__).resolve().parents[1] / "go" / "render_template.go"

def go_render(template: str, messages: list[dict], system: str = "") -> str:
    proc = subprocess.run(["go", "run", str(GO_RENDER)], input=json.dumps({"template": template, "messages": messages,
                                                                          "system": system}),
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout

def modelfile(folder: Path) -> dict:
    """The Modelfile's instructions (TEMPLATE/SYSTEM triple-quoted, the rest one line each)."""
    text, found = (folder / "Modelfile").read_text(), {"PARAMETER": []}
    for key in ("TEMPLATE", "SYSTEM"):
        if f'{key} """' in text:
            found[key] = text.split(f'{key} """', 1)[1].split('"""', 1)[0]
    for line in text.splitlines():
        if line.startswith(("FROM ", "PARAMETER ")):
            key, value = line.split(" ", 1)
            found["PARAMETER"].append(value) if key == "PARAMETER" else found.__setitem__(key, value)
    return found

def refuse_unsupported(tmp_path, model_cls, config, tokenizer, architecture: str) -> None:
    """A LoRA run on a random ``model_cls`` exports to nothing, with llama.cpp's own message naming it."""
    from peft import LoraConfig, get_peft_model

    base = tmp_path / f"tiny-{architecture}"
    model_cls(config).save_pretrained(base)
    tokenizer.save_pretrained(base)
    model = get_peft_model(model_cls.from_pretrained(base),
                           LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    run = write_run(tmp_path / "runs" / "sft-1", "sft", model, base, None, tmp_path / "data")
    with pytest.raises(UserError, match=rf"does not support the architecture {architecture} \(convert_hf_to_gguf.py "
                                        rf"failed; llama.cpp said: .*Model {architecture} is not supported\)"):
        export_run(run, ExportSettings(to="gguf", out=tmp_path / "out"), log=lambda *a, **k: None)
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))
