"""VoiceTune GPU-path check helpers, run by bench/gpu/gpu_check.sh from the repo root (see its README).

Each subcommand is one step; it prints what it found and exits non-zero on a failed check.
GC_WORK (work folder), GC_TOK (a tokenizer folder), GC_EXPECT (the backend `auto` must pick for SFT:
unsloth on a GPU, hf with --cpu-steps) and GC_SMALL=1 (a smaller model for CPU steps) steer it.
"""
import json
import math
import os
import sys
import time
from pathlib import Path

W = Path(os.environ.get("GC_WORK", "/tmp/gc"))
EXPECT = os.environ.get("GC_EXPECT", "unsloth")


def prep():
    """A small random Llama with the default model's tokenizer, and a data folder."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    sys.path.insert(0, "tests")
    from support.ada_data import dpo_rows, sft_rows

    from pipeline.fsio import atomic_write_jsonl

    tok_dir = os.environ.get("GC_TOK")
    if not tok_dir:
        from pipeline.models import ensure_default_model

        tok_dir = str(ensure_default_model())
    tok = AutoTokenizer.from_pretrained(tok_dir)
    small = os.environ.get("GC_SMALL") == "1"
    cfg = LlamaConfig(vocab_size=len(tok), bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                      pad_token_id=tok.pad_token_id, hidden_size=64 if small else 256,
                      intermediate_size=128 if small else 512, num_hidden_layers=2 if small else 4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=2048,
                      tie_word_embeddings=True)
    torch.manual_seed(0)
    model = LlamaForCausalLM(cfg)
    model.config.architectures = ["LlamaForCausalLM"]
    model.save_pretrained(W / "tiny")
    tok.save_pretrained(W / "tiny")
    d = W / "data"
    atomic_write_jsonl(d / "sft/train.jsonl", sft_rows(48))
    atomic_write_jsonl(d / "sft/validation.jsonl", sft_rows(8, 48))
    atomic_write_jsonl(d / "dpo/train.jsonl", dpo_rows(48))
    atomic_write_jsonl(d / "dpo/validation.jsonl", dpo_rows(8, 48))
    atomic_write_jsonl(d / "dpo/test.jsonl", dpo_rows(8, 56))
    print("prep ok", W)


def probe():
    """Versions, CUDA facts, the decisions pipeline.gpu takes from them."""
    import importlib.metadata as md

    import torch

    from pipeline.gpu import auto_dtype, device_capability, mixed_precision
    from pipeline.models import device_summary

    summary = device_summary()
    print(json.dumps(summary, default=str))
    if torch.cuda.is_available():
        cap = device_capability("cuda")
        print("gpu", torch.cuda.get_device_name(0), cap, "bf16(emulation counts)", torch.cuda.is_bf16_supported(),
              "auto dtype", auto_dtype("cuda", cap), "mixed precision", mixed_precision("auto", "cuda", cap, False))
    for p in ("unsloth", "unsloth_zoo", "trl", "transformers", "peft", "accelerate", "bitsandbytes", "datasets",
              "triton", "xformers", "torch"):
        try:
            print(p, md.version(p))
        except md.PackageNotFoundError:
            print(p, "MISSING")
    assert "unsloth" not in sys.modules, "device_summary imported unsloth (the web process must not)"
    assert summary["backend"] == EXPECT, f"auto backend for SFT is {summary['backend']}, expected {EXPECT}"
    assert summary["problem"] is None, summary["problem"]


def runner_sft(four_bit="1", steps="12"):
    """The Space's real path: runner.start_job -> child `python -m pipeline train sft ... --then-dispatch`."""
    from pipeline.train.runner import job_command, job_status, start_job
    from pipeline.train.settings import settings_for
    from pipeline.workspace import Workspace

    steps = int(steps)
    ws = Workspace(W / "ws")
    s = settings_for("sft", "quick", model=str(W / "tiny"), load_in_4bit=four_bit == "1", max_steps=steps,
                     save_steps=max(1, steps // 2))
    run = start_job(ws, "sft", s, data_dir=W / "data", name="sft-gpu")
    print("command:", job_command(run, ["train", "sft"]))
    t0 = time.time()
    while time.time() - t0 < 300:
        st = job_status(run)
        if st["state"] not in ("queued", "running"):
            break
        time.sleep(2)
    log = (run.path / "log.txt").read_text()
    print("status", json.dumps(st))
    print(log[-3000:])
    cfg = json.loads((run.path / "config.json").read_text())
    rows = [json.loads(line) for line in (run.path / "metrics.jsonl").read_text().splitlines() if line.strip()]
    got = [r["step"] for r in rows if "loss" in r]
    print("backend", cfg["backend"], "import_order", cfg["import_order"], "cuda", cfg["cuda"], "steps", got)
    assert st["state"] == "done", st
    assert cfg["backend"]["name"] == EXPECT, cfg["backend"]
    assert cfg["import_order"]["loaded_before_backend"] == [], cfg["import_order"]
    if EXPECT == "unsloth":
        assert cfg["import_order"]["unsloth"] == "imported first", cfg["import_order"]
        assert "Unsloth should be imported before" not in log
    assert (run.path / "adapter/adapter_model.safetensors").is_file()
    assert got == list(range(1, steps + 1)) and all(math.isfinite(r["loss"]) for r in rows if "loss" in r), got


def infer(out):
    """Compare + Evaluate in one process on the DPO run: hf backend, base loaded as trained; margins
    batched (one row per pair, 4-D mask) and per pair must agree; SFT column == DPO's reference."""
    import torch

    from pipeline.evaluate.margins import encode_pairs, reward_margins
    from pipeline.fsio import read_jsonl
    from pipeline.serving.variants import Variants
    from pipeline.generation import SamplingSettings

    v = Variants.from_run(str(W / "ws/runs/dpo-gpu"))
    print("variants", json.dumps(v.describe(), default=str))
    assert v.backend.name == "hf" and v.notices == [], (v.backend, v.notices)
    res = {"backend": v.backend.name, "load_in_4bit": v.load_in_4bit, "gen": {}, "pair": {}, "per_pair": {}}
    pairs = encode_pairs(v.tokenizer, read_jsonl(W / "data/dpo/test.jsonl"), 256)
    pad = v.tokenizer.pad_token_id or 0
    for col in v.columns:
        text, stats = v.generate(col, "Write a post about hiring.", SamplingSettings(max_new_tokens=16, temperature=0))
        res["gen"][col] = [text, stats.new_tokens, round(stats.tokens_per_s, 1)]
        with v.use(col) as model:
            for key, per in (("pair", False), ("per_pair", True)):
                res[key][col] = reward_margins(model, pairs, per_pair=per, pad_id=pad, precision="float32")
    bad = []
    for col in v.columns:
        diff = max(abs(p - q) for p, q in zip(res["pair"][col], res["per_pair"][col]))
        print(f"{col}: max |batched - per pair| margin {diff:.5f}")
        if diff > 0.05:
            bad.append(f"{col} batched vs per-pair differ by {diff:.3f}")
    Path(out).write_text(json.dumps(res))
    print(json.dumps(res)[:3000])
    assert not bad, bad
    del torch


def unsloth_scoring(out):
    """Report only: does Unsloth's patched forward take the pair scorer's 4-D mask? (Serving uses hf.)"""
    from pipeline.evaluate.margins import encode_pairs, reward_margins
    from pipeline.fsio import read_jsonl
    from pipeline.models import LoadOptions, load_model

    model, tok, _, _ = load_model(str(W / "tiny"), LoadOptions(backend="unsloth", load_in_4bit=True),
                                        purpose="sft")
    pairs = encode_pairs(tok, read_jsonl(W / "data/dpo/test.jsonl"), 256)
    result = {}
    for key, per in (("pair", False), ("per_pair", True)):
        try:
            result[key] = reward_margins(model, pairs, per_pair=per, pad_id=tok.pad_token_id or 0)
        except Exception as e:  # what we want to see
            result[key] = f"{type(e).__name__}: {str(e)[:200]}"
    print(json.dumps(result)[:2000])
    Path(out).write_text(json.dumps(result))


def throughput(backend, out, steps="30"):
    """SFT real tokens/s and peak memory for one backend on the same model and data (own process)."""
    import resource

    import torch

    from pipeline.gpu import import_unsloth_first

    if backend == "unsloth":
        import_unsloth_first("sft", "unsloth", "cuda")
    from pipeline.train.settings import settings_for
    from bench.train_throughput import measure_sft_throughput

    model = os.environ.get("GC_BENCH_MODEL", str(W / "tiny"))
    s = settings_for("sft", "quick", model=model, backend=backend, load_in_4bit=os.environ.get("GC_4BIT", "1") == "1",
                     batch_size=4, max_length=512)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    r = measure_sft_throughput(W / "data", s, int(steps), W / f"bench-{backend}")
    r.update(backend=backend, model=model, load_in_4bit=s.load_in_4bit,
             peak_vram_gib=round(torch.cuda.max_memory_allocated() / 2**30, 3) if torch.cuda.is_available() else None,
             peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3))
    print(json.dumps(r))
    Path(out).write_text(json.dumps(r))


def backend_of(run_dir):
    """A finished GRPO run: trained by the expected backend (Unsloth imported first on a GPU), every
    step logged with a finite loss and each reward component, and an adapter saved."""
    run = Path(run_dir)
    cfg = json.loads((run / "config.json").read_text())
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines() if line.strip()]
    steps = [r for r in rows if "loss" in r]
    print("backend", cfg["backend"], "import_order", cfg.get("import_order"), "reward", cfg.get("reward"),
          "steps", [(r["step"], r.get("reward"), r.get("completions/mean_length")) for r in steps])
    assert json.loads((run / "status.json").read_text())["state"] == "done"
    assert cfg["backend"]["name"] == EXPECT, cfg["backend"]
    if EXPECT == "unsloth":
        assert cfg["import_order"]["unsloth"] == "imported first", cfg["import_order"]
    assert steps and all(math.isfinite(r["loss"]) for r in steps)
    assert all(f"rewards/{name}/mean" in steps[-1] for name in cfg["reward"]["weights"]), steps[-1]
    assert (run / "adapter/adapter_model.safetensors").is_file()


def speed(*files):
    rows = [json.loads(Path(f).read_text()) for f in files if Path(f).is_file()]
    for r in rows:
        print(f"{r['backend']:8} {r['tokens_per_s']:10.1f} tokens/s  peak VRAM {r['peak_vram_gib']} GiB  "
              f"peak RSS {r['peak_rss_gib']} GiB  ({r['steps']} steps, {r['model']}, 4-bit {r['load_in_4bit']})")
    by = {r["backend"]: r for r in rows}
    if "unsloth" in by and "hf" in by:
        print(f"unsloth / hf tokens/s: {by['unsloth']['tokens_per_s'] / by['hf']['tokens_per_s']:.2f}x")


if __name__ == "__main__":
    commands = {"prep": prep, "probe": probe, "runner_sft": runner_sft, "infer": infer,
                "unsloth_scoring": unsloth_scoring, "throughput": throughput, "speed": speed, "backend_of": backend_of}
    commands[sys.argv[1]](*sys.argv[2:])
