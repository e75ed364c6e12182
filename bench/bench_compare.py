"""Compare: memory of base | SFT | DPO resident on one model, and their speed vs merged models.

Two child processes, each measuring its own peak RSS, on the default model with two random
LoRA adapters (r16, all projections) saved as an SFT run and a DPO run on top of it:

* ``plain``:    the base model alone, generating;
* ``variants``: ``pipeline.serving.variants.Variants`` with all three columns resident, generating in each,
  and Compare's three columns in one batch (``stream_columns``) against one column alone, alternating;
  its peak RSS is read there. Then, for each of SFT and DPO, a plain model with that variant's
  adapters merged in (what the resident column's speed is compared against), generating in turn
  with the resident column, so both see the same moments of a busy machine.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, emit, quick_flag

PROMPT = "Write a short post about shipping on Fridays."


def make_runs(root: Path) -> tuple[Path, Path]:
    """An SFT run and a DPO run (parent = SFT) with random, non-zero LoRA weights on the default model."""
    import torch
    from peft import LoraConfig, get_peft_model

    from pipeline.fsio import atomic_write_json
    from pipeline.models import ALL_PROJECTIONS, load_model, resolve_model_path

    base_path = str(resolve_model_path("default"))
    runs = {}
    for kind, parent in (("sft", None), ("dpo", root / "sft-1")):
        model, _, _, _ = load_model("default")
        torch.manual_seed(len(runs))
        config = LoraConfig(r=16, lora_alpha=32, target_modules=list(ALL_PROJECTIONS), init_lora_weights=False)
        peft_model = get_peft_model(model, config)
        with torch.no_grad():
            for name, p in peft_model.named_parameters():
                if "lora_" in name:
                    p.mul_(0.05)  # small deltas, like a trained adapter: text stays text
        run = root / f"{kind}-1"
        peft_model.save_pretrained(run / "adapter")
        atomic_write_json(run / "config.json", {"kind": kind, "name": run.name, "base_model": "default",
                                                "base_model_path": base_path,
                                                "parent": str(parent) if parent else None})
        runs[kind] = run
    return runs["sft"], runs["dpo"]


def greedy_tokens_per_s(generate, tokens: int) -> float:
    from pipeline.generation import SamplingSettings

    settings = SamplingSettings(max_new_tokens=tokens, temperature=0)
    generate(settings)  # warm-up
    rates = [generate(settings).tokens_per_s for _ in range(3)]
    return sorted(rates)[1]  # the median of three


def alternating_tokens_per_s(first, second, tokens: int, repeats: int = 3) -> tuple[float, float]:
    """Greedy tokens/s of two generators taking turns (after a warm-up of each), median of each."""
    from pipeline.generation import SamplingSettings

    settings = SamplingSettings(max_new_tokens=tokens, temperature=0)
    first(settings), second(settings)
    rates = [(first(settings).tokens_per_s, second(settings).tokens_per_s) for _ in range(repeats)]
    return tuple(sorted(column)[repeats // 2] for column in zip(*rates))


def batch_vs_one_column(variants, tokens: int, repeats: int = 3) -> dict:
    """Seconds for Compare's three columns in one batch (``stream_columns``) and for one column
    decoded alone (the SFT column, merged: the plain model's speed), alternating, median of each.
    The SFT column is switched to before its clock starts: a batch leaves the base active, and
    merging the SFT adapter back in is not decoding time."""
    from pipeline.generation import SamplingSettings

    settings = SamplingSettings(max_new_tokens=tokens, temperature=0)
    batched, alone = [], []
    list(variants.stream_columns(PROMPT, settings))  # warm-up
    for _ in range(repeats):
        start = time.perf_counter()
        finals = {c: stats for c, _, stats in variants.stream_columns(PROMPT, settings) if stats is not None}
        batched.append(time.perf_counter() - start)
        with variants.use("sft"):
            pass
        start = time.perf_counter()
        _, one = variants.generate("sft", PROMPT, settings)
        alone.append(time.perf_counter() - start)
    return {"batch_s": sorted(batched)[repeats // 2], "one_column_s": sorted(alone)[repeats // 2],
            "batch_runs_s": [round(t, 2) for t in batched], "one_column_runs_s": [round(t, 2) for t in alone],
            "batch_new_tokens": {c: s.new_tokens for c, s in finals.items()}, "one_column_new_tokens": one.new_tokens,
            "batch_tokens_per_s": min(s.tokens_per_s for s in finals.values())}


def child(mode: str, sft: Path, dpo: Path, tokens: int) -> dict:
    """``plain`` or ``variants`` (see the module doc): what that child measured."""
    from peft import PeftModel

    from pipeline.serving.variants import Variants
    from pipeline.generation import SamplingSettings, generate_text
    from pipeline.models import load_model

    if mode == "plain":
        model, tokenizer, _, _ = load_model("default")
        return {"tokens_per_s": greedy_tokens_per_s(lambda s: generate_text(model, tokenizer, PROMPT, s)[1], tokens),
                "peak_rss_mb": peak_rss_mb()}
    variants = Variants.load(sft=str(sft), dpo=str(dpo), log=lambda *a, **k: None)
    warm_up = SamplingSettings(max_new_tokens=tokens, temperature=0)
    for column in ("base", "sft", "dpo"):
        variants.generate(column, PROMPT, warm_up)
    result = {"switch": variants.switch, **batch_vs_one_column(variants, tokens),
              "peak_rss_mb": peak_rss_mb()}  # before any merged copy is loaded
    for column, stack in (("sft", [sft]), ("dpo", [sft, dpo])):
        model, tokenizer, _, _ = load_model("default")
        for run in stack:
            model = PeftModel.from_pretrained(model, str(run / "adapter")).merge_and_unload()
        result[f"{column}_tokens_per_s"], result[f"merged_{column}_tokens_per_s"] = alternating_tokens_per_s(
            lambda s, c=column: variants.generate(c, PROMPT, s)[1],
            lambda s, m=model: generate_text(m, tokenizer, PROMPT, s)[1], tokens)
    return result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(mode: str, sft: Path, dpo: Path, tokens: int) -> dict:
    proc = subprocess.run([sys.executable, "-m", "bench.bench_compare", "--child", mode, str(sft), str(dpo), str(tokens)],
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    tokens = 24 if quick_flag() else 64
    with tempfile.TemporaryDirectory() as tmp:
        sft, dpo = make_runs(Path(tmp))
        plain = run_child("plain", sft, dpo, tokens)
        variants = run_child("variants", sft, dpo, tokens)
    emit([
        Figure("compare: peak RSS of 3 resident variants / 1 model", variants["peak_rss_mb"] / plain["peak_rss_mb"],
               1.15, higher_is_better=False, details={"plain_mb": round(plain["peak_rss_mb"]),
                                                      "variants_mb": round(variants["peak_rss_mb"]),
                                                      "switch": variants["switch"]}),
        *[Figure(f"compare: {column.upper()} tokens/s, resident / merged",
                 variants[f"{column}_tokens_per_s"] / variants[f"merged_{column}_tokens_per_s"], 0.9,
                 details={"resident": round(variants[f"{column}_tokens_per_s"], 1),
                          "merged": round(variants[f"merged_{column}_tokens_per_s"], 1), "new_tokens": tokens})
          for column in ("sft", "dpo")],
        Figure("compare: 3 columns in one batch / 1 column alone (time)",
               variants["batch_s"] / variants["one_column_s"], 1.3, higher_is_better=False,
               details={"batch_s": round(variants["batch_s"], 2), "one_column_s": round(variants["one_column_s"], 2),
                        "batch_runs_s": variants["batch_runs_s"], "one_column_runs_s": variants["one_column_runs_s"],
                        "new_tokens": tokens, "batch_new_tokens": variants["batch_new_tokens"],
                        "one_column_new_tokens": variants["one_column_new_tokens"]}),
        Figure("compare: tokens/s per batched column / plain model", variants["batch_tokens_per_s"] /
               plain["tokens_per_s"], None, details={"batched_column": round(variants["batch_tokens_per_s"], 1),
                                                     "plain": round(plain["tokens_per_s"], 1)}),
    ])


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        mode, sft, dpo, tokens = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), int(sys.argv[5])
        print(json.dumps(child(mode, sft, dpo, tokens)))
    else:
        main()
