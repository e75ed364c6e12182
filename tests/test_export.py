"""Export: merged folder, GGUF in a real llama.cpp, the Ollama Modelfile rendered by Go's
text/template, the vLLM adapter folder, the GGUF push, and bad input.

llama.cpp is the one ``make llama`` builds (llama-cpp-python from its sdist); Go is Debian's
``golang-go`` (``make go``). The runs are real LoRAs on the tiny model (tests/support/peft_runs.py's
loop): ``sft-1`` trained until it repeats the training posts, ``dpo-1`` on top of it. The
default model's checks (q8_0 token agreement, clean stops) are in test_export_default.py (slow).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import last_json, run_cli
from support.ada_data import SYSTEM, write_data
from support.greedy import PROMPTS, assert_alike, chat_ids, hf_greedy
from support.export_checks import go_render, modelfile, refuse_unsupported
from support.peft_runs import train_lora, write_run
from support.trained_runs import ONE_THREAD_ENV

from pipeline.errors import UserError
from pipeline.export import ExportSettings, export_run
from pipeline.merge import plain_byte_level

quiet = lambda *a, **k: None  # noqa: E731


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_model_dir) -> dict:
    """``sft-1``: 300 steps on the 12 training posts, so greedy decoding has clear winners on a random
    base (the shared fixture's 24-step runs leave near-ties everywhere); ``dpo-1``: 24 DPO steps on top."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    root = tmp_path_factory.mktemp("export-project")
    data = write_data(root / "data")
    rows = [json.loads(line) for line in (data / "dpo" / "train.jsonl").read_text().splitlines()]
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        sft = train_lora(AutoModelForCausalLM.from_pretrained(tiny_model_dir), tokenizer, rows, kind="sft", steps=300,
                         seed=1)
        sft_dir = write_run(root / "runs" / "sft-1", "sft", sft, tiny_model_dir, None, data)
        dpo = train_lora(sft.merge_and_unload(), tokenizer, rows, kind="dpo", steps=24, seed=2)
        dpo_dir = write_run(root / "runs" / "dpo-1", "dpo", dpo, tiny_model_dir, sft_dir, data)
    finally:
        torch.set_num_threads(threads)
    return {"sft": sft_dir, "dpo": dpo_dir, "base": tiny_model_dir}


@pytest.fixture(scope="module")
def exports(runs, tmp_path_factory) -> dict:
    """The DPO run exported once per target: merged, GGUF f16 (+ LoRA GGUF), Ollama (q8_0 GGUF), vLLM."""
    root = tmp_path_factory.mktemp("exports")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        done = {}
        for key, settings in {"merged": ExportSettings(to="merged"), "f16": ExportSettings(to="gguf", quant="f16"),
                              "ollama": ExportSettings(to="ollama", quant="q8_0"),
                              "vllm": ExportSettings(to="vllm")}.items():
            done[key] = export_run(runs["dpo"], ExportSettings(**{**settings.__dict__, "out": root / key}), log=quiet)
    finally:
        torch.set_num_threads(threads)
    return done


def test_merged_folder_reloads_with_the_logits_of_base_plus_adapters(exports, runs, one_thread):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.merge import _load_stacked

    out = Path(exports["merged"]["out"])
    merged = AutoModelForCausalLM.from_pretrained(out)  # plain transformers, no PEFT
    base = json.loads((runs["sft"] / "config.json").read_text())["base_model_path"]
    stacked = _load_stacked(Path(base), [("sft", runs["sft"] / "adapter"), ("dpo", runs["dpo"] / "adapter")])
    tokenizer = AutoTokenizer.from_pretrained(out)
    ids = torch.tensor([chat_ids(tokenizer, PROMPTS[0])])
    with torch.no_grad():
        a, b = merged(ids).logits, stacked(ids).logits
    assert (a - b).abs().max() < 1e-4  # float32 merge: rounding only (measured ~1e-6)
    assert a.abs().max() > 1  # the adapters moved the logits (a random base alone is near-flat)
    assert tokenizer.eos_token == "<|im_end|>" and tokenizer.pad_token == "<|im_end|>"
    generation = json.loads((out / "generation_config.json").read_text())
    assert generation["eos_token_id"][0] == tokenizer.convert_tokens_to_ids("<|im_end|>")
    assert exports["merged"]["end_tokens"][0] == "<|im_end|>"
    assert exports["merged"]["system_prompt"] == SYSTEM  # every training example had it


def test_the_rewritten_tokenizer_encodes_and_decodes_like_the_original(exports, runs, tmp_path):
    from transformers import AutoTokenizer

    base = json.loads((runs["sft"] / "config.json").read_text())["base_model_path"]
    original = AutoTokenizer.from_pretrained(base)
    assert json.loads((Path(base) / "tokenizer.json").read_text())["model"]["byte_fallback"]  # as transformers wrote it
    rewritten = AutoTokenizer.from_pretrained(exports["merged"]["out"])
    texts = ["I got hiring wrong for 3 years.\n\n- I asked the team.\n- Small fix. Big week. 🚀",
             "Ünïcode façade — naïve café, 日本語, tabs\tand  double  spaces", "<|im_start|>user\nhi<|im_end|>\n"]
    for text in texts:
        assert rewritten(text)["input_ids"] == original(text)["input_ids"]
    every_id = [[i] for i in range(len(original))]
    assert rewritten.batch_decode(every_id) == original.batch_decode(every_id)
    copy = tmp_path / "tokenizer.json"
    shutil.copyfile(Path(exports["merged"]["out"]) / "tokenizer.json", copy)
    assert plain_byte_level(copy) is False  # already plain: left alone


@pytest.mark.parametrize("quant", ["f16", "q8_0"])
def test_llama_cpp_continues_like_the_merged_model(exports, quant, one_thread):
    """5 chat-templated prompts, greedy, 20 new tokens, on this 64-wide random model (its logits span
    about +-0.7): the first 16 tokens are the same, or the two part at a near-tie, where the merged
    model's logits for the two tokens are within 0.001 (f16) or 0.01 (q8_0). Measured: f16 agreed on
    all 20 tokens on a CPU without AVX512-BF16; on one with it, one prompt parted at a tie of 8e-5.
    q8_0 parted at ties of 8e-5 to 0.0063."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.export.llama_worker import greedy

    summary = exports["f16" if quant == "f16" else "ollama"]
    gguf = Path(summary["out"]) / summary["gguf"]
    assert gguf.name.endswith(f"-{quant.upper()}.gguf")
    assert summary["llama_cpp"]["tokenizer"] == "gpt2" and summary["llama_cpp"]["architecture"] == "llama"
    merged_dir = Path(exports["merged"]["out"])
    model, tokenizer = AutoModelForCausalLM.from_pretrained(merged_dir), AutoTokenizer.from_pretrained(merged_dir)
    end_ids = tokenizer.convert_tokens_to_ids(summary["end_tokens"])
    for prompt in PROMPTS:
        ids = chat_ids(tokenizer, prompt)
        expected = hf_greedy(model, ids, 20, end_ids)
        got, _ = greedy(str(gguf), ids, 20, end_ids, threads=1)
        assert_alike(model, ids, expected, got, near_tie=0.01 if quant == "q8_0" else 0.001)


def test_lora_gguf_on_the_base_gguf_continues_like_the_merged_model(exports, runs, tmp_path, one_thread):
    """The LoRA GGUF (SFT + DPO joined) applied by llama.cpp to the base model's own GGUF."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from pipeline.export.gguf import convert_model
    from pipeline.export.llama_worker import greedy

    summary = exports["f16"]
    base = Path(json.loads((runs["sft"] / "config.json").read_text())["base_model_path"])
    plain = tmp_path / "base"
    shutil.copytree(base, plain)
    plain_byte_level(plain / "tokenizer.json")
    base_gguf = convert_model(plain, tmp_path / "base-F16.gguf")
    merged_dir = Path(exports["merged"]["out"])
    model, tokenizer = AutoModelForCausalLM.from_pretrained(merged_dir), AutoTokenizer.from_pretrained(merged_dir)
    end_ids = tokenizer.convert_tokens_to_ids(summary["end_tokens"])
    for prompt in PROMPTS[:3]:
        ids = chat_ids(tokenizer, prompt)
        got, _ = greedy(str(base_gguf), ids, 20, end_ids, threads=1, lora=str(Path(summary["out"]) / summary["lora_gguf"]))
        expected = hf_greedy(model, ids, 20, end_ids)
        assert_alike(model, ids, expected, got, near_tie=None)


def test_modelfile_template_renders_the_hf_chat_template_in_go(exports):
    from transformers import AutoTokenizer

    out = Path(exports["ollama"]["out"])
    tokenizer = AutoTokenizer.from_pretrained(exports["merged"]["out"])
    found = modelfile(out)
    assert found["FROM"] == f"./{exports['ollama']['gguf']}" and (out / exports["ollama"]["gguf"]).is_file()
    assert found["SYSTEM"] == SYSTEM
    assert 'stop "<|im_end|>"' in found["PARAMETER"] and "temperature 0.7" in found["PARAMETER"]
    conversation = [{"role": "system", "content": 'Ada {{ .System }} says "hi" \\ é'},
                    {"role": "user", "content": "Write a post about hiring."},
                    {"role": "assistant", "content": "I got hiring wrong.\n\n- Small fix.\n"},
                    {"role": "user", "content": "Now one about pricing."},
                    {"role": "assistant", "content": "Charge more."},
                    {"role": "user", "content": "And burnout?"}]
    assert go_render(found["TEMPLATE"], conversation) == tokenizer.apply_chat_template(
        conversation, tokenize=False, add_generation_prompt=True)
    # No system message: Ollama puts the Modelfile's SYSTEM first; without one, the template's default system
    assert go_render(found["TEMPLATE"], conversation[1:], found["SYSTEM"]) == tokenizer.apply_chat_template(
        [{"role": "system", "content": SYSTEM}] + conversation[1:], tokenize=False, add_generation_prompt=True)
    assert go_render(found["TEMPLATE"], conversation[1:]) == tokenizer.apply_chat_template(
        conversation[1:], tokenize=False, add_generation_prompt=True)


def test_vllm_folder_is_one_exact_adapter_with_its_serve_line(exports, runs, one_thread):
    from peft import PeftModel
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM

    from pipeline.merge import _load_stacked

    out = Path(exports["vllm"]["out"])
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "adapter_config.json", "adapter_model.safetensors",
                                                      "voicetune_export.json"]
    config = json.loads((out / "adapter_config.json").read_text())
    with safe_open(str(out / "adapter_model.safetensors"), "pt") as f:
        weighted = {key.split(".lora_")[0].rsplit(".", 1)[-1] for key in f.keys()}
    assert sorted(config["target_modules"]) == sorted(weighted)
    assert config["r"] == 16 and not config.get("modules_to_save")  # SFT r8 + DPO r8, concatenated
    readme = (out / "README.md").read_text()
    assert f"--enable-lora --lora-modules voice=./{out.name} --max-lora-rank 16" in readme
    base = json.loads((runs["sft"] / "config.json").read_text())["base_model_path"]
    assert config["base_model_name_or_path"] == base  # a local base: no Hub id to name (the README says so)
    ids = torch.arange(1, 40).unsqueeze(0)
    with torch.no_grad():
        alone = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base), str(out))(ids).logits
        stacked = _load_stacked(Path(base), [("sft", runs["sft"] / "adapter"),
                                             ("dpo", runs["dpo"] / "adapter")])(ids).logits
    assert (alone - stacked).abs().max() < 1e-4


def test_export_cli_and_bad_input(runs, tmp_path):
    proc = run_cli("export", "--run", str(runs["sft"]), "--to", "gguf", "--quant", "q3", "--json", env=ONE_THREAD_ENV)
    assert proc.returncode == 2 and "unknown quantisation 'q3': use one of f16, q8_0, q4_k_m" in last_json(proc.stdout)["error"]

    empty = tmp_path / "runs" / "sft-2"
    empty.mkdir(parents=True)
    (empty / "config.json").write_text(json.dumps({"kind": "sft", "name": "sft-2", "base_model": "default"}))
    with pytest.raises(UserError, match=r"sft-2/adapter: the run has no adapter \(state: none\); finish or resume"):
        export_run(empty, ExportSettings(to="merged"), log=quiet)

    stranger = tmp_path / "mine"
    stranger.mkdir()
    (stranger / "notes.txt").write_text("keep me")
    with pytest.raises(UserError, match=r"mine exists and is not a VoiceTune export"):
        export_run(runs["sft"], ExportSettings(to="vllm", out=stranger), log=quiet)
    assert (stranger / "notes.txt").read_text() == "keep me"


def test_llama_cpp_not_built_says_how_to_build_it(runs, tmp_path, monkeypatch):
    monkeypatch.setenv("VOICETUNE_LLAMA_CPP_DIR", str(tmp_path / "nothing"))
    with pytest.raises(UserError, match=r"llama.cpp is not built .*: run `make llama` once"):
        export_run(runs["sft"], ExportSettings(to="gguf", out=tmp_path / "out"), log=quiet)
    assert not (tmp_path / "out").exists()  # refused before any merging


def test_unsupported_architecture_names_it_and_llama_cpp_says_why(tmp_path, default_model_dir, one_thread):
    """OPT: transformers has it, llama.cpp's converter does not."""
    from transformers import AutoTokenizer, OPTConfig, OPTForCausalLM

    tokenizer = AutoTokenizer.from_pretrained(default_model_dir)
    config = OPTConfig(vocab_size=len(tokenizer), hidden_size=32, ffn_dim=64, num_hidden_layers=1,
                       num_attention_heads=2, word_embed_proj_dim=32, max_position_embeddings=64)
    refuse_unsupported(tmp_path, OPTForCausalLM, config, tokenizer, "OPTForCausalLM")


def test_disk_full_while_writing_leaves_nothing_half_written(runs, tmp_path, one_thread):
    """A real ENOSPC: the export goes to a 15 MiB tmpfs, which the merged f16 weights (10 MB) fit and the GGUF (+8 MB)
    does not, so llama.cpp's converter hits the full disk."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=15m", "tmpfs", str(disk)], check=True)
    try:
        (disk / "old").mkdir()
        export_run(runs["sft"], ExportSettings(to="vllm", out=disk / "old"), log=quiet)  # an earlier export
        before = sorted(p.name for p in (disk / "old").iterdir())
        with pytest.raises(UserError, match=r"disk full while writing the export to .*old; nothing was left there"):
            export_run(runs["sft"], ExportSettings(to="gguf", quant="f16", out=disk / "old"), log=quiet)
        assert sorted(p.name for p in disk.iterdir()) == ["old"]  # no temp folder left behind
        assert sorted(p.name for p in (disk / "old").iterdir()) == before  # the earlier export intact
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_push_gguf_uploads_the_gguf_and_modelfile_with_a_gguf_card(hub, runs):
    from huggingface_hub import HfApi, ModelCard

    proc = run_cli("push", "--run", str(runs["sft"]), "--gguf", "--quant", "q8_0", "--repo", "alice/ada-gguf",
                   "--base-model", "HuggingFaceTB/SmolLM2-135M-Instruct", "--json", env=ONE_THREAD_ENV)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert last_json(proc.stdout)["changed"]
    assert set(HfApi().list_repo_files("alice/ada-gguf")) - {".gitattributes"} == {"Modelfile", "README.md",
                                                                                "sft-1-Q8_0.gguf"}
    card = ModelCard.load("alice/ada-gguf")
    assert card.data.library_name == "gguf" and card.data.base_model == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert {"gguf", "q8_0", "sft"} <= set(card.data.tags)
    assert "ollama run hf.co/alice/ada-gguf:Q8_0" in card.text and "llama-cli -hf alice/ada-gguf:Q8_0" in card.text
    assert "quantised to **Q8_0**" in card.text and "`<|im_end|>`" in card.text
