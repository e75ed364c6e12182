"""The GPU Space path, tested where a CPU can: CUDA health, T4 precision, backend choice,
Unsloth import order, rank-aware writes, exact 4-bit policies, the CPU check, the memory estimate.

What only a GPU can show (Unsloth training, fp16 on a T4, NCCL) is in bench/gpu/gpu_check.sh.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import run_cli
from support.voice_data import write_voice_data

from pipeline.errors import UserError
from pipeline.gpu import (CudaFacts, auto_dtype, cuda_problem, launch_processes, mixed_precision, pick_backend,
                          wants_unsloth_first)
from pipeline.gpu_fit import GIB, GPU_PRESETS, Arch, Plan, check_fits, estimate_training_memory, suggest_fix
from pipeline.workspace import Run

QUIET = dict(log=lambda *a, **k: None)
ROOT = Path(__file__).resolve().parents[1]
T4 = (7, 5)
A100 = (8, 0)


# ----------------------------------------------------------------------------- 1. CUDA health


def test_a_gpu_that_torch_cannot_use_is_named_with_the_fix():
    old_driver = CudaFacts(torch_cuda="13.0", available=False, nvidia_smi_gpus=["Tesla T4"], driver="570.124.06")
    message = cuda_problem(old_driver)
    assert "nvidia-smi sees 1 GPU(s) (Tesla T4, driver 570.124.06)" in message
    assert "torch.cuda.is_available() is False" in message and "needs driver >= 580" in message
    assert "CPU build" in cuda_problem(CudaFacts(torch_cuda=None, nvidia_smi_gpus=["NVIDIA L4"]))
    assert cuda_problem(CudaFacts(torch_cuda="13.0", available=True, nvidia_smi_gpus=["Tesla T4"])) is None
    assert cuda_problem(CudaFacts(torch_cuda="13.0")) is None  # no GPU at all: nothing is wrong


def test_doctor_reports_cuda_facts_and_problem():
    result = run_cli("doctor", "--skip-model", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["cuda_facts"]["torch_cuda"] == torch.version.cuda
    assert "cuda_problem" in report and report["cuda_problem"] == cuda_problem(CudaFacts(
        torch_cuda=report["cuda_facts"]["torch_cuda"], available=report["cuda_facts"]["available"],
        nvidia_smi_gpus=report["cuda_facts"]["nvidia_smi_gpus"], driver=report["cuda_facts"]["driver"]))


def test_the_header_shows_the_cuda_problem():
    from ui.header import backend_markdown

    facts = CudaFacts(torch_cuda="13.0", available=False, nvidia_smi_gpus=["Tesla T4"], driver="570.124.06")
    summary = {"backend": "hf", "device": "cpu", "reason": "auto: no CUDA GPU", "problem": cuda_problem(facts)}
    text = backend_markdown(summary)
    assert "**Backend:** HF" in text and f"**⚠ {cuda_problem(facts)}**" in text
    assert "⚠" not in backend_markdown({**summary, "problem": None})


# ----------------------------------------------------------------------------- 2. precision


def test_auto_dtype_is_fp16_below_capability_8():
    assert auto_dtype("cuda", T4) == "float16" and auto_dtype("cuda", A100) == "bfloat16"
    assert auto_dtype("cpu", None) == "float32"
    assert mixed_precision("auto", "cuda", T4, cpu_bf16=False) == {"bf16": False, "fp16": True}
    assert mixed_precision("auto", "cuda", A100, cpu_bf16=False) == {"bf16": True, "fp16": False}
    assert mixed_precision("auto", "cpu", None, cpu_bf16=True) == {"bf16": True, "fp16": False}
    assert mixed_precision("float16", "cuda", A100, cpu_bf16=False) == {"bf16": False, "fp16": True}
    assert mixed_precision("float32", "cuda", A100, cpu_bf16=True) == {"bf16": False, "fp16": False}


def test_training_arguments_take_the_mixed_precision_decision(tmp_path):
    from trl import SFTConfig

    from pipeline.models import native_bf16
    from pipeline.train.common import training_arguments
    from pipeline.train.settings import settings_for

    args = training_arguments(SFTConfig, Run(tmp_path / "r"), settings_for("sft", "quick"), "cpu", has_eval=False)
    assert (args.bf16, args.fp16) == (native_bf16("cpu"), False)


# ----------------------------------------------------------------------------- 3-4. backend and import order


def test_only_sft_and_grpo_train_with_unsloth():
    assert pick_backend("auto", "sft", cuda=True, installed=True)[0] == "unsloth"
    assert pick_backend("auto", "grpo", cuda=True, installed=True)[0] == "unsloth"  # generation-bound: fast generate
    assert pick_backend("auto", "grpo", cuda=False, installed=True)[0] == "hf"
    assert pick_backend("auto", "dpo", cuda=True, installed=True)[0] == "hf"
    serve = pick_backend("auto", "serve", cuda=True, installed=True)
    assert serve[0] == "hf" and "4-D masks" in serve[1]  # Compare/Evaluate: no Unsloth patching at inference
    assert pick_backend("auto", "sft", cuda=False, installed=True)[0] == "hf"
    assert pick_backend("hf", "sft", cuda=True, installed=True)[0] == "hf"
    assert pick_backend("auto", "sft", cuda=True, installed=True, processes=2)[0] == "hf"  # Unsloth: multi-GPU beta
    assert pick_backend("unsloth", "sft", cuda=True, installed=True, processes=2)[0] == "unsloth"


def test_unsloth_is_imported_first_only_when_an_sft_or_grpo_run_may_use_it():
    assert wants_unsloth_first("sft", "auto", "auto", cuda_built=True, installed=True)
    assert wants_unsloth_first("grpo", "auto", "auto", cuda_built=True, installed=True)
    assert not wants_unsloth_first("grpo", "auto", "cpu", cuda_built=True, installed=True)
    assert wants_unsloth_first("sft", "unsloth", "cuda", cuda_built=True, installed=True)
    assert not wants_unsloth_first("dpo", "auto", "auto", cuda_built=True, installed=True)
    assert not wants_unsloth_first("sft", "hf", "auto", cuda_built=True, installed=True)
    assert not wants_unsloth_first("sft", "auto", "cpu", cuda_built=True, installed=True)
    assert not wants_unsloth_first("sft", "auto", "auto", cuda_built=False, installed=True)
    assert not wants_unsloth_first("sft", "auto", "auto", cuda_built=True, installed=True, processes=2)


def test_the_train_entry_point_decides_before_transformers_is_imported(tmp_path, tiny_model_dir):
    """Through the real CLI: config.json records what was imported when the Unsloth decision ran (the
    point where `import unsloth` happens on a GPU machine): none of transformers, peft, trl."""
    data = write_voice_data(tmp_path / "data", n_train=4, n_eval=0)
    out = tmp_path / "runs" / "sft"
    result = run_cli("train", "sft", "--data", str(data), "--out", str(out), "--model", str(tiny_model_dir),
                     "--preset", "quick", "--max-steps", "1", "--max-length", "128", "--json")
    assert result.returncode == 0, result.stderr
    config = Run(out).config()
    assert config["import_order"] == {"checked_at": "train entry point", "loaded_before_backend": [],
                                      "unsloth": "not needed"}
    assert config["cuda"]["torch_cuda"] == torch.version.cuda and config["cuda"]["problem"] is None


# ----------------------------------------------------------------------------- 5. multi-GPU


def test_multi_gpu_is_opt_in():
    from pipeline.train.runner import job_command

    assert launch_processes(1, visible=4) == 1  # four GPUs visible, one used unless asked
    assert job_command(None, ["train", "sft"])[1:3] == ["-m", "pipeline"]
    assert "--num_processes" in job_command(None, ["train", "sft"], gpus=2)
    with pytest.raises(UserError, match="only 1 CUDA GPU"):
        launch_processes(2, visible=1)


def test_dpo_pair_cap_counts_every_rank(tmp_path, tiny_model_dir, monkeypatch):
    from pipeline.models import load_tokenizer
    from pipeline.train.dpo import load_pairs
    from pipeline.train.settings import settings_for

    data = write_voice_data(tmp_path / "data", n_train=24, n_eval=0)
    settings = settings_for("dpo", "quick", max_steps=2, batch_size=2, grad_accum=1, max_prompt_length=128)
    tokenizer = load_tokenizer(tiny_model_dir)
    assert len(load_pairs(data, tokenizer, settings, None)[0]) == 4
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert len(load_pairs(data, tokenizer, settings, None)[0]) == 8


@pytest.mark.slow
def test_two_ranks_write_the_run_folder_once(tmp_path, tiny_model_dir):
    """The runner's `--gpus 2` command (`accelerate launch --multi_gpu --num_processes 2`), here on 2 CPU
    processes (accelerate picks MULTI_CPU, gloo, without GPUs): one metrics row per step, one config,
    one adapter, complete checkpoints with both ranks' files; status done."""
    from pipeline.train.runner import job_command

    data = write_voice_data(tmp_path / "data", n_train=8, n_eval=0)
    out = tmp_path / "runs" / "sft-ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = job_command(None, ["train", "sft", "--data", str(data), "--out", str(out), "--model", str(tiny_model_dir),
                                 "--preset", "quick", "--max-steps", "4", "--save-steps", "2", "--max-length", "128"],
                          gpus=2)
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    run = Run(out)
    steps = [row["step"] for row in run.metrics() if "loss" in row]
    assert steps == [1, 2, 3, 4]
    assert run.status()["state"] == "done" and run.has_adapter()
    assert sorted(p.name for p in run.checkpoints_dir.iterdir()) == ["checkpoint-2", "checkpoint-4"]
    assert (run.checkpoints_dir / "checkpoint-4" / "rng_state_1.pth").is_file()  # rank 1's file landed too


# ----------------------------------------------------------------------------- 6. exact 4-bit policies


@pytest.fixture(scope="module")
def four_bit_runs(tmp_path_factory, tiny_model_dir):
    """A 4-bit SFT run and a DPO run on it (hf backend, CPU bitsandbytes NF4)."""
    from pipeline.train.dpo import train_dpo
    from pipeline.train.settings import settings_for
    from pipeline.train.sft import train_sft

    root = tmp_path_factory.mktemp("four-bit")
    data = write_voice_data(root / "data", n_train=8, n_eval=0)
    sft = settings_for("sft", "quick", model=str(tiny_model_dir), load_in_4bit=True, max_steps=3, batch_size=2,
                       max_length=128, learning_rate=2e-2, warmup_ratio=0.0, dtype="float32")
    train_sft(data, root / "runs" / "sft", sft, **QUIET)
    dpo = settings_for("dpo", "quick", max_steps=2, batch_size=2, dtype="float32", learning_rate=5e-2,
                       max_prompt_length=64, max_completion_length=96, warmup_ratio=0.0)
    train_dpo(data, root / "runs" / "dpo", dpo, parent=root / "runs" / "sft", **QUIET)
    return data, Run(root / "runs" / "sft"), Run(root / "runs" / "dpo"), dpo


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def test_dpo_on_a_4bit_parent_is_exact_where_it_is_served(four_bit_runs):
    """reference (TRL: adapter off) == base(4-bit) + SFT, and Compare/Evaluate serve what trained."""
    from peft import PeftModel

    from pipeline.serving.variants import Variants
    from pipeline.train.dpo import build_dpo_trainer, load_policy

    data, sft, dpo, settings = four_bit_runs
    config = dpo.config()
    assert config["sft_merge"] == "float32: base (4-bit NF4, dequantised) + SFT adapter merged in float32"
    ids = torch.arange(3, 40).unsqueeze(0)
    trainer = build_dpo_trainer(data, Run(dpo.path.parent / "probe"), settings, sft, **QUIET).trainer
    with trainer.model.disable_adapter():
        reference = _logits(trainer.model, ids)
    policy, *_ = load_policy(settings, sft, **QUIET)  # what DPO trained from; + its adapter = the trained policy
    trained = _logits(PeftModel.from_pretrained(policy, str(dpo.adapter_dir)), ids)

    variants = Variants.from_run(dpo.path, **QUIET)
    assert variants.load_in_4bit and variants.switch == "stack" and variants.notices == []
    with variants.use("sft") as model:
        served_sft = _logits(model, ids)
    with variants.use("dpo") as model:
        served_dpo = _logits(model, ids)
    scale = reference.abs().max()
    assert (served_sft - reference).abs().max() / scale < 1e-4
    assert (served_dpo - trained).abs().max() / scale < 1e-4
    assert (trained - reference).abs().max() / scale > 1e-3  # DPO moved the policy: the check can fail

    float_base = Variants.from_run(dpo.path, options=__import__("pipeline.models", fromlist=["LoadOptions"])
                                   .LoadOptions(load_in_4bit=False), **QUIET)
    assert "trained on a 4-bit NF4 base" in float_base.notices[0]
    with float_base.use("sft") as model:
        assert (_logits(model, ids) - reference).abs().max() / scale > 1e-3  # why loading as trained matters


def test_merged_push_of_a_4bit_run_is_the_trained_policy(four_bit_runs, tmp_path, tiny_model_dir):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from pipeline.merge import merge_full_model
    from pipeline.train.dpo import load_policy

    _, sft, dpo, settings = four_bit_runs
    merge_full_model(tiny_model_dir, [("sft", sft.adapter_dir), ("dpo", dpo.adapter_dir)], tmp_path / "merged",
                     four_bit=True)
    ids = torch.arange(3, 40).unsqueeze(0)
    merged = _logits(AutoModelForCausalLM.from_pretrained(tmp_path / "merged", dtype=torch.float32), ids)
    policy, *_ = load_policy(settings, sft, **QUIET)
    trained = _logits(PeftModel.from_pretrained(policy, str(dpo.adapter_dir)), ids)
    assert (merged - trained).abs().max() / trained.abs().max() < 1e-4


# ----------------------------------------------------------------------------- 7. "on CPU"


def test_on_cpu_is_decided_by_the_lm_head(default_model_dir):
    """An offloaded embedding (here on the meta device) must not turn the CPU head off."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from pipeline.cpu.lm_head import add_compact_lm_head

    config = LlamaConfig(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=False)
    model = LlamaForCausalLM(config)
    model.model.embed_tokens.to("meta")
    assert next(model.parameters()).device.type == "meta"
    assert add_compact_lm_head(model) is True


# ----------------------------------------------------------------------------- memory estimate and presets


def test_presets_match_their_published_sizes():
    sizes = {p.hub_id: round(p.arch.parameters() / 1e9, 2) for p in GPU_PRESETS}
    assert sizes["Qwen/Qwen2.5-0.5B-Instruct"] == 0.49 and sizes["unsloth/Llama-3.2-1B-Instruct-bnb-4bit"] == 1.24
    assert sizes["unsloth/Qwen2.5-3B-Instruct-bnb-4bit"] == 3.09 and sizes["unsloth/Llama-3.2-3B-Instruct-bnb-4bit"] == 3.21


def test_a_run_that_cannot_fit_is_refused_with_the_fix(tmp_path):
    llama3b = next(p.arch for p in GPU_PRESETS if "Llama-3.2-3B" in p.hub_id)
    t4 = 15 * GIB
    sixteen_bit = Plan(load_in_4bit=False, batch_size=8, max_length=1024)
    assert estimate_training_memory(llama3b, sixteen_bit)["total"] > t4
    fix = suggest_fix(llama3b, sixteen_bit, t4)
    assert fix.startswith("--4bit --gradient-checkpointing")
    config = {"num_hidden_layers": 28, "hidden_size": 3072, "intermediate_size": 8192, "vocab_size": 128256,
              "num_attention_heads": 24, "num_key_value_heads": 8, "tie_word_embeddings": True}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert Arch.from_config(config) == llama3b
    with pytest.raises(UserError, match=r"needs about .* GiB of GPU memory .* Tesla T4 has 15.0 GiB; try --4bit"):
        check_fits(tmp_path / "config.json", sixteen_bit, t4, "Tesla T4")
    assert check_fits(tmp_path / "config.json", Plan(load_in_4bit=True, batch_size=2), t4)["total"] < t4
    tiny_gpu = GIB
    with pytest.raises(UserError, match="no setting makes it fit: pick a smaller model"):
        check_fits(tmp_path / "config.json", sixteen_bit, tiny_gpu)


def test_model_picker_offers_the_presets_that_fit():
    from pipeline.gpu_fit import model_choices, presets_for

    assert model_choices(None) == ["default", "gemma3-270m"]  # CPU: the embedded models (or a folder / Hub id)
    t4 = model_choices(15 * GIB)
    assert t4[0] == "default" and "Qwen/Qwen2.5-0.5B-Instruct" in t4 and "unsloth/Llama-3.2-3B-Instruct-bnb-4bit" in t4
    small = model_choices(6 * GIB)
    assert "unsloth/Llama-3.2-3B-Instruct-bnb-4bit" not in small and "HuggingFaceTB/SmolLM2-360M-Instruct" in small
    assert all(row["fits"] == (row["model"] in t4) for row in presets_for(15 * GIB))
